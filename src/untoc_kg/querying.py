"""Running SPARQL on the graph: pyoxigraph for speed, rdflib as the reference engine.

Both engines return the same ``QueryResult`` shape (pyoxigraph terms), so every saved query can be
compared across engines and formatted the same way.
"""

from __future__ import annotations

import itertools
import os
import queue
import re
import threading
from dataclasses import dataclass, field

import pyoxigraph as ox

from .errors import QueryError, RemoteError
from .namespaces import PREFIXES
from .sparqltext import bind_values

__all__ = ["QueryResult", "ResultTooLarge", "run_query", "run_query_rdflib", "check_local_only",
           "check_shape", "deep_stack", "evaluate", "to_result", "from_rdflib", "to_rdflib", "MAX_QUERY_CHARS",
           "MAX_NESTING"]


@dataclass
class QueryResult:
    """SELECT rows, an ASK boolean, or CONSTRUCT/DESCRIBE triples."""

    kind: str  # "SELECT", "ASK" or "GRAPH"
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, object]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)


_POSITION = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.DOTALL)


def _syntax_message(exc: Exception) -> str:
    text = str(exc)
    m = _POSITION.search(text)
    if not m:
        return "SPARQL syntax error: " + " ".join(text.split())
    line, col, detail = m.groups()
    detail = " ".join(detail.split())
    if "Prefix not found" in detail:
        detail = "unknown prefix (declare it with PREFIX)"
    elif detail.startswith("expected one of"):
        options = [o.strip() for o in detail[len("expected one of"):].split(",")]
        short = [o for o in options if len(o) < 20][:6]
        detail = "unexpected input; expected one of " + ", ".join(short) + (
            ", ..." if len(options) > len(short) else "")
    return f"SPARQL syntax error at line {line}, column {col}: {detail}"


# SPARQL tokens that can hide a keyword: comments, the four string forms, IRIs (as the grammar's
# IRIREF), variables. Everything else is scanned for the keywords as words.
_COMMENT = re.compile(r"#[^\r\n]*")
_STRING = re.compile(r"'''(?:'{0,2}(?:[^'\\]|\\.))*'''"
                     r'|"""(?:"{0,2}(?:[^"\\]|\\.))*"""'
                     r"|'(?:[^'\\\r\n]|\\.)*'"
                     r'|"(?:[^"\\\r\n]|\\.)*"', re.DOTALL)
_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_VARIABLE = re.compile(r"[?$]\w*")
_NAME = re.compile(r"[\w.:-]+")
_SCHEME = re.compile(r"\s*[A-Za-z][A-Za-z0-9+.-]*://")
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_REACHING = ("SERVICE", "FROM", "LOAD")
_LOCAL_ONLY = "{} is not allowed: queries run on the local graph only"

MAX_QUERY_CHARS = 128 * 1024
MAX_NESTING = 1000
# Measured on pyoxigraph 0.5 (8 MiB main-thread stack): a 300-deep collection and 4,000 nested
# braces overflow; 512 MiB holds 64 times that, and far more than MAX_NESTING of anything.
_STACK_BYTES = 512 * 1024 * 1024
_STACK_LOCK = threading.Lock()  # threading.stack_size is process-wide: set, start, restore


def _keyword(name: str) -> str | None:
    """The reaching keyword that the word ``name`` is, or holds as a separate token."""
    # In a prefixed name ('meeting:wg-ic-7') '-' belongs to the local name; elsewhere it is an
    # operator. '.' is split on everywhere: '1.SERVICE' is a number, a dot and the keyword.
    for piece in re.split(r"\." if ":" in name else r"[.-]", name):
        if piece.upper() in _REACHING:
            return piece.upper()
    return None


def _scan(text: str):
    """Words (as ``("word", text)``) and nesting marks (``("open", char)``) of ``text`` under
    every way of reading it.

    Whether '<' opens an IRI or is the less-than operator depends on the parse, and the two
    readings split comments and strings differently ('FILTER(1<2)SERVICE#>' is an IRI to one and
    the keyword before a comment to the other). Both readings are followed from every '<' (each
    position is scanned once, so this stays linear): whatever the engine reads is among what this
    yields.
    """
    todo, seen, n = [0], set(), len(text)
    while todo:
        pos = todo.pop()
        while pos < n and pos not in seen:
            seen.add(pos)
            ch = text[pos]
            if ch == "#":
                pos = _COMMENT.match(text, pos).end()
            elif ch in "'\"":
                m = _STRING.match(text, pos)
                if not m:  # an unterminated string: the engine cannot parse this reading at all
                    break
                pos = m.end()
            elif ch == "<":
                m = _IRIREF.match(text, pos)
                # '<' then 'scheme://' can only open an IRI: as an operator it is a syntax error.
                if m and not _SCHEME.match(text, pos + 1):
                    todo.append(pos + 1)
                pos = m.end() if m else pos + 1
            elif ch in "?$":
                pos = _VARIABLE.match(text, pos).end()
            elif m := _NAME.match(text, pos):
                yield "word", m.group()
                pos = m.end()
            else:
                # '!' nests like a bracket (a chain of them is parsed recursively), '!=' does not
                if ch in "{([" or (ch == "!" and text[pos + 1:pos + 2] != "="):
                    yield "open", ch
                pos += 1


