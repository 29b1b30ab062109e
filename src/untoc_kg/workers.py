"""Answering SPARQL queries in killable worker processes.

Queries sent by clients run in a separate worker process that opens the graph's store itself, so a
query running past the time limit, or whose client has hung up, can be killed without touching the
server; its answer is formatted in the worker and sent back as bytes. A few run at once, the others
wait their turn in order of arrival; workers that answered are kept for the next query.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass, field

import pyoxigraph as ox

from .errors import InputError, UntocError
from .negotiation import RDF_MIME, RDF_TYPES, RESULT_MIME, RESULT_TYPES, negotiate

__all__ = ["Reply", "error_reply", "Job", "QueryWorkers"]

_POLL = 0.1  # seconds between looks at a waiting client's socket
_JOBS_PER_WORKER = 200  # then a fresh worker: whatever a query left in memory goes with the old one


@dataclass
class Reply:
    """One HTTP answer; plain data so a worker process can send it back."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def error_reply(status: int, message: str) -> Reply:
    """A plain-text answer of one line."""
    return Reply(status, (message + "\n").encode("utf-8"))


# --- the query worker -------------------------------------------------------------------------

@dataclass
class Job:
    """What a worker needs: where the graph is, the query, and how to answer."""

    data_dir: str | None
    cache: bool
    cache_dir: str | None
    text: str
    bindings: dict[str, object]
    accept: str | None
    fmt: str | None
    max_rows: int


def _answer(job: Job) -> Reply:
    from .export import load_context, serialize
    from .loading import GraphSource
    from .querying import ResultTooLarge, deep_stack, evaluate, run_query
    from .results import format_result

    if job.cache_dir:  # the server's cache, whatever the environment the worker started in
        os.environ["UNTOC_CACHE_DIR"] = job.cache_dir
    source = GraphSource.default(job.data_dir)
    # On an empty store the query is checked (local only, syntax, bindings) with the same one-line
    # messages as the command line, at no cost; run_query itself would read every row before the
    # row limit could stop it, so the real run below counts rows as they come.
    run_query(ox.Store(), job.text, job.bindings)
    store = _open(source, job.cache)

    try:  # the stack run_query's checks are measured against, the query as run_query runs it
        result = deep_stack(lambda: evaluate(store, job.text, job.bindings, job.max_rows))
    except ResultTooLarge as exc:
        return error_reply(422, f"the result has more than {job.max_rows} {exc.args[0]}, the server's "
                                f"limit (untoc serve --max-rows): narrow the query with more specific "
                                f"patterns or FILTERs, or page through it with LIMIT {job.max_rows} "
                                f"and OFFSET")
    except (SyntaxError, OSError, ValueError, RuntimeError) as exc:
        return error_reply(400, "query failed: " + " ".join(str(exc).split()))
    if result.kind == "GRAPH":
        offers, names, mimes = RDF_TYPES, "turtle, ntriples, jsonld or xml", RDF_MIME
    else:
        offers, names, mimes = RESULT_TYPES, "json, xml, csv or tsv", RESULT_MIME
    fmt = job.fmt or negotiate(job.accept, offers, "turtle" if result.kind == "GRAPH" else "json")
    if fmt is None:
        return error_reply(406, f"{result.kind} results can be sent as " + ", ".join(
            m for m in offers if m in mimes.get(offers[m], "")))
    if fmt not in mimes:
        return error_reply(400, f"{result.kind} results come as {names}, not {fmt!r}")
    if result.kind == "GRAPH":
        quads = [ox.Quad(t.subject, t.predicate, t.object) for t in result.triples]
        context = load_context(source) if fmt == "jsonld" else None
        return Reply(200, serialize(quads, fmt, context=context), mimes[fmt])
    return Reply(200, format_result(result, fmt).encode("utf-8"), mimes[fmt])


# The store a worker opened for its last job, kept for the next: reopening it took about 15 ms a
# query at 1M triples (and a whole load for a graph not cached on disk); it is reopened when the
# content of the files changed.
_HELD: dict[tuple, object] = {}


def _open(source, cache: bool) -> ox.Store:
    from .loading import HeldStore

    key = (str(source.data_dir), cache, os.environ.get("UNTOC_CACHE_DIR"))
    if key not in _HELD:
        _HELD.clear()  # one graph at a time
        _HELD[key] = HeldStore(source, cache=cache)
    return _HELD[key].get()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a server that died but was not yet reaped by its parent is a zombie: gone all the same
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b") ", 1)[1][:1] != b"Z"
    except OSError:
        return True


def _watch(server: int) -> None:
    """End this worker when the server is gone (killed, crashed): the query it runs has no one to
    answer to, and nothing else would ever stop it. Queries release the GIL, so this thread runs."""
    while _alive(server):
        time.sleep(1.0)
    os._exit(1)


def _work(conn, server: int) -> None:
    """A worker's life: answer the jobs that come down the pipe until the server closes it (or
    kills the worker). Starting a process costs more than most queries, so workers are reused;
    each job still opens the store itself, so answers follow the data files as they change."""
    threading.Thread(target=_watch, args=(server,), daemon=True).start()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = _answer(job)
        except UntocError as exc:
            reply = error_reply(400, str(exc))
        except Exception as exc:  # noqa: BLE001 - the client gets a message, the server stays up
            reply = error_reply(500, f"internal error: {type(exc).__name__}: {exc}")
        conn.send(reply)


