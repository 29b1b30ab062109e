"""Query text that would crash the engine is refused, or run where it cannot crash.

pyoxigraph parses and evaluates recursively on the calling thread's stack; on the 8 MiB main
thread a 300-deep collection or a 12,000-term sum ends the process with a segmentation fault (no
message, no cleanup). untoc caps the text, bounds nesting, and runs queries on a thread with a
large stack: these tests show each part doing its job, through the command line and the server.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))
from test_serve import fetch  # noqa: E402

from untoc_kg.querying import MAX_NESTING, MAX_QUERY_CHARS  # noqa: E402
from untoc_kg.serving import Service  # noqa: E402

UNTOC = [sys.executable, "-c", "from untoc_kg.cli import main; main()"]

# Under every limit, and fatal to pyoxigraph on an ordinary main-thread stack.
LONG_SUM = "SELECT DISTINCT ?o WHERE { ?s untoc:ordinal ?o FILTER(?o" + " + 0" * 12000 + " = 3) }"
DEEP = {
    "collection": "SELECT * WHERE { ?s ?p " + "( " * (MAX_NESTING + 1) + "?o" + " )" * (MAX_NESTING + 1) + " }",
    "groups": "SELECT * WHERE " + "{ " * 5000 + "?s ?p ?o" + " }" * 5000,
    "negations": "SELECT * WHERE { ?s ?p ?o FILTER(" + "!" * 30000 + "true) }",
    "hidden in a string reading": "SELECT * WHERE { ?s ?p ?o FILTER(?o != '}') " + "{ " * 2000 + "}" * 2000 + " }",
}


def untoc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*UNTOC, *args], capture_output=True, text=True, timeout=120)


def test_the_engine_itself_crashes_on_the_long_sum():
    """The danger is real: the same query on pyoxigraph's main thread kills the process."""
    code = ("import pyoxigraph as ox; s = ox.Store(); "
            f"list(s.query({LONG_SUM.replace('untoc:ordinal', '<urn:p>')!r}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert proc.returncode < 0  # killed by a signal (SIGSEGV), not an exception


def test_long_sum_runs_on_the_deep_stack():
    proc = untoc("query", "--sparql", LONG_SUM, "-f", "csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1:] == ["3"]


@pytest.mark.parametrize("name", list(DEEP))
def test_deep_nesting_is_refused_with_one_line(name):
    proc = untoc("query", "--sparql", DEEP[name])
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("Error: the query has ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_overlong_text_is_refused(tmp_path):
    path = tmp_path / "long.rq"  # a file: the text is longer than a command line may be
    path.write_text("SELECT * WHERE { VALUES ?x { " + "1 " * MAX_QUERY_CHARS + "} }")
    proc = untoc("query", str(path))
    assert proc.returncode == 2
    assert "characters long; at most" in proc.stderr and proc.stderr.count("\n") == 1


def test_nesting_under_the_limit_still_runs():
    text = "SELECT (COUNT(*) AS ?n) WHERE " + "{ " * 200 + "?s a untoc:Meeting" + " }" * 200
    proc = untoc("query", "--sparql", text, "-f", "csv")
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.splitlines()[1]) > 0


@pytest.fixture(scope="module")
def served(_isolated_cache, run_server):
    with run_server(Service(timeout=60.0)) as url:
        yield url


def test_server_refuses_deep_queries_and_survives_long_ones(served):
    body = urllib.parse.urlencode({"query": DEEP["collection"]}).encode()
    status, _, text = fetch(served + "/sparql", data=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and "brackets" in text
    body = urllib.parse.urlencode({"query": LONG_SUM}).encode()
    status, _, text = fetch(served + "/sparql", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "text/csv"})
    assert status == 200, text
    assert text.splitlines()[1:] == ["3"]


def test_deep_stack_threads_serve_concurrent_callers():
    """The deep-stack threads are kept and reused: callers on several threads at once each get
    their own answer or their own exception back."""
    import threading

    from untoc_kg.querying import deep_stack

    answers, errors = {}, {}

    def call(i):
        for _ in range(50):
            answers[i] = deep_stack(lambda: (i, threading.current_thread().name))
            try:
                deep_stack(lambda: 1 / 0 if i % 2 else [][i])
            except Exception as exc:  # noqa: BLE001
                errors[i] = type(exc).__name__
    callers = [threading.Thread(target=call, args=(i,)) for i in range(6)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert {i: a[0] for i, a in answers.items()} == {i: i for i in range(6)}
    assert {a[1] for a in answers.values()} == {"untoc-query"}  # never on the caller's thread
    assert errors == {i: "ZeroDivisionError" if i % 2 else "IndexError" for i in range(6)}


def test_deep_stack_works_in_a_forked_child():
    """A forked child (the server's query workers are forked) has none of its parent's kept
    threads: it must start its own rather than wait forever for one."""
    import os
    import time

    from untoc_kg.querying import deep_stack

    assert deep_stack(lambda: 1) == 1  # the parent now keeps an idle thread
    pid = os.fork()
    if pid == 0:
        os._exit(0 if deep_stack(lambda: 41 + 1) == 42 else 3)
    deadline = time.monotonic() + 30
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("deep_stack hung in the forked child")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(done[1]) == 0
