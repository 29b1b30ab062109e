"""Whole-graph validation by SPARQL queries (untoc_kg.shaclsparql) gives pyshacl's results.

Each graph is parsed once by pyoxigraph and the same quads go to an in-memory store (the engine)
and to an rdflib graph (pyshacl), so blank nodes have the same labels on both sides and every
result can be compared whole: focus node, path, value, source shape, constraint component,
severity, SPARQL source constraint and messages, as a multiset.

- the shipped graph, a generated 10k graph and literals a store would change: against plain
  pyshacl (each SPARQL constraint run by rdflib, per focus node);
- every shape fixture with the shipped graph, as tests/test_shapes.py validates it but on the
  whole graph: against plain pyshacl where the fixture is about a SPARQL constraint, else against
  pyshacl with its SPARQL constraints answered by pyoxigraph (``sparql_on_store``, itself checked
  against plain pyshacl in test_validation_equivalence.py) to keep the run short;
- shapes or literals the compiler cannot handle are refused, and ``validate`` then falls back to
  pyshacl.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import RDF, SH

from untoc_kg import shaclsparql
from untoc_kg.loading import GraphSource, read_quads, read_rdflib
from untoc_kg.querying import to_rdflib
from untoc_kg.shaclsparql import Unsupported, validate_store
from untoc_kg.validation import (_path_text, _run_pyshacl, prepared_sparql, sparql_on_store,
                                 store_forms, validate)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "shapes").glob("*/*.ttl"))
SOURCE = GraphSource.default()
SHIPPED_FILES = [SOURCE.ontology_file, *SOURCE.data_files]


def _key(report: rdflib.Graph) -> Counter:
    out = Counter()
    for r in report.subjects(RDF.type, SH.ValidationResult):
        get = lambda p: report.value(r, p)  # noqa: E731
        out[(get(SH.focusNode), _path_text(report, get(SH.resultPath)), get(SH.value),
             get(SH.sourceShape), get(SH.sourceConstraintComponent), get(SH.resultSeverity),
             get(SH.sourceConstraint), tuple(sorted(str(m) for m in report.objects(r, SH.resultMessage))))] += 1
    return out


def _loaded(paths):
    quads = [q for path in paths for q in read_quads(Path(path))]
    store = ox.Store()
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
    graph = rdflib.Graph()
    graph.addN((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object), graph) for q in quads)
    forms = store_forms({q.object for q in quads if isinstance(q.object, ox.Literal)})
    return store, graph, forms


def _compare(paths, shapes, plain=True):
    """(engine's results, pyshacl's results) on the files ``paths``."""
    store, graph, forms = _loaded(paths)
    fast = validate_store(store, shapes, exact_of=forms)
    with prepared_sparql() if plain else sparql_on_store(store, exact_of=forms):
        reference = _run_pyshacl(graph, shapes)
    return _key(fast), _key(reference)


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return read_rdflib([SOURCE.shapes_file])


@pytest.fixture(scope="module")
def shipped_results(shapes) -> Counter:
    fast, reference = _compare(SHIPPED_FILES, shapes)
    assert fast == reference
    return fast


def test_shipped_graph_gives_pyshacl_results(shipped_results):
    assert sum(shipped_results.values()) > 0  # the shipped graph has notes (sh:Info)


def _sparql_shapes(shapes) -> set:
    return {s for s in shapes.subjects(SH.sparql, None)}


def _expected_shapes(path: Path) -> set:
    text = path.read_text(encoding="utf-8")
    return {rdflib.URIRef("https://w3id.org/untoc/shapes#" + name)
            for name in re.findall(r"^#\s*expect-shape:.*?untocsh:(\w+)", text, re.MULTILINE)}


@pytest.mark.parametrize("path", FIXTURES, ids=[f"{p.parent.name}/{p.stem}" for p in FIXTURES])
def test_fixture_gives_pyshacl_results(path, shapes, shipped_results):
    store, _, forms = _loaded([*SHIPPED_FILES, path])
    if forms is None:  # literals the store cannot tell apart: the engine refuses them
        with pytest.raises(Unsupported):
            validate_store(store, shapes, exact_of=forms)
        return
    plain = bool(_expected_shapes(path) & _sparql_shapes(shapes))
    fast, reference = _compare([*SHIPPED_FILES, path], shapes, plain=plain)
    assert fast == reference
    if path.parent.name == "invalid":
        assert fast != shipped_results  # the fixture does break something


def test_fixtures_cover_sparql_and_core_constraints(shapes):
    """The comparison above meets SPARQL-based and core results alike."""
    sparql = {p for p in FIXTURES if _expected_shapes(p) & _sparql_shapes(shapes)}
    assert len(sparql) >= 8
    assert len(FIXTURES) - len(sparql) >= 40


def test_generated_graph_gives_pyshacl_results(shapes, tmp_path):
    out = tmp_path / "data"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--triples", "10k",
                    "--out", str(out)], check=True, capture_output=True)
    source = GraphSource.default(out)
    fast, reference = _compare([source.ontology_file, *source.data_files], shapes)
    assert fast == reference
    assert sum(fast.values()) > 0


TRICKY = """
@prefix untoc: <https://w3id.org/untoc/ontology#> .
@prefix meeting: <https://w3id.org/untoc/id/meeting/> .
@prefix body: <https://w3id.org/untoc/id/body/> .
@prefix para: <https://w3id.org/untoc/id/paper/> .
@prefix fact: <https://w3id.org/untoc/id/fact/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
meeting:wg-ic-90 a untoc:Meeting ; rdfs:label "Ninetieth meeting"@EN , "Девяностое совещание"@ru ;
    untoc:meetingOf body:wg-international-cooperation ; untoc:ordinal "090"^^xsd:positiveInteger ;
    untoc:numberOfSittings "many"^^xsd:positiveInteger ; untoc:year "2019"^^xsd:integer ;
    untoc:sourceParagraph para:18 .
