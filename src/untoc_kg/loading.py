"""Finding and loading the graph: the ontology, the shapes and the instance data.

Two consumers with different needs: the query path wants a pyoxigraph store (fast, and cached on
disk keyed on the input files' content); validation and reasoning want an rdflib graph. rdflib is
imported lazily so the query path never pays for it.

Every RDF file the package reads goes through ``read_quads``, which is also where hostile input is
stopped, each refusal an ``InputError`` naming the file:

* files larger than ``max_input_bytes()`` (``$UNTOC_MAX_INPUT_BYTES``, default 256 MiB per file,
  far above the shipped data and the 1M-triple benchmark files) and anything but regular files;
* RDF/XML with a DOCTYPE (entity declarations: "billion laughs" expansion, external entities) or
  elements nested more than ``MAX_XML_DEPTH`` deep, and JSON nested more than ``MAX_JSON_DEPTH``
  deep (pyoxigraph's RDF/XML and JSON-LD parsers are quadratic in the depth; the JSON-LD one
  crashes the process at about 6,000 levels);
* blank nodes nested more than ``MAX_NESTING`` deep, however written (``[ [ ...`` property lists,
  collections, JSON-LD objects, chains of labelled blank nodes): the Turtle writer nests them;
* JSON-LD that needs a remote or file context (never fetched);
* RDF 1.2 triple terms and directional language strings, which the rest of the package (rdflib,
  the Turtle writer) cannot carry.

rdflib never parses a file itself: ``read_rdflib`` converts what pyoxigraph parsed, which keeps
rdflib's own traps (entity expansion, quadratic N-Triples literals, fetched JSON-LD contexts) out
of reach.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import logging
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError, UntocError
from .namespaces import BASE

__all__ = [
    "GRAPH_ONTOLOGY",
    "GRAPH_DATA",
    "GRAPH_SHAPES",
    "GraphSource",
    "RDF_FORMATS",
    "format_for_path",
    "max_input_bytes",
    "MAX_NESTING",
    "MAX_XML_DEPTH",
    "MAX_JSON_DEPTH",
    "read_input",
    "read_quads",
    "read_nquads",
    "check_quads",
    "fill_store",
    "read_rdflib",
    "open_store",
    "HeldStore",
    "cached_store",
    "store_info",
    "keep_store_info",
    "content_key",
    "cache_dir",
]

# rdflib logs a warning with a full traceback for each ill-typed literal ("x"^^xsd:integer) it
# builds, which Python prints on stderr when the application configured no logging. The shapes
# report such values; an application that configures logging still gets rdflib's messages.
logging.getLogger("rdflib").addHandler(logging.NullHandler())

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
        return content_key(self.file_digests())

    def file_digests(self) -> list[tuple[str, str, str]]:
        """(named graph, file name, SHA-256 of the content) of each input file, in order."""
        digests = _Digests()
        found = [(graph, path.name, digests.of(path)) for graph, path in self.graphs(shapes=True)]
        digests.save()
        return found


def content_key(file_digests: list[tuple[str, str, str]]) -> str:
    """``GraphSource.fingerprint`` of files with these digests."""
    h = hashlib.sha256()
    for graph, name, digest in file_digests:
        h.update(graph.encode() + b"\0" + name.encode() + b"\0" + digest.encode() + b"\0")
    return h.hexdigest()[:32]


class _Digests:
    """Content hashes of files, remembered in the cache with each file's size, inode, mtime and
    ctime, so that a warm command does not read 50 MB of data to find that nothing changed. Any
    write changes the ctime; a file changed less than two seconds before it was hashed is hashed
    again next time, in case the clock is too coarse to show a second change."""

    def __init__(self):
        import json

        self.path = cache_dir() / "file-digests.json"
        try:
            self.known = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.known = {}
        self.changed = False

    def of(self, path: Path) -> str:
        import time

        try:
            st = os.stat(path)
        except OSError as exc:
            raise InputError(exc.strerror or str(exc), path=str(path)) from None
        name = str(Path(path).resolve())
        state = [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]
        entry = self.known.get(name)
        if isinstance(entry, list) and entry[:4] == state:
            return entry[4]
        digest = hashlib.sha256(read_input(path)).hexdigest()
        if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > 2_000_000_000:
            self.known[name] = state + [digest]
            self.changed = True
        return digest

    def save(self) -> None:
        import json

        if not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".digests-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.known, fh)
            os.replace(tmp, self.path)
        except OSError:  # no writable cache: hash again next time
            pass


def format_for_path(path: str | os.PathLike) -> tuple[ox.RdfFormat, str]:
    suffix = Path(path).suffix.lower()
    try:
        return RDF_FORMATS[suffix]
    except KeyError:
        known = ", ".join(sorted(RDF_FORMATS))
        raise InputError(f"unknown RDF file type {suffix or '(none)'!r}; use one of {known}",
                         path=str(path)) from None


DEFAULT_MAX_INPUT_BYTES = 256 * 1024 * 1024
# Deeper than any real entry; below the depth where the recursive Turtle writer (about 330 levels)
# and pyoxigraph's RDF/XML parser (quadratic: 20,000 levels take 4 s) get into trouble.
MAX_NESTING = 128
MAX_XML_DEPTH = 2 * MAX_NESTING + 2  # a property element and a node element per level, rdf:RDF
MAX_JSON_DEPTH = 2 * MAX_NESTING + 2  # an object and an array per level, the top object


def max_input_bytes() -> int:
    """The largest RDF file read, in bytes: ``$UNTOC_MAX_INPUT_BYTES`` or 256 MiB."""
    raw = os.environ.get("UNTOC_MAX_INPUT_BYTES", "").strip()
    if not raw:
        return DEFAULT_MAX_INPUT_BYTES
    if not raw.isdigit() or int(raw) <= 0:
        raise InputError(f"UNTOC_MAX_INPUT_BYTES must be a positive whole number of bytes, not {raw!r}")
    return int(raw)


def read_input(path: Path) -> bytes:
    """The file's bytes, refusing what is not a regular file or is larger than the limit."""
    limit = max_input_bytes()
    try:
        # Non-blocking open: opening a FIFO would otherwise wait for a writer.
        with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):  # a FIFO would block, a device never end
                raise InputError("not a regular file", path=str(path))
            data = b"" if info.st_size > limit else fh.read(limit + 1)  # growing files stop too
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=str(path)) from None
    if info.st_size > limit or len(data) > limit:
        raise InputError(f"larger than the {limit:,}-byte limit for input files "
                         "(raise UNTOC_MAX_INPUT_BYTES to read it)", path=str(path))
    return data


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(message: str, limit: int = 300) -> str:
    """A parser message fit for one line: control characters shown escaped, length capped."""
    message = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", message)
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _syntax_error(path: Path, exc: Exception, line: int | None = None) -> InputError:
    message = str(exc)
    # pyoxigraph appends "(file, line N)" to its message; the position is reported separately.
    if message.endswith(")") and " (" in message:
        message = message[: message.rindex(" (")]
    message = re.sub(r"^Parser error (at|between) line \d+[^:]*: ", "", message)
    if "LoadDocumentCallback" in message:
        message = ("the JSON-LD @context refers to another document, which is never fetched: "
                   "give the context inline as a JSON object")
    if getattr(exc, "lineno", None) is not None:
        line = exc.lineno
    return InputError(_clean(message), path=str(path), line=line,
                      column=getattr(exc, "offset", None) if line == exc.lineno else None)


