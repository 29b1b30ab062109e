"""After ``untoc add`` the next query adds the recorded triples to a copy of the older store
instead of loading every file again (and the next query with reasoning extends the older closure
from them): the store it ends with must hold what a store built from the files holds, and
anything other than an add must still lead to a build from the files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from untoc_kg.adding import add
from untoc_kg.errors import ReasoningLimitError
from untoc_kg.loading import GraphSource, open_store
from untoc_kg.reasoning import reasoned_store

ROOT = Path(__file__).resolve().parent.parent
NEW_MEETING = ROOT / "tests" / "fixtures" / "entries" / "new-meeting.ttl"
BUILT = "building the store cache"
REBUILT = "the graph changed: rebuilding the store cache"


def _content(store: ox.Store) -> tuple[list[str], int]:
    """Blank-node-free quads (labels differ between loads) and the number of all of them."""
    quads = list(store)
    return (sorted(str(q) for q in quads
                   if not any(isinstance(t, ox.BlankNode) for t in (q.subject, q.object))),
            len(quads))


def _fresh_content(data: Path, tmp_path: Path, monkeypatch) -> tuple[list[str], int]:
    monkeypatch.setenv("UNTOC_CACHE_DIR", str(tmp_path / "fresh"))
    shutil.rmtree(tmp_path / "fresh", ignore_errors=True)
    notes: list[str] = []
    content = _content(open_store(GraphSource.default(data), on_rebuild=notes.append))
    assert notes == [BUILT]
    return content


def _built_from_files(data: Path, tmp_path: Path, monkeypatch) -> list[str]:
    """The store the next command opens: built from the files (it says so), holding what a fresh
    build holds; its blank-node-free quads."""
    notes: list[str] = []
    content = _content(open_store(GraphSource.default(data), on_rebuild=notes.append))
    assert notes == [REBUILT]
    assert content == _fresh_content(data, tmp_path, monkeypatch)
    return content[0]


def _second_meeting(tmp_path: Path) -> Path:
    """The fixture's meeting renumbered, so it can be added after the first."""
    text = NEW_MEETING.read_text(encoding="utf-8")
    path = tmp_path / "meeting-8.ttl"
    path.write_text(text.replace("wg-ic-7", "wg-ic-8")
                    .replace('"7"^^xsd:positiveInteger', '"8"^^xsd:positiveInteger')
                    .replace("TEST/WG.3/2016/9", "TEST/WG.3/2016/10")
                    .replace("2016-10-1", "2017-10-1"), encoding="utf-8")
    return path


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A copy of the data and an empty cache."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("UNTOC_CACHE_DIR", str(cache))
    return data, cache


@pytest.fixture
def setup(fresh):
    """A copy of the data, and a cache holding its store."""
    data, cache = fresh
    notes: list[str] = []
    open_store(GraphSource.default(data), on_rebuild=notes.append)
    assert notes == [BUILT]
    return data, cache


def test_the_next_query_after_adds_carries_the_store_forward(setup, tmp_path, monkeypatch):
    data, cache = setup
    assert add(GraphSource.default(data), [NEW_MEETING]).count == 20
    second = add(GraphSource.default(data), [_second_meeting(tmp_path)]).count
    assert len(list(cache.glob("added-*.nq"))) == 2
    notes: list[str] = []
    source = GraphSource.default(data)
    carried = _content(open_store(source, on_rebuild=notes.append))
    assert notes == [f"the graph changed: adding the {20 + second} triple(s) of the last 2 adds "
                     "to the store cache"]
    assert sorted(p.name for p in cache.glob("store-*")) == [f"store-{source.fingerprint()}"]
    assert not list(cache.glob("added-*")) and not list(cache.glob(".store-*"))
    assert any("wg-ic-8" in q for q in carried[0])
    assert carried == _fresh_content(data, tmp_path, monkeypatch)
    notes.clear()
    monkeypatch.setenv("UNTOC_CACHE_DIR", str(cache))
    assert _content(open_store(source, on_rebuild=notes.append)) == carried and notes == []


def test_a_hand_edit_after_an_add_builds_from_the_files(setup, tmp_path, monkeypatch):
    data, cache = setup
    add(GraphSource.default(data), [NEW_MEETING])
    with open(data / "places.ttl", "a", encoding="utf-8") as fh:
        fh.write('\nplace:vienna rdfs:comment "edited by hand"@en .\n')
    assert any("edited by hand" in q for q in _built_from_files(data, tmp_path, monkeypatch))


