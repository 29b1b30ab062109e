"""OWL RL closure by rules: SPARQL updates run to a fixpoint inside a pyoxigraph store.

The closure of everything in a store's named graphs is written into one more named graph, without a
single triple leaving the store: the terms never become Python objects, which is what made the
closure of the 1M-triple benchmark graph slow (converting terms to rdflib and back, not reasoning).

How: the T-box is small, so it is read out and compiled in Python first (the transitive closure of
``rdfs:subClassOf`` and friends, every property's super-properties and inverses, the classes a
property's subject and object fall into), and written back as a few helper triples in the store's
default graph. The instance rules then join the data with those helper triples, so the rules on
one triple (domain, range, super-properties, inverses, superclasses) fire once per triple, in one
pass, and are never fed their own output again. Rules that join data with data (``owl:sameAs``,
functional properties, intersections) are evaluated semi-naively: each round joins only the
triples the previous round added with everything, until a round adds nothing. A transitive
property is closed with a property path over all graphs in the round its links change (joining
round by round would enumerate the pairs of a long chain many times over). The first round writes
straight into the target graph; later rounds write into small graphs of their own, added to it
at the end. When the rounds derive new schema triples (``owl:sameAs`` between classes, say), the
T-box is compiled again and the rounds start again from all triples.

Rules implemented (names as in the OWL 2 RL profile, section 4.3):

- properties: prp-dom, prp-rng, prp-spo1, prp-eqp1/2, prp-inv1/2, prp-symp, prp-trp, prp-fp,
  prp-ifp;
- classes: cax-sco, cax-eqc1/2, cls-uni, cls-int1/2, cls-thing, cls-nothing1; every instance of
  a class declared ``owl:Class`` is an ``owl:Thing`` (scm-cls with cax-sco);
- equality: eq-sym, eq-trans, eq-rep-s, eq-rep-p, eq-rep-o (eq-ref, ``x owl:sameAs x`` for every
  resource, is left out: it says nothing);
- schema: scm-cls, scm-sco, scm-eqc1/2, scm-op, scm-dp, scm-spo, scm-eqp1/2, scm-dom1/2,
  scm-rng1/2, scm-int, scm-uni, written for the terms the input's T-box uses.

Consistency-only constructs add no triples in OWL RL (owlrl's reference closure adds none either)
and are accepted but not checked: ``owl:disjointWith``, ``owl:AllDisjointClasses``,
``owl:propertyDisjointWith``, ``owl:AllDisjointProperties``, ``owl:differentFrom``,
``owl:AllDifferent``, ``owl:IrreflexiveProperty``, ``owl:AsymmetricProperty``, negative property
assertions.

Not implemented (``unsupported`` names them; the caller then uses another reasoner, so a closure
is never silently incomplete): restrictions (``owl:onProperty`` with someValuesFrom,
allValuesFrom, hasValue, hasSelf, the cardinalities), ``owl:propertyChainAxiom``, ``owl:hasKey``,
``owl:oneOf``, ``owl:complementOf``, ``owl:disjointUnionOf``, datatype restrictions and
complements, ``owl:sameAs`` with a literal, and a functional property with two different literal
values for one resource (OWL RL then equates literals, which RDF cannot hold: found after the
rounds). Datatype rules (dt-*) and prp-ap are not applied: they only type literals, which RDF
cannot hold either, and datatypes and annotation properties. Generalized triples are never
written.
"""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox

__all__ = ["UNSUPPORTED", "Unsupported", "unsupported", "count", "extend", "materialise",
           "reachable"]

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_OWL = "http://www.w3.org/2002/07/owl#"
# helper vocabulary of the compiled T-box (default graph of the store while reasoning)
_R = "urn:x-untoc-rules:"

_PREFIXES = {"rdf": _RDF, "rdfs": _RDFS, "owl": _OWL, "r": _R}

