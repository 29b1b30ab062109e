"""The web server (`untoc serve`), over real HTTP on the loopback interface: the SPARQL protocol
endpoint and its limits, the saved queries, entity pages and the timeline."""

from __future__ import annotations

import csv
import io
import json
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import rdflib

from untoc_kg.negotiation import negotiate
from untoc_kg.serving import Service

ROOT = Path(__file__).resolve().parent.parent
SRX = "{http://www.w3.org/2005/sparql-results#}"
SVG = "{http://www.w3.org/2000/svg}"
WG3 = "https://w3id.org/untoc/id/meeting/wg-ic-3"
VIENNA = "https://w3id.org/untoc/id/place/vienna"
WG3_PLACE = "SELECT ?place WHERE { meeting:wg-ic-3 schema:location ?place }"
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
MAX_ROWS = 500

# Loopback only: never through a proxy the environment may name.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def base(_isolated_cache, run_server):
    with run_server(Service(timeout=1.0, max_rows=MAX_ROWS)) as url:
        yield url


@pytest.fixture(scope="module")
def evil_base(tmp_path_factory, run_server):
    """A server on a copy of the data holding an entity whose label is markup."""
    data = tmp_path_factory.mktemp("evil") / "data"
    shutil.copytree(ROOT / "data", data)
    (data / "zz-evil.ttl").write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix schema: <https://schema.org/> .\n"
        "<https://w3id.org/untoc/id/place/evil> a schema:Place ;\n"
        '    rdfs:label "<script>alert(1)</script>"@en , "\\"><img src=x onerror=alert(2)>"@ru .\n',
        encoding="utf-8")
    with run_server(Service(data, cache=False)) as url:
        yield url