def test_a_damaged_record_builds_from_the_files(setup, tmp_path, monkeypatch):
    data, cache = setup
    add(GraphSource.default(data), [NEW_MEETING])
    (record,) = cache.glob("added-*.nq")
    record.write_text("<not n-quads")
    _built_from_files(data, tmp_path, monkeypatch)


def test_no_record_without_a_store_to_carry(fresh):
    """An add with no store of the content before it cached: a record could lead nowhere."""
    data, cache = fresh
    (cache / "added-0-1.nq").write_text("")  # left over from a content that is gone
    add(GraphSource.default(data), [NEW_MEETING])
    assert not list(cache.glob("added-*"))
    notes: list[str] = []
    open_store(GraphSource.default(data), on_rebuild=notes.append)
    assert notes == [BUILT]


@pytest.mark.parametrize("when", ["before the add reads its file", "after it planned"])
def test_an_edit_during_an_add_is_not_carried(when, setup, tmp_path, monkeypatch):
    """Another writer changing a data file while an add runs (it takes no lock): the caches
    would miss that change if they were carried, so they are built from the files instead."""
    import untoc_kg.adding as adding

    data, cache = setup
    real_plan = adding.plan_add
    # meetings.ttl is the file the new meeting goes to; places.ttl one it leaves alone
    edited = data / ("meetings.ttl" if when.startswith("before") else "places.ttl")

    def plan_with_an_edit(*args, **kwargs):
        if when.startswith("before"):
            with open(edited, "a", encoding="utf-8") as fh:
                fh.write('\nplace:vienna rdfs:comment "edited meanwhile"@en .\n')
        change = real_plan(*args, **kwargs)
        if not when.startswith("before"):
            with open(edited, "a", encoding="utf-8") as fh:
                fh.write('\nplace:vienna rdfs:comment "edited meanwhile"@en .\n')
        return change

    monkeypatch.setattr(adding, "plan_add", plan_with_an_edit)
    assert adding.add(GraphSource.default(data), [NEW_MEETING]).count == 20
    after = GraphSource.default(data).fingerprint()
    assert not list(cache.glob("added-*")) and not (cache / f"index-{after}.sqlite").exists()
    assert any("edited meanwhile" in q for q in _built_from_files(data, tmp_path, monkeypatch))


