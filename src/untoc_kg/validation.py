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

import pyoxigraph as ox

from .loading import GraphSource, cache_dir, read_quads, read_rdflib
from .namespaces import compact

__all__ = ["Issue", "Report", "validate", "locate_subjects", "limited_targets", "prepared_sparql",
           "sparql_on_store", "store_forms", "graph_index", "carry_graph_index", "SEVERITIES"]

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


def _rdflib_terms():
    """pyoxigraph term -> rdflib term, each converted once (graphs repeat the same terms a lot)."""
    from .querying import to_rdflib

    terms: dict = {}

    def term(t):
        found = terms.get(t)
        if found is None:
            found = terms[t] = to_rdflib(t)
        return found

    return term


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


@contextmanager
def sparql_on_store(store, graphs=None, exact_of=None):
    """Answer pyshacl's SPARQL constraints with pyoxigraph, once per constraint for every focus node.

    pyshacl runs each constraint in rdflib once per focus node with ``$this`` pre-bound: parsing
    alone takes about 0.1 s a query, checking the text again for each node about 0.6 ms, and the
    runs grow with the graph. Here the query runs once on ``store`` (the same triples as the data
    graph: ``graphs`` names its named graphs, None means the default graph) with ``$this`` free,
    the rows are grouped by ``$this``, and each focus node gets the rows rdflib would have given it,
    from which pyshacl's own code builds the results. A store keeps numbers as values ("07"^^
    xsd:positiveInteger comes back as 7^^xsd:integer): ``exact_of`` (see ``store_forms``) maps what
    it gives back to the literals as written, which is exact as long as no two literals of the data
    share a stored form.
    """
    from pyshacl.constraints.sparql.sparql_based_constraints import SPARQLBasedConstraint

    from .querying import to_rdflib
    from .shaclsparql import sparql_violations
    from .sparqlchecks import remembered_checks

    original = SPARQLBasedConstraint._evaluate_sparql_constraint
    default_graph = [ox.NamedNode(g) for g in graphs] if graphs else None
    answers: dict[str, dict] = {}

    def rows_by_this(query):
        grouped = defaultdict(list)
        solutions = store.query(query, default_graph=default_graph)
        names = [v.value for v in solutions.variables]
        for solution in solutions:
            row = {}
            for name in names:
                term = solution[name]
                if term is not None:
                    row[name] = to_rdflib(exact_of.get(term, term) if exact_of else term)
            grouped[row.get("this")].append(row)
        return grouped

    def evaluate(self, sparql_constraint, target_graph, f_v_dict):
        if not f_v_dict:
            return False, []
        first = next(iter(f_v_dict))
        init_binds, text = sparql_constraint.pre_bind_variables(first)
        if set(init_binds) != {"this"}:  # $value or $currentShape: leave it to pyshacl
            return original(self, sparql_constraint, target_graph, f_v_dict)
        # Keyed on the text: pyshacl makes new constraint objects for each shape it evaluates.
        query = sparql_constraint.apply_prefixes(text)
        if query not in answers:
            answers[query] = rows_by_this(query)
        grouped = answers[query]
        extra = {"source_constraint": sparql_constraint.node,
                 "extra_messages": sparql_constraint.messages or None}
        reports = []
        result_val_of = (lambda f: None) if self.shape.is_property_shape else (lambda f: f)
        # The rest follows pyshacl's _evaluate_sparql_constraint.
        for f in f_v_dict:
            result_val = result_val_of(f)
            for v in sparql_violations(grouped.get(f, ())):
                if isinstance(v, tuple) and v[0] is True:
                    reports.append(self.make_v_result(target_graph, f, value_node=result_val,
                                                      bound_vars=v[1], **extra))
                else:
                    t, p, value, var_dict = v
                    if value is None:
                        value = result_val
                    reports.append(self.make_v_result(
                        target_graph, t or f, value_node=value, result_path=p,
                        bound_vars=(t, p, value, var_dict), **extra))
        return bool(reports), reports

    with _PATCH_LOCK, remembered_checks():
        SPARQLBasedConstraint._evaluate_sparql_constraint = evaluate
        try:
            yield
        finally:
            SPARQLBasedConstraint._evaluate_sparql_constraint = original


class _ParameterList(list):
    """pyshacl looks up every predicate of every shape, for every focus node, in a list of ~40
    constraint parameters with rdflib's slow ``==``: the same list, with a set for ``in``."""

    def __init__(self, items=()):
        super().__init__(items)
        self._set = set(self)

    def __contains__(self, item):
        return item in self._set

    def append(self, item):
        super().append(item)
        self._set.add(item)

    def copy(self):
        return _ParameterList(self)


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _altered_by_store(term) -> bool:
    """Literals a pyoxigraph store may give back changed: it keeps numbers, booleans and the
    like as values ("7"^^xsd:positiveInteger comes back as 7^^xsd:integer, "1.50" as 1.5) and
    lower-cases language tags."""
    if not isinstance(term, ox.Literal):
        return False
    if term.language:
        return term.language != term.language.lower()
    return term.datatype.value != _XSD_STRING


