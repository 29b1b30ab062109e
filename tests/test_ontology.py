"""Tests for ontology/untoc.ttl: metadata, documentation of every term, OWL axioms, DL consistency
(HermiT via owlready2), the OWL 2 DL profile (OWL API), and agreement between data/*.ttl and the vocabulary."""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS

ROOT = Path(__file__).resolve().parents[1]
ONTOLOGY_FILE = ROOT / "ontology" / "untoc.ttl"
DATA_DIR = ROOT / "data"

UNTOC = Namespace("https://w3id.org/untoc/ontology#")
ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("https://schema.org/")
VANN = Namespace("http://purl.org/vocab/vann/")
DC = Namespace("http://purl.org/dc/elements/1.1/")
# a plain Namespace: rdflib's closed XSD namespace warns when pytest inspects module globals
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

ONTOLOGY_IRI = URIRef("https://w3id.org/untoc/ontology")
VERSION_IRI = URIRef("https://w3id.org/untoc/ontology/0.1.0")
BACKGROUND_PAPER = URIRef("https://w3id.org/untoc/id/document/ctoc-cop-wg.3-2016-1")
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")

DECLARATION_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
ENTITY_KINDS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                OWL.NamedIndividual, RDFS.Datatype)

# ---- the vocabulary of docs/modelling.md ------------------------------------------------------------

GUIDE_CLASSES = """
Body ConferenceOfParties WorkingGroup ExpertBody Commission PrincipalOrgan Office Bureau RegionalGroup Network
IntergovernmentalOrganization ActorGroup Event Meeting Session JointMeeting Workshop WorkshopSeries Instrument
Mandate Decision Resolution Treaty TreatyProvision Article ArticleParagraph Subparagraph RulesOfProcedure Rule
Guidelines MandateAction Recommendation Finding QuantitativeFact WorkingMethod Document SourcePassage
NumberedParagraph SubItem Footnote Section
""".split()

GUIDE_OBJECT_PROPERTIES = """
establishedBy establishes establishedAtSession meetingOf heldDuring heldAfter heldBefore heldBackToBackWith
convenedPursuantTo convenedByDecisionOf organizedBy targetAudience invitedParticipant reportDocument reportOf
relatedDocument documentKind adoptedBy adoptedAtSession hasAction actionOf actionKind addressee regarding endorses
endorsedBy relatedMandate concernsProvision hasTopic ofTreaty submittedTo recommendationStatus population usedBy
practisedSince selectedBy notifiedTo sourceParagraph
""".split()

GUIDE_DATATYPE_PROPERTIES = {
    "ordinal": XSD.positiveInteger,
    "sittingDate": XSD.date,
    "year": XSD.gYear,
    "numberOfSittings": XSD.positiveInteger,
    "symbol": XSD.string,
    "provisionNumber": XSD.string,
    "paragraphNumber": XSD.positiveInteger,
    "itemLetter": XSD.string,
    "openEnded": XSD.boolean,
    "value": XSD.decimal,
    "unit": XSD.string,
    "approximate": XSD.boolean,
    "url": XSD.anyURI,
}