def _survey(text: str) -> tuple[int, str | None]:
    """The nesting marks of ``text`` and its first SERVICE, FROM or LOAD keyword (or None), under
    every way of reading it: one scan serves both checks."""
    opens, found = 0, None
    for kind, value in _scan(text):
        if kind == "open":
            opens += 1
        elif found is None:
            found = _keyword(value)
    return opens, found


def _reaching_keyword(text: str) -> str | None:
    """The first SERVICE, FROM or LOAD keyword under any way of reading ``text``, or None."""
    for kind, value in _scan(text):
        if kind == "word" and (found := _keyword(value)):
            return found
    return None


def check_shape(text: str) -> None:
    """Refuse query text too long or too deeply nested for the engine.

    pyoxigraph parses and evaluates recursively: nested groups, collections and '!' chains
    overflow its stack long before they mean anything (a 300-deep collection, 4,000 nested
    braces, a 10,000-term sum: the process dies with a segmentation fault). Queries therefore run
    on a thread with a large stack (``deep_stack``), their text is capped, and the number of
    nesting marks, counted under every reading of the text, bounds the depth far below what that
    stack holds.
    """
    _check(text, local_only=False)


def _check(text: str, *, local_only: bool) -> None:
    """``check_shape``, and ``check_local_only`` if asked, from one scan of the text."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(text):,} characters long; at most {MAX_QUERY_CHARS:,} "
                         "are accepted (put long lists of values in the data instead)")
    opens, found = _survey(text)
    if opens > MAX_NESTING:
        raise QueryError(f"the query has {opens:,} brackets and '!' operators; at most "
                         f"{MAX_NESTING:,} are accepted, so that nesting stays within the "
                         "engine's limits")
    if local_only:
        decoded = _decode_codepoints(text)
        if found is None and decoded != text:
            found = _reaching_keyword(decoded)
        if found:
            raise QueryError(_LOCAL_ONLY.format(found))


class _DeepThread:
    """A thread with a large stack that runs one function at a time, kept for the next one."""

    def __init__(self):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        with _STACK_LOCK:
            previous = threading.stack_size(_STACK_BYTES)
            try:
                threading.Thread(target=self._serve, name="untoc-query", daemon=True).start()
            finally:
                threading.stack_size(previous)

    def _serve(self):
        while True:
            fn, outcome, done = self._jobs.get()
            try:
                outcome["value"] = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller as is
                outcome["error"] = exc
            done.release()

    def run(self, fn):
        outcome: dict[str, object] = {}
        done = threading.Lock()
        done.acquire()
        self._jobs.put((fn, outcome, done))
        done.acquire()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]


# Idle deep-stack threads. Reused rather than started per query: a fresh thread cost about 0.3 ms
# a query (its start, and the engine's first allocations on it), more than a small query itself.
_IDLE: list[_DeepThread] = []
os.register_at_fork(after_in_child=_IDLE.clear)  # a forked child has none of the threads


def deep_stack(fn):
    """``fn()`` on a thread with a stack large enough for the queries ``check_shape`` lets
    through (only the pages it touches are used); its exception is raised here."""
    try:
        worker = _IDLE.pop()
    except IndexError:
        worker = _DeepThread()
    try:
        return worker.run(fn)
    finally:
        _IDLE.append(worker)


def _decode_codepoints(text: str) -> str:
    def char(m):
        code = int(m.group(1) or m.group(2), 16)
        return chr(code) if code <= 0x10FFFF else ""

    return _CODEPOINT.sub(char, text)


def check_local_only(text: str) -> None:
    """Refuse queries that would read other graphs, files or the network (SERVICE, FROM, LOAD).

    pyoxigraph's ``Store.query`` has no switch to turn ``SERVICE`` off (it sends the HTTP request
    itself), so the text is checked before any engine sees it. Comments, strings and IRIs cannot
    hide the keyword, nor can the codepoint escapes SPARQL allows anywhere (rdflib decodes them
    before parsing; Oxigraph does not): the text is checked as written and as decoded.
    """
    for candidate in dict.fromkeys((text, _decode_codepoints(text))):
        found = _reaching_keyword(candidate)
        if found:
            raise QueryError(_LOCAL_ONLY.format(found))


class ResultTooLarge(Exception):
    """More rows (or triples: ``args[0]`` says which) than ``to_result`` was allowed to read."""


def to_result(answer, max_rows: int | None = None) -> QueryResult:
    """pyoxigraph's answer as a QueryResult, reading at most ``max_rows`` rows or triples."""
    if isinstance(answer, ox.QueryBoolean):
        return QueryResult("ASK", boolean=bool(answer))
    what = "rows" if isinstance(answer, ox.QuerySolutions) else "triples"
    items = list(answer if max_rows is None else itertools.islice(answer, max_rows + 1))
    if max_rows is not None and len(items) > max_rows:
        raise ResultTooLarge(what)
    if what == "triples":
        return QueryResult("GRAPH", triples=items)
    names = [v.value for v in answer.variables]
    # a solution iterates over its values in the order of the variables (None when unbound):
    # three times faster than looking each one up by name
    rows = [{n: v for n, v in zip(names, s) if v is not None} for s in items]
    return QueryResult("SELECT", variables=names, rows=rows)