class _Refused(Exception):
    """Raised from inside the XML scan to stop it."""


def _check_xml(data: bytes, path: Path) -> None:
    """Refuse RDF/XML with a DOCTYPE or elements nested too deep, before pyoxigraph reads it.

    pyoxigraph expands internal entities (a 500-byte "billion laughs" file grows without bound),
    and is quadratic in the element depth; expat here only counts, with no entity ever expanded
    (the scan stops at the DOCTYPE).
    """
    import xml.parsers.expat

    parser = xml.parsers.expat.ParserCreate()
    depth = 0

    def doctype(*_):
        raise _Refused("RDF/XML with a DOCTYPE (entity declarations) is not accepted: "
                       "write the IRIs out in full instead of &entity; references")

    def start(*_):
        nonlocal depth
        depth += 1
        if depth > MAX_XML_DEPTH:
            raise _Refused(f"XML elements nested more than {MAX_XML_DEPTH} deep")

    def end(*_):
        nonlocal depth
        depth -= 1

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise InputError(str(exc), path=str(path), line=parser.CurrentLineNumber) from None
    except xml.parsers.expat.ExpatError as exc:
        raise InputError(_clean(xml.parsers.expat.ErrorString(exc.code)), path=str(path),
                         line=exc.lineno, column=exc.offset + 1) from None