# subclass edges stated by the guide (child -> parents)
GUIDE_SUBCLASSES = {
    UNTOC.Body: {ORG.Organization, PROV.Organization},
    UNTOC.ActorGroup: {PROV.Agent},
    UNTOC.Event: {PROV.Activity},
    UNTOC.Meeting: {UNTOC.Event},
    UNTOC.Session: {UNTOC.Meeting},
    UNTOC.JointMeeting: {UNTOC.Meeting},
    UNTOC.Workshop: {UNTOC.Event},
    UNTOC.WorkshopSeries: {UNTOC.Event},
    UNTOC.Instrument: {PROV.Entity},
    UNTOC.Mandate: {UNTOC.Instrument},
    UNTOC.Decision: {UNTOC.Mandate},
    UNTOC.Resolution: {UNTOC.Mandate},
    UNTOC.Treaty: {UNTOC.Instrument},
    UNTOC.TreatyProvision: {UNTOC.Instrument},
    UNTOC.Article: {UNTOC.TreatyProvision},
    UNTOC.ArticleParagraph: {UNTOC.TreatyProvision},
    UNTOC.Subparagraph: {UNTOC.TreatyProvision},
    UNTOC.RulesOfProcedure: {UNTOC.Instrument},
    UNTOC.Rule: {UNTOC.Instrument},
    UNTOC.Guidelines: {UNTOC.Instrument},
    UNTOC.Recommendation: {PROV.Entity},
    UNTOC.Finding: {PROV.Entity},
    UNTOC.QuantitativeFact: {PROV.Entity},
    UNTOC.Document: {PROV.Entity, FOAF.Document},
    UNTOC.SourcePassage: {PROV.Entity},
    UNTOC.NumberedParagraph: {UNTOC.SourcePassage},
    UNTOC.SubItem: {UNTOC.SourcePassage},
    UNTOC.Footnote: {UNTOC.SourcePassage},
    UNTOC.Section: {UNTOC.SourcePassage},
}
for _name in ("ConferenceOfParties WorkingGroup ExpertBody Commission PrincipalOrgan Office Bureau "
              "RegionalGroup Network IntergovernmentalOrganization").split():
    GUIDE_SUBCLASSES[UNTOC[_name]] = {UNTOC.Body}

# domain -> range of the guide's table; None = "any" (no axiom), a tuple = owl:unionOf
GUIDE_DOMAIN_RANGE = {
    "establishedBy": ("Body", "Mandate"),
    "establishes": ("Mandate", "Body"),
    "establishedAtSession": ("Body", "Session"),
    "meetingOf": ("Event", "Body"),
    "heldDuring": ("Event", "Session"),
    "heldAfter": ("Event", "Event"),
    "heldBefore": ("Event", "Event"),
    "heldBackToBackWith": ("Meeting", "Meeting"),
    "convenedPursuantTo": ("Event", "Instrument"),
    "convenedByDecisionOf": ("Event", "Body"),
    "organizedBy": ("Event", PROV.Agent),
    "targetAudience": ("Event", "ActorGroup"),
    "invitedParticipant": ("Event", PROV.Agent),
    "reportDocument": ("Event", "Document"),
    "reportOf": ("Document", "Event"),
    "relatedDocument": (None, "Document"),
    "documentKind": ("Document", SKOS.Concept),
    "adoptedBy": ("Mandate", "Body"),
    "adoptedAtSession": ("Mandate", "Session"),
    "hasAction": ("Mandate", "MandateAction"),
    "actionOf": ("MandateAction", "Mandate"),
    "actionKind": ("MandateAction", SKOS.Concept),
    "addressee": (("MandateAction", "Recommendation"), PROV.Agent),
    "regarding": ("MandateAction", None),
    "endorses": ("Mandate", "Recommendation"),
    "endorsedBy": ("Recommendation", "Mandate"),
    "relatedMandate": (None, "Mandate"),
    "concernsProvision": (None, "TreatyProvision"),
    "hasTopic": (None, SKOS.Concept),
    "ofTreaty": ("TreatyProvision", "Treaty"),
    "submittedTo": ("Recommendation", ("Session", "Body")),
    "recommendationStatus": ("Recommendation", SKOS.Concept),
    "population": ("QuantitativeFact", "ActorGroup"),
    "usedBy": ("WorkingMethod", "Body"),
    "practisedSince": ("WorkingMethod", "Event"),
    "selectedBy": ("WorkingMethod", PROV.Agent),
    "notifiedTo": ("WorkingMethod", PROV.Agent),
    "sourceParagraph": (None, "SourcePassage"),
}

INVERSE_PAIRS = [
    (UNTOC.establishedBy, UNTOC.establishes),
    (UNTOC.reportDocument, UNTOC.reportOf),
    (UNTOC.hasAction, UNTOC.actionOf),
    (UNTOC.endorses, UNTOC.endorsedBy),
    (DCTERMS.isPartOf, DCTERMS.hasPart),
]

