"""The `untoc` command line, through click's CliRunner: every command and its error paths."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner

from untoc_kg import __version__
from untoc_kg.cli import cli

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = ROOT / "tests" / "fixtures" / "entries"
SRJ = "http://www.w3.org/2005/sparql-results#"
WG3_PLACE = ("PREFIX meeting: <https://w3id.org/untoc/id/meeting/> "
             "PREFIX schema: <https://schema.org/> "
             "SELECT ?place WHERE { meeting:wg-ic-3 schema:location ?place }")


def run(*args, data: Path | None = None):
    runner = CliRunner()
    prefix = ["--data", str(data)] if data else []
    result = runner.invoke(cli, [*prefix, *args], obj={}, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def digest(directory: Path) -> dict[str, str]:
    """Name → sha256 of every file in a directory tree (to prove nothing changed)."""
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file() and p.name != ".untoc.lock"}


@pytest.fixture
def data_copy(tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(ROOT / "data", target)
    return target


@pytest.fixture
def saved_query(tmp_path) -> Path:
    path = tmp_path / "meetings-of.rq"
    path.write_text(
        "# summary: Meetings of a body held in a year.\n"
        "# description: Test query with typed parameters.\n"
        "# param: body (iri): The body. Example: body:wg-international-cooperation\n"
        "# param: year (integer, optional): Only this year. Example: 2010\n"
        "# example: untoc query meetings-of.rq -p body body:wg-international-cooperation\n"
        "PREFIX untoc: <https://w3id.org/untoc/ontology#>\n"
        "PREFIX schema: <https://schema.org/>\n"
        "SELECT ?body ?year ?meeting WHERE {\n"
        "  ?meeting untoc:meetingOf ?body ; schema:startDate ?start .\n"
        "  FILTER(COALESCE(YEAR(?start) = ?year, ?year != ?year, true))\n"
        "} ORDER BY ?start\n", encoding="utf-8")
    return path


# --- global options ------------------------------------------------------------------------

def test_version():
    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_every_command_has_help_with_an_example():
    for name in cli.commands:
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Example" in result.output, f"'untoc {name} --help' shows no example"


def test_data_dir_must_exist(tmp_path):
    result = run("stats", data=tmp_path / "missing")
    assert result.exit_code == 2
    assert "not a directory" in result.output


# --- queries and query ---------------------------------------------------------------------

def test_queries_lists_catalogue(kg):
    result = run("queries")
    assert result.exit_code == 0
    for q in kg.catalogue:
        assert q.name in result.output
    assert len(kg.catalogue) >= 30


def test_adhoc_sparql_table_shows_labels():
    result = run("query", "--sparql", WG3_PLACE)
    assert result.exit_code == 0, result.output
    assert "place:vienna" in result.output and "Vienna" in result.output
    ru = run("query", "--sparql", WG3_PLACE, "--lang", "ru")
    assert "Вена" in ru.output


def test_saved_query_file_with_typed_parameters(saved_query):
    result = run("query", str(saved_query), "-p", "body", "body:wg-international-cooperation",
                 "-p", "year", "2010", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    # para 18: the third meeting sat on 20-21 October 2010; it is the only one that year
    assert [r["meeting"] for r in rows] == ["https://w3id.org/untoc/id/meeting/wg-ic-3"]
    every = run("query", str(saved_query), "-p", "body", "body:wg-international-cooperation",
                "--format", "csv")
    assert len(list(csv.DictReader(io.StringIO(every.stdout)))) >= 4


@pytest.mark.parametrize("args, message", [
    (["-p", "year", "2010"], "needs parameter 'body'"),
    (["-p", "body", "body:wg-international-cooperation", "-p", "year", "twenty"], "not an integer"),
    (["-p", "body", "nope:x"], "neither an absolute IRI nor a CURIE"),
    (["-p", "body", "body:wg-international-cooperation", "-p", "colour", "red"],
     "has no parameter 'colour'"),
])
def test_parameter_errors(saved_query, args, message):
    result = run("query", str(saved_query), *args)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_query_name_suggests_closest(kg):
    name = kg.catalogue.names()[0]
    result = run("query", name[:-1] + "x")
    assert result.exit_code == 2
    assert f"did you mean '{name}'" in result.output


def test_missing_query_file():
    result = run("query", "no/such/file.rq")
    assert result.exit_code == 2 and "no such query file" in result.output


def test_sparql_syntax_error_gives_line_and_column():
    result = run("query", "--sparql", "SELECT * WHERE {\n  ?s ?p \n}")
    assert result.exit_code == 2
    assert "line 3, column" in result.output


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
])
def test_queries_stay_local(text):
    result = run("query", "--sparql", text)
    assert result.exit_code == 2
    assert "not allowed" in result.output


def test_results_json_follows_w3c_structure():
    doc = json.loads(run("query", "--sparql", WG3_PLACE, "--format", "json").stdout)
    assert doc["head"]["vars"] == ["place"]
    binding = doc["results"]["bindings"][0]["place"]
    assert binding == {"type": "uri", "value": "https://w3id.org/untoc/id/place/vienna"}
    ask = json.loads(run("query", "--sparql", "ASK { ?s ?p ?o }", "--format", "json").stdout)
    assert ask == {"head": {}, "boolean": True}


def test_results_xml_follows_w3c_structure():
    out = run("query", "--sparql", 'SELECT ?l WHERE { <https://w3id.org/untoc/id/place/vienna> '
              '<http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?l',
              "--format", "xml").stdout
    root = ET.fromstring(out)
    assert root.tag == f"{{{SRJ}}}sparql"
    assert [v.get("name") for v in root.iter(f"{{{SRJ}}}variable")] == ["l"]
    langs = {lit.get("{http://www.w3.org/XML/1998/namespace}lang")
             for lit in root.iter(f"{{{SRJ}}}literal")}
    assert langs == {"en", "ru"}


def test_results_tsv_and_markdown():
    tsv = run("query", "--sparql", WG3_PLACE, "--format", "tsv").stdout.splitlines()
    assert tsv == ["?place", "<https://w3id.org/untoc/id/place/vienna>"]
    md = run("query", "--sparql", WG3_PLACE, "--format", "markdown").stdout.splitlines()
    assert md[0] == "| place |" and md[1] == "|---|" and "Vienna" in md[2]


def test_unknown_results_format():
    result = run("query", "--sparql", WG3_PLACE, "--format", "yaml")
    assert result.exit_code == 2 and "unknown results format" in result.output


def test_construct_gives_rdf():
    q = ("PREFIX schema: <https://schema.org/> CONSTRUCT { ?m schema:location ?p } "
         "WHERE { ?m schema:location ?p }")
    result = run("query", "--sparql", q)
    assert result.exit_code == 0
    g = rdflib.Graph().parse(data=result.stdout, format="turtle")
    assert len(g) >= 3
    nt = run("query", "--sparql", q, "--format", "ntriples").stdout
    assert len(rdflib.Graph().parse(data=nt, format="nt")) == len(g)
    bad = run("query", "--sparql", q, "--format", "csv")
    assert bad.exit_code == 2 and "RDF format" in bad.output


def test_output_file(tmp_path):
    target = tmp_path / "out.json"
    result = run("query", "--sparql", WG3_PLACE, "--format", "json", "-o", str(target))
    assert result.exit_code == 0
    assert json.loads(target.read_text())["results"]["bindings"]


def test_reasoning_adds_inferred_types():
    q = ("SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a <http://www.w3.org/ns/prov#Agent> }")
    plain = int(run("query", "--sparql", q, "--format", "csv").stdout.split()[1])
    inferred = int(run("query", "--sparql", q, "--format", "csv", "--reasoning").stdout.split()[1])
    # bodies are prov:Organization ⊑ prov:Agent only after OWL RL
    assert inferred > plain


# --- describe ------------------------------------------------------------------------------

def test_describe_by_curie_shows_facts_links_and_sources():
    result = run("describe", "meeting:wg-ic-3")
    assert result.exit_code == 0
    out = result.output
    assert "untoc:Meeting" in out
    assert "schema:location: place:vienna (Vienna)  [para:18]" in out
    assert "sources:" in out and "para:18" in out


def test_describe_by_russian_label():
    result = run("describe", "Вена", "--lang", "ru")
    assert result.exit_code == 0 and result.output.startswith("place:vienna")


def test_describe_unknown_and_ambiguous():
    missing = run("describe", "no such thing anywhere")
    assert missing.exit_code == 2 and "no entity" in missing.output
    vague = run("describe", "meeting")
    assert vague.exit_code == 2 and "matches" in vague.output


# --- validate ------------------------------------------------------------------------------

def test_validate_whole_graph_conforms():
    result = run("validate")
    assert result.exit_code == 0, result.output


def test_validate_valid_entry():
    result = run("validate", str(ENTRIES / "new-meeting.ttl"))
    assert result.exit_code == 0, result.output


def test_validate_invalid_entry_names_file_line_shape_and_fix():
    path = ENTRIES / "meeting-ends-before-start.ttl"
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert "meeting:wg-ic-8" in result.output
    assert f"{path}:11" in result.output  # the line where the entity starts
    assert "MeetingDatesShape" in result.output
    as_json = json.loads(run("validate", str(path), "--format", "json").stdout)
    assert as_json["conforms"] is False
    assert any(r["shape"] == "untocsh:MeetingDatesShape" and r["line"] == 11
               for r in as_json["results"])
    report = rdflib.Graph().parse(data=run("validate", str(path), "--format", "turtle").stdout,
                                  format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert (None, sh.conforms, rdflib.Literal(False)) in report


def test_validate_unreadable_input():
    malformed = run("validate", str(ENTRIES / "malformed.ttl"))
    assert malformed.exit_code == 2
    assert f"{ENTRIES / 'malformed.ttl'}:4:" in malformed.output
    assert len(malformed.output.strip().splitlines()) == 1
    missing = run("validate", "no-such-file.ttl")
    assert missing.exit_code == 2 and "no-such-file.ttl" in missing.output
    unknown = run("validate", str(ROOT / "README.md"))
    assert unknown.exit_code == 2 and "unknown RDF file type" in unknown.output


# --- add -----------------------------------------------------------------------------------

def test_add_dry_run_changes_nothing(data_copy):
    before = digest(data_copy)
    result = run("add", str(ENTRIES / "new-meeting.ttl"), "--dry-run", data=data_copy)
    assert result.exit_code == 0, result.output
    assert "meeting:wg-ic-7" in result.stdout and "--- meetings.ttl" in result.stdout
    assert digest(data_copy) == before


def test_add_merges_into_the_right_files_and_is_queryable(data_copy):
    result = run("add", str(ENTRIES / "new-meeting.ttl"), data=data_copy)
    assert result.exit_code == 0, result.output
    assert "meetings.ttl" in result.stdout and "documents.ttl" in result.stdout
    assert "meeting:wg-ic-7 a untoc:Meeting" in (data_copy / "meetings.ttl").read_text()
    found = run("query", "--sparql", "ASK { <https://w3id.org/untoc/id/meeting/wg-ic-7> ?p ?o }",
                "--format", "csv", data=data_copy)
    assert found.stdout.split()[1] == "true"
    again = run("add", str(ENTRIES / "new-meeting.ttl"), data=data_copy)
    assert again.exit_code == 0 and "nothing to add" in again.stdout


def test_add_refuses_invalid_entry_and_keeps_data(data_copy):
    before = digest(data_copy)
    result = run("add", str(ENTRIES / "meeting-ends-before-start.ttl"), data=data_copy)
    assert result.exit_code == 1
    assert "meeting:wg-ic-8" in result.output and "meeting-ends-before-start.ttl:11" in result.output
    assert digest(data_copy) == before


def test_add_refuses_conflict_and_keeps_data(data_copy):
    before = digest(data_copy)
    result = run("add", str(ENTRIES / "conflicting-start-date.ttl"), data=data_copy)
    assert result.exit_code == 1
    assert "meeting:wg-ic-3 already has schema:startDate" in result.output
    assert digest(data_copy) == before


def test_add_malformed_file(data_copy):
    before = digest(data_copy)
    result = run("add", str(ENTRIES / "malformed.ttl"), data=data_copy)
    assert result.exit_code == 2
    assert digest(data_copy) == before


def test_add_failure_mid_write_leaves_data_identical(data_copy, monkeypatch):
    import untoc_kg.adding as adding

    before = digest(data_copy)
    calls = {"n": 0}
    real_fsync = adding.os.fsync

    def failing_fsync(fd):
        calls["n"] += 1
        if calls["n"] == 2:  # after the first staged file, before the commit marker
            raise OSError(28, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(adding.os, "fsync", failing_fsync)
    result = run("add", str(ENTRIES / "new-meeting.ttl"), data=data_copy)
    assert result.exit_code == 1
    assert "No space left on device" in result.output and "nothing was changed" in result.output
    assert digest(data_copy) == before


def test_add_crash_after_commit_is_completed_by_next_reader(data_copy, monkeypatch):
    import untoc_kg.adding as adding

    expected_dir = data_copy.parent / "expected"
    shutil.copytree(data_copy, expected_dir)
    assert run("add", str(ENTRIES / "new-meeting.ttl"), data=expected_dir).exit_code == 0

    real_replace = adding.os.replace
    state = {"n": 0}

    def crash_after_first_rename(src, dst):
        real_replace(src, dst)
        if str(src).endswith(".ttl"):
            state["n"] += 1
            raise KeyboardInterrupt  # the process dies between two renames

    monkeypatch.setattr(adding.os, "replace", crash_after_first_rename)
    with pytest.raises(KeyboardInterrupt):
        adding.add(adding.GraphSource.default(data_copy), [ENTRIES / "new-meeting.ttl"])
    monkeypatch.setattr(adding.os, "replace", real_replace)
    assert state["n"] == 1
    assert digest(data_copy) != digest(expected_dir)  # half-renamed on disk...
    run("stats", data=data_copy)  # ...until the next command finishes the committed change
    assert digest(data_copy) == digest(expected_dir)


def test_concurrent_adds_both_land(data_copy, tmp_path):
    template = (ENTRIES / "new-meeting.ttl").read_text()
    files = []
    for n in (7, 9):
        text = template.replace("wg-ic-7", f"wg-ic-{n}").replace('"7"^^', f'"{n}"^^')
        text = text.replace("2016-10-1", f"20{10 + n}-10-1").replace("test-wg-ic-7", f"test-wg-ic-{n}")
        text = text.replace("2016/9", f"2016/{n}")
        path = tmp_path / f"entry-{n}.ttl"
        path.write_text(text)
        files.append(path)
    procs = [subprocess.Popen([sys.executable, "-c", "from untoc_kg.cli import main; main()",
                               "--data", str(data_copy), "add", str(f)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for f in files]
    outcomes = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    assert [rc for _, _, rc in outcomes] == [0, 0], outcomes
    text = (data_copy / "meetings.ttl").read_text()
    assert "meeting:wg-ic-7 a untoc:Meeting" in text and "meeting:wg-ic-9 a untoc:Meeting" in text


def test_add_to_read_only_data_dir(data_copy, monkeypatch):
    import untoc_kg.adding as adding

    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if self.name == adding.STAGING:
            raise OSError(30, "Read-only file system")
        return real_mkdir(self, *args, **kwargs)

    before = digest(data_copy)
    monkeypatch.setattr(Path, "mkdir", read_only)
    result = run("add", str(ENTRIES / "new-meeting.ttl"), data=data_copy)
    assert result.exit_code == 1
    assert "Read-only file system" in result.output and "nothing was changed" in result.output
    assert digest(data_copy) == before


# --- export and stats ----------------------------------------------------------------------

def test_stats():
    result = run("stats")
    assert result.exit_code == 0
    assert "untoc:Meeting" in result.output
    assert "entities without an rdfs:label@ru: 0" in result.output
    assert "entities without an rdfs:label@en: 0" in result.output


def test_export_unknown_format():
    result = run("export", "--format", "yaml")
    assert result.exit_code == 2


def test_export_file_is_the_stdout_bytes_with_ordinary_permissions(tmp_path):
    """The file is created as any program's would be (umask), not private like a temp file; an
    existing file keeps its mode when replaced."""
    target = tmp_path / "g.nq"
    old = os.umask(0o022)
    try:
        result = run("export", "-f", "nquads", "-o", str(target))
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.read_bytes() == run("export", "-f", "nquads").stdout_bytes
    target.chmod(0o600)
    assert run("export", "-f", "nquads", "-o", str(target)).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["g.nq"]


def test_export_disk_full_keeps_the_old_file(tmp_path, monkeypatch):
    """A write that fails part way (here: the disk fills after the first lines) is one line, exit
    2, and leaves the file as it was, with no temporary file beside it."""
    import errno

    from untoc_kg import export

    target = tmp_path / "g.nq"
    target.write_bytes(b"old export\n")
    real = export._write_lines

    def filling(lines, fmt, out, context):
        real(lines, fmt, out, context)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "_write_lines", filling)
    result = run("export", "-f", "nquads", "-o", str(target))
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: {target}: No space left on device"
    assert target.read_bytes() == b"old export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["g.nq"]


@pytest.mark.parametrize("error, message", [
    (MemoryError(), "Error: out of memory"),
    (SystemError("error return without exception set"),
     "Error: the engine failed (error return without exception set), as it does when memory runs "
     "out"),
])
def test_export_out_of_memory_is_one_line_and_keeps_the_old_file(tmp_path, monkeypatch, error,
                                                                  message):
    """Found with a JSON-LD export of 1M triples under a 1.5 GiB address-space limit: a
    traceback. Running out of memory shows as either exception (which one varies)."""
    from untoc_kg import export

    target = tmp_path / "g.jsonld"
    target.write_bytes(b"old export\n")

    def exhausted(lines, fmt, out, context):
        out.write(b"{")
        raise error

    monkeypatch.setattr(export, "_write_lines", exhausted)
    result = run("export", "-f", "jsonld", "-o", str(target))
    assert result.exit_code == 1
    assert result.output.strip() == message
    assert target.read_bytes() == b"old export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["g.jsonld"]


def test_export_failure_keeps_the_old_file_and_leaves_nothing_behind(tmp_path, data_copy):
    target = tmp_path / "out" / "g.ttl"
    target.parent.mkdir()
    target.write_bytes(b"old export\n")
    (data_copy / "broken.ttl").write_text("<http://example.org/a> <http://example.org/b> .\n")
    result = run("export", "-o", str(target), data=data_copy)
    assert result.exit_code != 0
    assert "broken.ttl" in result.output and len(result.output.strip().splitlines()) == 1
    assert target.read_bytes() == b"old export\n"
    assert [p.name for p in target.parent.iterdir()] == ["g.ttl"]


def test_data_files_are_in_canonical_layout():
    """The shipped data is written the way 'untoc add' writes it, so additions give small diffs."""
    result = run("fmt", "--check")
    assert result.exit_code == 0, result.output


def test_fmt_rewrites_a_scrambled_file(tmp_path):
    path = tmp_path / "x.ttl"
    path.write_text("# kept\n@prefix ex: <http://example.org/> .\nex:b ex:p ex:c . ex:a ex:p ex:c .\n")
    check = run("fmt", "--check", str(path))
    assert check.exit_code == 1 and "not in the canonical layout" in check.output
    assert run("fmt", str(path)).exit_code == 0
    text = path.read_text()
    assert text.startswith("# kept\n") and text.index("example.org/a") < text.index("example.org/b")
    assert run("fmt", "--check", str(path)).exit_code == 0


@pytest.mark.parametrize("args, code", [
    (["export", "--format", "yaml"], 2),
    (["frobnicate"], 2),
    (["query", "nosuch"], 2),
    (["query", "wg-meetings", "-p", "body"], 2),
    (["validate", str(ENTRIES / "malformed.ttl")], 2),
    (["describe", "no such thing anywhere"], 2),
])
def test_installed_command_errors_are_one_line(args, code):
    """Through the real entry point (not CliRunner): one line on stderr, the exit code, no traceback."""
    proc = subprocess.run([sys.executable, "-c", "from untoc_kg.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == code
    assert proc.stdout == ""
    lines = [line for line in proc.stderr.strip().splitlines() if not line.endswith(" cache")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr


def test_turtle_writer_is_deterministic_with_shared_blank_nodes():
    import random

    import pyoxigraph as ox

    from untoc_kg.turtle import write_turtle

    text = ('@prefix ex: <http://example.org/> .\n'
            'ex:a ex:p _:x , _:y . ex:b ex:p _:x , _:y . _:x ex:v 1 . _:y ex:v 2 . '
            '[] ex:q "loose" .\n')
    triples = list(ox.parse(text, ox.RdfFormat.TURTLE))
    outputs = set()
    for seed in range(5):
        shuffled = list(ox.parse(text, ox.RdfFormat.TURTLE, rename_blank_nodes=True))
        random.Random(seed).shuffle(shuffled)
        outputs.add(write_turtle(shuffled))
    assert len(outputs) == 1
    back = list(ox.parse(outputs.pop(), ox.RdfFormat.TURTLE))
    assert len(back) == len(triples)
