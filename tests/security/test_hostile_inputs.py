"""Hostile and odd input files through the real entry point: refused with one line, never a hang.

Each file is generated here, then given to ``untoc validate FILE`` (and some to ``untoc add FILE``
and ``--data DIR``) in a subprocess. The subprocess timeout is a hang guard, not a speed figure:
the billion-laughs file takes rdflib 16 s, a 100,000-deep RDF/XML file takes pyoxigraph minutes,
and a deep JSON-LD file crashes it; refused before parsing, each is answered at once.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_SCRIPT = Path(sys.executable).with_name("untoc")
UNTOC = [str(_SCRIPT)] if _SCRIPT.is_file() else [
    sys.executable, "-c", "from untoc_kg.cli import main; main()"]
GUARD = 5.0  # seconds; every entry case below is answered in well under 2 s on an idle machine
DATA_GUARD = 30.0  # --data DIR cases read the shipped data too (and build the query cache)
DEEP = 100_000

EX = "@prefix ex: <http://example.org/> .\n"
RDF_XML_HEAD = ('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
                'syntax-ns#" xmlns:ex="http://example.org/">\n')

BOMB = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
<!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
<!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
<rdf:Description rdf:about="http://example.org/s"><ex:p>&i;</ex:p></rdf:Description>
</rdf:RDF>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
<rdf:Description rdf:about="http://example.org/s"><ex:p>&x;</ex:p></rdf:Description>
</rdf:RDF>
"""


def _deep_rdfxml(n: int) -> str:
    return (RDF_XML_HEAD + '<rdf:Description rdf:about="http://example.org/s">'
            + "<ex:p><rdf:Description>" * n + "<ex:p>x</ex:p>" + "</rdf:Description></ex:p>" * n
            + "</rdf:Description></rdf:RDF>\n")


def _jsonld(inner: str) -> str:
    return '{"@id": "http://example.org/s", "http://example.org/p": ' + inner + "}"


