"""Checking the graph, or new entries together with it, against the SHACL shapes."""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from .loading import GraphSource, read_rdflib
from .namespaces import compact

__all__ = ["Issue", "Report", "validate", "locate_subjects", "limited_targets", "prepared_sparql",
           "SEVERITIES"]

SH = "http://www.w3.org/ns/shacl#"
SEVERITIES = ("Violation", "Warning", "Info")


@dataclass
class Issue:
    """One SHACL result, with where the entity is written when that can be found."""

    focus: str
    severity: str
    message: str
    shape: str | None = None
    path: str | None = None
    value: str | None = None
    component: str | None = None
    file: str | None = None
    line: int | None = None

    def where(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class Report:
    issues: list[Issue] = field(default_factory=list)
    graph: object = None  # the SHACL report graph (rdflib)

    @property
    def conforms(self) -> bool:
        return not any(i.severity == "Violation" for i in self.issues)

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in SEVERITIES}
        for i in self.issues:
            out[i.severity] += 1
        return out

    def by_entity(self) -> dict[str, list[Issue]]:
        """Issues grouped by focus entity, most severe first within each group."""
        groups: dict[str, list[Issue]] = defaultdict(list)
        for issue in sorted(self.issues, key=lambda i: (SEVERITIES.index(i.severity), i.focus,
                                                         i.path or "", i.message)):
            groups[issue.focus].append(issue)
        return dict(sorted(groups.items(), key=lambda kv: (
            min(SEVERITIES.index(i.severity) for i in kv[1]), kv[0])))

    def to_text(self) -> str:
        if not self.issues:
            return "conforms: no violations, warnings or notes\n"
        lines = []
        for focus, issues in self.by_entity().items():
            where = issues[0].where()
            lines.append(f"{focus}" + (f"  ({where})" if where else ""))
            for i in issues:
                detail = ", ".join(x for x in (
                    f"property {i.path}" if i.path else "",
                    f"value {i.value}" if i.value else "",
                    f"shape {i.shape}" if i.shape else "") if x)
                lines.append(f"  {i.severity}: {i.message}" + (f" [{detail}]" if detail else ""))
        c = self.counts()
        lines.append(f"{c['Violation']} violation(s), {c['Warning']} warning(s), {c['Info']} note(s)")
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        return json.dumps({"conforms": self.conforms, "counts": self.counts(),
                           "results": [asdict(i) for i in self.issues]},
                          indent=2, ensure_ascii=False) + "\n"

    def to_turtle(self) -> str:
        return self.graph.serialize(format="turtle")


# pyshacl and rdflib are patched for the duration of one validation only; one at a time.
_PATCH_LOCK = threading.RLock()


@contextmanager
def prepared_sparql():
    """Parse each SPARQL constraint once instead of once per focus node.

    pyshacl hands rdflib the same query text for every focus node and rdflib parses it each time
    (about 25 ms); reusing the translated query cuts whole-graph validation several-fold with the
    same results.
    """
    from rdflib.plugins.sparql import processor
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    original = processor.SPARQLProcessor.query

    @lru_cache(maxsize=512)
    def prepared(text, base, namespaces):
        return translateQuery(parseQuery(text), base, dict(namespaces))

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803
        if isinstance(strOrQuery, str):
            strOrQuery = prepared(strOrQuery, base, tuple(sorted((initNs or {}).items())))
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    with _PATCH_LOCK:
        processor.SPARQLProcessor.query = query
        try:
            yield
        finally:
            processor.SPARQLProcessor.query = original


@contextmanager
def limited_targets(nodes):
    """Validate the whole graph but start only from ``nodes`` (new entries).

    pyshacl's own ``focus_nodes`` option also filters the value nodes of nested shapes
    (sh:qualifiedValueShape, sh:or), which changes results; narrowing each shape's targets does not.
    With a pyshacl that lacks the hook everything is validated (slower, same results after the
    caller's filtering).
    """
    from pyshacl.shape import Shape

    original = getattr(Shape, "focus_nodes", None)
    if original is None:
        yield
        return
    wanted = set(nodes)

    def focus_nodes(self, data_graph, debug=False):
        return {n for n in original(self, data_graph, debug=debug) if n in wanted}

    with _PATCH_LOCK:
        Shape.focus_nodes = focus_nodes
        try:
            yield
        finally:
            Shape.focus_nodes = original


def _show(term) -> str | None:
    if term is None:
        return None
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return compact(str(term))
    if isinstance(term, rdflib.BNode):
        return "[]"
    return repr(str(term)) if not term.language else f"{str(term)!r}@{term.language}"


