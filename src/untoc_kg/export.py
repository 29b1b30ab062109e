"""Exporting the whole graph in the standard RDF formats, with a VoID/DCAT description.

Quad formats (N-Quads, TriG) keep the ontology, the data, the shapes (and, with reasoning, the
inferences) as separate named graphs; triple formats hold their union. Blank nodes are given
canonical labels (RDFC-1.0) and lines are sorted, so the same graph always exports to the same bytes.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyoxigraph as ox

from . import __version__
from .errors import InputError
from .loading import GRAPH_DATA, GraphSource, read_quads
from .namespaces import BASE, ID, PREFIXES
from .turtle import write_turtle

__all__ = ["EXPORT_FORMATS", "GRAPH_VOID", "DATASET", "dataset_quads", "void_description",
           "build_context", "write_context", "load_context", "serialize", "export"]

EXPORT_FORMATS = {
    "turtle": ".ttl", "ntriples": ".nt", "nquads": ".nq", "trig": ".trig", "jsonld": ".jsonld",
    "xml": ".rdf",
}
QUAD_FORMATS = {"nquads", "trig"}
GRAPH_VOID = BASE + "graph/void"
DATASET = ID + "dataset/untoc-kg"
CONTEXT_IRI = BASE + "context.jsonld"

RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
XSD = PREFIXES["xsd"]
VOID = PREFIXES["void"]
DCAT = PREFIXES["dcat"]
DCT = PREFIXES["dcterms"]


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _int(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=_n(XSD + "integer"))


def void_description(quads: list[ox.Quad]) -> list[ox.Triple]:
    """Title, licence, version, source and triple/entity counts of the dataset."""
    d = _n(DATASET)
    t = lambda p, o: ox.Triple(d, _n(p), o)  # noqa: E731
    out = [
        t(RDF + "type", _n(VOID + "Dataset")),
        t(RDF + "type", _n(DCAT + "Dataset")),
        t(RDFS + "label", ox.Literal("untoc-kg knowledge graph", language="en")),
        t(RDFS + "label", ox.Literal("граф знаний untoc-kg", language="ru")),
        t(DCT + "title", ox.Literal(
            "UNTOC Working Group on International Cooperation: knowledge graph", language="en")),
        t(DCT + "title", ox.Literal(
            "Рабочая группа КТОП по международному сотрудничеству: граф знаний", language="ru")),
        t(DCT + "description", ox.Literal(
            "Bodies, sessions and meetings, mandates, treaty provisions, recommendations and "
            "documents of the UNTOC Conference of the Parties and its Working Group on "
            "International Cooperation, each traced to the paragraph of the 2016 background "
            "paper it comes from.", language="en")),
        t(DCT + "license", _n("https://creativecommons.org/licenses/by/4.0/")),
        t(DCT + "source", _n(ID + "document/ctoc-cop-wg.3-2016-1")),
        t(DCAT + "version", ox.Literal(__version__)),
        t(OWL + "versionInfo", ox.Literal(__version__)),
        t(VOID + "vocabulary", _n(BASE + "ontology")),
        t(VOID + "uriSpace", ox.Literal(ID)),
        t(VOID + "triples", _int(len({(q.subject, q.predicate, q.object) for q in quads}))),
    ]
    types = {(q.subject, q.object) for q in quads
             if q.predicate.value == RDF + "type" and q.graph_name.value == GRAPH_DATA}
    classes = Counter(cls for _, cls in types)
    for i, (cls, n) in enumerate(sorted(classes.items(), key=lambda kv: kv[0].value)):
        part = ox.BlankNode(f"class{i}")
        out += [t(VOID + "classPartition", part),
                ox.Triple(part, _n(VOID + "class"), cls),
                ox.Triple(part, _n(VOID + "entities"), _int(n))]
    props = Counter(q.predicate for q in quads if q.graph_name.value == GRAPH_DATA)
    for i, (prop, n) in enumerate(sorted(props.items(), key=lambda kv: kv[0].value)):
        part = ox.BlankNode(f"property{i}")
        out += [t(VOID + "propertyPartition", part),
                ox.Triple(part, _n(VOID + "property"), prop),
                ox.Triple(part, _n(VOID + "triples"), _int(n))]
    return out


def dataset_quads(source: GraphSource, *, reasoning: bool = False, store=None) -> list[ox.Quad]:
    """Every quad of the export: ontology, data, shapes, (inferred,) and the VoID graph."""
    if reasoning:
        from .reasoning import reasoned_store

        store = store or reasoned_store(source)
    if store is not None:
        quads = [q for q in store if not isinstance(q.graph_name, ox.DefaultGraph)]
    else:
        quads = []
        for graph, path in source.graphs(shapes=True):
            quads += read_quads(path, graph)
    quads = [q for q in quads if q.graph_name.value != GRAPH_VOID]
    void = _n(GRAPH_VOID)
    quads += [ox.Quad(t.subject, t.predicate, t.object, void) for t in void_description(quads)]
    return quads


def _canonical(quads: list[ox.Quad]) -> list[ox.Quad]:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(dataset, key=str)


def build_context(ontology_quads) -> dict:
    """A JSON-LD context with readable keys: one per property of the ontology, plus the prefixes."""
    kinds: dict[str, str] = {}
    ranges: dict[str, str] = {}
    for q in ontology_quads:
        if q.predicate.value == RDF + "type" and isinstance(q.subject, ox.NamedNode):
            kinds.setdefault(q.subject.value, q.object.value)
        elif q.predicate.value == RDFS + "range" and isinstance(q.object, ox.NamedNode):
            ranges[q.subject.value] = q.object.value
    ctx: dict[str, object] = {"id": "@id", "type": "@type"}
    ctx.update({p: ns for p, ns in PREFIXES.items() if p not in ("sh",)})
    language_maps = {RDFS + "label", RDFS + "comment", PREFIXES["skos"] + "prefLabel",
                     PREFIXES["skos"] + "altLabel", PREFIXES["skos"] + "definition",
                     DCT + "title", DCT + "description"}
    for iri, kind in sorted(kinds.items()):
        if kind not in (OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty",
                        OWL + "FunctionalProperty", OWL + "SymmetricProperty"):
            continue
        key = iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        if key in ctx:
            continue
        if iri in language_maps:
            ctx[key] = {"@id": iri, "@container": "@language"}
        elif kind in (OWL + "ObjectProperty", OWL + "SymmetricProperty"):
            ctx[key] = {"@id": iri, "@type": "@id"}
        elif iri in ranges and ranges[iri].startswith(XSD) and ranges[iri] != XSD + "string":
            ctx[key] = {"@id": iri, "@type": ranges[iri]}
        else:
            ctx[key] = {"@id": iri}
    for iri in sorted(language_maps):
        key = iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        ctx.setdefault(key, {"@id": iri, "@container": "@language"})
    return {"@context": ctx}


def _jsonld(quads: list[ox.Quad], context: dict) -> bytes:
    import rdflib

    from .querying import to_rdflib

    g = rdflib.Graph()
    for q in quads:
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    text = g.serialize(format="json-ld", context=context["@context"], auto_compact=True, indent=1,
                       sort_keys=True)
    # rdflib orders nodes and values by Python's per-process string hashing; sorting every array
    # but @list ones (where order is data) makes two runs byte-identical.
    doc = _sorted_arrays(json.loads(text))
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8")


def _sorted_arrays(node, key: str | None = None):
    if isinstance(node, dict):
        return {k: _sorted_arrays(v, k) for k, v in node.items()}
    if isinstance(node, list):
        items = [_sorted_arrays(v) for v in node]
        if key == "@list":
            return items
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return node


def serialize(quads: list[ox.Quad], fmt: str, *, context: dict | None = None) -> bytes:
    """Bytes of the quads in one of EXPORT_FORMATS (triple formats take the union)."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    quads = _canonical(quads)
    if fmt == "turtle":
        return write_turtle(quads).encode("utf-8")
    if fmt == "jsonld":
        return _jsonld(quads, context or {"@context": {}})
    prefixes = {k: v for k, v in PREFIXES.items()}
    if fmt in QUAD_FORMATS:
        ox_fmt = ox.RdfFormat.N_QUADS if fmt == "nquads" else ox.RdfFormat.TRIG
        return ox.serialize(quads, format=ox_fmt, prefixes=None if fmt == "nquads" else prefixes)
    triples = sorted({ox.Triple(q.subject, q.predicate, q.object) for q in quads}, key=str)
    ox_fmt = ox.RdfFormat.N_TRIPLES if fmt == "ntriples" else ox.RdfFormat.RDF_XML
    return ox.serialize(triples, format=ox_fmt, prefixes=None if fmt == "ntriples" else prefixes)


def export(source: GraphSource, fmt: str, *, reasoning: bool = False, store=None) -> bytes:
    """The whole graph (with its VoID description) in ``fmt``."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    quads = dataset_quads(source, reasoning=reasoning, store=store)
    context = None
    if fmt == "jsonld":
        context = load_context(source)
    return serialize(quads, fmt, context=context)


def load_context(source: GraphSource) -> dict:
    """The published JSON-LD context shipped as ontology/context.jsonld."""
    path = Path(source.ontology_file).with_name("context.jsonld")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the JSON-LD context: {exc}", path=str(path)) from None


def write_context(source: GraphSource | None = None) -> Path:
    """Regenerate ontology/context.jsonld from the ontology (after adding or renaming terms)."""
    source = source or GraphSource.default()
    path = Path(source.ontology_file).with_name("context.jsonld")
    context = build_context(read_quads(source.ontology_file))
    path.write_text(json.dumps(context, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                    encoding="utf-8")
    return path
