"""Pushing the graph to another triple store by the SPARQL 1.1 Graph Store HTTP Protocol.

``push`` replaces the ontology, data, shapes and VoID graphs of the store (a ``PUT ?graph=IRI`` of
N-Triples per graph, then ``POST``s of the rest when a graph has more than ``CHUNK_TRIPLES``
triples: one request of ten million made a store hold them all in one transaction), then counts the triples of each graph through the store's query endpoint and
checks them against what was sent. Every failure is a ``RemoteError`` with a one-line message that
says which graphs were already replaced.
"""

from __future__ import annotations

import re
import tempfile
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .canonical import CanonicalQuads, blank_nodes, graph_of, triple_line
from .errors import RemoteError
from .httpclient import Auth, HttpClient, check_url, display_url
from .namespaces import BASE
from .remote import RemoteEndpoint
from .sparqltext import sparql_term

__all__ = ["push", "PushedGraph", "default_query_endpoint", "DEFAULT_GRAPH_PREFIX", "CHUNK_TRIPLES"]

DEFAULT_GRAPH_PREFIX = BASE + "graph/"
# Triples per request: at 10M a single PUT of the data graph kept `oxigraph serve` busy for over
# 20 minutes, growing past 11 GB (docs/performance.md).
CHUNK_TRIPLES = 500_000


@dataclass(frozen=True)
class PushedGraph:
    """One graph pushed: its IRI on the store, the triples and bytes sent, the triples counted back."""

    graph: str
    triples: int
    bytes: int
    counted: int


def default_query_endpoint(store_url: str) -> str:
    """The query endpoint next to a Graph Store endpoint: Oxigraph's /store → /query
    (Fuseki's /ds/data → /ds/query)."""
    parts = urllib.parse.urlsplit(store_url)
    path = parts.path.rstrip("/")
    base = path.rsplit("/", 1)[0] if "/" in path else ""
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, base + "/query", "", ""))


def _graph_url(store_url: str, graph: str) -> str:
    sep = "&" if urllib.parse.urlsplit(store_url).query else "?"
    return store_url + sep + "graph=" + urllib.parse.quote(graph, safe="")


