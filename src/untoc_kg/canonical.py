"""Canonical N-Quads of a dataset in bounded memory: blank nodes labelled by RDFC-1.0, lines sorted
(by their bytes, which is the order of their text) and without duplicates.

What the export writes and the push sends, so the same graph always gives the same bytes. The
quads come in as N-Quads text (or pyoxigraph quads, written as such at once) and are only ever
handled as lines. Lines without blank nodes are sorted in runs of at most ``RUN_LINES``; runs
beyond the first are spilled to temporary files and merged. The lines that mention a blank node
are kept in memory and relabelled by ``relabel``: RDFC-1.0 labels depend only on the quads that
mention blank nodes, so leaving the others out gives the labels the whole dataset would get. A
line that merely contains ``_:`` in a literal or an IRI joins them; relabelling leaves it as it
is. The order of the bytes is the order of the text (UTF-8), and the one pyoxigraph's quads have
when sorted by ``str``: a line is the quad's text and `` .\n``.
"""

from __future__ import annotations

import hashlib
import heapq
import io
import itertools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import pyoxigraph as ox

__all__ = ["CanonicalQuads", "RUN_LINES", "unique", "graph_of", "triple_line", "blank_nodes",
           "relabel", "LineReader"]

# About 200 bytes a line in memory (the bytes object and its slot): 400 MB a run.
RUN_LINES = 2_000_000


