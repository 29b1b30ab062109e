"""Finding and loading the graph: the ontology, the shapes and the instance data.

Two consumers with different needs: the query path wants a pyoxigraph store (fast, and cached on
disk keyed on the input files' content); validation and reasoning want an rdflib graph. rdflib is
imported lazily so the query path never pays for it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError
from .namespaces import BASE

__all__ = [
    "GRAPH_ONTOLOGY",
    "GRAPH_DATA",
    "GRAPH_SHAPES",
    "GraphSource",
    "RDF_FORMATS",
    "format_for_path",
    "read_quads",
    "read_rdflib",
    "open_store",
    "cached_store",
]

GRAPH_ONTOLOGY = BASE + "graph/ontology"
GRAPH_DATA = BASE + "graph/data"
GRAPH_SHAPES = BASE + "graph/shapes"

# Suffix → (pyoxigraph format, rdflib format name)
RDF_FORMATS: dict[str, tuple[ox.RdfFormat, str]] = {
    ".ttl": (ox.RdfFormat.TURTLE, "turtle"),
    ".nt": (ox.RdfFormat.N_TRIPLES, "nt"),
    ".nq": (ox.RdfFormat.N_QUADS, "nquads"),
    ".trig": (ox.RdfFormat.TRIG, "trig"),
    ".rdf": (ox.RdfFormat.RDF_XML, "xml"),
    ".owl": (ox.RdfFormat.RDF_XML, "xml"),
    ".xml": (ox.RdfFormat.RDF_XML, "xml"),
    ".jsonld": (ox.RdfFormat.JSON_LD, "json-ld"),
}


def _package_root() -> Path:
    """The directory holding ontology/, data/ and queries/.

    In a source checkout (and an editable install) that is the repository; a wheel carries a copy
    under ``untoc_kg/_graph``.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here.parent.parent, here / "_graph"):
        if (candidate / "ontology" / "untoc.ttl").is_file():
            return candidate
    raise InputError("cannot find the shipped graph (ontology/untoc.ttl) next to the package")


@dataclass(frozen=True)
class GraphSource:
    """Where the graph's files are. ``data_dir`` may point at another copy of the data."""

    root: Path
    data_dir: Path
    extra_files: tuple[Path, ...] = field(default=())

    @classmethod
    def default(cls, data_dir: str | os.PathLike | None = None) -> "GraphSource":
        root = _package_root()
        data = Path(data_dir) if data_dir is not None else root / "data"
        if not data.is_dir():
            raise InputError("not a directory", path=str(data))
        return cls(root=root, data_dir=data)

    @property
    def ontology_file(self) -> Path:
        return self.root / "ontology" / "untoc.ttl"

    @property
    def shapes_file(self) -> Path:
        return self.root / "ontology" / "untoc-shapes.ttl"

    @property
    def checks_dir(self) -> Path:
        return self.root / "ontology" / "checks"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def data_files(self) -> list[Path]:
        return sorted(self.data_dir.glob("*.ttl"))

    def with_extra(self, paths) -> "GraphSource":
        """The same graph plus some files (new entries being checked)."""
        return GraphSource(self.root, self.data_dir, tuple(Path(p) for p in paths))

    def graphs(self, shapes: bool = False) -> list[tuple[str, Path]]:
        """(named graph, file) pairs; data and extra files share the data graph."""
        pairs = [(GRAPH_ONTOLOGY, self.ontology_file)]
        pairs += [(GRAPH_DATA, p) for p in self.data_files]
        pairs += [(GRAPH_DATA, p) for p in self.extra_files]
        if shapes:
            pairs.append((GRAPH_SHAPES, self.shapes_file))
        return pairs

    def fingerprint(self) -> str:
        """A hash of every input file's name and content: the cache key."""
        h = hashlib.sha256()
        for graph, path in self.graphs(shapes=True):
            h.update(graph.encode() + b"\0" + path.name.encode() + b"\0")
            h.update(_read_bytes(path))
            h.update(b"\0")
        return h.hexdigest()[:32]


