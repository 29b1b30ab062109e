"""One entity at a glance: found by IRI, CURIE or label, with its facts, links and sources."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from .catalogue import expand_iri
from .errors import InputError
from .namespaces import PREFIXES, compact, natural_key

__all__ = ["Description", "find_entity", "describe"]

RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
SOURCE = PREFIXES["untoc"] + "sourceParagraph"
DERIVED = PREFIXES["prov"] + "wasDerivedFrom"
_NAMES = [RDFS + "label", PREFIXES["skos"] + "prefLabel", PREFIXES["skos"] + "altLabel",
          PREFIXES["untoc"] + "symbol", PREFIXES["dcterms"] + "title"]


def _union(store, query: str, **subs):
    return store.query(query, use_default_graph_as_union=True,
                       substitutions={ox.Variable(k): v for k, v in subs.items()} or None)


def find_entity(store, thing: str) -> str:
    """The IRI meant by ``thing``: an IRI, a CURIE, or (part of) a label in any language."""
    text = thing.strip()
    if not text:
        raise InputError("give an IRI, a CURIE or part of a label")
    if ":" in text and " " not in text:
        try:
            iri = expand_iri(text)
        except ValueError:
            iri = None
        if iri and bool(_union(store, "ASK { ?s ?p ?o }", s=ox.NamedNode(iri))):
            return iri
        if iri and (text.startswith(("http:", "https:", "<")) or text.split(":")[0] in PREFIXES):
            raise InputError(f"nothing in the graph is described by {text}")
    needle = text.casefold()
    hits: dict[str, set[str]] = {}
    values = " ".join(f"<{p}>" for p in _NAMES)
    query = f"SELECT ?s ?n WHERE {{ VALUES ?p {{ {values} }} ?s ?p ?n FILTER(isIRI(?s)) }}"
    for sol in _union(store, query):
        name = sol["n"].value
        if needle in name.casefold():
            hits.setdefault(sol["s"].value, set()).add(name)
    if not hits:
        raise InputError(f"no entity has a label, symbol or title containing {thing!r}")
    # The closest match wins: the entity whose matching name has the fewest extra characters.
    ranked = sorted((min(len(n) for n in names) - len(needle), s) for s, names in hits.items())
    if len(ranked) == 1 or ranked[0][0] < ranked[1][0]:
        return ranked[0][1]
    names = sorted(compact(s) for s in hits)
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    raise InputError(f"{thing!r} matches {len(names)} entities: {shown}; be more specific or give a CURIE")


@dataclass
class Description:
    iri: str
    types: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    facts: list[tuple[str, object]] = field(default_factory=list)
    incoming: list[tuple[str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    statement_sources: list[tuple[str, object, list[str]]] = field(default_factory=list)

    def to_text(self, label_of) -> str:
        def show(term) -> str:
            if isinstance(term, ox.NamedNode):
                label = label_of(term.value)
                return f"{compact(term.value)}" + (f" ({label})" if label else "")
            if isinstance(term, ox.BlankNode):
                return "[]"
            suffix = f"@{term.language}" if term.language else ""
            return f'"{term.value}"{suffix}'

        lines = [compact(self.iri)]
        lines.append("  type: " + ", ".join(compact(t) for t in self.types))
        for lang, label in sorted(self.labels.items()):
            lines.append(f"  label@{lang}: {label}")
        if self.facts:
            lines.append("facts:")
            for pred, obj in self.facts:
                paras = [p for (sp, so, ps) in self.statement_sources if sp == pred and so == obj
                         for p in ps]
                cite = f"  [{', '.join(sorted((compact(p) for p in paras), key=natural_key))}]" if paras else ""
                lines.append(f"  {compact(pred)}: {show(obj)}{cite}")
        if self.incoming:
            lines.append("pointed to by:")
            for subj, pred in self.incoming:
                lines.append(f"  {show(ox.NamedNode(subj))} {compact(pred)}")
        lines.append("sources: " + (", ".join(sorted((compact(s) for s in self.sources), key=natural_key))
                                    or "none recorded"))
        return "\n".join(lines) + "\n"


def describe(store, iri: str) -> Description:
    """Everything the graph says about ``iri`` and what points to it."""
    node = ox.NamedNode(iri)
    d = Description(iri)
    for sol in _union(store, "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?p ?o", s=node):
        p, o = sol["p"].value, sol["o"]
        if p == RDF + "type":
            d.types.append(o.value)
        elif p == RDFS + "label" and isinstance(o, ox.Literal):
            d.labels.setdefault(o.language or "", o.value)
        elif p in (SOURCE, DERIVED):
            d.sources.append(o.value)
        else:
            d.facts.append((p, o))
    for sol in _union(store, "SELECT DISTINCT ?s ?x ?p WHERE { ?x ?p ?s FILTER(isIRI(?x)) "
                             "FILTER(?p != <http://www.w3.org/1999/02/22-rdf-syntax-ns#subject> "
                             "&& ?p != <http://www.w3.org/1999/02/22-rdf-syntax-ns#object>) } "
                             "ORDER BY ?p ?x", s=node):
        d.incoming.append((sol["x"].value, sol["p"].value))
    stmt = ("SELECT ?s ?p ?o ?src WHERE { ?st <%ssubject> ?s ; <%spredicate> ?p ; <%sobject> ?o . "
            "{ ?st <%s> ?src } UNION { ?st <%s> ?src } }" % (RDF, RDF, RDF, SOURCE, DERIVED))
    found: dict[tuple, list[str]] = {}
    for sol in _union(store, stmt, s=node):
        found.setdefault((sol["p"].value, sol["o"]), []).append(sol["src"].value)
    d.statement_sources = [(p, o, sorted(set(srcs))) for (p, o), srcs in found.items()]
    if not (d.types or d.facts or d.incoming or d.labels):
        raise InputError(f"nothing in the graph is described by {compact(iri)}")
    return d
