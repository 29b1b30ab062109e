"""OWL RL closure benchmark: the rules engine (in use) against reasonable and owlrl (the reference).

    python benchmarks/closure.py                                 # shipped graph and 10k, 3 runs
    python benchmarks/closure.py --sizes shipped,10k,100k,1M --owlrl-max 100k --once-from 1M

Sizes are ``shipped`` (data/) or generated graphs (``benchmarks/generate.py``, fixed seed, written
under the work directory). Each measurement runs in a fresh interpreter; its peak resident memory
is that process tree's ``ru_maxrss`` (``os.wait4``: the largest of the process and its children).

Rows (time rows; the budget comes from the environment):

``owlrl``        ``reasoning.closure(graph, engine="owlrl")`` on an rdflib graph of ontology + data
                 (the parse is not timed); only at sizes up to ``--owlrl-max``.
``reasonable``   ``reasoning.closure(graph, engine="reasonable")``: the same, with reasonable; up
                 to ``--inproc-max``.
``rules``        ``reasoning.closure(graph, engine="rules")``: the same, with the rules (rdflib
                 terms in and out); up to ``--inproc-max``.
``untoc``        ``reasoning.reason(source)``, the closure as a list of quads: a worker process
                 reads the files, reasons with the rules within the budget and writes N-Quads,
                 parsed back by the caller (everything timed).
``untoc-closure`` the worker alone (``reasoning._run``): files in, closure written as N-Quads.
``untoc-store``  ``reasoning.reasoned_store(source)`` into an empty cache directory: what
                 ``untoc query --reasoning`` does on a cache miss (the worker, then the on-disk
                 store built from its N-Quads, shapes included).
``untoc-reasonable`` ``reasoning.reason(source, engine="reasonable")``: ``untoc`` before the rules;
                 up to ``--reasonable-max``.

Sizes from ``--once-from`` on are measured once (owlrl from ``--owlrl-once-from`` on), smaller
ones ``--repeat`` times (median shown).

After the times, an agreement table (``--agree-max``, ``--agree-reasonable-max``): the rules'
instance-level inferences (subject under https://w3id.org/untoc/id/ or a blank node of the data
files) against owlrl's and reasonable's on the same rdflib graph, as counts of shared triples and
of triples only one side has, leaving out the two families that say nothing (``x owl:sameAs x``,
which owlrl writes for every resource; ``x a owl:Thing``, which reasonable writes for every
subject: its owl:Thing typings are replaced by the rules' before comparing).
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
    from untoc_kg.reasoning import GRAPH_INFERRED, Budget, _run, closure, reason, reasoned_store

    source = GraphSource.default(data_dir)
    if op == "agree":
        return agreement(source)
    if op in ("untoc", "untoc-reasonable"):
        t = time.perf_counter()
        quads = reason(source, engine="rules" if op == "untoc" else "reasonable")
        seconds = time.perf_counter() - t
        inferred = sum(1 for q in quads if q.graph_name.value == GRAPH_INFERRED)
        return {"seconds": seconds, "input": len(quads) - inferred, "inferred": inferred}
    if op == "untoc-closure":
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            counts = _run([(g, str(p)) for g, p in source.graphs()], os.path.join(tmp, "c.nq"),
                          Budget.from_env())
            return {"seconds": time.perf_counter() - t, "input": counts["input"],
                    "inferred": counts["inferred"], "engine": counts["engine"]}
    if op == "untoc-store":
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["UNTOC_CACHE_DIR"] = tmp
            t = time.perf_counter()
            store = reasoned_store(source)
            seconds = time.perf_counter() - t
            q = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH_INFERRED}> {{ ?s ?p ?o }} }}"
            inferred = int(next(iter(store.query(q)))["n"].value)
            return {"seconds": seconds, "input": len(store) - inferred, "inferred": inferred}
    graph = read_rdflib([source.ontology_file, *source.data_files])
    t = time.perf_counter()
    full = closure(graph, engine=op)
    return {"seconds": time.perf_counter() - t, "input": len(graph), "inferred": len(full) - len(graph)}


def agreement(source) -> dict:
    """Instance-level inferences of the rules against owlrl's and reasonable's (see the module
    docstring); which references run is set by UNTOC_BENCH_AGREE (comma-separated)."""
    from rdflib import OWL, RDF, BNode, URIRef

    from untoc_kg.loading import read_rdflib
    from untoc_kg.reasoning import inferred_triples

    data = read_rdflib(source.data_files)
    graph = read_rdflib([source.ontology_file]) + data
    blanks = {x for t in data for x in t if isinstance(x, BNode)}
    ident = "https://w3id.org/untoc/id/"

    def instances(triples):
        return {t for t in triples
                if (isinstance(t[0], URIRef) and str(t[0]).startswith(ident)) or t[0] in blanks}

    def reflexive(t):
        return t[1] == OWL.sameAs and t[0] == t[2]

    ours = {t for t in instances(inferred_triples(graph, engine="rules")) if not reflexive(t)}
    out = {"rules": len(ours)}
    for engine in os.environ.get("UNTOC_BENCH_AGREE", "owlrl,reasonable").split(","):
        theirs = {t for t in instances(inferred_triples(graph, engine=engine)) if not reflexive(t)}
        if engine == "reasonable":
            theirs = {t for t in theirs if not (t[1] == RDF.type and t[2] == OWL.Thing)} | {
                t for t in ours if t[1] == RDF.type and t[2] == OWL.Thing}
        out[engine] = {"shared": len(ours & theirs), "only_rules": len(ours - theirs),
                       "only_theirs": len(theirs - ours)}
    return out


def measure(op: str, data_dir: Path, cap: float, env=None) -> dict:
    cmd = [sys.executable, __file__, "--child", op, "--data", str(data_dir)]
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, cwd=str(ROOT),
                                env=env)
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
    ap.add_argument("--reasonable-max", default="100k",
                    help="largest size for the untoc-reasonable row")
    ap.add_argument("--agree-max", default="10k", help="largest size compared with owlrl")
    ap.add_argument("--agree-reasonable-max", default="100k",
                    help="largest size compared with reasonable")
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

    def upto(size, limit):
        return SIZES[size] <= SIZES[limit]

    print(f"load average at the start: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print("| size | engine | input triples | inferred | runs | median | peak RSS |")
    print("|---|---|---:|---:|---:|---:|---:|")
    sizes = args.sizes.split(",")
    for size in sizes:
        directory = data_dir(size, work)
        runs = 1 if SIZES[size] >= SIZES[args.once_from] else args.repeat
        ops = ["owlrl"] if upto(size, args.owlrl_max) else []
        if upto(size, args.inproc_max):
            ops += ["reasonable", "rules"]
        ops += ["untoc", "untoc-closure", "untoc-store"]
        if upto(size, args.reasonable_max):
            ops.append("untoc-reasonable")
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
            engine = done[0].get("engine", "rules")
            name = op if engine == "rules" else f"{op} ({engine})"
            print(f"| {size} | {name} | {done[0]['input']:,} | {done[0]['inferred']:,} "
                  f"| {len(done)} | {median:.2f} s | {rss:.0f} MiB |", flush=True)
    agree = [s for s in sizes if upto(s, args.agree_reasonable_max)]
    if agree:
        print("\n| size | rules: instance-level inferences | against | shared | only rules "
              "| only the other |")
        print("|---|---:|---|---:|---:|---:|")
    for size in agree:
        engines = ["owlrl"] if upto(size, args.agree_max) else []
        engines.append("reasonable")
        env = dict(os.environ, UNTOC_BENCH_AGREE=",".join(engines))
        result = measure("agree", data_dir(size, work), args.cap, env)
        if result["capped"]:
            print(f"| {size} | | {', '.join(engines)} | > {args.cap:g} s (cap) | | |", flush=True)
            continue
        for engine in engines:
            r = result[engine]
            print(f"| {size} | {result['rules']:,} | {engine} | {r['shared']:,} | "
                  f"{r['only_rules']:,} | {r['only_theirs']:,} |", flush=True)
    print(f"load average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    main()
