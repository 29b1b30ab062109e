"""Limits of `untoc serve` under misuse: oversized requests are refused with the right status, a query
whose client hangs up is stopped (its worker process killed), and under concurrent load every light
query still gets its right answer while a heavy one gets the documented 503. No timings are
asserted: benchmarks/load.py measures them."""

from __future__ import annotations

import os
import socket
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))
sys.path.insert(0, str(TESTS.parent / "benchmarks"))
from test_serve import HEAVY, WG3_PLACE, fetch  # noqa: E402

import load  # noqa: E402  (benchmarks/load.py)
from untoc_kg.querying import MAX_QUERY_CHARS  # noqa: E402
from untoc_kg.serving import _MAX_BODY, _MAX_TARGET, Service  # noqa: E402

VIENNA = "https://w3id.org/untoc/id/place/vienna"


@pytest.fixture(scope="module")
def served(_isolated_cache, run_server):
    """(service, base URL) of a server whose time limit is far away: only a hang-up ends a query."""
    service = Service(timeout=60.0)
    with run_server(service) as url:
        yield service, url


def _raw(url: str, request: bytes) -> socket.socket:
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(request)
    return sock


def _status(sock: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return int(head.split(b" ", 2)[1])


def _until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1].startswith("Z")  # a zombie has stopped
    except FileNotFoundError:
        return True


def _heavy_request() -> bytes:
    return (f"GET /sparql?{urllib.parse.urlencode({'query': HEAVY})} HTTP/1.1\r\n"
            f"Host: localhost\r\nAccept: application/sparql-results+json\r\n\r\n").encode()


# --- oversized requests -------------------------------------------------------------------------

def test_request_body_over_the_limit_is_413(served):
    _, url = served
    # A client that waits for "100 Continue" is refused before it sends a byte of the body.
    sock = _raw(url, (f"POST /sparql HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                      f"application/sparql-query\r\nContent-Length: {_MAX_BODY + 1}\r\n"
                      f"Expect: 100-continue\r\n\r\n").encode())
    assert _status(sock) == 413
    sock.close()
    # One that sends it all first still reads the answer (the body is read and dropped).
    status, _, body = fetch(url + "/sparql", data=b"#" * (_MAX_BODY + 1),
                            headers={"Content-Type": "application/sparql-query"})
    assert status == 413 and str(_MAX_BODY) in body
    for length in (b"-5", b"1000000000000", b"many"):  # nonsense, or far too much to read: at once
        sock = _raw(url, b"POST /sparql HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + length
                    + b"\r\n\r\n")
        assert _status(sock) == 413
        sock.close()
    # Just under the body limit the request is read; the query's own length cap then answers.
    query = "SELECT * WHERE { ?s ?p ?o } LIMIT 1 #"
    status, _, body = fetch(url + "/sparql", data=(query + "x" * (_MAX_BODY - len(query))).encode(),
                            headers={"Content-Type": "application/sparql-query"})
    assert status == 400 and "characters long" in body
    status, _, _ = fetch(url + "/sparql", data=(query + "x" * (MAX_QUERY_CHARS - len(query))).encode(),
                         headers={"Content-Type": "application/sparql-query"})
    assert status == 200


def test_overlong_url_is_414(served):
    _, url = served
    long_query = WG3_PLACE + " #" + "x" * _MAX_TARGET
    status, _, body = fetch(url + "/sparql?" + urllib.parse.urlencode({"query": long_query}))
    assert status == 414 and "POST" in body
    # The same query sent with POST is answered.
    status, _, body = fetch(url + "/sparql", data=long_query.encode(),
                            headers={"Content-Type": "application/sparql-query"})
    assert status == 200 and VIENNA in body
    # Past what http.server reads at all (64 KiB): still 414, never a hang or a crash.
    status, _, _ = fetch(url + "/id/" + "x" * 70000)
    assert status == 414
    assert fetch(url + "/sparql?" + urllib.parse.urlencode({"query": WG3_PLACE}))[0] == 200