def format_for_path(path: str | os.PathLike) -> tuple[ox.RdfFormat, str]:
    suffix = Path(path).suffix.lower()
    try:
        return RDF_FORMATS[suffix]
    except KeyError:
        known = ", ".join(sorted(RDF_FORMATS))
        raise InputError(f"unknown RDF file type {suffix or '(none)'!r}; use one of {known}",
                         path=str(path)) from None


def _read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=str(path)) from None


def _syntax_error(path: Path, exc: Exception) -> InputError:
    message = str(exc)
    # pyoxigraph appends "(file, line N)" to its message; the position is reported separately.
    if message.endswith(")") and " (" in message:
        message = message[: message.rindex(" (")]
    message = re.sub(r"^Parser error (at|between) line \d+ column \d+( and line \d+ column \d+)?: ",
                     "", message)
    return InputError(message, path=str(path), line=getattr(exc, "lineno", None),
                      column=getattr(exc, "offset", None))


def read_quads(path: Path, graph: str | None = None) -> list[ox.Quad]:
    """Parse one file with pyoxigraph; a syntax error names the file, line and column."""
    fmt, _ = format_for_path(path)
    data = _read_bytes(path)
    try:
        quads = ox.parse(data, fmt, base_iri=Path(path).resolve().as_uri(), rename_blank_nodes=True)
        if graph is None:
            return list(quads)
        g = ox.NamedNode(graph)
        return [ox.Quad(q.subject, q.predicate, q.object, g) for q in quads]
    except SyntaxError as exc:
        raise _syntax_error(path, exc) from None
    except (ValueError, OSError) as exc:
        raise InputError(str(exc), path=str(path)) from None


def read_rdflib(paths, graph=None):
    """Parse files into one rdflib graph (a new one unless ``graph`` is given).

    Each file is first checked with pyoxigraph, whose errors carry line and column.
    """
    import rdflib

    g = rdflib.Graph() if graph is None else graph
    for path in paths:
        path = Path(path)
        read_quads(path)  # precise syntax errors before rdflib sees the file
        _, name = format_for_path(path)
        try:
            g.parse(data=_read_bytes(path), format=name, publicID=path.resolve().as_uri())
        except Exception as exc:  # rdflib raises many types for bad input
            raise InputError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                             path=str(path)) from None
    return g


def _cache_dir() -> Path:
    base = os.environ.get("UNTOC_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(xdg) / "untoc-kg"


def _fill(store: ox.Store, source: GraphSource) -> None:
    for graph, path in source.graphs(shapes=True):
        store.bulk_extend(read_quads(path, graph))  # bulk loading: several times faster than add()


def open_store(source: GraphSource, *, cache: bool = True, on_rebuild=None) -> ox.Store:
    """A pyoxigraph store holding ontology, data and shapes as three named graphs.

    With ``cache`` the store lives on disk under the cache directory, keyed on the content of every
    input file: it is built once (``on_rebuild`` is called with a reason) and reopened read-only
    afterwards. Queries should use ``use_default_graph_as_union=True``.
    """
    if not cache or source.extra_files:
        store = ox.Store()
        _fill(store, source)
        return store
    return cached_store("store", source.fingerprint(), lambda st: _fill(st, source), on_rebuild)


def cached_store(kind: str, key: str, fill, on_rebuild=None) -> ox.Store:
    """An on-disk store named ``kind``-``key`` in the cache, built by ``fill(store)`` when missing.

    It is built in a temporary directory and renamed into place, so concurrent processes never see
    a half-built store; older stores of the same kind are removed.
    """
    root = _cache_dir()
    target = root / f"{kind}-{key}"
    if (target / "COMPLETE").is_file():
        try:
            return ox.Store.read_only(str(target))
        except OSError:
            shutil.rmtree(target, ignore_errors=True)
    if on_rebuild:
        stale = root.is_dir() and any(root.glob(f"{kind}-*"))
        on_rebuild(f"{'the graph changed: rebuilding' if stale else 'building'} the {kind} cache")
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{kind}-", dir=root))
    except OSError:  # no writable cache: work in memory
        store = ox.Store()
        fill(store)
        return store
    try:
        store = ox.Store(str(tmp))
        fill(store)
        store.flush()
        del store
        (tmp / "COMPLETE").write_text(key)
        for old in root.glob(f"{kind}-*"):
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:  # another process finished first; use its copy
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ox.Store.read_only(str(target))