class _Slots:
    """At most ``n`` queries at once; waiting ones are served first come, first served, and a
    waiter whose client has left gives up its place."""

    def __init__(self, n: int):
        self._free = n
        self._queue: collections.deque = collections.deque()
        self._cond = threading.Condition()

    def acquire(self, gone=None) -> bool:
        me = object()
        with self._cond:
            self._queue.append(me)
            try:
                while not (self._free and self._queue[0] is me):
                    self._cond.wait(_POLL)
                    if gone is not None and gone():
                        return False
                self._free -= 1
                return True
            finally:
                self._queue.remove(me)
                self._cond.notify_all()

    def release(self) -> None:
        with self._cond:
            self._free += 1
            self._cond.notify_all()

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._queue)


# --- the pool ---------------------------------------------------------------------------------

class QueryWorkers:
    """A pool of query workers for the graph in ``data_dir``: ``run`` answers a query in one of
    them, within the time limit ``timeout`` and the row limit ``max_rows``."""

    def __init__(self, data_dir=None, *, cache: bool = True, timeout: float = 10.0,
                 max_rows: int = 10000):
        if timeout <= 0 or max_rows < 1:
            raise InputError("the time limit must be positive and the row limit at least 1")
        self.data_dir = None if data_dir is None else str(data_dir)
        self.cache = cache
        self.timeout = timeout
        self.max_rows = max_rows
        # Workers are forked from a small single-threaded server process, not from this
        # multi-threaded one; a bounded number run at once.
        self._mp = multiprocessing.get_context("forkserver")
        self._mp.set_forkserver_preload(["untoc_kg.workers", "untoc_kg.loading", "untoc_kg.querying",
                                         "untoc_kg.results", "untoc_kg.export"])
        self._slots = _Slots(max(2, os.cpu_count() or 2))
        self._workers: dict[int, object] = {}  # pid -> process, while a query runs
        self._idle: list[tuple] = []  # (process, connection, jobs done) of workers waiting for one
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        """Queries waiting for a free worker slot."""
        return self._slots.waiting

    @property
    def workers(self) -> list[int]:
        """Process ids of the query workers running now."""
        with self._lock:
            return sorted(self._workers)

    def run(self, text: str, bindings=None, accept: str | None = None, fmt: str | None = None,
            gone=None) -> Reply:
        """Run a query in a worker process, killed when it passes the time limit or when ``gone()``
        says the client has hung up (nobody is left to read the answer)."""
        job = Job(self.data_dir, self.cache, os.environ.get("UNTOC_CACHE_DIR"), text,
                  dict(bindings or {}), accept, fmt, self.max_rows)
        # never sent: nobody is left to read it
        left_early = error_reply(499, "the client closed the connection")
        if not self._slots.acquire(gone):
            return left_early
        try:
            proc, conn, done = self._worker(job)
            with self._lock:
                self._workers[proc.pid] = proc
            answered = False
            try:
                deadline = time.monotonic() + self.timeout
                while True:
                    wait = deadline - time.monotonic()
                    if wait <= 0:
                        return error_reply(503, f"query stopped: it ran longer than the time "
                                                f"limit of {self.timeout:g} s (untoc serve "
                                                f"--timeout); narrow it with more specific "
                                                f"patterns, or add LIMIT")
                    if conn.poll(min(wait, _POLL)):
                        try:
                            reply = conn.recv()
                        except (EOFError, OSError):
                            return error_reply(500, "the query worker stopped without an answer")
                        answered = True
                        return reply
                    if gone is not None and gone():
                        return left_early
            finally:
                with self._lock:
                    self._workers.pop(proc.pid, None)
                    keep = answered and done + 1 < _JOBS_PER_WORKER and proc.is_alive()
                    if keep:
                        self._idle.append((proc, conn, done + 1))
                if not keep:  # stopped mid-query, or worn out: a fresh one next time
                    self._retire(proc, conn)
        finally:
            self._slots.release()

    def _worker(self, job: Job):
        """An idle worker (else a new one) that has been handed ``job``: (process, pipe, jobs done)."""
        while True:
            with self._lock:
                proc, conn, done = self._idle.pop() if self._idle else (None, None, 0)
            if proc is None:
                conn, theirs = self._mp.Pipe()
                proc = self._mp.Process(target=_work, args=(theirs, os.getpid()), daemon=True)
                proc.start()
                theirs.close()  # the worker's end lives in the worker: its death ends the pipe
            try:
                conn.send(job)
                return proc, conn, done
            except OSError:  # it died while idle
                self._retire(proc, conn)

    @staticmethod
    def _retire(proc, conn) -> None:
        if proc.is_alive():
            proc.kill()
        proc.join()
        conn.close()

    def close(self) -> None:
        """Stop the idle workers (running queries end with their requests)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for proc, conn, _ in idle:
            self._retire(proc, conn)
