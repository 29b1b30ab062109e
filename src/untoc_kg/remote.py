"""Talking to other triple stores: ask a remote SPARQL 1.1 endpoint, push the graph to a store.

Only the standard library (``urllib.request``) is used, so the remote features add no dependency.

* ``RemoteEndpoint.query`` sends a query by the SPARQL 1.1 Protocol (form POST) and turns the W3C
  JSON results (or N-Triples/Turtle for CONSTRUCT/DESCRIBE) into the same ``QueryResult`` the local
  engine returns. The protocol has no parameter substitution, so saved-query parameters are bound by
  ``BIND(term AS ?name)`` at the start of every group of the WHERE clause (and of every sub-SELECT
  that projects them, which is where pyoxigraph's substitution reaches too). The terms are written
  from the already type-checked RDF terms with strict N-Triples escaping, never from the user's text,
  so a parameter cannot change the query.
* ``push`` replaces the ontology, data, shapes and VoID graphs of a store that speaks the SPARQL 1.1
  Graph Store HTTP Protocol (one ``PUT ?graph=IRI`` of N-Triples per graph), then counts the triples of
  each graph through the store's query endpoint and checks them against what was sent.

Every failure (refused connection, timeout, HTTP error, an answer that is not SPARQL results) is a
``RemoteError`` with a one-line message.
"""

from __future__ import annotations

import base64
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


def _substitutions(text: str, names: set[str]):
    """Where the parameters go: (edits, roots).

    ``edits`` are (start, end, name or None): the text of a parameter variable used in the WHERE
    clause, to be replaced by its term; None marks a whole ``BOUND(?name)``, which becomes ``true``.
    ``roots`` are (offset of a WHERE group's closing '}', the parameters it binds): the query's WHERE
    group binds them all, a sub-SELECT's those it projects (all for ``SELECT *``), so that they are
    projected, grouped, ordered and put into a CONSTRUCT template as locally; a group binds none
    that a sub-SELECT inside it projects already.

    A sub-SELECT that does not project a parameter is left alone, as pyoxigraph's substitution
    leaves it. Variables that are assigned (``AS ?name``), listed by VALUES, or used in a
    sub-SELECT's projection and solution modifiers are not replaced: there a constant is not
    allowed, and the parameter is bound there by the BIND at the end of the sub-SELECT's WHERE.
    """
    toks = list(_tokens(text))
    edits: list[tuple[int, int, str | None]] = []
    roots: list[tuple[int, set[str]]] = []
    # frames: the parameters substituted in a group (None = all), or False for braces that are not
    # groups; beside them whether the group is a WHERE (root) and whether a sub-SELECT's solution
    # modifiers have started in it
    stack: list[set[str] | None | bool] = []
    is_root: list[bool] = []
    modifiers: list[bool] = []
    covered: list[set[str]] = []  # parameters a sub-SELECT inside the group already projects
    form_seen = template_pending = values_pending = False
    pending_select: tuple[set[str] | None] | None = None
    i = 0
    while i < len(toks):
        kind, value, pos = toks[i]
        scope = stack[-1] if stack else None
        if value == "{":
            root = False
            if not stack and not form_seen:
                stack.append(False)  # not a query we understand; never touch it
            elif template_pending:
                template_pending = False
                stack.append(False)
            elif values_pending or scope is False:
                values_pending = False
                stack.append(False)
            else:
                allowed = None if not stack else scope
                root = not stack or pending_select is not None
                if pending_select is not None:
                    projected = pending_select[0]
                    pending_select = None
                    if projected is not None:
                        allowed = projected if allowed is None else (allowed & projected)
                stack.append(allowed)
            is_root.append(root)
            modifiers.append(False)
            covered.append(set())
        elif value == "}":
            if stack:
                allowed = stack.pop()
                modifiers.pop()
                inner = covered.pop()
                if is_root.pop():
                    # a second BIND of a variable a sub-SELECT projects would be a syntax error
                    bound = (set(names) if allowed is None else (names & allowed)) - inner
                    if bound:
                        roots.append((pos, bound))
                    inner |= bound
                if covered:
                    covered[-1] |= inner
        elif kind == "word":
            if not stack and value in _FORMS and not form_seen:
                form_seen = True
                if value == "CONSTRUCT":
                    template_pending = i + 1 < len(toks) and toks[i + 1][1] == "{"
                elif value == "SELECT":
                    _, j = _projection(toks, i + 1)
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
                elif value in ("GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET"):
                    modifiers[-1] = True
        elif kind == "var":
            name = value[1:]
            allowed = scope
            if (name in names and stack and allowed is not False and not values_pending
                    and not modifiers[-1] and (allowed is None or name in allowed)
                    and not (i > 0 and toks[i - 1][1] == "AS")):
                if (i >= 2 and i + 1 < len(toks) and toks[i - 1][1] == "(" and toks[i - 2][1] == "BOUND"
                        and toks[i + 1][1] == ")"):
                    edits.append((toks[i - 2][2], toks[i + 1][2] + 1, None))
                else:
                    edits.append((pos, pos + len(value), name))
        i += 1
    return edits, roots