# construct -> the triple pattern that shows it is used
UNSUPPORTED = {
    "owl:onProperty (restrictions)": "?s owl:onProperty ?o",
    "owl:someValuesFrom": "?s owl:someValuesFrom ?o",
    "owl:allValuesFrom": "?s owl:allValuesFrom ?o",
    "owl:hasValue": "?s owl:hasValue ?o",
    "owl:hasSelf": "?s owl:hasSelf ?o",
    "owl:maxCardinality": "?s owl:maxCardinality ?o",
    "owl:minCardinality": "?s owl:minCardinality ?o",
    "owl:cardinality": "?s owl:cardinality ?o",
    "owl:maxQualifiedCardinality": "?s owl:maxQualifiedCardinality ?o",
    "owl:minQualifiedCardinality": "?s owl:minQualifiedCardinality ?o",
    "owl:qualifiedCardinality": "?s owl:qualifiedCardinality ?o",
    "owl:propertyChainAxiom": "?s owl:propertyChainAxiom ?o",
    "owl:hasKey": "?s owl:hasKey ?o",
    "owl:oneOf": "?s owl:oneOf ?o",
    "owl:complementOf": "?s owl:complementOf ?o",
    "owl:disjointUnionOf": "?s owl:disjointUnionOf ?o",
    "owl:datatypeComplementOf": "?s owl:datatypeComplementOf ?o",
    "owl:withRestrictions": "?s owl:withRestrictions ?o",
    "owl:sameAs with a literal": "?s owl:sameAs ?o FILTER(isLiteral(?o))",
}


class Unsupported(Exception):
    """The input uses what the rules do not implement (the message names it): reason otherwise."""


def unsupported(store: ox.Store) -> list[str]:
    """The constructs the rules do not implement that the store's named graphs use."""
    return [name for name, pattern in UNSUPPORTED.items()
            if store.query(f"ASK {{ GRAPH ?g {{ {pattern} }} }}", prefixes=_PREFIXES)]


def _literal_conflict(store: ox.Store, graphs=None) -> bool:
    """Whether a functional property has two values for one resource, one of them a literal
    (OWL RL would make the two ``owl:sameAs``; the rules skip literals, so their closure would be
    incomplete); with ``graphs``, only where one of the two triples is in them. Needs the
    compiled T-box in the default graph."""
    if graphs is not None:
        return bool(store.query(
            f"ASK {{ ?p a r:fp . {_source(graphs, '?x ?p ?y1')} GRAPH ?b {{ ?x ?p ?y2 }} "
            "FILTER(!sameTerm(?y1, ?y2) && (isLiteral(?y1) || isLiteral(?y2))) }",
            prefixes=_PREFIXES))
    # grouped rather than joined with itself: one pass over the property's triples (2.5 times
    # faster at 1M)
    return bool(list(store.query(
        "SELECT ?x WHERE { ?p a r:fp . GRAPH ?a { ?x ?p ?y } } GROUP BY ?x ?p "
        "HAVING(COUNT(DISTINCT ?y) > 1 && SUM(IF(isLiteral(?y), 1, 0)) > 0) LIMIT 1",
        prefixes=_PREFIXES)))


def count(store: ox.Store, graph: str) -> int:
    q = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    return int(next(iter(store.query(q)))["n"].value)


# ---- the T-box, compiled in Python ---------------------------------------------------------------


def _pairs(store: ox.Store, pattern: str) -> list[tuple]:
    rows = store.query(f"SELECT DISTINCT ?s ?o WHERE {{ GRAPH ?g {{ {pattern} }} }}",
                       prefixes=_PREFIXES)
    return [(row["s"], row["o"]) for row in rows]


def _members(store: ox.Store, predicate: str) -> list[tuple]:
    """(class, member) for the RDF lists of ``predicate`` (owl:unionOf, owl:intersectionOf)."""
    q = (f"SELECT DISTINCT ?s ?o WHERE {{ GRAPH ?g {{ ?s {predicate} ?l }} "
         "GRAPH ?h { ?l rdf:rest*/rdf:first ?o } }")
    return [(row["s"], row["o"]) for row in store.query(q, prefixes=_PREFIXES)]


