"""Shared fixtures: the graph is loaded once per test session."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest

from untoc_kg import KnowledgeGraph
from untoc_kg.namespaces import compact

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Keep the query cache of the test run out of the user's home."""
    mp = pytest.MonkeyPatch()
    mp.setenv("UNTOC_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def kg(_isolated_cache) -> KnowledgeGraph:
    return KnowledgeGraph()


@pytest.fixture(scope="session")
def graph(kg):
    """rdflib graph of the ontology and the shipped data."""
    return kg.rdflib_graph


def simplify(term) -> str:
    """A result term as a plain string: IRIs as CURIEs, literals as their lexical form."""
    if hasattr(term, "datatype") or hasattr(term, "language"):
        return term.value
    return compact(term.value)


@pytest.fixture(scope="session")
def run_query(kg):
    """run_query(name, **params) -> list of {variable: simplified value} for a saved query."""

    def run(name: str, **params):
        result = kg.query(name, {k: str(v) for k, v in params.items()})
        if result.kind == "ASK":
            return result.boolean
        if result.kind == "GRAPH":
            return result.triples
        return [{k: simplify(v) for k, v in row.items()} for row in result.rows]

    return run


@contextlib.contextmanager
def _served(service):
    from untoc_kg.serving import make_server

    server = make_server(service, "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        service.close()
        thread.join(5)


@pytest.fixture(scope="session")
def run_server():
    """``with run_server(Service(...)) as base:`` runs the service in this process on 127.0.0.1 (a free
    port) and stops it, workers included, on leaving the block."""
    return _served
