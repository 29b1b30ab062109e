"""Tests for untoc_kg.rules: the OWL RL rules, family by family, against owlrl.

Each small graph exercises one family of rules; the rules engine's instance-level inferences
(subjects under https://w3id.org/untoc/id/test/; the schema terms live elsewhere) must be
owlrl's, apart from owlrl's ``x owl:sameAs x`` for every resource (eq-ref, left out by the
rules), and must contain the inferences the family is about, so that two empty answers cannot
agree. A graph the rules cannot reason about completely goes to reasonable instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import OWL, RDF, Literal, URIRef

from untoc_kg import rules
from untoc_kg.loading import GRAPH_DATA, GraphSource
from untoc_kg.querying import to_rdflib
from untoc_kg.reasoning import GRAPH_INFERRED, Budget, _run, inferred_triples

ROOT = Path(__file__).resolve().parents[1]
I = rdflib.Namespace("https://w3id.org/untoc/id/test/")
S = rdflib.Namespace("https://example.org/schema#")
HEAD = """@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix s: <https://example.org/schema#> .
@prefix i: <https://w3id.org/untoc/id/test/> .
"""


def _graph(turtle: str) -> rdflib.Graph:
    g = rdflib.Graph()
    for q in ox.parse(HEAD + turtle, ox.RdfFormat.TURTLE):
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return g


def _instances(triples) -> set:
    return {t for t in triples if isinstance(t[0], URIRef) and str(t[0]).startswith(str(I))}


def _reflexive(t) -> bool:
    return t[1] == OWL.sameAs and t[0] == t[2]


@pytest.fixture
def rules_only(monkeypatch):
    """The rules engine must not fall back to reasonable on these graphs."""
    import reasonable

    def refuse(*args, **kwargs):
        raise AssertionError("the rules fell back to reasonable")

    monkeypatch.setattr(reasonable, "PyReasoner", refuse)


def _agree(turtle: str, *expected, absent=()) -> set:
    """The rules' instance-level inferences, checked against owlrl's and the expected ones."""
    g = _graph(turtle)
    ours = _instances(inferred_triples(g, engine="rules"))
    theirs = _instances(inferred_triples(g, engine="owlrl"))
    assert {t for t in ours if not _reflexive(t)} == {t for t in theirs if not _reflexive(t)}, (
        sorted(ours ^ theirs))
    assert {t for t in ours if _reflexive(t)} <= theirs
    assert set(expected) <= ours, sorted(set(expected) - ours)
    assert not set(absent) & ours
    return ours


def test_subclass_chain(rules_only):
    _agree("""s:A a owl:Class ; rdfs:subClassOf s:B . s:B rdfs:subClassOf s:C .
              s:C rdfs:subClassOf s:D . i:a a s:A . i:b a s:C .""",
           (I.a, RDF.type, S.B), (I.a, RDF.type, S.C), (I.a, RDF.type, S.D),
           (I.a, RDF.type, OWL.Thing), (I.b, RDF.type, S.D),
           # only instances of a declared owl:Class are owl:Things (scm-cls)
           absent=[(I.b, RDF.type, OWL.Thing), (I.b, RDF.type, S.B)])


def test_domain_and_range(rules_only):
    _agree("""s:p rdfs:domain s:D ; rdfs:range s:R . s:D rdfs:subClassOf s:E .
              s:d rdfs:domain s:D ; rdfs:range xsd:string .
              i:a s:p i:b . i:c s:d "x" .""",
           (I.a, RDF.type, S.D), (I.a, RDF.type, S.E), (I.b, RDF.type, S.R),
           (I.c, RDF.type, S.E))


def test_sub_properties(rules_only):
    _agree("""s:p rdfs:subPropertyOf s:q . s:q rdfs:subPropertyOf s:r .
              s:q rdfs:domain s:D . s:r rdfs:range s:R .
              i:a s:p i:b . i:a s:p "lit" .""",
           (I.a, S.q, I.b), (I.a, S.r, I.b), (I.a, RDF.type, S.D), (I.b, RDF.type, S.R),
           (I.a, S.q, Literal("lit")), (I.a, S.r, Literal("lit")))


def test_inverse_properties(rules_only):
    _agree("""s:p owl:inverseOf s:q . s:q rdfs:domain s:QD . s:p rdfs:subPropertyOf s:p2 .
              i:a s:p i:b . i:c s:q i:d .""",
           (I.b, S.q, I.a), (I.d, S.p, I.c), (I.b, RDF.type, S.QD), (I.a, S.p2, I.b),
           (I.d, S.p2, I.c))


def test_symmetric_property(rules_only):
    _agree("""s:s a owl:SymmetricProperty . s:t rdfs:subPropertyOf s:s .
              i:a s:s i:b . i:c s:t i:d .""",
           (I.b, S.s, I.a), (I.c, S.s, I.d), (I.d, S.s, I.c), absent=[(I.d, S.t, I.c)])


def test_transitive_property(rules_only):
    _agree("""s:t a owl:TransitiveProperty . s:u owl:inverseOf s:t . s:t rdfs:domain s:D .
              i:a s:t i:b . i:b s:t i:c . i:c s:t i:d . i:e s:u i:a .""",
           (I.a, S.t, I.c), (I.a, S.t, I.d), (I.b, S.t, I.d), (I.a, S.t, I.e),
           (I.d, S.u, I.a), (I.d, S.u, I.b), (I.b, RDF.type, S.D),
           absent=[(I.e, RDF.type, S.D), (I.e, S.t, I.d)])


def test_functional_properties_give_same_as_and_its_replacement(rules_only):
    _agree("""s:f a owl:FunctionalProperty . s:g a owl:InverseFunctionalProperty .
              i:x s:f i:a , i:b . i:a s:name "A" . i:c s:knows i:b .
              i:m s:g i:k . i:n s:g i:k . i:m s:age "3" .""",
           (I.a, OWL.sameAs, I.b), (I.b, OWL.sameAs, I.a), (I.b, S.name, Literal("A")),
           (I.c, S.knows, I.a), (I.m, OWL.sameAs, I.n), (I.n, S.age, Literal("3")))


def test_same_as_is_symmetric_transitive_and_replaces_everywhere(rules_only):
    _agree("""i:a owl:sameAs i:b . i:b owl:sameAs i:c . i:a s:p i:z . s:p owl:sameAs s:q .
              i:y s:p i:c .""",
           (I.c, OWL.sameAs, I.a), (I.a, OWL.sameAs, I.c), (I.c, S.p, I.z), (I.a, S.q, I.z),
           (I.c, S.q, I.z), (I.y, S.p, I.a), (I.y, S.q, I.b))


def test_union_of(rules_only):
    _agree("""s:U owl:unionOf ( s:A s:B ) . s:p rdfs:domain s:U . s:U rdfs:subClassOf s:V .
              s:q rdfs:range [ a owl:Class ; owl:unionOf ( s:A s:B ) ] .
              i:a a s:A . i:b a s:B . i:c s:p i:z . i:d s:q i:e .""",
           (I.a, RDF.type, S.U), (I.a, RDF.type, S.V), (I.b, RDF.type, S.U),
           (I.c, RDF.type, S.U), (I.c, RDF.type, S.V), (I.e, RDF.type, OWL.Thing),
           absent=[(I.c, RDF.type, S.A)])


def test_equivalent_classes_and_properties(rules_only):
    _agree("""s:E owl:equivalentClass s:F . i:a a s:E . i:b a s:F .
              s:p owl:equivalentProperty s:q . i:c s:p i:d . i:e s:q i:f .""",
           (I.a, RDF.type, S.F), (I.b, RDF.type, S.E), (I.c, S.q, I.d), (I.e, S.p, I.f))


def test_intersection_of(rules_only):
    _agree("""s:I owl:intersectionOf ( s:A s:B ) .
              s:J owl:equivalentClass [ owl:intersectionOf ( s:A s:B ) ] .
              i:a a s:A , s:B . i:b a s:I . i:c a s:A .""",
           (I.a, RDF.type, S.I), (I.a, RDF.type, S.J), (I.b, RDF.type, S.A),
           (I.b, RDF.type, S.B), absent=[(I.c, RDF.type, S.I), (I.c, RDF.type, S.J)])


def test_schema_derived_while_reasoning_is_compiled_again(rules_only):
    """Schema triples that only the rounds derive (here by prp-spo1 on sub-properties of
    rdfs:domain and rdfs:subClassOf) act on the instances too."""
    _agree("""s:dom rdfs:subPropertyOf rdfs:domain . s:p s:dom s:D .
              s:broader rdfs:subPropertyOf rdfs:subClassOf . s:A s:broader s:B .
              s:C owl:sameAs s:K . s:K rdfs:subClassOf s:L .
              i:a s:p i:b . i:c a s:A . i:e a s:C .""",
           (I.a, RDF.type, S.D), (I.c, RDF.type, S.B), (I.e, RDF.type, S.K),
           (I.e, RDF.type, S.L))


# ---- what the rules do not implement ---------------------------------------------------------


UNSUPPORTED = """s:R owl:onProperty s:p ; owl:someValuesFrom s:C .
                 i:a s:p i:b . i:b a s:C . s:C rdfs:subClassOf s:D ."""


def _store(turtle: str) -> ox.Store:
    store = ox.Store()
    g = ox.NamedNode("urn:test:input")
    store.extend(ox.Quad(q.subject, q.predicate, q.object, g)
                 for q in ox.parse(HEAD + turtle, ox.RdfFormat.TURTLE))
    return store


def test_unsupported_construct_goes_to_reasonable():
    store = _store(UNSUPPORTED)
    before = set(store)
    assert {"owl:onProperty (restrictions)", "owl:someValuesFrom"} <= set(rules.unsupported(store))
    with pytest.raises(rules.Unsupported, match="owl:someValuesFrom"):
        rules.materialise(store, GRAPH_INFERRED)
    assert set(store) == before  # nothing written
    g = _graph(UNSUPPORTED)
    ours = _instances(inferred_triples(g, engine="rules"))
    assert ours == _instances(inferred_triples(g, engine="reasonable"))
    theirs = _instances(inferred_triples(g, engine="owlrl"))
    assert (I.a, RDF.type, S.R) in ours & theirs  # cls-svf1, which the rules lack
    # reasonable types every subject owl:Thing, owlrl only instances of declared classes
    assert {t for t in ours ^ theirs if not _reflexive(t)} == {
        (I.a, RDF.type, OWL.Thing), (I.b, RDF.type, OWL.Thing)}


def test_functional_property_with_two_literals_goes_to_reasonable():
    turtle = 's:code a owl:FunctionalProperty . i:a s:code "1" , "2" . i:b s:code i:c , i:d .'
    store = _store(turtle)
    assert rules.unsupported(store) == []  # found only after the rounds
    with pytest.raises(rules.Unsupported, match="two values for one resource, one a literal"):
        rules.materialise(store, GRAPH_INFERRED)
    assert {q.graph_name for q in store} == {ox.NamedNode("urn:test:input")}
    g = _graph(turtle)
    assert (set(inferred_triples(g, engine="rules"))
            == set(inferred_triples(g, engine="reasonable")))


# ---- the store -------------------------------------------------------------------------------


def test_materialise_writes_only_its_graph_and_is_idempotent(rules_only):
    store = _store("""s:p rdfs:domain s:D . s:t a owl:TransitiveProperty .
                      i:a s:p i:b ; s:t i:b . i:b s:t i:c .""")
    before = set(store)
    n = rules.materialise(store, GRAPH_INFERRED)
    inferred = set(store.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH_INFERRED)))
    assert set(store) == before | inferred  # no scratch graph, no helper triples left
    assert n == len(inferred)
    triples = {(q.subject, q.predicate, q.object) for q in inferred}
    assert (ox.NamedNode(I.a), ox.NamedNode(RDF.type), ox.NamedNode(S.D)) in triples
    assert (ox.NamedNode(I.a), ox.NamedNode(S.t), ox.NamedNode(I.c)) in triples
    assert not triples & {(q.subject, q.predicate, q.object) for q in before}
    assert rules.materialise(store, GRAPH_INFERRED) == n  # nothing more to infer
    assert set(store) == before | inferred


def test_round_check_can_stop_the_rounds(rules_only):
    store = _store("s:p rdfs:domain s:D . i:a s:p i:b .")
    seen = []

    def check(n):
        seen.append(n)
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        rules.materialise(store, GRAPH_INFERRED, check=check)
    assert seen and seen[0] >= 1


# ---- extending a closure with new triples ---------------------------------------------------

_INPUT = ox.NamedNode("urn:test:input")


def _quads(turtle: str) -> list[ox.Quad]:
    return [ox.Quad(q.subject, q.predicate, q.object, _INPUT)
            for q in ox.parse(HEAD + turtle, ox.RdfFormat.TURTLE)]


def _closed(quads) -> ox.Store:
    store = ox.Store()
    store.extend(quads)
    rules.materialise(store, GRAPH_INFERRED)
    return store


def _extended(base, new, rounds=None) -> ox.Store:
    store = _closed(base)
    on_round = None if rounds is None else (lambda r, n: rounds.append(r))
    size = rules.count(store, GRAPH_INFERRED)
    n = rules.extend(store, GRAPH_INFERRED, new, size=size, on_round=on_round)
    # the size handed in, kept up to date instead of counted again, is the graph's real size
    assert n == rules.count(store, GRAPH_INFERRED)
    return store


@pytest.mark.parametrize("base, new, expected", [
    # the new triple's domain type, and its superclasses
    ("s:p rdfs:domain s:D . s:D rdfs:subClassOf s:E . i:a s:p i:b .", "i:c s:p i:d .",
     [(I.c, RDF.type, S.D), (I.c, RDF.type, S.E)]),
    # a new link of a transitive chain joins old links on both sides
    ("s:t a owl:TransitiveProperty . i:a s:t i:b . i:c s:t i:d .", "i:b s:t i:c .",
     [(I.a, S.t, I.d), (I.a, S.t, I.c), (I.b, S.t, I.d)]),
    # owl:sameAs copies the old facts of both resources to each other
    ("s:p rdfs:range s:R . i:a s:p i:x . i:b s:q i:y .", "i:a owl:sameAs i:b .",
     [(I.b, S.p, I.x), (I.a, S.q, I.y), (I.b, OWL.sameAs, I.a)]),
    # a functional property's new value, then equality replaces in old triples
    ("s:f a owl:FunctionalProperty . i:a s:f i:b . i:b s:q i:z .", "i:a s:f i:c .",
     [(I.c, OWL.sameAs, I.b), (I.c, S.q, I.z)]),
    # an intersection met by a new type next to an old one
    ("s:X owl:intersectionOf (s:A s:B) . i:a a s:A .", "i:a a s:B .", [(I.a, RDF.type, S.X)]),
    # a new subclass axiom: the old instances get the new superclass (the T-box changed)
    ("i:a a s:A . i:b a s:A .", "s:A rdfs:subClassOf s:B .",
     [(I.a, RDF.type, S.B), (I.b, RDF.type, S.B)]),
])
def test_extend_gives_the_closure_of_everything(rules_only, base, new, expected):
    rounds, base, new = [], _quads(base), _quads(new)  # parsed once: the same blank nodes
    extended = _extended(base, new, rounds)
    whole = _closed(base + new)
    assert set(extended) == set(whole)
    inferred = {(to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object))
                for q in extended.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH_INFERRED))}
    assert set(expected) <= inferred, sorted(set(expected) - inferred)
    assert rounds  # the rounds ran


def test_extend_moves_a_stated_inference_out_of_the_closure(rules_only):
    base = _quads("s:p rdfs:domain s:D . i:a s:p i:b .")
    stated = _quads("i:a a s:D .")
    store = _extended(base, stated)
    assert set(store) == set(_closed(base + stated))
    assert not list(store.quads_for_pattern(stated[0].subject, stated[0].predicate,
                                            stated[0].object, ox.NamedNode(GRAPH_INFERRED)))


def test_extend_refuses_what_the_rules_do_not_implement(rules_only):
    with pytest.raises(rules.Unsupported, match="owl:someValuesFrom"):
        _extended(_quads("i:a s:p i:b ."),
                  _quads("s:R owl:onProperty s:p ; owl:someValuesFrom s:C ."))


@pytest.mark.parametrize("new", [
    'i:a s:code "2" .',  # a second value stated
    'i:a s:alias "2" .',  # a second value inferred (a sub-property), so in a round's graph
])
def test_extend_finds_a_literal_conflict_the_new_triples_make(rules_only, new):
    """A closure the rules made has no functional property with two literal values, so only
    the new triples are checked for one; they must be found wherever the rounds put them."""
    base = _quads('s:code a owl:FunctionalProperty . s:alias rdfs:subPropertyOf s:code . '
                  'i:a s:code "1" .')
    store = _closed(base)
    with pytest.raises(rules.Unsupported, match="two values for one resource, one a literal"):
        rules.extend(store, GRAPH_INFERRED, _quads(new), rules_made=True)


def _random_graph(rng) -> list[list[ox.Quad]]:
    """A few classes, properties and resources, with the T-box constructs the rules implement
    (lists of union and intersection members included) and instance triples between them; in
    units that are added whole: a triple, or a class with its list (a list's blank nodes cannot
    be reached from another file, so no add can complete a list that was there before)."""
    C = [ox.NamedNode(S[f"C{i}"]) for i in range(5)]
    P = [ox.NamedNode(S[f"p{i}"]) for i in range(4)]
    R = [ox.NamedNode(I[f"r{i}"]) for i in range(6)]
    n = {k: ox.NamedNode(str(v)) for k, v in (
        ("type", RDF.type), ("sub", rdflib.RDFS.subClassOf), ("subp", rdflib.RDFS.subPropertyOf),
        ("dom", rdflib.RDFS.domain), ("rng", rdflib.RDFS.range), ("eqc", OWL.equivalentClass),
        ("inv", OWL.inverseOf), ("same", OWL.sameAs), ("first", RDF.first), ("rest", RDF.rest),
        ("nil", RDF.nil))}
    kinds = [ox.NamedNode(str(k)) for k in (OWL.TransitiveProperty, OWL.SymmetricProperty,
                                             OWL.FunctionalProperty, OWL.InverseFunctionalProperty)]
    units = []
    for _ in range(rng.randint(2, 6)):
        kind = rng.choice(["sub", "subp", "dom", "rng", "eqc", "inv", "kind", "list"])
        if kind in ("sub", "eqc"):
            units.append([(rng.choice(C), n[kind], rng.choice(C))])
        elif kind in ("subp", "inv"):
            units.append([(rng.choice(P), n[kind], rng.choice(P))])
        elif kind in ("dom", "rng"):
            units.append([(rng.choice(P), n[kind], rng.choice(C))])
        elif kind == "kind":
            units.append([(rng.choice(P), n["type"], rng.choice(kinds))])
        else:
            head = node = ox.BlankNode()
            members, unit = rng.sample(C, 2), []
            for i, m in enumerate(members):
                nxt = n["nil"] if i == len(members) - 1 else ox.BlankNode()
                unit += [(node, n["first"], m), (node, n["rest"], nxt)]
                node = nxt
            which = rng.choice([OWL.unionOf, OWL.intersectionOf])
            units.append([(rng.choice(C), ox.NamedNode(str(which)), head), *unit])
    for _ in range(rng.randint(3, 10)):
        if rng.random() < 0.4:
            units.append([(rng.choice(R), n["type"], rng.choice(C))])
        elif rng.random() < 0.1:
            units.append([(rng.choice(R), n["same"], rng.choice(R))])
        else:
            units.append([(rng.choice(R), rng.choice(P), rng.choice(R))])
    return [[ox.Quad(s, p, o, _INPUT) for s, p, o in unit] for unit in units]


def test_extend_agrees_with_the_closure_of_everything_on_random_graphs(rules_only, monkeypatch):
    """Any graph, any split into what was there and what is added (T-box triples among the new
    ones included): the closure extended is the closure of the whole; both ways of extending
    (from the new triples only, and from everything when the T-box changed) are exercised."""
    import random

    starts = []
    rounds_of = rules._rounds

    def spy(store, graph, compiled, start, *args, **kwargs):
        starts.append(start)
        return rounds_of(store, graph, compiled, start, *args, **kwargs)

    monkeypatch.setattr(rules, "_rounds", spy)
    rng = random.Random(7)
    for _ in range(150):
        units = _random_graph(rng)
        picked = set(rng.sample(range(len(units)), rng.randint(1, 4)))
        new = list(dict.fromkeys(q for i in picked for q in units[i]))
        base = [q for i, u in enumerate(units) if i not in picked for q in u if q not in new]
        quads = base + new
        assert set(_extended(base, new)) == set(_closed(quads)), (base, new)
    # materialise starts from everything (None), extend from the new triples when it can
    assert len(starts) == 3 * 150
    from_new = sum(1 for s in starts if s is not None)
    assert from_new > 30 and 150 - from_new > 30, from_new


# ---- the worker: rules by default, reasonable when needed ------------------------------------


def _data(tmp_path: Path, turtle: str) -> GraphSource:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "extra.ttl").write_text(HEAD + turtle, encoding="utf-8")
    return GraphSource.default(data)


@pytest.mark.parametrize("turtle, engine", [
    ("s:p rdfs:domain s:D . i:a s:p i:b .", "rules"),
    (UNSUPPORTED, "reasonable"),
])
def test_worker_engine(tmp_path, turtle, engine):
    source = _data(tmp_path, turtle)
    out = tmp_path / "closure.nq"
    counts = _run([(g, str(p)) for g, p in source.graphs()], str(out), Budget())
    assert counts["engine"] == engine
    quads = list(ox.parse(path=str(out), format=ox.RdfFormat.N_QUADS))
    inferred = {(q.subject.value, q.predicate.value, q.object.value) for q in quads
                if q.graph_name.value == GRAPH_INFERRED}
    assert len(inferred) == counts["inferred"] > 2500
    assert (str(I.a), str(RDF.type), str(S.R) if engine == "reasonable" else str(S.D)) in inferred


def test_worker_reads_relative_iris_as_read_quads_does(tmp_path):
    """The worker's store reads Turtle itself: relative IRIs resolve against the file, too."""
    source = _data(tmp_path, "<#thing> a s:C . <#thing> s:p i:b . s:p rdfs:domain s:D .")
    out = tmp_path / "closure.nq"
    _run([(g, str(p)) for g, p in source.graphs()], str(out), Budget())
    thing = (tmp_path / "data" / "extra.ttl").resolve().as_uri() + "#thing"
    quads = {(q.subject.value, q.predicate.value, q.object.value, q.graph_name.value)
             for q in ox.parse(path=str(out), format=ox.RdfFormat.N_QUADS)}
    assert (thing, str(RDF.type), str(S.C), GRAPH_DATA) in quads
    assert (thing, str(RDF.type), str(S.D), GRAPH_INFERRED) in quads