def reachable(edges: dict, start) -> set:
    """The nodes ``edges`` (node -> its successors) reach from ``start`` (itself only on a cycle)."""
    seen, stack = set(), list(edges[start])
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(edges.get(n, ()))
    return seen


def _closure(edges: dict) -> dict:
    """Every node's reachable nodes (itself excluded unless on a cycle)."""
    return {start: reachable(edges, start) for start in edges}


def _type(s, c):
    return (s, ox.NamedNode(_RDF + "type"), ox.NamedNode(c))


def _compile(store: ox.Store) -> tuple[set, set]:
    """(helper triples for the rules, schema triples the scm-* rules give) from the T-box."""
    sub = ox.NamedNode(_RDFS + "subClassOf")
    subp = ox.NamedNode(_RDFS + "subPropertyOf")
    eqc, eqp = ox.NamedNode(_OWL + "equivalentClass"), ox.NamedNode(_OWL + "equivalentProperty")
    dom, rng = ox.NamedNode(_RDFS + "domain"), ox.NamedNode(_RDFS + "range")
    thing, nothing = ox.NamedNode(_OWL + "Thing"), ox.NamedNode(_OWL + "Nothing")
    same = ox.NamedNode(_OWL + "sameAs")

    def declared(kind):
        return {s for s, _ in _pairs(store, f"?s a {kind} BIND(1 AS ?o)")}

    classes = declared("owl:Class") | {thing, nothing}
    props = declared("owl:ObjectProperty") | declared("owl:DatatypeProperty") | declared(
        "rdf:Property")
    up = defaultdict(set)  # class -> direct superclasses
    for c, d in _pairs(store, "?s rdfs:subClassOf ?o"):
        up[c].add(d)
    for c, d in _pairs(store, "?s owl:equivalentClass ?o"):
        up[c].add(d)
        up[d].add(c)
    unions, intersections = _members(store, "owl:unionOf"), _members(store, "owl:intersectionOf")
    for c, m in unions:
        up[m].add(c)
    for c, m in intersections:
        up[c].add(m)
    for c in classes:  # scm-cls
        up[c].add(thing)
        up[nothing].add(c)
    sup = _closure(up)
    pup = defaultdict(set)  # property -> direct super-properties
    for p, q in _pairs(store, "?s rdfs:subPropertyOf ?o"):
        pup[p].add(q)
    for p, q in _pairs(store, "?s owl:equivalentProperty ?o"):
        pup[p].add(q)
        pup[q].add(p)
    inverse = defaultdict(set)
    for p, q in _pairs(store, "?s owl:inverseOf ?o"):
        inverse[p].add(q)
        inverse[q].add(p)
    symmetric = declared("owl:SymmetricProperty") | {same}
    transitive = declared("owl:TransitiveProperty") | {same}
    domains, ranges = defaultdict(set), defaultdict(set)
    for p, c in _pairs(store, "?s rdfs:domain ?o"):
        domains[p].add(c)
    for p, c in _pairs(store, "?s rdfs:range ?o"):
        ranges[p].add(c)

    def upwards(types):
        return set(types).union(*(sup.get(c, ()) for c in types))

    def lowest(types):
        """Without the classes that others imply: the rule for superclasses adds them after."""
        return {c for c in types
                if not any(c in sup.get(o, ()) and o not in sup.get(c, ()) for o in types)}

    # (property, True) stands for x p y, (property, False) for y p x: what x p y implies
    helper, schema = set(), set()
    r = {name: ox.NamedNode(_R + name) for name in ("to", "back", "stype", "otype", "sup", "trans",
                                                   "fp", "ifp", "int")}
    spo = _closure(pup)
    for p in {*pup, *inverse, *symmetric, *domains, *ranges}:
        seen, todo = set(), [(p, True)]
        while todo:
            q, forward = todo.pop()
            if (q, forward) in seen:
                continue
            seen.add((q, forward))
            todo += [(s, forward) for s in pup.get(q, ())]
            todo += [(i, not forward) for i in inverse.get(q, ())]
            if q in symmetric:
                todo.append((q, not forward))
        subject_types, object_types = set(), set()
        for q, forward in seen:
            if (q, forward) != (p, True):
                helper.add((p, r["to"] if forward else r["back"], q))
            (subject_types if forward else object_types).update(domains.get(q, ()))
            (object_types if forward else subject_types).update(ranges.get(q, ()))
        helper |= {(p, r["stype"], c) for c in lowest(subject_types)}
        helper |= {(p, r["otype"], c) for c in lowest(object_types)}
        # scm-dom1/2, scm-rng1/2: the domains and ranges of p and its super-properties, upwards
        supers = spo.get(p, set()) | {p}
        schema |= {(p, dom, c) for c in upwards({c for q in supers for c in domains.get(q, ())})}
        schema |= {(p, rng, c) for c in upwards({c for q in supers for c in ranges.get(q, ())})}
    for c, ups in sup.items():
        helper |= {(c, r["sup"], d) for d in ups if d != c}
        schema |= {(c, sub, d) for d in ups}  # scm-sco, scm-eqc1, scm-int, scm-uni
        schema |= {(c, eqc, d) for d in ups if c in sup.get(d, ())}  # scm-eqc2
    for c in classes:  # scm-cls
        schema |= {(c, sub, c), (c, eqc, c), (c, sub, thing), (nothing, sub, c)}
    schema |= {_type(thing, _OWL + "Class"), _type(nothing, _OWL + "Class")}  # cls-thing, -nothing1
    for p, ups in spo.items():
        schema |= {(p, subp, q) for q in ups}  # scm-spo, scm-eqp1
        schema |= {(p, eqp, q) for q in ups if p in spo.get(q, ())}  # scm-eqp2
    for p in props:  # scm-op, scm-dp
        schema |= {(p, subp, p), (p, eqp, p)}
    helper |= {_type(p, _R + "trans") for p in transitive}
    helper |= {_type(p, _R + "fp") for p in declared("owl:FunctionalProperty")}
    helper |= {_type(p, _R + "ifp") for p in declared("owl:InverseFunctionalProperty")}
    helper |= {(c, r["int"], m) for c, m in intersections}
    schema = {t for t in schema if not isinstance(t[0], ox.Literal)}
    return helper, schema


