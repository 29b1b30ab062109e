"""Publishing the graph over HTTP with the standard library: a read-only SPARQL 1.1 Protocol
endpoint, the saved-query catalogue, dereferenceable entity IRIs, a home page and pictures.

Queries sent by clients run in a separate worker process that opens the graph's store itself, so a
query running past the time limit, or whose client has hung up, can be killed without touching the
server; its answer is formatted in the worker and sent back as bytes. A few run at once, the others
wait their turn in order of arrival; workers that answered are kept for the next query. Pages the
server composes itself (entity pages, timeline, the saved-query forms) read the server's own store:
their queries are fixed and small; a saved query's results on its HTML page come from a worker.
"""

from __future__ import annotations

import collections
import json
import multiprocessing
import os
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pyoxigraph as ox

from . import pages
from .errors import InputError, ParameterError, UnknownQueryError, UntocError
from .namespaces import ID, PREFIXES

__all__ = ["RESULT_TYPES", "RDF_TYPES", "Reply", "Service", "negotiate", "make_server", "serve"]

# Format names as in 'untoc query --format'; "xml" is SPARQL XML for rows and RDF/XML for graphs.
RESULT_TYPES = {"application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
                "text/csv": "csv", "text/tab-separated-values": "tsv",
                "application/json": "json", "application/xml": "xml", "text/xml": "xml"}
RDF_TYPES = {"text/turtle": "turtle", "application/n-triples": "ntriples",
             "application/ld+json": "jsonld", "application/rdf+xml": "xml",
             "application/x-turtle": "turtle", "text/plain": "ntriples"}
_RESULT_MIME = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
                "csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8"}
_RDF_MIME = {"turtle": "text/turtle; charset=utf-8", "ntriples": "application/n-triples",
             "jsonld": "application/ld+json", "xml": "application/rdf+xml"}
_SUFFIXES = {".ttl": "turtle", ".nt": "ntriples", ".jsonld": "jsonld", ".rdf": "xml"}
# format= values other clients send (SPARQLWrapper sends its own names as format=, output=, results=)
_FORMAT_ALIASES = {"rdf+xml": "xml", "rdf": "xml", "json-ld": "jsonld", "n3": "turtle", "nt": "ntriples",
                   "n-triples": "ntriples", "ttl": "turtle",
                   **{mime: fmt for mime, fmt in {**RESULT_TYPES, **RDF_TYPES}.items()
                      if mime != "text/plain"}}
_PAGE_TYPES = {"text/html": "html", "application/xhtml+xml": "html"}
_HTML = "text/html; charset=utf-8"
_MAX_BODY = 1 << 20  # a query text longer than 1 MiB is not a question, it is a mistake
_DRAIN = 8 * _MAX_BODY  # bodies up to this size are read and dropped before the 413, larger ones not
_MAX_TARGET = 16 * 1024  # longer URLs: send the query with POST (http.server itself stops at 64 KiB)
_POLL = 0.1  # seconds between looks at a waiting client's socket
_JOBS_PER_WORKER = 200  # then a fresh worker: whatever a query left in memory goes with the old one


