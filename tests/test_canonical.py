"""Canonical lines (canonical.py): the RDFC-1.0 labels agree with pyoxigraph's own canonicalization,
spilled runs give the same bytes as sorting in memory, and the export's VoID counts."""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest

from untoc_kg import canonical
from untoc_kg.canonical import CanonicalQuads, LineReader, relabel
from untoc_kg.export import EXPORT_FORMATS, export, void_counts
from untoc_kg.loading import GRAPH_DATA, GraphSource, read_nquads

G = [ox.NamedNode("https://w3id.org/untoc/graph/data"), ox.NamedNode("https://w3id.org/untoc/graph/x")]
P = [ox.NamedNode(f"http://example.org/p{i}") for i in range(3)]


def pyoxigraph_lines(quads) -> list[bytes]:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(ox.serialize(dataset, format=ox.RdfFormat.N_QUADS).splitlines(keepends=True))


def ours(quads) -> list[bytes]:
    with CanonicalQuads() as cq:
        cq.add(quads)
        return list(cq.lines())


def ring(n: int, graph=G[0], p=P[0], tag="r") -> list[ox.Quad]:
    """n blank nodes in a cycle, all alike: only the n-degree hashes can tell them apart."""
    nodes = [ox.BlankNode(f"{tag}{i}") for i in range(n)]
    return [ox.Quad(nodes[i], p, nodes[(i + 1) % n], graph) for i in range(n)]


def random_dataset(seed: int) -> list[ox.Quad]:
    rng = random.Random(seed)
    blanks = [ox.BlankNode(f"n{seed}x{i}") for i in range(rng.randint(1, 9))]
    iris = [ox.NamedNode(f"http://example.org/e{i}") for i in range(3)]
    literals = [ox.Literal("a"), ox.Literal("a", language="en"), ox.Literal("_:not a node")]
    quads = []
    for _ in range(rng.randint(1, 25)):
        s = rng.choice(blanks + iris[:1])
        o = rng.choice(blanks + iris + literals)
        quads.append(ox.Quad(s, rng.choice(P), o, rng.choice(G)))
    return quads


def random_blank_graph(seed: int) -> list[ox.Quad]:
    """Blank nodes linked by one or two predicates: first-degree hashes collide, the n-degree
    hashes and the choice among their permutations decide."""
    rng = random.Random(seed)
    nodes = [ox.BlankNode(f"g{seed}x{i}") for i in range(rng.randint(2, 7))]
    return [ox.Quad(rng.choice(nodes), rng.choice(P[:2]), rng.choice(nodes), G[0])
            for _ in range(rng.randint(2, 12))]


SHAPES = {
    "two rings of three (isomorphic)": ring(3, tag="a") + ring(3, tag="b"),
    "ring of five": ring(5),
    "self loop": [ox.Quad(ox.BlankNode("s"), P[0], ox.BlankNode("s"), G[0])],
    "the same statement twice": [
        ox.Quad(ox.BlankNode(b), p, o, G[0]) for b in ("x", "y")
        for p, o in ((P[0], ox.NamedNode("http://example.org/e")), (P[1], ox.Literal("1")))],
    "a list shared by two nodes": [
        ox.Quad(ox.BlankNode("l1"), P[0], ox.Literal("a"), G[0]),
        ox.Quad(ox.BlankNode("l1"), P[1], ox.BlankNode("l2"), G[0]),
        ox.Quad(ox.BlankNode("l2"), P[0], ox.Literal("a"), G[0]),
        ox.Quad(ox.NamedNode("http://example.org/e"), P[2], ox.BlankNode("l1"), G[0]),
        ox.Quad(ox.NamedNode("http://example.org/e"), P[2], ox.BlankNode("l2"), G[1])],
    # found by a search over random graphs like it (about 1 in 200): the first permutation of
    # equally hashed neighbours is not the one RDFC-1.0 chooses (the smallest path)
    "the smallest path among permutations": [
        ox.Quad(ox.BlankNode(s), P[0], ox.BlankNode(o), G[0]) for s, o in (
            ("n7", "n5"), ("n9", "n5"), ("n8", "n9"), ("n0", "n1"), ("n4", "n4"), ("n4", "n3"),
            ("n0", "n6"), ("n8", "n6"))],
    "no blank node, '_:' in a literal and an IRI": [
        ox.Quad(ox.NamedNode("http://example.org/_:x"), P[0], ox.Literal("see _:b0"), G[0])],
}


@pytest.mark.parametrize("name", list(SHAPES))
def test_labels_agree_with_pyoxigraph(name):
    assert ours(SHAPES[name]) == pyoxigraph_lines(SHAPES[name])


@pytest.mark.parametrize("seed", range(300))
def test_labels_agree_with_pyoxigraph_on_random_datasets(seed):
    quads = random_dataset(seed)
    assert ours(quads) == pyoxigraph_lines(quads)


@pytest.mark.parametrize("seed", range(300))
def test_labels_agree_with_pyoxigraph_on_blank_node_graphs(seed):
    quads = random_blank_graph(seed)
    assert ours(quads) == pyoxigraph_lines(quads)


def test_labels_do_not_depend_on_input_labels():
    quads = random_dataset(7) + ring(4)
    renamed = {}

    def rename(term):
        if isinstance(term, ox.BlankNode):
            return renamed.setdefault(term, ox.BlankNode(f"q{random.getrandbits(64):x}"))
        return term

    other = [ox.Quad(rename(q.subject), q.predicate, rename(q.object), q.graph_name) for q in quads]
    assert ours(other) == ours(list(reversed(quads)))