# name -> (file name, content, what the one-line error must mention)
REFUSED: dict[str, tuple[str, str | bytes, str]] = {
    "entity-bomb": ("bomb.rdf", BOMB, "DOCTYPE"),
    "entity-bomb-owl": ("bomb.owl", BOMB, "DOCTYPE"),
    "external-entity": ("xxe.rdf", XXE, "DOCTYPE"),
    "external-entity-xml": ("xxe.xml", XXE, "DOCTYPE"),
    "parameter-entity": ("pe.rdf", '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM '
                         '"http://127.0.0.1:9/x.dtd"> %p;]>\n' + RDF_XML_HEAD + "</rdf:RDF>\n",
                         "DOCTYPE"),
    "bare-doctype": ("doctype.rdf", '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF>\n' + RDF_XML_HEAD
                     + "</rdf:RDF>\n", "DOCTYPE"),
    "deep-rdfxml": ("deep.rdf", _deep_rdfxml(DEEP), "nested"),
    "deep-turtle-property-lists": ("deep.ttl", EX + "ex:s ex:p " + "[ ex:p " * DEEP + "1"
                                   + " ]" * DEEP + " .\n", "nested"),
    "deep-turtle-collections": ("deepc.ttl", EX + "ex:s ex:p " + "( " * DEEP + "1" + " )" * DEEP
                                + " .\n", "nested"),
    "deep-trig": ("deep.trig", EX + "ex:g { ex:s ex:p " + "[ ex:p " * DEEP + "1" + " ]" * DEEP
                  + " . }\n", "nested"),
    "deep-jsonld-objects": ("deep.jsonld", _jsonld('{"http://example.org/p": ' * DEEP + '"x"'
                                                   + "}" * DEEP), "nested"),
    "deep-jsonld-arrays": ("deepa.jsonld", _jsonld("[" * DEEP + '"x"' + "]" * DEEP), "nested"),
    "deep-jsonld-lists": ("deepl.jsonld", _jsonld('{"@list": [' * 5000 + '"x"' + "]}" * 5000),
                          "nested"),
    # 6,000 levels crash pyoxigraph's JSON-LD parser (the process dies); 3,000 take it 4 s
    "jsonld-6000-deep": ("d6000.jsonld", _jsonld('{"http://example.org/p": ' * 6000 + '"x"'
                                                 + "}" * 6000), "nested"),
    "blank-node-chain": ("chain.nt", "".join(f"_:b{i} <http://example.org/p> _:b{i + 1} .\n"
                                             for i in range(2000)), "nested"),
    "long-list": ("list.ttl", EX + "ex:s ex:p (" + " ".join(map(str, range(400))) + ") .\n",
                  "nested"),
    "remote-context-url": ("remote.jsonld", '{"@context": "http://127.0.0.1:9/context.jsonld", '
                           '"@id": "http://example.org/s", "name": "x"}', "never fetched"),
    "remote-context-file": ("file.jsonld", '{"@context": "file:///etc/passwd", '
                            '"@id": "http://example.org/s", "name": "x"}', "never fetched"),
    "remote-context-relative": ("rel.jsonld", '{"@context": "ctx.jsonld", '
                                '"@id": "http://example.org/s", "name": "x"}', "never fetched"),
    "remote-context-in-array": ("arr.jsonld", '{"@context": [{"a": "http://example.org/a"}, '
                                '"https://schema.org/"], "@id": "http://example.org/s"}',
                                "never fetched"),
    "context-import": ("imp.jsonld", '{"@context": {"@version": 1.1, "@import": '
                       '"http://127.0.0.1:9/c.jsonld"}, "@id": "http://example.org/s"}',
                       "never fetched"),
    "nul-outside-literal": ("nul.ttl", EX + "ex:s\x00 ex:p 1 .\n", "\\x00"),
    "nul-in-ntriples-iri": ("nul.nt", "<http://example.org/s\x00> <http://example.org/p> 1 .\n",
                            "nul.nt"),
    "invalid-utf8-turtle": ("bad.ttl", EX.encode() + b'ex:s ex:p "\xff\xfe" .\n', "UTF-8"),
    "invalid-utf8-ntriples": ("bad.nt", b'<http://example.org/s> <http://example.org/p> "\xc3\x28" .\n',
                              "UTF-8"),
    "invalid-utf8-nquads": ("bad.nq", b'<http://example.org/s> <http://example.org/p> "\xed\xa0\x80" .\n',
                            "UTF-8"),
    "invalid-utf8-trig": ("bad.trig", EX.encode() + b'{ ex:s ex:p "\x80" . }\n', "UTF-8"),
    "invalid-utf8-rdfxml": ("bad.rdf", RDF_XML_HEAD.encode() + b'<rdf:Description rdf:about='
                            b'"http://example.org/s"><ex:p>\xff</ex:p></rdf:Description></rdf:RDF>\n',
                            "bad.rdf"),
    "invalid-utf8-jsonld": ("bad.jsonld", b'{"@id": "http://example.org/s", "http://example.org/p": '
                            b'"\xff"}', "bad.jsonld"),
    "binary-garbage": ("garbage.ttl", bytes(range(256)) * 64, "garbage.ttl"),
    "triple-term": ("star.ttl", EX + "ex:s ex:p <<( ex:a ex:b ex:c )>> .\n", "triple terms"),
    "reifier-annotation": ("annot.ttl", EX + 'ex:s ex:p "x" {| ex:q 1 |} .\n', "triple terms"),
    "directional-literal": ("dir.ttl", EX + 'ex:s ex:p "x"@en--ltr .\n', "direction"),
    "unknown-suffix": ("entry.txt", EX + "ex:s ex:p 1 .\n", "unknown RDF file type"),
    "utf16-turtle": ("u16.ttl", (EX + "ex:s ex:p 1 .\n").encode("utf-16"), "u16.ttl"),
    "unterminated-long-string": ("long.ttl", EX + 'ex:s ex:p """' + "x" * 100_000, "long.ttl"),
}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    out = {k: v for k, v in os.environ.items() if not k.startswith("UNTOC_")}
    out["UNTOC_CACHE_DIR"] = str(cache)
    return out


def run(args, env, cwd, extra_env=None, guard=GUARD):
    e = dict(env, **(extra_env or {}))
    return subprocess.run([*UNTOC, *map(str, args)], capture_output=True, text=True,
                          errors="replace", timeout=guard, env=e, cwd=cwd)


