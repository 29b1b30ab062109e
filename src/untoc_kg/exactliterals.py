"""The graph's literals as written, for the few lookups that validating an entry needs.

A pyoxigraph store gives some literals back changed ("7"^^xsd:positiveInteger as 7^^xsd:integer,
language tags lower-cased), but the shapes check the datatypes and forms of an entity's values.
``neighbourhood`` therefore takes those literals from this index, one lookup per IRI subject.

It is an SQLite file in the cache, keyed on the content of the input files like the query store and
built the same way (in a temporary file renamed into place). SQLite rather than a second pyoxigraph
store because opening a RocksDB store costs about 12 ms whatever its size, most of the time an
entry's validation used to spend on this index; opening the file costs well under a millisecond.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

__all__ = ["ExactLiterals"]


class ExactLiterals:
    """Lookups by subject (and predicate) of the literals a store could alter, as written."""

    def __init__(self, connection: sqlite3.Connection):
        self._db = connection

    @classmethod
    def cached(cls, path: Path, quads) -> "ExactLiterals":
        """The index at ``path``, built from ``quads()`` (ontology and data, each in its named
        graph) when missing; in memory when the cache cannot be written."""
        if path.is_file():
            try:
                db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True,
                                     check_same_thread=False)
                db.execute("SELECT s, p, g, tag, value FROM exact LIMIT 1").fetchall()
                return cls(db)
            except sqlite3.Error:  # not an index of ours (a damaged file): built again
                path.unlink(missing_ok=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
            os.close(fd)
        except OSError:  # no writable cache
            return cls(_built(":memory:", quads()))
        try:
            _built(tmp, quads()).close()
            for old in path.parent.glob("literals-*"):
                if old.is_dir():  # the pyoxigraph store earlier versions kept here
                    shutil.rmtree(old, ignore_errors=True)
                elif old != path:
                    old.unlink(missing_ok=True)
            os.replace(tmp, path)
        except (OSError, sqlite3.Error):  # a full disk: nothing of the file is kept
            Path(tmp).unlink(missing_ok=True)
            return cls(_built(":memory:", quads()))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return cls.cached(path, quads)

    def originals(self, subject: ox.NamedNode, predicate: ox.NamedNode | None,
                  graphs: Iterable[ox.NamedNode]) -> list[tuple]:
        """(subject, predicate, literal) as written, for ``subject`` in any of ``graphs``."""
        wanted = {g.value for g in graphs}
        if predicate is None:
            rows = self._db.execute("SELECT p, g, tag, value FROM exact WHERE s = ?",
                                    (subject.value,))
        else:
            rows = self._db.execute("SELECT p, g, tag, value FROM exact WHERE s = ? AND p = ?",
                                    (subject.value, predicate.value))
        return [(subject, ox.NamedNode(p), _literal(tag, value))
                for p, g, tag, value in rows if g in wanted]


def _literal(tag: str, value: str) -> ox.Literal:
    if tag.startswith("@"):
        return ox.Literal(value, language=tag[1:])
    return ox.Literal(value, datatype=ox.NamedNode(tag))


def _built(target: str, quads) -> sqlite3.Connection:
    db = sqlite3.connect(target, check_same_thread=False)
    db.execute("PRAGMA journal_mode = OFF")  # a temporary file, renamed into place when complete
    db.execute("CREATE TABLE exact (s TEXT, p TEXT, g TEXT, tag TEXT, value TEXT)")
    db.executemany("INSERT INTO exact VALUES (?, ?, ?, ?, ?)", (
        (q.subject.value, q.predicate.value, q.graph_name.value,
         "@" + q.object.language if q.object.language else q.object.datatype.value,
         q.object.value) for q in quads))
    db.execute("CREATE INDEX exact_s_p ON exact (s, p)")
    db.commit()
    return db