def fetch(url: str, *, data: bytes | None = None, headers: dict | None = None,
          method: str | None = None):
    """(status, headers, body text) of one request; error statuses are returned, not raised."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with _OPENER.open(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode("utf-8")


def sparql(base: str, query: str, accept: str = "application/sparql-results+json", **extra):
    params = urllib.parse.urlencode({"query": query, **extra})
    return fetch(f"{base}/sparql?{params}", headers={"Accept": accept})


# --- the SPARQL endpoint ------------------------------------------------------------------------

def test_service_description(base):
    status, headers, body = fetch(base + "/sparql")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=body, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    endpoint = rdflib.URIRef(base + "/sparql")
    assert (endpoint, rdflib.RDF.type, sd.Service) in g
    assert (endpoint, sd.supportedLanguage, sd.SPARQL11Query) in g


def test_select_as_json(base):
    status, headers, body = sparql(base, WG3_PLACE)
    assert status == 200 and headers["Content-Type"] == "application/sparql-results+json"
    doc = json.loads(body)
    assert doc["head"]["vars"] == ["place"]
    assert doc["results"]["bindings"] == [{"place": {"type": "uri", "value": VIENNA}}]


def test_select_as_xml(base):
    status, headers, body = sparql(base, WG3_PLACE, "application/sparql-results+xml")
    assert status == 200 and headers["Content-Type"] == "application/sparql-results+xml"
    root = ET.fromstring(body)
    assert [u.text for u in root.iter(SRX + "uri")] == [VIENNA]


def test_select_as_csv(base):
    status, headers, body = sparql(base, WG3_PLACE, "text/csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(body))) == [["place"], [VIENNA]]


def test_select_as_tsv(base):
    status, headers, body = sparql(base, WG3_PLACE, "text/tab-separated-values")
    assert status == 200 and headers["Content-Type"].startswith("text/tab-separated-values")
    assert body.splitlines() == ["?place", f"<{VIENNA}>"]


def test_accept_with_quality_values_and_format_parameter(base):
    status, headers, _ = sparql(base, WG3_PLACE, "text/csv;q=0.5, application/sparql-results+xml")
    assert headers["Content-Type"] == "application/sparql-results+xml"
    status, headers, _ = sparql(base, WG3_PLACE, "*/*", format="tsv")
    assert status == 200 and headers["Content-Type"].startswith("text/tab-separated-values")
    status, _, body = sparql(base, WG3_PLACE, "image/png")
    assert status == 406


def test_construct_as_turtle(base):
    query = "CONSTRUCT { ?m schema:location ?p } WHERE { ?m schema:location ?p }"
    status, headers, body = sparql(base, query, "text/turtle")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=body, format="turtle")
    assert (rdflib.URIRef(WG3), rdflib.URIRef("https://schema.org/location"), rdflib.URIRef(VIENNA)) in g


def test_post_form_and_direct_post(base):
    form = urllib.parse.urlencode({"query": WG3_PLACE}).encode()
    status, _, body = fetch(base + "/sparql", data=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "text/csv"})
    assert status == 200 and VIENNA in body
    status, _, body = fetch(base + "/sparql", data=WG3_PLACE.encode(), headers={
        "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["place"]["value"] == VIENNA


def test_updates_are_refused(base):
    update = "INSERT DATA { <urn:x> <urn:y> <urn:z> }"
    for data, ctype in ((urllib.parse.urlencode({"update": update}).encode(),
                         "application/x-www-form-urlencoded"),
                        (update.encode(), "application/sparql-update")):
        status, _, body = fetch(base + "/sparql", data=data, headers={"Content-Type": ctype})
        assert 400 <= status < 500 and "read-only" in body
    status, _, _ = sparql(base, "ASK { <urn:x> <urn:y> <urn:z> }")
    assert status == 200


def test_service_is_refused(base):
    status, _, body = sparql(base, "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    assert status == 400 and "SERVICE is not allowed" in body


def test_syntax_error_is_400_with_one_line(base):
    status, _, body = sparql(base, "SELECT ?x WHERE { ?x ?y }")
    assert status == 400 and body.startswith("SPARQL syntax error") and body.count("\n") == 1


def test_row_limit_is_an_explicit_error(base):
    status, _, body = sparql(base, "SELECT * WHERE { ?s ?p ?o }")
    assert status == 422
    assert str(MAX_ROWS) in body and "LIMIT" in body
    status, _, body = sparql(base, f"SELECT * WHERE {{ ?s ?p ?o }} LIMIT {MAX_ROWS}")
    assert status == 200 and len(json.loads(body)["results"]["bindings"]) == MAX_ROWS


def test_time_limit_stops_the_query_and_the_server_goes_on(base):
    started = time.monotonic()
    status, _, body = sparql(base, HEAVY)
    assert status in (503, 504) and "time limit" in body
    assert time.monotonic() - started < 10
    status, _, body = sparql(base, WG3_PLACE)
    assert status == 200 and VIENNA in body


def test_cors(base):
    _, headers, _ = sparql(base, WG3_PLACE)
    assert headers["Access-Control-Allow-Origin"] == "*"
    status, headers, _ = fetch(base + "/sparql", method="OPTIONS", headers={
        "Origin": "http://example.org", "Access-Control-Request-Method": "POST"})
    assert status == 204 and "POST" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Origin"] == "*"


# --- saved queries ------------------------------------------------------------------------------

def test_catalogue_lists_queries_with_typed_params(base):
    status, headers, body = fetch(base + "/queries")
    assert status == 200 and headers["Content-Type"] == "application/json"
    listing = {q["name"]: q for q in json.loads(body)}
    year = next(p for p in listing["meetings-in-year"]["params"] if p["name"] == "year")
    assert year["type"] == "year" and year["required"]


def test_saved_query_with_typed_parameter(base):
    status, headers, body = fetch(base + "/queries/meetings-in-year?year=2012&format=csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    events = {row["event"] for row in csv.DictReader(io.StringIO(body))}
    assert "https://w3id.org/untoc/id/meeting/wg-ic-4" in events
    status, _, body = fetch(base + "/queries/meetings-in-year?year=twelve")
    assert status == 400 and "not a year" in body
    status, _, _ = fetch(base + "/queries/meetings-in-yeer?year=2012")
    assert status == 404


# --- entity pages -------------------------------------------------------------------------------

def test_entity_page_in_english(base):
    status, headers, body = fetch(base + "/id/meeting/wg-ic-3", headers={"Accept": "text/html"})
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "Third meeting of the Working Group on International Cooperation" in body
    assert 'href="/id/place/vienna"' in body
    assert 'href="/id/paper/18">para:18</a>' in body


def test_entity_page_in_russian(base):
    _, _, body = fetch(base + "/id/meeting/wg-ic-3?lang=ru", headers={"Accept": "text/html"})
    assert "<h1>Третье совещание Рабочей группы по вопросам международного сотрудничества</h1>" in body


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's own JSON-LD parser
@pytest.mark.parametrize("accept, suffix, fmt", [
    ("text/turtle", ".ttl", "turtle"), ("application/ld+json", ".jsonld", "json-ld"),
    ("application/n-triples", ".nt", "nt"), ("application/rdf+xml", ".rdf", "xml")])
def test_entity_as_rdf(base, accept, suffix, fmt):
    location = (rdflib.URIRef(WG3), rdflib.URIRef("https://schema.org/location"), rdflib.URIRef(VIENNA))
    status, headers, body = fetch(base + "/id/meeting/wg-ic-3", headers={"Accept": accept})
    assert status == 200 and headers["Content-Type"].startswith(accept)
    assert location in rdflib.Graph().parse(data=body, format=fmt)
    status, _, body = fetch(base + "/id/meeting/wg-ic-3" + suffix)
    assert status == 200 and location in rdflib.Graph().parse(data=body, format=fmt)


def test_unknown_entity_is_404(base):
    assert fetch(base + "/id/meeting/wg-ic-99")[0] == 404
    assert fetch(base + "/id/meeting/wg-ic-99.ttl")[0] == 404
    assert fetch(base + "/nowhere")[0] == 404


def test_labels_are_escaped(evil_base):
    status, _, body = fetch(evil_base + "/id/place/evil", headers={"Accept": "text/html"})
    assert status == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    assert "<img" not in body
    status, _, body = sparql(evil_base, "SELECT ?l WHERE { place:evil rdfs:label ?l }", "text/csv")
    assert status == 200 and "<script>alert(1)</script>" in body  # data, not markup: sent as is


# --- home page and pictures ---------------------------------------------------------------------

def test_home_page_links_and_query_form(base):
    status, _, body = fetch(base + "/")
    assert status == 200
    for link in ('href="/queries"', 'href="/sparql"', 'href="/timeline"', 'href="/ontology"', 'href="/id/meeting/wg-ic-3"'):
        assert link in body
    assert '<form method="post" action="/sparql">' in body and "<textarea" in body


def test_timeline_svg_links_meeting_pages(base):
    status, headers, body = fetch(base + "/timeline.svg")
    assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(body)
    links = {a.get("href") for a in root.iter(SVG + "a")}
    assert {"/id/meeting/wg-ic-3", "/id/meeting/joint-wg-cultural-property-2012",
            "/id/session/cop-5"} <= links
    assert root.find(SVG + "polygon") is not None  # the joint meeting's mark
    status, _, page = fetch(base + "/timeline")
    assert status == 200 and "<svg" in page and 'href="/id/meeting/wg-ic-3"' in page


def test_lineage_svg(base):
    status, _, body = fetch(base + "/lineage.svg")
    assert status == 200
    links = {a.get("href") for a in ET.fromstring(body).iter(SVG + "a")}
    assert "/id/resolution/cop-6-1" in links


def test_negotiate():
    offers = {"text/html": "html", "text/turtle": "turtle"}
    assert negotiate(None, offers, "html") == "html"
    assert negotiate("text/turtle;q=0.9, text/html;q=0.1", offers, "html") == "turtle"
    assert negotiate("application/json", offers, "html") is None
    assert negotiate("text/*", offers, "turtle") == "turtle"
    assert negotiate("text/html;q=0, */*;q=0.1", offers, "turtle") == "turtle"


# --- the saved-query catalogue for people ---------------------------------------------------------

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_catalogue_as_html_documents_every_query(base):
    status, headers, body = fetch(base + "/queries", headers={"Accept": BROWSER})
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert body.count("<section id=") == len(json.loads(fetch(base + "/queries")[2]))
    section = body.split('<section id="meetings-in-year">', 1)[1].split("</section>", 1)[0]
    assert 'href="/queries/meetings-in-year"' in section
    assert "Meetings and workshops held in a given year" in section  # summary
    assert "<td><code>year</code></td><td>year</td><td>required</td>" in section
    assert "<code>2012</code>" in section  # the parameter's example
    status, headers, _ = fetch(base + "/queries?format=json", headers={"Accept": BROWSER})
    assert headers["Content-Type"] == "application/json"


def test_saved_query_as_html_form_and_table(base):
    status, headers, body = fetch(base + "/queries/meetings-in-year?year=2012",
                                  headers={"Accept": BROWSER})
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert '<form method="get" action="/queries/meetings-in-year"' in body
    assert 'name="year" value="2012"' in body
    table = body.split('<table class="results">', 1)[1].split("</table>", 1)[0]
    assert "<th>event</th>" in table
    assert ('<a href="/id/meeting/wg-ic-4">Fourth meeting of the Working Group on International '
            'Cooperation <small>(meeting:wg-ic-4)</small></a>') in table
    assert 'href="/queries/meetings-in-year?year=2012&amp;format=csv"' in body
    # The same address still gives machine formats to machines.
    status, headers, _ = fetch(base + "/queries/meetings-in-year?year=2012")
    assert headers["Content-Type"] == "application/sparql-results+json"


def test_saved_query_page_in_russian(base):
    _, _, body = fetch(base + "/queries/meetings-in-year?year=2012&lang=ru",
                       headers={"Accept": BROWSER})
    assert '<html lang="ru">' in body and "Результаты" in body
    assert ('<a href="/id/meeting/wg-ic-4?lang=ru">Четвертое совещание Рабочей группы по вопросам '
            'международного сотрудничества') in body
    # A query without a lang parameter: the page language does not reach the query.
    status, _, body = fetch(base + "/queries/mandate-lineage?lang=ru", headers={"Accept": BROWSER})
    assert status == 200 and 'href="/id/resolution/cop-6-1?lang=ru"' in body
    assert '<input type="hidden" name="lang" value="ru">' in body


def test_saved_query_page_missing_and_bad_parameters(base):
    status, _, body = fetch(base + "/queries/meetings-in-year", headers={"Accept": BROWSER})
    assert status == 200 and "Fill in the required parameters" in body
    assert '<table class="results">' not in body
    status, _, body = fetch(base + "/queries/meetings-in-year?year=%3Cscript%3E",
                            headers={"Accept": BROWSER})
    assert status == 400 and '<p class="error">' in body and "not a year" in body
    assert "<script>" not in body and 'value="&lt;script&gt;"' in body


def test_saved_construct_query_as_html(base):
    status, _, body = fetch(base + "/queries/describe-entity?entity=meeting:wg-ic-3",
                            headers={"Accept": BROWSER})
    assert status == 200 and "<th>subject</th><th>predicate</th><th>object</th>" in body
    assert 'href="/id/place/vienna"' in body
    assert 'format=turtle"' in body


def test_saved_query_page_escapes_labels(evil_base):
    status, _, body = fetch(evil_base + "/queries/describe-entity?entity=place:evil",
                            headers={"Accept": BROWSER})
    assert status == 200 and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert" not in body


def test_home_page_links_the_catalogue(base):
    _, _, body = fetch(base + "/")
    assert 'href="/queries/meetings-in-year"' in body and 'href="/queries?format=json"' in body
    _, _, body = fetch(base + "/?lang=ru")
    assert 'href="/queries?lang=ru"' in body


@pytest.mark.parametrize("value, mime", [
    ("rdf+xml", "application/rdf+xml"), ("json-ld", "application/ld+json"),
    ("text/turtle", "text/turtle"), ("nt", "application/n-triples")])
def test_format_parameter_aliases(base, value, mime):
    query = "CONSTRUCT { ?m schema:location ?p } WHERE { ?m schema:location ?p }"
    status, headers, _ = sparql(base, query, "*/*", format=value)
    assert status == 200 and headers["Content-Type"].startswith(mime)


def test_reused_workers_follow_the_data_files(tmp_path):
    """Query workers live on between queries, but each query reads the data files as they are."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    service = Service(data, cache=False)
    ask = "ASK { <https://w3id.org/untoc/id/place/atlantis> ?p ?o }"
    first = service.run(ask, fmt="json")
    assert first.status == 200 and json.loads(first.body)["boolean"] is False
    assert len(service._idle) == 1  # the worker waits for the next query
    (data / "zz-new.ttl").write_text(
        '<https://w3id.org/untoc/id/place/atlantis> a <https://schema.org/Place> .\n', encoding="utf-8")
    second = service.run(ask, fmt="json")
    assert json.loads(second.body)["boolean"] is True
    assert len(service._idle) == 1
    service.close()
    assert service._idle == []