def push(source, store_url: str, *, query_url: str | None = None,
         graph_prefix: str = DEFAULT_GRAPH_PREFIX, auth: Auth | None = None, timeout: float = 60.0,
         on_progress=None) -> list[PushedGraph]:
    """Replace the ontology, data, shapes and VoID graphs on a Graph Store Protocol endpoint and
    check the triple count of each through the query endpoint. Returns what was pushed and counted."""
    from .export import GRAPH_VOID, canonical_lines
    from .loading import GRAPH_DATA, GRAPH_ONTOLOGY, GRAPH_SHAPES

    check_url(store_url, "the store endpoint")
    query_url = check_url(query_url or default_query_endpoint(store_url), "the query endpoint")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*", graph_prefix or ""):
        raise RemoteError(f"--graph-prefix must be an absolute IRI, not {graph_prefix!r}")
    progress = on_progress or (lambda message: None)
    http = HttpClient(auth, timeout)

    # One pass over the export's sorted lines writes each graph's N-Triples to its own file; then
    # one payload at a time is read and sent (its lines stay sorted and unique: canonical.py).
    with tempfile.TemporaryDirectory(prefix="untoc-push-") as tmp, CanonicalQuads() as cq:
        files: dict[bytes, tuple[Path, object]] = {}
        counts: dict[bytes, int] = {}
        try:
            for line in canonical_lines(cq, source):
                graph = graph_of(line)
                if graph not in files:
                    path = Path(tmp) / f"graph{len(files)}.nt"
                    files[graph] = (path, open(path, "wb"))  # noqa: SIM115 - closed below
                    counts[graph] = 0
                files[graph][1].write(triple_line(line))
                counts[graph] += 1
        finally:
            for _, fh in files.values():
                fh.close()
        plan = []
        order = [GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_SHAPES, GRAPH_VOID]
        for raw in sorted(files, key=lambda g: (order.index(g.decode()) if g.decode() in order
                                                else len(order), g)):
            graph = raw.decode()
            local = graph[len(DEFAULT_GRAPH_PREFIX):] if graph.startswith(DEFAULT_GRAPH_PREFIX) else graph
            target = graph_prefix + local if graph.startswith(DEFAULT_GRAPH_PREFIX) else graph
            plan.append((target, counts[raw], files[raw][0]))
        sizes = _send(http, store_url, plan, progress)

    endpoint = RemoteEndpoint(query_url, auth=auth, timeout=timeout)
    values = " ".join(sparql_term(ox.NamedNode(t)) for t, _, _ in plan)
    try:
        counted = endpoint.query("SELECT ?g (COUNT(*) AS ?n) WHERE { VALUES ?g { " + values + " } "
                                 "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    except RemoteError as exc:
        raise RemoteError(f"all graphs were sent but could not be verified: {exc}") from None
    found = {}
    for row in counted.rows:
        g, n = row.get("g"), row.get("n")
        try:
            found[g.value] = int(n.value)
        except (AttributeError, ValueError):
            raise RemoteError(f"{display_url(query_url)} sent an unreadable count for {g}") from None
    out = []
    wrong = []
    for (target, count, _), size in zip(plan, sizes):
        got = found.get(target, 0)
        if got != count:
            wrong.append(f"<{target}> holds {got} triples, {count} were sent")
        out.append(PushedGraph(target, count, size, got))
    if wrong:
        raise RemoteError("verification failed: " + "; ".join(wrong)
                          + " (is --query-endpoint the same store?)")
    return out


def _payloads(path: Path) -> Iterator[bytes]:
    """A graph's N-Triples file in payloads of about ``CHUNK_TRIPLES`` lines. A blank node label
    names one node only within one request, so the lines that share blank nodes (a component of
    them, as a reified statement's five lines) always go in the same payload."""
    chunk: list[bytes] = []
    blank: list[bytes] = []
    with open(path, "rb") as fh:
        for line in fh:
            (blank if b"_:" in line else chunk).append(line)
            if len(chunk) >= CHUNK_TRIPLES:
                yield b"".join(chunk)
                chunk = []
    for group in _components(blank):
        if chunk and len(chunk) + len(group) > CHUNK_TRIPLES:
            yield b"".join(chunk)
            chunk = []
        chunk += group
    if chunk:
        yield b"".join(chunk)


def _components(lines: list[bytes]) -> list[list[bytes]]:
    """The lines grouped by the connected components of their blank nodes (union-find)."""
    parent: dict[bytes, bytes] = {}

    def find(node: bytes) -> bytes:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    keys = []
    for line in lines:
        nodes = blank_nodes(line)
        if len(nodes) == 2:
            a, b = find(nodes[0]), find(nodes[1])
            if a != b:
                parent[a] = b
        keys.append(nodes[0] if nodes else None)
    groups: dict[bytes, list[bytes]] = {}
    alone = []
    for line, key in zip(lines, keys):
        if key is None:  # "_:" only inside a literal or an IRI
            alone.append([line])
        else:
            groups.setdefault(find(key), []).append(line)
    return [*groups.values(), *alone]


def _send(http: HttpClient, store_url: str, plan, progress) -> list[int]:
    """Each graph's file, in order: PUT its first payload (replacing the graph), POST the others
    (adding to it). The bytes sent per graph."""
    done: list[str] = []
    sizes = []
    headers = {"Content-Type": "application/n-triples"}
    for target, count, path in plan:
        sent = size = 0
        for i, payload in enumerate(_payloads(path) if count else [b""]):
            try:
                http.request("PUT" if i == 0 else "POST", _graph_url(store_url, target),
                             body=payload, headers=headers)
            except RemoteError as exc:
                if i:
                    raise RemoteError(f"push of <{target}> failed after {sent} of its {count} triples "
                                      f"(it holds those now): {exc}"
                                      + (f"; already replaced: {', '.join(done)}" if done else "")
                                      ) from None
                already = (f"; already replaced: {', '.join(done)}" if done else "; no graph was changed")
                raise RemoteError(f"push of <{target}> failed: {exc}{already}") from None
            sent += payload.count(b"\n")
            size += len(payload)
            if sent < count:
                progress(f"sent {sent} of {count} triples of <{target}>")
        done.append(f"<{target}>")
        sizes.append(size)
        progress(f"replaced <{target}>: {count} triples, {size} bytes")
    return sizes