meeting:wg-ic-91 a untoc:Meeting ; rdfs:label "Ninety-first meeting"@en-GB , "91st"@EN-us , "x"@ru , "y" ;
    untoc:meetingOf body:wg-international-cooperation ; untoc:ordinal "0"^^xsd:positiveInteger ;
    untoc:year "2020"^^xsd:gYear ; untoc:sourceParagraph para:18 .
fact:tricky a untoc:QuantitativeFact ; rdfs:label "a fact"@en , "факт"@ru ; untoc:value "1.50"^^xsd:decimal ;
    untoc:unit "people" ; untoc:sourceParagraph para:18 .
[] a rdf:Statement ; rdf:subject meeting:wg-ic-90 ; rdf:predicate untoc:ordinal ;
   rdf:object "090"^^xsd:positiveInteger ; untoc:sourceParagraph para:18 .
"""


def test_literals_as_written(shapes, tmp_path):
    """Literals a store changes (leading zeros, "1.50", upper-case tags, ill-typed values) are
    judged as written."""
    path = tmp_path / "tricky.ttl"
    path.write_text(TRICKY, encoding="utf-8")
    fast, reference = _compare([*SHIPPED_FILES, path], shapes)
    assert fast == reference
    components = {k[4] for k in fast}
    assert SH.DatatypeConstraintComponent in components
    assert SH.QualifiedMaxCountConstraintComponent in components or \
        SH.QualifiedMinCountConstraintComponent in components


UNHANDLED = {
    "sh:node": "untocsh:LabelShape sh:node untocsh:SourceShape .",
    "sh:in": "untocsh:MandateShape sh:property [ sh:path untoc:symbol ; sh:in ( \"1/1\" ) ] .",
    "sh:closed": "untocsh:MandateShape sh:closed true .",
    "a literal sh:hasValue": "untocsh:MandateShape sh:property [ sh:path untoc:symbol ; sh:hasValue \"1/1\" ] .",
    "sh:or of a datatype and a class": "untocsh:MandateShape sh:property [ sh:path untoc:symbol ; "
                                       "sh:or ( [ sh:datatype xsd:string ] [ sh:class untoc:Body ] ) ] .",
    "a zero-or-more path": "untocsh:MandateShape sh:property [ sh:path [ sh:zeroOrMorePath untoc:symbol ] ; "
                           "sh:minCount 1 ] .",
    "sh:sparql on a property shape": "untocsh:MandateShape sh:property [ sh:path untoc:symbol ; "
                                     "sh:sparql [ sh:select \"SELECT $this WHERE { }\" ] ] .",
    "a nested shape with a severity": "untocsh:MandateShape sh:property [ sh:path untoc:symbol ; "
                                      "sh:or ( [ sh:class untoc:Body ; sh:severity sh:Warning ] ) ] .",
}


@pytest.mark.parametrize("name", sorted(UNHANDLED))
def test_unhandled_shapes_are_refused(name, shapes):
    extra = rdflib.Graph()
    extra.parse(data="@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
                     "@prefix untoc: <https://w3id.org/untoc/ontology#> .\n"
                     "@prefix untocsh: <https://w3id.org/untoc/shapes#> .\n"
                     "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n" + UNHANDLED[name], format="turtle")
    changed = rdflib.Graph()
    for triple in shapes:
        changed.add(triple)
    for triple in extra:
        changed.add(triple)
    store, _, forms = _loaded(SHIPPED_FILES)
    with pytest.raises(Unsupported):
        validate_store(store, changed, exact_of=forms)


def test_validate_falls_back_to_pyshacl(monkeypatch):
    expected = sorted(map(repr, validate(SOURCE).issues))

    def refuse(*args, **kwargs):
        raise Unsupported("refused for the test")

    calls = []
    monkeypatch.setattr(shaclsparql, "validate_store", refuse)
    import untoc_kg.validation as validation

    monkeypatch.setattr(validation, "_run_pyshacl", lambda *a: calls.append(1) or _run_pyshacl(*a))
    assert sorted(map(repr, validate(SOURCE).issues)) == expected
    assert calls  # pyshacl did the work
