"""Smoke tests of the benchmark tools (benchmarks/): they run, and the generated data is valid.

No timing is asserted: timings belong in docs/performance.md, measured on purpose.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox

from untoc_kg.loading import GraphSource
from untoc_kg.validation import validate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import generate  # noqa: E402

SHIPPED_SUBJECTS = {
    q.subject.value
    for path in sorted((ROOT / "data").glob("*.ttl"))
    for q in ox.parse(path=str(path))
    if isinstance(q.subject, ox.NamedNode)
}


def test_generated_data_parses_conforms_and_stays_apart(tmp_path):
    data = tmp_path / "data"
    manifest = generate.generate(generate.parse_size("2k"), data, seed=1)
    assert manifest["families"] >= 1 and manifest["generated_triples"] > 0

    generated = sorted(data.glob("gen-*.ttl"))
    assert generated
    triples = [q for path in generated for q in ox.parse(path=str(path))]
    assert len(triples) == manifest["generated_triples"]

    subjects = {q.subject.value for q in triples if isinstance(q.subject, ox.NamedNode)}
    assert subjects and not subjects & SHIPPED_SUBJECTS
    for iri in subjects:
        assert iri.startswith("https://w3id.org/untoc/id/"), iri
        assert iri.rsplit("/", 1)[1].startswith("gen-"), iri

    report = validate(GraphSource.default(data))
    assert report.conforms, report.to_text()
    assert not [i for i in report.issues if "gen-" in i.focus], report.to_text()


def test_generator_is_deterministic(tmp_path):
    generate.generate(2000, tmp_path / "a", seed=7)
    generate.generate(2000, tmp_path / "b", seed=7)
    for path in sorted((tmp_path / "a").glob("gen-*.ttl")):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()


def test_runner_smoke_prints_the_table(tmp_path):
    env = dict(os.environ, UNTOC_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--workdir", str(tmp_path / "w"),
         "--out", str(tmp_path / "table.md")],
        capture_output=True, text=True, timeout=240, env=env, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    header = "| operation | size | engine | runs | median | peak RSS | ratio | note |"
    assert header in proc.stdout
    assert header in (tmp_path / "table.md").read_text()
    assert "query wg-meetings" in proc.stdout
    # the load rows the speed goal compares with pyoxigraph's bare parse
    for row in ("load into memory: Store.bulk_load, no checks", "load into memory: open_store(cache=False)",
                "load: open_store, cold"):
        assert row in proc.stdout and "vs pyoxigraph parse (no store)" in proc.stdout, row
    # each query on both stores of ours, and the count the 20x goal is read from
    for engine in ("pyoxigraph (ours)", "pyoxigraph in memory (ours)"):
        assert any(line.startswith("| query wg-meetings |") and f"| {engine} |" in line
                   for line in proc.stdout.splitlines()), engine
    assert proc.stdout.count("faster than rdflib:") == 2
    # the local SPARQL endpoint: the runner started a server on 127.0.0.1 and stopped it
    for name in ("meeting-report", "wg-meetings", "mandate-actions"):
        assert f"| served: GET /queries/{name} |" in proc.stdout, name
    # entries: validated, then added one after another to a copy (the runner stops if one fails)
    for row in ("validate one new entry: validation work", "add one new entry, dry run",
                "add one new entry (untoc add FILE), one after another",
                "first query after a change: store built from the files"):
        assert f"| {row}" in proc.stdout, row
    # the queries after each add found their stores carried forward (the runner checks what
    # they said)
    for row in ("first query after an add: store carried forward",
                "first query with reasoning after an add: closure carried forward"):
        assert any(line.startswith(f"| {row} |") and "vs untoc" in line
                   for line in proc.stdout.splitlines()), row
    # the export in each default format, against rdflib writing the same files as N-Quads
    for fmt in ("nquads", "ntriples", "trig", "turtle"):
        assert any(line.startswith(f"| untoc export -f {fmt} -o FILE |")
                   and "vs rdflib" in line for line in proc.stdout.splitlines()), fmt
    assert "| export N-Quads: parse and serialize, streaming |" in proc.stdout
