"""Queries never reach the network or the file system on their own.

Three detectors, each shown able to fire:

* an audit hook (``sys.addaudithook``) installed in the ``untoc`` process after its imports and
  before the command runs: Python-level socket activity and file opens outside the interpreter,
  the project and the cache;
* a listener on 127.0.0.1 that counts the connections it accepts: catches connections from native
  code too (pyoxigraph sends SERVICE requests from Rust, where audit hooks see nothing);
* inotify on a directory holding a canary file: catches opens of the canary by any code.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parents[2]
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# The command runs under an audit hook that records socket use and file opens outside the allowed
# roots; the record is written, as JSON, to a file opened before the hook is installed.
WRAPPER = r'''
import json, os, sys
report = open(sys.argv[1], "w")
allowed = [os.path.realpath(p) for p in json.loads(sys.argv[2])]
from untoc_kg.cli import main
seen = {"network": [], "opens": []}

def hook(event, args):
    if event.startswith(("socket.", "urllib.", "http.client.", "ftplib.", "smtplib.")):
        seen["network"].append([event, repr(args)[:200]])
    elif event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        real = os.path.realpath(path)
        if not any(real == root or real.startswith(root + os.sep) for root in allowed):
            seen["opens"].append(path)

sys.addaudithook(hook)
sys.argv = ["untoc", *sys.argv[3:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
finally:
    json.dump(seen, report)
    report.close()
sys.exit(code)
'''


# --- detectors -----------------------------------------------------------------------------------

class Listener:
    """A TCP listener on 127.0.0.1 that counts accepted connections and closes them at once."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


class Inotify:
    """Counts opens and reads of the files in one directory (IN_OPEN | IN_ACCESS), by any code."""

    def __init__(self, directory: Path):
        name = ctypes.util.find_library("c")
        self.libc = ctypes.CDLL(name, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK)
        if self.fd < 0:
            pytest.skip("inotify is not available")
        if self.libc.inotify_add_watch(self.fd, os.fsencode(directory), 0x20 | 0x01) < 0:
            os.close(self.fd)
            pytest.skip("cannot watch the canary directory with inotify")

    def events(self) -> int:
        count = 0
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return count
            pos = 0
            while pos < len(data):  # struct inotify_event: wd, mask, cookie, len, name[len]
                length = int.from_bytes(data[pos + 12:pos + 16], sys.byteorder)
                pos += 16 + length
                count += 1

    def close(self):
        os.close(self.fd)


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def canary(tmp_path):
    """A Turtle file nobody should read, in a directory watched by inotify."""
    directory = tmp_path / "canary"
    directory.mkdir()
    path = directory / "secret.ttl"
    path.write_text("<urn:canary> <urn:canary> <urn:canary> .\n")
    watch = Inotify(directory)
    yield path, watch
    watch.close()


