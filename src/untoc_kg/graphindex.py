"""The graph as written, indexed for the few lookups that checking and adding an entry make.

Validating an entry reads a few hundred triples around it (``neighbourhood``); adding one also asks
which of its triples the data already has, and which values the data already gives for properties
that allow one. Both read this index, an SQLite file in the cache keyed on the content of the input
files like the query store, rather than the query store itself:

- opening a RocksDB store costs about 13 ms whatever its size; opening this file well under one;
- a pyoxigraph store gives some literals back changed ("7"^^xsd:positiveInteger as 7^^xsd:integer,
  language tags lower-cased), but the shapes check the datatypes and forms of an entity's values,
  and an entry's triples are compared with the data's as written; this index keeps them as written.

Terms are stored once (nodes with positive ids, literals with negative ones) and quads as ids, with
one index by subject and one by predicate and object: about 55 MiB at a million triples. The file is
built in a temporary file renamed into place, so concurrent processes never see half of it; after
an add it is changed in one transaction and renamed to the new content's key (``carry``); a
damaged file is built again; without a writable cache the index is built in memory.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import pyoxigraph as ox

__all__ = ["GraphIndex"]

_FORMAT = 1  # PRAGMA user_version of the files this code writes; others are built again

_ROWS = """SELECT sn.key, pn.key, obn.key, lit.value, lit.tag FROM quad q
JOIN node sn ON sn.id = q.s JOIN node pn ON pn.id = q.p
LEFT JOIN node obn ON obn.id = q.o LEFT JOIN literal lit ON lit.id = -q.o"""


class GraphIndex:
    """Pattern lookups over the quads of the files, their literals as written."""

    def __init__(self, connection: sqlite3.Connection):
        self._db = connection
        self._ids: dict[str, int | None] = {}
        self._nodes: dict[str, ox.NamedNode | ox.BlankNode] = {}

    @classmethod
    def cached(cls, path: Path, quads, current=None) -> "GraphIndex":
        """The index at ``path``, built from ``quads()`` when missing or not ours; in memory when
        the cache cannot be written, or when ``current()``, asked after the build, says the files
        changed meanwhile (an add in another process: what was read may be some of each content,
        and the index the add carried forward must stay)."""
        if path.is_file():
            try:
                db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                     check_same_thread=False)
                if db.execute("PRAGMA user_version").fetchone()[0] == _FORMAT:
                    db.execute(_ROWS + " LIMIT 1").fetchall()
                    return cls(db)
                db.close()
            except sqlite3.Error:  # not an index of ours (a damaged file)
                pass
            path.unlink(missing_ok=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
            os.close(fd)
        except OSError:  # no writable cache
            return cls(_built(":memory:", quads()))
        try:
            _built(tmp, quads()).close()
            if current is not None and not current():
                Path(tmp).unlink(missing_ok=True)
                return cls(_built(":memory:", quads()))
            stem = path.name.split("-", 1)[0]
            for old in [*path.parent.glob(f"{stem}-*"), *path.parent.glob("literals-*")]:
                if old != path and old.is_file():  # older keys, and the index earlier versions kept
                    old.unlink(missing_ok=True)
            os.replace(tmp, path)
        except (OSError, sqlite3.Error):  # a full disk: nothing of the file is kept
            Path(tmp).unlink(missing_ok=True)
            return cls(_built(":memory:", quads()))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return cls.cached(path, quads)

    @staticmethod
    def carry(old: Path, new: Path, quads) -> bool:
        """Move the index at ``old`` to ``new``, adding ``quads`` (what an add wrote to the
        files), so the next entry does not build it again. False, with ``old`` unchanged, when
        there is none or it cannot be changed.

        The file is changed in place, in one transaction, then renamed: no copy (60 MiB at a
        million triples). Readers take SQLite's shared lock, so a reader that opened it under
        the old key (content the files no longer have) sees it before or after, never between.
        """
        if not old.is_file():
            return False
        try:
            db = sqlite3.connect(old, timeout=2)  # waits for a reader to finish its statement
            try:
                if db.execute("PRAGMA user_version").fetchone()[0] != _FORMAT:
                    return False
                db.execute("PRAGMA synchronous = OFF")  # as when built: a cache, not the record
                db.execute("BEGIN IMMEDIATE")
                _insert(db, quads, fresh=False)
                db.commit()
            finally:
                db.close()
            os.replace(old, new)
        except (OSError, sqlite3.Error):  # rolled back: the next entry builds the new one
            return False
        return True

    def match(self, s=None, p=None, o=None, graph: ox.NamedNode | None = None) -> list[tuple]:
        """(subject, predicate, object) triples matching the pattern (None matches anything), in
        any graph of the index or only in ``graph``; a triple in two graphs comes once."""
        where, args = [], []
        for column, term in (("s", s), ("p", p), ("g", graph),
                             ("o", None if isinstance(o, ox.Literal) else o)):
            if term is not None:
                found = None if isinstance(term, ox.Literal) else self._id(term)
                if found is None:
                    return []
                where.append(f"q.{column} = ?")
                args.append(found)
        sql = _ROWS + (" WHERE " + " AND ".join(where) if where else "")
        triples = {(self._node(sk), self._node(pk), self._object(ok, value, tag))
                   for sk, pk, ok, value, tag in self._db.execute(sql, args)}
        if isinstance(o, ox.Literal):  # literals are not indexed: few lookups give one
            return [t for t in triples if t[2] == o]
        return list(triples)

    def _id(self, term) -> int | None:
        key = _key(term)
        if key not in self._ids:
            row = self._db.execute("SELECT id FROM node WHERE key = ?", (key,)).fetchone()
            self._ids[key] = row[0] if row else None
        return self._ids[key]

    def _node(self, key: str):
        term = self._nodes.get(key)
        if term is None:
            term = self._nodes[key] = (ox.BlankNode(key[2:]) if key.startswith("_:")
                                       else ox.NamedNode(key))
        return term

    def _object(self, key, value, tag):
        if key is not None:
            return self._node(key)
        if tag.startswith("@"):
            return ox.Literal(value, language=tag[1:])
        return ox.Literal(value, datatype=ox.NamedNode(tag))


def _key(term) -> str:
    """A node's key: its IRI, or ``_:`` and its label (no IRI starts so: it needs a scheme)."""
    return "_:" + term.value if isinstance(term, ox.BlankNode) else term.value


