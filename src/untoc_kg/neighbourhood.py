"""The part of the graph the SHACL shapes can see from a few nodes (new entries).

Validating an entry does not need the whole graph: a shape evaluated on a focus node reads only the
node's own triples and what its paths and SPARQL constraints reach from it. ``neighbourhood`` cuts
exactly that out of the cached pyoxigraph store (plus the entry's own triples), so an entry is checked
on a few hundred triples whatever the size of the graph. Every step below names the shapes that need
it; ``reached_inversely`` lets a test notice when the shapes start looking somewhere new.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

__all__ = ["INVERSE_PREDICATES", "neighbourhood", "exact_literal_quads", "altered_by_store",
           "reached_inversely"]

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


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def altered_by_store(term) -> bool:
    """Literals a pyoxigraph store may give back changed: it keeps numbers, booleans and the
    like as values ("7"^^xsd:positiveInteger comes back as 7^^xsd:integer, "1.50" as 1.5) and
    lower-cases language tags."""
    if not isinstance(term, ox.Literal):
        return False
    if term.language:
        return term.language != term.language.lower()
    return term.datatype.value != _XSD_STRING


def exact_literal_quads(quads):
    """The quads whose literal a store could alter, for IRI subjects (blank node labels are not
    stable between parses): what ``exactliterals.ExactLiterals`` keeps."""
    for q in quads:
        if isinstance(q.subject, ox.NamedNode) and altered_by_store(q.object):
            yield q


class _Triples:
    """An entry's triples, indexed, exactly as parsed (a pyoxigraph store would alter literals)."""

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
    """The cached store's ontology and data graphs (never its shapes) plus the entry's triples.

    Literals the store may have altered are taken as written from the index made by ``exact()``
    (opened on first need), for every IRI subject: the shapes check the datatypes and forms of the
    focus nodes' values, and compare other nodes' values with them (StatementAsserted). Blank nodes
    of the store keep the store's literals (their labels differ from parse to parse); the shapes
    reach them only through rdf:type.
    """

    def __init__(self, store: ox.Store, graphs, exact, entry: _Triples):
        self.store, self._exact, self.entry = store, exact, entry
        self.graphs = [ox.NamedNode(g) for g in graphs]
        self._opened = None

    def exact(self):
        if self._opened is None:
            self._opened = self._exact()
        return self._opened

    def match(self, s=None, p=None, o=None):
        found = []
        lossy = isinstance(o, ox.Literal) and (o.language or altered_by_store(o))
        for g in self.graphs:
            for q in self.store.quads_for_pattern(s, p, None if lossy else o, g):
                found.append((q.subject, q.predicate, q.object))
        if (self._exact is not None and isinstance(s, ox.NamedNode)
                and any(isinstance(t[2], ox.Literal) and (t[2].language or altered_by_store(t[2]))
                        for t in found)):
            originals = self.exact().originals(s, p, self.graphs)
            replaced = {(t[0], t[1], _as_stored(t[2])) for t in originals}
            found = [t for t in found if not (altered_by_store(t[2]) or t in replaced)] + originals
        if lossy:
            found = [t for t in found if t[2] == o]
        found += self.entry.match(s, p, o)
        return found


def _as_stored(term) -> ox.Literal:
    """How a store gives back a language-tagged literal (typed ones are dropped wholesale)."""
    if isinstance(term, ox.Literal) and term.language:
        return ox.Literal(term.value, language=term.language.lower())
    return term


def _node(term) -> bool:
    return isinstance(term, (ox.NamedNode, ox.BlankNode))


def neighbourhood(store: ox.Store, graphs, entry_quads, nodes, exact=None) -> set[tuple]:
    """Triples (pyoxigraph terms) that validating ``nodes`` can read, from ``store`` (restricted to
    the named ``graphs``) and the entry; a subset of their union, so nothing is invented.

    ``exact`` opens the index of the literals as written (``exactliterals.ExactLiterals``): the shapes
    check the datatypes and forms of the nodes' own literals and compare others with them.
    """
    nodes = set(nodes)
    src = _Sources(store, graphs, exact, _Triples(entry_quads))
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