def store_forms(literals) -> dict | None:
    """Stored form → literal as written, for the pyoxigraph ``literals`` a store would alter; None
    when two of them share a stored form (a store cannot tell them apart: SPARQL on it could differ
    from SPARQL on the data as written)."""
    probe = ox.Store()
    predicate = ox.NamedNode("urn:untoc:value")
    written = {}
    for i, literal in enumerate({t for t in literals if _altered_by_store(t) or (
            isinstance(t, ox.Literal) and t.language)}):
        subject = ox.NamedNode(f"urn:untoc:{i}")
        written[subject] = literal
        probe.add(ox.Quad(subject, predicate, literal))
    forms: dict = {}
    for q in probe:
        literal = written[q.subject]
        if forms.setdefault(q.object, literal) != literal:
            return None
    return {k: v for k, v in forms.items() if k != v}


def _shapes_quads(source: GraphSource) -> list:
    """The shapes file parsed by pyoxigraph (a third of the time reading them from the store takes)."""
    return read_quads(source.shapes_file)


def _shapes_graph(quads, keep=None):
    """The shapes as an rdflib graph, from pyoxigraph quads (much faster than rdflib's Turtle
    parser); with ``keep``, only the triples of those subjects."""
    import rdflib

    term = _rdflib_terms()

    shapes = rdflib.Graph()
    shapes.addN((term(q.subject), term(q.predicate), term(q.object), shapes)
                for q in quads if keep is None or q.subject in keep)
    return shapes


def _shapes_reaching(shape_quads, triples, nodes) -> set:
    """Subjects of the shapes graph that matter for ``nodes``: the node shapes that target one of
    them, and everything those shapes refer to (property shapes, lists, prefixes). A shape that
    targets none of them has no focus node here, so leaving it out changes no result."""
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    sub_class = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
    classes = {o for s, p, o in triples if p == rdf_type and s in nodes}
    parents = defaultdict(set)
    for s, p, o in triples:
        if p == sub_class:
            parents[s].add(o)
    todo = list(classes)
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in classes:
                classes.add(parent)
                todo.append(parent)
    wanted = {
        ox.NamedNode(SH + "targetClass"): classes,
        ox.NamedNode(SH + "targetSubjectsOf"): {p for s, p, o in triples if s in nodes},
        ox.NamedNode(SH + "targetObjectsOf"): {p for s, p, o in triples if o in nodes},
        ox.NamedNode(SH + "targetNode"): set(nodes),
    }
    other_targets = {ox.NamedNode(SH + "target")}
    refers = defaultdict(set)
    roots = set()
    for q in shape_quads:
        refers[q.subject].add(q.object)
        if q.object in wanted.get(q.predicate, ()) or q.predicate in other_targets:
            roots.add(q.subject)
    keep, todo = set(), list(roots)
    while todo:
        node = todo.pop()
        if node not in keep:
            keep.add(node)
            todo.extend(o for o in refers.get(node, ()) if o in refers)
    return keep


def _run_pyshacl(data, shapes):
    """pyshacl on ``data`` as it is: no inference and nothing that writes, so no copy of the data
    is needed (``inplace``; advanced mode would otherwise copy it for rules the shapes lack)."""
    import pyshacl
    import pyshacl.shape
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP

    pyshacl.shape.CONSTRAINT_PARAMS = (_ParameterList(ALL_CONSTRAINT_PARAMETERS),
                                       CONSTRAINT_PARAMETERS_MAP)
    _, report_graph, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True,
        allow_infos=True, inplace=True)
    return report_graph


def validate(source: GraphSource, graph=None, *, index=None, on_rebuild=None) -> Report:
    """Validate ontology + data (+ ``source.extra_files``) against the shapes.

    With extra files (new entries), issues are reported for the entities those files describe, as
    whole-graph validation would report them; only the part of the graph the shapes can reach from
    those entities is read (see ``neighbourhood``), from ``index``, the graph's index without the
    extra files (``graph_index``: opened when not given, built when missing, ``on_rebuild`` is
    called with a reason). The whole graph is checked with one
    SPARQL query per constraint (``shaclsparql``), or by pyshacl when the shapes or literals are
    beyond that compiler. With ``graph`` (an rdflib graph of ontology + data; extras are added to
    it) everything is done in rdflib, as pyshacl alone would: the reference the other paths are
    tested against.
    """
    import rdflib

    if graph is not None:
        return _validate_rdflib(source, graph)
    if not source.extra_files:
        shapes = _shapes_graph(_shapes_quads(source))
        report_graph = _whole_graph_on_store(source, shapes)
        if report_graph is None:
            report_graph = _whole_graph_pyshacl(source, shapes)
        return _report(report_graph, shapes, None, source.data_files)

    from .neighbourhood import neighbourhood
    from .querying import to_rdflib

    entry = [q for path in source.extra_files for q in read_quads(path)]
    nodes = {q.subject for q in entry}
    if not nodes:
        return Report(issues=[], graph=rdflib.Graph())
    if index is None:
        index = graph_index(GraphSource(source.root, source.data_dir), on_rebuild=on_rebuild)
    triples = neighbourhood(index, entry, nodes)
    data = rdflib.Graph()
    data.addN((to_rdflib(s), to_rdflib(p), to_rdflib(o), data) for s, p, o in triples)
    focus = {to_rdflib(n) for n in nodes}
    shape_quads = _shapes_quads(source)
    shapes = _shapes_graph(shape_quads, _shapes_reaching(shape_quads, triples, nodes))
    forms = store_forms(o for _, _, o in triples)
    if forms is None:  # literals a store would confuse: SPARQL in rdflib (slower, as written)
        sparql = prepared_sparql()
    else:
        part = ox.Store()
        part.extend(ox.Quad(s, p, o) for s, p, o in triples)
        sparql = sparql_on_store(part, exact_of=forms)
    with limited_targets(focus), sparql:
        report_graph = _run_pyshacl(data, shapes)
    return _report(report_graph, shapes, focus, source.extra_files)