# ---- the instance rules --------------------------------------------------------------------------


def _source(graphs, pattern: str) -> str:
    """``pattern`` matched in ``graphs`` (None: in every named graph); at most once in a WHERE.

    The graphs are listed in VALUES rather than as a UNION of GRAPH patterns: Oxigraph evaluated
    such a UNION on its own and joined it with everything else by hash, so each rule read every
    triple of its properties even when the graphs held a few (0.2-0.8 s a rule at 1M)."""
    if graphs is None:
        return f"GRAPH ?d {{ {pattern} }}"
    return (f"VALUES ?src {{ {' '.join(f'<{g}>' for g in graphs)} }} "
            f"GRAPH ?src {{ {pattern} }}")


def _ops(single, joins, single_out: str, join_out: str, transitive, trans_out: str,
         dataset) -> str:
    """One SPARQL update with every rule.

    The rules on one triple read the graphs ``single`` (None: all), the rules joining two read
    ``joins`` joined with all; what is new goes into ``single_out`` and ``join_out``. The compiled
    T-box makes the one-triple rules closed (applied to their own output they give nothing new),
    so later rounds feed them only what the joins added. The ``transitive`` properties (IRIs) are
    closed over the union of the graphs ``dataset`` with a property path, into ``trans_out``: a
    join per round would take a round per doubling of the longest chain and enumerate every pair
    many times. The one-triple rules come first: the operations after them read what they wrote
    (one update's operations run in order), which ``_rounds`` relies on.
    """

    def new(*triples: str) -> str:
        return " ".join(f"FILTER NOT EXISTS {{ GRAPH ?h{i} {{ {t} }} }}"
                        for i, t in enumerate(triples))

    def insert(out: str, template: str, where: str) -> str:
        return f"INSERT {{ GRAPH <{out}> {{ {template} }} }} WHERE {{ {where} {new(template)} }}"

    def typing(out: str, var: str, where: str) -> str:
        """A type rule: many triples give a resource the same type, so the candidates are made
        distinct before each is looked up (a third faster at 1M)."""
        return insert(out, f"{var} a ?c", f"{{ SELECT DISTINCT {var} ?c WHERE {{ {where} }} }}")

    def one(template, helper, pattern, condition=""):
        return insert(single_out, template, f"{helper} {_source(single, pattern)} {condition}")

    def two(template, helper, delta, other, condition=""):
        # the new triples first in both halves: Oxigraph joins a group in the order written,
        # and starting from every triple of a property is slow (0.2 s at 1M, per rule)
        halves = [f"{helper} {_source(joins, delta)} GRAPH ?a {{ {other} }} {condition}"]
        if joins is not None:  # the first round joins everything with everything: one half
            halves.append(f"{helper} {_source(joins, other)} GRAPH ?a {{ {delta} }} {condition}")
        return [insert(join_out, template, half) for half in halves]

    # the types of this round's new property triples are widened by the superclass rule too
    widened = None if single is None else [*single, single_out]
    ops = [
        # prp-dom, prp-rng (compiled: of every implied triple; only the lowest classes)
        typing(single_out, "?x", f"?p r:stype ?c . {_source(single, '?x ?p ?y')}"),
        typing(single_out, "?y", f"?p r:otype ?c . {_source(single, '?x ?p ?y')} "
                                 "FILTER(!isLiteral(?y))"),
        # cax-sco, cax-eqc1/2, cls-uni, cls-int2, owl:Thing (compiled superclasses)
        typing(single_out, "?x", f"?b r:sup ?c . {_source(widened, '?x a ?b')}"),
        # prp-spo1, prp-eqp1/2 (compiled: every super-property at once)
        one("?x ?q ?y", "?p r:to ?q .", "?x ?p ?y"),
        # prp-inv1/2, prp-symp, eq-sym
        one("?y ?q ?x", "?p r:back ?q .", "?x ?p ?y", "FILTER(!isLiteral(?y))"),
        # cls-int1
        insert(join_out, "?x a ?c", f"?c r:int ?b . {_source(joins, '?x a ?b')} FILTER NOT EXISTS "
                                    "{ ?c r:int ?m FILTER NOT EXISTS { GRAPH ?t { ?x a ?m } } }"),
        # prp-trp, eq-trans
        *(f"INSERT {{ GRAPH <{trans_out}> {{ ?x <{p}> ?z }} }} "
          + " ".join(f"USING <{g}>" for g in dataset)
          + f" WHERE {{ ?x <{p}>+ ?z FILTER NOT EXISTS {{ ?x <{p}> ?z }} }}" for p in transitive),
        # prp-fp, prp-ifp (literal values: see _literal_conflict)
        *two("?y owl:sameAs ?z", "?p a r:fp .", "?x ?p ?y", "?x ?p ?z",
             "FILTER(!sameTerm(?y, ?z) && !isLiteral(?y) && !isLiteral(?z))"),
        *two("?y owl:sameAs ?z", "?p a r:ifp .", "?y ?p ?x", "?z ?p ?x",
             "FILTER(!sameTerm(?y, ?z))"),
        # eq-rep-s, eq-rep-p, eq-rep-o
        *two("?t ?p ?o", "", "?s owl:sameAs ?t", "?s ?p ?o"),
        *two("?s ?t ?o", "", "?p owl:sameAs ?t", "?s ?p ?o", "FILTER(isIRI(?t))"),
        *two("?s ?p ?t", "", "?o owl:sameAs ?t", "?s ?p ?o"),
    ]
    return " ;\n".join(ops)


