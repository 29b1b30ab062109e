"""Whole-graph SHACL validation as a few SPARQL queries on the pyoxigraph store.

pyshacl checks every focus node in Python, one constraint at a time, which grows to minutes at a
million triples. Here each (shape, constraint) of the shapes graph becomes one query over the whole
store that returns only the focus nodes (and values) that break it; pyshacl's own constraint
classes still decide what cannot be told from a store's terms (datatypes and patterns need the
literals as written: the store keeps "07"^^xsd:positiveInteger as 7^^xsd:integer) and build every
result, message and the report graph, so the report is the one pyshacl would write.

Only the SHACL Core constructs the compiler knows are accepted; anything else in the shapes graph
raises ``Unsupported`` before a query runs, and the caller validates with pyshacl instead.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, SH

from .querying import to_rdflib

__all__ = ["Unsupported", "validate_store", "sparql_violations"]

_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
_SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
_XSD_STRING = rdflib.URIRef("http://www.w3.org/2001/XMLSchema#string")

# Everything of the SHACL vocabulary the compiler understands; any other sh: term in the shapes
# graph (sh:node, sh:in, sh:closed, sh:rule, sh:target, sh:deactivated, ...) means pyshacl.
_KNOWN = {SH[n] for n in (
    "targetClass targetSubjectsOf targetObjectsOf targetNode path alternativePath inversePath "
    "property class datatype minCount maxCount or and not qualifiedValueShape qualifiedMinCount "
    "qualifiedMaxCount languageIn pattern flags nodeKind hasValue severity message sparql select "
    "prefixes declare prefix namespace name description order group").split()}
_KNOWN_TYPES = {SH.NodeShape, SH.PropertyShape, SH.SPARQLConstraint, SH.PrefixDeclaration}
_TARGETS = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
# Constraints decided on the literals as written, by pyshacl's own component classes.
_WRITTEN = (SH.datatype, SH.pattern)
_KINDS = {  # sh:nodeKind → the SPARQL test, as pyshacl's NodeKindConstraintComponent decides it
    SH.IRI: "isIRI({0})", SH.BlankNode: "isBlank({0})", SH.Literal: "isLiteral({0})",
    SH.BlankNodeOrIRI: "(isBlank({0}) || isIRI({0}))", SH.BlankNodeOrLiteral: "(isBlank({0}) || isLiteral({0}))",
    SH.IRIOrLiteral: "(isIRI({0}) || isLiteral({0}))"}
_ALLOWED = {SH.Info, SH.Warning}  # the severities validation allows (allow_infos, allow_warnings)


class Unsupported(Exception):
    """The shapes use something the compiler does not handle: validate with pyshacl."""


def sparql_violations(rows):
    """What pyshacl's _validate_sparql_query makes of the rows of one focus node."""
    violations = []
    failed = False
    for row in rows:
        var_dict = dict(row)
        if var_dict.pop("failure", None) is not None:
            if not failed:
                violations.append((True, var_dict))
                failed = True
            continue
        p = var_dict.pop("path", None)
        v = var_dict.pop("value", None)
        t = var_dict.pop("this", None)
        if (p is not None or v is not None or t is not None) and (t, p, v, var_dict) not in violations:
            violations.append((t, p, v, var_dict))
    return violations


def _iri(term) -> str:
    if not isinstance(term, rdflib.URIRef):
        raise Unsupported(f"expected an IRI, got {term!r}")
    return f"<{term}>"


def check_vocabulary(shapes: rdflib.Graph) -> None:
    """Refuse shapes graphs with SHACL terms outside what the compiler handles."""
    for _, p, o in shapes:
        if str(p).startswith(str(SH)) and p not in _KNOWN:
            raise Unsupported(f"{p} is not handled")
        if p == RDF.type and str(o).startswith(str(SH)) and o not in _KNOWN_TYPES:
            raise Unsupported(f"{o} is not handled")


