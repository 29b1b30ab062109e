"""The fast validation paths give the reports plain pyshacl gives.

- new entries are validated on the neighbourhood cut out of the graph's index
  (untoc_kg.neighbourhood, untoc_kg.graphindex) with SPARQL constraints answered by pyoxigraph; the reference is pyshacl
  on the whole graph in rdflib, limited to the entry's nodes;
- every entity of the shipped graph, checked as if it were a new entry, gets what plain pyshacl
  (whole graph, no patches) says about it;
- whole-graph validation with SPARQL constraints on pyoxigraph equals plain pyshacl.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import SH

from untoc_kg.graph import KnowledgeGraph
from untoc_kg.loading import GraphSource, read_rdflib
from untoc_kg.namespaces import compact
from untoc_kg.neighbourhood import INVERSE_PREDICATES, reached_inversely
from untoc_kg.validation import _report, _run_pyshacl, prepared_sparql, validate

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = sorted(p for p in (ROOT / "tests" / "fixtures" / "entries").glob("*.ttl") if p.stem != "malformed")
SHAPE_FIXTURES = sorted((ROOT / "tests" / "fixtures" / "shapes").glob("*/*.ttl"))


def _key(report) -> Counter:
    """A report as a multiset of issues; blank node labels differ between parses, so they go."""
    def norm(text):
        return re.sub(r"\b(_:)?[A-Za-z]*[0-9a-f]{16,}\b", "_:b", text) if text else text
    return Counter((i.focus, i.severity, norm(i.message), i.shape, i.path, norm(i.value), i.component)
                   for i in report.issues)


@pytest.fixture(scope="module")
def source(_isolated_cache) -> GraphSource:
    return GraphSource.default()


@pytest.fixture(scope="module")
def shipped(source) -> rdflib.Graph:
    return read_rdflib([source.ontology_file, *source.data_files])


@pytest.fixture(scope="module", autouse=True)
def _parse_sparql_once():
    with prepared_sparql():
        yield


def _reference(source, shipped, path) -> Counter:
    combined = rdflib.Graph()
    for triple in shipped:
        combined.add(triple)
    return _key(validate(source.with_extra([path]), graph=combined))


@pytest.mark.parametrize("path", ENTRIES + SHAPE_FIXTURES,
                         ids=[f"{p.parent.name}/{p.stem}" for p in ENTRIES + SHAPE_FIXTURES])
def test_entry_on_neighbourhood_equals_whole_graph(path, source, shipped):
    fast = validate(source.with_extra([path]))
    assert _key(fast) == _reference(source, shipped, path)


# Entries whose literals a pyoxigraph store would change (numbers kept as values, language tags
# lower-cased): the results must be those of the literals as written.
TRICKY = {
    "statement-about-a-number-typed-otherwise": """
        [] a rdf:Statement ; rdf:subject meeting:wg-ic-3 ; rdf:predicate untoc:ordinal ;
           rdf:object "3"^^xsd:integer ; untoc:sourceParagraph para:18 .
        [] a rdf:Statement ; rdf:subject meeting:wg-ic-3 ; rdf:predicate untoc:ordinal ;
           rdf:object "3"^^xsd:positiveInteger ; untoc:sourceParagraph para:18 .
        [] a rdf:Statement ; rdf:subject meeting:wg-ic-3 ; rdf:predicate untoc:ordinal ;
           rdf:object "03"^^xsd:positiveInteger ; untoc:sourceParagraph para:18 .""",
    "existing-meeting-gets-its-ordinal-again-typed-otherwise": """
        meeting:wg-ic-4 untoc:ordinal "4"^^xsd:integer .""",
    "new-meeting-with-a-leading-zero-ordinal-and-an-upper-case-tag": """
        meeting:wg-ic-9 a untoc:Meeting ; rdfs:label "Ninth meeting"@EN , "Девятое совещание"@ru ;
           untoc:meetingOf body:wg-international-cooperation ; untoc:ordinal "06"^^xsd:positiveInteger ;
           untoc:year "2019"^^xsd:gYear ; untoc:sourceParagraph para:18 .""",
}
PREFIXES_TTL = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in (
    ("untoc", "https://w3id.org/untoc/ontology#"), ("meeting", "https://w3id.org/untoc/id/meeting/"),
    ("body", "https://w3id.org/untoc/id/body/"), ("para", "https://w3id.org/untoc/id/paper/"),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"), ("xsd", "http://www.w3.org/2001/XMLSchema#")))


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_literals_are_compared_as_written(name, source, shipped, tmp_path):
    path = tmp_path / f"{name}.ttl"
    path.write_text(PREFIXES_TTL + TRICKY[name], encoding="utf-8")
    fast = validate(source.with_extra([path]))
    assert _key(fast) == _reference(source, shipped, path)
    assert not fast.conforms  # each of them breaks a shape


def test_some_fixtures_do_fail():
    """The comparison above is not between empty reports only."""
    source = GraphSource.default()
    failing = [p for p in ENTRIES + SHAPE_FIXTURES if not validate(source.with_extra([p])).conforms]
    assert len(failing) >= 50


@pytest.fixture(scope="module")
def plain_report(source, shipped):
    """Plain pyshacl on the whole shipped graph: every result, about every node."""
    shapes = read_rdflib([source.shapes_file])
    return _report(_run_pyshacl(shipped, shapes), shapes, None, source.data_files)


def test_every_shipped_entity_as_an_entry(source, shipped, plain_report, tmp_path):
    """Each subject of the shipped data, written out as an entry (so the graph stays the same),
    gets exactly the results plain pyshacl has about it."""
    expected: dict[str, Counter] = {}
    for focus, issues in plain_report.by_entity().items():
        expected[focus] = _key(type(plain_report)(issues=issues))
    subjects = sorted({s for path in source.data_files for s in read_rdflib([path]).subjects()
                       if isinstance(s, rdflib.URIRef)})
    assert len(subjects) > 300
    checked = 0
    # Entities in groups of 25: fewer runs, and entries with several entities are covered too.
    for start in range(0, len(subjects), 25):
        group = subjects[start:start + 25]
        entry = rdflib.Graph()
        for s in group:
            for p, o in shipped.predicate_objects(s):
                entry.add((s, p, o))
        path = tmp_path / f"group-{start}.nt"  # N-Triples keeps every lexical form as it is
        entry.serialize(path, format="nt", encoding="utf-8")
        report = validate(source.with_extra([path]))
        for s in group:
            name = compact(str(s))
            got = _key(type(report)(issues=[i for i in report.issues if i.focus == name]))
            assert got == expected.get(name, Counter()), name
            checked += 1
    assert checked == len(subjects)
    assert sum(plain_report.counts().values()) > 0  # the shipped graph has notes (Info results)


def test_whole_graph_with_sparql_on_the_store_equals_plain_pyshacl(source, plain_report):
    assert _key(validate(source)) == _key(plain_report)


def test_whole_graph_with_broken_statements_and_numbers_equals_plain_pyshacl(source, tmp_path):
    """Blank-node statement records and literals a store would change, in the data itself."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(source.data_dir, data)
    (data / "zz-tricky.ttl").write_text(PREFIXES_TTL + "\n".join(TRICKY.values()), encoding="utf-8")
    changed = GraphSource.default(data)
    fast = validate(changed)
    shapes = read_rdflib([changed.shapes_file])
    plain = _report(_run_pyshacl(read_rdflib([changed.ontology_file, *changed.data_files]), shapes),
                    shapes, None, changed.data_files)
    assert _key(fast) == _key(plain)
    assert fast.counts()["Violation"] >= 3