def unique(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Sorted lines without repeats."""
    last = None
    for line in lines:
        if line != last:
            yield line
            last = line


def graph_of(line: bytes) -> bytes:
    """The graph IRI of an N-Quads line of a named graph (its last term: `` <g> .``)."""
    return line[line.rindex(b" <") + 2:-4]


def triple_line(line: bytes) -> bytes:
    """The N-Triples line of an N-Quads line of a named graph (the graph dropped)."""
    return line[:line.rindex(b" <")] + b" .\n"


def blank_nodes(line: bytes) -> list[bytes]:
    """The blank nodes of an N-Quads or N-Triples line (graph names are IRIs here): its subject
    and its object when they are blank, each once."""
    s, _, rest = line.split(b" ", 2)
    nodes = [s] if s.startswith(b"_:") else []
    if rest.startswith(b"_:"):
        o = rest[:rest.index(b" ")]
        if o != s:
            nodes.append(o)
    return nodes


class CanonicalQuads:
    """Collects quads (all in named graphs), then gives their canonical lines once.

    Use as a context manager: it owns the temporary files of the spilled runs.

    >>> with CanonicalQuads() as cq:
    ...     cq.add(quads)
    ...     lines = list(cq.lines())
    """

    def __init__(self, *, tmpdir: str | os.PathLike | None = None):
        self._tmpdir = tmpdir
        self._dir: tempfile.TemporaryDirectory | None = None
        self._runs: list[Path] = []
        self._plain: list[bytes] = []
        self._blank: list[bytes] = []

    def __enter__(self) -> "CanonicalQuads":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
        self._runs, self._plain, self._blank = [], [], []

    def add(self, quads: Sequence[ox.Quad]) -> None:
        """Add a batch of quads (each in a named graph)."""
        if quads:
            self.add_nquads(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")

    def add_nquads(self, text: bytes) -> None:
        """Add N-Quads text (each line in a named graph), as pyoxigraph writes it."""
        plain, blank = self._plain, self._blank
        for line in text.splitlines(keepends=True):
            (blank if b"_:" in line else plain).append(line)
        if len(self._plain) >= RUN_LINES:
            self._spill(self._plain)
            self._plain = []

    def _spill(self, lines: list[bytes]) -> None:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="untoc-sort-", dir=self._tmpdir)
        path = Path(self._dir.name) / f"run{len(self._runs)}.nq"
        lines.sort()
        with open(path, "wb") as fh:
            fh.writelines(unique(lines))
        self._runs.append(path)

    def _merged_plain(self) -> Iterator[bytes]:
        self._plain.sort()
        if not self._runs:
            return unique(self._plain)
        files = [open(path, "rb") for path in self._runs]  # noqa: SIM115 - closed below

        def merged():
            try:
                yield from unique(heapq.merge(*files, self._plain))
            finally:
                for fh in files:
                    fh.close()

        return merged()

    def lines(self, describe: Callable[[Iterable[bytes]], Sequence[ox.Quad]] | None = None,
              ) -> Iterator[bytes]:
        """The canonical lines. ``describe`` is given every line once, before any is yielded
        (blank nodes not yet canonical), and returns more quads to add (a description of the
        dataset); their blank nodes are canonicalized with the others."""
        plain: Iterable[bytes] = self._merged_plain()
        again: Path | None = None
        if describe is not None:
            if self._runs:  # a second pass reads one merged file, not the runs again
                again = Path(self._dir.name) / "merged.nq"
                with open(again, "wb") as fh:
                    fh.writelines(plain)
            else:
                plain = list(plain)
        blank = list(unique(sorted(self._blank)))
        self._blank = []
        if describe is not None:
            def every_line():
                if again is None:
                    yield from plain
                else:
                    with open(again, "rb") as fh:
                        yield from fh
                yield from blank

            blank += _lines(describe(every_line()))
        canonical = relabel(blank)
        canonical.sort()
        if again is None:
            yield from unique(heapq.merge(plain, canonical))
            return
        with open(again, "rb") as fh:
            yield from unique(heapq.merge(fh, canonical))


def _lines(quads) -> list[bytes]:
    return (ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"").splitlines(keepends=True)


def _terms(line: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """Subject, predicate, object and the rest (`` <g> .\n``) of an N-Quads line of a named graph."""
    s, p, rest = line.split(b" ", 2)
    cut = rest.rindex(b" <")
    return s, p, rest[:cut], rest[cut:]


def relabel(lines: list[bytes]) -> list[bytes]:
    """Give the lines' blank nodes RDFC-1.0's canonical labels (``_:c14n0``, ...), in place; the
    labels pyoxigraph's ``Dataset.canonicalize`` gives (tests/test_canonical.py).

    Written here because building a pyoxigraph ``Dataset`` costs about 7 microseconds a quad:
    most of an export's time at 1M. Graph names are IRIs here (``CanonicalQuads`` holds named
    graphs), so only subjects and objects can be blank nodes. Each node keeps the numbers of
    the lines that mention it, not their terms: at 10M that is gigabytes less."""
    mentions: dict[bytes, list[int]] = {}
    for i, line in enumerate(lines):
        for node in blank_nodes(line):
            mentions.setdefault(node, []).append(i)
    if not mentions:
        return lines
    labels = _Canonicalizer(lines, mentions).labels()
    del mentions
    for i, line in enumerate(lines):
        s, p, o, g = _terms(line)
        lines[i] = b" ".join((labels.get(s, s), p, labels.get(o, o))) + g
    return lines


class _Issuer:
    """Identifiers issued in order, with a prefix (the algorithm's "identifier issuer")."""

    def __init__(self, prefix: bytes):
        self.prefix = prefix
        self.issued: dict[bytes, bytes] = {}

    def issue(self, node: bytes) -> bytes:
        if node not in self.issued:
            self.issued[node] = self.prefix + b"%d" % len(self.issued)
        return self.issued[node]

    def copy(self) -> "_Issuer":
        other = _Issuer(self.prefix)
        other.issued = dict(self.issued)
        return other


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).hexdigest().encode()


