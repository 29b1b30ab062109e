"""Content negotiation for the web server: the media types it answers in, the format names they
stand for (those of 'untoc query --format'), and the choice of one from an Accept header or a
format= parameter."""

from __future__ import annotations

__all__ = ["RESULT_TYPES", "RDF_TYPES", "PAGE_TYPES", "RESULT_MIME", "RDF_MIME", "SUFFIXES",
           "FORMAT_ALIASES", "negotiate", "format_param"]

# Format names as in 'untoc query --format'; "xml" is SPARQL XML for rows and RDF/XML for graphs.
RESULT_TYPES = {"application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
                "text/csv": "csv", "text/tab-separated-values": "tsv",
                "application/json": "json", "application/xml": "xml", "text/xml": "xml"}
RDF_TYPES = {"text/turtle": "turtle", "application/n-triples": "ntriples",
             "application/ld+json": "jsonld", "application/rdf+xml": "xml",
             "application/x-turtle": "turtle", "text/plain": "ntriples"}
RESULT_MIME = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
               "csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8"}
RDF_MIME = {"turtle": "text/turtle; charset=utf-8", "ntriples": "application/n-triples",
            "jsonld": "application/ld+json", "xml": "application/rdf+xml"}
SUFFIXES = {".ttl": "turtle", ".nt": "ntriples", ".jsonld": "jsonld", ".rdf": "xml"}
# format= values other clients send (SPARQLWrapper sends its own names as format=, output=, results=)
FORMAT_ALIASES = {"rdf+xml": "xml", "rdf": "xml", "json-ld": "jsonld", "n3": "turtle", "nt": "ntriples",
                  "n-triples": "ntriples", "ttl": "turtle",
                  **{mime: fmt for mime, fmt in {**RESULT_TYPES, **RDF_TYPES}.items()
                     if mime != "text/plain"}}
PAGE_TYPES = {"text/html": "html", "application/xhtml+xml": "html"}


def _accepted(header: str | None) -> list[str]:
    """Media ranges of an Accept header, best first (q=0 dropped; ties keep their order)."""
    if not header or not header.strip():
        return ["*/*"]
    ranked = []
    for i, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        q = 1.0
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if fields[0] and q > 0:
            ranked.append((-q, i, fields[0].lower()))
    return [media for _, _, media in sorted(ranked)]


def negotiate(header: str | None, offers: dict[str, str], default: str) -> str | None:
    """The format to answer in: the first acceptable offer (``default`` for */*), else None."""
    for media in _accepted(header):
        if media == "*/*":
            return default
        if media.endswith("/*"):  # text/*: the default if it is of that type, else the first that is
            matching = [fmt for mime, fmt in offers.items() if mime.startswith(media[:-1])]
            if matching:
                return default if default in matching else matching[0]
        elif media in offers:
            return offers[media]
    return None


def format_param(params, keys=("format", "output", "results")) -> str | None:
    """The format= (or output=, results=) parameter as one of our format names, None when absent."""
    for key in keys:
        value = (params.get(key) or [""])[0].strip()
        if value:
            return FORMAT_ALIASES.get(value.lower(), value.lower())
    return None