FUNCTIONAL = [UNTOC.ordinal, SCHEMA.startDate, SCHEMA.endDate, UNTOC.adoptedAtSession, UNTOC.ofTreaty,
              UNTOC.symbol, UNTOC.itemLetter, UNTOC.paragraphNumber]

TOP_LEVEL_DISJOINT = {UNTOC.Body, UNTOC.ActorGroup, UNTOC.Event, UNTOC.Instrument, UNTOC.MandateAction,
                      UNTOC.Recommendation, UNTOC.Finding, UNTOC.QuantitativeFact, UNTOC.WorkingMethod,
                      UNTOC.Document, UNTOC.SourcePassage, SCHEMA.Place, SKOS.Concept}

# external terms the graph reuses, with the declaration each must have (None: documented, not declared)
EXTERNAL_TERMS = {
    ORG.Organization: OWL.Class,
    PROV.Organization: OWL.Class,
    PROV.Agent: OWL.Class,
    PROV.Activity: OWL.Class,
    PROV.Entity: OWL.Class,
    SCHEMA.Place: OWL.Class,
    SKOS.Concept: OWL.Class,
    SKOS.ConceptScheme: OWL.Class,
    FOAF.Document: OWL.Class,
    # reserved RDF vocabulary cannot be a class IRI in OWL 2 DL; it is documented (annotated) only
    RDF.Statement: None,
    ORG.subOrganizationOf: OWL.ObjectProperty,
    PROV.wasDerivedFrom: OWL.ObjectProperty,
    PROV.wasGeneratedBy: OWL.ObjectProperty,
    PROV.wasAttributedTo: OWL.ObjectProperty,
    SCHEMA.location: OWL.ObjectProperty,
    SCHEMA.containedInPlace: OWL.ObjectProperty,
    SKOS.inScheme: OWL.ObjectProperty,
    SKOS.broader: OWL.ObjectProperty,
    SKOS.hasTopConcept: OWL.ObjectProperty,
    DCTERMS.creator: OWL.ObjectProperty,
    DCTERMS.isPartOf: OWL.ObjectProperty,
    DCTERMS.hasPart: OWL.ObjectProperty,
    SCHEMA.startDate: OWL.DatatypeProperty,
    SCHEMA.endDate: OWL.DatatypeProperty,
    DCTERMS.title: OWL.AnnotationProperty,
    DCTERMS.description: OWL.AnnotationProperty,
    RDFS.label: OWL.AnnotationProperty,
    RDFS.comment: OWL.AnnotationProperty,
    SKOS.prefLabel: OWL.AnnotationProperty,
    SKOS.altLabel: OWL.AnnotationProperty,
    SKOS.definition: OWL.AnnotationProperty,
}


# ---- helpers -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def onto() -> Graph:
    g = Graph()
    g.parse(ONTOLOGY_FILE, format="turtle")
    return g


def langs(g: Graph, s, p) -> list[str]:
    return [o.language for o in g.objects(s, p) if isinstance(o, Literal)]


def declared(g: Graph, *, untoc: bool | None = None) -> dict[URIRef, set[URIRef]]:
    """IRIs declared with one of DECLARATION_TYPES -> their declaration types."""
    out: dict[URIRef, set[URIRef]] = defaultdict(set)
    for t in DECLARATION_TYPES:
        for s in g.subjects(RDF.type, t):
            if not isinstance(s, URIRef):
                continue
            if untoc is not None and str(s).startswith(str(UNTOC)) != untoc:
                continue
            out[s].add(t)
    return dict(out)


