"""Adding new entries to the data: validate, refuse conflicts, then write all files or none.

Writing is all-or-nothing across files: every changed file is first written in full to a staging
directory inside ``data/``; a ``COMMIT`` marker (written and synced last) makes the change count; then
the staged files are renamed over the old ones. A crash before the marker leaves ``data/`` as it
was (the staging directory is discarded); a crash after it is finished by ``recover()``, which every
reader and writer calls first. An exclusive lock makes concurrent ``add``s take turns, each one
validating against what the previous one wrote; recovery also runs only under that lock, so a reader
never mistakes the staging directory of a live ``add`` for a crash's leftovers.

``UNTOC_FAULT_POINT`` is a test hook (benchmarks/killtrials.py, tests/security/test_add_faults.py):
naming one of ``FAULT_POINTS`` makes the process SIGKILL itself there, to prove every crash point
leaves ``data/`` either as it was or as the finished ``add`` leaves it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import ConflictError, InputError, NotConformingError, UntocError
from .loading import (GRAPH_DATA, GRAPH_ONTOLOGY, GraphSource, cache_dir, content_key, read_input,
                      read_quads)
from .namespaces import PREFIXES, compact
from .turtle import write_turtle

__all__ = ["Change", "plan_add", "add", "recover", "data_lock", "target_file", "canonical_text",
           "format_files", "stale_files"]

STAGING = ".untoc-staging"
LOCK = ".untoc.lock"
LOCK_TIMEOUT = 60.0  # seconds an add waits for another one to finish
# Where UNTOC_FAULT_POINT can kill an add, in the order it passes them ("-file" ones: after the first).
FAULT_POINTS = ("locked", "staging-dir", "staged-file", "commit-tmp", "committed", "renamed-file",
                "renamed-all", "cleaned")
RDF_SUBJECT = "http://www.w3.org/1999/02/22-rdf-syntax-ns#subject"
OWL_FUNCTIONAL = "http://www.w3.org/2002/07/owl#FunctionalProperty"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

# Which data file holds entities of each namespace.
ROUTES = {
    "body": "bodies.ttl", "actor": "bodies.ttl",
    "session": "meetings.ttl", "meeting": "meetings.ttl", "event": "meetings.ttl",
    "decision": "mandates.ttl", "resolution": "mandates.ttl", "action": "mandates.ttl",
    "instrument": "instruments.ttl", "rec": "recommendations.ttl",
    "finding": "findings.ttl", "fact": "findings.ttl", "method": "findings.ttl",
    "doc": "documents.ttl", "para": "source.ttl", "place": "places.ttl",
    "topic": "concepts.ttl", "kind": "concepts.ttl",
}
FALLBACK = "additions.ttl"


def target_file(iri: str) -> str:
    """The data file an entity with this IRI belongs in."""
    name = compact(iri)
    prefix = name.split(":", 1)[0] if name != iri else ""
    return ROUTES.get(prefix, FALLBACK)


def _fault(point: str) -> None:
    # Test-only crash injection; one environment lookup costs nothing next to the writes around it.
    if os.environ.get("UNTOC_FAULT_POINT") == point:
        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def data_lock(data_dir: Path, timeout: float | None = None):
    """Exclusive lock on the data directory, waiting up to ``timeout`` seconds (``LOCK_TIMEOUT``).

    The lock is an ``flock`` on ``data/.untoc.lock``: the kernel drops it when its holder dies, so a
    killed ``add`` never leaves a stale lock behind.
    """
    path = Path(data_dir) / LOCK
    try:
        handle = open(path, "a+")
    except OSError as exc:
        raise UntocError(f"cannot write to {data_dir}: {exc.strerror or exc}; "
                         "nothing was changed") from None
    deadline = time.monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise UntocError(f"another 'untoc add' is still writing {data_dir}; "
                                     "try again when it has finished") from None
                time.sleep(0.05)
        yield
    finally:
        handle.close()


def recover(data_dir: Path) -> None:
    """Finish a committed change or discard an uncommitted one left by a crash.

    Does nothing while another process holds the lock: that ``add`` is alive and finishes its own
    change (if it dies, the kernel releases the lock and the next command recovers).
    """
    if not (Path(data_dir) / STAGING).is_dir():
        return
    try:
        with data_lock(data_dir, timeout=0):
            _recover(Path(data_dir))
    except UntocError:
        pass


def _recover(data_dir: Path) -> None:
    """``recover`` for a caller holding the lock."""
    staging = data_dir / STAGING
    if not staging.is_dir():
        return
    if (staging / "COMMIT").is_file():
        for name in (staging / "COMMIT").read_text().split():
            src = staging / name
            if src.is_file():
                os.replace(src, data_dir / name)
                _fault("renamed-file")
        _fsync_dir(data_dir)
        _fault("renamed-all")
    shutil.rmtree(staging, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Change:
    """What an add would do: for each data file, the triples it gains."""

    added: dict[str, list[ox.Triple]] = field(default_factory=dict)
    contents: dict[str, str] = field(default_factory=dict)  # file name → new full text
    read: dict[str, str] = field(default_factory=dict)  # file name → SHA-256 of the text it had

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.added.values())

    def summary(self) -> str:
        if not self.count:
            return "nothing to add: every triple is already in the graph\n"
        lines = [f"{name}: +{len(triples)} triple(s)" for name, triples in sorted(self.added.items())]
        return "\n".join(lines) + "\n"

    def diff(self) -> str:
        out = []
        for name, triples in sorted(self.added.items()):
            out.append(f"--- {name}")
            out.extend("+ " + line for line in write_turtle(triples).splitlines() if line.strip()
                       and not line.startswith("@prefix"))
        return "\n".join(out) + "\n"


def _leading_comments(path: Path) -> str:
    """The comment block a file starts with (kept when the file is rewritten)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    head = []
    for line in lines:
        if line.startswith("#"):
            head.append(line)
        elif line.strip() or not head:
            break
    return "\n".join(head) + "\n\n" if head else ""