def test_too_many_or_too_long_headers_are_refused(served):
    _, url = served
    many = "".join(f"X-Filler-{i}: {i}\r\n" for i in range(150))
    sock = _raw(url, f"GET / HTTP/1.1\r\nHost: localhost\r\n{many}\r\n".encode())
    assert _status(sock) in (400, 431)
    sock.close()
    sock = _raw(url, f"GET / HTTP/1.1\r\nHost: localhost\r\nX-Long: {'x' * 70000}\r\n\r\n".encode())
    assert _status(sock) in (400, 431)
    sock.close()


# --- a client that hangs up ---------------------------------------------------------------------

def test_hanging_up_stops_the_query_worker(served):
    service, url = served
    assert service.workers == []
    sock = _raw(url, _heavy_request())
    assert _until(lambda: len(service.workers) == 1), "the heavy query never started"
    (pid,) = service.workers
    assert not _gone(pid)
    time.sleep(0.3)
    assert service.workers == [pid]  # still running: only the hang-up will stop it
    sock.close()
    assert _until(lambda: service.workers == []), "the worker outlived its client"
    assert _until(lambda: _gone(pid))
    status, _, body = fetch(url + "/sparql?" + urllib.parse.urlencode({"query": WG3_PLACE}))
    assert status == 200 and VIENNA in body


def test_hanging_up_while_waiting_gives_up_the_place(served):
    service, url = served
    slots = service._slots._free
    busy = [_raw(url, _heavy_request()) for _ in range(slots)]
    assert _until(lambda: len(service.workers) == slots)
    waiting = _raw(url, _heavy_request())
    assert _until(lambda: service.waiting == 1)
    waiting.close()
    assert _until(lambda: service.waiting == 0)
    assert len(service.workers) == slots
    for sock in busy:
        sock.close()
    assert _until(lambda: service.workers == [])


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        out += kids
        todo += kids
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_a_killed_server_leaves_no_query_running(tmp_path):
    """kill -9 of the server in the middle of a runaway query: its worker stops by itself."""
    proc, base = load.start_server(timeout=120.0, cache_dir=os.environ.get("UNTOC_CACHE_DIR"))
    started: list[int] = []
    try:
        sock = _raw(base, _heavy_request())
        assert _until(lambda: len(_descendants(proc.pid)) >= 3)  # forkserver, tracker, worker
        time.sleep(0.5)
        started = _descendants(proc.pid)
        proc.kill()
        proc.wait()
        sock.close()
        assert _until(lambda: all(_gone(pid) for pid in started), seconds=15), [
            pid for pid in started if not _gone(pid)]
    finally:
        for pid in started:  # whatever the outcome, leave nothing burning a core
            if not _gone(pid):
                os.kill(pid, 9)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- under load ---------------------------------------------------------------------------------

def test_light_queries_stay_right_while_a_heavy_one_runs(tmp_path):
    """A short run of benchmarks/load.py against a real `untoc serve`: every light answer 200 with
    the rows it has when asked alone, every heavy answer the documented 503, nothing else."""
    proc, base = load.start_server(timeout=1.0, cache_dir=os.environ.get("UNTOC_CACHE_DIR"))
    try:
        expected = load.expected_answers(base)
        assert all(rows for rows in expected.values())
        records = load.run_phase(base, "light + heavy", clients=8, seconds=2.5, heavy=True,
                                 expected=expected)
    finally:
        load.stop_server(proc)
    light = [r.status for r in records if r.kind == "light"]
    heavy = [r.status for r in records if r.kind == "heavy"]
    assert len(light) >= 8 and heavy
    assert set(light) == {"200"}, sorted(set(light))
    assert set(heavy) == {"503"}, sorted(set(heavy))
    table = load.table(records, 8, 2.5)
    assert "| light + heavy | light |" in table and "| light + heavy | heavy |" in table
