"""Tests for untoc_kg.reasoning: the closure engines and their budget.

- on the shipped graph, the instance-level inferences of the rules engine (``rules.py``, the
  engine in use) are owlrl's (the reference), apart from owlrl's ``x owl:sameAs x`` for every
  resource; reasonable (still selectable) differs from owlrl in one more family, named below;
- plain literals come back plain (pyoxigraph and reasonable hand them back xsd:string-typed);
- the closure of the shipped graph still conforms to the shapes;
- the budget: limits read from the environment, pathological graphs refused by the library and
  by the real ``untoc`` entry point with one line and a non-zero exit, never a hang.

The instance-level comparison: a triple is about an instance when its subject is an IRI under
https://w3id.org/untoc/id/ or a blank node of the data files (the reified rdf:Statements). That
leaves out what the reasoners say about ontology terms and the ontology's own blank nodes (class
expressions, lists), where OWL RL implementations differ in which schema rules they apply
(reflexive subClassOf, domain/range propagation, datatype axioms), and generalized triples
(literal subjects), which RDF cannot hold and ``inferred_triples`` never returns. The objects are
not restricted: an instance typed with an ontology class is an instance-level inference.

The rule families one by one, on small graphs, are in tests/test_rules.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import OWL, RDF, BNode, Literal, URIRef

from untoc_kg.errors import InputError, ReasoningLimitError
from untoc_kg.loading import GRAPH_DATA, GRAPH_ONTOLOGY, GraphSource, read_rdflib
from untoc_kg.reasoning import (GRAPH_INFERRED, Budget, closure, inferred_triples, reason,
                                reasoned_store)

ROOT = Path(__file__).resolve().parents[1]
ID = "https://w3id.org/untoc/id/"
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
XSD_STRING = URIRef("http://www.w3.org/2001/XMLSchema#string")
UNTOC_CLI = Path(sys.executable).with_name("untoc")


# ---- the shipped graph: the engines against owlrl ------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    """(graph of ontology + data, blank nodes of the data files); one parse, shared blank nodes."""
    source = GraphSource.default()
    data = read_rdflib(source.data_files)
    graph = read_rdflib([source.ontology_file]) + data
    data_blanks = {x for t in data for x in t if isinstance(x, BNode)}
    return graph, data_blanks


@pytest.fixture(scope="module")
def fast(shipped):
    """The default engine's inferences: the rules."""
    return set(inferred_triples(shipped[0]))


@pytest.fixture(scope="module")
def by_reasonable(shipped):
    return set(inferred_triples(shipped[0], engine="reasonable"))


@pytest.fixture(scope="module")
def reference(shipped):
    return set(inferred_triples(shipped[0], engine="owlrl"))


def _about_instances(triples, data_blanks):
    return {t for t in triples
            if (isinstance(t[0], URIRef) and str(t[0]).startswith(ID)) or t[0] in data_blanks}


def _reflexive_same_as(t) -> bool:
    return t[1] == OWL.sameAs and t[0] == t[2]


def _kinds_of_agreement(shared) -> None:
    """The agreement is about real inferences, of several kinds."""
    assert len(shared) > 2500
    predicates = {p for _, p, _ in shared}
    assert {RDF.type, PROV.wasDerivedFrom, rdflib.DCTERMS.hasPart} <= predicates
    assert (URIRef(ID + "body/wg-international-cooperation"), RDF.type, PROV.Agent) in shared


def test_rules_instance_inferences_equal_owlrl(shipped, fast, reference):
    _, data_blanks = shipped
    ours = _about_instances(fast, data_blanks)
    theirs = _about_instances(reference, data_blanks)
    # owlrl applies eq-ref to every resource: x owl:sameAs x, which says nothing; the rules
    # leave eq-ref out. Nothing else differs, either way.
    assert {t for t in theirs - ours if not _reflexive_same_as(t)} == set(), \
        sorted(theirs - ours)[:20]
    assert ours - theirs == set(), sorted(ours - theirs)[:20]
    assert {t for t in theirs - ours if _reflexive_same_as(t)}  # the difference is real
    _kinds_of_agreement(ours & theirs)


def test_reasonable_instance_inferences_equal_owlrl(shipped, by_reasonable, reference):
    graph, data_blanks = shipped
    ours = _about_instances(by_reasonable, data_blanks)
    theirs = _about_instances(reference, data_blanks)
    only_owlrl = theirs - ours
    only_reasonable = ours - theirs
    assert {t for t in only_owlrl if not _reflexive_same_as(t)} == set(), sorted(only_owlrl)[:20]
    # reasonable types every subject owl:Thing; owlrl does so only for instances of declared
    # classes, which the reified statements (rdf:Statement, not an owl:Class here) are not
    statements = {s for s in graph.subjects(RDF.type, RDF.Statement) if s in data_blanks}
    assert only_reasonable == {(s, RDF.type, OWL.Thing) for s in statements}, \
        sorted(only_reasonable - {(s, RDF.type, OWL.Thing) for s in statements})[:20]
    assert len(statements) > 500
    _kinds_of_agreement(ours & theirs)