def canonical_text(path: Path, triples) -> str:
    """The file's text in the canonical layout: its leading comments, then sorted Turtle."""
    return _leading_comments(path) + write_turtle(triples, PREFIXES)


def _reformatted(paths):
    """(path, canonical text) for each file whose text differs from its canonical layout."""
    for path in map(Path, paths):
        text = canonical_text(path, _triples(read_quads(path)))
        if text != path.read_text(encoding="utf-8"):
            yield path, text


def stale_files(paths) -> list[Path]:
    """The files whose text differs from their canonical layout."""
    return [path for path, _ in _reformatted(paths)]


def format_files(paths) -> list[Path]:
    """Rewrite Turtle files in the canonical layout (atomically); returns the files that changed."""
    changed = []
    by_dir: dict[Path, list[Path]] = {}
    for path in map(Path, paths):
        by_dir.setdefault(path.parent, []).append(path)
    for directory, group in by_dir.items():
        # Under the add lock: an add landing between reading and replacing a file would be lost.
        with data_lock(directory):
            for path, text in list(_reformatted(group)):
                tmp = path.with_name(f".{path.name}.tmp")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, path)
                changed.append(path)
    return changed


def _triples(quads) -> set[ox.Triple]:
    return {ox.Triple(q.subject, q.predicate, q.object) for q in quads}


def _route(triples: set[ox.Triple]) -> dict[str, list[ox.Triple]]:
    """Group new triples by target file; blank nodes follow the entity they hang from."""
    owner: dict[object, str] = {}
    for t in triples:
        if isinstance(t.subject, ox.NamedNode):
            owner[t.subject] = target_file(t.subject.value)
    changed = True
    while changed:  # blank nodes: reified statements follow rdf:subject; others their referrer
        changed = False
        for t in triples:
            if isinstance(t.subject, ox.BlankNode) and t.subject not in owner:
                if t.predicate.value == RDF_SUBJECT and t.object in owner:
                    owner[t.subject] = owner[t.object]
                    changed = True
            if isinstance(t.object, ox.BlankNode) and t.object not in owner and t.subject in owner:
                owner[t.object] = owner[t.subject]
                changed = True
    routed: dict[str, list[ox.Triple]] = {}
    for t in triples:
        routed.setdefault(owner.get(t.subject, FALLBACK), []).append(t)
    return routed


def _conflicts(index, new: set[ox.Triple]) -> list[str]:
    """New values for properties that allow one value, where the data already has another."""
    functional = {s for s, _, _ in index.match(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(OWL_FUNCTIONAL),
                                               graph=ox.NamedNode(GRAPH_ONTOLOGY))}
    problems = []
    for t in sorted(new, key=str):
        if t.predicate not in functional:
            continue
        old = {o for _, _, o in index.match(t.subject, t.predicate, graph=ox.NamedNode(GRAPH_DATA))}
        if old and t.object not in old:
            was = ", ".join(sorted(str(o) for o in old))
            problems.append(f"{compact(t.subject.value)} already has {compact(t.predicate.value)} "
                            f"{was}; the new entry gives {t.object}: remove one of the two values")
    return problems