class _Canonicalizer:
    """RDFC-1.0 (W3C Recommendation, 2024), section 4.4 and the hashing algorithms it calls."""

    def __init__(self, lines: list[bytes], mentions: dict[bytes, list[int]]):
        self.lines = lines
        self.mentions = mentions
        self.canonical = _Issuer(b"c14n")
        self._first: dict[bytes, bytes] = {}

    def labels(self) -> dict[bytes, bytes]:
        by_hash: dict[bytes, list[bytes]] = {}
        for node in self.mentions:
            by_hash.setdefault(self.first_degree(node), []).append(node)
        shared = []
        for digest in sorted(by_hash):
            nodes = by_hash[digest]
            if len(nodes) == 1:
                self.canonical.issue(nodes[0])
            else:
                shared.append(nodes)
        for nodes in shared:
            paths = []
            for node in nodes:
                if node in self.canonical.issued:
                    continue
                issuer = _Issuer(b"b")
                issuer.issue(node)
                paths.append(self.n_degree(node, issuer))
            for _, issuer in sorted(paths, key=lambda result: result[0]):
                for node in issuer.issued:
                    self.canonical.issue(node)
        return {node: b"_:" + label for node, label in self.canonical.issued.items()}

    def quads(self, node: bytes) -> list[tuple[bytes, bytes, bytes, bytes]]:
        return [_terms(self.lines[i]) for i in self.mentions[node]]

    def first_degree(self, node: bytes) -> bytes:
        """Hash First Degree Quads: the node's quads, itself written _:a, other blank nodes _:z."""
        digest = self._first.get(node)
        if digest is None:
            lines = sorted(b" ".join(
                b"_:a" if t == node else b"_:z" if t.startswith(b"_:") else t for t in (s, p, o)) + g
                for s, p, o, g in self.quads(node))
            digest = self._first[node] = _sha256(b"".join(lines))
        return digest

    def related(self, node: bytes, predicate: bytes, issuer: _Issuer, position: bytes) -> bytes:
        """Hash Related Blank Node."""
        if node in self.canonical.issued:
            identifier = b"_:" + self.canonical.issued[node]
        elif node in issuer.issued:
            identifier = b"_:" + issuer.issued[node]
        else:
            identifier = self.first_degree(node)
        return _sha256(position + predicate + identifier)

    def n_degree(self, node: bytes, issuer: _Issuer) -> tuple[bytes, _Issuer]:
        """Hash N-Degree Quads: the hash of the node's surroundings, and the issuer it leaves."""
        related: dict[bytes, list[bytes]] = {}
        for s, p, o, _ in self.quads(node):
            for term, position in ((s, b"s"), (o, b"o")):
                if term != node and term.startswith(b"_:"):
                    digest = self.related(term, p, issuer, position)
                    related.setdefault(digest, []).append(term)
        data = b""
        for digest in sorted(related):
            data += digest
            chosen_path, chosen_issuer = b"", None
            for permutation in itertools.permutations(related[digest]):
                copy, path, recursion = issuer.copy(), b"", []
                for other in permutation:
                    if other in self.canonical.issued:
                        path += b"_:" + self.canonical.issued[other]
                    else:
                        if other not in copy.issued:
                            recursion.append(other)
                        path += b"_:" + copy.issue(other)
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        break
                else:
                    for other in recursion:
                        result, copy = self.n_degree(other, copy)
                        path += b"_:" + copy.issue(other) + b"<" + result + b">"
                        if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                            break
                    else:
                        if not chosen_path or path < chosen_path:
                            chosen_path, chosen_issuer = path, copy
            data += chosen_path
            issuer = chosen_issuer
        return _sha256(data), issuer


class LineReader(io.RawIOBase):
    """A binary file over an iterator of lines, for the parsers that read files."""

    def __init__(self, lines: Iterable[bytes], batch: int = 8192):
        super().__init__()
        self._lines = iter(lines)
        self._batch = batch
        self._buf = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._pos >= len(self._buf):
            self._buf = b"".join(itertools.islice(self._lines, self._batch))
            self._pos = 0
            if not self._buf:
                return 0
        n = min(len(b), len(self._buf) - self._pos)
        b[:n] = self._buf[self._pos:self._pos + n]
        self._pos += n
        return n