def evaluate(store: ox.Store, text: str, bindings: dict[str, object] | None = None,
             max_rows: int | None = None) -> QueryResult:
    """The engine's answer to a checked query on the store's union graph, as ``to_result`` reads
    it; to be called on ``deep_stack``. ``run_query`` checks and calls this."""
    if bindings:
        # Oxigraph's optimiser does not carry substituted values into UNION branches or
        # OPTIONALs: at 1M triples a one-paragraph query took 1.9 s that way and 0.2 s with the term
        # written into the patterns (the same checked terms the remote path writes).
        try:
            written = bind_values(text, bindings)
        except RemoteError:  # a blank node, or a query form the writer does not follow
            pass
        else:
            try:
                return to_result(store.query(written, prefixes=PREFIXES,
                                             use_default_graph_as_union=True), max_rows)
            except SyntaxError:
                pass  # e.g. a literal put in a subject position: the engine's own way decides
    substitutions = {ox.Variable(k): v for k, v in (bindings or {}).items()}
    return to_result(store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True,
                                 substitutions=substitutions or None), max_rows)


def run_query(store: ox.Store, text: str, bindings: dict[str, object] | None = None, *,
              federated: bool = False) -> QueryResult:
    """Run SPARQL on the store's union graph; ``bindings`` substitute variables by RDF terms.

    ``federated`` lets SERVICE call the endpoints a query names: an explicit choice of the user,
    never of the server. FROM then only picks graphs of the store and LOAD is still an update,
    which ``Store.query`` refuses, so no file is read either way."""
    _check(text, local_only=not federated)
    try:
        return deep_stack(lambda: evaluate(store, text, bindings))
    except SyntaxError as exc:
        raise QueryError(_syntax_message(exc)) from None
    except (OSError, ValueError, RuntimeError) as exc:
        text = " ".join(str(exc).split())
        if "SELECT projection" in text:
            text += " (a saved query must SELECT each of its parameters to bind it)"
        raise QueryError("query failed: " + text) from None


def from_rdflib(term):
    """An rdflib term as a pyoxigraph term (plain literals become xsd:string, as Oxigraph has them)."""
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    datatype = term.datatype or rdflib.XSD.string  # oxigraph's view: plain = xsd:string
    return ox.Literal(str(term), datatype=ox.NamedNode(str(datatype)))


def to_rdflib(term):
    """A pyoxigraph term as an rdflib term (xsd:string literals become plain ones)."""
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def run_query_rdflib(graph, text: str, bindings: dict[str, object] | None = None) -> QueryResult:
    """The same query on rdflib's engine (reference for comparisons); ``graph`` is an rdflib graph."""
    import rdflib

    check_local_only(text)
    init = {rdflib.Variable(k): to_rdflib(v) for k, v in (bindings or {}).items()}
    prefix_block = "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())
    try:
        answer = graph.query(prefix_block + text, initBindings=init)
    except Exception as exc:  # rdflib reports syntax errors with pyparsing's exception types
        raise QueryError("query failed: " + " ".join(str(exc).split())) from None
    if answer.type == "ASK":
        return QueryResult("ASK", boolean=bool(answer.askAnswer))
    if answer.type == "SELECT":
        names = [str(v) for v in answer.vars]
        rows = [{n: from_rdflib(r[n]) for n in names if r[n] is not None} for r in answer]
        return QueryResult("SELECT", variables=names, rows=rows)
    return QueryResult("GRAPH", triples=[ox.Triple(from_rdflib(s), from_rdflib(p), from_rdflib(o))
                                         for s, p, o in answer.graph])