def _transitive(compiled) -> list[str]:
    """The IRIs of the transitive properties (owl:sameAs among them) in a compiled T-box."""
    trans = ox.NamedNode(_R + "trans")
    return sorted(s.value for s, _, o in compiled[0] if o == trans and isinstance(s, ox.NamedNode))


def _start(store: ox.Store, compiled: tuple[set, set], graph: str) -> int:
    """Put the compiled T-box in the default graph and the new schema triples in ``graph``; how
    many those are."""
    helper, schema = compiled
    store.update("CLEAR DEFAULT")
    store.extend(ox.Quad(s, p, o, ox.DefaultGraph()) for s, p, o in helper)
    scratch = _R + "schema"
    store.extend(ox.Quad(s, p, o, ox.NamedNode(scratch)) for s, p, o in schema)
    # the schema triples some graph holds already are not inferences
    store.update(f"DELETE {{ GRAPH <{scratch}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{scratch}> "
                 f"{{ ?s ?p ?o }} GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{scratch}>) }}")
    added = count(store, scratch)
    store.update(f"ADD <{scratch}> TO <{graph}> ; DROP SILENT GRAPH <{scratch}>")
    return added


def materialise(store: ox.Store, graph: str, *, check=None, on_round=None) -> int:
    """Add the OWL RL closure of the store's named graphs as the named graph ``graph`` (only
    triples no other graph holds) and return how many triples that graph has.

    Raises ``Unsupported`` (before any work, or after the rounds for a functional property with
    two literal values) when the input needs what the rules do not implement; ``graph`` is then
    left out. ``check(n)`` is called with the number of triples inferred so far after every round
    (it may raise to stop); ``on_round(round, n_new)`` reports progress. The store's default graph
    is used while working and left empty.
    """
    missing = unsupported(store)
    if missing:
        raise Unsupported(", ".join(missing))
    return _rounds(store, graph, _compile(store), None, check, on_round)