@dataclass
class Reply:
    """One HTTP answer; plain data so a worker process can send it back."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, message: str) -> Reply:
    return Reply(status, (message + "\n").encode("utf-8"))


def _accepted(header: str | None) -> list[str]:
    """Media ranges of an Accept header, best first (q=0 dropped; ties keep their order)."""
    if not header or not header.strip():
        return ["*/*"]
    ranked = []
    for i, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        q = 1.0
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if fields[0] and q > 0:
            ranked.append((-q, i, fields[0].lower()))
    return [media for _, _, media in sorted(ranked)]


def negotiate(header: str | None, offers: dict[str, str], default: str) -> str | None:
    """The format to answer in: the first acceptable offer (``default`` for */*), else None."""
    for media in _accepted(header):
        if media == "*/*":
            return default
        if media.endswith("/*"):  # text/*: the default if it is of that type, else the first that is
            matching = [fmt for mime, fmt in offers.items() if mime.startswith(media[:-1])]
            if matching:
                return default if default in matching else matching[0]
        elif media in offers:
            return offers[media]
    return None


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


class _TooLarge(Exception):
    pass


def _answer(job: Job) -> Reply:
    from .export import load_context, serialize
    from .loading import GraphSource, open_store
    from .querying import QueryResult, run_query
    from .results import format_result

    if job.cache_dir:  # the server's cache, whatever the environment the worker started in
        os.environ["UNTOC_CACHE_DIR"] = job.cache_dir
    source = GraphSource.default(job.data_dir)
    # On an empty store the query is checked (local only, syntax, bindings) with the same one-line
    # messages as the command line, at no cost; run_query itself would read every row before the
    # row limit could stop it, so the real run below counts rows as they come.
    run_query(ox.Store(), job.text, job.bindings)
    store = open_store(source, cache=job.cache)
    try:
        answer = store.query(job.text, prefixes=PREFIXES, use_default_graph_as_union=True,
                             substitutions={ox.Variable(k): v for k, v in job.bindings.items()} or None)
        if isinstance(answer, ox.QueryBoolean):
            result = QueryResult("ASK", boolean=bool(answer))
        elif isinstance(answer, ox.QuerySolutions):
            names = [v.value for v in answer.variables]
            rows = []
            for solution in answer:
                if len(rows) == job.max_rows:
                    raise _TooLarge()
                rows.append({n: solution[n] for n in names if solution[n] is not None})
            result = QueryResult("SELECT", variables=names, rows=rows)
        else:
            triples = []
            for triple in answer:
                if len(triples) == job.max_rows:
                    raise _TooLarge()
                triples.append(triple)
            result = QueryResult("GRAPH", triples=triples)
    except _TooLarge:
        what = "triples" if not isinstance(answer, ox.QuerySolutions) else "rows"
        return _error(422, f"the result has more than {job.max_rows} {what}, the server's limit "
                           f"(untoc serve --max-rows): narrow the query with more specific patterns "
                           f"or FILTERs, or page through it with LIMIT {job.max_rows} and OFFSET")
    except (SyntaxError, OSError, ValueError, RuntimeError) as exc:
        return _error(400, "query failed: " + " ".join(str(exc).split()))
    if result.kind == "GRAPH":
        offers, names, mimes = RDF_TYPES, "turtle, ntriples, jsonld or xml", _RDF_MIME
    else:
        offers, names, mimes = RESULT_TYPES, "json, xml, csv or tsv", _RESULT_MIME
    fmt = job.fmt or negotiate(job.accept, offers, "turtle" if result.kind == "GRAPH" else "json")
    if fmt is None:
        return _error(406, f"{result.kind} results can be sent as " + ", ".join(
            m for m in offers if m in mimes.get(offers[m], "")))
    if fmt not in mimes:
        return _error(400, f"{result.kind} results come as {names}, not {fmt!r}")
    if result.kind == "GRAPH":
        quads = [ox.Quad(t.subject, t.predicate, t.object) for t in result.triples]
        context = load_context(source) if fmt == "jsonld" else None
        return Reply(200, serialize(quads, fmt, context=context), mimes[fmt])
    return Reply(200, format_result(result, fmt).encode("utf-8"), mimes[fmt])


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
            reply = _error(400, str(exc))
        except Exception as exc:  # noqa: BLE001 - the client gets a message, the server stays up
            reply = _error(500, f"internal error: {type(exc).__name__}: {exc}")
        conn.send(reply)


def _format_param(params, keys=("format", "output", "results")) -> str | None:
    """The format= (or output=, results=) parameter as one of our format names, None when absent."""
    for key in keys:
        value = (params.get(key) or [""])[0].strip()
        if value:
            return _FORMAT_ALIASES.get(value.lower(), value.lower())
    return None


def _terms_from_json(doc: dict) -> tuple[list[str], list[dict]]:
    """Variables and rows (variable -> pyoxigraph term) of a SPARQL JSON results document."""
    if "boolean" in doc:
        return ["boolean"], [{"boolean": ox.Literal("true" if doc["boolean"] else "false")}]
    rows = []
    for binding in doc["results"]["bindings"]:
        row = {}
        for name, cell in binding.items():
            if cell["type"] == "uri":
                row[name] = ox.NamedNode(cell["value"])
            elif cell["type"] == "bnode":
                row[name] = ox.BlankNode(cell["value"])
            elif "xml:lang" in cell:
                row[name] = ox.Literal(cell["value"], language=cell["xml:lang"])
            elif "datatype" in cell:
                row[name] = ox.Literal(cell["value"], datatype=ox.NamedNode(cell["datatype"]))
            else:
                row[name] = ox.Literal(cell["value"])
        rows.append(row)
    return doc["head"]["vars"], rows


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


# --- the service ------------------------------------------------------------------------------

def _service_description(endpoint: str) -> bytes:
    from .loading import GRAPH_DATA, GRAPH_ONTOLOGY, GRAPH_SHAPES

    fmts = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
            "Turtle", "N-Triples", "JSON-LD", "RDF_XML"]
    named = " , ".join(f"[ a sd:NamedGraph ; sd:name <{g}> ]"
                       for g in (GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_SHAPES))
    return (
        "@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .\n"
        "@prefix void: <http://rdfs.org/ns/void#> .\n"
        "@prefix dcterms: <http://purl.org/dc/terms/> .\n\n"
        f"<{endpoint}> a sd:Service ;\n"
        f"    sd:endpoint <{endpoint}> ;\n"
        "    sd:supportedLanguage sd:SPARQL11Query ;\n"
        "    sd:feature sd:UnionDefaultGraph ;\n"
        "    dcterms:description \"Read-only SPARQL endpoint of untoc-kg. The default graph is the "
        "union of the named graphs. SERVICE, FROM and LOAD are refused; each query has a time and a "
        "row limit.\"@en ;\n"
        "    sd:resultFormat " + " , ".join(f"<http://www.w3.org/ns/formats/{f}>" for f in fmts)
        + " ;\n"
        "    sd:defaultDataset [ a sd:Dataset ;\n"
        "        sd:defaultGraph [ a sd:Graph ] ;\n"
        f"        sd:namedGraph {named} ] .\n"
    ).encode("utf-8")


