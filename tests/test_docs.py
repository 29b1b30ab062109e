"""The ontology's documentation: `untoc docs -o DIR` and the server's /ontology route."""

from __future__ import annotations

import html
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS

from untoc_kg import ontodocs
from untoc_kg.cli import cli
from untoc_kg.errors import InputError
from untoc_kg.loading import GraphSource
from untoc_kg.ontodocs import FORMAT_FILES, MARKER, docs_files, ontology_page, write_docs
from untoc_kg.serving import Service

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "untoc.ttl"
UNTOC = "https://w3id.org/untoc/ontology#"
SITE = sorted([*FORMAT_FILES.values(), MARKER])
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy


def run(*args):
    result = CliRunner().invoke(cli, list(args), obj={}, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def ontology_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY, format="turtle")


def terms(g: rdflib.Graph) -> list[rdflib.URIRef]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    return sorted({s for k in kinds for s in g.subjects(RDF.type, k) if isinstance(s, rdflib.URIRef)})


def article(page: str, anchor: str) -> str:
    """The entry of a term by its anchor (untoc terms: the local name)."""
    start = page.index(f'<article class="term" id="{html.escape(anchor, quote=True)}">')
    return page[start:page.index("</article>", start)]


def article_of(page: str, iri: str) -> str:
    """The entry of a term by the IRI it shows (exactly one entry shows each IRI)."""
    shown = f'<dt>IRI</dt><dd><a href="{html.escape(iri)}"><code>{html.escape(iri)}</code></a>'
    assert page.count(shown) == 1, iri
    at = page.index(shown)
    return page[page.rindex('<article class="term"', 0, at):page.index("</article>", at)]


def small_source(root: Path, label: str, definition: str) -> GraphSource:
    """A GraphSource over a one-class ontology (no shapes beyond a header) in ``root``."""
    (root / "ontology").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "ontology" / "untoc.ttl").write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "@prefix dcterms: <http://purl.org/dc/terms/> .\n"
        "<https://w3id.org/untoc/ontology> a owl:Ontology ; dcterms:title \"T <i>x</i>\"@en ;\n"
        "    dcterms:description \"</p><script>alert(3)</script>\"@en .\n"
        "<https://w3id.org/untoc/ontology#Evil> a owl:Class ;\n"
        f"    rdfs:label {json.dumps(label)}@en , \"злой\"@ru ;\n"
        f"    skos:definition {json.dumps(definition)}@en ;\n"
        "    rdfs:comment \"\\\"><b onmouseover=alert(4)>\"@ru .\n", encoding="utf-8")
    (root / "ontology" / "untoc-shapes.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<https://w3id.org/untoc/shapes#EvilShape> a sh:NodeShape ;\n"
        "    sh:targetClass <https://w3id.org/untoc/ontology#Evil> ;\n"
        "    rdfs:comment \"<svg onload=alert(5)>\"@en ;\n"
        "    sh:property [ sh:path rdfs:label ; sh:minCount 1 ; rdfs:label \"<u>x</u>\"@en ] .\n",
        encoding="utf-8")
    (root / "ontology" / "context.jsonld").write_text('{"@context": {}}\n', encoding="utf-8")
    return GraphSource(root=root, data_dir=root / "data")


