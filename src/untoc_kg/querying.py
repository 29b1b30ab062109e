"""Running SPARQL on the graph: pyoxigraph for speed, rdflib as the reference engine.

Both engines return the same ``QueryResult`` shape (pyoxigraph terms), so every saved query can be
compared across engines and formatted the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyoxigraph as ox

from .errors import QueryError
from .namespaces import PREFIXES

__all__ = ["QueryResult", "run_query", "run_query_rdflib", "check_local_only", "from_rdflib",
           "to_rdflib"]


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


_STRINGS = re.compile(r"'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|<[^<>\s]*>",
                      re.DOTALL)
_COMMENT = re.compile(r"#[^\n]*")
_REACHING = re.compile(r"(?<![?$:\w-])(SERVICE|LOAD|FROM)\b", re.IGNORECASE)


def check_local_only(text: str) -> None:
    """Refuse queries that would read other graphs, files or the network."""
    code = _COMMENT.sub(" ", _STRINGS.sub(" ", text))
    m = _REACHING.search(code)
    if m:
        raise QueryError(f"{m.group(1).upper()} is not allowed: queries run on the local graph only")


def _to_result(answer) -> QueryResult:
    if isinstance(answer, ox.QueryBoolean):
        return QueryResult("ASK", boolean=bool(answer))
    if isinstance(answer, ox.QuerySolutions):
        names = [v.value for v in answer.variables]
        rows = []
        for solution in answer:
            row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = value
            rows.append(row)
        return QueryResult("SELECT", variables=names, rows=rows)
    return QueryResult("GRAPH", triples=list(answer))


def run_query(store: ox.Store, text: str, bindings: dict[str, object] | None = None) -> QueryResult:
    """Run SPARQL on the store's union graph; ``bindings`` substitute variables by RDF terms."""
    check_local_only(text)
    substitutions = {ox.Variable(k): v for k, v in (bindings or {}).items()}
    try:
        answer = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True,
                             substitutions=substitutions or None)
        return _to_result(answer)
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
