"""`untoc push` and `untoc query --endpoint` against a real Oxigraph server (the `oxigraph` package).

The server runs with --union-default-graph, so queries see the union of the named graphs, as the
local engine does. Every saved query must give the same rows remotely as locally.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import socket
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

from remote_support import example_params, free_port, json_term, local_counts, run, started
from untoc_kg.remote import RemoteEndpoint
from untoc_kg.sparqltext import bind_values, sparql_term

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _oxigraph_binary() -> str | None:
    found = shutil.which("oxigraph")
    if found:
        return found
    local = Path(sys.executable).parent / "oxigraph"
    return str(local) if local.is_file() else None


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory):
    """Base URL of a fresh Oxigraph server (union default graph), stopped after the module."""
    binary = _oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        req = urllib.request.Request(base + "/query", data=b"ASK {}", method="POST",
                                     headers={"Content-Type": "application/sparql-query"})
        try:
            urllib.request.urlopen(req, timeout=1).read()
            return True
        except OSError:
            return False

    with started([binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
                  "--union-default-graph"], location.parent / "oxigraph.log", answers,
                 what="oxigraph serve", within=20, grace=10):
        yield base


@pytest.fixture(scope="module")
def pushed(oxigraph_server):
    result = run("push", "--endpoint", oxigraph_server + "/store")
    assert result.exit_code == 0, result.output
    return result


def _remote_counts(base: str) -> dict[str, int]:
    result = RemoteEndpoint(base + "/query").query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {row["g"].value: int(row["n"].value) for row in result.rows}


def test_push_loads_the_named_graphs(kg, oxigraph_server, pushed):
    local = local_counts(kg)
    assert set(local) == {"https://w3id.org/untoc/graph/" + n for n in ("ontology", "data", "shapes", "void")}
    assert _remote_counts(oxigraph_server) == local
    for graph, n in local.items():
        assert f"{n} triples  <{graph}>" in pushed.stdout
        assert f"replaced <{graph}>: {n} triples," in pushed.output  # progress on stderr
    assert "verified" in pushed.stdout


def test_push_twice_replaces(kg, oxigraph_server, pushed):
    again = run("push", "--endpoint", oxigraph_server + "/store",
                "--query-endpoint", oxigraph_server + "/query")
    assert again.exit_code == 0, again.output
    assert _remote_counts(oxigraph_server) == local_counts(kg)


BLANK_SUBJECTS = ("SELECT ?g (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o "
                  "FILTER(isBlank(?s)) } } GROUP BY ?g")


def test_push_in_chunks_keeps_blank_nodes_whole(kg, oxigraph_server, pushed, monkeypatch):
    """A graph larger than a request goes as a PUT and POSTs; a blank node's lines never straddle
    two of them (its label would name two nodes on the server: more blank subjects remotely)."""
    from untoc_kg import push

    local = {row["g"].value: int(row["n"].value)
             for row in RemoteEndpoint(oxigraph_server + "/query").query(BLANK_SUBJECTS).rows}
    monkeypatch.setattr(push, "CHUNK_TRIPLES", 997)
    result = run("push", "--endpoint", oxigraph_server + "/store")
    assert result.exit_code == 0, result.output
    assert "sent 997 of " in result.output  # progress of the data graph's first request
    assert _remote_counts(oxigraph_server) == local_counts(kg)
    remote = {row["g"].value: int(row["n"].value)
              for row in RemoteEndpoint(oxigraph_server + "/query").query(BLANK_SUBJECTS).rows}
    assert remote == local and remote["https://w3id.org/untoc/graph/data"] > 500


def test_push_failing_between_chunks_says_what_the_graph_holds(oxigraph_server, pushed, monkeypatch):
    from untoc_kg import push
    from untoc_kg.errors import RemoteError

    real = push.HttpClient.request

    def failing_post(self, method, url, **kwargs):
        if method == "POST":
            raise RemoteError("the store went away")
        return real(self, method, url, **kwargs)

    monkeypatch.setattr(push, "CHUNK_TRIPLES", 1500)  # more than the ontology's triples
    monkeypatch.setattr(push.HttpClient, "request", failing_post)
    result = run("push", "--endpoint", oxigraph_server + "/store")
    assert result.exit_code == 1
    message = result.output.strip().splitlines()[-1]
    assert "push of <https://w3id.org/untoc/graph/data> failed after 1500 of its" in message
    assert "(it holds those now): the store went away" in message
    assert "already replaced: <https://w3id.org/untoc/graph/ontology>" in message
    monkeypatch.undo()
    assert run("push", "--endpoint", oxigraph_server + "/store").exit_code == 0  # as before


def test_payloads_keep_blank_node_components_together(tmp_path, monkeypatch):
    from untoc_kg import push

    lines = [b"<http://e/a> <http://e/p> _:x .\n", b"_:x <http://e/p> _:y .\n",
             b'_:y <http://e/p> "_:z" .\n', b"_:w <http://e/p> <http://e/b> .\n",
             b"<http://e/c> <http://e/p> \"_:not a node\" .\n"]
    lines += [b"<http://e/s%d> <http://e/p> <http://e/o> .\n" % i for i in range(10)]
    path = tmp_path / "g.nt"
    path.write_bytes(b"".join(lines))
    monkeypatch.setattr(push, "CHUNK_TRIPLES", 2)
    payloads = list(push._payloads(path))
    assert sorted(line for p in payloads for line in p.splitlines(keepends=True)) == sorted(lines)
    labels = [{t for line in p.splitlines() for t in line.split(b" ")[:3] if t.startswith(b"_:")}
              for p in payloads]
    assert {b"_:x", b"_:y"} in labels  # x and y in one payload, with nothing else blank
    assert all(not a & b for i, a in enumerate(labels) for b in labels[i + 1:])


def test_push_graph_prefix(oxigraph_server, pushed):
    prefix = "http://example.org/untoc-test/"
    result = run("push", "--endpoint", oxigraph_server + "/store", "--graph-prefix", prefix)
    assert result.exit_code == 0, result.output
    counts = _remote_counts(oxigraph_server)
    assert counts[prefix + "data"] == counts["https://w3id.org/untoc/graph/data"]
    # clean up so that the union default graph is the same as before for the other tests
    for name in ("ontology", "data", "shapes", "void"):
        req = urllib.request.Request(
            oxigraph_server + "/store?graph=" + urllib.parse.quote(prefix + name, safe=""),
            method="DELETE")
        urllib.request.urlopen(req, timeout=5).read()
    assert not any(g.startswith(prefix) for g in _remote_counts(oxigraph_server))


def _normalise(term: dict) -> str:
    """A W3C JSON results term as one string; xsd:string is a plain literal."""
    return json_term(term, lambda value, datatype: f"{value!r}" + (
        "" if datatype == XSD_STRING else f"^^{datatype}"))


def _rows(output: str):
    doc = json.loads(output)
    if "boolean" in doc:
        return doc["boolean"]
    return sorted(tuple(sorted((var, _normalise(t)) for var, t in b.items()))
                  for b in doc["results"]["bindings"])


def _triples(output: bytes):
    return sorted(str(ox.Triple(
        *(ox.BlankNode("b") if isinstance(t, ox.BlankNode) else t for t in (q.subject, q.predicate, q.object))))
        for q in ox.parse(output, format=ox.RdfFormat.N_TRIPLES))


def test_every_saved_query_answers_the_same_remotely(kg, oxigraph_server, pushed):
    endpoint = oxigraph_server + "/query"
    checked = 0
    for query in kg.catalogue:
        args = ["query", query.name, *example_params(query)]
        graph = query.kind in ("CONSTRUCT", "DESCRIBE")
        fmt = ["--format", "ntriples" if graph else "json"]
        local = run(*args, *fmt)
        remote = run(*args, *fmt, "--endpoint", endpoint)
        assert local.exit_code == 0, (query.name, local.output)
        assert remote.exit_code == 0, (query.name, remote.output)
        if graph:
            assert _triples(remote.stdout_bytes) == _triples(local.stdout_bytes), query.name
        else:
            assert _rows(remote.stdout) == _rows(local.stdout), query.name
        checked += 1
    assert checked == len(kg.catalogue) > 30


def test_remote_outputs_parse(oxigraph_server, pushed):
    endpoint = oxigraph_server + "/query"
    doc = json.loads(run("query", "wg-meetings", "--format", "json", "--endpoint", endpoint).stdout)
    assert len(doc["results"]["bindings"]) == 6
    rows = list(csv.reader(io.StringIO(run("query", "meetings-in-year", "-p", "year", "2012",
                                           "--format", "csv", "--endpoint", endpoint).stdout)))
    assert rows[0][0] == "event" and len(rows) > 1
    table = run("query", "wg-meetings", "--endpoint", endpoint, "--lang", "ru")
    assert table.exit_code == 0 and "(6 rows)" in table.stdout
    assert "Вена (place:vienna)" in table.stdout  # labels fetched from the endpoint
    ask = json.loads(run("query", "--sparql", "ASK { ?s a untoc:Meeting }", "--format", "json",
                         "--endpoint", endpoint).stdout)
    assert ask["boolean"] is True
    for fmt in ("xml", "tsv", "markdown"):
        assert run("query", "wg-meetings", "--format", fmt, "--endpoint", endpoint).exit_code == 0


INJECTIONS = [
    'CTOC/COP/WG.3/2012/5") } UNION { ?document ?p ?o } #',
    "x\" ) } } UNION { ?document ?p ?o . BIND(\"x\" AS ?symbol) } #",
    'x\\" ) } UNION { ?document ?p ?o } #',
    "x\\u0022 ) } UNION { ?document ?p ?o } #",
    "x''' ) } UNION { ?document ?p ?o } #",
    "x\n) } UNION { ?document ?p ?o } #",
]


@pytest.mark.parametrize("value", INJECTIONS)
def test_string_parameter_cannot_inject(oxigraph_server, pushed, value):
    args = ["query", "document-by-symbol", "-p", "symbol", value, "--format", "json"]
    remote = run(*args, "--endpoint", oxigraph_server + "/query")
    assert remote.exit_code == 0, remote.output
    assert _rows(remote.stdout) == [] == _rows(run(*args).stdout)


def test_parameters_are_substituted_as_escaped_terms():
    text = "SELECT ?symbol ?x WHERE { ?x ?p ?symbol }"
    bound = bind_values(text, {"symbol": ox.Literal('a"b\\c\nd')})
    assert bound == 'SELECT ?symbol ?x WHERE { ?x ?p "a\\"b\\\\c\\nd"  BIND("a\\"b\\\\c\\nd" AS ?symbol) }'
    assert sparql_term(ox.Literal("2012", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear"))) \
        == '"2012"^^<http://www.w3.org/2001/XMLSchema#gYear>'
    assert sparql_term(ox.Literal("x", language="ru")) == '"x"@ru'
    with pytest.raises(ValueError):
        sparql_term(ox.BlankNode("b"))
    # into the WHERE clause and into sub-SELECTs that project the parameter, not elsewhere
    nested = ("CONSTRUCT { ?e ?p ?o } WHERE { { SELECT ?e ?p ?o WHERE { ?e ?p ?o } } "
              "{ SELECT (COUNT(*) AS ?n) WHERE { ?e ?q ?r } } }")
    out = bind_values(nested, {"e": ox.NamedNode("http://x/e")})
    assert out == ("CONSTRUCT { ?e ?p ?o } WHERE { { SELECT ?e ?p ?o WHERE { <http://x/e> ?p ?o "
                   " BIND(<http://x/e> AS ?e) } } { SELECT (COUNT(*) AS ?n) WHERE { ?e ?q ?r } } }")
    # nested groups, FILTERs, BOUND; assignments, VALUES lists and solution modifiers are left alone
    text = ("SELECT ?lang WHERE { ?s ?p ?o OPTIONAL { ?s <l> ?l FILTER(LANG(?l) = ?lang && BOUND(?lang)) } "
            "{ SELECT ?lang (MIN(?x) AS ?m) WHERE { ?x <q> ?lang } GROUP BY ?lang } } ORDER BY ?lang")
    out = bind_values(text, {"lang": ox.Literal("en")})
    assert out == ('SELECT ?lang WHERE { ?s ?p ?o OPTIONAL { ?s <l> ?l FILTER(LANG(?l) = "en" && true) } '
                   '{ SELECT ?lang (MIN(?x) AS ?m) WHERE { ?x <q> "en"  BIND("en" AS ?lang) } GROUP BY ?lang } } '
                   'ORDER BY ?lang')
    # a variable's name inside a long string with an escaped quote is text, not the variable
    text = "SELECT ?x ?name WHERE { BIND('''a\\''' ?name ''' AS ?x) }"
    out = bind_values(text, {"name": ox.Literal("q")})
    assert out == "SELECT ?x ?name WHERE { BIND('''a\\''' ?name ''' AS ?x)  BIND(\"q\" AS ?name) }"


def test_connection_refused(kg):
    port = free_port()  # nothing listens there
    result = run("query", "wg-meetings", "--endpoint", f"http://127.0.0.1:{port}/query")
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "connection refused" in result.output
    push = run("push", "--endpoint", f"http://127.0.0.1:{port}/store")
    assert push.exit_code == 1 and "no graph was changed" in push.output
    assert push.output.strip().splitlines()[-1].startswith("Error:")
    assert "replaced <" not in push.output


def test_entry_point_error_is_one_line():
    port = free_port()
    proc = subprocess.run([sys.executable, "-c", "from untoc_kg.cli import main; main()", "query",
                           "wg-meetings", "--endpoint", f"http://127.0.0.1:{port}/query"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout == ""
    lines = [line for line in proc.stderr.strip().splitlines() if not line.endswith(" cache")]
    assert len(lines) == 1 and lines[0].startswith("Error: cannot connect"), proc.stderr


def test_bad_sparql_is_a_one_line_error(oxigraph_server):
    result = run("query", "--sparql", "SELECT ?s WHERE { ?s ?p }", "--endpoint", oxigraph_server + "/query")
    assert result.exit_code == 2
    assert result.output.startswith("Error:") and result.output.strip().count("\n") == 0
    assert "HTTP 400" in result.output


def test_not_a_sparql_endpoint(oxigraph_server):
    # the Graph Store endpoint does not take queries; a web page is not a results document
    result = run("query", "wg-meetings", "--endpoint", oxigraph_server + "/store")
    assert result.exit_code != 0 and result.output.startswith("Error:")
    page = run("query", "wg-meetings", "--endpoint", oxigraph_server + "/")
    assert page.exit_code != 0 and page.output.startswith("Error:")
    assert page.output.strip().count("\n") == 0


def test_timeout():
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        held = []
        t = threading.Thread(target=lambda: held.append(listener.accept()), daemon=True)
        t.start()
        result = run("query", "wg-meetings", "--endpoint", f"http://127.0.0.1:{port}/query",
                     "--timeout", "0.5")
        for conn, _ in held:
            conn.close()
    assert result.exit_code == 1
    assert "no answer from" in result.output and "0.5 s" in result.output


def test_option_checks(oxigraph_server):
    endpoint = oxigraph_server + "/query"
    assert run("query", "wg-meetings", "--user", "u").exit_code == 2  # without --endpoint
    both = run("query", "wg-meetings", "--endpoint", endpoint, "--user", "u", "--token", "t")
    assert both.exit_code == 2 and "not both" in both.output
    reasoning = run("query", "wg-meetings", "--endpoint", endpoint, "--reasoning")
    assert reasoning.exit_code == 2
    assert run("query", "wg-meetings", "--endpoint", "ftp://x/").exit_code != 0
    bad_param = run("query", "meetings-in-year", "-p", "year", "20x2", "--endpoint", endpoint)
    assert bad_param.exit_code == 2 and "year" in bad_param.output
