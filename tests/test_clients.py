"""The SPARQL endpoint of `untoc serve` as real clients see it: SPARQLWrapper and rdflib's SPARQLStore
talk to a server on the loopback interface, and every answer format is read back with a parser that
has nothing to do with the server's writers (json, xml.etree, csv, rdflib) and compared across
formats."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_serve import VIENNA, WG3, fetch, sparql  # noqa: E402

from untoc_kg.serving import Service  # noqa: E402

SPARQLWrapper = pytest.importorskip("SPARQLWrapper", reason="SPARQLWrapper is a test extra")

SRX = "{http://www.w3.org/2005/sparql-results#}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XSD = "http://www.w3.org/2001/XMLSchema#"
LOCATION = "https://schema.org/location"
WG3_PLACE = f"SELECT ?place WHERE {{ <{WG3}> <{LOCATION}> ?place }}"
# IRIs, language-tagged and typed literals, plain strings, and unbound cells (OPTIONAL) in one answer.
MIXED = """
SELECT ?m ?label ?start ?ordinal ?symbol WHERE {
  ?m a untoc:Meeting ; rdfs:label ?label .
  OPTIONAL { ?m schema:startDate ?start }
  OPTIONAL { ?m untoc:ordinal ?ordinal }
  OPTIONAL { ?m untoc:reportDocument/untoc:symbol ?symbol }
} ORDER BY ?m ?label"""
LOCATIONS = f"CONSTRUCT {{ ?m <{LOCATION}> ?p . ?p rdfs:label ?l }} WHERE {{ ?m <{LOCATION}> ?p . ?p rdfs:label ?l }}"
RDF_FORMATS = [("text/turtle", "turtle"), ("application/n-triples", "nt"),
               ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")]


@pytest.fixture(scope="module")
def endpoint(_isolated_cache, run_server):
    with run_server(Service(timeout=10.0)) as url:
        yield url


def _wrapper(endpoint: str, query: str, fmt: str, method: str = "GET"):
    from SPARQLWrapper import SPARQLWrapper as Wrapper

    client = Wrapper(endpoint + "/sparql")
    client.setQuery(query)
    client.setReturnFormat(fmt)
    client.setMethod(method)
    return client.queryAndConvert()


# --- SPARQLWrapper ------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_select_json(endpoint, method):
    doc = _wrapper(endpoint, WG3_PLACE, "json", method)
    assert doc["head"]["vars"] == ["place"]
    assert doc["results"]["bindings"] == [{"place": {"type": "uri", "value": VIENNA}}]


def test_sparqlwrapper_select_xml(endpoint):
    doc = _wrapper(endpoint, WG3_PLACE, "xml")  # an xml.dom.minidom document
    assert [v.getAttribute("name") for v in doc.getElementsByTagName("variable")] == ["place"]
    assert [u.firstChild.data for u in doc.getElementsByTagName("uri")] == [VIENNA]


def test_sparqlwrapper_ask(endpoint):
    assert _wrapper(endpoint, f"ASK {{ <{WG3}> <{LOCATION}> <{VIENNA}> }}", "json")["boolean"] is True
    doc = _wrapper(endpoint, f"ASK {{ <{WG3}> <{LOCATION}> <urn:nowhere> }}", "xml")
    assert doc.getElementsByTagName("boolean")[0].firstChild.data == "false"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's own JSON-LD parser
def test_sparqlwrapper_construct(endpoint):
    expected = rdflib.Graph().parse(data=sparql(endpoint, LOCATIONS, "application/n-triples")[2],
                                    format="nt")
    assert (rdflib.URIRef(WG3), rdflib.URIRef(LOCATION), rdflib.URIRef(VIENNA)) in expected
    turtle = _wrapper(endpoint, LOCATIONS, "turtle")  # bytes: SPARQLWrapper leaves Turtle alone
    assert isomorphic(rdflib.Graph().parse(data=turtle, format="turtle"), expected)
    for fmt in ("xml", "json-ld"):  # parsed by SPARQLWrapper itself into an rdflib graph
        graph = _wrapper(endpoint, LOCATIONS, fmt)
        assert isomorphic(rdflib.Graph() + graph, expected), fmt


# --- rdflib's SPARQLStore -----------------------------------------------------------------------

def test_sparqlstore_select_ask_construct(endpoint):
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    store = SPARQLStore(endpoint + "/sparql", returnFormat="xml")
    graph = rdflib.Graph(store)
    rows = list(graph.query(MIXED))
    direct = json.loads(sparql(endpoint, MIXED)[2])["results"]["bindings"]
    assert len(rows) == len(direct) > 10
    for row, cell in zip(rows, direct):
        assert str(row.m) == cell["m"]["value"]
        assert row.label == rdflib.Literal(cell["label"]["value"], lang=cell["label"]["xml:lang"])
        if "start" in cell:
            assert row.start == rdflib.Literal(cell["start"]["value"],
                                               datatype=rdflib.URIRef(XSD + "date"))
        else:
            assert row.start is None
    assert graph.query(f"ASK {{ <{WG3}> <{LOCATION}> <{VIENNA}> }}").askAnswer is True
    constructed = graph.query(LOCATIONS).graph
    expected = rdflib.Graph().parse(data=sparql(endpoint, LOCATIONS, "text/turtle")[2], format="turtle")
    assert len(constructed) == len(expected) > 0
    assert isomorphic(rdflib.Graph() + constructed, expected)
    store.close()


# --- the four W3C results formats, read independently and compared -----------------------------

def _from_json(text: str):
    doc = json.loads(text)
    out = []
    for binding in doc["results"]["bindings"]:
        row = {}
        for name, cell in binding.items():
            kind = "literal" if cell["type"] == "typed-literal" else cell["type"]
            row[name] = (kind, cell["value"], cell.get("xml:lang"), cell.get("datatype"))
        out.append(row)
    return doc["head"]["vars"], out


def _from_xml(text: str):
    root = ET.fromstring(text)
    names = [v.get("name") for v in root.iter(SRX + "variable")]
    out = []
    for result in root.iter(SRX + "result"):
        row = {}
        for binding in result.findall(SRX + "binding"):
            (term,) = list(binding)
            kind = term.tag[len(SRX):]
            row[binding.get("name")] = (kind, term.text or "", term.get(XML_LANG), term.get("datatype"))
        out.append(row)
    return names, out


_TSV_TERM = re.compile(r'^(?:<(?P<iri>[^>]*)>|_:(?P<bnode>\S+)|"(?P<lit>(?:[^"\\]|\\.)*)"'
                       r'(?:@(?P<lang>[A-Za-z0-9-]+)|\^\^<(?P<dt>[^>]*)>)?|(?P<bare>[^"<].*))$')
_TSV_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", '"': '"', "'": "'", "\\": "\\"}


def _tsv_term(text: str):
    m = _TSV_TERM.match(text)
    assert m, f"not an RDF term in TSV: {text!r}"
    if m.group("iri") is not None:
        return ("uri", m.group("iri"), None, None)
    if m.group("bnode") is not None:
        return ("bnode", m.group("bnode"), None, None)
    if m.group("bare") is not None:  # the short forms of numbers and booleans
        bare = m.group("bare")
        kind = ("boolean" if bare in ("true", "false") else "integer" if re.fullmatch(r"[+-]?\d+", bare)
                else "decimal" if re.fullmatch(r"[+-]?\d*\.\d+", bare) else "double")
        return ("literal", bare, None, XSD + kind)
    value = re.sub(r"\\(.)", lambda e: _TSV_ESCAPES.get(e.group(1), "\\" + e.group(1)), m.group("lit"))
    return ("literal", value, m.group("lang"), m.group("dt"))


def _from_tsv(text: str):
    lines = list(csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    names = [h[1:] for h in lines[0]]
    assert all(h.startswith("?") for h in lines[0])
    return names, [{n: _tsv_term(c) for n, c in zip(names, line) if c != ""} for line in lines[1:]]


def _from_csv(text: str):
    reader = csv.reader(io.StringIO(text, newline=""))
    names = next(reader)
    return names, [{n: c for n, c in zip(names, line) if c != ""} for line in reader]


def test_four_results_formats_agree(endpoint):
    answers = {}
    for accept, reader in (("application/sparql-results+json", _from_json),
                           ("application/sparql-results+xml", _from_xml),
                           ("text/tab-separated-values", _from_tsv), ("text/csv", _from_csv)):
        status, headers, body = sparql(endpoint, MIXED, accept)
        assert status == 200 and headers["Content-Type"].startswith(accept)
        answers[accept] = reader(body)
    names, rows = answers["application/sparql-results+json"]
    assert names == ["m", "label", "start", "ordinal", "symbol"]
    kinds = {(cell[0], cell[2] is not None, cell[3]) for row in rows for cell in row.values()}
    assert {("uri", False, None), ("literal", True, None), ("literal", False, XSD + "date"),
            ("literal", False, XSD + "integer"), ("literal", False, None)} <= kinds
    assert any("start" not in row for row in rows) and any("start" in row for row in rows)
    assert answers["application/sparql-results+xml"] == (names, rows)
    assert answers["text/tab-separated-values"] == (names, rows)
    # CSV carries the lexical values only.
    assert answers["text/csv"] == (names, [{n: cell[1] for n, cell in row.items()} for row in rows])


def test_ask_in_the_results_formats(endpoint):
    query = f"ASK {{ <{WG3}> <{LOCATION}> <{VIENNA}> }}"
    assert json.loads(sparql(endpoint, query)[2])["boolean"] is True
    root = ET.fromstring(sparql(endpoint, query, "application/sparql-results+xml")[2])
    assert root.find(SRX + "boolean").text == "true"


# --- RDF formats by content negotiation, read by rdflib and compared ---------------------------

def _graphs(fetch_one):
    graphs = {}
    for accept, fmt in RDF_FORMATS:
        status, headers, body = fetch_one(accept)
        assert status == 200 and headers["Content-Type"].startswith(accept), (accept, status, body[:200])
        graphs[accept] = rdflib.Graph().parse(data=body, format=fmt)
    return graphs


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's own JSON-LD parser
def test_construct_in_every_rdf_format_is_the_same_graph(endpoint):
    query = ("CONSTRUCT { ?m ?p ?o } WHERE { ?m a untoc:Meeting ; ?p ?o "
             "FILTER(?p != untoc:sourceParagraph) }")
    graphs = _graphs(lambda accept: sparql(endpoint, query, accept))
    reference = graphs["text/turtle"]
    assert len(reference) > 100
    assert (rdflib.URIRef(WG3), rdflib.URIRef(LOCATION), rdflib.URIRef(VIENNA)) in reference
    assert any(isinstance(o, rdflib.Literal) and o.language == "ru" for o in reference.objects())
    for accept, graph in graphs.items():
        assert isomorphic(graph, reference), accept


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_entity_iri_in_every_rdf_format_is_the_same_graph(endpoint):
    graphs = _graphs(lambda accept: fetch(endpoint + "/id/meeting/wg-ic-3", headers={"Accept": accept}))
    reference = graphs["text/turtle"]
    statements = list(reference.subjects(rdflib.RDF.subject, rdflib.URIRef(WG3)))
    assert statements and all(isinstance(s, rdflib.BNode) for s in statements)  # reified sources
    for accept, graph in graphs.items():
        assert isomorphic(graph, reference), accept
