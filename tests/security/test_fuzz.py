"""Property-based fuzzing of every input path: only success or the package's own errors.

Random and mutated Turtle (and the other formats) into the loader and ``untoc validate``; random
values for every parameter of every saved query; random SPARQL text into the local query path;
random request targets and Accept headers into the server's request handling (no socket). Any
exception that is not an ``UntocError`` is a crash. The atheris harnesses in ``fuzz/`` drive the
same entry points for longer runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from untoc_kg.errors import UntocError
from untoc_kg.loading import RDF_FORMATS, read_rdflib

ROOT = Path(__file__).resolve().parents[2]
FAST = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

SEED_TURTLE = """@prefix untoc: <https://w3id.org/untoc/ontology#> .
@prefix meeting: <https://w3id.org/untoc/id/meeting/> .
@prefix body: <https://w3id.org/untoc/id/body/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
meeting:wg-ic-7 a untoc:Meeting ;
    rdfs:label "Seventh meeting"@en , "Седьмое совещание"@ru ;
    untoc:meetingOf body:wg-international-cooperation ;
    untoc:ordinal "7"^^xsd:positiveInteger ;
    untoc:note [ rdfs:label 'x' ] , ( 1 2.5 true ) , <relative> , _:b .
"""
TOKENS = ["[", "]", "(", ")", "<", ">", '"', "'", '"""', ".", ";", ",", "@prefix", "@base",
          "a", "_:", ":", "^^", "@en", "#", "\\u0000", "\\", "\n", " ", "\x00", "\ufeff", "{", "}",
          "<<(", ")>>", "{|", "|}", "@en--ltr", "xsd:integer", "1e999", "\U0001F600", "\ud7ff"]


@st.composite
def mutated(draw, seed: str = SEED_TURTLE):
    """The seed with a few random slices replaced by tokens or random text."""
    text = seed
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 20)))
        piece = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=10)))
        text = text[:i] + piece * draw(st.integers(1, 3)) + text[j:]
    return text


def _load(path: Path) -> None:
    try:
        read_rdflib([path])
    except UntocError:
        pass


@FAST
@given(text=mutated(), suffix=st.sampled_from(sorted(RDF_FORMATS)))
def test_mutated_turtle_into_the_loader(tmp_path, text, suffix):
    path = tmp_path / f"entry{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _load(path)


@FAST
@given(data=st.binary(max_size=2000), suffix=st.sampled_from(sorted(RDF_FORMATS)))
def test_random_bytes_into_the_loader(tmp_path, data, suffix):
    path = tmp_path / f"entry{suffix}"
    path.write_bytes(data)
    _load(path)


JSONLD_SEED = ('{"@context": {"ex": "http://example.org/", "n": {"@id": "ex:n", "@type": "@id"}}, '
               '"@id": "ex:a", "ex:p": [{"@value": "x", "@language": "en"}, {"@list": [1, 2]}], '
               '"n": {"@id": "ex:b", "@graph": [{"@id": "ex:c", "ex:q": 1}]}}')
RDFXML_SEED = ('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax'
               '-ns#" xmlns:ex="http://example.org/" xml:base="http://example.org/base/">\n'
               '<rdf:Description rdf:about="a" ex:attr="v"><ex:p rdf:parseType="Resource">'
               '<ex:q xml:lang="en">x</ex:q></ex:p><ex:l rdf:parseType="Collection">'
               '<rdf:Description rdf:ID="i"/></ex:l><ex:x rdf:parseType="Literal"><b>t</b></ex:x>'
               '</rdf:Description></rdf:RDF>\n')


@FAST
@given(text=mutated(JSONLD_SEED))
def test_mutated_jsonld_into_the_loader(tmp_path, text):
    path = tmp_path / "entry.jsonld"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _load(path)


@FAST
@given(text=mutated(RDFXML_SEED))
def test_mutated_rdfxml_into_the_loader(tmp_path, text):
    path = tmp_path / "entry.rdf"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _load(path)


@pytest.fixture(scope="module")
def invoke(tmp_path_factory):
    from click.testing import CliRunner

    from untoc_kg.cli import cli

    runner = CliRunner()
    cache = str(tmp_path_factory.mktemp("cache"))
    return lambda *args: runner.invoke(cli, list(map(str, args)), obj={},
                                       env={"UNTOC_CACHE_DIR": cache})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=mutated())
def test_mutated_turtle_through_validate(tmp_path, invoke, text):
    path = tmp_path / "entry.ttl"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    result = invoke("validate", path)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception)
    assert result.exit_code in (0, 1, 2)
    if result.exit_code == 2:
        assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.fixture(scope="module")
def catalogue():
    from untoc_kg.catalogue import Catalogue
    from untoc_kg.loading import GraphSource

    return Catalogue.from_dir(GraphSource.default().queries_dir)