# --- the static site ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory, _isolated_cache) -> Path:
    out = tmp_path_factory.mktemp("docs") / "site"
    result = run("docs", "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_docs_writes_the_site(site):
    assert sorted(p.name for p in site.iterdir()) == SITE
    assert (site / "ontology.ttl").read_bytes() == ONTOLOGY.read_bytes()
    assert (site / "index.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_every_term_appears_with_its_labels_and_definitions(site):
    g = ontology_graph()
    page = (site / "index.html").read_text(encoding="utf-8")
    found = terms(g)
    assert len(found) >= 120  # 50 classes, 50 object, 16 datatype, 13 annotation properties
    for term in found:
        entry = article_of(page, str(term))
        if str(term).startswith(UNTOC):  # the fragment of the term's IRI lands on its entry
            assert entry == article(page, str(term)[len(UNTOC):])
        for lang in ("en", "ru"):
            labels = [o for o in g.objects(term, RDFS.label) if o.language == lang]
            assert labels, f"{term} has no {lang} label in the ontology"
            for text in labels + [o for o in g.objects(term, rdflib.SKOS.definition)
                                  if o.language == lang]:
                assert html.escape(str(text), quote=True) in entry, (term, lang, str(text))


def test_the_page_links_terms_to_their_entries(site):
    page = (site / "index.html").read_text(encoding="utf-8")
    meeting = article(page, "Meeting")
    assert 'href="#Event"' in meeting                # superclass
    assert 'href="#JointMeeting"' in meeting         # subclass
    assert 'href="#meetingOf"' in meeting            # a SHACL constraint's path
    assert "untocsh:MeetingShape" in meeting
    assert 'href="#Meeting"' in article(page, "heldBackToBackWith")  # domain
    assert "symmetric" in article(page, "heldBackToBackWith")
    for name in FORMAT_FILES.values():
        if name != "index.html":
            assert f'href="{name}"' in page


@pytest.mark.parametrize("name,fmt", [("ontology.nt", "nt"), ("ontology.rdf", "xml"),
                                      ("ontology.jsonld", "json-ld")])
def test_the_other_formats_hold_the_same_ontology(site, name, fmt):
    other = rdflib.Graph().parse(data=(site / name).read_bytes(), format=fmt)
    assert isomorphic(other, ontology_graph())


def test_docs_replaces_its_earlier_output(site):
    (site / "index.html").write_text("stale", encoding="utf-8")
    result = run("docs", "-o", str(site))
    assert result.exit_code == 0, result.output
    assert (site / "index.html").read_text(encoding="utf-8") != "stale"
    assert sorted(p.name for p in site.iterdir()) == SITE
    assert not [p for p in site.parent.iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_docs_into_an_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    assert run("docs", "-o", str(tmp_path / "empty")).exit_code == 0
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == SITE


@pytest.mark.parametrize("extra", ["notes.txt", None])
def test_docs_refuses_a_directory_it_did_not_write(tmp_path, extra):
    target = tmp_path / "mine"
    target.mkdir()
    if extra is None:  # the site's file names, but no marker: someone else's index.html
        (target / "index.html").write_text("my page", encoding="utf-8")
    else:  # an earlier output with a file added to it
        (target / MARKER).write_text("", encoding="utf-8")
        (target / extra).write_text("keep me", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    result = run("docs", "-o", str(target))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "not an earlier 'untoc docs' output" in lines[0]
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before


def test_docs_refuses_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="current directory"):
        write_docs(".")
    assert list(tmp_path.iterdir()) == []
    write_docs("a/b")  # missing parents are made
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == SITE


def test_docs_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("x", encoding="utf-8")
    result = run("docs", "-o", str(tmp_path / "f"))
    assert result.exit_code == 2 and "not a directory" in result.output
    assert (tmp_path / "f").read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("earlier", [False, True])
def test_a_failed_write_leaves_no_half_site(tmp_path, monkeypatch, earlier):
    target = tmp_path / "site"
    if earlier:
        write_docs(target)
        (target / "index.html").write_text("the earlier page", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in target.iterdir()} if earlier else None
    written = []
    real = Path.write_bytes

    def failing(self, data):
        if written:
            raise OSError(28, "No space left on device", str(self))
        written.append(self)
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(InputError, match="No space left on device"):
        write_docs(target)
    assert written  # the failure came after a file had been written
    if earlier:
        assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    else:
        assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["site"] if earlier else [])


# --- properties of the generator ------------------------------------------------------------------

_net_events: list[str] | None = None


def _audit(event, args):
    if _net_events is not None and event in ("socket.connect", "socket.getaddrinfo"):
        _net_events.append(event)


sys.addaudithook(_audit)  # hooks cannot be removed; it only counts while _net_events is a list


def test_generation_makes_no_network_access(tmp_path):
    global _net_events
    ontodocs._cache.clear()
    _net_events = []
    try:
        socket.getaddrinfo("127.0.0.1", None)  # the hook sees a look-up when there is one
        assert _net_events == ["socket.getaddrinfo"]
        _net_events.clear()
        files = docs_files()
        write_docs(tmp_path / "site")
        ontology_page(ONTOLOGY.read_bytes())
    finally:
        events, _net_events = _net_events, None
    assert events == []
    assert len(files[FORMAT_FILES["html"]]) > 100_000


def test_output_is_the_same_bytes_every_time(tmp_path):
    """Two fresh processes with different hash seeds write identical sites."""
    sites = []
    for seed in ("1", "2"):
        out = tmp_path / f"site-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", "import sys; from untoc_kg.ontodocs import write_docs; "
                        "write_docs(sys.argv[1])", str(out)], check=True, env=env, timeout=120)
        sites.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert sorted(sites[0]) == SITE
    assert sites[0] == sites[1]