class _Compiler:
    """Shapes as SPARQL: paths, targets, and the test that a node conforms to a nested shape."""

    def __init__(self, sg, store, default_graph, exact_of):
        from pyshacl.pytypes import SHACLExecutor

        self.sg, self.g = sg, sg.graph
        self.store, self.default_graph = store, default_graph
        self.exact_of = exact_of
        self.executor = SHACLExecutor(advanced_mode=True, allow_infos=True, allow_warnings=True)
        self.datagraph = rdflib.Graph()  # blank nodes of the results, cloned into the report
        self.terms: dict = {}
        self.fresh = itertools.count()

    # -- helpers ------------------------------------------------------------------------------

    def var(self, stem="x") -> str:
        return f"?{stem}{next(self.fresh)}"

    def query(self, text):
        return self.store.query(text, default_graph=self.default_graph)

    def term(self, t):
        """A store term as rdflib, with the literal as written."""
        found = self.terms.get(t)
        if found is None:
            found = self.terms[t] = to_rdflib(self.exact_of.get(t, t))
        return found

    def shape(self, node):
        return self.sg.lookup_shape_from_node(node)

    def values(self, node, p):
        return list(self.g.objects(node, p))

    def one(self, node, p):
        found = self.values(node, p)
        if len(found) > 1:
            raise Unsupported(f"several {p} on {node}")
        return found[0] if found else None

    def items(self, node):
        return list(self.g.items(node))

    def params(self, node) -> set:
        return {p for p in self.g.predicates(node) if p in _KNOWN or str(p).startswith(str(SH))}

    def path(self, node) -> str:
        """A SHACL path as a SPARQL property path (the path kinds pyshacl and SPARQL agree on)."""
        if isinstance(node, rdflib.URIRef):
            return f"<{node}>"
        if not isinstance(node, rdflib.BNode):
            raise Unsupported(f"path {node!r}")
        if self.g.value(node, RDF.first) is not None:
            parts = [self.path(p) for p in self.items(node)]
            if not parts:
                raise Unsupported("empty sequence path")
            return "(" + "/".join(parts) + ")"
        preds = set(self.g.predicates(node))
        if preds == {SH.alternativePath}:
            parts = [self.path(p) for p in self.items(self.g.value(node, SH.alternativePath))]
            if not parts:
                raise Unsupported("empty alternative path")
            return "(" + "|".join(parts) + ")"
        if preds == {SH.inversePath}:
            return "^(" + self.path(self.g.value(node, SH.inversePath)) + ")"
        raise Unsupported(f"path {node}")

    def targets(self, node, var) -> str | None:
        """A pattern binding ``var`` to the focus nodes of a shape (its targets), possibly more than
        once each; None when it has no targets."""
        parts = []
        for c in self.values(node, SH.targetClass):
            parts.append(f"{{ {var} {_RDF_TYPE}/{_SUBCLASS}* {_iri(c)} }}")
        for n in self.values(node, SH.targetNode):
            parts.append(f"{{ VALUES {var} {{ {_iri(n)} }} }}")
        for p in self.values(node, SH.targetSubjectsOf):
            parts.append(f"{{ {var} {_iri(p)} [] }}")
        for p in self.values(node, SH.targetObjectsOf):
            parts.append(f"{{ [] {_iri(p)} {var} }}")
        return " UNION ".join(parts) or None

    # -- conditions on a single node, for nested shapes ------------------------------------------

    def value_test(self, node, p, x, members=None) -> str:
        """The SPARQL test a value ``x`` passes for the value constraint ``p`` of shape ``node``
        (``members``: only these of its values of ``p``)."""
        members = self.values(node, p) if members is None else members
        if p == SH["class"]:
            return " && ".join(f"EXISTS {{ {x} {_RDF_TYPE}/{_SUBCLASS}* {_iri(c)} }}" for c in members)
        if p == SH.nodeKind:
            kind = self.one(node, p)
            if kind not in _KINDS:
                raise Unsupported(f"sh:nodeKind {kind}")
            return _KINDS[kind].format(x)
        if p == SH.languageIn:
            tests = []
            for lst in members:
                langs = set()
                for lang in self.items(lst):
                    if not isinstance(lang, rdflib.Literal) or not isinstance(lang.value, str):
                        raise Unsupported("sh:languageIn with a non-string")
                    langs.add(str(lang.value).lower())
                if "*" in langs:
                    tests.append(f'(lang({x}) != "")')
                    continue
                # pyshacl: the whole tag, or the part before the first "-", lower-cased, is listed
                listed = ", ".join(_quote(s) for s in sorted(langs)) or '""'
                parts = ", ".join(_quote(s) for s in sorted(langs) if s) or '"-"'
                tests.append(f'(lang({x}) != "" && (LCASE(lang({x})) IN ({listed}) || '
                             f'(CONTAINS(lang({x}), "-") && LCASE(STRBEFORE(lang({x}), "-")) IN ({parts}))))')
            return " && ".join(tests)
        if p in (SH["or"], SH["and"], SH["not"]):
            tests = []
            for lst in members:
                shapes = [lst] if p == SH["not"] else self.items(lst)
                inner = [self.conforms(m, x) for m in shapes]
                if p == SH["not"]:
                    tests.append(f"!({inner[0]})")
                elif not inner:
                    raise Unsupported(f"empty {p}")
                else:
                    tests.append("(" + (" || " if p == SH["or"] else " && ").join(inner) + ")")
            return " && ".join(tests)
        raise Unsupported(f"{p} in a nested shape")

    def conforms(self, node, x, depth=0) -> str:
        """A SPARQL expression: node ``x`` conforms to the nested shape ``node`` (pyshacl's verdict
        when sh:or, sh:and, sh:not or sh:qualifiedValueShape validate a node against it)."""
        if depth > 8:
            raise Unsupported("shapes nested too deep")
        severity = self.one(node, SH.severity)
        if severity not in (None, SH.Violation):
            raise Unsupported("a nested shape with a severity that validation allows")
        params = self.params(node) - {SH.severity, SH.message, SH.name, SH.description, SH.order,
                                      SH.group, *_TARGETS}
        path_node = self.one(node, SH.path)
        params.discard(SH.path)
        tests = []
        if path_node is None:
            for p in params:
                if p == SH.hasValue:
                    tests.append(" && ".join(f"sameTerm({x}, {_iri(v)})" for v in self.values(node, p)))
                else:
                    tests.append(self.value_test(node, p, x))
            return "(" + " && ".join(tests) + ")" if tests else "true"
        path = self.path(path_node)
        value_params = {SH["class"], SH.nodeKind, SH.languageIn, SH["or"], SH["and"], SH["not"]}
        for p in params:
            y = self.var("y")
            if p in value_params:
                tests.append(f"NOT EXISTS {{ {x} {path} {y} FILTER (!({self.value_test(node, p, y)})) }}")
            elif p == SH.minCount:
                n = int(self.one(node, p))
                if n == 1:
                    tests.append(f"EXISTS {{ {x} {path} {y} }}")
                elif n > 1:
                    raise Unsupported("sh:minCount above 1 in a nested shape")
            elif p == SH.maxCount:
                n = int(self.one(node, p))
                if n == 0:
                    tests.append(f"NOT EXISTS {{ {x} {path} {y} }}")
                elif n == 1:
                    z = self.var("z")
                    tests.append(f"NOT EXISTS {{ {x} {path} {y} . {x} {path} {z} FILTER (!sameTerm({y}, {z})) }}")
                else:
                    raise Unsupported("sh:maxCount above 1 in a nested shape")
            elif p == SH.hasValue:
                tests.extend(f"EXISTS {{ {x} {path} {_iri(v)} }}" for v in self.values(node, p))
            elif p == SH.qualifiedValueShape:
                q = self.conforms(self.one(node, p), y, depth + 1)
                low, high = self.one(node, SH.qualifiedMinCount), self.one(node, SH.qualifiedMaxCount)
                if low is not None and int(low) > 1 or high is not None and int(high) > 0:
                    raise Unsupported("qualified counts in a nested shape")
                if low is not None and int(low) == 1:
                    tests.append(f"EXISTS {{ {x} {path} {y} FILTER ({q}) }}")
                if high is not None:
                    tests.append(f"NOT EXISTS {{ {x} {path} {y} FILTER ({q}) }}")
            elif p in (SH.qualifiedMinCount, SH.qualifiedMaxCount):
                continue
            else:
                raise Unsupported(f"{p} in a nested property shape")
        return "(" + " && ".join(tests) + ")" if tests else "true"

    def sparql_only(self, node, p) -> bool:
        """Whether value constraint ``p`` of ``node`` can be decided on the store's terms."""
        try:
            self.value_test(node, p, "?probe")
        except Unsupported:
            return False
        return True


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_IGNORED = {SH.severity, SH.message, SH.name, SH.description, SH.order, SH.group}
_VALUE_LOCAL = {SH.datatype, SH.pattern, SH.flags, SH.nodeKind, SH.languageIn, SH["or"], SH["and"], SH["not"]}