@pytest.mark.parametrize("cache", [True, False], ids=["cached", "in-memory"])
def test_workers_keep_their_store_until_the_data_changes(cache, tmp_path, _isolated_cache,
                                                         run_server):
    """Query workers keep the store they opened for the next query; a change to the data files
    is seen by the next query all the same, and by the pages (which read the server's own store)."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    count = urllib.parse.quote("SELECT (COUNT(*) AS ?n) WHERE { ?s a schema:Place }")

    def places(url):
        status, _, body = fetch(f"{url}/sparql?query={count}",
                                headers={"Accept": "text/csv"})
        assert status == 200, body
        return int(body.splitlines()[1])

    with run_server(Service(data, cache=cache)) as url:
        before = [places(url) for _ in range(3)]
        assert len(set(before)) == 1 and before[0] > 0
        assert fetch(f"{url}/id/place/new-place")[0] == 404
        (data / "zz-new-place.ttl").write_text(
            "@prefix schema: <https://schema.org/> .\n"
            "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
            "<https://w3id.org/untoc/id/place/new-place> a schema:Place ;\n"
            '    rdfs:label "New place"@en .\n', encoding="utf-8")
        assert [places(url) for _ in range(3)] == [before[0] + 1] * 3
        status, _, page = fetch(f"{url}/id/place/new-place")
        assert status == 200 and "New place" in page
