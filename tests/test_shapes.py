"""Tests for ontology/untoc-shapes.ttl and ontology/checks/*.rq.

- the shapes file is well-formed SHACL, every shape has a message and a severity, every class is targeted;
- fixtures under tests/fixtures/shapes/{valid,invalid}/ are validated together with the ontology and the
  shipped data, the way a user's new entry is: invalid ones must produce a result from the shape named in
  their ``# expect-shape:`` header (about one of their own nodes), valid ones no Violation or Warning;
- the shipped graph (ontology + data/*.ttl) conforms, with and without OWL RL closure;
- every integrity check returns no rows on the shipped graph (rdflib and pyoxigraph alike) and can fail
  (tests/fixtures/checks/<check>.ttl breaks it).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import BNode, Graph, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH

ROOT = Path(__file__).resolve().parents[1]
SHAPES_FILE = ROOT / "ontology" / "untoc-shapes.ttl"
ONTOLOGY_FILE = ROOT / "ontology" / "untoc.ttl"
CHECKS_DIR = ROOT / "ontology" / "checks"
DATA_DIR = ROOT / "data"
FIXTURES = ROOT / "tests" / "fixtures" / "shapes"
CHECK_FIXTURES = ROOT / "tests" / "fixtures" / "checks"

UNTOC = Namespace("https://w3id.org/untoc/ontology#")

VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
CHECKS = sorted(CHECKS_DIR.glob("*.rq"))

SEVERITY_NAMES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


# ---- helpers ---------------------------------------------------------------------------------------------


def _prefix_map() -> dict[str, str]:
    from untoc_kg.namespaces import PREFIXES as LIBRARY_PREFIXES

    return {"sh": str(SH), **LIBRARY_PREFIXES}


PREFIXES = _prefix_map()


def expand(curie: str) -> URIRef:
    prefix, _, local = curie.partition(":")
    if curie.startswith("http") or prefix not in PREFIXES:
        return URIRef(curie)
    return URIRef(PREFIXES[prefix] + local)


def short(term) -> str:
    s = str(term)
    best = ""
    for prefix, ns in PREFIXES.items():
        if s.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            best = prefix
    return f"{best}:{s[len(PREFIXES[best]):]}" if best else s


def fixture_header(path: Path) -> dict[str, list[str]]:
    """``# key: value`` lines of the leading comment block."""
    header: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        m = re.match(r"#\s*([\w-]+):\s*(.*)$", line)
        if m:
            header.setdefault(m.group(1), []).append(m.group(2).strip())
    return header


def header_terms(header: dict[str, list[str]], key: str) -> list[URIRef]:
    return [expand(t) for v in header.get(key, []) for t in re.split(r"[\s,]+", v) if t]


def rendered(message: str, focus, value=None) -> str:
    """A result message with the placeholders pyshacl leaves in core-constraint messages filled in."""
    message = message.replace("{$this}", short(focus))
    if value is not None:
        message = message.replace("{$value}", short(value))
    return message


def results(report: Graph) -> list[dict]:
    out = []
    for r in report.subjects(RDF.type, SH.ValidationResult):
        out.append({
            "focus": report.value(r, SH.focusNode),
            "shape": report.value(r, SH.sourceShape),
            "severity": report.value(r, SH.resultSeverity),
            "path": report.value(r, SH.resultPath),
            "value": report.value(r, SH.value),
            "message": str(report.value(r, SH.resultMessage) or ""),
        })
    return out


def describe(rows, shapes: Graph | None = None) -> str:
    lines = []
    for r in sorted(rows, key=lambda r: (str(r["shape"]), str(r["focus"]))):
        shape = r["shape"]
        if isinstance(shape, BNode) and shapes is not None:
            parent = shapes.value(None, SH.property, shape)
            shape = f"{short(parent)} (property {short(r['path'])})" if parent else shape
        else:
            shape = short(shape)
        lines.append(f"  [{SEVERITY_NAMES.get(r['severity'], r['severity'])}] {short(r['focus'])} <- {shape}: "
                     f"{rendered(r['message'], r['focus'], r['value'])}")
    return "\n".join(lines)


def owning_shapes(shapes: Graph, shape) -> set:
    """The shape itself and the node shapes that hold it as a property shape."""
    found = {shape}
    found.update(shapes.subjects(SH.property, shape))
    return found


def validate(data: Graph, shapes: Graph, **kwargs) -> list[dict]:
    import pyshacl

    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_infos=True,
                                    allow_warnings=False, **kwargs)
    return results(report)


def run_rdflib(graph: Graph, query: str) -> list[tuple]:
    return [tuple(row) for row in graph.query(query)]


def to_oxigraph(graph: Graph) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(graph.serialize(format="nt", encoding="utf-8"), pyoxigraph.RdfFormat.N_TRIPLES)
    return store


def run_oxigraph(store: pyoxigraph.Store, query: str) -> list:
    return list(store.query(query))


