"""Carrying the on-disk stores forward after ``untoc add``, instead of building them again.

An add changes the data files, so their fingerprint, so the key of the cached store: the next query
would load every file again (about 10 s at a million triples). But the add knows exactly what
changed: triples added to the data graph. It records them in the cache (``record_addition``) as
``added-<before>-<after>.nq``; the next ``open_store`` for ``<after>`` that finds no store of its
own follows those records back to a store that exists (several adds may have run between two
queries), copies it, the copy's files being hard links to the old ones, and adds the recorded
triples (``carry_store``): tens of milliseconds at that size. The closure's store
(``reasoning.reasoned_store``) is carried by the same records (``carry``): its copy is extended by
the rules from the recorded triples. A record is kept while a store of either kind can still use
it, and removed once none can.

Only an add writes records, and only for the data it wrote; any other change (an edited file, a
changed shape) leaves no record from the store that exists, and the store is built from the files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pyoxigraph as ox

__all__ = ["record_addition", "carry", "carry_store"]

_CHAIN = 1000  # records followed back at most (each add is one)


def _key_of(directory: Path) -> str | None:
    """The content key of a complete cached store (``store-<key>``, ``reasoned-<key>-<engine>``)."""
    parts = directory.name.split("-")
    if len(parts) < 2 or not (directory / "COMPLETE").is_file():
        return None
    return parts[1]


def _prune(root: Path) -> set[str]:
    """Remove the records that cannot lead from a store that exists (of any kind) any more; the
    content keys the others lead from or to, the stores' own among them."""
    reach = {k for d in root.glob("*-*") if d.is_dir() and (k := _key_of(d))}
    leads: dict[str, list[tuple[str, Path]]] = {}
    for record in root.glob("added-*.nq"):
        parts = record.name[:-len(".nq")].split("-")
        if len(parts) == 3:
            leads.setdefault(parts[1], []).append((parts[2], record))
    todo = list(reach)
    while todo:
        for after, _ in leads.get(todo.pop(), ()):
            if after not in reach:
                reach.add(after)
                todo.append(after)
    for before, records in leads.items():
        if before not in reach:
            for _, record in records:
                record.unlink(missing_ok=True)
    return reach


def record_addition(root: Path, before: str, after: str, quads) -> None:
    """Note in the cache ``root`` that the content keyed ``after`` is the one keyed ``before``
    plus ``quads``; best effort: without it the next query builds its store from the files.

    A record is kept while it can lead from a cached store (the query store, the closure's) to a
    content not cached yet: with no store for ``before`` and no records from one, none can be
    made (the content keyed ``before`` is gone), so nothing is written."""
    if not root.is_dir() or before not in _prune(root):
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=".added-", dir=root)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(ox.serialize(list(quads), format=ox.RdfFormat.N_QUADS) or b"")
        os.replace(tmp, root / f"added-{before}-{after}.nq")
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def _records_to(root: Path, name: str, key: str) -> tuple[Path, list[Path]] | None:
    """The existing store named ``name`` (a template: ``store-{}``) the records lead back from
    ``key`` to, and the records in the order they were written; None when they lead to none."""
    chain: list[Path] = []
    while len(chain) < _CHAIN:
        found = sorted(root.glob(f"added-*-{key}.nq"))
        if len(found) != 1:  # none, or two adds from different contents: build from the files
            return None
        chain.append(found[0])
        key = found[0].name[len("added-"):-len(f"-{key}.nq")]
        if (root / name.format(key) / "COMPLETE").is_file():
            return root / name.format(key), chain[::-1]
    return None


def carry(root: Path, name: str, key: str, extend, on_rebuild=None) -> bool:
    """Make the store ``name.format(key)`` in ``root``, when it is missing, from an older store
    of that name and the additions recorded since; False, with nothing left behind, when it is
    there already, the records lead to no store, or the copy or ``extend`` fails.

    ``extend(base, directory, records, quads)`` brings the copy in ``directory`` (closed) of the
    store in ``base`` up to date with the records (paths, oldest first) holding ``quads``; it
    returns False when it cannot (the store is then built from the files), and what it raises,
    other than ``OSError`` and ``RuntimeError``, goes to the caller after the copy is removed."""
    if (root / name.format(key) / "COMPLETE").is_file() or not root.is_dir():
        return False
    found = _records_to(root, name, key)
    if found is None:
        return False
    base, records = found
    try:
        quads = [q for r in records for q in ox.parse(path=str(r), format=ox.RdfFormat.N_QUADS)]
    except (OSError, SyntaxError, ValueError):  # a damaged record
        return False
    if on_rebuild:
        kind = name.split("-")[0]
        on_rebuild(f"the graph changed: adding the {len(quads)} triple(s) of the last "
                   f"{'add' if len(records) == 1 else f'{len(records)} adds'} to the {kind} cache")
    work = None
    try:
        work = Path(tempfile.mkdtemp(prefix=".carry-", dir=root))
        copy = work / "store"
        ox.Store.read_only(str(base)).backup(str(copy))
        if not extend(base, copy, records, quads):
            return False
        (copy / "COMPLETE").write_text(key)
        os.replace(copy, root / name.format(key))
    # no room; another process got there first, or removed the older store while it was being
    # copied (RocksDB reports files gone from under it as corruption: RuntimeError)
    except (OSError, RuntimeError):
        return False
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    for old in root.glob(name.format("*")):
        if old.name != name.format(key):
            shutil.rmtree(old, ignore_errors=True)
    _prune(root)  # what led here from this kind's store is used; another kind's may still need it
    return True


def _add_quads(base: Path, directory: Path, records, quads) -> bool:
    store = ox.Store(str(directory))
    try:
        store.extend(quads)
        store.flush()
    finally:
        del store  # closed before its directory is moved
    return True


def carry_store(root: Path, key: str, on_rebuild=None) -> bool:
    """``carry`` for the query store (``store-<key>``): the recorded triples are added to it."""
    return carry(root, "store-{}", key, _add_quads, on_rebuild)
