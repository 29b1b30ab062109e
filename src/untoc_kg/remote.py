"""Talking to other triple stores: ask a remote SPARQL 1.1 endpoint, push the graph to a store.

Only the standard library (``urllib.request``) is used, so the remote features add no dependency.

* ``RemoteEndpoint.query`` sends a query by the SPARQL 1.1 Protocol (direct POST) and turns the W3C
  JSON results (or N-Triples/Turtle for CONSTRUCT/DESCRIBE) into the same ``QueryResult`` the local
  engine returns. The protocol has no parameter substitution, so saved-query parameters are bound by a
  ``VALUES`` block at the start of the WHERE group (and of every sub-SELECT that projects them, which
  is where pyoxigraph's substitution reaches too). The block is written from the already type-checked
  RDF terms with strict N-Triples escaping, never from the user's text, so a parameter cannot change
  the query.
* ``push`` replaces the ontology, data, shapes and VoID graphs of a store that speaks the SPARQL 1.1
  Graph Store HTTP Protocol (one ``PUT ?graph=IRI`` of N-Triples per graph), then counts the triples of
  each graph through the store's query endpoint and checks them against what was sent.

Every failure (refused connection, timeout, HTTP error, an answer that is not SPARQL results) is a
``RemoteError`` with a one-line message.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pyoxigraph as ox

from .errors import UntocError
from .namespaces import BASE, PREFIXES
from .querying import QueryResult

__all__ = ["RemoteError", "RemoteQueryError", "Auth", "RemoteEndpoint", "sparql_term", "bind_values",
           "default_query_endpoint", "push", "PushedGraph", "DEFAULT_GRAPH_PREFIX"]

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RESULTS_JSON = "application/sparql-results+json"
DEFAULT_GRAPH_PREFIX = BASE + "graph/"
_USER_AGENT = "untoc-kg (+https://w3id.org/untoc/)"


class RemoteError(UntocError):
    """A remote endpoint or store cannot be reached, or answers with an error or not in SPARQL."""

    exit_code = 1


class RemoteQueryError(RemoteError):
    """The endpoint rejected the query itself (HTTP 400): the question, not the network, is wrong."""

    exit_code = 2


# --------------------------------------------------------------------------------------------------
# Terms and parameter binding


_LANG_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_IRI_FORBIDDEN = set('<>"{}|^`\\')
_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _iri(value: str) -> str:
    for ch in value:
        if ch in _IRI_FORBIDDEN or ord(ch) <= 0x20 or 0xD800 <= ord(ch) <= 0xDFFF:
            raise ValueError(f"{value!r} contains characters not allowed in an IRI")
    return f"<{value}>"


def _string(value: str) -> str:
    out = []
    for ch in value:
        code = ord(ch)
        if ch in _ECHAR:
            out.append(_ECHAR[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError("the text is not valid Unicode")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def sparql_term(term) -> str:
    """An RDF term (pyoxigraph) in strict N-Triples syntax, which is also valid SPARQL.

    Backslashes and quotes are always escaped, and no ``\\u`` escape is written for a quote or a
    backslash, so even a server that expands escapes before parsing cannot be led out of the string.
    """
    if isinstance(term, ox.NamedNode):
        return _iri(term.value)
    if isinstance(term, ox.Literal):
        text = _string(term.value)
        if term.language:
            if not _LANG_TAG.match(term.language):
                raise ValueError(f"{term.language!r} is not a language tag")
            return f"{text}@{term.language}"
        if term.datatype.value != XSD_STRING:
            return f"{text}^^{_iri(term.datatype.value)}"
        return text
    raise ValueError(f"cannot bind {type(term).__name__} terms in a remote query")


_TOKEN = re.compile(
    r"""(?P<skip>'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"
        |<[^<>"{}|^`\\\x00-\x20]*>|\#[^\n]*)
      |(?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
      |(?P<word>[A-Za-z_][\w.:-]*)
      |(?P<punct>[{}()*])""",
    re.DOTALL | re.VERBOSE)
_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


def _tokens(text: str):
    """(kind, text, position) of the significant tokens: strings, IRIs and comments are skipped."""
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "skip":
            continue
        value = m.group(kind)
        if kind == "word":
            if ":" in value:  # a prefixed name, never a keyword
                continue
            value = value.upper()
        yield kind, value, m.start()


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the form of the top-level query."""
    depth = 0
    for kind, value, _ in _tokens(text):
        if value == "{":
            depth += 1
        elif value == "}":
            depth -= 1
        elif kind == "word" and depth == 0 and value in _FORMS:
            return value
    return "SELECT"


def _projection(toks, j: int) -> tuple[set[str] | None, int]:
    """Variables a SELECT at ``toks[j - 1]`` projects (None for ``*``) and the index of its '{'."""
    projected: set[str] | None = set()
    parens = 0
    after_as = False
    while j < len(toks) and toks[j][1] != "{":
        k, v, _ = toks[j]
        if v == "(":
            parens += 1
        elif v == ")":
            parens -= 1
        elif v == "*" and parens == 0:
            projected = None
        elif k == "var" and projected is not None and (parens == 0 or after_as):
            projected.add(v[1:])
        after_as = k == "word" and v == "AS"
        j += 1
    return projected, j


def _groups(text: str) -> list[tuple[int, set[str] | None]]:
    """Where to bind: (offset just after a group's '{', the parameters it may bind; None = all).

    Every group graph pattern of the WHERE clause is listed, nested ones included: a FILTER in a
    UNION branch or a sub-group only sees variables bound inside its own group, while the local
    engine substitutes parameters everywhere. A sub-SELECT's groups bind only the parameters it
    projects (all for ``SELECT *``); the CONSTRUCT template and VALUES data blocks are left alone.
    """
    toks = list(_tokens(text))
    out: list[tuple[int, set[str] | None]] = []
    # stack of frames: the parameters a group may bind, or False for braces that are not groups
    stack: list[set[str] | None | bool] = []
    form_seen = False
    template_pending = False
    values_pending = False
    pending_select: tuple[set[str] | None] | None = None
    i = 0
    while i < len(toks):
        kind, value, pos = toks[i]
        scope = stack[-1] if stack else None
        if value == "{":
            if not stack and not form_seen:
                stack.append(False)  # not a query we understand; never insert before the form
            elif template_pending:
                template_pending = False
                stack.append(False)
            elif values_pending or scope is False:
                values_pending = False
                stack.append(False)
            else:
                allowed = None if not stack else scope
                if pending_select is not None:
                    projected = pending_select[0]
                    pending_select = None
                    if projected is not None:
                        allowed = projected if allowed is None else (allowed & projected)
                stack.append(allowed)
                nxt = toks[i + 1][1] if i + 1 < len(toks) else None
                if nxt != "SELECT" and not (isinstance(allowed, set) and not allowed):
                    out.append((pos + 1, allowed))
        elif value == "}":
            if stack:
                stack.pop()
        elif kind == "word":
            if not stack and value in _FORMS and not form_seen:
                form_seen = True
                if value == "CONSTRUCT":
                    template_pending = i + 1 < len(toks) and toks[i + 1][1] == "{"
                elif value == "SELECT":
                    projected, j = _projection(toks, i + 1)
                    i = j
                    continue
            elif stack and stack[-1] is not False:
                if value == "VALUES":
                    values_pending = True
                elif value == "SELECT":
                    projected, j = _projection(toks, i + 1)
                    pending_select = (projected,)
                    i = j
                    continue
        i += 1
    return out


def bind_values(text: str, bindings: dict[str, object] | None) -> str:
    """The query with a ``VALUES (?a ?b) { (term term) }`` block binding each parameter."""
    if not bindings:
        return text
    terms = {}
    for name, term in bindings.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise RemoteError(f"cannot bind a parameter named {name!r}")
        try:
            terms[name] = sparql_term(term)
        except ValueError as exc:
            raise RemoteError(f"parameter {name!r}: {exc}") from None
    groups = _groups(text)
    if not groups:
        raise RemoteError("cannot bind parameters: the query has no WHERE group")
    for offset, allowed in sorted(groups, reverse=True):
        names = [n for n in terms if allowed is None or n in allowed]
        if not names:
            continue
        block = (" VALUES (" + " ".join("?" + n for n in names) + ") { ("
                 + " ".join(terms[n] for n in names) + ") } ")
        text = text[:offset] + block + text[offset:]
    return text


_PREFIX_DECL = re.compile(r"\bPREFIX\s+([A-Za-z][\w.-]*)?:", re.IGNORECASE)
_STRINGS_ONLY = re.compile(r"'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|#[^\n]*",
                           re.DOTALL)


def with_prefixes(text: str) -> str:
    """The project's prefixes the query uses without declaring (as the local engine allows)."""
    code = _STRINGS_ONLY.sub(" ", text)
    declared = {m.group(1) or "" for m in _PREFIX_DECL.finditer(code)}
    missing = [p for p in PREFIXES if p not in declared and re.search(rf"(?<![\w.-]){re.escape(p)}:", code)]
    if not missing:
        return text
    # on the query's first line, so that the server's line numbers in errors stay right
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}> " for p in missing) + text


# --------------------------------------------------------------------------------------------------
# HTTP


@dataclass(frozen=True)
class Auth:
    """Credentials: user and password (HTTP Basic or Digest, as the server asks) or a bearer token."""

    user: str | None = None
    password: str | None = None
    token: str | None = None


def _display(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urllib.parse.urlsplit(url)
    if "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
    return urllib.parse.urlunsplit(parts)


def _check_url(url: str, what: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteError(f"{what} must be an http:// or https:// URL, not {url!r}")
    try:
        parts.port
    except ValueError:
        raise RemoteError(f"{what} has an invalid port: {url!r}") from None
    return url


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Http:
    def __init__(self, auth: Auth | None, timeout: float):
        self.auth = auth or Auth()
        self.timeout = timeout
        # User and password answer the server's challenge, Basic or Digest (Virtuoso's authenticated
        # endpoints want Digest and refuse a Basic header sent up front).
        self.manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        handlers = []
        if self.auth.user is not None:
            handlers = [urllib.request.HTTPDigestAuthHandler(self.manager),
                        urllib.request.HTTPBasicAuthHandler(self.manager)]
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, method: str, url: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[str, bytes]:
        """(content type, body) of a 2xx answer; RemoteError for anything else."""
        shown = _display(url)
        if self.auth.user is not None:
            self.manager.add_password(None, url, self.auth.user, self.auth.password or "")
        req = urllib.request.Request(url, data=body, method=method)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        req.add_header("User-Agent", _USER_AGENT)
        if self.auth.token is not None:
            req.add_unredirected_header("Authorization", f"Bearer {self.auth.token}")
        try:
            with self.opener.open(req, timeout=self.timeout) as resp:
                return resp.headers.get("Content-Type", ""), resp.read()
        except urllib.error.HTTPError as exc:
            try:
                detail = exc.read().decode("utf-8", "replace")
            except Exception:  # noqa: BLE001 - the status line is enough
                detail = ""
            ctype = (exc.headers.get("Content-Type", "") if exc.headers else "").lower()
            if "html" in ctype:
                detail = re.sub(r"<[^>]*>", " ", detail)
            message = f"{shown} answered HTTP {exc.code} {exc.reason}"
            if detail.strip():
                message += ": " + _one_line(detail)
            if exc.code in (401, 403):
                message += " (check --user/--password or --token)"
            raise (RemoteQueryError if exc.code == 400 else RemoteError)(message) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ConnectionRefusedError):
                raise RemoteError(f"cannot connect to {shown}: connection refused") from None
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise RemoteError(f"no answer from {shown} within {self.timeout:g} s") from None
            if isinstance(reason, socket.gaierror):
                raise RemoteError(f"cannot connect to {shown}: unknown host") from None
            if isinstance(reason, ssl.SSLError):
                raise RemoteError(f"TLS error with {shown}: {_one_line(str(reason))}") from None
            text = getattr(reason, "strerror", None) or str(reason)
            raise RemoteError(f"cannot connect to {shown}: {_one_line(text)}") from None
        except (socket.timeout, TimeoutError):
            raise RemoteError(f"no answer from {shown} within {self.timeout:g} s") from None
        except ConnectionRefusedError:
            raise RemoteError(f"cannot connect to {shown}: connection refused") from None
        except (http.client.HTTPException, OSError) as exc:
            text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise RemoteError(f"connection to {shown} failed: {_one_line(text)}") from None
        except ValueError as exc:
            raise RemoteError(f"request to {shown} failed: {_one_line(str(exc))}") from None


# --------------------------------------------------------------------------------------------------
# Querying


def _json_term(cell, where: str):
    if not isinstance(cell, dict) or not isinstance(cell.get("value"), str):
        raise ValueError(f"bad binding {where}")
    kind, value = cell.get("type"), cell["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value) if value else ox.BlankNode()
    if kind in ("literal", "typed-literal"):
        if cell.get("xml:lang"):
            return ox.Literal(value, language=cell["xml:lang"])
        if cell.get("datatype"):
            return ox.Literal(value, datatype=ox.NamedNode(cell["datatype"]))
        return ox.Literal(value)
    raise ValueError(f"unsupported term type {kind!r} {where}")


def parse_results_json(payload: bytes) -> QueryResult:
    """W3C SPARQL 1.1 Query Results JSON → QueryResult (ValueError if it is not that)."""
    doc = json.loads(payload.decode("utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    if "boolean" in doc:
        if not isinstance(doc["boolean"], bool):
            raise ValueError("'boolean' is not true or false")
        return QueryResult("ASK", boolean=doc["boolean"])
    head, results = doc.get("head"), doc.get("results")
    if not isinstance(head, dict) or not isinstance(results, dict):
        raise ValueError("no 'head' and 'results'")
    names = head.get("vars", [])
    bindings = results.get("bindings")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) \
            or not isinstance(bindings, list):
        raise ValueError("malformed 'head.vars' or 'results.bindings'")
    rows = []
    for i, binding in enumerate(bindings):
        if not isinstance(binding, dict):
            raise ValueError(f"result {i + 1} is not an object")
        rows.append({name: _json_term(binding[name], f"of ?{name} in result {i + 1}")
                     for name in names if name in binding})
    return QueryResult("SELECT", variables=list(names), rows=rows)


_RDF_TYPES = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


class RemoteEndpoint:
    """A SPARQL 1.1 query endpoint reached over HTTP."""

    def __init__(self, url: str, *, auth: Auth | None = None, timeout: float = 30.0):
        self.url = _check_url(url, "the endpoint")
        self.http = _Http(auth, timeout)

    def query(self, text: str, bindings: dict[str, object] | None = None) -> QueryResult:
        """Run a query (with parameters bound by VALUES) and return the local QueryResult shape."""
        form = query_form(text)
        body = with_prefixes(bind_values(text, bindings))
        try:
            payload = body.encode("utf-8")
        except UnicodeEncodeError:
            raise RemoteError("the query is not valid Unicode") from None
        graph = form in ("CONSTRUCT", "DESCRIBE")
        accept = ("application/n-triples, text/turtle;q=0.9" if graph
                  else f"{RESULTS_JSON}, application/json;q=0.5")
        ctype, answer = self.http.request(
            "POST", self.url, body=payload,
            headers={"Content-Type": "application/sparql-query; charset=utf-8", "Accept": accept})
        mime = ctype.split(";", 1)[0].strip().lower()
        shown = _display(self.url)
        if graph:
            fmt = _RDF_TYPES.get(mime)
            if fmt is None:
                raise RemoteError(f"{shown} did not answer with RDF (got {mime or 'no content type'}); "
                                  "is it a SPARQL query endpoint?")
            try:
                triples = [ox.Triple(q.subject, q.predicate, q.object)
                           for q in ox.parse(answer, format=fmt)]
            except (SyntaxError, ValueError) as exc:
                raise RemoteError(f"{shown} sent unreadable RDF: {_one_line(str(exc))}") from None
            return QueryResult("GRAPH", triples=triples)
        if mime not in (RESULTS_JSON, "application/json"):
            raise RemoteError(f"{shown} did not answer with SPARQL results (got "
                              f"{mime or 'no content type'}); is it a SPARQL query endpoint?")
        try:
            return parse_results_json(answer)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RemoteError(f"{shown} sent malformed SPARQL JSON results: {_one_line(str(exc))}") from None

    def label_lookup(self, result: QueryResult, lang: str, chunk: int = 200):
        """A function IRI → label in ``lang`` (else English, else any) for the IRIs of ``result``."""
        iris = sorted({t.value for row in result.rows for t in row.values()
                       if isinstance(t, ox.NamedNode)})
        labels: dict[str, dict[str, str]] = {}
        for i in range(0, len(iris), chunk):
            values = " ".join(sparql_term(ox.NamedNode(iri)) for iri in iris[i:i + chunk])
            found = self.query("SELECT ?s ?l WHERE { VALUES ?s { " + values + " } "
                               "?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }")
            for row in found.rows:
                s, label = row.get("s"), row.get("l")
                if isinstance(s, ox.NamedNode) and isinstance(label, ox.Literal):
                    labels.setdefault(s.value, {}).setdefault(label.language or "", label.value)

        def lookup(iri: str) -> str | None:
            found = labels.get(iri, {})
            return found.get(lang) or found.get("en") or next(iter(found.values()), None)

        return lookup


# --------------------------------------------------------------------------------------------------
# Pushing the graph


@dataclass(frozen=True)
class PushedGraph:
    graph: str
    triples: int
    bytes: int
    counted: int


def default_query_endpoint(store_url: str) -> str:
    """The query endpoint next to a Graph Store endpoint: Oxigraph's /store → /query
    (Fuseki's /ds/data → /ds/query)."""
    parts = urllib.parse.urlsplit(store_url)
    path = parts.path.rstrip("/")
    base = path.rsplit("/", 1)[0] if "/" in path else ""
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, base + "/query", "", ""))


def _graph_url(store_url: str, graph: str) -> str:
    sep = "&" if urllib.parse.urlsplit(store_url).query else "?"
    return store_url + sep + "graph=" + urllib.parse.quote(graph, safe="")


def push(source, store_url: str, *, query_url: str | None = None,
         graph_prefix: str = DEFAULT_GRAPH_PREFIX, auth: Auth | None = None, timeout: float = 60.0,
         on_progress=None) -> list[PushedGraph]:
    """Replace the ontology, data, shapes and VoID graphs on a Graph Store Protocol endpoint and
    check the triple count of each through the query endpoint. Returns what was pushed and counted."""
    from .export import GRAPH_VOID, dataset_quads
    from .loading import GRAPH_DATA, GRAPH_ONTOLOGY, GRAPH_SHAPES

    _check_url(store_url, "the store endpoint")
    query_url = _check_url(query_url or default_query_endpoint(store_url), "the query endpoint")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*", graph_prefix or ""):
        raise RemoteError(f"--graph-prefix must be an absolute IRI, not {graph_prefix!r}")
    progress = on_progress or (lambda message: None)
    http = _Http(auth, timeout)

    by_graph: dict[str, set] = {}
    for q in dataset_quads(source):
        by_graph.setdefault(q.graph_name.value, set()).add(ox.Triple(q.subject, q.predicate, q.object))
    plan = []
    order = [GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_SHAPES, GRAPH_VOID]
    for graph in sorted(by_graph, key=lambda g: (order.index(g) if g in order else len(order), g)):
        local = graph[len(DEFAULT_GRAPH_PREFIX):] if graph.startswith(DEFAULT_GRAPH_PREFIX) else graph
        target = graph_prefix + local if graph.startswith(DEFAULT_GRAPH_PREFIX) else graph
        triples = sorted(by_graph[graph], key=str)
        payload = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        plan.append((target, len(triples), payload))

    done: list[str] = []
    for target, count, payload in plan:
        try:
            http.request("PUT", _graph_url(store_url, target), body=payload,
                         headers={"Content-Type": "application/n-triples"})
        except RemoteError as exc:
            already = (f"; already replaced: {', '.join(done)}" if done else "; no graph was changed")
            raise RemoteError(f"push of <{target}> failed: {exc}{already}") from None
        done.append(f"<{target}>")
        progress(f"replaced <{target}>: {count} triples, {len(payload)} bytes")

    endpoint = RemoteEndpoint(query_url, auth=auth, timeout=timeout)
    values = " ".join(sparql_term(ox.NamedNode(t)) for t, _, _ in plan)
    try:
        counted = endpoint.query("SELECT ?g (COUNT(*) AS ?n) WHERE { VALUES ?g { " + values + " } "
                                 "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    except RemoteError as exc:
        raise RemoteError(f"all graphs were sent but could not be verified: {exc}") from None
    found = {}
    for row in counted.rows:
        g, n = row.get("g"), row.get("n")
        try:
            found[g.value] = int(n.value)
        except (AttributeError, ValueError):
            raise RemoteError(f"{_display(query_url)} sent an unreadable count for {g}") from None
    out = []
    wrong = []
    for target, count, payload in plan:
        got = found.get(target, 0)
        if got != count:
            wrong.append(f"<{target}> holds {got} triples, {count} were sent")
        out.append(PushedGraph(target, count, len(payload), got))
    if wrong:
        raise RemoteError("verification failed: " + "; ".join(wrong)
                          + " (is --query-endpoint the same store?)")
    return out
