"""Carrying the on-disk query store forward after ``untoc add``, instead of building it again.

An add changes the data files, so their fingerprint, so the key of the cached store: the next query
would load every file again (about 10 s at a million triples). But the add knows exactly what
changed: triples added to the data graph. It records them in the cache (``record_addition``) as
``added-<before>-<after>.nq``; the next ``open_store`` for ``<after>`` that finds no store of its
own follows those records back to a store that exists (several adds may have run between two
queries), copies it, the copy's files being hard links to the old ones, and adds the recorded
triples (``carry_store``): tens of milliseconds at that size.

Only an add writes records, and only for the data it wrote; any other change (an edited file, a
changed shape) leaves no record from the store that exists, and the store is built from the files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pyoxigraph as ox

__all__ = ["record_addition", "carry_store"]

_CHAIN = 1000  # records followed back at most (each add is one)


def record_addition(root: Path, before: str, after: str, quads) -> None:
    """Note in the cache ``root`` that the content keyed ``after`` is the one keyed ``before``
    plus ``quads``; best effort: without it the next query builds its store from the files.

    Records that cannot lead to a store any more are removed: with no store for ``before`` and
    no records from one, none can be made (the content keyed ``before`` is gone), so nothing is
    written either."""
    keep: set[Path] = set()
    if not (root / f"store-{before}" / "COMPLETE").is_file():
        found = _records_to(root, before)
        keep = set(found[1]) if found else set()
        if not found:
            before = None
    for record in root.glob("added-*.nq"):
        if record not in keep:
            record.unlink(missing_ok=True)
    if before is None:
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".added-", dir=root)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(ox.serialize(list(quads), format=ox.RdfFormat.N_QUADS) or b"")
        os.replace(tmp, root / f"added-{before}-{after}.nq")
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def _records_to(root: Path, key: str) -> tuple[Path, list[Path]] | None:
    """The existing store the records lead back from ``key`` to, and the records in the order
    they were written; None when they lead to no store."""
    chain: list[Path] = []
    while len(chain) < _CHAIN:
        found = sorted(root.glob(f"added-*-{key}.nq"))
        if len(found) != 1:  # none, or two adds from different contents: build from the files
            return None
        chain.append(found[0])
        key = found[0].name[len("added-"):-len(f"-{key}.nq")]
        if (root / f"store-{key}" / "COMPLETE").is_file():
            return root / f"store-{key}", chain[::-1]
    return None


def carry_store(root: Path, key: str, on_rebuild=None) -> bool:
    """Make ``store-<key>`` in ``root``, when it is missing, from an older store and the
    additions recorded since; False, with nothing left behind, when it is there already, the
    records lead to no store or the copy fails."""
    if (root / f"store-{key}" / "COMPLETE").is_file() or not root.is_dir():
        return False
    found = _records_to(root, key)
    if found is None:
        return False
    base, records = found
    try:
        quads = [q for r in records for q in ox.parse(path=str(r), format=ox.RdfFormat.N_QUADS)]
    except (OSError, SyntaxError, ValueError):  # a damaged record
        return False
    if on_rebuild:
        on_rebuild(f"the graph changed: adding the {len(quads)} triple(s) of the last "
                   f"{'add' if len(records) == 1 else f'{len(records)} adds'} to the store cache")
    work = None
    try:
        work = Path(tempfile.mkdtemp(prefix=".store-", dir=root))
        copy = work / "store"
        ox.Store.read_only(str(base)).backup(str(copy))
        store = ox.Store(str(copy))
        try:
            store.extend(quads)
            store.flush()
        finally:
            del store  # closed before its directory is moved
        (copy / "COMPLETE").write_text(key)
        os.replace(copy, root / f"store-{key}")
    # no room; another process got there first, or removed the older store while it was being
    # copied (RocksDB reports files gone from under it as corruption: RuntimeError)
    except (OSError, RuntimeError):
        return False
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    for old in root.glob("store-*"):
        if old.name != f"store-{key}":
            shutil.rmtree(old, ignore_errors=True)
    for record in root.glob("added-*.nq"):  # what led here is used; none can lead further yet
        record.unlink(missing_ok=True)
    return True
