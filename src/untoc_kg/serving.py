"""Publishing the graph over HTTP with the standard library: a read-only SPARQL 1.1 Protocol
endpoint, the saved-query catalogue, dereferenceable entity IRIs, a home page and pictures.

Clients' queries are answered by the killable worker processes of ``workers``. Pages the server
composes itself (entity pages, timeline, the saved-query forms) read the server's own store: their
queries are fixed and small; a saved query's results on its HTML page come from a worker.
"""

from __future__ import annotations

import json
import select
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pyoxigraph as ox

from . import pages, pictures
from .errors import ParameterError, UnknownQueryError, UntocError
from .namespaces import ID, PREFIXES
from .negotiation import (PAGE_TYPES, RDF_MIME, RDF_TYPES, RESULT_MIME, RESULT_TYPES, SUFFIXES,
                          format_param, negotiate)
from .workers import QueryWorkers, Reply, error_reply

__all__ = ["Service", "make_server", "serve"]

_HTML = "text/html; charset=utf-8"
_MAX_BODY = 1 << 20  # a query text longer than 1 MiB is not a question, it is a mistake
_DRAIN = 8 * _MAX_BODY  # bodies up to this size are read and dropped before the 413, larger ones not
_MAX_TARGET = 16 * 1024  # longer URLs: send the query with POST (http.server itself stops at 64 KiB)


def _too_large():
    return error_reply(413, f"the request body must be at most {_MAX_BODY} bytes")


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