def _whole_graph_on_store(source: GraphSource, shapes):
    """pyshacl's report graph, from one SPARQL query per constraint on a store (see
    ``shaclsparql``); None when the shapes use something it does not handle, or the data has
    literals the store cannot tell apart."""
    from .shaclsparql import Unsupported, validate_store

    # The files are parsed again for the literals as written (the store changes some), and loaded
    # into an in-memory store: oxigraph answers the SPARQL constraints on it several times faster
    # than on the cached one (a union of two named graphs on disk).
    memory, literals = ox.Store(), set()
    for path in [source.ontology_file, *source.data_files]:
        quads = read_quads(path)
        memory.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
        literals.update(q.object for q in quads if isinstance(q.object, ox.Literal))
    try:
        return validate_store(memory, shapes, exact_of=store_forms(literals))
    except Unsupported:
        return None


def _whole_graph_pyshacl(source: GraphSource, shapes):
    """pyshacl's report graph from pyshacl itself, SPARQL constraints answered by pyoxigraph when
    the literals allow it (the slower path, kept for shapes the compiler does not handle)."""
    data, same, literals = _parsed_twice([source.ontology_file, *source.data_files])
    forms = store_forms(literals)
    sparql = prepared_sparql() if forms is None else sparql_on_store(same, exact_of=forms)
    with sparql:
        return _run_pyshacl(data, shapes)


def graph_index(source: GraphSource, on_rebuild=None):
    """The cached ``graphindex.GraphIndex`` of the ontology and data of ``source`` (not its
    extra files), keyed on their content like the query store."""
    from .graphindex import GraphIndex

    key = source.fingerprint()
    path = _index_path(key)
    if on_rebuild and not path.is_file():
        on_rebuild("building the graph index for entries")

    def quads():
        for graph, file in source.graphs():
            yield from read_quads(file, graph)

    return GraphIndex.cached(path, quads, current=lambda: source.fingerprint() == key)


def carry_graph_index(before: str, after: str, added: list[ox.Quad]) -> None:
    """After an add: the index of the content keyed ``after`` is the one keyed ``before`` plus
    the ``added`` quads, when that one exists (else it is built on use)."""
    from .graphindex import GraphIndex

    GraphIndex.carry(_index_path(before), _index_path(after), added)


def _index_path(key: str) -> Path:
    return cache_dir() / f"index-{key}.sqlite"


def _parsed_twice(paths):
    """The files parsed once by pyoxigraph (a parser keeps literals as written), into an rdflib
    graph for pyshacl and an in-memory store for the SPARQL constraints, with the same blank nodes
    (the cached store's differ: its files were parsed separately), and the set of literals.
    Faster than rdflib's parsers; each distinct term is converted once."""
    import rdflib

    graph, store, literals = rdflib.Graph(), ox.Store(), set()
    term = _rdflib_terms()

    for path in paths:
        quads = read_quads(path)
        store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
        graph.addN((term(q.subject), term(q.predicate), term(q.object), graph) for q in quads)
        literals.update(q.object for q in quads if isinstance(q.object, ox.Literal))
    return graph, store, literals


def _validate_rdflib(source: GraphSource, data) -> Report:
    """Everything in rdflib and pyshacl: the reference the faster paths are compared with.

    ``data`` holds ontology + data; the extra files are added to it (it is changed), so their
    blank nodes are the same ones in the graph and among the nodes reported about.
    """
    import rdflib

    shapes = read_rdflib([source.shapes_file])
    new_nodes = None
    if source.extra_files:
        entry = read_rdflib(source.extra_files)
        new_nodes = set(entry.subjects())
        if not new_nodes:
            return Report(issues=[], graph=rdflib.Graph())
        for triple in entry:
            data.add(triple)
    with prepared_sparql(), (limited_targets(new_nodes) if new_nodes else _nothing()):
        report_graph = _run_pyshacl(data, shapes)
    return _report(report_graph, shapes, new_nodes, source.extra_files or source.data_files)


def _report(report_graph, shapes, new_nodes, files) -> Report:
    """Issues from a SHACL report graph; with ``new_nodes``, only those about them."""
    import rdflib

    # Entries are reported about their own nodes only, so only their files need searching.
    where = locate_subjects(files)

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
