"""pyshacl's checks of SPARQL constraint texts, remembered from one run to the next.

Before it runs a SPARQL constraint, pyshacl checks the text with regular expressions (no MINUS,
VALUES or SERVICE; a nested SELECT selects the pre-bound variables; AS does not rebind them): about
0.7 ms a text, in every process. Checking an entry that amends an entity reaches some twenty such
texts: 14 of the 55 ms its validation took at a million triples. The outcome depends only on the
text and on which variables may be pre-bound, so a text that passed once passes again: the keys of
those that passed are kept in the cache, per pyshacl version. One that fails is checked, and
fails, every time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .loading import cache_dir

__all__ = ["remembered_checks"]

_MOST = 10_000  # keys kept; past that the file starts again (the shapes changed many times)


@contextmanager
def remembered_checks():
    """While inside, pyshacl checks each SPARQL text it has not seen pass before (patches
    ``SPARQLQueryHelper.check_invalid_sparql``: hold the lock that guards pyshacl patches)."""
    from pyshacl import __version__
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper

    path = cache_dir() / f"sparql-checks-{__version__}.json"
    try:
        passed = {k for k in json.loads(path.read_text(encoding="utf-8")) if isinstance(k, str)}
    except (OSError, ValueError, TypeError):  # none yet, or not ours
        passed = set()
    known = len(passed)
    original = SPARQLQueryHelper.check_invalid_sparql

    def check(self, sparql_text, valuenode=None, extravars=None):
        key = hashlib.sha256(repr((sparql_text, valuenode is not None,
                                   sorted(extravars or ()))).encode()).hexdigest()
        if key not in passed:
            original(self, sparql_text, valuenode=valuenode, extravars=extravars)
            passed.add(key)
        return True

    SPARQLQueryHelper.check_invalid_sparql = check
    try:
        yield
    finally:
        SPARQLQueryHelper.check_invalid_sparql = original
        if len(passed) > known:
            _save(path, passed if len(passed) <= _MOST else set())


def _save(path: Path, keys: set[str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".sparql-checks-", dir=path.parent)
    except OSError:  # no writable cache: checked again next time
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(sorted(keys), fh)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