# ---- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _reuse_parsed_sparql():
    """Speed only: the library's validation parses each SPARQL constraint once; the tests do too."""
    from untoc_kg.validation import prepared_sparql

    with prepared_sparql():
        yield


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES_FILE, format="turtle")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    if not ONTOLOGY_FILE.is_file():
        pytest.skip("ontology/untoc.ttl not written yet")
    return Graph().parse(ONTOLOGY_FILE, format="turtle")


@pytest.fixture(scope="module")
def shipped(graph) -> Graph:
    """The shipped graph (ontology + data/*.ttl) from conftest; never modified."""
    if not list(DATA_DIR.glob("*.ttl")):
        pytest.skip("no data/*.ttl yet")
    return graph


@pytest.fixture(scope="module")
def shipped_store(shipped) -> pyoxigraph.Store:
    return to_oxigraph(shipped)


@pytest.fixture(scope="module")
def shipped_report(shipped, shapes, ontology) -> list[dict]:
    return validate(shipped, shapes, ont_graph=ontology)


# ---- the shapes file itself ---------------------------------------------------------------------------------


def node_shapes(shapes: Graph) -> list[URIRef]:
    return sorted(s for s in shapes.subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef))


def all_shapes(shapes: Graph) -> set:
    found = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
    found |= set(shapes.objects(None, SH.property))
    return found


def test_shapes_file_is_valid_shacl(shapes):
    """pyshacl loads the shapes and they pass the SHACL-for-SHACL meta-shapes."""
    import pyshacl

    conforms, _, text = pyshacl.validate(Graph(), shacl_graph=shapes, meta_shacl=True)
    assert conforms, text
    assert len(node_shapes(shapes)) >= 30


@pytest.mark.parametrize("kind", ["message", "severity"])
def test_every_shape_has_message_and_severity(shapes, kind):
    prop = SH.message if kind == "message" else SH.severity
    missing = [short(s) if isinstance(s, URIRef) else f"property {short(shapes.value(s, SH.path))} of "
               f"{short(shapes.value(None, SH.property, s))}"
               for s in all_shapes(shapes) if shapes.value(s, prop) is None]
    assert not missing, f"shapes without sh:{kind}: {missing}"


def test_every_sparql_constraint_is_complete(shapes):
    problems = []
    for shape, constraint in shapes.subject_objects(SH.sparql):
        for prop in (SH.message, SH.severity, SH.prefixes, SH.select):
            if shapes.value(constraint, prop) is None:
                problems.append(f"{short(shape)}: sh:sparql without {short(prop)}")
        if "$this" not in str(shapes.value(constraint, SH.select)):
            problems.append(f"{short(shape)}: query does not use $this")
    assert not problems


def test_messages_name_the_entity_and_severities_are_known(shapes):
    problems = []
    for node, message in shapes.subject_objects(SH.message):
        if "{$this}" not in str(message):
            problems.append(f"{node}: {message}")
    for node, severity in shapes.subject_objects(SH.severity):
        if severity not in SEVERITY_NAMES:
            problems.append(f"{node}: unknown severity {severity}")
    assert not problems, "\n".join(problems)


def test_node_shapes_are_documented(shapes):
    missing = [short(s) for s in node_shapes(shapes)
               if shapes.value(s, RDFS.label) is None or shapes.value(s, RDFS.comment) is None]
    assert not missing, f"node shapes without rdfs:label/rdfs:comment: {missing}"


def test_every_ontology_class_is_targeted(shapes, ontology):
    targeted = set(shapes.objects(None, SH.targetClass))
    classes = {c for c in ontology.subjects(RDF.type, OWL.Class)
               if isinstance(c, URIRef) and str(c).startswith(str(UNTOC))}
    assert classes, "no untoc: classes declared"
    missing = sorted(short(c) for c in classes - targeted)
    assert not missing, f"untoc: classes no shape targets: {missing}"


def test_reused_classes_are_targeted(shapes):
    targeted = set(shapes.objects(None, SH.targetClass))
    for cls in ("schema:Place", "skos:Concept", "skos:ConceptScheme", "rdf:Statement"):
        assert expand(cls) in targeted, cls


def test_every_node_shape_has_fixtures(shapes):
    covered_invalid: set = set()
    for path in INVALID:
        for shape in header_terms(fixture_header(path), "expect-shape"):
            covered_invalid |= {shape} | set(shapes.subjects(SH.property, shape))
    covered_valid = {s for path in VALID for s in header_terms(fixture_header(path), "covers")}
    problems = []
    for shape in node_shapes(shapes):
        if shape not in covered_invalid:
            problems.append(f"{short(shape)}: no invalid fixture")
        if shape not in covered_valid:
            problems.append(f"{short(shape)}: no valid fixture")
    assert not problems, "\n".join(problems)


# ---- fixtures: a user's new entry validated with the ontology and the shipped data ----------------------------


def _targets_limited_to(nodes: set):
    """Validate the whole graph but start from the fixture's own nodes (see untoc_kg.validation)."""
    from untoc_kg.validation import limited_targets

    return limited_targets(nodes)