def test_relabel_leaves_lines_without_blank_nodes_alone():
    lines = [b'<http://example.org/_:x> <http://example.org/p> "_:b0" <http://example.org/g> .\n']
    assert relabel(lines) == lines


def test_spilled_runs_give_the_same_bytes(monkeypatch, kg):
    """Runs of 1,000 lines, merged from temporary files, against one sort in memory."""
    expected = {fmt: export(kg.source, fmt) for fmt in ("nquads", "ntriples", "trig", "turtle")}
    spills = []
    original = CanonicalQuads._spill

    def counting(self, lines):
        spills.append(len(lines))
        original(self, lines)

    monkeypatch.setattr(canonical, "RUN_LINES", 1000)
    monkeypatch.setattr(CanonicalQuads, "_spill", counting)
    for fmt, data in expected.items():
        assert export(kg.source, fmt) == data, fmt
    assert len(spills) > 4 * 3


def test_runs_are_removed(monkeypatch, tmp_path, kg):
    monkeypatch.setattr(canonical, "RUN_LINES", 1000)
    with CanonicalQuads(tmpdir=tmp_path) as cq:
        for graph, path in kg.source.graphs(shapes=True):
            cq.add_nquads(read_nquads(path, graph))
        assert list(tmp_path.iterdir())
        lines = list(cq.lines())
    assert lines == sorted(set(lines))
    assert not list(tmp_path.iterdir())


def test_void_counts_each_triple_once(tmp_path):
    """A triple stated in two data files, or in the data and the ontology, counts once."""
    data = tmp_path / "data"
    data.mkdir()
    triple = ('<https://w3id.org/untoc/id/body/x> a <https://w3id.org/untoc/ontology#Body> ;\n'
              '  <http://www.w3.org/2000/01/rdf-schema#label> "x"@en .\n')
    (data / "a.ttl").write_text(triple)
    (data / "b.ttl").write_text(triple)
    exported = export(GraphSource.default(data), "nquads").splitlines()
    assert len(exported) == len(set(exported))
    label_partition = [line for line in exported if b"rdf-schema#label>" in line
                       and b"void#property>" in line]
    assert len(label_partition) == 1
    partition = label_partition[0].split(b" ", 1)[0]
    assert any(line.startswith(partition + b" <http://rdfs.org/ns/void#triples> \"1\"")
               for line in exported)
    quads = list(ox.parse(b"\n".join(exported), ox.RdfFormat.N_QUADS))
    in_data = {(q.subject, q.predicate, q.object) for q in quads if q.graph_name.value == GRAPH_DATA}
    assert len(in_data) == 2
    lines = sorted(set(ox.serialize([q for q in quads if not q.graph_name.value.endswith("/void")],
                                    format=ox.RdfFormat.N_QUADS).splitlines(keepends=True)))
    triples, classes, props = void_counts(lines)
    assert triples == len({(q.subject, q.predicate, q.object) for q in quads
                           if not q.graph_name.value.endswith("/void")})
    assert classes == {b"<https://w3id.org/untoc/ontology#Body>": 1}
    assert sum(props.values()) == 2


@pytest.mark.parametrize("size", [1, 7, 4096, 1 << 20])
def test_line_reader_gives_back_the_bytes(size):
    lines = [b"line %d\n" % i for i in range(10_000)]
    reader = LineReader(lines, batch=333)
    out = bytearray()
    while chunk := reader.read(size):
        out += chunk
    assert bytes(out) == b"".join(lines)


def test_every_format_is_written_from_the_lines(kg):
    """The shipped graph exports in every format; N-Quads parses back to its own canonical lines."""
    data = {fmt: export(kg.source, fmt) for fmt in EXPORT_FORMATS}
    assert all(data.values())
    quads = list(ox.parse(data["nquads"], ox.RdfFormat.N_QUADS))
    assert ours(quads) == data["nquads"].splitlines(keepends=True)


def test_every_input_format_lands_in_the_data_graph(tmp_path):
    """read_nquads moves each file's triples into its graph as text; quad formats' own graphs
    are merged into it, as read_quads does. (data/ holds Turtle; entries may be any format.)"""
    data = tmp_path / "data"
    data.mkdir()
    e = "http://example.org/"
    (data / "a.ttl").write_text(f"<{e}a> <{e}p> _:x . _:x <{e}p> \"t\"@en .\n")
    (data / "b.nq").write_text(f"<{e}b> <{e}p> <{e}o> <{e}elsewhere> .\n<{e}b> <{e}p> \"d\" .\n")
    (data / "c.trig").write_text(f"<{e}g> {{ <{e}c> <{e}p> <{e}o> }}\n")
    (data / "d.rdf").write_text(
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://example.org/">'
        f'<rdf:Description rdf:about="{e}d"><e:p>x</e:p></rdf:Description></rdf:RDF>')
    (data / "e.jsonld").write_text(f'{{"@id": "{e}e", "{e}p": "y"}}')
    source = GraphSource.default(data).with_extra(sorted(data.glob("[b-e].*")))
    quads = list(ox.parse(export(source, "nquads"), ox.RdfFormat.N_QUADS))
    mine = {(q.subject.value, q.graph_name.value) for q in quads
            if q.predicate.value == e + "p" and isinstance(q.subject, ox.NamedNode)}
    assert mine == {(e + s, GRAPH_DATA) for s in "abcde"}
    assert sum(1 for q in quads if q.predicate.value == e + "p") == 7