def _built(target: str, quads) -> sqlite3.Connection:
    db = sqlite3.connect(target, check_same_thread=False)
    db.execute("PRAGMA journal_mode = OFF")  # a temporary file, renamed into place when complete
    db.execute("PRAGMA synchronous = OFF")
    db.executescript("""
        CREATE TABLE node (id INTEGER PRIMARY KEY, key TEXT NOT NULL);
        CREATE TABLE literal (id INTEGER PRIMARY KEY, value TEXT NOT NULL, tag TEXT NOT NULL);
        CREATE TABLE quad (s INTEGER, p INTEGER, o INTEGER, g INTEGER,
                           PRIMARY KEY (s, p, o, g)) WITHOUT ROWID;
    """)
    _insert(db, quads, fresh=True)
    # Indexes after the rows: building them once is faster than keeping them up to date.
    db.execute("CREATE UNIQUE INDEX node_key ON node (key)")
    db.execute("CREATE INDEX quad_po ON quad (p, o)")
    db.execute(f"PRAGMA user_version = {_FORMAT}")
    db.commit()
    return db


def _insert(db: sqlite3.Connection, quads, *, fresh: bool) -> None:
    """Add ``quads`` to the tables; in a ``fresh`` (empty) index no node needs looking up."""
    nodes: dict[str, int] = {}
    literals: dict[tuple[str, str], int] = {}
    first_node = 1 + db.execute("SELECT coalesce(max(id), 0) FROM node").fetchone()[0]
    first_literal = 1 + db.execute("SELECT coalesce(max(id), 0) FROM literal").fetchone()[0]
    new_nodes: list[tuple[int, str]] = []

    def node(term) -> int:
        key = _key(term)
        found = nodes.get(key)
        if found is None:
            row = None if fresh else db.execute("SELECT id FROM node WHERE key = ?", (key,)).fetchone()
            if row is None:
                found = first_node + len(new_nodes)
                new_nodes.append((found, key))
            else:
                found = row[0]
            nodes[key] = found
        return found

    def rows():
        for q in quads:
            o = q.object
            if isinstance(o, ox.Literal):
                written = (o.value, "@" + o.language if o.language else o.datatype.value)
                oid = literals.get(written)
                if oid is None:
                    oid = literals[written] = -(first_literal + len(literals))
            else:
                oid = node(o)
            yield node(q.subject), node(q.predicate), oid, node(q.graph_name)

    db.executemany("INSERT OR IGNORE INTO quad VALUES (?, ?, ?, ?)", rows())
    db.executemany("INSERT INTO node VALUES (?, ?)", new_nodes)
    db.executemany("INSERT INTO literal VALUES (?, ?, ?)", ((-i, v, t) for (v, t), i in literals.items()))
