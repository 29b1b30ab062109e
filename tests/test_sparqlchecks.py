"""pyshacl's checks of SPARQL constraint texts are remembered once passed, never once failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from untoc_kg.loading import GraphSource
from untoc_kg.sparqlchecks import remembered_checks
from untoc_kg.validation import validate

ROOT = Path(__file__).resolve().parent.parent
AMENDING = ROOT / "tests" / "fixtures" / "entries" / "conflicting-start-date.ttl"


@pytest.fixture
def counted(monkeypatch, tmp_path):
    """pyshacl's own check, counting its calls; a cache of our own."""
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper

    monkeypatch.setenv("UNTOC_CACHE_DIR", str(tmp_path / "cache"))
    calls = []
    real = SPARQLQueryHelper.check_invalid_sparql

    def check(self, sparql_text, valuenode=None, extravars=None):
        calls.append(sparql_text)
        return real(self, sparql_text, valuenode=valuenode, extravars=extravars)

    monkeypatch.setattr(SPARQLQueryHelper, "check_invalid_sparql", check)
    return calls


def test_a_text_that_passed_is_not_checked_again(counted, tmp_path):
    source = GraphSource.default().with_extra([AMENDING])
    first = validate(source)
    assert counted, "the amending entry reaches SPARQL constraints"
    assert list((tmp_path / "cache").glob("sparql-checks-*.json"))
    counted.clear()
    second = validate(source)  # a new run reads what the first one kept
    assert counted == []
    assert second.counts() == first.counts() and second.counts()["Violation"] == 1
    assert [i.message for i in second.issues] == [i.message for i in first.issues]


@pytest.mark.parametrize("text", [
    "SELECT $this WHERE { $this ?p ?o MINUS { $this a ?c } }",
    "SELECT $this WHERE { VALUES ?x { 1 } $this ?p ?x }",
    "SELECT $this WHERE { { SELECT * WHERE { $this ?p ?o } } }",
], ids=["minus", "values", "nested-select-star"])
def test_a_text_that_failed_fails_every_time(text, counted):
    from pyshacl.errors import ValidationFailure
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper

    # (the checks read only the helper's class attributes: the class stands in for an instance)
    for _ in range(2):
        with remembered_checks(), pytest.raises(ValidationFailure):
            SPARQLQueryHelper.check_invalid_sparql(SPARQLQueryHelper, "\n" + text)
    assert len(counted) == 2


def test_the_cache_cannot_be_read_or_written(monkeypatch, tmp_path, counted):
    """A damaged file, or a cache where a file stands: checked every time, nothing fails."""
    from pyshacl.helper.sparql_query_helper import SPARQLQueryHelper

    text = "\nSELECT $this WHERE { $this ?p ?o }"
    (tmp_path / "cache").mkdir()
    from pyshacl import __version__

    (tmp_path / "cache" / f"sparql-checks-{__version__}.json").write_text("{not json")
    with remembered_checks():
        assert SPARQLQueryHelper.check_invalid_sparql(SPARQLQueryHelper, text) is True
    with remembered_checks():
        assert SPARQLQueryHelper.check_invalid_sparql(SPARQLQueryHelper, text) is True
    assert len(counted) == 1  # the damaged file was replaced by a good one
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("UNTOC_CACHE_DIR", str(blocker / "cache"))
    for _ in range(2):
        with remembered_checks():
            assert SPARQLQueryHelper.check_invalid_sparql(SPARQLQueryHelper, text) is True
    assert len(counted) == 3
