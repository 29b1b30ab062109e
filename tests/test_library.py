"""The library offers what the CLI does, from Python."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from untoc_kg import KnowledgeGraph, ParameterError, UnknownQueryError

ROOT = Path(__file__).resolve().parent.parent


def test_saved_query_with_parameters(kg):
    result = kg.query("meetings-in-year", {"year": "2010"})
    meetings = {row["event"].value for row in result.rows}
    # para 18: the third meeting (20-21 October 2010) is the Working Group's only meeting of 2010
    assert "https://w3id.org/untoc/id/meeting/wg-ic-3" in meetings


def test_errors_are_the_package_exceptions(kg):
    with pytest.raises(UnknownQueryError):
        kg.query("no-such-query")
    with pytest.raises(ParameterError):
        kg.query("meetings-in-year", {"year": "last year"})


def test_describe_validate_stats_export(kg):
    d = kg.describe("meeting:wg-ic-5")
    assert "https://w3id.org/untoc/ontology#Meeting" in d.types
    assert kg.validate().conforms
    assert kg.stats().missing_labels == {"en": [], "ru": []}
    assert kg.export("ntriples").count(b"\n") > 5000


def test_add_to_a_copy_of_the_data(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    kg = KnowledgeGraph(data)
    change = kg.add([ROOT / "tests" / "fixtures" / "entries" / "new-meeting.ttl"])
    assert set(change.added) == {"meetings.ttl", "documents.ttl"}
    fresh = KnowledgeGraph(data)
    assert fresh.describe("meeting:wg-ic-7").labels["en"].startswith("Seventh meeting")


def test_docs_site(kg, tmp_path):
    written = kg.docs(tmp_path / "site")
    assert {p.name for p in written} >= {"index.html", "ontology.ttl"}
    assert "untoc:Meeting" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
