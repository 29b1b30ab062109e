"""The query path starts lean, and its on-disk cache follows every change of the data.

Speed itself is measured by benchmarks/run.py (docs/performance.md); these tests keep the things
that make `untoc query` fast from silently coming back: modules it must not import, and a cache
key that skips hashing unchanged files yet still notices every change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(args, cache: Path, data: Path | None = None):
    env = dict(os.environ, UNTOC_CACHE_DIR=str(cache))
    cmd = [sys.executable, "-c", "from untoc_kg.cli import main; main()"]
    if data is not None:
        cmd += ["--data", str(data)]
    return subprocess.run(cmd + args, capture_output=True, text=True, timeout=120, env=env)


def test_query_path_imports_no_heavy_modules():
    code = ("import sys; from untoc_kg.cli import main; sys.argv = ['untoc', 'query', 'wg-meetings'];\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('rdflib', 'pyshacl', 'untoc_kg.adding', 'untoc_kg.export', "
            "'xml.sax', 'difflib') if m in sys.modules), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr


def test_staging_directory_name_agrees_with_adding():
    from untoc_kg import adding, graph

    assert graph.STAGING == adding.STAGING


def test_a_data_change_rebuilds_the_cache_and_says_so(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    cache = tmp_path / "cache"
    first = _run(["query", "wg-meetings"], cache, data)
    assert first.returncode == 0 and "building the store cache" in first.stderr
    again = _run(["query", "wg-meetings"], cache, data)
    assert again.returncode == 0 and "cache" not in again.stderr
    assert again.stdout == first.stdout

    # Same size, same second: only the content differs, and the change must still be seen.
    meetings = data / "meetings.ttl"
    text = meetings.read_text(encoding="utf-8")
    changed = text.replace('"2010-10-20"^^xsd:date', '"2010-10-19"^^xsd:date', 1)
    assert changed != text and len(changed) == len(text)
    stat = meetings.stat()
    meetings.write_text(changed, encoding="utf-8")
    os.utime(meetings, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = _run(["query", "wg-meetings"], cache, data)
    assert after.returncode == 0
    assert "the graph changed: rebuilding the store cache" in after.stderr
    assert "2010-10-19" in after.stdout and "2010-10-20" not in after.stdout


def test_unchanged_files_are_not_read_again(tmp_path, monkeypatch):
    from untoc_kg import loading

    monkeypatch.setenv("UNTOC_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    time.sleep(2.1)  # a file changed in the last two seconds is hashed again each time
    source = loading.GraphSource.default(data)
    key = source.fingerprint()
    reads = []
    real = loading.read_input
    monkeypatch.setattr(loading, "read_input", lambda p: reads.append(p) or real(p))
    assert source.fingerprint() == key
    assert not [p for p in reads if Path(p).parent == data]