def test_shapes_follow_backwards_only_what_the_neighbourhood_fetches(source):
    shapes = read_rdflib([source.shapes_file])
    assert reached_inversely(shapes) <= {p.value for p in INVERSE_PREDICATES}
    assert reached_inversely(shapes)  # the scan finds the ones there are
    assert set(shapes.objects(None, SH.targetObjectsOf))


def _meeting_triples(index):
    import pyoxigraph as ox

    meeting = ox.NamedNode("https://w3id.org/untoc/id/meeting/wg-ic-4")
    return sorted(str(t) for t in index.match(meeting))


def test_graph_index_keeps_literals_as_written(source):
    """The index gives back what the files say (positiveInteger stays positiveInteger, a
    language tag keeps its case), which the query store does not."""
    import pyoxigraph as ox

    from untoc_kg.validation import graph_index

    index = graph_index(source)
    meeting = ox.NamedNode("https://w3id.org/untoc/id/meeting/wg-ic-4")
    ordinal = ox.NamedNode("https://w3id.org/untoc/ontology#ordinal")
    assert [t[2] for t in index.match(meeting, ordinal)] == [
        ox.Literal("4", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#positiveInteger"))]
    store_ordinals = list(KnowledgeGraph(source.data_dir).store.quads_for_pattern(meeting, ordinal, None))
    assert store_ordinals and store_ordinals[0].object.datatype.value.endswith("#integer")


def test_graph_index_answers_like_the_files(source):
    """Every pattern the neighbourhood asks gives the triples of the files, as parsed, counted
    once (the ontology and the data are both in the index)."""
    import pyoxigraph as ox

    from untoc_kg.loading import read_quads
    from untoc_kg.validation import graph_index

    index = graph_index(source)
    written = {(q.subject, q.predicate, q.object) for graph, file in source.graphs()
               for q in read_quads(file, graph)}
    blank_free = {t for t in written if not any(isinstance(x, ox.BlankNode) for x in t)}
    meeting = ox.NamedNode("https://w3id.org/untoc/id/meeting/wg-ic-4")
    meeting_of = ox.NamedNode("https://w3id.org/untoc/ontology#meetingOf")
    body = ox.NamedNode("https://w3id.org/untoc/id/body/wg-international-cooperation")
    sub_class = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    for s, p, o in [(meeting, None, None), (None, meeting_of, body), (None, sub_class, None),
                    (meeting, label, None)]:
        expected = sorted(map(str, (t for t in blank_free if (s is None or t[0] == s)
                                    and (p is None or t[1] == p) and (o is None or t[2] == o))))
        got = sorted(str(t) for t in index.match(s, p, o) if t in blank_free)
        assert got == expected and len(got) == len(index.match(s, p, o)) and got
    a_label = next(t for t in blank_free if t[0] == meeting and t[1] == label)
    assert index.match(*a_label) == [a_label]  # a literal object is matched as written
    assert index.match(meeting, label, ox.Literal(a_label[2].value + "x")) == []
    assert index.match(ox.NamedNode("https://example.org/nothing")) == []
    assert index.match(a_label[2]) == []  # a literal is never a subject
    assert len(index.match(None, None, None)) == len(written)  # blank nodes too, each once


def test_graph_index_damaged_or_unwritable(source, tmp_path, monkeypatch):
    """A damaged index file is built again; a cache directory that cannot be created (a file in
    its way) leaves the index in memory. Either way the answers are the same."""
    from untoc_kg.validation import graph_index

    expected = _meeting_triples(graph_index(source))
    monkeypatch.setenv("UNTOC_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "literals-0123.sqlite").write_bytes(b"an index of an earlier version")
    built = graph_index(source)
    (index_file,) = (tmp_path / "cache").glob("index-*.sqlite")
    assert not list((tmp_path / "cache").glob("literals-*"))  # the earlier index is removed
    del built
    index_file.write_bytes(b"not a database" * 100)
    assert _meeting_triples(graph_index(source)) == expected
    assert index_file.read_bytes()[:16] == b"SQLite format 3\0"
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("UNTOC_CACHE_DIR", str(blocker / "cache"))
    assert _meeting_triples(graph_index(source)) == expected


def _index_content(index) -> tuple[list[str], int]:
    """Blank-node-free triples (labels differ between parses) and the number of all of them."""
    import pyoxigraph as ox

    everything = index.match()
    return (sorted(str(t) for t in everything if not any(isinstance(x, ox.BlankNode) for x in t)),
                   len(everything))


def test_add_carries_the_graph_index_forward(tmp_path, monkeypatch):
    """After an add the index of the new content is the old one plus the added triples, equal to
    one built from the files, and the next entry does not build it again."""
    import shutil

    from untoc_kg.adding import add
    from untoc_kg.validation import graph_index

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    monkeypatch.setenv("UNTOC_CACHE_DIR", str(tmp_path / "cache"))
    before = GraphSource.default(data)
    graph_index(before)
    change = add(before, [ROOT / "tests" / "fixtures" / "entries" / "new-meeting.ttl"])
    assert change.count == 20
    after = GraphSource.default(data)
    (carried,) = (tmp_path / "cache").glob("index-*.sqlite")
    assert carried.name == f"index-{after.fingerprint()}.sqlite"
    notes = []
    content = _index_content(graph_index(after, on_rebuild=notes.append))
    assert notes == []
    monkeypatch.setenv("UNTOC_CACHE_DIR", str(tmp_path / "fresh"))
    assert content == _index_content(graph_index(after, on_rebuild=notes.append))
    assert notes == ["building the graph index for entries"]
    assert any("wg-ic-7" in t for t in content[0])


def test_carrying_the_index_waits_for_a_reader_and_never_half_moves(tmp_path, monkeypatch):
    """The index is changed in place and renamed: a reader inside a read transaction holds the
    change off; if it holds on past the wait, the index stays as it was, under its old name,
    and no index of the new content appears (the next entry builds it)."""
    import sqlite3

    import pyoxigraph as ox

    from untoc_kg.graphindex import GraphIndex
    from untoc_kg.loading import GRAPH_DATA

    monkeypatch.setenv("UNTOC_CACHE_DIR", str(tmp_path / "cache"))
    source = GraphSource.default()
    from untoc_kg.validation import graph_index

    before = _index_content(graph_index(source))
    (old,) = (tmp_path / "cache").glob("index-*.sqlite")
    new = old.with_name("index-new.sqlite")
    quad = ox.Quad(ox.NamedNode("https://example.org/s"), ox.NamedNode("https://example.org/p"),
                   ox.Literal("carried"), ox.NamedNode(GRAPH_DATA))
    reader = sqlite3.connect(f"{old.as_uri()}?mode=ro", uri=True)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM quad").fetchone()  # a shared lock until the end
    assert GraphIndex.carry(old, new, [quad]) is False
    assert old.is_file() and not new.exists()
    reader.rollback()
    assert _index_content(GraphIndex.cached(old, lambda: [])) == before
    assert GraphIndex.carry(old, new, [quad]) is True
    assert not old.exists()
    carried = GraphIndex.cached(new, lambda: [])
    assert carried.match(quad.subject) == [(quad.subject, quad.predicate, quad.object)]
    assert _index_content(carried)[1] == before[1] + 1
    reader.close()
