"""Asking a remote SPARQL 1.1 endpoint the same questions as the local graph.

``RemoteEndpoint.query`` sends a query by the SPARQL 1.1 Protocol (form POST), with saved-query
parameters written into the text by ``sparqltext.bind_values``, and turns the W3C JSON results (or
N-Triples/Turtle for CONSTRUCT/DESCRIBE) into the same ``QueryResult`` the local engine returns.
Every failure (unreachable endpoint, HTTP error, an answer that is not SPARQL results) is a
``RemoteError`` with a one-line message.
"""

from __future__ import annotations

import json
import urllib.parse

import pyoxigraph as ox

from .errors import RemoteError
from .httpclient import Auth, HttpClient, check_url, display_url, one_line
from .querying import QueryResult
from .sparqltext import bind_values, query_form, sparql_term, with_prefixes

__all__ = ["RemoteEndpoint", "parse_results_json"]

RESULTS_JSON = "application/sparql-results+json"


def _json_term(cell, where: str):
    if not isinstance(cell, dict) or not isinstance(cell.get("value"), str):
        raise ValueError(f"bad binding {where}")
    kind, value = cell.get("type"), cell["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value) if value else ox.BlankNode()
    if kind in ("literal", "typed-literal"):
        if cell.get("xml:lang"):
            return ox.Literal(value, language=cell["xml:lang"])
        if cell.get("datatype"):
            return ox.Literal(value, datatype=ox.NamedNode(cell["datatype"]))
        return ox.Literal(value)
    raise ValueError(f"unsupported term type {kind!r} {where}")


def parse_results_json(payload: bytes) -> QueryResult:
    """W3C SPARQL 1.1 Query Results JSON → QueryResult (ValueError if it is not that)."""
    doc = json.loads(payload.decode("utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    if "boolean" in doc:
        if not isinstance(doc["boolean"], bool):
            raise ValueError("'boolean' is not true or false")
        return QueryResult("ASK", boolean=doc["boolean"])
    head, results = doc.get("head"), doc.get("results")
    if not isinstance(head, dict) or not isinstance(results, dict):
        raise ValueError("no 'head' and 'results'")
    names = head.get("vars", [])
    bindings = results.get("bindings")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) \
            or not isinstance(bindings, list):
        raise ValueError("malformed 'head.vars' or 'results.bindings'")
    rows = []
    for i, binding in enumerate(bindings):
        if not isinstance(binding, dict):
            raise ValueError(f"result {i + 1} is not an object")
        rows.append({name: _json_term(binding[name], f"of ?{name} in result {i + 1}")
                     for name in names if name in binding})
    return QueryResult("SELECT", variables=list(names), rows=rows)


_RDF_TYPES = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


_VIRTUOSO_ASK = "__ASK_RETVAL"


class RemoteEndpoint:
    """A SPARQL 1.1 query endpoint reached over HTTP."""

    def __init__(self, url: str, *, auth: Auth | None = None, timeout: float = 30.0):
        self.url = check_url(url, "the endpoint")
        self.http = HttpClient(auth, timeout)

    def query(self, text: str, bindings: dict[str, object] | None = None) -> QueryResult:
        """Run a query (with parameters bound by BIND) and return the local QueryResult shape."""
        form = query_form(text)
        body = with_prefixes(bind_values(text, bindings))
        try:
            # Form POST, the one form every SPARQL 1.1 server takes: Virtuoso 7 never answers a
            # direct POST (application/sparql-query) and the query may be too long for a GET URL.
            payload = urllib.parse.urlencode({"query": body}, encoding="utf-8").encode("ascii")
        except UnicodeEncodeError:
            raise RemoteError("the query is not valid Unicode") from None
        graph = form in ("CONSTRUCT", "DESCRIBE")
        accept = ("application/n-triples, text/turtle;q=0.9" if graph
                  else f"{RESULTS_JSON}, application/json;q=0.5")
        ctype, answer = self.http.request(
            "POST", self.url, body=payload,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept})
        mime = ctype.split(";", 1)[0].strip().lower()
        shown = display_url(self.url)
        if graph:
            fmt = _RDF_TYPES.get(mime)
            if fmt is None:
                raise RemoteError(f"{shown} did not answer with RDF (got {mime or 'no content type'}); "
                                  "is it a SPARQL query endpoint?")
            try:
                triples = [ox.Triple(q.subject, q.predicate, q.object)
                           for q in ox.parse(answer, format=fmt)]
            except (SyntaxError, ValueError) as exc:
                raise RemoteError(f"{shown} sent unreadable RDF: {one_line(str(exc))}") from None
            return QueryResult("GRAPH", triples=triples)
        if mime not in (RESULTS_JSON, "application/json"):
            raise RemoteError(f"{shown} did not answer with SPARQL results (got "
                              f"{mime or 'no content type'}); is it a SPARQL query endpoint?")
        try:
            result = parse_results_json(answer)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RemoteError(f"{shown} sent malformed SPARQL JSON results: {one_line(str(exc))}") from None
        if form == "ASK" and result.kind == "SELECT" and result.variables == [_VIRTUOSO_ASK]:
            # Virtuoso 7.2 answers ASK with a table: one row ?__ASK_RETVAL 1 for true, none for false
            return QueryResult("ASK", boolean=any(row.get(_VIRTUOSO_ASK) is not None
                                                  and row[_VIRTUOSO_ASK].value not in ("0", "false")
                                                  for row in result.rows))
        return result

    def label_lookup(self, result: QueryResult, lang: str, chunk: int = 200):
        """A function IRI → label in ``lang`` (else English, else any) for the IRIs of ``result``."""
        iris = sorted({t.value for row in result.rows for t in row.values()
                       if isinstance(t, ox.NamedNode)})
        labels: dict[str, dict[str, str]] = {}
        for i in range(0, len(iris), chunk):
            values = " ".join(sparql_term(ox.NamedNode(iri)) for iri in iris[i:i + chunk])
            found = self.query("SELECT ?s ?l WHERE { VALUES ?s { " + values + " } "
                               "?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }")
            for row in found.rows:
                s, label = row.get("s"), row.get("l")
                if isinstance(s, ox.NamedNode) and isinstance(label, ox.Literal):
                    labels.setdefault(s.value, {}).setdefault(label.language or "", label.value)

        def lookup(iri: str) -> str | None:
            found = labels.get(iri, {})
            return found.get(lang) or found.get("en") or next(iter(found.values()), None)

        return lookup