class Service(QueryWorkers):
    """What the server answers, independent of the HTTP plumbing: ``handle`` gives a Reply.
    Queries from clients run in the workers of the pool it extends (``run``)."""

    def __init__(self, data_dir=None, *, cache: bool = True, timeout: float = 10.0,
                 max_rows: int = 10000, on_rebuild=None):
        from .graph import KnowledgeGraph

        super().__init__(data_dir, cache=cache, timeout=timeout, max_rows=max_rows)
        from .loading import HeldStore

        self.kg = KnowledgeGraph(data_dir, cache=cache, on_rebuild=on_rebuild)
        self._held = HeldStore(self.kg.source, cache=cache, on_rebuild=on_rebuild)
        self._held.get()  # build the cache now, not in the first request (nor in every worker)

    @property
    def store(self) -> ox.Store:
        """The store the pages read, reopened when the content of the files changed, as the query
        workers reopen theirs: pages and SPARQL answers never disagree about the data."""
        return self._held.get()

    def handle(self, method: str, target: str, headers, body: bytes = b"", gone=None) -> Reply:
        """The answer to one request; ``gone()``, when given, tells whether the client has left."""
        try:
            parts = urlsplit(target)
        except ValueError:  # e.g. "//a]b": a bracket in what urlsplit takes for a host
            return error_reply(400, "malformed request target")
        path = unquote(parts.path)
        params = parse_qs(parts.query, keep_blank_values=True)
        accept = headers.get("Accept")
        lang = (params.get("lang") or ["en"])[0]
        lang = lang if lang in pages.LANGS else "en"
        if method not in ("GET", "HEAD", "POST"):
            return error_reply(405, f"{method} is not supported")
        if path == "/sparql":
            return self._sparql(method, params, headers, body, gone)
        if method == "POST":
            return error_reply(405, "only /sparql takes POST")
        if path in ("/", "/index.html"):
            events = pictures.timeline_events(self.store, lang)
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
            events = pictures.timeline_events(self.store, lang)
            svg = pictures.timeline_svg(events, self._labels(lang), lang)
            return self._picture(path, svg, "timeline", lang)
        if path in ("/lineage", "/lineage.svg"):
            svg = pictures.lineage_svg(pictures.lineage_edges(self.store), self._labels(lang), lang)
            return self._picture(path, svg, "lineage", lang)
        return error_reply(404, f"nothing at {path}; see / for what this server offers")

    def _labels(self, lang: str):
        from .results import term_label_lookup

        return term_label_lookup(self.store, lang)

    @staticmethod
    def _picture(path: str, svg: str, name: str, lang: str) -> Reply:
        if path.endswith(".svg"):
            return Reply(200, svg.encode(), "image/svg+xml; charset=utf-8")
        return Reply(200, pages.picture_page(name, svg, lang).encode(), _HTML)

    def _sparql(self, method, params, headers, body, gone) -> Reply:
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if method == "POST":
            if ctype == "application/sparql-update":
                return error_reply(403, "this endpoint is read-only: SPARQL Update is not accepted")
            if ctype == "application/x-www-form-urlencoded":
                form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                params = {**params, **form}
            elif ctype == "application/sparql-query":
                if "query" in params:
                    return error_reply(400, "give the query either in the body or as ?query=, not both")
                params = {**params, "query": [body.decode("utf-8", "replace")]}
            else:
                return error_reply(415, "POST a query as application/sparql-query or as a form "
                                        "(application/x-www-form-urlencoded) with query=")
        if "update" in params or "using-graph-uri" in params:
            return error_reply(403, "this endpoint is read-only: SPARQL Update is not accepted")
        if "default-graph-uri" in params or "named-graph-uri" in params:
            return error_reply(400, "default-graph-uri and named-graph-uri are not supported: "
                                    "queries run on the local graph only")
        queries = params.get("query")
        if not queries:
            host = headers.get("Host") or "localhost"
            return Reply(200, _service_description(f"http://{host}/sparql"),
                         "text/turtle; charset=utf-8")
        if len(queries) > 1:
            return error_reply(400, "give one query= only")
        fmt = format_param(params)
        if fmt is None and negotiate(headers.get("Accept"), {**RESULT_TYPES, **RDF_TYPES}, "json") is None:
            return error_reply(406, "this endpoint answers in " + ", ".join(
                sorted(set(RESULT_MIME.values()) | set(RDF_MIME.values()))))
        return self.run(queries[0], accept=headers.get("Accept"), fmt=fmt, gone=gone)

    def _catalogue(self, params, accept, lang: str) -> Reply:
        fmt = format_param(params) or negotiate(accept, {**PAGE_TYPES, "application/json": "json"},
                                                "json")
        if fmt == "html":
            return Reply(200, pages.catalogue_page(self.kg.catalogue, lang).encode(), _HTML)
        if fmt not in ("json", None):
            return error_reply(400, f"the catalogue comes as json or html, not {fmt!r}")
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
            return error_reply(404, str(exc))
        keys = [k for k in ("format", "output", "results") if saved.param(k) is None]
        fmt = format_param(params, keys)
        for key in keys:
            params.pop(key, None)
        html = fmt == "html" or fmt is None and negotiate(
            accept, {**PAGE_TYPES, **RESULT_TYPES, **RDF_TYPES}, "json") == "html"
        twice = [k for k, v in params.items() if len(v) > 1]
        if twice:
            return error_reply(400, f"parameter {twice[0]!r} is given twice")
        values = {k: v[0] for k, v in params.items()}
        if html:
            return self._saved_page(saved, values, lang, gone)
        try:
            bindings = saved.bindings(values)
        except ParameterError as exc:
            return error_reply(400, str(exc))
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
            if not (dot and "." + suffix in SUFFIXES and self._known(base)):
                return error_reply(404, f"no entity {iri} in the graph")
            iri, fmt = base, SUFFIXES["." + suffix]
        if fmt is None:
            fmt = negotiate(accept, {"text/html": "html", "application/xhtml+xml": "html",
                                     **RDF_TYPES}, "html")
            if fmt is None:
                return error_reply(406, "entity pages come as text/html, " + ", ".join(RDF_MIME))
        if fmt == "html":
            page = pages.entity_page(describe(self.store, iri), self._labels(lang), lang)
            return Reply(200, page.encode("utf-8"), _HTML)
        quads = [ox.Quad(t.subject, t.predicate, t.object) for t in self.store.query(
            "CONSTRUCT { ?s ?p ?o . ?st ?sp ?so } WHERE { { ?s ?p ?o } UNION "
            "{ ?st rdf:subject ?s ; ?sp ?so } }", prefixes=PREFIXES, use_default_graph_as_union=True,
            substitutions={ox.Variable("s"): ox.NamedNode(iri)})]
        context = load_context(self.kg.source) if fmt == "jsonld" else None
        return Reply(200, serialize(quads, fmt, context=context), RDF_MIME[fmt])

    def _known(self, iri: str) -> bool:
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            return False
        return bool(self.store.query("ASK { { ?s ?p ?o } UNION { ?x ?y ?s } }",
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
                return error_reply(406, "the ontology comes as text/html, " + ", ".join(RDF_MIME))
        else:
            fmt = {**SUFFIXES, ".html": "html"}.get(path[len("/ontology"):])
            if fmt is None:
                return error_reply(404, f"nothing at {path}; the ontology is at /ontology (also "
                                        + ", ".join("/ontology" + s for s in SUFFIXES) + ")")
        body = docs_files(self.kg.source)[FORMAT_FILES[fmt]]
        return Reply(200, body, _HTML if fmt == "html" else RDF_MIME[fmt])


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
        if not 0 <= self._body_length() <= _MAX_BODY:
            self.close_connection = True
            self._respond(_too_large())
            return False
        return super().handle_expect_100()

    def _body_length(self) -> int:
        """The announced body length; -1 when it is not a number."""
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return -1

    def _dispatch(self, method: str) -> None:
        body = b""
        if len(self.path) > _MAX_TARGET:
            self.close_connection = True
            return self._respond(error_reply(414, f"the request target must be at most "
                                                  f"{_MAX_TARGET} bytes: send long queries with POST"))
        if method == "POST":
            length = self._body_length()
            if not 0 <= length <= _MAX_BODY:
                self.close_connection = True
                if length <= _DRAIN:  # a client that sends before it listens still hears why
                    while length > 0:
                        chunk = self.rfile.read(min(length, 1 << 16))
                        if not chunk:
                            break
                        length -= len(chunk)
                return self._respond(_too_large())
            body = self.rfile.read(length)
        try:
            reply = self.server.service.handle(method, self.path, self.headers, body,
                                               gone=self._client_gone)
        except UntocError as exc:
            reply = error_reply(400, str(exc))
        except Exception as exc:  # noqa: BLE001 - one bad page must not take the connection down
            self.log_error("internal error on %s: %r", self.path, exc)
            reply = error_reply(500, f"internal error: {type(exc).__name__}")
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
