"""The streaming JSON-LD writer: every value comes back as it was, whichever key it had to take."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from untoc_kg.errors import UntocError
from untoc_kg.export import load_context, serialize
from untoc_kg.jsonld import write_jsonld

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_export import canonical as _canonical  # noqa: E402

U = "https://w3id.org/untoc/ontology#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
M = "https://w3id.org/untoc/id/meeting/"

# Each line puts a value where the context's coercion for that property does not fit it, or
# where no term exists, next to the values that do fit.
AWKWARD = f"""
<{M}m1> <{RDF}type> <{U}Meeting> .
<{M}m1> <{RDF}type> _:cls .
<{M}m1> <{RDF}type> "not a class" .
<{M}m1> <http://www.w3.org/2000/01/rdf-schema#label> "one"@en .
<{M}m1> <http://www.w3.org/2000/01/rdf-schema#label> "two"@en .
<{M}m1> <http://www.w3.org/2000/01/rdf-schema#label> "три"@ru .
<{M}m1> <http://www.w3.org/2000/01/rdf-schema#label> "no language" .
<{M}m1> <http://www.w3.org/2000/01/rdf-schema#label> <{M}a-label-node> .
<{M}m1> <http://www.w3.org/2000/01/rdf-schema#label> "7"^^<{XSD}integer> .
<{M}m1> <{U}sourceParagraph> <https://w3id.org/untoc/id/paper/25> .
<{M}m1> <{U}sourceParagraph> "25" .
<{M}m1> <{U}sourceParagraph> "25"@en .
<{M}m1> <{U}sourceParagraph> _:b1 .
<{M}m1> <{U}approximate> "true"^^<{XSD}boolean> .
<{M}m1> <{U}approximate> "1"^^<{XSD}integer> .
<{M}m1> <{U}approximate> "yes" .
<{M}m1> <{U}approximate> <{M}m2> .
<{M}m1> <http://example.org/no-term> "007"^^<{XSD}integer> .
<{M}m1> <http://example.org/no-term> "1.50"^^<{XSD}decimal> .
<{M}m1> <http://example.org/no-term> "plain" .
<{M}m1> <http://example.org/no-term> "text"@en-GB .
<{M}m1> <http://example.org/no-term> <http://example.org/x> .
<{M}m1> <{M}//odd-local> <{M}//odd-object> .
_:b1 <{U}sourceParagraph> _:b1 .
_:b1 <http://example.org/no-term> "a \\"quoted\\" line\\nbreak" .
<urn:x:1> <http://example.org/no-term> "true"^^<{XSD}boolean> .
"""


def _triples(text: str) -> list[ox.Triple]:
    return [ox.Triple(q.subject, q.predicate, q.object)
            for q in ox.parse(text.encode(), ox.RdfFormat.N_TRIPLES)]


def _write(triples, context) -> bytes:
    out = io.BytesIO()
    write_jsonld(triples, context, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def context(kg):
    return load_context(kg.source)


@pytest.fixture(scope="module")
def awkward(context):
    triples = _triples(AWKWARD)
    # sorted as the export's lines are, and shuffled: JSON-LD merges a subject written twice
    return triples, _write(sorted(triples, key=str), context), _write(triples[::-1], context)


@pytest.mark.parametrize("which", [1, 2])
def test_values_round_trip_through_pyoxigraph(awkward, which):
    triples, *docs = awkward
    back = [ox.Triple(q.subject, q.predicate, q.object)
            for q in ox.parse(docs[which - 1], ox.RdfFormat.JSON_LD)]
    assert _canonical(back) == _canonical(triples)


def test_values_round_trip_through_rdflib(awkward):
    triples, doc, _ = awkward
    g = rdflib.Graph().parse(data=doc, format="json-ld")
    # compared with rdflib's reading of the N-Triples: it normalises lexical forms ("007" -> "7")
    expected = rdflib.Graph().parse(data=AWKWARD, format="nt")
    assert len(g) == len(expected) == len(triples)
    assert _canonical(g) == _canonical(expected)


def test_values_that_fit_a_term_are_plain(awkward):
    doc = json.loads(awkward[1])
    node = next(n for n in doc["@graph"] if n["id"] == "meeting:m1")
    assert node["label"] == {"en": ["one", "two"], "ru": "три"}
    assert "para:25" in node["sourceParagraph"]
    assert {"@value": "25"} in node["sourceParagraph"]
    assert "true" in node["approximate"] and {"@value": "yes"} in node["approximate"]
    assert "untoc:Meeting" in node["type"]
    # a language map takes only language-tagged strings: the rest go under the compact IRI
    assert {"@value": "7", "type": "xsd:integer"} in node["rdfs:label"]
    assert node["http://example.org/no-term"] == [
        {"@value": "007", "type": "xsd:integer"}, {"@value": "1.50", "type": "xsd:decimal"},
        "plain", {"@language": "en-gb", "@value": "text"}, {"id": "http://example.org/x"}]


def test_one_node_object_per_subject_and_line(awkward):
    triples, doc, _ = awkward
    lines = doc.decode().splitlines()
    nodes = [line for line in lines if line.startswith("  {")]
    assert len(nodes) == len({t.subject for t in triples}) == 3
    assert all(json.loads(line.rstrip(",")) for line in nodes)


def test_empty_graph_is_a_document(context):
    doc = json.loads(_write([], context))
    assert doc["@graph"] == [] and doc["@context"] == context["@context"]
    assert list(ox.parse(_write([], context), ox.RdfFormat.JSON_LD)) == []


def test_without_a_context_everything_is_absolute():
    triples = _triples(AWKWARD)
    doc = _write(sorted(triples, key=str), {"@context": {}})
    assert b'"@id": "https://w3id.org/untoc/id/meeting/m1"' in doc
    back = [ox.Triple(q.subject, q.predicate, q.object)
            for q in ox.parse(doc, ox.RdfFormat.JSON_LD)]
    assert _canonical(back) == _canonical(triples)


def test_an_iri_that_would_read_as_a_compact_iri_is_refused(context):
    # "doc:..." with "doc" a prefix of the context would be read back as another IRI
    triples = _triples(f"<{M}m1> <http://example.org/p> <doc:not-a-document> .\n")
    with pytest.raises(UntocError, match="'doc' is a term of the context"):
        _write(triples, context)


def test_query_answers_use_the_same_writer(context):
    quads = [ox.Quad(t.subject, t.predicate, t.object) for t in _triples(AWKWARD)]
    doc = serialize(quads, "jsonld", context=context)
    back = [ox.Triple(q.subject, q.predicate, q.object)
            for q in ox.parse(doc, ox.RdfFormat.JSON_LD)]
    assert _canonical(back) == _canonical(_triples(AWKWARD))


def test_terms_written_with_compact_iris_are_understood():
    context = {"@context": {"ex": "http://example.org/", "xsd": XSD,
                            "n": {"@id": "ex:n", "@type": "xsd:integer"}}}
    triples = _triples('<http://example.org/s> <http://example.org/n> "5"^^<%sinteger> .\n'
                       '<http://example.org/s> <http://example.org/n> "5.0"^^<%sdecimal> .\n'
                       % (XSD, XSD))
    doc = _write(triples, context)
    node = json.loads(doc)["@graph"][0]
    assert node == {"@id": "ex:s", "n": ["5", {"@value": "5.0", "@type": "xsd:decimal"}]}
    back = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(doc, ox.RdfFormat.JSON_LD)]
    assert _canonical(back) == _canonical(triples)


W3C = Path(__file__).resolve().parents[1].parent / "shared" / "w3c"


def _w3c_graphs():
    """(name, triples) of every file of the W3C Turtle and N-Triples suites that parses."""
    for suite, fmt in (("rdf-turtle", ox.RdfFormat.TURTLE), ("rdf-n-triples", ox.RdfFormat.N_TRIPLES)):
        for path in sorted((W3C / suite).glob("*.ttl" if suite == "rdf-turtle" else "*.nt")):
            try:
                quads = list(ox.parse(path=str(path), format=fmt, base_iri="http://example/base/"))
            except (SyntaxError, ValueError):
                continue  # a negative test
            yield f"{suite}/{path.name}", [ox.Triple(q.subject, q.predicate, q.object) for q in quads]


@pytest.mark.skipif(not W3C.is_dir(), reason="the W3C suites are not beside the checkout")
@pytest.mark.parametrize("with_context", [True, False])
def test_w3c_suite_graphs_round_trip(context, with_context):
    """Every graph of the W3C Turtle and N-Triples suites (odd IRIs, escapes, language tags,
    datatypes) comes back from our JSON-LD as it went in."""
    ctx = context if with_context else {"@context": {}}
    failures, tried = [], 0
    for name, triples in _w3c_graphs():
        tried += 1
        doc = _write(sorted(triples, key=str), ctx)
        back = [ox.Triple(q.subject, q.predicate, q.object)
                for q in ox.parse(doc, ox.RdfFormat.JSON_LD)]
        if _canonical(back) != _canonical(triples):
            failures.append(name)
    assert tried > 250
    assert failures == []


def test_a_default_language_or_json_terms_do_not_change_values():
    """A context with a default language would tag every plain string, and a "@json" term would
    read a value object as JSON: the writer then writes strings in full and leaves those terms."""
    context = {"@context": {"@language": "en", "ex": "http://example.org/",
                            "j": {"@id": "http://example.org/j", "@type": "@json"},
                            "s": {"@id": "http://example.org/s"}}}
    triples = _triples('<http://example.org/a> <http://example.org/j> "x" .\n'
                       '<http://example.org/a> <http://example.org/s> "y" .\n'
                       '<http://example.org/a> <http://example.org/p> "z" .\n'
                       '<http://example.org/a> <http://example.org/p> "w"@en .\n')
    doc = _write(triples, context)
    node = json.loads(doc)["@graph"][0]
    assert "j" not in node and node["ex:j"] == {"@value": "x"}
    back = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(doc, ox.RdfFormat.JSON_LD)]
    assert _canonical(back) == _canonical(triples)