def doc_problems(g: Graph, term: URIRef, defined_by: URIRef | None) -> list[str]:
    """What is missing from a term's documentation (labels and definitions in en and ru, isDefinedBy)."""
    problems = []
    label_langs = langs(g, term, RDFS.label)
    for lang in ("en", "ru"):
        if label_langs.count(lang) != 1:
            problems.append(f"{label_langs.count(lang)} rdfs:label@{lang}")
        if lang not in langs(g, term, SKOS.definition):
            problems.append(f"no skos:definition@{lang}")
    for o in g.objects(term, RDFS.label):
        if isinstance(o, Literal) and not str(o).strip():
            problems.append("empty rdfs:label")
    defined = set(g.objects(term, RDFS.isDefinedBy))
    if defined_by is not None:
        if defined != {defined_by}:
            problems.append(f"rdfs:isDefinedBy {sorted(map(str, defined))} != {defined_by}")
    else:
        if len(defined) != 1:
            problems.append(f"rdfs:isDefinedBy {sorted(map(str, defined))}: need exactly one")
        elif not str(term).startswith(str(next(iter(defined))).rstrip("#/")):
            problems.append(f"rdfs:isDefinedBy {next(iter(defined))} is not the term's own vocabulary")
        elif next(iter(defined)) == ONTOLOGY_IRI:
            problems.append("external term defined by the untoc ontology")
    return problems


def class_expr(g: Graph, node):
    """A named class as its IRI, a union as a frozenset of member IRIs."""
    if isinstance(node, BNode):
        members = g.value(node, OWL.unionOf)
        assert members is not None, f"unexpected anonymous class expression {node}"
        return frozenset(Collection(g, members))
    return node


def expected_expr(spec):
    if spec is None:
        return None
    if isinstance(spec, tuple):
        return frozenset(expected_expr(x) for x in spec)
    if isinstance(spec, URIRef):
        return spec
    return UNTOC[spec]


def data_files() -> list[Path]:
    return sorted(p for p in DATA_DIR.rglob("*.ttl") if p.is_file()) if DATA_DIR.is_dir() else []


# ---- 1. parsing and metadata --------------------------------------------------------------------------

def test_ontology_parses_and_has_metadata(onto: Graph):
    assert len(onto) > 500
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in onto
    assert list(onto.subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY_IRI]
    assert onto.value(ONTOLOGY_IRI, OWL.versionIRI) == VERSION_IRI
    assert onto.value(ONTOLOGY_IRI, OWL.versionInfo) == Literal("0.1.0")
    assert onto.value(ONTOLOGY_IRI, DCTERMS.license) == CC_BY
    assert onto.value(ONTOLOGY_IRI, DCTERMS.source) == BACKGROUND_PAPER
    for p in (DCTERMS.title, DCTERMS.description):
        assert sorted(langs(onto, ONTOLOGY_IRI, p)) == ["en", "ru"], p
    # the creator is a plain name: dc:creator, because dcterms:creator is an object property here
    assert Literal("untoc-kg project") in set(onto.objects(ONTOLOGY_IRI, DC.creator))
    created = onto.value(ONTOLOGY_IRI, DCTERMS.created)
    assert isinstance(created, Literal) and created.datatype == XSD.date and created.value is not None
    assert onto.value(ONTOLOGY_IRI, VANN.preferredNamespacePrefix) == Literal("untoc")
    assert str(onto.value(ONTOLOGY_IRI, VANN.preferredNamespaceUri)) == str(UNTOC)
    # self-contained: no imports, so no network access is needed to use it
    assert not list(onto.objects(None, OWL.imports))


# ---- 2. every term documented --------------------------------------------------------------------------