def _shape_name(shapes, shape) -> str | None:
    """A property shape is a blank node: name the node shape that holds it instead."""
    import rdflib

    if isinstance(shape, rdflib.BNode):
        owner = shapes.value(None, rdflib.URIRef(SH + "property"), shape)
        if owner is not None:
            return _show(owner)
    return _show(shape)


def _path_text(graph, path) -> str | None:
    """A SHACL path in SPARQL-like syntax: p, ^p, (p | q), p/q."""
    import rdflib
    from rdflib.collection import Collection

    if path is None or not isinstance(path, rdflib.BNode):
        return _show(path)
    alt = graph.value(path, rdflib.URIRef(SH + "alternativePath"))
    if alt is not None:
        return "(" + " | ".join(_path_text(graph, p) or "?" for p in Collection(graph, alt)) + ")"
    inv = graph.value(path, rdflib.URIRef(SH + "inversePath"))
    if inv is not None:
        return "^" + (_path_text(graph, inv) or "?")
    if graph.value(path, rdflib.RDF.first) is not None:
        return "/".join(_path_text(graph, p) or "?" for p in Collection(graph, path))
    return "[]"


def locate_subjects(paths) -> dict[str, tuple[str, int]]:
    """IRI → (file, line) of the line that starts the entity's block (subject at column 0)."""
    from .namespaces import PREFIXES

    found: dict[str, tuple[str, int]] = {}
    for path in map(Path, paths):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        declared = dict(PREFIXES)  # the file's own @prefix lines win
        for text in lines:
            m = re.match(r"\s*@?prefix\s+([\w.-]*):\s*<([^>]*)>", text, re.IGNORECASE)
            if m:
                declared[m.group(1)] = m.group(2)
        for n, text in enumerate(lines, 1):
            token = text.split(None, 1)[0] if text[:1] not in ("", " ", "\t", "#", "@", "[") else ""
            if token.startswith("<") and token.endswith(">"):
                iri = token[1:-1]
            elif ":" in token:
                prefix, local = token.split(":", 1)
                iri = declared[prefix] + local if prefix in declared else ""
            else:
                continue
            if iri:
                found.setdefault(iri, (str(path), n))
    return found


@contextmanager
def _nothing():
    yield


def validate(source: GraphSource, graph=None) -> Report:
    """Validate ontology + data (+ ``source.extra_files``) against the shapes.

    With extra files (new entries), issues are reported for the entities those files describe,
    plus any violation the combined graph has elsewhere.
    """
    import pyshacl
    import rdflib

    data = graph if graph is not None else read_rdflib(
        [source.ontology_file, *source.data_files, *source.extra_files])
    shapes = read_rdflib([source.shapes_file])
    new_nodes = None
    if source.extra_files:
        new_nodes = set(read_rdflib(source.extra_files).subjects())
        if not new_nodes:
            return Report(issues=[], graph=rdflib.Graph())
    with prepared_sparql(), (limited_targets(new_nodes) if new_nodes else _nothing()):
        _, report_graph, _ = pyshacl.validate(
            data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True,
            allow_infos=True)

    # Entries are reported about their own nodes only, so only their files need searching.
    where = locate_subjects(source.extra_files or source.data_files)

    sh = rdflib.Namespace(SH)
    issues = []
    for result in report_graph.subjects(rdflib.RDF.type, sh.ValidationResult):
        get = lambda p: report_graph.value(result, p)  # noqa: E731
        node = get(sh.focusNode)
        if new_nodes is not None and node not in new_nodes:
            continue
        severity = str(get(sh.resultSeverity) or SH + "Violation").rsplit("#", 1)[-1]
        messages = sorted(str(m) for m in report_graph.objects(result, sh.resultMessage))
        file, line = where.get(str(node), (None, None))
        message = messages[0] if messages else "does not conform"
        # pyshacl fills these in for SPARQL constraints only; core constraints get them here.
        for slot, term in (("{$this}", node), ("{$value}", get(sh.value)),
                           ("{$path}", get(sh.resultPath))):
            if slot in message:
                message = message.replace(slot, _show(term) or "")
        if isinstance(node, rdflib.URIRef):  # SPARQL constraints fill in full IRIs
            message = message.replace(str(node), _show(node))
        issues.append(Issue(
            focus=_show(node), severity=severity, message=message,
            shape=_shape_name(shapes, get(sh.sourceShape)),
            path=_path_text(report_graph, get(sh.resultPath)),
            value=_show(get(sh.value)),
            component=_show(get(sh.sourceConstraintComponent)), file=file, line=line))
    return Report(issues=issues, graph=report_graph)