def test_every_instance_subject_is_in_every_closure_a_thing(shipped, fast, by_reasonable,
                                                             reference):
    """The owl:Thing difference is only about the statements: every IRI instance agrees."""
    graph, data_blanks = shipped
    iris = {s for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(ID)}
    assert len(iris) > 300
    for inferred in (fast, by_reasonable, reference):
        assert {s for s in iris if (s, RDF.type, OWL.Thing) not in inferred} == set()


@pytest.mark.parametrize("engine", ["rules", "reasonable"])
def test_inferences_are_new_rdf_triples_with_plain_literals(shipped, fast, by_reasonable, engine):
    graph, _ = shipped
    inferred = fast if engine == "rules" else by_reasonable
    assert not inferred & set(graph)
    assert all(not isinstance(s, Literal) and isinstance(p, URIRef) for s, p, _ in inferred)
    assert not [o for _, _, o in inferred if isinstance(o, Literal) and o.datatype == XSD_STRING]


@pytest.mark.parametrize("engine", ["rules", "reasonable"])
def test_plain_literal_is_not_reported_as_inferred(engine):
    """The trap: pyoxigraph and reasonable give "d" back as "d"^^xsd:string, rdflib keeps "d"
    untyped; the sub-property makes both literals reappear under another predicate."""
    g = rdflib.Graph()
    item = URIRef(ID + "paper/1a")
    letter, label = URIRef(ID + "test/itemLetter"), URIRef(ID + "test/anyLabel")
    g.add((item, letter, Literal("d")))
    g.add((item, letter, Literal("e", datatype=XSD_STRING)))
    g.add((letter, rdflib.RDFS.subPropertyOf, label))
    inferred = inferred_triples(g, engine=engine)
    assert [t for t in inferred if t[1] == letter] == []
    # it did reason, and the copies are plain too
    assert {(item, label, Literal("d")), (item, label, Literal("e"))} <= set(inferred)
    assert not [o for _, _, o in inferred if isinstance(o, Literal) and o.datatype == XSD_STRING]


def test_closure_keeps_the_input_and_adds_the_inferences(shipped, fast):
    graph, _ = shipped
    full = closure(graph)
    assert len(full) == len(graph) + len(fast)


def test_reason_writes_three_graphs_sharing_blank_nodes(fast):
    source = GraphSource.default()
    by_graph: dict[str, list] = {}
    for q in reason(source):
        by_graph.setdefault(q.graph_name.value, []).append(q)
    assert len(by_graph[GRAPH_INFERRED]) == len(fast)
    assert len(by_graph[GRAPH_DATA]) == len(read_rdflib(source.data_files))
    def blanks(name):
        return {t for q in by_graph[name] for t in (q.subject, q.object)
                if isinstance(t, ox.BlankNode)}

    inferred = blanks(GRAPH_INFERRED)
    assert len(inferred & blanks(GRAPH_DATA)) > 500  # the reified statements
    assert inferred & blanks(GRAPH_ONTOLOGY)  # instances of the ontology's unionOf classes
    assert inferred <= blanks(GRAPH_DATA) | blanks(GRAPH_ONTOLOGY)


def test_reason_with_each_engine_gives_the_same_instance_inferences(fast, by_reasonable):
    """The worker's engines, through the files: the same counts as in this process."""
    source = GraphSource.default()
    for engine, expected in (("rules", fast), ("reasonable", by_reasonable)):
        quads = reason(source, engine=engine)
        assert sum(1 for q in quads if q.graph_name.value == GRAPH_INFERRED) == len(expected)


def test_reasoned_store_answers_with_inferences():
    store = reasoned_store(GraphSource.default(), cache=False)
    q = ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH <%s> { ?s a <http://www.w3.org/ns/prov#Agent> } }"
         % GRAPH_INFERRED)
    assert int(next(iter(store.query(q)))["n"].value) > 10


def test_closure_conforms_to_the_shapes(kg):
    from untoc_kg.validation import validate

    report = validate(kg.source, graph=closure(kg.rdflib_graph))
    bad = [i for i in report.issues if i.severity in ("Violation", "Warning")]
    assert not bad, "\n".join(f"{i.focus} {i.message}" for i in bad[:10])


# ---- the budget, in the library ------------------------------------------------------------------