def test_modelling_guide_vocabulary_is_declared(onto: Graph):
    decl = declared(onto, untoc=True)
    missing = []
    for name in GUIDE_CLASSES:
        if decl.get(UNTOC[name]) != {OWL.Class}:
            missing.append(f"class untoc:{name}: {decl.get(UNTOC[name])}")
    for name in GUIDE_OBJECT_PROPERTIES:
        if decl.get(UNTOC[name]) != {OWL.ObjectProperty}:
            missing.append(f"object property untoc:{name}: {decl.get(UNTOC[name])}")
    for name, rng in GUIDE_DATATYPE_PROPERTIES.items():
        if decl.get(UNTOC[name]) != {OWL.DatatypeProperty}:
            missing.append(f"datatype property untoc:{name}: {decl.get(UNTOC[name])}")
        if set(onto.objects(UNTOC[name], RDFS.range)) != {rng}:
            missing.append(f"untoc:{name} range {set(onto.objects(UNTOC[name], RDFS.range))} != {rng}")
    assert not missing, "vocabulary of docs/modelling.md not declared as stated:\n" + "\n".join(missing)
    # and nothing beyond the guide sneaks into the untoc: namespace
    expected = {UNTOC[n] for n in GUIDE_CLASSES + GUIDE_OBJECT_PROPERTIES + list(GUIDE_DATATYPE_PROPERTIES)}
    extra = sorted(str(t) for t in set(decl) - expected)
    assert not extra, f"untoc: terms not in docs/modelling.md: {extra}"


def test_untoc_terms_are_documented(onto: Graph):
    offenders = {}
    for term in declared(onto, untoc=True):
        problems = doc_problems(onto, term, ONTOLOGY_IRI)
        if problems:
            offenders[str(term)] = problems
    assert not offenders, "untoc: terms with incomplete documentation:\n" + "\n".join(
        f"{t}: {', '.join(p)}" for t, p in sorted(offenders.items()))


def test_external_terms_are_declared_and_documented(onto: Graph):
    decl = declared(onto, untoc=False)
    offenders = {}
    for term, kind in EXTERNAL_TERMS.items():
        got = decl.get(term, set())
        want = {kind} if kind else set()
        if got != want:
            offenders[str(term)] = [f"declared as {sorted(map(str, got))}, expected {sorted(map(str, want))}"]
    # every declared external term, including ones not listed above, must be documented
    for term in set(decl) | set(EXTERNAL_TERMS):
        problems = doc_problems(onto, term, None)
        if problems:
            offenders.setdefault(str(term), []).extend(problems)
    assert not offenders, "external terms with problems:\n" + "\n".join(
        f"{t}: {', '.join(p)}" for t, p in sorted(offenders.items()))
    for dp in (SCHEMA.startDate, SCHEMA.endDate):
        assert set(onto.objects(dp, RDFS.range)) == {XSD.date}


def test_labels_are_distinct(onto: Graph):
    """Two terms with the same English or Russian label would be confusing in any UI."""
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    for term in declared(onto):
        for o in onto.objects(term, RDFS.label):
            seen[(o.language, str(o).casefold())].append(str(term))
    dupes = {k: v for k, v in seen.items() if len(v) > 1}
    assert not dupes, f"labels shared by several terms: {dupes}"


def test_russian_labels_are_cyrillic(onto: Graph):
    bad = []
    for term in declared(onto):
        for p in (RDFS.label, SKOS.definition):
            for o in onto.objects(term, p):
                if isinstance(o, Literal) and o.language == "ru" and not any(
                        "\u0400" <= ch <= "\u04ff" for ch in str(o)):
                    bad.append(f"{term} {p}: {o!r}")
    assert not bad, "Russian text without Cyrillic letters:\n" + "\n".join(bad)


# ---- axioms --------------------------------------------------------------------------------------------

def test_class_hierarchy_as_in_guide(onto: Graph):
    wrong = []
    for child, parents in GUIDE_SUBCLASSES.items():
        got = {o for o in onto.objects(child, RDFS.subClassOf) if isinstance(o, URIRef)}
        if got != parents:
            wrong.append(f"{child}: {sorted(map(str, got))} != {sorted(map(str, parents))}")
    assert not wrong, "\n".join(wrong)


def test_domains_and_ranges_as_in_guide(onto: Graph):
    wrong = []
    for name, (dom, rng) in GUIDE_DOMAIN_RANGE.items():
        p = UNTOC[name]
        for axiom, spec in ((RDFS.domain, dom), (RDFS.range, rng)):
            got = {class_expr(onto, o) for o in onto.objects(p, axiom)}
            want = set() if spec is None else {expected_expr(spec)}
            if got != want:
                wrong.append(f"untoc:{name} {axiom.fragment}: {got} != {want}")
    assert not wrong, "\n".join(wrong)
    assert set(onto.objects(UNTOC.sourceParagraph, RDFS.subPropertyOf)) == {PROV.wasDerivedFrom}


