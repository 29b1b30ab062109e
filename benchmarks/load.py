"""Load test of `untoc serve`: many light queries at once, with and without one heavy query running.

    python benchmarks/load.py                       # 50 light clients, 10 s per phase, --timeout 2
    python benchmarks/load.py --light 20 --seconds 5 --timeout 1

Starts ``untoc serve --port 0`` on 127.0.0.1 (its own query cache in a temporary directory unless
UNTOC_CACHE_DIR is set), then runs two phases of ``--seconds`` each:

``light``          ``--light`` clients, each sending light queries one after another (saved queries
                   and a small SELECT, cycling), closed loop: a client sends its next request when
                   the previous answer is in;
``light + heavy``  the same, plus one client sending a query that runs into the server's time limit
                   (``--timeout``), again and again.

Every answer is checked: a light query must answer 200 with the same rows it gave when asked alone
before the load; the heavy one must answer 503 naming the time limit. It prints one table (Markdown):
requests, clients, throughput, latency percentiles of each kind of query in each phase, and the
count of answers by status (``conn`` = the connection failed; ``wrong`` = 200 with other content).
The client runs on the same machine as the server and takes CPU from it: figures are for comparing
phases and versions on one machine, not absolute capacity.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIGHT = [
    "/queries/wg-meetings?format=json",
    "/queries/meetings-in-year?year=2012&format=json",
    "/queries/sessions?format=json",
    "/queries/recommendations-by-status?status=kind:status-proposed&format=json",
    "/sparql?" + urllib.parse.urlencode({
        "query": "SELECT ?place WHERE { meeting:wg-ic-3 schema:location ?place }", "format": "json"}),
]
# Four unrestricted patterns joined: 10^15 combinations over the graph, far past any time limit.
HEAVY = "/sparql?" + urllib.parse.urlencode({
    "query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    "format": "json"})
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy


@dataclass
class Record:
    phase: str
    kind: str  # "light" or "heavy"
    status: str  # the HTTP status, "conn" or "wrong"
    seconds: float


def start_server(timeout: float, cache_dir: str | None = None, data: str | None = None):
    """Start ``untoc serve`` on 127.0.0.1 with a free port; (process, base URL)."""
    untoc = Path(sys.executable).with_name("untoc")
    command = [str(untoc)] if untoc.exists() else [sys.executable, "-c",
                                                   "from untoc_kg.cli import main; main()"]
    if data:
        command += ["--data", data]
    command += ["serve", "--host", "127.0.0.1", "--port", "0", "--timeout", str(timeout)]
    env = dict(os.environ)
    if cache_dir:
        env["UNTOC_CACHE_DIR"] = cache_dir
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env, cwd=str(ROOT))
    line = proc.stdout.readline()  # "serving http://127.0.0.1:PORT/ (Ctrl-C stops)"
    if not line.startswith("serving http://"):
        proc.kill()
        raise RuntimeError(f"untoc serve did not start (exit {proc.wait()}): {line!r}")
    return proc, line.split()[1].rstrip("/")


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def get(url: str, timeout: float = 120) -> tuple[int | None, bytes]:
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return None, b""


def rows(body: bytes):
    """The rows of a SPARQL JSON answer, order kept, as comparable text."""
    return [json.dumps(b, sort_keys=True) for b in json.loads(body)["results"]["bindings"]]


def expected_answers(base: str) -> dict[str, list[str]]:
    """Each light query's rows, asked alone before the load."""
    out = {}
    for path in LIGHT:
        status, body = get(base + path)
        if status != 200:
            raise RuntimeError(f"{path} answered {status} before the load: {body[:200]!r}")
        out[path] = rows(body)
    return out


def run_phase(base: str, phase: str, clients: int, seconds: float, heavy: bool,
              expected: dict[str, list[str]]) -> list[Record]:
    """``clients`` light clients (and one heavy one) for ``seconds``; every answer checked."""
    records: list[Record] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def light(i: int) -> None:
        k = i
        while time.monotonic() < stop_at:
            path = LIGHT[k % len(LIGHT)]
            k += 1
            started = time.monotonic()
            status, body = get(base + path)
            took = time.monotonic() - started
            label = "conn" if status is None else str(status)
            if status == 200:
                try:
                    if rows(body) != expected[path]:
                        label = "wrong"
                except (ValueError, KeyError):
                    label = "wrong"
            with lock:
                records.append(Record(phase, "light", label, took))

    def slow() -> None:
        while time.monotonic() < stop_at:
            started = time.monotonic()
            status, body = get(base + HEAVY)
            took = time.monotonic() - started
            label = "conn" if status is None else str(status)
            if status == 503 and b"time limit" not in body:
                label = "wrong"
            with lock:
                records.append(Record(phase, "heavy", label, took))

    threads = [threading.Thread(target=light, args=(i,)) for i in range(clients)]
    if heavy:
        threads.append(threading.Thread(target=slow))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return records


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def table(records: list[Record], clients: int, seconds: float) -> str:
    out = ["| phase | query | requests | clients | req/s | p50 | p95 | p99 | max | answers by status |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for phase in dict.fromkeys(r.phase for r in records):
        for kind in ("light", "heavy"):
            mine = [r for r in records if r.phase == phase and r.kind == kind]
            if not mine:
                continue
            times = [r.seconds for r in mine]
            statuses = ", ".join(f"{s}: {n}" for s, n in sorted(Counter(r.status for r in mine).items()))
            ms = lambda v: f"{v * 1000:.0f} ms"  # noqa: E731
            out.append(f"| {phase} | {kind} | {len(mine)} | {clients if kind == 'light' else 1} | "
                       f"{len(mine) / seconds:.1f} | {ms(percentile(times, 50))} | "
                       f"{ms(percentile(times, 95))} | {ms(percentile(times, 99))} | "
                       f"{ms(max(times))} | {statuses} |")
    return "\n".join(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--light", type=int, default=50, help="concurrent light clients (50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase (10)")
    parser.add_argument("--timeout", type=float, default=2.0, help="the server's --timeout (2)")
    parser.add_argument("--data", help="serve another copy of the data (untoc --data)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="untoc-load-") as tmp:
        proc, base = start_server(args.timeout, os.environ.get("UNTOC_CACHE_DIR") or tmp, args.data)
        try:
            expected = expected_answers(base)
            print(f"server {base}, --timeout {args.timeout:g}, {os.cpu_count()} CPUs; "
                  f"{args.light} light clients, {args.seconds:g} s per phase", file=sys.stderr)
            records = run_phase(base, "light", args.light, args.seconds, False, expected)
            records += run_phase(base, "light + heavy", args.light, args.seconds, True, expected)
        finally:
            stop_server(proc)
    print(table(records, args.light, args.seconds))
    bad = [r for r in records if (r.kind == "light" and r.status != "200")
           or (r.kind == "heavy" and r.status != "503")]
    if bad:
        print(f"{len(bad)} answers were not as documented", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