def assert_refused(proc, name: str, mention: str | None = None) -> str:
    """Exit 2, one line on stderr naming the file, nothing on stdout, no traceback.

    Only the note that the query cache is being built may come before the error line.
    """
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-2000:]
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-500:])
    lines = [line for line in proc.stderr.strip().splitlines()
             if not re.fullmatch(r"(building|the graph changed: rebuilding) the \w+ cache", line)]
    assert len(lines) == 1, proc.stderr[-2000:]
    assert name in lines[0], lines[0]
    if mention:
        assert mention in lines[0], lines[0]
    assert proc.stdout == ""
    return lines[0]


def write(directory: Path, name: str, content) -> Path:
    path = directory / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_validate_refuses(case, tmp_path, env):
    name, content, mention = REFUSED[case]
    write(tmp_path, name, content)
    if case == "remote-context-relative":
        write(tmp_path, "ctx.jsonld", '{"@context": {"name": "http://example.org/name"}}')
    assert_refused(run(["validate", name], env, tmp_path), name, mention)


@pytest.mark.parametrize("case", ["entity-bomb", "external-entity", "deep-rdfxml",
                                  "deep-turtle-property-lists", "deep-jsonld-objects",
                                  "jsonld-6000-deep", "blank-node-chain", "long-list",
                                  "remote-context-url", "invalid-utf8-turtle", "triple-term",
                                  "directional-literal"])
def test_add_refuses_and_leaves_data_unchanged(case, tmp_path, env):
    data = tmp_path / "data"
    data.mkdir()
    for f in (ROOT / "data").glob("*.ttl"):
        (data / f.name).write_bytes(f.read_bytes())
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data.iterdir()}
    name, content, mention = REFUSED[case]
    write(tmp_path, name, content)
    for extra in ([], ["--dry-run"]):
        assert_refused(run(["--data", data, "add", *extra, name], env, tmp_path), name, mention)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in data.iterdir() if p.name != ".untoc.lock"}
    assert after == before


def test_list_of_400_items_was_a_traceback_in_add(tmp_path, env):
    # Regression: the recursive Turtle writer raised RecursionError for a 400-item list in an
    # otherwise valid entry ('untoc add --dry-run' printed a traceback).
    write(tmp_path, "entry.ttl", "@prefix meeting: <https://w3id.org/untoc/id/meeting/> .\n"
          "meeting:wg-ic-3 <http://example.org/note> (" + " ".join(map(str, range(400))) + ") .\n")
    assert_refused(run(["add", "--dry-run", "entry.ttl"], env, tmp_path), "entry.ttl", "nested")


def test_nesting_within_the_limit_is_accepted(tmp_path, env):
    from untoc_kg.loading import MAX_NESTING

    n = MAX_NESTING - 1
    write(tmp_path, "ok.ttl", EX + "ex:s ex:p " + "[ ex:p " * n + "1" + " ]" * n
          + " .\nex:s ex:q (" + " ".join(map(str, range(n))) + ") .\n")
    write(tmp_path, "ok.jsonld", _jsonld('{"http://example.org/p": ' * n + '"x"' + "}" * n))
    write(tmp_path, "ok.rdf", _deep_rdfxml(n))
    for name in ("ok.ttl", "ok.jsonld", "ok.rdf"):
        proc = subprocess.run([*UNTOC, "validate", name], capture_output=True, text=True,
                              timeout=120, env=env, cwd=tmp_path)
        assert "Traceback" not in proc.stderr
        assert proc.returncode in (0, 1), (name, proc.stderr)


def test_size_limit(tmp_path, env):
    write(tmp_path, "big.nt", "".join(f"<http://example.org/s{i}> <http://example.org/p> {i} .\n"
                                      for i in range(30_000)))
    assert os.path.getsize(tmp_path / "big.nt") > 1_000_000
    line = assert_refused(run(["validate", "big.nt"], env, tmp_path,
                              {"UNTOC_MAX_INPUT_BYTES": "1000000"}), "big.nt", "1,000,000-byte")
    assert "UNTOC_MAX_INPUT_BYTES" in line
    # The default limit (256 MiB), with a sparse file: refused from its size, never read.
    with open(tmp_path / "huge.ttl", "wb") as fh:
        fh.truncate(256 * 1024 * 1024 + 1)
    assert_refused(run(["validate", "huge.ttl"], env, tmp_path), "huge.ttl", "268,435,456-byte")
    assert_refused(run(["validate", "big.nt"], env, tmp_path, {"UNTOC_MAX_INPUT_BYTES": "lots"}),
                   "UNTOC_MAX_INPUT_BYTES")