def _racing(n: int, cache: Path, data: Path, script: str) -> list[tuple[str, str]]:
    """Run ``script`` (``sys`` imported, the data directory in ``sys.argv[1]``) in ``n``
    processes at once on the cache; their (stdout, stderr), all having ended well."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, UNTOC_CACHE_DIR=str(cache))
    procs = [subprocess.Popen([sys.executable, "-c", "import sys; " + script, str(data)],
                              env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(n)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * n, [err for _, err in outs]
    assert all("Traceback" not in err for _, err in outs)
    return outs


def test_queries_racing_to_carry_the_store_agree(setup, tmp_path, monkeypatch):
    """Several processes asking for the store at once after an add (a server's workers, say):
    each either carries it or opens the one another carried; all answer alike and one store is
    left, with no half-built copies."""
    data, cache = setup
    add(GraphSource.default(data), [NEW_MEETING])
    outs = _racing(4, cache, data, "from untoc_kg.loading import GraphSource, open_store; "
                                   "s = open_store(GraphSource.default(sys.argv[1])); print(len(s))")
    source = GraphSource.default(data)
    assert sorted(p.name for p in cache.iterdir() if "store" in p.name) == [
        f"store-{source.fingerprint()}"]
    fresh = _fresh_content(data, tmp_path, monkeypatch)
    assert {int(out) for out, _ in outs} == {fresh[1]}
    monkeypatch.setenv("UNTOC_CACHE_DIR", str(cache))
    assert _content(open_store(source)) == fresh


# ---- the closure's store (``untoc query --reasoning``) is carried forward too --------------------

REASONED = "the graph changed: adding the {} triple(s) of the last {} to the reasoned cache"


def _canonical(store: ox.Store) -> set:
    """The store's quads with canonical blank-node labels (each build labels them anew)."""
    dataset = ox.Dataset(list(store))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return set(dataset)


def _fresh_closure(data: Path, tmp_path: Path, monkeypatch) -> set:
    monkeypatch.setenv("UNTOC_CACHE_DIR", str(tmp_path / "fresh-closure"))
    shutil.rmtree(tmp_path / "fresh-closure", ignore_errors=True)
    notes: list[str] = []
    closure = _canonical(reasoned_store(GraphSource.default(data), on_rebuild=notes.append))
    assert notes == ["building the reasoned cache"]
    return closure


@pytest.fixture
def closed(setup):
    """``setup``, with the closure's store of the data cached as well."""
    data, cache = setup
    notes: list[str] = []
    reasoned_store(GraphSource.default(data), on_rebuild=notes.append)
    assert notes == ["building the reasoned cache"]
    return data, cache


def test_the_closure_after_adds_is_carried_forward(closed, tmp_path, monkeypatch):
    """Two adds, then a query with reasoning: the rules extend the cached closure from the new
    triples, and the store holds what the closure computed from the files holds."""
    data, cache = closed
    assert add(GraphSource.default(data), [NEW_MEETING]).count == 20
    second = add(GraphSource.default(data), [_second_meeting(tmp_path)]).count
    notes: list[str] = []
    source = GraphSource.default(data)
    carried = _canonical(reasoned_store(source, on_rebuild=notes.append))
    assert notes == [REASONED.format(20 + second, "2 adds")]
    assert sorted(p.name for p in cache.glob("reasoned-*")) == [
        f"reasoned-{source.fingerprint()}-rules"]
    assert not list(cache.glob(".carry-*"))
    # the query store was not carried yet: the records stay for it
    assert len(list(cache.glob("added-*.nq"))) == 2
    inferred = ox.NamedNode("https://w3id.org/untoc/graph/inferred")
    meeting = ox.NamedNode("https://w3id.org/untoc/id/meeting/wg-ic-8")
    assert any(q.subject == meeting and q.graph_name == inferred for q in carried)
    assert carried == _fresh_closure(data, tmp_path, monkeypatch)
    monkeypatch.setenv("UNTOC_CACHE_DIR", str(cache))
    notes.clear()
    assert _canonical(reasoned_store(source, on_rebuild=notes.append)) == carried and notes == []


@pytest.mark.parametrize("first", ["store", "reasoned"])
def test_each_store_is_carried_by_the_same_records(first, closed, tmp_path, monkeypatch):
    """The records of an add stay until both stores that can use them have; then they go."""
    data, cache = closed
    add(GraphSource.default(data), [NEW_MEETING])
    source = GraphSource.default(data)
    notes: list[str] = []
    opened = {"store": lambda: open_store(source, on_rebuild=notes.append),
              "reasoned": lambda: reasoned_store(source, on_rebuild=notes.append)}
    second = "reasoned" if first == "store" else "store"
    opened[first]()
    assert len(list(cache.glob("added-*.nq"))) == 1
    opened[second]()
    assert notes == [REASONED.format(20, "add").replace("reasoned", kind)
                     for kind in (first, second)]
    assert not list(cache.glob("added-*.nq"))
    assert sorted(p.name.split("-")[1] for p in cache.glob("*-*") if p.is_dir()) == [
        source.fingerprint()] * 2


def test_a_closure_the_rules_cannot_extend_is_computed_from_the_files(closed, tmp_path,
                                                                        monkeypatch):
    """A record whose triples need another reasoner (a restriction, here written into the
    record by hand): the carried copy is thrown away and the closure built from the files."""
    data, cache = closed
    add(GraphSource.default(data), [NEW_MEETING])
    (record,) = cache.glob("added-*.nq")
    with open(record, "a", encoding="utf-8") as fh:
        fh.write("<https://example.org/R> <http://www.w3.org/2002/07/owl#onProperty> "
                 "<https://example.org/p> <https://w3id.org/untoc/graph/data> .\n")
    notes: list[str] = []
    source = GraphSource.default(data)
    built = _canonical(reasoned_store(source, on_rebuild=notes.append))
    assert notes == [REASONED.format(21, "add"), "the graph changed: rebuilding the reasoned cache"]
    assert not list(cache.glob(".carry-*"))
    assert built == _fresh_closure(data, tmp_path, monkeypatch)


def test_a_carried_closure_over_its_budget_is_refused_and_not_kept(closed, monkeypatch):
    data, cache = closed
    add(GraphSource.default(data), [NEW_MEETING])
    source = GraphSource.default(data)
    monkeypatch.setenv("UNTOC_REASONING_MAX_INFERRED", "1000")
    notes: list[str] = []
    with pytest.raises(ReasoningLimitError, match="more than the limit of 1,000 inferred"):
        reasoned_store(source, on_rebuild=notes.append)
    assert notes == [REASONED.format(20, "add")]  # refused while extending, not built again
    assert sorted(p.name for p in cache.glob("reasoned-*")) == [
        next(p.name for p in cache.glob("reasoned-*"))]  # the older one only
    assert source.fingerprint() not in next(cache.glob("reasoned-*")).name
    assert not list(cache.glob(".carry-*"))


def _functional_code(data: Path, *values: str) -> None:
    """A data file making ex:code functional and giving ex:a these literal values of it."""
    (data / "code.ttl").write_text(
        "<https://example.org/code> a <http://www.w3.org/2002/07/owl#FunctionalProperty> .\n"
        + "".join(f'<https://example.org/a> <https://example.org/code> "{v}" .\n' for v in values),
        encoding="utf-8")


def test_a_closure_made_by_reasonable_is_not_extended_by_the_rules(setup, tmp_path, monkeypatch):
    """A functional property with two literal values sends the first closure to reasonable
    (tests/test_rules.py); the rules must not extend that one (reasonable types every subject
    owl:Thing, the rules do not), and the conflict, still there, sends the next to the files."""
    data, cache = setup
    _functional_code(data, "1", "2")
    notes: list[str] = []
    reasoned_store(GraphSource.default(data), on_rebuild=notes.append)
    add(GraphSource.default(data), [NEW_MEETING])
    source = GraphSource.default(data)
    built = _canonical(reasoned_store(source, on_rebuild=notes.append))
    assert notes == [BUILT.replace("store", "reasoned"), REASONED.format(20, "add"),
                     "the graph changed: rebuilding the reasoned cache"]
    # reasonable's mark: a subject of no declared class typed owl:Thing (the rules would not)
    thing = ox.Quad(ox.NamedNode("https://example.org/a"),
                    ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                    ox.NamedNode("http://www.w3.org/2002/07/owl#Thing"),
                    ox.NamedNode("https://w3id.org/untoc/graph/inferred"))
    assert thing in built
    assert built == _fresh_closure(data, tmp_path, monkeypatch)


# ---- a cache built while the files change is not kept under the key read before ------------------


def _edit_once(path: Path, real):
    """``real`` (a function reading the files), editing ``path`` after its first call: another
    process changing the graph while a cache of it is being built."""
    calls = []

    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        if not calls:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write('\nplace:vienna rdfs:comment "edited meanwhile"@en .\n')
        calls.append(1)
        return result

    return wrapper


def test_a_store_built_while_the_files_change_is_not_kept(fresh, monkeypatch):
    import untoc_kg.loading as loading

    data, cache = fresh
    other = cache / "store-0123456789abcdef0123456789abcdef"  # e.g. one an add carried forward
    other.mkdir()
    (other / "COMPLETE").write_text("0123456789abcdef0123456789abcdef")
    monkeypatch.setattr(loading, "fill_store", _edit_once(data / "places.ttl", loading.fill_store))
    store = open_store(GraphSource.default(data))
    assert sorted(p.name for p in cache.iterdir() if "store" in p.name) == [other.name]
    # built again in memory from the files as they are now
    assert any("edited meanwhile" in str(q.object) for q in store)


def test_an_index_built_while_the_files_change_is_not_kept(fresh, monkeypatch):
    import untoc_kg.validation as validation

    data, cache = fresh
    other = cache / "index-0123456789abcdef0123456789abcdef.sqlite"
    other.write_bytes(b"")
    monkeypatch.setattr(validation, "read_quads", _edit_once(data / "places.ttl",
                                                             validation.read_quads))
    index = validation.graph_index(GraphSource.default(data))
    assert sorted(p.name for p in cache.glob("*index-*")) == [other.name]
    vienna = ox.NamedNode("https://w3id.org/untoc/id/place/vienna")
    assert any("edited meanwhile" in o.value for _, _, o in index.match(s=vienna))


def test_a_failed_extension_falls_back_to_the_files(closed, tmp_path, monkeypatch):
    """The worker failing while it extends the copy (anything but a budget refusal): the copy is
    thrown away and the closure computed from the files, as if there were no record."""
    import untoc_kg.reasoning as reasoning
    from untoc_kg.errors import UntocError

    data, cache = closed
    add(GraphSource.default(data), [NEW_MEETING])
    real = reasoning._in_worker

    def failing(job, budget):
        if "extend" in job:
            raise UntocError("the reasoner failed: simulated")
        return real(job, budget)

    monkeypatch.setattr(reasoning, "_in_worker", failing)
    notes: list[str] = []
    built = _canonical(reasoned_store(GraphSource.default(data), on_rebuild=notes.append))
    assert notes == [REASONED.format(20, "add"), "the graph changed: rebuilding the reasoned cache"]
    assert not list(cache.glob(".carry-*"))
    assert built == _fresh_closure(data, tmp_path, monkeypatch)


def test_queries_racing_to_carry_the_closure_agree(closed, tmp_path, monkeypatch):
    """Three processes asking for the closure at once after an add: each extends its own copy or
    opens the one another finished; all count alike, one closure store is left, no copies."""
    data, cache = closed
    add(GraphSource.default(data), [NEW_MEETING])
    outs = _racing(3, cache, data, "from untoc_kg.loading import GraphSource; "
                                   "from untoc_kg.reasoning import reasoned_store; "
                                   "print(len(reasoned_store(GraphSource.default(sys.argv[1]))))")
    source = GraphSource.default(data)
    assert sorted(p.name for p in cache.iterdir() if "reasoned" in p.name or "carry" in p.name) == [
        f"reasoned-{source.fingerprint()}-rules"]
    fresh = _fresh_closure(data, tmp_path, monkeypatch)
    assert {int(out) for out, _ in outs} == {len(fresh)}
    monkeypatch.setenv("UNTOC_CACHE_DIR", str(cache))
    assert _canonical(reasoned_store(source)) == fresh


def test_the_closure_keeps_its_counts_for_the_next_extension(closed):
    """The closure's store keeps the worker's counts (``INFO.json``); the extension starts from
    them instead of counting, and leaves the new counts, which are the store's real ones."""
    from untoc_kg.loading import store_info

    data, cache = closed
    source = GraphSource.default(data)

    def counted():
        store = reasoned_store(GraphSource.default(data))
        inferred = sum(1 for q in store if q.graph_name.value.endswith("/inferred"))
        shapes = sum(1 for q in store if q.graph_name.value.endswith("/shapes"))
        return {"input": len(store) - inferred - shapes, "inferred": inferred, "engine": "rules"}

    (built,) = cache.glob("reasoned-*")
    assert store_info(built) == counted()
    add(GraphSource.default(data), [NEW_MEETING])
    reasoned_store(source)
    (carried,) = cache.glob("reasoned-*")
    assert carried != built and store_info(carried) == counted()


def test_a_record_that_makes_a_literal_conflict_goes_to_the_files(closed, tmp_path, monkeypatch):
    """A new value of a functional property next to a literal one: the rules would miss what OWL
    RL says of it, so the closure comes from the files (reasonable), not from the extension."""
    data, cache = closed
    _functional_code(data, "1")
    notes: list[str] = []
    reasoned_store(GraphSource.default(data), on_rebuild=notes.append)
    add(GraphSource.default(data), [NEW_MEETING])
    (record,) = cache.glob("added-*.nq")
    with open(record, "a", encoding="utf-8") as fh:
        fh.write('<https://example.org/a> <https://example.org/code> "2" '
                 "<https://w3id.org/untoc/graph/data> .\n")
    built = _canonical(reasoned_store(GraphSource.default(data), on_rebuild=notes.append))
    assert notes[-2:] == [REASONED.format(21, "add"),
                          "the graph changed: rebuilding the reasoned cache"]
    # the record's extra triple is not in the files: the closure from the files lacks it
    assert built == _fresh_closure(data, tmp_path, monkeypatch)
