"""Exports: every format parses back (with rdflib and with pyoxigraph) to the same graph."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
import rdflib

from untoc_kg.export import (DATASET, EXPORT_FORMATS, GRAPH_VOID, build_context, export,
                             load_context)
from untoc_kg.loading import GRAPH_DATA, GRAPH_ONTOLOGY, GRAPH_SHAPES, read_quads

RDFLIB_NAMES = {"turtle": "turtle", "ntriples": "nt", "nquads": "nquads", "trig": "trig",
                "jsonld": "json-ld", "xml": "xml"}
OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
              "nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG,
              "jsonld": ox.RdfFormat.JSON_LD, "xml": ox.RdfFormat.RDF_XML}


@pytest.fixture(scope="session")
def exports(kg):
    return {fmt: export(kg.source, fmt) for fmt in EXPORT_FORMATS}


def canonical(triples) -> set[str]:
    """A graph's triples with canonical blank-node labels (RDFC-1.0), to compare graphs quickly."""
    from untoc_kg.querying import from_rdflib

    terms = [t if isinstance(t, ox.Triple) else ox.Triple(*map(from_rdflib, t)) for t in triples]
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in terms)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return {str(q) for q in dataset}


@pytest.fixture(scope="session")
def reference(exports):
    """The union graph, from the N-Triples export."""
    return rdflib.Graph().parse(data=exports["ntriples"], format="nt")


@pytest.fixture(scope="session")
def reference_canonical(reference):
    return canonical(reference)


@pytest.mark.parametrize("fmt", list(EXPORT_FORMATS))
def test_export_round_trips_with_rdflib(exports, reference, reference_canonical, fmt):
    if fmt in ("nquads", "trig"):
        ds = rdflib.Dataset()
        ds.parse(data=exports[fmt], format=RDFLIB_NAMES[fmt])
        union = rdflib.Graph()
        for s, p, o, _ in ds.quads((None, None, None, None)):
            union.add((s, p, o))
        parsed = union
    else:
        parsed = rdflib.Graph().parse(data=exports[fmt], format=RDFLIB_NAMES[fmt])
    assert len(parsed) == len(reference)
    assert canonical(parsed) == reference_canonical


@pytest.mark.parametrize("fmt", list(EXPORT_FORMATS))
def test_export_round_trips_with_pyoxigraph(exports, reference_canonical, fmt):
    quads = ox.parse(exports[fmt], OX_FORMATS[fmt])
    assert canonical(ox.Triple(q.subject, q.predicate, q.object) for q in quads) == reference_canonical


def test_quad_formats_keep_named_graphs(exports, kg):
    quads = list(ox.parse(exports["nquads"], ox.RdfFormat.N_QUADS))
    graphs = {q.graph_name.value for q in quads}
    assert graphs == {GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_SHAPES, GRAPH_VOID}
    in_data = sum(1 for q in quads if q.graph_name.value == GRAPH_DATA)
    shipped = sum(len(read_quads(p)) for p in kg.source.data_files)
    assert in_data == shipped


def test_export_is_deterministic(kg, exports):
    for fmt in ("turtle", "nquads", "trig"):
        assert export(kg.source, fmt) == exports[fmt], fmt


def test_export_bytes_do_not_depend_on_hash_seed(exports):
    """rdflib's JSON-LD writer orders by Python's string hashing, which changes per process."""
    import hashlib
    import os
    import subprocess
    import sys

    script = ("import hashlib; from untoc_kg.export import EXPORT_FORMATS, export; "
              "from untoc_kg.loading import GraphSource; s = GraphSource.default(); "
              "print(' '.join(hashlib.sha256(export(s, f)).hexdigest() for f in EXPORT_FORMATS))")
    here = " ".join(hashlib.sha256(exports[f]).hexdigest() for f in EXPORT_FORMATS)
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}, check=True).stdout.strip()
        assert out == here, f"PYTHONHASHSEED={seed}"


def test_void_description(reference):
    void = rdflib.Namespace("http://rdfs.org/ns/void#")
    dct = rdflib.Namespace("http://purl.org/dc/terms/")
    d = rdflib.URIRef(DATASET)
    assert (d, rdflib.RDF.type, void.Dataset) in reference
    assert reference.value(d, dct.license) is not None
    assert str(reference.value(d, dct.source)).endswith("ctoc-cop-wg.3-2016-1")
    assert int(reference.value(d, void.triples)) > 1000
    meetings = [reference.value(part, void.entities)
                for part in reference.objects(d, void.classPartition)
                if reference.value(part, void["class"]) == rdflib.URIRef(
                    "https://w3id.org/untoc/ontology#Meeting")]
    assert meetings and int(meetings[0]) >= 6


def test_jsonld_uses_readable_keys(exports):
    doc = json.loads(exports["jsonld"])
    assert isinstance(doc["@context"], dict)
    text = exports["jsonld"].decode()
    assert '"label"' in text and '"meetingOf"' in text and '"sourceParagraph"' in text


def test_published_context_is_up_to_date(kg):
    """ontology/context.jsonld is generated from the ontology. When terms change, regenerate it:
    python -c "from untoc_kg.export import write_context; write_context()" """
    expected = build_context(read_quads(kg.source.ontology_file))
    assert load_context(kg.source) == expected


def test_export_with_reasoning_adds_inferred_graph(kg):
    quads = list(ox.parse(export(kg.source, "nquads", reasoning=True), ox.RdfFormat.N_QUADS))
    inferred = [q for q in quads if q.graph_name.value.endswith("/graph/inferred")]
    assert inferred
    assert any(q.predicate.value.endswith("#type") and q.object.value.endswith("prov#Agent")
               for q in inferred)
