"""Counts per class and property, and entities missing a label in a language."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from .loading import GRAPH_DATA
from .namespaces import compact

__all__ = ["Stats", "stats"]

LANGS = ("en", "ru")


@dataclass
class Stats:
    triples: int = 0
    classes: list[tuple[str, int]] = field(default_factory=list)
    properties: list[tuple[str, int]] = field(default_factory=list)
    missing_labels: dict[str, list[str]] = field(default_factory=dict)

    def to_text(self) -> str:
        lines = [f"data triples: {self.triples}", "", "entities per class:"]
        lines += [f"  {n:6d}  {compact(c)}" for c, n in self.classes]
        lines += ["", "triples per property:"]
        lines += [f"  {n:6d}  {compact(p)}" for p, n in self.properties]
        lines.append("")
        for lang in LANGS:
            missing = self.missing_labels.get(lang, [])
            lines.append(f"entities without an rdfs:label@{lang}: {len(missing)}")
            lines += [f"  {compact(s)}" for s in missing]
        return "\n".join(lines) + "\n"


def stats(store: ox.Store) -> Stats:
    """Statistics of the data graph (the ontology and shapes are not counted)."""
    g = f"<{GRAPH_DATA}>"
    out = Stats()
    out.triples = int(next(iter(store.query(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}")))["n"].value)
    out.classes = [(s["c"].value, int(s["n"].value)) for s in store.query(
        f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH {g} {{ ?s a ?c }} }} "
        "GROUP BY ?c ORDER BY DESC(?n) ?c")]
    out.properties = [(s["p"].value, int(s["n"].value)) for s in store.query(
        f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }} "
        "GROUP BY ?p ORDER BY DESC(?n) ?p")]
    for lang in LANGS:
        out.missing_labels[lang] = [s["s"].value for s in store.query(
            f"SELECT DISTINCT ?s WHERE {{ GRAPH {g} {{ ?s a ?c "
            "FILTER(isIRI(?s)) FILTER(?c != <http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement>) "
            "FILTER NOT EXISTS { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l "
            f"FILTER(LANGMATCHES(LANG(?l), \"{lang}\")) }} }} }} ORDER BY ?s")]
    return out