class Service:
    """What the server answers, independent of the HTTP plumbing: ``handle`` gives a Reply."""

    def __init__(self, data_dir=None, *, cache: bool = True, timeout: float = 10.0,
                 max_rows: int = 10000, on_rebuild=None):
        from .graph import KnowledgeGraph

        if timeout <= 0 or max_rows < 1:
            raise InputError("the time limit must be positive and the row limit at least 1")
        self.data_dir = None if data_dir is None else str(data_dir)
        self.cache = cache
        self.timeout = timeout
        self.max_rows = max_rows
        self.kg = KnowledgeGraph(data_dir, cache=cache, on_rebuild=on_rebuild)
        self.kg.store  # build the cache now, not in the first request (nor in every worker)
        # Workers are forked from a small single-threaded server process, not from this
        # multi-threaded one; a bounded number run at once.
        self._mp = multiprocessing.get_context("forkserver")
        self._mp.set_forkserver_preload(["untoc_kg.serving", "untoc_kg.loading", "untoc_kg.querying",
                                         "untoc_kg.results", "untoc_kg.export"])
        self._slots = _Slots(max(2, os.cpu_count() or 2))
        self._workers: dict[int, object] = {}  # pid -> process, while a query runs
        self._idle: list[tuple] = []  # (process, connection, jobs done) of workers waiting for one
        self._lock = threading.Lock()

    # -- queries in a worker

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
        left_early = _error(499, "the client closed the connection")  # never sent: nobody to read it
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
                        return _error(503, f"query stopped: it ran longer than the time limit of "
                                           f"{self.timeout:g} s (untoc serve --timeout); narrow it "
                                           f"with more specific patterns, or add LIMIT")
                    if conn.poll(min(wait, _POLL)):
                        try:
                            reply = conn.recv()
                        except (EOFError, OSError):
                            return _error(500, "the query worker stopped without an answer")
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

    # -- routing

    def handle(self, method: str, target: str, headers, body: bytes = b"", gone=None) -> Reply:
        """The answer to one request; ``gone()``, when given, tells whether the client has left."""
        try:
            parts = urlsplit(target)
        except ValueError:  # e.g. "//a]b": a bracket in what urlsplit takes for a host
            return _error(400, "malformed request target")
        path = unquote(parts.path)
        params = parse_qs(parts.query, keep_blank_values=True)
        accept = headers.get("Accept")
        lang = (params.get("lang") or ["en"])[0]
        lang = lang if lang in pages.LANGS else "en"
        if method not in ("GET", "HEAD", "POST"):
            return _error(405, f"{method} is not supported")
        if path == "/sparql":
            return self._sparql(method, params, headers, body, gone)
        if method == "POST":
            return _error(405, "only /sparql takes POST")
        if path in ("/", "/index.html"):
            events = pages.timeline_events(self.kg.store, lang)
            return Reply(200, pages.home_page(events, self.kg.catalogue, lang).encode(), _HTML)
        if path in ("/queries", "/queries/"):
            return self._catalogue(params, accept, lang)
        if path.startswith("/queries/"):
            return self._saved(path[len("/queries/"):], params, accept, lang, gone)
        if path.startswith("/id/"):
            return self._entity(ID + path[len("/id/"):], params, accept, lang)
        if path == "/ontology" or path.rpartition(".")[0] == "/ontology":
            return self._ontology(path, accept)
        if path in ("/timeline", "/timeline.svg"):
            svg = pages.timeline_svg(pages.timeline_events(self.kg.store, lang), self._labels(lang), lang)
            return self._picture(path, svg, "timeline", lang)
        if path in ("/lineage", "/lineage.svg"):
            svg = pages.lineage_svg(pages.lineage_edges(self.kg.store), self._labels(lang), lang)
            return self._picture(path, svg, "lineage", lang)
        return _error(404, f"nothing at {path}; see / for what this server offers")

    def _labels(self, lang: str):
        from .results import term_label_lookup

        return term_label_lookup(self.kg.store, lang)

    @staticmethod
    def _picture(path: str, svg: str, name: str, lang: str) -> Reply:
        if path.endswith(".svg"):
            return Reply(200, svg.encode(), "image/svg+xml; charset=utf-8")
        return Reply(200, pages.picture_page(name, svg, lang).encode(), _HTML)

    def _sparql(self, method, params, headers, body, gone) -> Reply:
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if method == "POST":
            if ctype == "application/sparql-update":
                return _error(403, "this endpoint is read-only: SPARQL Update is not accepted")
            if ctype == "application/x-www-form-urlencoded":
                form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                params = {**params, **form}
            elif ctype == "application/sparql-query":
                if "query" in params:
                    return _error(400, "give the query either in the body or as ?query=, not both")
                params = {**params, "query": [body.decode("utf-8", "replace")]}
            else:
                return _error(415, "POST a query as application/sparql-query or as a form "
                                   "(application/x-www-form-urlencoded) with query=")
        if "update" in params or "using-graph-uri" in params:
            return _error(403, "this endpoint is read-only: SPARQL Update is not accepted")
        if "default-graph-uri" in params or "named-graph-uri" in params:
            return _error(400, "default-graph-uri and named-graph-uri are not supported: queries "
                               "run on the local graph only")
        queries = params.get("query")
        if not queries:
            host = headers.get("Host") or "localhost"
            return Reply(200, _service_description(f"http://{host}/sparql"),
                         "text/turtle; charset=utf-8")
        if len(queries) > 1:
            return _error(400, "give one query= only")
        fmt = _format_param(params)
        if fmt is None and negotiate(headers.get("Accept"), {**RESULT_TYPES, **RDF_TYPES}, "json") is None:
            return _error(406, "this endpoint answers in " + ", ".join(
                sorted(set(_RESULT_MIME.values()) | set(_RDF_MIME.values()))))
        return self.run(queries[0], accept=headers.get("Accept"), fmt=fmt, gone=gone)

    def _catalogue(self, params, accept, lang: str) -> Reply:
        fmt = _format_param(params) or negotiate(accept, {**_PAGE_TYPES, "application/json": "json"},
                                                 "json")
        if fmt == "html":
            return Reply(200, pages.catalogue_page(self.kg.catalogue, lang).encode(), _HTML)
        if fmt not in ("json", None):
            return _error(400, f"the catalogue comes as json or html, not {fmt!r}")
        listing = [{"name": q.name, "summary": q.summary, "description": q.description,
                    "kind": q.kind, "url": f"/queries/{q.name}",
                    "params": [{"name": p.name, "type": p.type, "required": p.required,
                                "optional": p.optional, "default": p.default,
                                "description": p.description, "example": p.example}
                               for p in q.params]}
                   for q in self.kg.catalogue]
        return Reply(200, (json.dumps(listing, indent=2, ensure_ascii=False) + "\n").encode(),
                     "application/json")

    def _saved(self, name: str, params, accept, lang: str, gone) -> Reply:
        try:
            saved = self.kg.catalogue.get(name)
        except UnknownQueryError as exc:
            return _error(404, str(exc))
        keys = [k for k in ("format", "output", "results") if saved.param(k) is None]
        fmt = _format_param(params, keys)
        for key in keys:
            params.pop(key, None)
        html = fmt == "html" or fmt is None and negotiate(
            accept, {**_PAGE_TYPES, **RESULT_TYPES, **RDF_TYPES}, "json") == "html"
        twice = [k for k, v in params.items() if len(v) > 1]
        if twice:
            return _error(400, f"parameter {twice[0]!r} is given twice")
        values = {k: v[0] for k, v in params.items()}
        if html:
            return self._saved_page(saved, values, lang, gone)
        try:
            bindings = saved.bindings(values)
        except ParameterError as exc:
            return _error(400, str(exc))
        return self.run(saved.text, bindings, accept=accept, fmt=fmt, gone=gone)

    def _saved_page(self, saved, values: dict[str, str], lang: str, gone) -> Reply:
        """A saved query for people: its form, and its results as a table when it can run."""
        if saved.param("lang") is None:
            values.pop("lang", None)  # the page's language, not a parameter of this query
        given = {k: v for k, v in values.items() if v.strip()}  # a form sends empty fields too
        if any(p.required and p.name not in given for p in saved.params):
            return Reply(200, pages.saved_query_page(saved, values, lang).encode(), _HTML)
        try:
            bindings = saved.bindings(given)
        except ParameterError as exc:
            return Reply(400, pages.saved_query_page(saved, values, lang, error=str(exc)).encode(),
                         _HTML)
        graph = saved.kind in ("CONSTRUCT", "DESCRIBE")
        reply = self.run(saved.text, bindings, fmt="ntriples" if graph else "json", gone=gone)
        if reply.status != 200:
            message = reply.body.decode("utf-8", "replace").strip()
            return Reply(reply.status, pages.saved_query_page(
                saved, values, lang, error=message).encode(), _HTML)
        if graph:
            variables = ["subject", "predicate", "object"]
            rows = [dict(zip(variables, (t.subject, t.predicate, t.object)))
                    for t in ox.parse(reply.body, format=ox.RdfFormat.N_TRIPLES)]
            names = {"Turtle": "turtle", "JSON-LD": "jsonld", "N-Triples": "ntriples",
                     "RDF/XML": "xml"}
        else:
            variables, rows = _terms_from_json(json.loads(reply.body))
            names = {"JSON": "json", "XML": "xml", "CSV": "csv", "TSV": "tsv"}
        table = pages.results_table(variables, rows, self._labels(lang), lang)
        formats = {shown: f"/queries/{saved.name}?" + urlencode({**given, "format": fmt})
                   for shown, fmt in names.items()}
        return Reply(200, pages.saved_query_page(saved, values, lang, results=table,
                                                 formats=formats).encode(), _HTML)

    def _entity(self, iri: str, params, accept, lang: str) -> Reply:
        from .describe import describe
        from .export import load_context, serialize

        fmt = None
        if not self._known(iri):
            base, dot, suffix = iri.rpartition(".")
            if not (dot and "." + suffix in _SUFFIXES and self._known(base)):
                return _error(404, f"no entity {iri} in the graph")
            iri, fmt = base, _SUFFIXES["." + suffix]
        if fmt is None:
            fmt = negotiate(accept, {"text/html": "html", "application/xhtml+xml": "html",
                                     **RDF_TYPES}, "html")
            if fmt is None:
                return _error(406, "entity pages come as text/html, " + ", ".join(_RDF_MIME))
        if fmt == "html":
            page = pages.entity_page(describe(self.kg.store, iri), self._labels(lang), lang)
            return Reply(200, page.encode("utf-8"), _HTML)
        quads = [ox.Quad(t.subject, t.predicate, t.object) for t in self.kg.store.query(
            "CONSTRUCT { ?s ?p ?o . ?st ?sp ?so } WHERE { { ?s ?p ?o } UNION "
            "{ ?st rdf:subject ?s ; ?sp ?so } }", prefixes=PREFIXES, use_default_graph_as_union=True,
            substitutions={ox.Variable("s"): ox.NamedNode(iri)})]
        context = load_context(self.kg.source) if fmt == "jsonld" else None
        return Reply(200, serialize(quads, fmt, context=context), _RDF_MIME[fmt])

    def _known(self, iri: str) -> bool:
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            return False
        return bool(self.kg.store.query("ASK { { ?s ?p ?o } UNION { ?x ?y ?s } }",
                                        use_default_graph_as_union=True,
                                        substitutions={ox.Variable("s"): node}))

    def _ontology(self, path: str, accept) -> Reply:
        """The ontology IRI (https://w3id.org/untoc/ontology): its documentation for browsers, the
        ontology itself by Accept or suffix; built once per content of the ontology's files."""
        from .ontodocs import FORMAT_FILES, docs_files

        if path == "/ontology":
            fmt = negotiate(accept, {"text/html": "html", "application/xhtml+xml": "html",
                                     **RDF_TYPES}, "html")
            if fmt is None:
                return _error(406, "the ontology comes as text/html, " + ", ".join(_RDF_MIME))
        else:
            fmt = {**_SUFFIXES, ".html": "html"}.get(path[len("/ontology"):])
            if fmt is None:
                return _error(404, f"nothing at {path}; the ontology is at /ontology (also "
                                   + ", ".join("/ontology" + s for s in _SUFFIXES) + ")")
        body = docs_files(self.kg.source)[FORMAT_FILES[fmt]]
        return Reply(200, body, _HTML if fmt == "html" else _RDF_MIME[fmt])