def test_inverses_symmetry_functionality(onto: Graph):
    for p, q in INVERSE_PAIRS:
        assert (p, OWL.inverseOf, q) in onto or (q, OWL.inverseOf, p) in onto, (p, q)
    assert (UNTOC.heldBackToBackWith, RDF.type, OWL.SymmetricProperty) in onto
    functional = set(onto.subjects(RDF.type, OWL.FunctionalProperty))
    missing = [str(p) for p in FUNCTIONAL if p not in functional]
    assert not missing, f"not functional: {missing}"
    # joint meetings are meetings of two bodies
    assert UNTOC.meetingOf not in functional
    assert (UNTOC.meetingOf, RDF.type, OWL.InverseFunctionalProperty) not in onto


def test_disjointness(onto: Graph):
    groups = [frozenset(Collection(onto, onto.value(n, OWL.members)))
              for n in onto.subjects(RDF.type, OWL.AllDisjointClasses)]
    assert frozenset(TOP_LEVEL_DISJOINT) in groups, "top-level classes are not pairwise disjoint"
    assert ((UNTOC.Decision, OWL.disjointWith, UNTOC.Resolution) in onto
            or (UNTOC.Resolution, OWL.disjointWith, UNTOC.Decision) in onto
            or any({UNTOC.Decision, UNTOC.Resolution} <= g for g in groups))


def test_no_conflicting_declarations(onto: Graph):
    """An IRI is at most one kind of entity (OWL 2 DL forbids e.g. object + datatype property)."""
    kinds: dict[URIRef, set[URIRef]] = defaultdict(set)
    for k in ENTITY_KINDS:
        for s in onto.subjects(RDF.type, k):
            if isinstance(s, URIRef):
                kinds[s].add(k)
    conflicts = {str(s): sorted(x.fragment for x in ks) for s, ks in kinds.items() if len(ks) > 1}
    assert not conflicts, f"terms declared with conflicting types: {conflicts}"
    # property characteristics only on properties of the matching kind
    for s in onto.subjects(RDF.type, OWL.SymmetricProperty):
        assert OWL.ObjectProperty in kinds[s], s
    for s in onto.subjects(RDF.type, OWL.FunctionalProperty):
        assert kinds[s] & {OWL.ObjectProperty, OWL.DatatypeProperty}, s
    # sub-property axioms stay within one kind of property
    for s, o in onto.subject_objects(RDFS.subPropertyOf):
        assert kinds[s] == kinds[o], f"{s} ({kinds[s]}) rdfs:subPropertyOf {o} ({kinds[o]})"


def test_every_referenced_term_is_declared(onto: Graph):
    """Classes and properties used in axioms are declared in the ontology (the ontology is self-contained)."""
    decl = declared(onto)
    undeclared = set()
    for p in (RDFS.domain, RDFS.range, RDFS.subClassOf, OWL.disjointWith):
        for s, o in onto.subject_objects(p):
            for x in (s, o):
                if isinstance(x, URIRef) and x not in decl and not str(x).startswith(str(XSD)):
                    undeclared.add(str(x))
    for p in (RDFS.subPropertyOf, OWL.inverseOf):
        for s, o in onto.subject_objects(p):
            undeclared.update(str(x) for x in (s, o) if x not in decl)
    for node in list(onto.objects(None, OWL.members)) + list(onto.objects(None, OWL.unionOf)):
        undeclared.update(str(x) for x in Collection(onto, node) if x not in decl)
    assert not undeclared, f"used but not declared: {sorted(undeclared)}"


# ---- 3. DL reasoning with HermiT -------------------------------------------------------------------------

def _java() -> str:
    java = shutil.which("java")
    if java is None:
        pytest.skip("no Java runtime on PATH: HermiT (owlready2) cannot run")
    return java


