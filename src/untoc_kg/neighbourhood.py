"""The part of the graph the SHACL shapes can see from a few nodes (new entries).

Validating an entry does not need the whole graph: a shape evaluated on a focus node reads only the
node's own triples and what its paths and SPARQL constraints reach from it. ``neighbourhood`` cuts
exactly that out of the graph's index (``graphindex``, plus the entry's own triples), so an entry is
checked on a few hundred triples whatever the size of the graph. Every step below names the shapes that need
it; ``reached_inversely`` lets a test notice when the shapes start looking somewhere new.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

__all__ = ["INVERSE_PREDICATES", "neighbourhood", "reached_inversely"]

_UNTOC = "https://w3id.org/untoc/ontology#"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS_SUBCLASS = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
_MEETING_OF = ox.NamedNode(_UNTOC + "meetingOf")
_ORDINAL = ox.NamedNode(_UNTOC + "ordinal")
_GENERATED_BY = ox.NamedNode("http://www.w3.org/ns/prov#wasGeneratedBy")
_STATEMENT_PARTS = tuple(ox.NamedNode(_RDF + p) for p in ("subject", "predicate", "object"))

# Predicates the shapes follow backwards into a focus node: sh:targetObjectsOf (EndorsementStatus,
# EndorsementChronology), sh:inversePath (MandateAction's ^untoc:hasAction) and the `?x p $this`
# patterns of the SPARQL constraints (EndorsementStatus, EndorsementChronology).
INVERSE_PREDICATES = tuple(ox.NamedNode(_UNTOC + p) for p in ("endorses", "endorsedBy", "hasAction"))


class _Triples:
    """An entry's triples, indexed, exactly as parsed."""

    def __init__(self, quads):
        self.by_s, self.by_o = {}, {}
        for q in quads:
            t = (q.subject, q.predicate, q.object)
            self.by_s.setdefault(q.subject, set()).add(t)
            self.by_o.setdefault(q.object, set()).add(t)
        self.all = set().union(*self.by_s.values()) if self.by_s else set()

    def match(self, s=None, p=None, o=None):
        pool = self.by_s.get(s, ()) if s is not None else self.by_o.get(o, ()) if o is not None else self.all
        return [t for t in pool if (p is None or t[1] == p) and (o is None or t[2] == o)]


class _Sources:
    """The graph's index (ontology and data, as written) plus the entry's triples."""

    def __init__(self, index, entry: _Triples):
        self.index, self.entry = index, entry

    def match(self, s=None, p=None, o=None):
        return self.index.match(s, p, o) + self.entry.match(s, p, o)


def _node(term) -> bool:
    return isinstance(term, (ox.NamedNode, ox.BlankNode))


def neighbourhood(index, entry_quads, nodes) -> set[tuple]:
    """Triples (pyoxigraph terms) that validating ``nodes`` can read, from ``index`` (a
    ``graphindex.GraphIndex`` of ontology and data, literals as written: the shapes check the
    datatypes and forms of the nodes' own literals and compare others with them) and the entry; a
    subset of their union, so nothing is invented."""
    nodes = set(nodes)
    src = _Sources(index, _Triples(entry_quads))
    found: set[tuple] = set()

    # The focus nodes' own triples (targets, every path, most constraints), and the triples that
    # point into them along the predicates the shapes follow backwards.
    first = set()
    for n in nodes:
        first.update(src.match(n))
        for p in INVERSE_PREDICATES:
            first.update(src.match(None, p, n))
    found |= first

    # One hop further: the triples of every neighbour, for sh:class and sh:or (rdf:type), sequence
    # paths (skos:inScheme of an action kind or status), DanglingReference (rdf:type),
    # EstablishedAtSession (the session's untoc:meetingOf), HeldDuringSession (the session's dates
    # and years), EndorsementChronology (the recommendation's meeting, the session's dates).
    neighbours = {t for s, _, o in first for t in (s, o) if _node(t)} - nodes
    second = set()
    for m in neighbours:
        second.update(src.match(m))
    found |= second

    # Two hops: EndorsementChronology reads the dates of the meeting that generated an endorsed
    # recommendation.
    for meeting in {o for s, p, o in second if p == _GENERATED_BY and _node(o)}:
        found.update(src.match(meeting))

    # OrdinalUniqueness compares the ordinal with every other meeting of the same body.
    for n in nodes:
        if next(iter(src.match(n, _ORDINAL)), None) is None:
            continue
        for _, _, body in list(src.match(n, _MEETING_OF)):
            for other, p, o in list(src.match(None, _MEETING_OF, body)):
                found.add((other, p, o))
                found.update(src.match(other, _ORDINAL))

    # StatementAsserted asks whether the triple a statement record describes is in the graph.
    for n in nodes:
        subjects, predicates, objects = ([o for _, _, o in src.match(n, part)] for part in _STATEMENT_PARTS)
        for s in subjects:
            for p in predicates:
                for o in objects:
                    if _node(s) and isinstance(p, ox.NamedNode):
                        found.update(src.match(s, p, o))

    # sh:targetClass and sh:class follow rdfs:subClassOf in the data graph.
    found.update(src.match(None, _RDFS_SUBCLASS))
    return found


_SPARQL_INVERSE = re.compile(r"[?$]\w+\s+([\w-]*:[\w-]+|<[^>]+>)\s+\$this\b")


def reached_inversely(shapes) -> set[str]:
    """IRIs of the predicates an rdflib shapes graph follows backwards (see INVERSE_PREDICATES)."""
    from rdflib.namespace import SH

    found = {str(p) for p in shapes.objects(None, SH.targetObjectsOf)}
    found |= {str(p) for p in shapes.objects(None, SH.inversePath)}
    namespaces = {str(shapes.value(d, SH.prefix)): str(shapes.value(d, SH.namespace))
                  for d in shapes.objects(None, SH.declare)}
    for text in shapes.objects(None, SH.select):
        for token in _SPARQL_INVERSE.findall(str(text)):
            if token.startswith("<"):
                found.add(token[1:-1])
            else:
                prefix, local = token.split(":", 1)
                found.add(namespaces.get(prefix, prefix + ":") + local)
    return found
