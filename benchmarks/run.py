"""Benchmark runner: one table of timings and peak memory at several graph sizes.

    python benchmarks/run.py                          # 10k triples, 3 repeats (a couple of minutes)
    python benchmarks/run.py --sizes 10k,100k --repeat 3 --out docs/bench.md
    python benchmarks/run.py --smoke                  # tiny and quick: checks that everything runs

For each size the data is generated with ``benchmarks/generate.py`` (fixed seed) into the work
directory, with its own query cache (``UNTOC_CACHE_DIR`` points there: the user's cache is never
touched). Every measurement runs in a fresh subprocess; its peak resident memory is that process's
``ru_maxrss`` (``os.wait4``), so it includes the interpreter and the imported libraries.

Operations (``--ops``, comma-separated groups; default all):

``parse``    rdflib ``Graph.parse`` vs pyoxigraph ``parse`` (no store); loading into memory with
             pyoxigraph's own ``Store.bulk_load`` (no input checks: the engine's floor) and with our
             ``open_store(cache=False)``; our ``open_store`` building the on-disk cache from nothing,
             and reopening the cached store (warm). Same files each time: ontology, data, shapes.
             Timed inside the process (imports excluded); load rows are compared with the bare parse.
``queries``  every saved query with its example parameters, on our cached pyoxigraph store
             (``run_query``, as ``untoc query`` and the server's workers run it), on our store held
             in memory (``open_store(cache=False)``, as the library's ``KnowledgeGraph(cache=False)``
             holds it) and on rdflib's engine over an rdflib graph of the same files
             (``run_query_rdflib``); one process per engine runs all queries ``--repeat`` times (the
             load is not counted); a run longer than ``--cap`` seconds is stopped and reported as
             "> cap". Peak memory is that of the whole batch (the "all saved queries" row). A last
             row counts, per engine of ours, the queries at least 20 times faster than rdflib.
``cli``      wall time of whole commands: warm ``untoc --data DIR query wg-meetings`` vs
             ``python -c "import rdflib"`` (and ``python -c pass``), ``--cli-runs`` times each,
             taken in turns (one of each, then again) so that a change of machine load hits all.
             Bytecode is cached (under the work directory), as for an installed package after its
             first run; one more row runs the query with PYTHONDONTWRITEBYTECODE=1 for comparison.
``serve``    wall time of ``GET /queries/NAME`` against ``untoc --data DIR serve`` (started once, on
             127.0.0.1) for a few small saved queries, ``--cli-runs`` times each after one warm-up.
``entry``    ``untoc --data DIR validate FILE`` (whole command) for a new entity
             (tests/fixtures/entries/new-meeting.ttl) and for an entry that amends an existing one
             (conflicting-start-date.ttl, which must fail); and, for both, the validation work alone:
             ``validate()`` in a fresh process after the imports, opening the cached index included.
             Then ``untoc add --dry-run FILE`` and ``untoc add FILE`` (whole commands) on a copy of
             the data: ``--repeat`` different new meetings added one after another, each checked
             against what the ones before it wrote (the cached index is carried forward), each
             followed by ``untoc query wg-meetings`` (the query store carried forward) and by
             ``untoc query wg-meetings --reasoning`` (the closure's store carried forward: the
             rules extend it from the added triples), each timed against the same query on the
             copy before any add (the store, or the closure, built from the files).
``export``   ``untoc --data DIR export -f FMT -o FILE`` (whole command) for each of
             ``--export-formats``, against rdflib parsing the same files into a Dataset and writing
             N-Quads (the alternative a user has); pyoxigraph parsing and writing N-Quads as it
             reads (no sorting, no canonical labels, no checks) is shown as the floor.
``full``     ``untoc --data DIR validate`` (whole graph), ``--full-repeat`` runs, capped at ``--op-cap``.
``closure``  OWL RL closure (owlrl, ``untoc_kg.reasoning.closure``) of ontology + data, at sizes up
             to ``--closure-max`` only, capped at ``--op-cap``.

The ratio column divides a row's median by the median of the alternative named next to it, measured
in the same run (< 1 means faster than the alternative).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

ENTRY = ROOT / "tests" / "fixtures" / "entries" / "new-meeting.ttl"
AMENDING_ENTRY = ROOT / "tests" / "fixtures" / "entries" / "conflicting-start-date.ttl"
SEED = 1
HEADER = "| operation | size | engine | runs | median | peak RSS | ratio | note |"
RULE = "|---|---|---|---:|---:|---:|---|---|"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------
# Child side: one operation, measured inside a fresh interpreter
# ---------------------------------------------------------------------------------------------------

class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _files(data_dir: str):
    from untoc_kg.loading import GraphSource

    source = GraphSource.default(data_dir)
    return source, [p for _, p in source.graphs(shapes=True)]


def child(op: str, data_dir: str, options: dict) -> dict:
    if op == "parse-rdflib":
        import rdflib

        _, files = _files(data_dir)
        t = time.perf_counter()
        g = rdflib.Graph()
        for path in files:
            g.parse(str(path), format="turtle")
        return {"seconds": time.perf_counter() - t, "triples": len(g)}
    if op == "parse-oxigraph":
        import pyoxigraph as ox

        _, files = _files(data_dir)
        t = time.perf_counter()
        n = 0
        for path in files:
            for _ in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
                n += 1
        return {"seconds": time.perf_counter() - t, "triples": n}
    if op == "bulk-load":
        import pyoxigraph as ox

        from untoc_kg.loading import format_for_path

        source, _ = _files(data_dir)
        t = time.perf_counter()
        store = ox.Store()
        for graph, path in source.graphs(shapes=True):
            store.bulk_load(path=str(path), format=format_for_path(path)[0],
                            to_graph=ox.NamedNode(graph), base_iri=path.resolve().as_uri())
        return {"seconds": time.perf_counter() - t, "quads": len(store)}
    if op == "store-memory":
        from untoc_kg.loading import open_store

        source, _ = _files(data_dir)
        t = time.perf_counter()
        store = open_store(source, cache=False)
        answer = bool(store.query("ASK { GRAPH ?g { ?s ?p ?o } }"))
        return {"seconds": time.perf_counter() - t, "quads": len(store), "ask": answer}
    if op in ("store-cold", "store-warm"):
        from untoc_kg.loading import open_store

        source, _ = _files(data_dir)
        t = time.perf_counter()
        store = open_store(source)
        answer = bool(store.query("ASK { GRAPH ?g { ?s ?p ?o } }"))
        seconds = time.perf_counter() - t
        return {"seconds": seconds, "quads": len(store) if op == "store-cold" else None, "ask": answer}
    if op in ("queries-oxigraph", "queries-memory", "queries-rdflib"):
        return _child_queries(op, data_dir, options)
    if op == "export-oxigraph":  # the floor: parse and write N-Quads, no sorting, no canonical labels
        import pyoxigraph as ox

        source, _ = _files(data_dir)
        t = time.perf_counter()
        with open(options["out"], "wb") as fh:
            for graph, path in source.graphs(shapes=True):
                g = ox.NamedNode(graph)
                ox.serialize((ox.Quad(q.subject, q.predicate, q.object, g)
                              for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)),
                             output=fh, format=ox.RdfFormat.N_QUADS)
        return {"seconds": time.perf_counter() - t, "bytes": os.path.getsize(options["out"])}
    if op == "export-rdflib":  # what a user of rdflib would write: a Dataset, one graph per part
        import rdflib

        source, _ = _files(data_dir)
        t = time.perf_counter()
        ds = rdflib.Dataset()
        for graph, path in source.graphs(shapes=True):
            ds.graph(rdflib.URIRef(graph)).parse(str(path), format="turtle")
        ds.serialize(options["out"], format="nquads")
        return {"seconds": time.perf_counter() - t, "bytes": os.path.getsize(options["out"])}
    if op == "entry-work":
        import pyshacl  # noqa: F401  (imports are not the validation work)
        import rdflib  # noqa: F401

        from untoc_kg.graph import KnowledgeGraph
        from untoc_kg.validation import validate

        kg = KnowledgeGraph(data_dir)
        t = time.perf_counter()
        report = validate(kg.source.with_extra([options["entry"]]))
        return {"seconds": time.perf_counter() - t, "violations": report.counts()["Violation"]}
    if op == "closure":
        from untoc_kg.loading import read_rdflib
        from untoc_kg.reasoning import closure

        source, _ = _files(data_dir)
        graph = read_rdflib([source.ontology_file, *source.data_files])
        t = time.perf_counter()
        full = closure(graph, engine="owlrl")  # the reference; benchmarks/closure.py compares engines
        return {"seconds": time.perf_counter() - t, "triples": len(graph), "closure": len(full)}
    raise SystemExit(f"unknown child operation {op}")


def _child_queries(op: str, data_dir: str, options: dict) -> dict:
    from untoc_kg.catalogue import Catalogue
    from untoc_kg.querying import run_query, run_query_rdflib

    source, files = _files(data_dir)
    catalogue = Catalogue.from_dir(source.queries_dir)
    t = time.perf_counter()
    if op in ("queries-oxigraph", "queries-memory"):
        from untoc_kg.loading import open_store

        # warm: the parent built the cache; or the whole graph loaded into memory
        target = open_store(source, cache=op == "queries-oxigraph")
        run = run_query
    else:
        import rdflib

        target = rdflib.Graph()
        for path in files:
            target.parse(str(path), format="turtle")
        run = run_query_rdflib
    load = time.perf_counter() - t
    cap, repeat = float(options["cap"]), int(options["repeat"])
    signal.signal(signal.SIGALRM, _alarm)
    out = {}
    for q in catalogue:
        if options.get("only") and q.name not in options["only"]:
            continue
        bindings = q.bindings({p.name: p.example for p in q.params if p.example})
        times, rows, capped = [], None, False
        for _ in range(repeat):
            t = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, cap)
            try:
                result = run(target, q.text, bindings)
            except _Timeout:
                capped = True
                break
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            times.append(time.perf_counter() - t)
            rows = (len(result.rows) if result.kind == "SELECT" else
                    len({str(t) for t in result.triples}) if result.kind == "GRAPH"  # distinct triples
                    else int(bool(result.boolean)))
        out[q.name] = {"times": times, "rows": rows, "capped": capped}
    return {"load": load, "queries": out}


SERVED = ("meeting-report", "wg-meetings", "mandate-actions")


def _served_times(untoc: str, data: Path, env: dict, runs: int) -> dict[str, list[float]]:
    """Wall time of GET /queries/NAME against ``untoc serve`` (started once, on a free port of
    127.0.0.1, stopped at the end): a few small saved queries, each requested ``runs`` times after
    one request that warms the server's workers."""
    import urllib.parse
    import urllib.request

    from untoc_kg.catalogue import Catalogue

    catalogue = Catalogue.from_dir(Path(__file__).resolve().parent.parent / "queries")
    server = subprocess.Popen([untoc, "--data", str(data), "serve", "--port", "0"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = server.stdout.readline().split()[1]  # "serving http://127.0.0.1:PORT/ (...)"
        out = {}
        for name in SERVED:
            query = catalogue.get(name)
            params = urllib.parse.urlencode({p.name: p.example for p in query.params if p.example})
            url = f"{base}queries/{name}" + (f"?{params}" if params else "")
            times = []
            for i in range(runs + 1):
                t = time.perf_counter()
                with urllib.request.urlopen(url, timeout=60) as answer:
                    answer.read()
                if i:
                    times.append(time.perf_counter() - t)
            out[name] = times
        return out
    finally:
        server.terminate()
        server.wait(timeout=30)


# ---------------------------------------------------------------------------------------------------
# Parent side: run a command in a subprocess, measure wall time and its own peak RSS
# ---------------------------------------------------------------------------------------------------

def _entry_series(n: int, out: Path) -> list[Path]:
    """``n`` new meetings of the Working Group, each a copy of ``ENTRY`` with its own ordinal,
    IRIs, report symbol and year, so that each can be added after the ones before it."""
    out.mkdir(parents=True, exist_ok=True)
    text = ENTRY.read_text(encoding="utf-8")
    files = []
    for i in range(n):
        k = 7 + i
        path = out / f"meeting-{k}.ttl"
        path.write_text(text.replace("wg-ic-7", f"wg-ic-{k}")
                        .replace('"7"^^xsd:positiveInteger', f'"{k}"^^xsd:positiveInteger')
                        .replace("TEST/WG.3/2016/9", f"TEST/WG.3/2016/{k + 2}")
                        .replace("2016-10-1", f"{2009 + k}-10-1"), encoding="utf-8")
        files.append(path)
    return files


def measure(cmd: list[str], cap: float, env: dict | None = None) -> dict:
    """Run ``cmd``; wall seconds, its peak RSS (MiB), exit code, whether the cap stopped it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=str(ROOT),
                                start_new_session=True)
        killed = threading.Event()

        def kill():
            killed.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(cap, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"wall": wall, "rss": usage.ru_maxrss / 1024, "code": proc.returncode,
                "capped": killed.is_set(), "stdout": out.read().decode(errors="replace"),
                "stderr": err.read().decode(errors="replace")}


def run_child(op: str, data_dir: Path, env: dict, proc_cap: float, **options) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", op, "--data", str(data_dir),
           "--child-options", json.dumps(options)]
    m = measure(cmd, proc_cap, env)
    if m["capped"]:
        return {"capped": True, "rss": m["rss"], "wall": m["wall"]}
    if m["code"] != 0:
        raise RuntimeError(f"{op} failed (exit {m['code']}):\n{m['stderr'][-2000:]}")
    result = json.loads(m["stdout"].strip().splitlines()[-1])
    result.update(rss=m["rss"], wall=m["wall"], capped=False)
    return result


# ---------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------

class Table:
    def __init__(self):
        self.rows: list[dict] = []

    def add(self, operation, size, engine, runs, times, rss=None, capped=False, cap=None,
            versus=None, note="") -> dict:
        row = {"operation": operation, "size": size, "engine": engine, "runs": runs,
               "median": statistics.median(times) if times else None, "rss": rss,
               "capped": capped, "cap": cap, "versus": versus, "note": note}
        self.rows.append(row)
        return row

    @staticmethod
    def _seconds(row) -> str:
        s = row["median"]
        if s is None:
            return f"> {row['cap']:g} s (cap)" if row["capped"] else "not run"
        text = f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"
        return text + (" (some runs > cap)" if row["capped"] else "")

    @staticmethod
    def _ratio(row) -> str:
        alt = row["versus"]
        if alt is None:
            return ""
        a, b = row["median"], alt["median"]
        name = alt["engine"]
        if a is None and b is None:
            return f"? vs {name}"
        if b is None:  # the alternative hit the cap
            return f"< {a / alt['cap']:.3g} vs {name}"
        if a is None:
            return f"> {row['cap'] / b:.3g} vs {name}"
        return f"{a / b:.3g} vs {name}"

    def markdown(self) -> str:
        lines = [HEADER, RULE]
        # group the rows of one operation (and engine) together, sizes in the order they were run
        first: dict[tuple, int] = {}
        for i, r in enumerate(self.rows):
            first.setdefault((r["operation"], r["engine"]), i)
        for r in sorted(self.rows, key=lambda r: first[(r["operation"], r["engine"])]):
            rss = f"{r['rss']:.0f} MiB" if r["rss"] is not None else "—"
            lines.append(f"| {r['operation']} | {r['size']} | {r['engine']} | {r['runs']} | "
                         f"{self._seconds(r)} | {rss} | {self._ratio(r)} | {r['note']} |")
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------

def prepare(size: int, workdir: Path) -> tuple[Path, dict]:
    data = workdir / f"data-{generate.size_label(size)}"
    manifest_file = data / "GENERATED.json"
    if manifest_file.is_file():
        manifest = json.loads(manifest_file.read_text())
        if manifest.get("target") == size and manifest.get("seed") == SEED:
            return data, manifest
    t = time.perf_counter()
    manifest = generate.generate(size, data, seed=SEED)
    log(f"  generated {manifest['total_triples']} data triples in {time.perf_counter() - t:.1f} s")
    return data, manifest


def bench_size(size: int, args, table: Table, workdir: Path, ops: set[str]) -> None:
    label = generate.size_label(size)
    log(f"== {label}")
    data, manifest = prepare(size, workdir)
    cache = workdir / f"cache-{label}"
    # Compiled bytecode goes to the work directory (nothing is written into the checkout) and is
    # reused, as it is for an installed package after its first run: without it every run of
    # `untoc` compiles the package's modules while rdflib's come precompiled.
    env = dict(os.environ, UNTOC_CACHE_DIR=str(cache), PYTHONPYCACHEPREFIX=str(workdir / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    no_bytecode = dict(os.environ, UNTOC_CACHE_DIR=str(cache), PYTHONDONTWRITEBYTECODE="1")
    R, cap, op_cap = args.repeat, args.cap, args.op_cap
    untoc = str(Path(sys.executable).with_name("untoc"))
    size_text = f"{label} ({manifest['total_triples']:,})"

    def repeated(op, n=R, envs=None, **options):
        results = []
        for i in range(n):
            r = run_child(op, data, envs(i) if envs else env, op_cap, **options)
            results.append(r)
            if r["capped"]:
                break
        times = [r["seconds"] for r in results if not r["capped"]]
        return results, times, max(r["rss"] for r in results), any(r["capped"] for r in results)

    if "parse" in ops:
        log("  parse/load")
        res, t_rdf, rss, capped = repeated("parse-rdflib")
        base = table.add("parse ontology+data+shapes", size_text, "rdflib Graph.parse", len(res), t_rdf,
                         rss, capped, op_cap, note=f"{res[0].get('triples', '?')} triples")
        res, t, rss, capped = repeated("parse-oxigraph")
        ox_parse = table.add("parse ontology+data+shapes", size_text, "pyoxigraph parse (no store)", len(res),
                             t, rss, capped, op_cap, versus=base)
        # the goal compares loading with pyoxigraph's bare parse: the load rows' ratios are against it
        res, t, rss, capped = repeated("bulk-load")
        table.add("load into memory: Store.bulk_load, no checks", size_text, "pyoxigraph", len(res), t, rss,
                  capped, op_cap, versus=ox_parse, note=f"{res[0].get('quads', '?')} quads; engine floor")
        res, t, rss, capped = repeated("store-memory")
        table.add("load into memory: open_store(cache=False)", size_text, "pyoxigraph (ours)", len(res), t,
                  rss, capped, op_cap, versus=ox_parse,
                  note=f"{res[0].get('quads', '?')} quads; input checks included")
        cold_root = Path(tempfile.mkdtemp(prefix="cold-", dir=workdir))

        def cold_env(i):
            return dict(env, UNTOC_CACHE_DIR=str(cold_root / str(i)))

        res, t, rss, capped = repeated("store-cold", envs=cold_env)
        shutil.rmtree(cold_root, ignore_errors=True)
        table.add("load: open_store, cold (builds the disk cache)", size_text, "pyoxigraph (ours)", len(res),
                  t, rss, capped, op_cap, versus=ox_parse, note=f"{res[0].get('quads', '?')} quads")
    run_child("store-warm", data, env, op_cap)  # make sure the cache exists for what follows
    if "parse" in ops:
        res, t, rss, capped = repeated("store-warm")
        table.add("load: open_store, warm (reopen cache)", size_text, "pyoxigraph (ours)", len(res), t,
                  rss, capped, op_cap, versus=ox_parse)

    if "queries" in ops:
        log("  saved queries")
        only = args.queries.split(",") if args.queries else None
        ours = {"pyoxigraph (ours)": ("queries-oxigraph", "store open"),
                "pyoxigraph in memory (ours)": ("queries-memory", "load into memory")}
        results = {}
        for engine, (child, _) in ours.items():
            log(f"  saved queries ({engine})")
            results[engine] = run_child(child, data, env, op_cap * 4, cap=cap, repeat=R, only=only)
        log("  saved queries (rdflib)")
        rdf_res = run_child("queries-rdflib", data, env, op_cap * 4, cap=cap, repeat=R, only=only)
        rdf_q = rdf_res.get("queries", {})
        names = sorted(set(rdf_q).union(*(r.get("queries", {}) for r in results.values())))
        totals = {engine: [0.0, False] for engine in [*ours, "rdflib"]}
        faster = dict.fromkeys(ours, 0)  # queries at least 20 times faster than rdflib
        for name in names:
            r = rdf_q.get(name)
            rdf_row = table.add(f"query {name}", size_text, "rdflib", len(r["times"]) if r else 0,
                                r["times"] if r else [], None, bool(r and r["capped"]), cap,
                                note=f"{r['rows']} rows" if r and r["rows"] is not None else "")
            timed = {"rdflib": r}
            for engine in ours:
                o = timed[engine] = results[engine].get("queries", {}).get(name)
                mismatch = o and r and r["rows"] is not None and o["rows"] != r["rows"]
                table.add(f"query {name}", size_text, engine, len(o["times"]) if o else 0,
                          o["times"] if o else [], None, bool(o and o["capped"]), cap,
                          versus=rdf_row, note=(f"{o['rows']} rows" if o else "")
                          + (" (row counts differ)" if mismatch else ""))
                if o and o["times"] and r and r["times"] and not o["capped"]:
                    faster[engine] += statistics.median(o["times"]) * 20 <= statistics.median(r["times"])
            for engine, q in timed.items():
                if q and q["times"]:
                    totals[engine][0] += statistics.median(q["times"])
                totals[engine][1] |= bool(q is None or q["capped"])
        n = len(names)
        note_r = f"sum of medians; graph load {rdf_res['load']:.2f} s not included" if "load" in rdf_res else ""
        rdf_total = table.add(f"all {n} saved queries", size_text, "rdflib", R, [totals["rdflib"][0]],
                              rdf_res["rss"], False, cap,
                              note=note_r + ("; capped queries counted as 0" if totals["rdflib"][1] else ""))
        for engine, (_, opening) in ours.items():
            res = results[engine]
            note_o = (f"sum of medians; {opening} {res['load']:.2f} s not included; at least 20x "
                      f"faster than rdflib: {faster[engine]} of {n}") if "load" in res else ""
            table.add(f"all {n} saved queries", size_text, engine, R, [totals[engine][0]],
                      res["rss"], False, cap, versus=rdf_total, note=note_o)

    if "cli" in ops:
        log("  CLI latency")
        runs = args.cli_runs

        commands = {"rdflib": ([sys.executable, "-c", "import rdflib"], env),
                    "untoc": ([untoc, "--data", str(data), "query", "wg-meetings"], env),
                    "untoc-compiling": ([untoc, "--data", str(data), "query", "wg-meetings"], no_bytecode),
                    "pass": ([sys.executable, "-c", "pass"], env)}
        for cmd, cmd_env in commands.values():  # warm the store cache and the bytecode
            measure(cmd, op_cap, cmd_env)
        taken = {k: [] for k in commands}
        for _ in range(runs):  # in turns, so that load changes hit every command alike
            for key, (cmd, cmd_env) in commands.items():
                m = measure(cmd, op_cap, cmd_env)
                if m["code"] != 0:
                    raise RuntimeError(f"{cmd} failed: {m['stderr'][-1000:]}")
                taken[key].append(m)

        def wall(key):
            return [m["wall"] for m in taken[key]], max(m["rss"] for m in taken[key])

        t_imp, rss_imp = wall("rdflib")
        imp = table.add("CLI: python -c \"import rdflib\"", size_text, "python", runs, t_imp, rss_imp,
                        note="whole process")
        t_q, rss_q = wall("untoc")
        table.add("CLI: untoc query wg-meetings (warm cache)", size_text, "untoc", runs, t_q, rss_q,
                  versus=imp, note="whole process")
        t_c, rss_c = wall("untoc-compiling")
        table.add("CLI: untoc query wg-meetings (warm cache, no bytecode cache)", size_text, "untoc", runs,
                  t_c, rss_c, versus=imp, note="whole process; PYTHONDONTWRITEBYTECODE=1: the package's "
                  "modules are compiled on every run (rdflib's come precompiled)")
        t_pass, rss_pass = wall("pass")
        table.add("CLI: python -c pass (interpreter floor)", size_text, "python", runs, t_pass, rss_pass,
                  versus=imp, note="whole process")

    if "serve" in ops:
        log("  served queries")
        for name, times in _served_times(untoc, data, env, max(args.cli_runs, R)).items():
            table.add(f"served: GET /queries/{name}", size_text, "untoc serve", len(times), times,
                      note="one HTTP request on 127.0.0.1, example parameters; server started once")

    full_row = None
    if "full" in ops:
        log("  full validation")
        ms = []
        for _ in range(args.full_repeat):
            m = measure([untoc, "--data", str(data), "validate"], op_cap, env)
            ms.append(m)
            if m["capped"]:
                break
        times = [m["wall"] for m in ms if not m["capped"]]
        codes = sorted({m["code"] for m in ms if not m["capped"]})
        full_row = table.add("validate whole graph (untoc validate)", size_text, "pyshacl via untoc", len(ms),
                             times, max(m["rss"] for m in ms), any(m["capped"] for m in ms), op_cap,
                             note=f"exit {codes}" if codes else "stopped at cap")

    if "entry" in ops:
        log("  entry validation")
        for entry, what in ((ENTRY, "one new entry"), (AMENDING_ENTRY, "an entry amending an entity")):
            measure([untoc, "--data", str(data), "validate", str(entry)], op_cap, env)  # warm caches
            ms = []
            for _ in range(R):
                m = measure([untoc, "--data", str(data), "validate", str(entry)], op_cap, env)
                ms.append(m)
                if m["capped"]:
                    break
            times = [m["wall"] for m in ms if not m["capped"]]
            codes = sorted({m["code"] for m in ms if not m["capped"]})
            whole = table.add(f"validate {what} (untoc validate FILE)", size_text, "pyshacl via untoc",
                              len(ms), times, max(m["rss"] for m in ms), any(m["capped"] for m in ms),
                              op_cap, versus=full_row,
                              note=(f"exit {codes}" if codes else "stopped at cap") + "; whole process; "
                              + entry.name)
            res, t, rss, capped = repeated("entry-work", entry=str(entry))
            table.add(f"validate {what}: validation work", size_text, "pyshacl via untoc", len(res), t,
                      rss, capped, op_cap, versus=whole,
                      note="validate() after the imports, opening the index included; "
                      f"{res[0].get('violations', '?')} violation(s)")

    if "entry" in ops:  # last: adding changes the copy's content, and its cache keys with it
        copy = workdir / f"add-{label}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(data, copy)
        entries = _entry_series(R, workdir / f"entries-{label}")
        # its own cache: carrying the index forward removes the one of the content before
        add_env = dict(env, UNTOC_CACHE_DIR=str(workdir / f"cache-add-{label}"))
        dry = [untoc, "--data", str(copy), "add", "--dry-run", str(entries[0])]
        query = [untoc, "--data", str(copy), "query", "wg-meetings"]
        reasoned = query + ["--reasoning"]
        measure(dry, op_cap, add_env)  # warm caches
        built = [measure(query, op_cap, add_env)]  # the store of the copy, from its files
        closed = [measure(reasoned, op_cap, add_env)]  # and the closure's
        after_add: list[dict] = []
        closed_after_add: list[dict] = []
        for what, commands in (("add one new entry, dry run (untoc add --dry-run FILE)", [dry] * R),
                               ("add one new entry (untoc add FILE), one after another",
                                [[untoc, "--data", str(copy), "add", str(e)] for e in entries])):
            ms = []
            for cmd in commands:
                m = measure(cmd, op_cap, add_env)
                if m["code"] != 0 and not m["capped"]:
                    raise RuntimeError(f"{cmd} failed: {m['stderr'][-1000:]}")
                ms.append(m)
                if m["capped"]:
                    break
                if "--dry-run" not in cmd:  # both stores are carried forward, not rebuilt
                    for q, ms_after in ((query, after_add), (reasoned, closed_after_add)):
                        ms_after.append(measure(q, op_cap, add_env))
                        if "adding the" not in ms_after[-1]["stderr"]:
                            raise RuntimeError(f"{' '.join(q[3:])} after an add did not carry "
                                               f"its store: {ms_after[-1]['stderr'][-500:]}")
            table.add(what, size_text, "untoc", len(ms), [m["wall"] for m in ms if not m["capped"]],
                      max(m["rss"] for m in ms), any(m["capped"] for m in ms), op_cap,
                      note="whole process; new meetings made from " + ENTRY.name)
        from_files = None
        for what, ms, note, carried in (
                ("first query after a change: store built from the files", built,
                 "untoc query wg-meetings on a copy of the data, its own cache", False),
                ("first query after an add: store carried forward", after_add,
                 "untoc query wg-meetings after each add above", True),
                ("first query with reasoning after a change: closure built from the files", closed,
                 "untoc query wg-meetings --reasoning, before the adds", False),
                ("first query with reasoning after an add: closure carried forward",
                 closed_after_add, "untoc query wg-meetings --reasoning after each add and query "
                 "above (the rules extend the closure from the added triples)", True)):
            row = table.add(what, size_text, "untoc", len(ms),
                            [m["wall"] for m in ms if not m["capped"]], max(m["rss"] for m in ms),
                            any(m["capped"] for m in ms), op_cap,
                            versus=from_files if carried else None, note="whole process; " + note)
            from_files = row  # each carried row is compared with the row built before it
        shutil.rmtree(copy, ignore_errors=True)
        shutil.rmtree(add_env["UNTOC_CACHE_DIR"], ignore_errors=True)

    if "export" in ops:
        log("  export")
        out = workdir / f"export-{label}"
        res, t, rss, capped = repeated("export-rdflib", out=str(out))
        alternative = table.add("export N-Quads: parse into a Dataset, serialize", size_text, "rdflib",
                                len(res), t, rss, capped, op_cap,
                                note=f"{res[0].get('bytes', 0):,} bytes; blank nodes as parsed, unsorted")
        res, t, rss, capped = repeated("export-oxigraph", out=str(out))
        table.add("export N-Quads: parse and serialize, streaming", size_text, "pyoxigraph", len(res), t,
                  rss, capped, op_cap, versus=alternative,
                  note=f"{res[0].get('bytes', 0):,} bytes; unsorted, no checks, no VoID: the floor")
        for fmt in args.export_formats.split(","):
            ms = []
            for _ in range(R):
                m = measure([untoc, "--data", str(data), "export", "-f", fmt, "-o", str(out)], op_cap, env)
                if m["code"] != 0 and not m["capped"]:
                    raise RuntimeError(f"export -f {fmt} failed: {m['stderr'][-1000:]}")
                ms.append(m)
                if m["capped"]:
                    break
            size_out = out.stat().st_size if out.exists() else 0
            table.add(f"untoc export -f {fmt} -o FILE", size_text, "untoc", len(ms),
                      [m["wall"] for m in ms if not m["capped"]], max(m["rss"] for m in ms),
                      any(m["capped"] for m in ms), op_cap, versus=alternative,
                      note=f"whole process; {size_out:,} bytes; canonical blank nodes, sorted, VoID")
        out.unlink(missing_ok=True)

    if "closure" in ops:
        if size <= args.closure_max:
            log("  OWL RL closure")
            res, t, rss, capped = repeated("closure", n=min(R, args.full_repeat))
            table.add("OWL RL closure (owlrl)", size_text, "owlrl", len(res), t, rss, capped, op_cap,
                      note=(f"{res[0]['triples']} → {res[0]['closure']} triples" if not res[0]["capped"]
                            else "stopped at cap"))
        else:
            table.rows.append({"operation": "OWL RL closure (owlrl)", "size": size_text, "engine": "owlrl",
                               "runs": 0, "median": None, "rss": None, "capped": False, "cap": None,
                               "versus": None, "note": "not run above --closure-max"})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--sizes", default="10k", help="comma-separated data sizes (triples): 2k, 10k, 100k, 1M")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (median reported)")
    ap.add_argument("--cap", type=float, default=60.0, help="seconds allowed per query run")
    ap.add_argument("--op-cap", type=float, default=300.0,
                    help="seconds allowed per process (parse, load, validation, closure)")
    ap.add_argument("--full-repeat", type=int, default=1, help="runs of whole-graph validation and closure")
    ap.add_argument("--cli-runs", type=int, default=10, help="runs of each CLI latency command")
    ap.add_argument("--closure-max", default="100k", help="largest size at which to run the OWL RL closure")
    ap.add_argument("--export-formats", default="nquads,ntriples,trig,turtle,jsonld,xml",
                    help="formats of the export rows (comma-separated)")
    ap.add_argument("--ops", default="parse,queries,cli,serve,full,entry,export,closure",
                    help="operation groups to run")
    ap.add_argument("--queries", default="", help="only these saved queries (comma-separated)")
    ap.add_argument("--workdir", help="where generated data and caches go (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    ap.add_argument("--out", help="also write the table (Markdown) to this file")
    ap.add_argument("--smoke", action="store_true",
                    help="tiny quick run: 2k, one repeat, short caps, no whole-graph validation or closure")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--child-options", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        print(json.dumps(child(args.child, args.data, json.loads(args.child_options))))
        return 0

    if args.smoke:
        args.sizes, args.repeat, args.cap, args.op_cap, args.cli_runs = "2k", 1, 10.0, 60.0, 2
        args.ops = ",".join(o for o in args.ops.split(",")
                            if o in ("parse", "queries", "cli", "serve", "entry", "export"))
    sizes = [generate.parse_size(s) for s in args.sizes.split(",") if s.strip()]
    args.closure_max = generate.parse_size(args.closure_max)
    ops = {o.strip() for o in args.ops.split(",") if o.strip()}
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="untoc-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    table = Table()
    started = time.perf_counter()
    try:
        for size in sizes:
            bench_size(size, args, table, workdir, ops)
    finally:
        if not args.workdir and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    import platform

    import pyoxigraph
    import pyshacl
    import rdflib

    intro = (f"untoc-kg benchmarks: sizes {args.sizes}, repeat {args.repeat}, query cap {args.cap:g} s, "
             f"process cap {args.op_cap:g} s; Python {platform.python_version()}, rdflib {rdflib.__version__}, "
             f"pyoxigraph {pyoxigraph.__version__}, pyshacl {pyshacl.__version__}; {os.cpu_count()} CPUs; "
             f"total {time.perf_counter() - started:.0f} s\n\n")
    load = os.getloadavg()
    intro = intro.rstrip("\n") + (f"; load average at the end {load[0]:.1f} (1 min), {load[1]:.1f} (5 min), "
                                  f"{load[2]:.1f} (15 min)\n\n")
    text = intro + table.markdown()
    sys.stdout.write(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