def test_budget_from_environment():
    assert Budget.from_env({}) == Budget()
    b = Budget.from_env({"UNTOC_REASONING_TIMEOUT": "2.5", "UNTOC_REASONING_MAX_INPUT": "1_000",
                         "UNTOC_REASONING_MAX_SAMEAS": " 7 "})
    assert (b.seconds, b.max_input, b.max_same_as) == (2.5, 1000, 7)
    with pytest.raises(InputError, match="UNTOC_REASONING_MAX_INFERRED must be a whole number"):
        Budget.from_env({"UNTOC_REASONING_MAX_INFERRED": "1e6"})
    with pytest.raises(InputError, match="UNTOC_REASONING_TIMEOUT must be positive"):
        Budget.from_env({"UNTOC_REASONING_TIMEOUT": "0"})


def _node(i):
    return URIRef(f"{ID}test/n{i}")


def _chain(n, p):
    g = rdflib.Graph()
    for i in range(n - 1):
        g.add((_node(i), p, _node(i + 1)))
    return g


@pytest.fixture
def no_reasoner(monkeypatch):
    """Refusals 'before reasoning' must not start a reasoner (the rules, or reasonable)."""
    import reasonable

    from untoc_kg import rules

    def refuse(*args, **kwargs):
        raise AssertionError("the reasoner was started")

    monkeypatch.setattr(reasonable, "PyReasoner", refuse)
    monkeypatch.setattr(rules, "materialise", refuse)


def test_same_as_set_refused_before_reasoning(no_reasoner):
    g = _chain(150, OWL.sameAs)
    with pytest.raises(ReasoningLimitError, match=r"owl:sameAs joins 150 resources .* limit of 100 "
                                                  r"\(UNTOC_REASONING_MAX_SAMEAS\)"):
        inferred_triples(g, budget=Budget())


def test_small_same_as_set_is_reasoned():
    g = _chain(10, OWL.sameAs)
    inferred = inferred_triples(g, budget=Budget())
    assert (_node(9), OWL.sameAs, _node(0)) in inferred


def test_transitive_chain_refused_before_reasoning(no_reasoner):
    p = URIRef(ID + "test/p")
    g = _chain(600, p)  # 179,700 pairs
    g.add((p, RDF.type, OWL.TransitiveProperty))
    with pytest.raises(ReasoningLimitError, match="transitive property .* adds at least"):
        inferred_triples(g, budget=Budget())


def test_short_transitive_chain_is_reasoned():
    p = URIRef(ID + "test/p")
    small = _chain(20, p)
    small.add((p, RDF.type, OWL.TransitiveProperty))
    assert (_node(0), p, _node(19)) in inferred_triples(small, budget=Budget())


def test_growth_the_bound_cannot_see_is_refused_after_reasoning():
    p, q = URIRef(ID + "test/p"), URIRef(ID + "test/q")
    g = _chain(60, q)  # transitive only through a sub-property: no bound before reasoning
    g.add((p, RDF.type, OWL.TransitiveProperty))
    g.add((q, rdflib.RDFS.subPropertyOf, p))
    every_pair = {(_node(i), p, _node(j)) for i in range(60) for j in range(i + 1, 60)}
    for engine in ("rules", "reasonable"):
        assert every_pair <= set(inferred_triples(g, engine=engine, budget=Budget()))
        with pytest.raises(ReasoningLimitError, match=r"the OWL RL closure adds [\d,]+ triples, "
                                                      r"more than the limit of 1,000"):
            inferred_triples(g, engine=engine, budget=Budget(max_inferred=1000))


def test_input_limit(no_reasoner):
    with pytest.raises(ReasoningLimitError, match="more than the limit of 10 .*MAX_INPUT"):
        inferred_triples(_chain(20, URIRef(ID + "test/p")), budget=Budget(max_input=10))


# ---- the budget through the real entry point -----------------------------------------------------


def _data_dir(tmp_path: Path, lines: list[str]) -> Path:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    head = ["@prefix owl: <http://www.w3.org/2002/07/owl#> .",
            "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
            "@prefix x: <https://w3id.org/untoc/id/test/> ."]
    (data / "pathological.ttl").write_text("\n".join(head + lines) + "\n", encoding="utf-8")
    return data


def _untoc(tmp_path, data, *args, guard=90, **env):
    """Run the installed ``untoc`` with its own cache; the guard turns a hang into a failure."""
    cache = tmp_path / "cache"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("UNTOC_REASONING_")}
    environ.update(UNTOC_CACHE_DIR=str(cache), **env)
    t = time.perf_counter()
    proc = subprocess.run([str(UNTOC_CLI), "--data", str(data), *args], capture_output=True,
                          text=True, timeout=guard, env=environ)
    return proc, time.perf_counter() - t, cache