# --- HTTP plumbing ----------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    server_version = "untoc-kg"
    protocol_version = "HTTP/1.1"
    timeout = 60  # seconds a silent client may hold its connection (and thread)

    def _respond(self, reply: Reply, head: bool = False) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Vary", "Accept")  # answers depend on it (content negotiation)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(reply.body)

    def _client_gone(self) -> bool:
        """Whether the client has closed its end: the socket reads as ended (a client that sends
        more, such as a pipelined request, is still there)."""
        try:
            ready, _, _ = select.select([self.connection], [], [], 0)
            return bool(ready) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:  # reset by the peer
            return True

    def handle_expect_100(self):
        """A client that asks before sending its body hears at once when the body is too large."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > _MAX_BODY:
            self.close_connection = True
            self._respond(_error(413, f"the request body must be at most {_MAX_BODY} bytes"))
            return False
        return super().handle_expect_100()

    def _dispatch(self, method: str) -> None:
        body = b""
        if len(self.path) > _MAX_TARGET:
            self.close_connection = True
            return self._respond(_error(414, f"the request target must be at most {_MAX_TARGET} "
                                             f"bytes: send long queries with POST"))
        if method == "POST":
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > _MAX_BODY:
                self.close_connection = True
                if length <= _DRAIN:  # a client that sends before it listens still hears why
                    while length > 0:
                        chunk = self.rfile.read(min(length, 1 << 16))
                        if not chunk:
                            break
                        length -= len(chunk)
                return self._respond(_error(413, f"the request body must be at most {_MAX_BODY} bytes"))
            body = self.rfile.read(length)
        try:
            reply = self.server.service.handle(method, self.path, self.headers, body,
                                               gone=self._client_gone)
        except UntocError as exc:
            reply = _error(400, str(exc))
        except Exception as exc:  # noqa: BLE001 - one bad page must not take the connection down
            self.log_error("internal error on %s: %r", self.path, exc)
            reply = _error(500, f"internal error: {type(exc).__name__}")
        if reply.status == 499:  # the client has gone: there is no one to answer
            self.close_connection = True
            return
        self._respond(reply, head=method == "HEAD")

    def do_GET(self):  # noqa: N802 - the names http.server looks up
        self._dispatch("GET")

    def do_HEAD(self):  # noqa: N802
        self._dispatch("HEAD")

    def do_POST(self):  # noqa: N802
        self._dispatch("POST")

    def do_OPTIONS(self):  # noqa: N802 - CORS preflight
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Accept, Content-Type")
        self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):  # noqa: A002 - one line per request, on stderr
        if not getattr(self.server, "quiet", False):
            super().log_message(format, *args)


def make_server(service: Service, host: str = "127.0.0.1", port: int = 8080, *,
                quiet: bool = False) -> ThreadingHTTPServer:
    """A threading HTTP server answering with ``service`` (not yet serving; port 0 picks one)."""
    try:
        server = ThreadingHTTPServer((host, port), _Handler)
    except OSError as exc:
        raise UntocError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    server.daemon_threads = True
    server.service = service
    server.quiet = quiet
    return server


def serve(server: ThreadingHTTPServer) -> None:
    """Serve until interrupted (Ctrl-C), then close the socket."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.service.close()