VALUES = st.one_of(st.text(max_size=60), st.sampled_from(
    ["2012", "2012-02-30", "body:wg-international-cooperation", "<http://x/>", "http://x/ y",
     "ex:a", "x:", ":", "urn:x", "file:///etc/passwd", "9" * 40, "-0", "+1", "en-GB", "ru",
     "} ; DROP ALL", "\"'", "\x00", "\ud800", "１２", "٢٠١٢", "2012\n"]))


@FAST
@given(value=VALUES, extra=st.text(max_size=10))
def test_parameter_values(catalogue, value, extra):
    from untoc_kg.errors import ParameterError

    for saved in catalogue:
        for p in saved.params:
            try:
                terms = saved.bindings({p.name: value})
            except ParameterError:
                continue
            assert p.name in terms
        with pytest.raises(ParameterError):
            saved.bindings({"no-such-" + extra: value})


@pytest.fixture(scope="module")
def small_store():
    import pyoxigraph as ox

    store = ox.Store()
    store.extend(ox.parse(SEED_TURTLE.replace("<relative>", "<http://example.org/r>"),
                          ox.RdfFormat.TURTLE))
    return store


SPARQL_SEEDS = ["SELECT ?s WHERE { ?s ?p ?o } LIMIT 5", "ASK { ?s a untoc:Meeting }",
                "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "DESCRIBE meeting:wg-ic-7",
                "SELECT (COUNT(*) AS ?n) WHERE { ?s rdfs:label ?l FILTER(lang(?l) = 'en') }"]
SPARQL_TOKENS = ["SERVICE", "FROM", "LOAD", "INSERT DATA", "DROP ALL", "{", "}", "?x", "$y", "<",
                 ">", '"', "'''", "#", "\n", "PREFIX x: <http://x/>", "GRAPH ?g", "VALUES ?s",
                 "BIND(1/0 AS ?z)", "REGEX(?o, '(a+)+$')", "ORDER BY", "\x00", "\\u0022"]


@FAST
@given(data=st.data(), seed=st.sampled_from(SPARQL_SEEDS))
def test_sparql_text(small_store, data, seed):
    from untoc_kg.querying import run_query

    text = seed
    for _ in range(data.draw(st.integers(0, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 10)))
        text = text[:i] + data.draw(st.one_of(st.sampled_from(SPARQL_TOKENS), st.text(max_size=8))) + text[j:]
    try:
        run_query(small_store, text)
    except UntocError:
        pass


@FAST
@given(text=st.text(max_size=200))
def test_random_sparql_text(small_store, text):
    from untoc_kg.querying import run_query

    try:
        run_query(small_store, text)
    except UntocError:
        pass


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    import os

    from untoc_kg.serving import Service

    old = os.environ.get("UNTOC_CACHE_DIR")
    os.environ["UNTOC_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    try:
        yield Service(timeout=5, max_rows=100)
    finally:
        if old is None:
            os.environ.pop("UNTOC_CACHE_DIR", None)
        else:
            os.environ["UNTOC_CACHE_DIR"] = old


PATHS = st.sampled_from(["/", "//", "/id/", "/id/meeting/wg-ic-3", "/id/meeting/", "/queries",
                         "/ontology", "/timeline", "/lineage", "/nothing", "/id/%00", "/id/%2e%2e/"])
QUERY_STRINGS = st.lists(st.tuples(st.sampled_from(["lang", "format", "x", "", "lang[]", "%00"]),
                                   st.text(max_size=20)), max_size=4)


@settings(max_examples=150, deadline=None)
@given(path=PATHS, suffix=st.text(max_size=30), params=QUERY_STRINGS,
       accept=st.one_of(st.none(), st.text(max_size=40), st.sampled_from(
           ["text/turtle", "*/*;q=0", "text/*;q=abc", "application/ld+json;q=0.5, text/html",
            ";;,,", "text/html;q=1e999"])))
def test_request_targets(service, path, suffix, params, accept):
    from urllib.parse import quote, urlencode

    target = path + quote(suffix, safe="/.%") + ("?" + urlencode(params) if params else "")
    try:
        reply = service.handle("GET", target, {"Accept": accept} if accept is not None else {})
    except UntocError:
        return
    assert 200 <= reply.status < 600


def test_bracket_in_host_like_target_is_a_client_error(service):
    # Found by fuzz/fuzz_http.py: urlsplit raised ValueError ("Invalid IPv6 URL") for a target
    # such as "//q]eries", which the HTTP handler turned into a 500.
    for target in ("//q]eries", "//[::1/x", "//a[b]/id/x?lang=ru"):
        reply = service.handle("GET", target, {})
        assert reply.status == 400, (target, reply.status)


@FAST
@given(header=st.one_of(st.none(), st.text(max_size=80)))
def test_accept_headers(header):
    from untoc_kg.negotiation import RDF_TYPES, RESULT_TYPES, negotiate

    for offers in (RESULT_TYPES, RDF_TYPES):
        chosen = negotiate(header, offers, next(iter(offers.values())))
        assert chosen is None or chosen in offers.values()