def plan_add(source: GraphSource, files) -> Change:
    """Check new entry files and work out what adding them changes (writes nothing).

    What the data already holds is looked up in the graph's index (``validation.graph_index``),
    so only the files that change are read in full.
    """
    from .validation import graph_index, validate

    files = [Path(f) for f in files]
    if not files:
        raise InputError("no files to add")
    new: set[ox.Triple] = set()
    for path in files:
        new |= _triples(read_quads(path))
    index = graph_index(GraphSource(source.root, source.data_dir))
    data = ox.NamedNode(GRAPH_DATA)
    new = {t for t in new if not index.match(t.subject, t.predicate, t.object, graph=data)}

    problems = _conflicts(index, new)
    if problems:
        raise ConflictError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1
                                           else ""))
    report = validate(source.with_extra(files), index=index)
    if not report.conforms:
        first = next(i for i in report.issues if i.severity == "Violation")
        where = f" ({first.where()})" if first.where() else ""
        raise NotConformingError(
            f"{first.focus}{where}: {first.message} "
            f"[{report.counts()['Violation']} violation(s); 'untoc validate' shows all]", report)

    change = Change()
    data_files = {p.name: p for p in source.data_files}
    for name, triples in sorted(_route(new).items()):
        change.added[name] = triples
        existing = set()
        if name in data_files:
            raw = read_input(data_files[name])
            change.read[name] = hashlib.sha256(raw).hexdigest()
            existing = _triples(read_quads(data_files[name], data=raw))
        change.contents[name] = canonical_text(source.data_dir / name, existing | set(triples))
    return change


def add(source: GraphSource, files, *, dry_run: bool = False) -> Change:
    """Validate and merge new entries into ``data/``: all files change, or none do."""
    data_dir = source.data_dir
    with data_lock(data_dir):
        _fault("locked")
        try:
            _recover(data_dir)
        except OSError as exc:
            raise UntocError(f"cannot finish an interrupted add in {data_dir}: "
                             f"{exc.strerror or exc}; nothing was changed") from None
        before = GraphSource(source.root, data_dir).file_digests()
        change = plan_add(source, files)
        if dry_run or not change.count:
            return change
        staging = data_dir / STAGING
        shutil.rmtree(staging, ignore_errors=True)
        try:
            staging.mkdir()
            _fault("staging-dir")
            for name, text in change.contents.items():
                with open(staging / name, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
                _fault("staged-file")
            commit = staging / "COMMIT.tmp"
            commit.write_text("\n".join(sorted(change.contents)) + "\n")
            with open(commit) as fh:
                os.fsync(fh.fileno())
            _fault("commit-tmp")
            os.replace(commit, staging / "COMMIT")
            _fsync_dir(staging)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise UntocError(f"cannot write to {data_dir}: {exc.strerror or exc}; "
                             "nothing was changed") from None
        _fault("committed")
        try:
            _recover(data_dir)
        except OSError as exc:  # committed: the next command that can write finishes the renames
            raise UntocError(f"the change is committed but not yet in place in {data_dir} "
                             f"({exc.strerror or exc}); the next untoc command completes it") from None
        _fault("cleaned")
        _carry_caches(before, GraphSource(source.root, data_dir).file_digests(), change)
    return change


def _carry_caches(before: list, after: list, change: Change) -> None:
    """The caches of the content before the add (``file_digests``), brought up to the content
    after it: the index for the next entry now, the query store at the next query (from a record
    of the additions). Only when the files are exactly what the add made of the ones it started
    from: a file edited meanwhile by anything else leaves the caches to be built from the files."""
    from .carrying import record_addition
    from .validation import carry_graph_index

    expected = {(g, n): d for g, n, d in before}
    if any(expected.get((GRAPH_DATA, n)) != d for n, d in change.read.items()):
        return
    for name, text in change.contents.items():
        expected[(GRAPH_DATA, name)] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if expected != {(g, n): d for g, n, d in after}:
        return
    data = ox.NamedNode(GRAPH_DATA)
    added = [ox.Quad(t.subject, t.predicate, t.object, data)
             for triples in change.added.values() for t in triples]
    old, new = content_key(before), content_key(after)
    carry_graph_index(old, new, added)
    record_addition(cache_dir(), old, new, added)