def _hermit(tmp_path: Path, graph: Graph):
    """Load graph into a fresh owlready2 World, run HermiT, return the world (raises if inconsistent).

    xsd:date and xsd:gYear are not in the OWL 2 datatype map; HermiT is told to ignore them
    (ignore_unsupported_datatypes) rather than abort."""
    owlready2 = pytest.importorskip("owlready2")
    owlready2.JAVA_EXE = _java()
    path = tmp_path / "ontology.nt"
    graph.serialize(destination=str(path), format="nt", encoding="utf-8")
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load()
    owlready2.sync_reasoner(world, infer_property_values=False, debug=0, ignore_unsupported_datatypes=True)
    return world


def test_hermit_consistent_and_all_classes_satisfiable(onto: Graph, tmp_path: Path):
    import owlready2
    try:
        world = _hermit(tmp_path, onto)
    except owlready2.OwlReadyInconsistentOntologyError:  # pragma: no cover - reported as failure
        pytest.fail("HermiT: the ontology is inconsistent")
    unsat = [c.iri for c in world.inconsistent_classes()]
    assert unsat == [], f"unsatisfiable classes: {unsat}"
    # the reasoner really ran over our axioms: the hierarchy is visible through owlready2
    session = world["https://w3id.org/untoc/ontology#Session"]
    event = world["https://w3id.org/untoc/ontology#Event"]
    assert session is not None and event in session.ancestors()


def test_hermit_detects_disjointness_violations(onto: Graph, tmp_path: Path):
    """Control: the harness is not vacuous: a class under two disjoint classes is found unsatisfiable
    and an individual that is both a decision and a resolution makes the ontology inconsistent."""
    import owlready2
    g = Graph() + onto
    bad = URIRef("https://w3id.org/untoc/test#BodyEvent")
    g.add((bad, RDF.type, OWL.Class))
    g.add((bad, RDFS.subClassOf, UNTOC.Body))
    g.add((bad, RDFS.subClassOf, UNTOC.Event))
    world = _hermit(tmp_path, g)
    unsat = [c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing]
    assert unsat == [str(bad)]

    g2 = Graph() + onto
    x = URIRef("https://w3id.org/untoc/test#both")
    g2.add((x, RDF.type, OWL.NamedIndividual))
    g2.add((x, RDF.type, UNTOC.Decision))
    g2.add((x, RDF.type, UNTOC.Resolution))
    sub = tmp_path / "inconsistent"
    sub.mkdir()
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        _hermit(sub, g2)


# ---- OWL 2 DL profile (OWL API, from the HermiT jar bundled with owlready2) --------------------------------

PROFILE_CHECK_JAVA = """
import java.io.File;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.*;
import org.semanticweb.owlapi.profiles.*;

public class ProfileCheck {
    public static void main(String[] args) throws Exception {
        OWLOntologyManager m = OWLManager.createOWLOntologyManager();
        OWLOntology o = m.loadOntologyFromOntologyDocument(new File(args[0]));
        OWLProfileReport r = new OWL2DLProfile().checkOntology(o);
        for (OWLProfileViolation v : r.getViolations()) {
            System.out.println("VIOLATION " + v.toString().replace('\\n', ' '));
        }
        System.out.println("IN_PROFILE " + r.isInProfile());
    }
}
"""


def test_owl2_dl_profile(onto: Graph, tmp_path: Path):
    java = _java()
    owlready2 = pytest.importorskip("owlready2")
    jar = Path(owlready2.__file__).parent / "hermit" / "HermiT.jar"
    if not jar.is_file():
        pytest.skip("HermiT.jar (with the OWL API) not found in owlready2")
    src = tmp_path / "ProfileCheck.java"
    src.write_text(PROFILE_CHECK_JAVA, encoding="utf-8")
    owl = tmp_path / "untoc.owl"
    onto.serialize(destination=str(owl), format="xml", encoding="utf-8")
    proc = subprocess.run([java, "-cp", str(jar), str(src), str(owl)], capture_output=True, text=True,
                          timeout=300)
    if "IN_PROFILE" not in proc.stdout:
        if "compil" in proc.stderr.lower() or "jdk.compiler" in proc.stderr:
            pytest.skip("the Java runtime cannot launch single-file source programs (no JDK)")
        pytest.fail(f"OWL API profile check failed to run:\n{proc.stderr}")
    violations = [line for line in proc.stdout.splitlines() if line.startswith("VIOLATION")]
    assert "IN_PROFILE true" in proc.stdout, "OWL 2 DL profile violations:\n" + "\n".join(violations)


