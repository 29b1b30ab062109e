"""OWL RL closure benchmark: owlrl (the reference) against reasonable (the engine in use).

    python benchmarks/closure.py                                 # shipped graph and 10k, 3 runs
    python benchmarks/closure.py --sizes shipped,10k,100k,1M --owlrl-max 100k --once-from 1M

Sizes are ``shipped`` (data/) or generated graphs (``benchmarks/generate.py``, fixed seed, written
under the work directory). Each measurement runs in a fresh interpreter; its peak resident memory
is that process tree's ``ru_maxrss`` (``os.wait4``: the largest of the process and its children).

Rows:

``owlrl``       ``reasoning.closure(graph, engine="owlrl")`` on an rdflib graph of ontology + data
                (the parse is not timed); only at sizes up to ``--owlrl-max``.
``reasonable``  ``reasoning.closure(graph)``: the same, with reasonable; up to ``--inproc-max``.
``untoc``       ``reasoning.reason(source)``, what ``query --reasoning`` does on a cache miss: a
                worker process reads the files, reasons within the budget and writes N-Quads,
                read back by the caller (everything timed, budget from the environment).

Sizes from ``--once-from`` on are measured once (owlrl from ``--owlrl-once-from`` on), smaller
ones ``--repeat`` times (median shown).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZES = {"shipped": 0, "10k": 10_000, "100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}


def child(op: str, data_dir: str) -> dict:
    from untoc_kg.loading import GraphSource, read_rdflib
    from untoc_kg.reasoning import closure, reason

    source = GraphSource.default(data_dir)
    if op == "untoc":
        t = time.perf_counter()
        quads = reason(source)
        seconds = time.perf_counter() - t
        inferred = sum(1 for q in quads if q.graph_name.value.endswith("/inferred"))
        return {"seconds": seconds, "input": len(quads) - inferred, "inferred": inferred}
    graph = read_rdflib([source.ontology_file, *source.data_files])
    t = time.perf_counter()
    full = closure(graph, engine=op)
    return {"seconds": time.perf_counter() - t, "input": len(graph), "inferred": len(full) - len(graph)}


def measure(op: str, data_dir: Path, cap: float) -> dict:
    cmd = [sys.executable, __file__, "--child", op, "--data", str(data_dir)]
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, cwd=str(ROOT))
        deadline = time.monotonic() + cap
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                return {"capped": True, "rss": usage.ru_maxrss / 1024}
            time.sleep(0.05)
        out.seek(0)
        text = out.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{op} on {data_dir} failed (exit {os.waitstatus_to_exitcode(status)})")
    result = json.loads(text.strip().splitlines()[-1])
    result.update(capped=False, rss=usage.ru_maxrss / 1024)
    return result


def data_dir(size: str, work: Path) -> Path:
    if size == "shipped":
        return ROOT / "data"
    target = work / f"data-{size}"
    if not (target / "GENERATED.json").is_file():
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--triples", size, "--out",
                        str(target)], check=True, stdout=subprocess.DEVNULL)
    return target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="shipped,10k")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--once-from", default="1M", help="sizes from this one on run once")
    ap.add_argument("--owlrl-max", default="100k", help="largest size owlrl runs at")
    ap.add_argument("--owlrl-once-from", default="100k", help="sizes from this one on: owlrl once")
    ap.add_argument("--inproc-max", default="100k", help="largest size for the in-process rows")
    ap.add_argument("--cap", type=float, default=900, help="seconds before a run is stopped")
    ap.add_argument("--work", default=None, help="directory for generated data (default: a temp dir)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data)))
        return
    work = Path(args.work or tempfile.mkdtemp(prefix="untoc-closure-"))
    os.environ.setdefault("UNTOC_CACHE_DIR", str(work / "cache"))
    print("| size | engine | input triples | inferred | runs | median | peak RSS |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for size in args.sizes.split(","):
        directory = data_dir(size, work)
        runs = 1 if SIZES[size] >= SIZES[args.once_from] else args.repeat
        ops = []
        if SIZES[size] <= SIZES[args.owlrl_max]:
            ops.append("owlrl")
        if SIZES[size] <= SIZES[args.inproc_max]:
            ops.append("reasonable")
        ops.append("untoc")
        for op in ops:
            once = SIZES[size] >= SIZES[args.owlrl_once_from] and op == "owlrl"
            results = [measure(op, directory, args.cap) for _ in range(1 if once else runs)]
            done = [r for r in results if not r["capped"]]
            rss = max(r["rss"] for r in results)
            if not done:
                print(f"| {size} | {op} | | | {runs} | > {args.cap:g} s (cap) | {rss:.0f} MiB |",
                      flush=True)
                continue
            median = statistics.median(r["seconds"] for r in done)
            print(f"| {size} | {op} | {done[0]['input']:,} | {done[0]['inferred']:,} | {len(done)} "
                  f"| {median:.2f} s | {rss:.0f} MiB |", flush=True)


if __name__ == "__main__":
    main()