COUNT = ["query", "--reasoning", "--sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
         "--format", "csv"]


def _refused(proc, cache, *phrases):
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert proc.returncode == 1, proc.stderr
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for phrase in phrases:
        assert phrase in errors[0], errors[0]
    assert proc.stdout == ""
    assert not list(cache.glob("reasoned-*")), "a refused closure must not be cached"


def test_cli_same_as_chain_of_200_refused(tmp_path):
    data = _data_dir(tmp_path, [f"x:n{i} owl:sameAs x:n{i + 1} ." for i in range(199)])
    proc, _, cache = _untoc(tmp_path, data, *COUNT)
    _refused(proc, cache, "owl:sameAs joins 200 resources", "UNTOC_REASONING_MAX_SAMEAS")


def test_cli_same_as_clique_refused(tmp_path):
    n = 300
    data = _data_dir(tmp_path, [f"x:n{i} owl:sameAs x:n{j} ."
                                for i in range(n) for j in range(i + 1, n)])
    proc, _, cache = _untoc(tmp_path, data, *COUNT)
    _refused(proc, cache, "owl:sameAs joins 300 resources")


def test_cli_transitive_chain_refused(tmp_path):
    data = _data_dir(tmp_path, ["x:p a owl:TransitiveProperty ."]
                     + [f"x:n{i} x:p x:n{i + 1} ." for i in range(999)])
    proc, _, cache = _untoc(tmp_path, data, *COUNT)
    _refused(proc, cache, "transitive property <https://w3id.org/untoc/id/test/p>",
             "UNTOC_REASONING_MAX_INFERRED")


# 2 million pairs: with the rules ~16 s and 1.5 GB when nothing stops it (reasonable: minutes)
HIDDEN_CHAIN = (["x:p a owl:TransitiveProperty .", "x:q rdfs:subPropertyOf x:p ."]
                + [f"x:n{i} x:q x:n{i + 1} ." for i in range(2000)])
# the size limits would stop the closure after its first big round: only the limit tested acts
NO_SIZE_LIMIT = {"UNTOC_REASONING_MAX_INFERRED": "1000000000",
                 "UNTOC_REASONING_MAX_GROWTH": "1000000"}


def test_cli_time_limit_stops_the_closure(tmp_path):
    data = _data_dir(tmp_path, HIDDEN_CHAIN)
    proc, seconds, cache = _untoc(tmp_path, data, *COUNT, UNTOC_REASONING_TIMEOUT="2",
                                  **NO_SIZE_LIMIT)
    _refused(proc, cache, "time limit of 2 s (UNTOC_REASONING_TIMEOUT)")
    assert seconds < 12  # stopped at the limit, not after the time the closure would take


def test_cli_memory_limit_stops_the_closure(tmp_path):
    data = _data_dir(tmp_path, HIDDEN_CHAIN)
    proc, _, cache = _untoc(tmp_path, data, *COUNT, UNTOC_REASONING_MAX_MEMORY="700",
                            **NO_SIZE_LIMIT)
    _refused(proc, cache, "memory limit of 700 MiB (UNTOC_REASONING_MAX_MEMORY)")


def test_cli_size_limit_stops_the_hidden_chain_after_a_round(tmp_path):
    """With the default limits the same graph is refused by the count of inferences, after the
    round that derived them, long before the time limit."""
    data = _data_dir(tmp_path, HIDDEN_CHAIN)
    proc, _, cache = _untoc(tmp_path, data, *COUNT)
    _refused(proc, cache, "the OWL RL closure adds", "UNTOC_REASONING_MAX_INFERRED")


def test_cli_export_refused_too(tmp_path):
    data = _data_dir(tmp_path, [f"x:n{i} owl:sameAs x:n{i + 1} ." for i in range(199)])
    target = tmp_path / "out.nq"
    proc, _, cache = _untoc(tmp_path, data, "export", "--format", "nquads", "--reasoning",
                            "-o", str(target))
    _refused(proc, cache, "owl:sameAs joins 200 resources")
    assert not target.exists()


def test_cli_bad_limit_is_an_input_error(tmp_path):
    proc, _, _ = _untoc(tmp_path, ROOT / "data", *COUNT, UNTOC_REASONING_MAX_INPUT="lots")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "Error: UNTOC_REASONING_MAX_INPUT must be a whole number, not 'lots'")


def test_cli_reasoning_within_budget(tmp_path):
    proc, _, cache = _untoc(tmp_path, ROOT / "data", *COUNT)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split()[1]) > 10000
    assert list(cache.glob("reasoned-*"))
