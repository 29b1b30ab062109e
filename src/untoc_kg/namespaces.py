"""The project's namespaces and the prefixes used in every file it writes."""

from __future__ import annotations

__all__ = ["BASE", "UNTOC", "UNTOCSH", "ID", "PREFIXES", "compact", "natural_key"]

BASE = "https://w3id.org/untoc/"
UNTOC = BASE + "ontology#"
UNTOCSH = BASE + "shapes#"
ID = BASE + "id/"

# Order matters only for output: files are written with these prefixes in this order.
PREFIXES: dict[str, str] = {
    "untoc": UNTOC,
    "untocsh": UNTOCSH,
    "body": ID + "body/",
    "actor": ID + "actor/",
    "session": ID + "session/",
    "meeting": ID + "meeting/",
    "event": ID + "event/",
    "decision": ID + "decision/",
    "resolution": ID + "resolution/",
    "action": ID + "action/",
    "instrument": ID + "instrument/",
    "rec": ID + "recommendation/",
    "finding": ID + "finding/",
    "fact": ID + "fact/",
    "method": ID + "method/",
    "doc": ID + "document/",
    "para": ID + "paper/",
    "place": ID + "place/",
    "topic": ID + "topic/",
    "kind": ID + "kind/",
    "dataset": ID + "dataset/",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": "http://www.w3.org/ns/shacl#",
    "vann": "http://purl.org/vocab/vann/",
}


def compact(iri: str) -> str:
    """``prefix:local`` for an IRI under one of our prefixes (longest namespace wins), else the IRI."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            local = iri[len(ns):]
            if local and all(c.isalnum() or c in "-_." for c in local) and not local.endswith("."):
                best = prefix
    return f"{best}:{iri[len(PREFIXES[best]):]}" if best else iri


def natural_key(text: str):
    """Sort key that orders embedded numbers by value: para:4 before para:12."""
    import re

    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]
