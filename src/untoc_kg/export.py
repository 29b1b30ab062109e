"""Exporting the whole graph in the standard RDF formats, with a VoID/DCAT description.

Quad formats (N-Quads, TriG) keep the ontology, the data, the shapes (and, with reasoning, the
inferences) as separate named graphs; triple formats hold their union. Blank nodes are given
canonical labels (RDFC-1.0) and lines are sorted, so the same graph always exports to the same bytes.
The quads pass through ``canonical.CanonicalQuads`` as N-Quads lines, sorted in bounded runs, and
Every format is written as the lines come (no list of every quad is kept): Turtle and TriG by
Oxigraph's writers, which group a subject's triples as the sorted lines bring them, JSON-LD one node
object per subject (``jsonld``). Query answers (``serialize``) are small and read by people: their
Turtle is the project's own layout, blank nodes nested (``turtle``).
"""

from __future__ import annotations

import io
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from . import __version__
from .errors import InputError
from .canonical import CanonicalQuads, LineReader, triple_line, unique
from .jsonld import write_jsonld
from .loading import GRAPH_DATA, GraphSource, read_nquads, read_quads
from .namespaces import BASE, ID, PREFIXES
from .turtle import write_turtle

__all__ = ["EXPORT_FORMATS", "GRAPH_VOID", "DATASET", "dataset_quads", "void_description",
           "void_counts", "build_context", "write_context", "load_context", "serialize", "export",
           "write_export", "canonical_lines"]

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


def void_counts(lines: Iterable[bytes]) -> tuple[int, Counter, Counter]:
    """From sorted, unique N-Quads lines (named graphs): the number of distinct triples, and the
    entities per class and the triples per property of the data graph (as N-Quads terms)."""
    data = b"<" + GRAPH_DATA.encode() + b">"
    rdf_type = b"<" + (RDF + "type").encode() + b">"
    classes: Counter = Counter()
    props: Counter = Counter()
    triples = 0
    last = None
    for line in lines:
        cut = line.rindex(b" <")
        spo = line[:cut]
        if spo != last:  # sorted: the same triple in several graphs comes in adjacent lines
            triples += 1
            last = spo
        if line[cut + 1:-3] != data:
            continue
        s, p, o = spo.split(b" ", 2)
        props[p] += 1
        if p == rdf_type:
            classes[o] += 1
    return triples, classes, props


def _term(text: bytes):
    """One N-Quads term, parsed."""
    return next(iter(ox.parse(b"<urn:s> <urn:p> " + text + b" .\n", ox.RdfFormat.N_TRIPLES))).object


def void_description(triples: int, classes: Counter, props: Counter) -> list[ox.Triple]:
    """Title, licence, version, source and triple/entity counts of the dataset (``void_counts``)."""
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
        t(VOID + "triples", _int(triples)),
    ]
    parts = (("class", "entities", classes), ("property", "triples", props))
    for kind, counted, counter in parts:
        terms = sorted(((_term(k), n) for k, n in counter.items()), key=lambda kv: kv[0].value)
        for i, (term, n) in enumerate(terms):
            part = ox.BlankNode(f"{kind}{i}")
            out += [t(VOID + kind + "Partition", part),
                    ox.Triple(part, _n(VOID + kind), term),
                    ox.Triple(part, _n(VOID + counted), _int(n))]
    return out


def _describe(lines: Iterable[bytes]) -> list[ox.Quad]:
    void = _n(GRAPH_VOID)
    return [ox.Quad(t.subject, t.predicate, t.object, void)
            for t in void_description(*void_counts(lines))]


def canonical_lines(cq: CanonicalQuads, source: GraphSource, *, reasoning: bool = False,
                    store=None) -> Iterator[bytes]:
    """The export's N-Quads lines, VoID graph included, through ``cq`` (which owns the runs)."""
    if reasoning:
        from .reasoning import reasoned_store

        store = store or reasoned_store(source)
    if store is None:
        for graph, path in source.graphs(shapes=True):
            cq.add_nquads(read_nquads(path, graph))
    else:
        void = _n(GRAPH_VOID)
        quads = (q for q in store if not isinstance(q.graph_name, ox.DefaultGraph)
                 and q.graph_name != void)
        while batch := list(itertools.islice(quads, 200_000)):
            cq.add(batch)
    return cq.lines(describe=_describe)