def run_untoc(tmp_path: Path, *args: str, data: Path | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the CLI under the audit hook; (process, {"network": [...], "opens": [...]})."""
    report = tmp_path / "audit.json"
    cache = os.environ["UNTOC_CACHE_DIR"]
    allowed = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
               str(ROOT / "src"), str(ROOT / "ontology"), str(ROOT / "queries"), str(data or ROOT / "data"),
               cache, os.devnull]
    allowed += [p for p in sys.path if p and Path(p).is_dir()]  # where the interpreter imports from
    prefix = ["--data", str(data)] if data else []
    proc = subprocess.run([sys.executable, "-c", WRAPPER, str(report), json.dumps(allowed), *prefix, *args],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    return proc, json.loads(report.read_text())


def test_detectors_fire(tmp_path, listener, canary):
    """Without the guard pyoxigraph connects; reading a file outside the allowed roots is seen."""
    path, watch = canary
    with pytest.raises(OSError):
        list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"))
    assert listener.accepted == 1
    proc, seen = run_untoc(tmp_path, "validate", str(path))
    assert str(path) in seen["opens"], seen
    assert watch.events() > 0


# --- the command line ----------------------------------------------------------------------------

def _hostile_queries(url: str, canary: Path) -> list[str]:
    file_iri = canary.as_uri()
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o {{ SELECT * WHERE {{ SERVICE <{url}> {{ ?a ?b ?c }} }} }} }}",
        f"PREFIX ep: <{url.rsplit('/', 1)[0]}/>\nSELECT * WHERE {{ SERVICE ep:sparql {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ #}}\n  SeRvIcE\t<{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o FILTER(1<2)SERVICE#>\n<{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?s ?p 1.SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?e {{ <{url}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT * FROM <{file_iri}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{file_iri}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"SELECT * from <{url}> WHERE {{ ?s ?p ?o }}",
        f"CONSTRUCT {{ ?s ?p ?o }} FROM <{file_iri}> WHERE {{ ?s ?p ?o }}",
        f"LOAD <{file_iri}>",
    ]


def test_adhoc_queries_that_would_reach_out_are_refused(tmp_path, listener, canary):
    path, watch = canary
    for text in _hostile_queries(listener.url, path):
        proc, seen = run_untoc(tmp_path, "query", "--sparql", text)
        assert proc.returncode == 2, (text, proc.stdout, proc.stderr)
        assert "is not allowed: queries run on the local graph only" in proc.stderr, (text, proc.stderr)
        assert proc.stderr.count("\n") == 1
        assert seen == {"network": [], "opens": []}, (text, seen)
    assert listener.accepted == 0
    assert watch.events() == 0


def test_federation_is_an_explicit_opt_in(tmp_path, listener, canary):
    """--federated lets SERVICE call the endpoint it names (and nothing else: FROM still only picks
    graphs of the store, no file is read)."""
    path, watch = canary
    proc, seen = run_untoc(tmp_path, "query", "--federated", "--sparql",
                           f"SELECT * WHERE {{ SERVICE SILENT <{listener.url}> {{ ?s ?p ?o }} }}")
    assert proc.returncode == 0, proc.stderr
    assert listener.accepted == 1
    proc, seen = run_untoc(tmp_path, "query", "--federated", "--sparql",
                           f"SELECT * FROM <{path.as_uri()}> WHERE {{ ?s ?p ?o }}")
    assert proc.returncode == 0, proc.stderr
    assert "canary" not in proc.stdout and seen["opens"] == []
    assert watch.events() == 0 and listener.accepted == 1


def test_property_path_through_a_foreign_iri_stays_local(tmp_path, listener, canary):
    """IRIs in patterns are names, never fetched: a path over them just matches nothing."""
    path, watch = canary
    for text, fmt in ((f"SELECT * WHERE {{ ?s <{listener.url}>* ?o }} LIMIT 3", "json"),
                      (f"ASK {{ <{path.as_uri()}> (<{listener.url}>|^<{listener.url}>)+ ?o }}", "json"),
                      (f"DESCRIBE <{listener.url}> <{path.as_uri()}>", "turtle")):
        proc, seen = run_untoc(tmp_path, "query", "--sparql", text, "--format", fmt)
        assert proc.returncode == 0, (text, proc.stderr)
        assert seen == {"network": [], "opens": []}, (text, seen)
    assert listener.accepted == 0
    assert watch.events() == 0


def test_saved_queries_stay_local(tmp_path, listener):
    proc, seen = run_untoc(tmp_path, "query", "wg-meetings", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["results"]["bindings"]) >= 6
    proc2, seen2 = run_untoc(tmp_path, "query", "document-by-symbol", "-p", "symbol",
                             "CTOC/COP/WG.3/2012/5", "--format", "json")
    assert proc2.returncode == 0, proc2.stderr
    assert json.loads(proc2.stdout)["results"]["bindings"]
    assert seen == seen2 == {"network": [], "opens": []}
    assert listener.accepted == 0


# --- saved-query parameters ------------------------------------------------------------------------

def _injections(url: str) -> list[str]:
    """String values that would widen the query if they were pasted into its text."""
    return [
        'CTOC/COP/WG.3/2012/5" ) } UNION { ?document ?p ?o } #',
        "CTOC/COP/WG.3/2012/5' ) } UNION { ?document ?p ?o } #",
        f'x" ) }} SERVICE <{url}> {{ ?document ?p ?o }} #',
        f"x> }} SERVICE <{url}> {{ ?document ?p ?o }} <x",
        'x"""\n) } UNION { ?document ?p ?o }\n#',
        "x\n} UNION { ?document ?p ?o } # comment\n",
        'x\\u0022 ) } UNION { ?document ?p ?o } #',
        'CTOC/COP/WG.3/2012/5\\" || true || "',
        "CTOC/COP/WG.3/2012/5\u2028) } UNION { ?document ?p ?o }",
    ]


def test_string_parameter_injection_returns_no_rows_and_no_traffic(tmp_path, listener):
    for value in _injections(listener.url):
        proc, seen = run_untoc(tmp_path, "query", "document-by-symbol", "-p", "symbol", value,
                               "--format", "json")
        assert proc.returncode == 0, (value, proc.stderr)
        assert json.loads(proc.stdout)["results"]["bindings"] == [], value
        assert seen == {"network": [], "opens": []}, (value, seen)
    assert listener.accepted == 0


@pytest.mark.parametrize("args", [
    ("meetings-in-year", "-p", "year", "2012 } UNION { ?s ?p ?o }"),
    ("meetings-in-year", "-p", "year", "2012", "-p", "lang", 'en") } UNION { ?s ?p ?o } #'),
    ("meeting-report", "-p", "meeting",
     "meeting:wg-ic-4> } SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } <x"),
    ("meeting-report", "-p", "meeting", "<http://127.0.0.1:9/x> } UNION { ?meeting ?p ?report"),
])
def test_typed_parameter_injection_is_refused(tmp_path, args):
    proc, seen = run_untoc(tmp_path, "query", *args)
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.startswith("Error: parameter") and proc.stderr.count("\n") == 1, proc.stderr
    assert seen == {"network": [], "opens": []}


# --- the server ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(run_server):
    from untoc_kg.serving import Service

    with run_server(Service(timeout=5.0)) as base:
        yield base


def _get(url: str) -> tuple[int, str]:
    try:
        with _OPENER.open(url, timeout=60) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def test_server_refuses_service_and_from_without_connecting(server, listener, canary):
    path, watch = canary
    for text in _hostile_queries(listener.url, path):
        if text.startswith("LOAD"):
            continue  # an update: refused with 403 by the read-only endpoint (test_serve.py)
        status, body = _get(f"{server}/sparql?" + urllib.parse.urlencode({"query": text}))
        assert status == 400, (text, status, body)
        assert "is not allowed: queries run on the local graph only" in body, (text, body)
    assert listener.accepted == 0
    assert watch.events() == 0


def test_server_saved_query_parameters_cannot_reach_out(server, listener):
    for value in _injections(listener.url):
        query = urllib.parse.urlencode({"symbol": value, "format": "json"})
        status, body = _get(f"{server}/queries/document-by-symbol?{query}")
        assert status == 200, (value, body)
        assert json.loads(body)["results"]["bindings"] == [], value
    assert listener.accepted == 0