def extend(store: ox.Store, graph: str, quads, *, size: int | None = None,
           rules_made: bool = False, check=None, on_round=None) -> int:
    """Add ``quads`` to a store whose graph ``graph`` holds the closure ``materialise`` made of
    its other named graphs, and bring that closure up to date; how many triples it then has.

    Only the consequences of the new triples are looked for: the rules run semi-naively from
    them, as from any round's new triples, since everything else was closed already (the rules
    only add). A new triple the closure held is a stated one now and leaves ``graph``. When the
    new triples change the T-box (a new subclass, say), the old triples may have consequences
    of their own under it, and the rounds start from everything instead. ``size``: how many
    triples ``graph`` holds, when the caller knows (counting them is most of the work at 10M).
    ``rules_made``: the closure is this module's (not reasonable's, which a functional property
    with two literal values sends there), so it has no such conflict and only the new triples
    are checked for one. ``check`` and ``on_round`` as for ``materialise``; on ``Unsupported``
    the store holds the new triples and an incomplete closure: throw it away.
    """
    quads = list(quads)
    delta = ox.NamedNode(_R + "delta")
    before = _compile(store)
    store.extend(quads)
    store.extend(ox.Quad(q.subject, q.predicate, q.object, delta) for q in quads)
    try:
        stated = f"GRAPH <{delta.value}> {{ ?s ?p ?o }} GRAPH <{graph}> {{ ?s ?p ?o }}"
        if size is not None:
            rows = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {stated} }}")
            size -= int(next(iter(rows))["n"].value)
        store.update(f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ {stated} }}")
        missing = unsupported(store)
        if missing:
            raise Unsupported(", ".join(missing))
        compiled = _compile(store)
        start = [delta.value] if compiled == before else None
        return _rounds(store, graph, compiled, start, check, on_round, size,
                       new_only=rules_made)
    finally:
        store.update(f"DROP SILENT GRAPH <{delta.value}>")