def _check_json(data: bytes, path: Path) -> None:
    """Refuse JSON nested more than MAX_JSON_DEPTH deep before pyoxigraph reads it.

    pyoxigraph's JSON-LD parser is quadratic in the depth (3,000 levels: 4 s) and crashes the
    process at about 6,000. Python's decoder stops at its recursion limit with an exception.
    """
    import json

    text = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        doc = json.loads(text, parse_int=str, parse_float=str, parse_constant=str)
    except RecursionError:
        raise InputError(f"JSON nested more than {MAX_JSON_DEPTH} deep", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(_clean(exc.msg), path=str(path), line=exc.lineno, column=exc.colno) from None
    except ValueError as exc:  # not UTF-8/16/32
        raise InputError(_clean(str(exc)), path=str(path)) from None
    todo = [(doc, 1)]
    while todo:
        value, depth = todo.pop()
        if depth > MAX_JSON_DEPTH:
            raise InputError(f"JSON nested more than {MAX_JSON_DEPTH} deep", path=str(path))
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        todo.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def _check_terms(quads: Iterable[ox.Quad], path: Path) -> None:
    """Refuse what the package cannot carry, and blank nodes nested more than MAX_NESTING deep.

    Depth is counted the way the Turtle writer nests: a blank node referenced once is written
    inside its referrer (a list is a chain of them); one referenced several times is written on
    its own, so the count starts again there.
    """
    parent: dict[ox.BlankNode, ox.BlankNode | None] = {}
    shared: set[ox.BlankNode] = set()
    for q in quads:
        o = q.object
        kind = type(o)
        if kind is ox.BlankNode:
            if o in parent:
                shared.add(o)
            parent[o] = q.subject if type(q.subject) is ox.BlankNode else None
        elif kind is ox.Literal:
            if o.direction is not None:
                raise InputError(f"literal with a base direction ({o.language}--{o.direction}) is "
                                 "not supported: use a plain language tag", path=str(path))
        elif kind is ox.Triple:
            raise InputError("RDF 1.2 triple terms (<< ... >>, {| ... |}) are not supported: "
                             "use rdf:Statement reification", path=str(path))
    if not parent:
        return
    depth: dict[ox.BlankNode, int] = {}
    for node in parent:
        chain = []
        seen = set()
        while node is not None and node not in depth and node not in seen:
            seen.add(node)
            chain.append(node)
            node = None if node in shared else parent.get(node)
        base = depth.get(node, 0) if node is not None else 0
        for n in reversed(chain):
            base += 1
            depth[n] = base
            if base > MAX_NESTING:
                raise InputError(f"blank nodes nested more than {MAX_NESTING} deep (each item of "
                                 "an RDF list counts as a level): give the inner nodes IRIs",
                                 path=str(path))


class _Lines(io.RawIOBase):
    """Hands the parser one line per read, so the lines consumed at an error give its position."""

    def __init__(self, data: bytes):
        self._lines = data.splitlines(keepends=True)
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.consumed >= len(self._lines):
            return 0
        line = self._lines[self.consumed]
        n = min(len(buffer), len(line))
        buffer[:n] = line[:n]
        if n < len(line):
            self._lines[self.consumed] = line[n:]
        else:
            self.consumed += 1
        return n


def _error_line(data: bytes, fmt, base_iri: str) -> int | None:
    """The line of a syntax error pyoxigraph reports without a position (RDF/XML structure errors
    such as an invalid rdf:ID): the parse is repeated line by line up to the error."""
    reader = _Lines(data)
    try:
        for _ in ox.parse(reader, fmt, base_iri=base_iri):
            pass
    except SyntaxError:
        return max(reader.consumed, 1)
    except (ValueError, OSError):
        return None
    return None


@contextlib.contextmanager
def _no_gc_pauses():
    """Pauses the cyclic garbage collector: building a list of a million quads otherwise triggers
    hundreds of collections that walk every quad already in the list (about 40% of the parse time
    at 1M triples). Quads hold no Python references, so they can never form a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_quads(path: Path, graph: str | None = None, *, base_iri: str | None = None,
               data: bytes | None = None) -> list[ox.Quad]:
    """Parse one file with pyoxigraph; a syntax error names the file, line and column.

    Relative IRIs resolve against ``base_iri``, by default the file's own ``file:`` URI. Hostile
    input is refused with an ``InputError`` (see the module's documentation). ``data`` is the
    file's content when the caller has read it already (``read_input``), so that what is checked
    is exactly what the caller goes on to load.
    """
    with _parsing(path, data, base_iri) as quads:
        with _no_gc_pauses():
            if graph is None:
                out = list(quads)
            else:
                g = ox.NamedNode(graph)
                out = [ox.Quad(q.subject, q.predicate, q.object, g) for q in quads]
    _check_terms(out, path)
    return out


def read_nquads(path: Path, graph: str, *, data: bytes | None = None) -> bytes:
    """The file's quads as N-Quads text in ``graph``, checked as ``read_quads`` checks them
    (for the export, which sorts lines: no quad is rebuilt in Python to move it to its graph)."""
    if format_for_path(path)[0].supports_datasets:
        return ox.serialize(read_quads(path, graph, data=data), format=ox.RdfFormat.N_QUADS) or b""
    text = ox.serialize(read_quads(path, data=data), format=ox.RdfFormat.N_TRIPLES) or b""
    # a line break is always escaped inside a term, so " .\n" is only ever a line's end
    return text.replace(b" .\n", b" <" + graph.encode() + b"> .\n")


def check_quads(path: Path, *, base_iri: str | None = None, data: bytes | None = None) -> int:
    """``read_quads``'s checks without keeping the quads (for a caller that has the store parse
    the same bytes itself): the number of quads, or the error ``read_quads`` would raise."""
    counted = 0
    with _parsing(path, data, base_iri) as quads:
        def counting():
            nonlocal counted
            for quad in quads:
                counted += 1
                yield quad

        _check_terms(counting(), path)
    return counted


@contextlib.contextmanager
def _parsing(path: Path, data: bytes | None, base_iri: str | None):
    """The file's quads as pyoxigraph parses them, lazily; syntax errors (raised while they are
    read) become one-line ``InputError``s naming the file, line and column."""
    fmt, _ = format_for_path(path)
    if data is None:
        data = read_input(path)
    base = base_iri or Path(path).resolve().as_uri()
    if fmt == ox.RdfFormat.RDF_XML:
        _check_xml(data, path)
    elif fmt == ox.RdfFormat.JSON_LD:
        _check_json(data, path)
    try:
        yield ox.parse(data, fmt, base_iri=base, rename_blank_nodes=True)
    except SyntaxError as exc:
        line = None if getattr(exc, "lineno", None) is not None else _error_line(data, fmt, base)
        raise _syntax_error(path, exc, line) from None
    except (ValueError, OSError) as exc:
        raise InputError(_clean(str(exc)), path=str(path)) from None


def read_rdflib(paths, graph=None):
    """Files as one rdflib graph (a new one unless ``graph`` is given); named graphs are merged.

    pyoxigraph parses (errors carry line and column; hostile input is refused) and the terms are
    converted, so rdflib's parsers never see the file.
    """
    import rdflib

    from .querying import to_rdflib

    g = rdflib.Graph() if graph is None else graph
    for path in paths:
        g.addN((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object), g)
               for q in read_quads(Path(path)))
    return g


def cache_dir() -> Path:
    base = os.environ.get("UNTOC_CACHE_DIR")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(xdg) / "untoc-kg"


# Formats the store parses itself (after check_quads): one graph per file, nothing read_quads
# changes on the way. RDF/XML and JSON-LD go in as checked quads (their checks are on the bytes
# and the parse must not run twice), quad formats too (read_quads merges their named graphs).
_STRAIGHT = (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES)


def fill_store(store: ox.Store, graphs: Iterable[tuple[str, Path]], *, bulk: bool = False,
               on_file=None) -> int:
    """Load each ``(graph IRI, path)`` into its named graph of ``store``; the number of quads.

    Every file is read once and checked as ``read_quads`` checks it. Turtle and N-Triples are also
    parsed by the store's own loader from the same bytes, in a second thread while they are being
    checked: the loader runs in Rust without the GIL, so the two overlap and no term becomes a
    Python object. A file that fails its checks fails the whole fill, so the caller never keeps a
    store with unchecked content (its parser is the checks' own, so it meets nothing the checks
    did not). ``on_file(count)`` is called after each file with the running count (the closure's
    input budget), before that file is loaded; what it raises stops the loading. ``bulk`` is for
    a store on disk: Oxigraph's bulk loader writes sorted files straight into it, several times
    faster than a transaction there but not atomic (``cached_store`` builds in a directory it
    throws away on failure); in memory the transactional loader is faster and lighter.
    """
    import queue
    import threading

    parse_into, add = (store.bulk_load, store.bulk_extend) if bulk else (store.load, store.extend)
    jobs: queue.Queue = queue.Queue(maxsize=2)
    failed: list = []
    stop = threading.Event()  # a check failed: what is queued is not loaded

    def load():
        while (job := jobs.get()) is not None:
            graph, path, content = job
            if failed or stop.is_set():
                continue
            try:
                if isinstance(content, bytes):
                    # lenient: skips the validation of IRIs and language tags, which the checks
                    # of the same bytes make (the same quads otherwise: tests/security)
                    parse_into(content, format_for_path(path)[0], lenient=True,
                               base_iri=Path(path).resolve().as_uri(), to_graph=ox.NamedNode(graph))
                else:
                    add(content)
            except BaseException as exc:  # noqa: BLE001 - reported by the reading thread (a
                failed.append((path, exc))  # panic in the engine too, not lost with the thread)

    loader = threading.Thread(target=load, name="untoc-fill", daemon=True)
    loader.start()
    n = 0
    try:
        # Without a budget a file is loaded while it is checked, largest first: the loader's
        # last file, which nothing overlaps, is then a small one. With one, a file is loaded
        # once checked and counted, while the next is checked: smallest first, so that the
        # loader starts at once (0.3-0.5 s sooner at 1M triples).
        order = -1 if on_file is None else 1
        for graph, path in sorted(graphs, key=lambda gp: order * _size(gp[1])):
            path = Path(path)
            data = read_input(path)
            if format_for_path(path)[0] in _STRAIGHT:
                if on_file is None:  # no budget to keep: load while checking
                    jobs.put((graph, path, data))
                n += check_quads(path, data=data)
                content = None if on_file is None else data
            else:
                content = read_quads(path, graph, data=data)
                n += len(content)
            if on_file:
                on_file(n)
            if content is not None:
                jobs.put((graph, path, content))
            del content, data
            if failed:
                break
    except BaseException:
        stop.set()
        raise
    finally:
        jobs.put(None)
        loader.join()
    if failed:
        path, exc = failed[0]
        if isinstance(exc, (MemoryError, OSError)):  # the store's own trouble (e.g. a full disk)
            raise exc
        message = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, (SyntaxError, ValueError)):  # the checks passed it: should not happen
            raise InputError(message, path=str(path))
        raise UntocError(f"{path}: {message}")
    return n


def _size(path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:  # read_input reports it, naming the file
        return 0


def open_store(source: GraphSource, *, cache: bool = True, on_rebuild=None) -> ox.Store:
    """A pyoxigraph store holding ontology, data and shapes as three named graphs.

    With ``cache`` the store lives on disk under the cache directory, keyed on the content of every
    input file: it is built once (``on_rebuild`` is called with a reason) and reopened read-only
    afterwards. Queries should use ``use_default_graph_as_union=True``.
    """
    if not cache or source.extra_files:
        store = ox.Store()
        fill_store(store, source.graphs(shapes=True))
        return store
    key = source.fingerprint()
    root = cache_dir()
    # checked here too, so that a warm query imports nothing more
    if not (root / f"store-{key}" / "COMPLETE").is_file():
        from .carrying import carry_store

        carry_store(root, key, on_rebuild)  # after an add: the older store plus its additions
    return cached_store("store", key,
                        lambda st: fill_store(st, source.graphs(shapes=True), bulk=True),
                        on_rebuild, current=lambda: source.fingerprint() == key)


class HeldStore:
    """``open_store``'s store kept open between uses and reopened when the content of the files
    changes: for a long-running process (the server's pages, its query workers)."""

    def __init__(self, source: GraphSource, *, cache: bool = True, on_rebuild=None):
        self.source, self._cache, self._on_rebuild = source, cache, on_rebuild
        self._held: tuple[str, ox.Store] | None = None

    def get(self) -> ox.Store:
        now = self.source.fingerprint()
        if self._held is None or self._held[0] != now:
            self._held = (now, open_store(self.source, cache=self._cache,
                                          on_rebuild=self._on_rebuild))
        return self._held[1]


def cached_store(kind: str, key: str, fill, on_rebuild=None, current=None) -> ox.Store:
    """An on-disk store named ``kind``-``key`` in the cache, built by ``fill(store)`` when missing.

    It is built in a temporary directory and renamed into place, so concurrent processes never see
    a half-built store; older stores of the same kind are removed. Without a writable cache (no
    directory, a full disk, a file-size limit) the store is built in memory instead. A dict that
    ``fill`` returns is kept beside the store (``store_info``). ``current()``,
    asked after the build, says whether the files still have the content keyed ``key``: when they
    changed meanwhile (an add in another process), what was read may be some of each content, so
    it is not kept under either key, nor are the other stores removed (the add may have carried
    one forward); the store is built again in memory, from the files as they are now.
    """
    root = cache_dir()
    target = root / f"{kind}-{key}"
    if (target / "COMPLETE").is_file():
        try:
            return ox.Store.read_only(str(target))
        except (OSError, RuntimeError):  # damaged, or removed meanwhile (RocksDB: "corruption")
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
        # the disk cannot hold it, or the files changed while it was built: nothing of it is kept
        if not _build_on_disk(tmp, key, fill) or (current is not None and not current()):
            shutil.rmtree(tmp, ignore_errors=True)
            store = ox.Store()
            fill(store)
            return store
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


def _build_on_disk(directory: Path, key: str, fill) -> bool:
    """Build the store in ``directory`` and mark it complete; False if the disk refused (full,
    over a file-size limit). A dict ``fill`` returns is kept beside it (``store_info``)."""
    try:
        store = ox.Store(str(directory))
        try:
            info = fill(store)
            # Compacting once here makes every later read cheaper: at 1M triples, lookups and
            # scans of the reopened store were 3-4 times faster (1.3 s spent once, here).
            store.optimize()
            store.flush()
        finally:
            del store  # closed before its directory is kept or removed
        if isinstance(info, dict):
            keep_store_info(directory, info)
        (directory / "COMPLETE").write_text(key)
    except OSError:
        return False
    return True


_INFO = "INFO.json"


def store_info(directory: Path) -> dict | None:
    """What the ``fill`` of a cached store said of it (a dict it returned), or None."""
    import json

    try:
        info = json.loads((directory / _INFO).read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def keep_store_info(directory: Path, info: dict) -> None:
    """Keep ``info`` beside the store in ``directory`` (one not marked complete yet)."""
    import json

    (directory / _INFO).write_text(json.dumps(info))