def _validate_fixture(path: Path, shipped: Graph, shapes: Graph) -> tuple[list[dict], set]:
    entry = Graph().parse(path, format="turtle")
    combined = Graph()
    for triple in shipped:
        combined.add(triple)
    for triple in entry:  # adding triple by triple keeps the fixture's blank nodes as they are
        combined.add(triple)
    own = set(entry.subjects())
    with _targets_limited_to(own):
        rows = validate(combined, shapes, inplace=True)
    return rows, own


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_fails_with_expected_shape(path, shipped, shapes):
    header = fixture_header(path)
    expected = header_terms(header, "expect-shape")
    assert expected, f"{path.name}: no '# expect-shape:' header"
    assert header.get("why"), f"{path.name}: no '# why:' header"
    for shape in expected:
        assert (shape, None, None) in shapes, f"{path.name}: unknown shape {short(shape)}"
    paths = header_terms(header, "expect-path")
    rows, own = _validate_fixture(path, shipped, shapes)
    own_rows = [r for r in rows if r["focus"] in own]
    for shape in expected:
        hits = [r for r in own_rows if shape in owning_shapes(shapes, r["shape"])]
        assert hits, (f"{path.name}: no result from {short(shape)} about the fixture's nodes; got:\n"
                      + describe(own_rows, shapes))
        if paths:
            assert any(r["path"] in paths for r in hits), (
                f"{path.name}: {short(shape)} fired, but not on {[short(p) for p in paths]}:\n"
                + describe(hits, shapes))


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_fixture_conforms(path, shipped, shapes):
    header = fixture_header(path)
    assert header.get("covers"), f"{path.name}: no '# covers:' header"
    rows, own = _validate_fixture(path, shipped, shapes)
    bad = [r for r in rows if r["focus"] in own and r["severity"] in (SH.Violation, SH.Warning)]
    assert not bad, f"{path.name} should conform:\n" + describe(bad, shapes)


# ---- the shipped graph ------------------------------------------------------------------------------------------


def test_shipped_graph_conforms(shipped_report, shapes):
    bad = [r for r in shipped_report if r["severity"] in (SH.Violation, SH.Warning)]
    assert not bad, f"{len(bad)} results:\n" + describe(bad, shapes)


def test_shipped_graph_conforms_after_owl_rl_closure(shipped, shapes, ontology):
    import owlrl

    closed = Graph()
    for triple in shipped:
        closed.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closed)
    rows = validate(closed, shapes, ont_graph=ontology)
    bad = [r for r in rows if r["severity"] in (SH.Violation, SH.Warning)]
    assert not bad, f"{len(bad)} results after OWL RL closure:\n" + describe(bad, shapes)


# ---- integrity checks ---------------------------------------------------------------------------------------------


def test_there_are_checks():
    assert len(CHECKS) >= 10


@pytest.mark.parametrize("check", CHECKS, ids=[c.stem for c in CHECKS])
def test_check_has_header(check):
    lines = check.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# summary: ") and len(lines[0]) > len("# summary: ") + 10
    assert any(line.startswith("# description: ") for line in lines[1:4])
    assert re.search(r"^\s*SELECT\b", check.read_text(encoding="utf-8"), re.M | re.I)


@pytest.mark.parametrize("check", CHECKS, ids=[c.stem for c in CHECKS])
def test_check_passes_on_shipped_graph(check, shipped, shipped_store):
    query = check.read_text(encoding="utf-8")
    rows = run_rdflib(shipped, query)
    assert not rows, f"{check.name} returned {len(rows)} rows:\n" + "\n".join(
        "  " + "  ".join(short(v) if v is not None else "-" for v in row) for row in rows[:50])
    assert not run_oxigraph(shipped_store, query), f"{check.name}: pyoxigraph finds rows rdflib does not"


@lru_cache(maxsize=None)
def _ontology_triples() -> tuple:
    return tuple(Graph().parse(ONTOLOGY_FILE, format="turtle")) if ONTOLOGY_FILE.is_file() else ()


@pytest.mark.parametrize("check", CHECKS, ids=[c.stem for c in CHECKS])
def test_check_can_fail(check):
    """tests/fixtures/checks/<check>.ttl (with the ontology) makes the check return rows, in both engines."""
    fixture = CHECK_FIXTURES / f"{check.stem}.ttl"
    assert fixture.is_file(), f"no breaking fixture {fixture.relative_to(ROOT)}"
    query = check.read_text(encoding="utf-8")
    g = Graph()
    for triple in _ontology_triples():
        g.add(triple)
    baseline = len(run_rdflib(g, query))
    g.parse(fixture, format="turtle")
    rows = run_rdflib(g, query)
    assert len(rows) > baseline, f"{check.name} found nothing in {fixture.name}"
    assert len(run_oxigraph(to_oxigraph(g), query)) == len(rows), f"{check.name}: engines disagree"


def test_check_fixtures_have_checks():
    stems = {c.stem for c in CHECKS}
    orphans = [p.name for p in CHECK_FIXTURES.glob("*.ttl") if p.stem not in stems]
    assert not orphans