def test_text_from_the_ontology_is_escaped(tmp_path):
    source = small_source(tmp_path, "<script>alert(1)</script>", "<img src=x onerror=alert(2)>")
    page = docs_files(source)[FORMAT_FILES["html"]].decode("utf-8")
    for markup in ("<script", "<img", "<b ", "<svg", "<u>", "<i>"):
        assert markup not in page, markup
    for shown in ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;",
                  "&quot;&gt;&lt;b onmouseover=alert(4)&gt;", "&lt;svg onload=alert(5)&gt;",
                  "&lt;/p&gt;&lt;script&gt;alert(3)&lt;/script&gt;", "T &lt;i&gt;x&lt;/i&gt;"):
        assert shown in page, shown
    assert "злой" in article(page, "Evil")


def test_the_docs_follow_the_ontology_file(tmp_path):
    source = small_source(tmp_path, "first name", "d")
    assert "first name" in docs_files(source)["index.html"].decode()
    path = source.ontology_file
    path.write_text(path.read_text(encoding="utf-8").replace("first name", "second name"),
                    encoding="utf-8")
    page = docs_files(source)["index.html"].decode()
    assert "second name" in page and "first name" not in page


def test_a_broken_ontology_is_an_input_error(tmp_path):
    source = small_source(tmp_path, "x", "y")
    source.ontology_file.write_text("<a> <b> .\n", encoding="utf-8")
    with pytest.raises(InputError, match="untoc.ttl"):
        docs_files(source)


# --- the server ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def base(_isolated_cache, run_server):
    with run_server(Service(timeout=5.0)) as url:
        yield url


def fetch(url: str, accept: str | None = None):
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with _OPENER.open(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read()


def test_server_answers_browsers_with_the_docs(base, monkeypatch):
    ontodocs._cache.clear()
    calls = []
    real = ontodocs.ontology_page
    monkeypatch.setattr(ontodocs, "ontology_page", lambda *a, **k: calls.append(1) or real(*a, **k))
    for _ in range(3):
        status, ctype, body = fetch(base + "/ontology", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
        assert status == 200 and ctype.startswith("text/html")
    assert calls == [1]  # generated once, then run_server from memory
    assert body == docs_files()[FORMAT_FILES["html"]]
    assert b'<article class="term" id="Meeting">' in body


def test_server_answers_rdf_clients_with_the_ontology(base):
    status, ctype, body = fetch(base + "/ontology", "text/turtle")
    assert status == 200 and ctype.startswith("text/turtle")
    assert body == ONTOLOGY.read_bytes()
    for accept, mime, fmt in (("application/ld+json", "application/ld+json", "json-ld"),
                              ("application/rdf+xml", "application/rdf+xml", "xml"),
                              ("application/n-triples", "application/n-triples", "nt")):
        status, ctype, body = fetch(base + "/ontology", accept)
        assert status == 200 and ctype.startswith(mime), (accept, status, ctype)
        assert isomorphic(rdflib.Graph().parse(data=body, format=fmt), ontology_graph())


@pytest.mark.parametrize("suffix,mime", [(".ttl", "text/turtle"), (".jsonld", "application/ld+json"),
                                         (".nt", "application/n-triples"),
                                         (".rdf", "application/rdf+xml"), (".html", "text/html")])
def test_server_answers_by_suffix(base, suffix, mime):
    status, ctype, body = fetch(base + "/ontology" + suffix, "text/html")
    assert status == 200 and ctype.startswith(mime)
    assert body == docs_files()[FORMAT_FILES[{".ttl": "turtle", ".jsonld": "jsonld", ".nt": "ntriples",
                                              ".rdf": "xml", ".html": "html"}[suffix]]]


def test_server_refuses_what_it_cannot_give(base):
    assert fetch(base + "/ontology", "image/png")[0] == 406
    assert fetch(base + "/ontology.pdf")[0] == 404
    assert fetch(base + "/ontologyx")[0] == 404
