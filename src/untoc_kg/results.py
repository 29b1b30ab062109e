"""Writing query results: the W3C SPARQL 1.1 results formats (JSON, XML, CSV, TSV) and two for
people (an aligned text table and Markdown), which show labels beside IRIs."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox

from .namespaces import compact
from .querying import QueryResult
from .turtle import term_to_turtle

__all__ = ["RESULT_FORMATS", "format_result", "term_label_lookup"]

RESULT_FORMATS = ("table", "csv", "tsv", "json", "xml", "markdown")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _is_literal(term) -> bool:
    return isinstance(term, ox.Literal)


def _datatype(term) -> str | None:
    """The literal's datatype IRI, or None for simple and language-tagged literals."""
    if term.language:
        return None
    value = term.datatype.value
    return None if value == XSD_STRING else value


def _json(result: QueryResult) -> str:
    if result.kind == "ASK":
        return json.dumps({"head": {}, "boolean": result.boolean}, indent=2) + "\n"
    bindings = []
    for row in result.rows:
        out = {}
        for name, term in row.items():
            if isinstance(term, ox.NamedNode):
                out[name] = {"type": "uri", "value": term.value}
            elif isinstance(term, ox.BlankNode):
                out[name] = {"type": "bnode", "value": term.value}
            else:
                cell = {"type": "literal", "value": term.value}
                if term.language:
                    cell["xml:lang"] = term.language
                elif _datatype(term):
                    cell["datatype"] = _datatype(term)
                out[name] = cell
        bindings.append(out)
    doc = {"head": {"vars": result.variables}, "results": {"bindings": bindings}}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _xml(result: QueryResult) -> str:
    from xml.sax.saxutils import escape, quoteattr  # pulls in urllib and email: only when needed

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<sparql xmlns="http://www.w3.org/2005/sparql-results#">', "  <head>"]
    if result.kind == "ASK":
        out += ["  </head>", f"  <boolean>{'true' if result.boolean else 'false'}</boolean>",
                "</sparql>"]
        return "\n".join(out) + "\n"
    out += [f"    <variable name={quoteattr(v)}/>" for v in result.variables]
    out += ["  </head>", "  <results>"]
    for row in result.rows:
        out.append("    <result>")
        for name in result.variables:
            if name not in row:
                continue
            term = row[name]
            if isinstance(term, ox.NamedNode):
                inner = f"<uri>{escape(term.value)}</uri>"
            elif isinstance(term, ox.BlankNode):
                inner = f"<bnode>{escape(term.value)}</bnode>"
            elif term.language:
                inner = f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
            elif _datatype(term):
                inner = f"<literal datatype={quoteattr(_datatype(term))}>{escape(term.value)}</literal>"
            else:
                inner = f"<literal>{escape(term.value)}</literal>"
            out.append(f"      <binding name={quoteattr(name)}>{inner}</binding>")
        out.append("    </result>")
    out += ["  </results>", "</sparql>"]
    return "\n".join(out) + "\n"


def _csv(result: QueryResult) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if result.kind == "ASK":
        writer.writerow(["boolean"])
        writer.writerow(["true" if result.boolean else "false"])
        return buf.getvalue()
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow([("_:" + row[v].value if isinstance(row[v], ox.BlankNode) else row[v].value)
                         if v in row else "" for v in result.variables])
    return buf.getvalue()


def _tsv(result: QueryResult) -> str:
    if result.kind == "ASK":
        return "?boolean\n" + ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join("?" + v for v in result.variables)]
    for row in result.rows:
        lines.append("\t".join(term_to_turtle(row[v]) if v in row else "" for v in result.variables))
    return "\n".join(lines) + "\n"


def term_label_lookup(store, lang: str):
    """A function IRI → label in ``lang`` (falling back to English, then any), from the store."""
    cache: dict[str, str | None] = {}
    query = "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }"

    def lookup(iri: str) -> str | None:
        if iri not in cache:
            labels = {}
            for sol in store.query(query, substitutions={ox.Variable("s"): ox.NamedNode(iri)},
                                   use_default_graph_as_union=True):
                term = sol["l"]
                labels.setdefault(term.language or "", term.value)
            cache[iri] = labels.get(lang) or labels.get("en") or next(iter(labels.values()), None)
        return cache[iri]

    return lookup


def _cell(term, labels, width: int | None = None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        name = compact(term.value)
        label = labels(term.value) if labels else None
        if label and width and len(label) > width:
            label = label[: width - 1].rstrip() + "…"
        return f"{label} ({name})" if label else name
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return " ".join(term.value.split())


def _grid(result: QueryResult, labels, width: int | None = None):
    if result.kind == "ASK":
        return ["boolean"], [["true" if result.boolean else "false"]]
    return result.variables, [[_cell(row.get(v), labels, width) for v in result.variables]
                              for row in result.rows]


def _table(result: QueryResult, labels) -> str:
    # Long official names would make terminal tables unreadable: labels are shortened here only.
    head, rows = _grid(result, labels, width=40)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(head)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
    if result.kind == "SELECT":
        out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def _markdown(result: QueryResult, labels) -> str:
    head, rows = _grid(result, labels)
    esc = lambda c: c.replace("|", "\\|")  # noqa: E731
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def format_result(result: QueryResult, fmt: str, *, labels=None) -> str:
    """SELECT/ASK results in one of RESULT_FORMATS; ``labels`` (IRI → label) for table/markdown."""
    if fmt == "json":
        return _json(result)
    if fmt == "xml":
        return _xml(result)
    if fmt == "csv":
        return _csv(result)
    if fmt == "tsv":
        return _tsv(result)
    if fmt == "markdown":
        return _markdown(result, labels)
    if fmt == "table":
        return _table(result, labels)
    raise ValueError(f"unknown results format {fmt!r}")