def _components():
    """Constraint parameter → pyshacl's component class (imported on first use)."""
    from pyshacl.constraints.core import cardinality_constraints as card
    from pyshacl.constraints.core import logical_constraints as logic
    from pyshacl.constraints.core import other_constraints as other
    from pyshacl.constraints.core import shape_based_constraints as based
    from pyshacl.constraints.core import string_based_constraints as strings
    from pyshacl.constraints.core import value_constraints as value
    from pyshacl.constraints.sparql.sparql_based_constraints import SPARQLBasedConstraint

    return {SH["class"]: value.ClassConstraintComponent, SH.nodeKind: value.NodeKindConstraintComponent,
            SH.datatype: value.DatatypeConstraintComponent, SH.languageIn: strings.LanguageInConstraintComponent,
            SH.pattern: strings.PatternConstraintComponent, SH["or"]: logic.OrConstraintComponent,
            SH["and"]: logic.AndConstraintComponent, SH["not"]: logic.NotConstraintComponent,
            SH.minCount: card.MinCountConstraintComponent, SH.maxCount: card.MaxCountConstraintComponent,
            SH.hasValue: other.HasValueConstraintComponent,
            SH.qualifiedValueShape: based.QualifiedValueShapeConstraintComponent, SH.sparql: SPARQLBasedConstraint}