def dataset_quads(source: GraphSource, *, reasoning: bool = False, store=None) -> list[ox.Quad]:
    """Every quad of the export: ontology, data, shapes, (inferred,) and the VoID graph."""
    with CanonicalQuads() as cq:
        lines = canonical_lines(cq, source, reasoning=reasoning, store=store)
        return list(ox.parse(LineReader(lines), ox.RdfFormat.N_QUADS))


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


_OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "xml": ox.RdfFormat.RDF_XML}

# Where serialize() puts default-graph quads (CONSTRUCT results): the sorted lines need a graph.
_STAND_IN = b" <" + (BASE + "graph/default").encode() + b"> .\n"


def _write_lines(lines: Iterator[bytes], fmt: str, out: BinaryIO, context: dict | None) -> None:
    """Canonical N-Quads lines written to ``out`` in ``fmt`` (triple formats take the union)."""
    if fmt == "nquads":
        out.writelines(lines)
        return
    if fmt == "trig":
        ox.serialize(ox.parse(LineReader(lines), ox.RdfFormat.N_QUADS), output=out,
                     format=ox.RdfFormat.TRIG, prefixes=PREFIXES)
        return
    triples = unique(map(triple_line, lines))
    if fmt == "ntriples":
        out.writelines(triples)
        return
    parsed = ox.parse(LineReader(triples), ox.RdfFormat.N_TRIPLES)
    if fmt == "jsonld":
        write_jsonld(parsed, context or {"@context": {}}, out)
    else:
        ox.serialize(parsed, output=out, format=_OX_FORMATS[fmt], prefixes=PREFIXES)


def _check_format(fmt: str) -> None:
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")


def serialize(quads: list[ox.Quad], fmt: str, *, context: dict | None = None) -> bytes:
    """Bytes of the quads in one of EXPORT_FORMATS (triple formats take the union)."""
    _check_format(fmt)
    stand_in = _n(_STAND_IN[2:-4].decode())
    named = [q if not isinstance(q.graph_name, ox.DefaultGraph)
             else ox.Quad(q.subject, q.predicate, q.object, stand_in) for q in quads]
    out = io.BytesIO()
    with CanonicalQuads() as cq:
        cq.add(named)
        lines = cq.lines()
        if fmt in QUAD_FORMATS:
            lines = (line[:-len(_STAND_IN)] + b" .\n" if line.endswith(_STAND_IN) else line
                     for line in lines)
        if fmt == "turtle":  # an answer people read: the project's own layout (nested blank nodes)
            triples = ox.parse(LineReader(unique(map(triple_line, lines))), ox.RdfFormat.N_TRIPLES)
            return write_turtle(triples).encode("utf-8")
        _write_lines(lines, fmt, out, context)
    return out.getvalue()


def write_export(source: GraphSource, fmt: str, out: BinaryIO, *, reasoning: bool = False,
                 store=None) -> None:
    """Write the whole graph (with its VoID description) in ``fmt`` to the binary file ``out``.

    Nothing is written before every file has been read and checked, so an input error leaves
    ``out`` empty."""
    _check_format(fmt)
    context = load_context(source) if fmt == "jsonld" else None
    with CanonicalQuads() as cq:
        _write_lines(canonical_lines(cq, source, reasoning=reasoning, store=store), fmt, out,
                     context)


def export(source: GraphSource, fmt: str, *, reasoning: bool = False, store=None) -> bytes:
    """The whole graph (with its VoID description) in ``fmt``, as bytes (see ``write_export``)."""
    out = io.BytesIO()
    write_export(source, fmt, out, reasoning=reasoning, store=store)
    return out.getvalue()


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