def bind_values(text: str, bindings: dict[str, object] | None) -> str:
    """The query with each parameter's term put where its variable is used in the WHERE clause,
    and bound by ``BIND(term AS ?name)`` at the end of each WHERE group that projects it.

    This is what the local engine's substitution does. Binding the variables instead (a one-row
    ``VALUES`` or a ``BIND`` at the start of every group, as first done) is equivalent in SPARQL,
    but Virtuoso 7.2 drops rows when such a binding meets property paths with ``*``, UNION and
    OPTIONAL (regional-workshops gave 1 row of 5, endorsed-recommendations 1 of 4), while it
    handles constants in patterns and a trailing BIND as it should. The terms are written by
    ``sparql_term``, never copied from the user's text.
    """
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
    edits, roots = _substitutions(text, set(terms))
    if not roots:
        raise RemoteError("cannot bind parameters: the query has no WHERE group")
    changes = [(start, end, "true" if name is None else terms[name]) for start, end, name in edits]
    changes += [(pos, pos, " " + " ".join(f"BIND({terms[n]} AS ?{n})" for n in terms if n in bound) + " ")
                for pos, bound in roots]
    for start, end, new in sorted(changes, key=lambda c: (c[0], c[1]), reverse=True):
        text = text[:start] + new + text[end:]
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
        self.digest = urllib.request.HTTPDigestAuthHandler(self.manager)
        if self.auth.user is not None:
            handlers = [self.digest, urllib.request.HTTPBasicAuthHandler(self.manager)]
        self.opener = urllib.request.build_opener(*handlers)
        self.challenges: dict[tuple[str, str, str], list[str]] = {}

    def _challenge(self, url: str) -> list[str]:
        """The WWW-Authenticate challenges a HEAD of ``url`` gets (once per path), [] if none."""
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.netloc, parts.path)
        if key not in self.challenges:
            found: list[str] = []
            probe = urllib.request.Request(url, method="HEAD", headers={"User-Agent": _USER_AGENT})
            try:
                urllib.request.build_opener().open(probe, timeout=self.timeout).close()
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and exc.headers:
                    found = exc.headers.get_all("WWW-Authenticate") or []
            except (OSError, http.client.HTTPException, ValueError):
                pass  # the request itself will say what is wrong
            self.challenges[key] = found
        return self.challenges[key]

    def _authorize(self, req: urllib.request.Request) -> bool:
        """Answer the server's challenge before sending a body, not after.

        A server that demands credentials may answer 401 and close the connection before reading
        a large body (Virtuoso does, for a graph of a megabyte); the client then fails with a broken
        pipe and never sees the challenge. So the challenge is fetched with a HEAD first. Returns
        whether credentials now go with the request.
        """
        for challenge in self._challenge(req.full_url):
            scheme, _, rest = challenge.partition(" ")
            if scheme.lower() == "digest":
                chal = urllib.request.parse_keqv_list(filter(None, urllib.request.parse_http_list(rest)))
                header = self.digest.get_authorization(req, chal)
                if header:
                    req.add_unredirected_header("Authorization", "Digest " + header)
                    return True
            elif scheme.lower() == "basic":
                raw = f"{self.auth.user}:{self.auth.password or ''}".encode("utf-8")
                req.add_unredirected_header("Authorization", "Basic " + base64.b64encode(raw).decode("ascii"))
                return True
        return False

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
        challenged = False
        try:
            if self.auth.user is not None and body:
                challenged = self._authorize(req)
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
            if challenged and isinstance(reason, (BrokenPipeError, ConnectionResetError)):
                # what Virtuoso does with wrong credentials and a large body: 401, then hang up
                raise RemoteError(f"{shown} closed the connection while the request was sent; it does "
                                  "that when it refuses the credentials (check --user/--password)") from None
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


_VIRTUOSO_ASK = "__ASK_RETVAL"


class RemoteEndpoint:
    """A SPARQL 1.1 query endpoint reached over HTTP."""

    def __init__(self, url: str, *, auth: Auth | None = None, timeout: float = 30.0):
        self.url = _check_url(url, "the endpoint")
        self.http = _Http(auth, timeout)

    def query(self, text: str, bindings: dict[str, object] | None = None) -> QueryResult:
        """Run a query (with parameters bound by BIND) and return the local QueryResult shape."""
        form = query_form(text)
        body = with_prefixes(bind_values(text, bindings))
        try:
            # Form POST, the one form every SPARQL 1.1 server takes: Virtuoso 7 never answers a
            # direct POST (application/sparql-query) and the query may be too long for a GET URL.
            payload = urllib.parse.urlencode({"query": body}, encoding="utf-8").encode("ascii")
        except UnicodeEncodeError:
            raise RemoteError("the query is not valid Unicode") from None
        graph = form in ("CONSTRUCT", "DESCRIBE")
        accept = ("application/n-triples, text/turtle;q=0.9" if graph
                  else f"{RESULTS_JSON}, application/json;q=0.5")
        ctype, answer = self.http.request(
            "POST", self.url, body=payload,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept})
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
            result = parse_results_json(answer)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RemoteError(f"{shown} sent malformed SPARQL JSON results: {_one_line(str(exc))}") from None
        if form == "ASK" and result.kind == "SELECT" and result.variables == [_VIRTUOSO_ASK]:
            # Virtuoso 7.2 answers ASK with a table: one row ?__ASK_RETVAL 1 for true, none for false
            return QueryResult("ASK", boolean=any(row.get(_VIRTUOSO_ASK) is not None
                                                  and row[_VIRTUOSO_ASK].value not in ("0", "false")
                                                  for row in result.rows))
        return result

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