def test_large_literal_is_read_quickly(tmp_path, env):
    # rdflib's N-Triples parser takes 65 s over a 4 MB literal; rdflib never parses files here.
    write(tmp_path, "lit.nt", '<http://example.org/s> <http://example.org/p> "' + "a" * (4 << 20)
          + '" .\n')
    from untoc_kg.loading import read_rdflib

    graph = read_rdflib([tmp_path / "lit.nt"])
    assert len(next(iter(graph.objects()))) == 4 << 20


def test_not_regular_files(tmp_path, env):
    os.mkfifo(tmp_path / "fifo.ttl")  # opening it for reading would wait for a writer
    assert_refused(run(["validate", "fifo.ttl"], env, tmp_path), "fifo.ttl", "not a regular file")
    (tmp_path / "zero.ttl").symlink_to("/dev/zero")
    assert_refused(run(["validate", "zero.ttl"], env, tmp_path), "zero.ttl", "not a regular file")
    assert_refused(run(["validate", "missing.ttl"], env, tmp_path), "missing.ttl")


def test_odd_file_names_stay_on_one_line(tmp_path, env):
    name = "two\nlines.ttl"
    write(tmp_path, name, EX + "ex:s ex:p [ .\n")
    proc = run(["validate", name], env, tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_ill_typed_literal_prints_no_traceback(tmp_path, env):
    # rdflib logs every ill-typed literal with a traceback; it reached stderr before.
    write(tmp_path, "ill.ttl", EX + '@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n'
          'ex:s ex:p "flargh"^^xsd:integer , "2012-13-45"^^xsd:date .\n')
    proc = subprocess.run([*UNTOC, "validate", "ill.ttl"], capture_output=True, text=True,
                          timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode in (0, 1)
    assert "Traceback" not in proc.stderr and "Failed to convert" not in proc.stderr


def test_odd_but_valid_input_is_handled(tmp_path, env):
    write(tmp_path, "empty.ttl", "")
    write(tmp_path, "nul-in-literal.ttl", EX + 'ex:s ex:p "a\x00b" .\n')
    write(tmp_path, "bom.ttl", "\ufeff" + EX + "ex:s ex:p 1 .\n")
    for name in ("empty.ttl", "nul-in-literal.ttl", "bom.ttl"):
        proc = subprocess.run([*UNTOC, "validate", name], capture_output=True, text=True,
                              timeout=120, env=env, cwd=tmp_path)
        assert "Traceback" not in proc.stderr
        assert proc.returncode in (0, 1, 2), (name, proc.stderr)
        if proc.returncode == 2:
            assert len(proc.stderr.strip().splitlines()) == 1 and name in proc.stderr


@pytest.mark.parametrize("case", ["deep-turtle-property-lists", "long-list", "invalid-utf8-turtle",
                                  "nul-outside-literal", "triple-term"])
def test_hostile_data_directory(case, tmp_path, env):
    # --data DIR reads DIR/*.ttl: the same checks apply to them as to entries.
    data = tmp_path / "data"
    data.mkdir()
    for f in (ROOT / "data").glob("*.ttl"):
        (data / f.name).write_bytes(f.read_bytes())
    name, content, mention = REFUSED[case]
    write(data, "zz-hostile.ttl", content)
    for args in (["validate"], ["query", "wg-meetings"], ["stats"]):
        assert_refused(run(["--data", data, *args], env, tmp_path, guard=DATA_GUARD),
                       "zz-hostile.ttl", mention)


def test_check_only_pass_counts_what_reading_returns():
    from untoc_kg.loading import GraphSource, check_quads, read_quads

    source = GraphSource.default()
    for path in [source.ontology_file, source.shapes_file, *source.data_files]:
        assert check_quads(path) == len(read_quads(path)) > 0, path


@pytest.mark.parametrize("how", ["check_quads", "fill_store in memory", "fill_store on disk"])
@pytest.mark.parametrize("case", sorted(REFUSED))
def test_checking_without_reading_refuses_as_reading_does(case, how, tmp_path):
    """``check_quads`` checks without keeping quads, and ``fill_store`` (the stores are built with
    it) lets the store parse the checked bytes itself, in memory or on disk: a hostile file must
    still get ``read_quads``'s very error."""
    import pyoxigraph as ox

    from untoc_kg.errors import InputError
    from untoc_kg.loading import GRAPH_DATA, check_quads, fill_store, read_quads

    name, content, _ = REFUSED[case]
    path = write(tmp_path, name, content)
    with pytest.raises(InputError) as reading:
        read_quads(path)
    with pytest.raises(InputError) as checking:
        if how == "check_quads":
            check_quads(path)
        else:
            on_disk = how.endswith("on disk")
            store = ox.Store(str(tmp_path / "store")) if on_disk else ox.Store()
            fill_store(store, [(GRAPH_DATA, path)], bulk=on_disk)
    assert str(checking.value) == str(reading.value)


@pytest.mark.parametrize("cache", [False, True], ids=["in-memory", "on-disk cache"])
def test_a_refused_file_leaves_no_store(cache, tmp_path, monkeypatch):
    """The store loads each file while its checks run: when they refuse one, what was loaded is
    dropped, so no cached store (or half-built one) is left to be reopened."""
    from untoc_kg.errors import InputError
    from untoc_kg.loading import GraphSource, open_store

    monkeypatch.setenv("UNTOC_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    # large enough that its load is still running when the small hostile file's check fails
    (data / "aa-big.ttl").write_text(EX + "".join(f"ex:s{i} ex:p {i} .\n" for i in range(50_000)))
    name, content, mention = REFUSED["triple-term"]
    write(data, name, content)
    with pytest.raises(InputError, match=mention):
        open_store(GraphSource(ROOT, data), cache=cache)
    # (the cache may hold the files' digests, which say nothing of their content's validity)
    assert not [p.name for p in (tmp_path / "cache").glob("*store-*")]


@pytest.mark.parametrize("bulk", [False, True], ids=["in-memory", "on-disk"])
def test_store_filling_holds_what_reading_returns(bulk, tmp_path):
    """Each format, parsed by the store itself or added as checked quads, ends up in its graph
    as the quads read_quads reads do when added to a store (which stores e.g. positiveInteger
    values as integers); blank nodes compared by isomorphism: each load relabels them."""
    import pyoxigraph as ox
    from rdflib import Graph
    from rdflib.compare import isomorphic

    from untoc_kg.loading import GraphSource, fill_store, read_quads
    from untoc_kg.querying import to_rdflib

    source = GraphSource.default()
    # one shipped file with many blank nodes (rdflib's isomorphism test is slow on the whole data)
    quads = read_quads(next(p for p in source.data_files if p.name == "instruments.ttl"))
    assert any(isinstance(q.subject, ox.BlankNode) for q in quads)  # the relabelling is exercised
    files = []
    for suffix, fmt in ((".ttl", ox.RdfFormat.TURTLE), (".nt", ox.RdfFormat.N_TRIPLES),
                        (".nq", ox.RdfFormat.N_QUADS), (".rdf", ox.RdfFormat.RDF_XML),
                        (".jsonld", ox.RdfFormat.JSON_LD)):
        path = tmp_path / f"data{suffix}"
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
        path.write_bytes(ox.serialize(triples, format=fmt) if not fmt.supports_datasets else
                         ox.serialize([ox.Quad(*t, ox.NamedNode("http://example.org/g"))
                                       for t in triples], format=fmt))
        files.append((f"http://example.org/graph/{suffix[1:]}", path))
    store = ox.Store(str(tmp_path / "store")) if bulk else ox.Store()
    assert fill_store(store, files, bulk=bulk) == len(quads) * len(files)

    def rdflib_graph(triples):
        g = Graph()
        for s, p, o in triples:
            g.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
        return g

    for graph, path in files:
        held = rdflib_graph((q.subject, q.predicate, q.object)
                            for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        reference = ox.Store()
        reference.extend(read_quads(path))
        read = rdflib_graph((q.subject, q.predicate, q.object) for q in reference)
        assert len(held) == len(read) == len(quads) and isomorphic(held, read), path