# ---- 4. the data uses only the vocabulary ----------------------------------------------------------------

def test_data_uses_only_declared_untoc_terms(onto: Graph):
    files = data_files()
    if not files:
        pytest.skip("data/ has no .ttl files yet")
    decl = declared(onto)
    parse_errors, problems = [], defaultdict(set)
    for path in files:
        g = Graph()
        try:
            g.parse(path, format="turtle")
        except Exception as exc:  # noqa: BLE001 - any parse failure is reported
            parse_errors.append(f"{path.relative_to(ROOT)}: {exc}")
            continue
        rel = str(path.relative_to(ROOT))
        for s, p, o in g:
            if str(p).startswith(str(UNTOC)):
                kinds = decl.get(p, set())
                if not kinds:
                    problems[rel].add(f"undeclared property {p.n3(g.namespace_manager)}")
                elif OWL.ObjectProperty in kinds and isinstance(o, Literal):
                    problems[rel].add(f"object property {p.n3(g.namespace_manager)} with a literal value")
                elif OWL.DatatypeProperty in kinds and not isinstance(o, Literal):
                    problems[rel].add(f"datatype property {p.n3(g.namespace_manager)} with a non-literal value")
                elif OWL.Class in kinds:
                    problems[rel].add(f"class {p.n3(g.namespace_manager)} used as a property")
            if p == RDF.type and str(o).startswith(str(UNTOC)):
                if OWL.Class not in decl.get(o, set()):
                    problems[rel].add(f"undeclared class {o.n3(g.namespace_manager)}")
            if p == RDF.predicate and str(o).startswith(str(UNTOC)):
                kinds = decl.get(o, set())
                if not kinds & {OWL.ObjectProperty, OWL.DatatypeProperty}:
                    problems[rel].add(f"rdf:predicate names undeclared property {o.n3(g.namespace_manager)}")
            for x in (s, o):
                if (isinstance(x, URIRef) and str(x).startswith(str(UNTOC)) and x not in decl):
                    problems[rel].add(f"undeclared term {x.n3(g.namespace_manager)}")
    msg = []
    if parse_errors:
        msg.append("data files that do not parse:\n" + "\n".join(parse_errors))
    if problems:
        msg.append("untoc: terms in data/ not (or differently) declared in ontology/untoc.ttl:\n" + "\n".join(
            f"{f}: {x}" for f, xs in sorted(problems.items()) for x in sorted(xs)))
    assert not msg, "\n\n".join(msg)


def test_data_is_consistent_with_ontology(onto: Graph, tmp_path: Path):
    """The ontology's axioms (disjointness, domains/ranges, functional properties) do not clash with data/.
    Unparseable files are reported by the test above and skipped here."""
    import owlready2
    files = data_files()
    if not files:
        pytest.skip("data/ has no .ttl files yet")
    g = Graph() + onto
    for path in files:
        try:
            g.parse(path, format="turtle")
        except Exception:  # noqa: BLE001 - reported by test_data_uses_only_declared_untoc_terms
            continue
    try:
        world = _hermit(tmp_path, g)
    except owlready2.OwlReadyInconsistentOntologyError:
        pytest.fail("HermiT: ontology + data/*.ttl is inconsistent (a disjointness, domain/range or "
                    "functional-property axiom is violated by the data)")
    unsat = [c.iri for c in world.inconsistent_classes()]
    assert unsat == [], f"unsatisfiable classes with data loaded: {unsat}"
