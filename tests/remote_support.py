"""Helpers shared by the tests against real triple stores (Oxigraph server, Virtuoso)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from pathlib import Path

import pytest

from click.testing import CliRunner

from untoc_kg.cli import cli
from untoc_kg.export import dataset_quads


def run(*args):
    """The CLI in-process; a traceback in its output is a failure whatever the exit code."""
    result = CliRunner().invoke(cli, list(args), obj={}, catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_counts(kg) -> dict[str, int]:
    """Triples per named graph, as `untoc push` sends them."""
    by_graph: dict[str, set] = {}
    for q in dataset_quads(kg.source):
        by_graph.setdefault(q.graph_name.value, set()).add((q.subject, q.predicate, q.object))
    return {g: len(t) for g, t in by_graph.items()}


def example_params(query) -> list[str]:
    """`-p NAME VALUE` arguments with the examples from a saved query's header."""
    args = []
    for p in query.params:
        if p.example:
            args += ["-p", p.name, p.example]
    return args


def stop(proc: subprocess.Popen, grace: float) -> None:
    """Terminate a server the tests started; kill it if it is still there after ``grace`` s."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def started(cmd: list[str], log: Path, answers, *, what: str, within: float, grace: float,
            cwd=None):
    """Start a server the tests need, wait until ``answers()`` is true (failing the test if it
    exits or is silent for ``within`` s), and stop it on leaving the block (``stop`` with
    ``grace``); its output goes to ``log``."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + within
            while not answers():
                if proc.poll() is not None:
                    pytest.fail(f"{what} exited with {proc.returncode}: "
                                + log.read_text(errors="replace")[-500:])
                if time.monotonic() > deadline:
                    pytest.fail(f"{what} did not answer within {within:g} s")
                time.sleep(0.1)
            yield
        finally:
            stop(proc, grace)


def json_term(term: dict, literal) -> str:
    """A W3C JSON results term as one comparable string: blank nodes anonymous (labels differ per
    store), IRIs in <>, language tags lower-cased; ``literal(value, datatype)`` writes the other
    literals (a missing datatype is xsd:string)."""
    if term["type"] == "bnode":
        return "_:"
    if term["type"] == "uri":
        return f"<{term['value']}>"
    if "xml:lang" in term:
        return f"{term['value']!r}@{term['xml:lang'].lower()}"
    return literal(term["value"], term.get("datatype", "http://www.w3.org/2001/XMLSchema#string"))