def _rounds(store: ox.Store, graph: str, compiled, start, check, on_round, size=None,
            new_only: bool = False) -> int:
    """The rounds of ``materialise`` to a fixpoint, from the T-box ``compiled``: from the triples
    of the graphs ``start`` (their consequences only; None: from all triples); ``size``: how many
    triples ``graph`` holds, if known; ``new_only``: look for conflicting literal values only
    where a triple of ``start`` or of the rounds takes part (unless the rounds ran from all)."""
    schema = _start(store, compiled, graph)
    # Round 1 reads everything and writes the one-triple rules' output straight into ``graph``
    # (the bulk of the work: copying it would cost as much again); later rounds read and write
    # small graphs of their own, added to ``graph`` at the end.
    single = joins = changed = start
    # counted again only when a round writes into it, which the rounds from all triples do
    in_graph = count(store, graph) if size is None else size + schema
    scratch, rounds, from_all = [], 0, start is None
    while True:
        rounds += 1
        single_out = graph if single is None else f"{_R}round/{rounds}/single"
        join_out, trans_out = f"{_R}round/{rounds}/join", f"{_R}round/{rounds}/transitive"
        outs = (single_out, join_out, trans_out)
        dataset = sorted({g.value for g in store.named_graphs()} | set(outs))
        # the transitive properties with links the last closure of them has not seen (the
        # closure of a closed relation is as slow as the first and adds nothing)
        transitive = [p for p in _transitive(compiled)
                      if store.query(f"ASK {{ {_source(changed, f'?x <{p}> ?y')} }}")]
        store.update(_ops(single, joins, *outs[:2], transitive, trans_out, dataset),
                     prefixes=_PREFIXES)
        scratch += [g for g in outs if g != graph]
        added = count(store, join_out) + count(store, trans_out)
        if single_out == graph:
            added -= in_graph
            in_graph = count(store, graph)
            added += in_graph
        else:
            added += count(store, single_out)
        if on_round:
            on_round(rounds, added)
        if check:
            check(in_graph + sum(count(store, g) for g in scratch))
        if added:
            single = [join_out, trans_out]
            # The joins of a round read what the one-triple rules wrote before them in the same
            # update; the rounds from all triples join everything, so their one-triple output
            # has met every triple already (joining it again cost 1.2 s at 1M triples)
            joins = [*([] if single_out == graph else [single_out]), join_out, trans_out]
            changed = [single_out, join_out]
            continue
        recompiled = _compile(store)
        if recompiled == compiled:
            break
        # the rounds derived schema triples: compile again and start again from everything
        compiled, single, joins, changed = recompiled, None, None, None
        _start(store, compiled, graph)
        in_graph, from_all = count(store, graph), True
    # rounds from all triples wrote into ``graph`` itself: then every triple is checked
    conflict = _literal_conflict(store, [*start, *scratch] if new_only and not from_all else None)
    # a rule writes only what no graph holds (``new`` in ``_ops``), so the round graphs and
    # ``graph`` share no triple and the sizes add up
    total = None if from_all else in_graph + sum(count(store, g) for g in scratch)
    store.update(" ; ".join([f"ADD SILENT <{g}> TO <{graph}> ; DROP SILENT GRAPH <{g}>"
                             for g in scratch] + ["CLEAR DEFAULT"]))
    if conflict:
        store.update(f"DROP SILENT GRAPH <{graph}>")
        raise Unsupported("a functional property with two values for one resource, one a literal")
    return count(store, graph) if total is None else total