class _Run(_Compiler):
    """Every shape with targets, evaluated; the results are made by pyshacl's components."""

    def __init__(self, sg, store, graphs, exact_of):
        super().__init__(sg, store, [ox.NamedNode(g) for g in graphs] if graphs else None, exact_of)
        self.graphs = set(graphs) if graphs else None
        self.classes = _components()
        self.results = []
        self.conforming = True

    def add(self, top, made):
        """Keep results; conformance as pyshacl decides it with warnings and notes allowed."""
        for desc, r_node, r_triples in made:
            self.results.append((desc, r_node, r_triples))
            severity = next(o for _, p, o in r_triples if p == SH.resultSeverity)
            if top.severity not in _ALLOWED and severity not in _ALLOWED:
                self.conforming = False

    def component(self, p, shape):
        from pyshacl.errors import ConstraintLoadError

        try:
            return self.classes[p](shape)
        except ConstraintLoadError as exc:  # pyshacl would stop on it: let it
            raise Unsupported(str(exc)) from None

    def run(self):
        for shape in list(self.sg.shapes):
            if shape.implicit_class_targets():
                raise Unsupported("a shape that is also a class (implicit class target)")
            targets = self.targets(shape.node, "?f")
            if targets is not None:
                self.evaluate(shape, shape, targets)

    def evaluate(self, top, shape, targets):
        """Results of ``shape`` for the focus nodes ``targets`` binds to ?f (``top``: the shape
        that has the targets)."""
        node = shape.node
        params = self.params(node) - _IGNORED - {SH.path, SH.flags, *_TARGETS}
        path = self.path(shape.path()) if shape.is_property_shape else None
        focus = f"{{ SELECT DISTINCT ?f WHERE {{ {targets} }} }}"
        # (?f, ?v) for every focus node and each of its value nodes, once
        values = (f"?f {path} ?v . FILTER (%s EXISTS {{ {targets} }})" if path
                  else f"{focus} BIND (?f AS ?v) FILTER (%s true)")
        for p in sorted(params):
            if p in (SH["class"], SH.nodeKind, SH.languageIn, SH["or"], SH["and"], SH["not"], SH.datatype,
                     SH.pattern):
                c = self.component(p, shape)
                if p not in _WRITTEN and self.sparql_only(node, p):
                    self.failing_values(top, shape, c, p, values)
                else:
                    self.written(top, shape, c, p, values)
            elif p in (SH.minCount, SH.maxCount):
                if path is None:
                    raise Unsupported("counts on a node shape")
                self.count(top, shape, self.component(p, shape), p, focus, targets, path)
            elif p == SH.hasValue:
                c = self.component(p, shape)
                for v in self.values(node, p):
                    test = f"EXISTS {{ ?f {path} {_iri(v)} }}" if path else f"sameTerm(?f, {_iri(v)})"
                    rows = self.query(f"SELECT ?f WHERE {{ {focus} FILTER (!({test})) }}")
                    self.add(top, [c.make_v_result(self.datagraph, self.term(r[0])) for r in rows])
            elif p == SH.qualifiedValueShape:
                if path is None:
                    raise Unsupported("sh:qualifiedValueShape on a node shape")
                self.qualified(top, shape, self.component(p, shape), focus, path)
            elif p in (SH.qualifiedMinCount, SH.qualifiedMaxCount):
                continue
            elif p == SH.property:
                if path is not None:
                    raise Unsupported("sh:property on a property shape")
                for inner in self.values(node, p):
                    self.evaluate(top, self.shape(inner), targets)
            elif p == SH.sparql:
                if path is not None:
                    raise Unsupported("sh:sparql on a property shape")
                self.sparql(top, shape, focus)
            else:
                raise Unsupported(f"{p} on a shape")

    def failing_values(self, top, shape, c, p, values):
        """Value constraints the store's terms decide: one query per listed class / list, as
        pyshacl reports each of them on its own."""
        node = shape.node
        groups = [None] if p == SH.nodeKind else [[m] for m in self.values(node, p)]
        for members in groups:
            test = self.value_test(node, p, "?v", members)
            # the value test first: it fails seldom, and the target test costs more
            rows = self.query(f"SELECT DISTINCT ?f ?v WHERE {{ {values % f'!({test}) &&'} }}")
            self.add(top, [c.make_v_result(self.datagraph, self.term(f), value_node=self.term(v))
                           for f, v in rows])

    def value_local(self, node, depth=0) -> bool:
        """Whether a nested shape looks only at the node itself (pyshacl can decide it without
        the data graph)."""
        if depth > 8 or self.one(node, SH.severity) not in (None, SH.Violation):
            return False
        params = self.params(node) - _IGNORED
        if not params <= _VALUE_LOCAL:
            return False
        for p in params & {SH["or"], SH["and"]}:
            if not all(self.value_local(m, depth + 1) for lst in self.values(node, p) for m in self.items(lst)):
                return False
        return all(self.value_local(m, depth + 1) for m in self.values(node, SH["not"]))

    def written(self, top, shape, c, p, values):
        """Constraints decided on the literals as written: pyshacl's component gets the values."""
        node = shape.node
        if p in (SH["or"], SH["and"]):
            if not all(self.value_local(m) for lst in self.values(node, p) for m in self.items(lst)):
                raise Unsupported(f"{p} mixing literal checks with graph checks")
        elif p == SH["not"] and not all(self.value_local(m) for m in self.values(node, p)):
            raise Unsupported("sh:not mixing literal checks with graph checks")
        prefilter = ""
        if p == SH.datatype:
            # A store turns no other literal into an xsd:string or a language-tagged one, nor these
            # into anything else: values it holds with that datatype have it as written.
            rule = self.one(node, p)
            if rule == _XSD_STRING:
                prefilter = f"(!isLiteral(?v) || datatype(?v) != <{_XSD_STRING}>) &&"
            elif rule == RDF.langString:
                prefilter = '(!isLiteral(?v) || lang(?v) = "") &&'
        f_v = defaultdict(set)
        for f, v in self.query(f"SELECT DISTINCT ?f ?v WHERE {{ {values % prefilter} }}"):
            f_v[self.term(f)].add(self.term(v))
        if f_v:
            _, made = c.evaluate(self.executor, self.datagraph, dict(f_v), [])
            self.add(top, made)

    def count(self, top, shape, c, p, focus, targets, path):
        n = int(self.one(shape.node, p))
        if p == SH.minCount:
            if n <= 0:
                return
            if n == 1:
                text = f"SELECT ?f WHERE {{ {focus} FILTER NOT EXISTS {{ ?f {path} ?v }} }}"
            else:
                text = (f"SELECT ?f WHERE {{ {focus} OPTIONAL {{ ?f {path} ?v }} }} "
                        f"GROUP BY ?f HAVING (COUNT(DISTINCT ?v) < {n})")
        else:
            text = (f"SELECT ?f WHERE {{ {{ SELECT ?f (COUNT(DISTINCT ?v) AS ?n) WHERE {{ ?f {path} ?v }} "
                    f"GROUP BY ?f }} FILTER (?n > {n}) FILTER EXISTS {{ {targets} }} }}")
        self.add(top, [c.make_v_result(self.datagraph, self.term(r[0])) for r in self.query(text)])

    def qualified(self, top, shape, c, focus, path):
        from pyshacl.constraints.core.shape_based_constraints import (
            SH_QualifiedMaxCountConstraintComponent, SH_QualifiedMinCountConstraintComponent)

        if c.is_disjoint:
            raise Unsupported("sh:qualifiedValueShapesDisjoint")
        low, high = c.min_count, c.max_count
        having = ([f"?n > {int(high)}"] if high is not None else []) + \
                 ([f"?n < {int(low)}"] if low is not None else [])
        made = []
        for q in self.values(shape.node, SH.qualifiedValueShape):
            test = self.conforms(q, "?v", 1)
            rows = self.query(
                f"SELECT ?f ?n WHERE {{ {{ SELECT ?f (COUNT(DISTINCT ?v) AS ?n) WHERE {{ {focus} "
                f"OPTIONAL {{ ?f {path} ?v FILTER ({test}) }} }} GROUP BY ?f }} FILTER ({' || '.join(having)}) }}")
            for f, n in rows:
                f, n = self.term(f), int(n.value)
                if high is not None and n > int(high):
                    made.append(c.make_v_result(self.datagraph, f,
                                                constraint_component=SH_QualifiedMaxCountConstraintComponent))
                if low is not None and n < int(low):
                    made.append(c.make_v_result(self.datagraph, f,
                                                constraint_component=SH_QualifiedMinCountConstraintComponent))
        self.add(top, made)

    def sparql(self, top, shape, focus):
        """SPARQL constraints: each query runs once with $this free (``validation.sparql_on_store``)
        and pyshacl's component makes the results of each focus node from its rows."""
        from .validation import sparql_on_store

        c = self.component(SH.sparql, shape)
        nodes = [self.term(r[0]) for r in self.query(f"SELECT ?f WHERE {{ {focus} }}")]
        if not nodes:
            return
        for helper in c.sparql_constraints:
            init_binds, _ = helper.pre_bind_variables(nodes[0])
            if set(init_binds) != {"this"}:
                raise Unsupported("a SPARQL constraint using $value, $currentShape or $shapesGraph")
        with sparql_on_store(self.store, graphs=sorted(self.graphs) if self.graphs else None,
                             exact_of=self.exact_of):
            _, made = c.evaluate(self.executor, self.datagraph, {n: {n} for n in nodes}, [])
        self.add(top, made)

    def clone_blank_nodes(self):
        """The data triples of blank focus nodes and values, which pyshacl copies into the report."""
        todo = [o[1] for _, _, r_triples in self.results for _, _, o in r_triples
                if isinstance(o, tuple) and o[0] is self.datagraph and isinstance(o[1], rdflib.BNode)]
        seen = set()
        while todo:
            b = todo.pop()
            if b in seen:
                continue
            seen.add(b)
            for q in self.store.quads_for_pattern(ox.BlankNode(str(b)), None, None):
                if self.graphs is not None and (not isinstance(q.graph_name, ox.NamedNode)
                                                or q.graph_name.value not in self.graphs):
                    continue
                o = self.term(q.object)
                self.datagraph.add((self.term(q.subject), self.term(q.predicate), o))
                if isinstance(o, rdflib.BNode):
                    todo.append(o)


def validate_store(store: ox.Store, shapes: rdflib.Graph, *, graphs=None, exact_of=None):
    """pyshacl's report graph for the data in ``store`` (its named ``graphs``, or the default
    graph) against ``shapes``, built from one query per constraint.

    ``exact_of`` maps stored literals to the literals as written (``validation.store_forms``);
    None (two written literals share a stored form, so the store cannot tell them apart) raises
    ``Unsupported``, as do shapes using anything the compiler does not handle.
    """
    if exact_of is None:
        raise Unsupported("literals the store cannot tell apart")
    from pyshacl.shapes_graph import ShapesGraph
    from pyshacl.validator import Validator

    check_vocabulary(shapes)
    sg = ShapesGraph(shapes)
    run = _Run(sg, store, graphs, exact_of)
    run.run()
    run.clone_blank_nodes()
    report, _ = Validator.create_validation_report(sg, run.conforming, run.results)
    return report
