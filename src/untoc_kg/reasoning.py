"""OWL RL inferences: the closure of ontology + data, computed within a budget and cached.

The closure behind ``untoc query --reasoning``, ``untoc export --reasoning`` and ``reasoned_store``
is computed by the rules of ``rules.py``: SPARQL updates run to a fixpoint inside a pyoxigraph
store, so no term of the graph becomes a Python object on the way (the files are loaded into the
store, the closure is written from it as N-Quads and loaded from those into the query store).
Where the input uses a construct the rules do not implement (``rules.py`` lists them), the
closure is computed by ``reasonable`` (an OWL 2 RL reasoner in Rust) instead, so it is never
silently incomplete. ``reasonable`` and ``owlrl`` stay selectable (``engine=``); owlrl is the
reference the tests compare with. On the shipped graph the rules give exactly owlrl's
instance-level inferences except ``x owl:sameAs x``, which owlrl writes for every resource;
reasonable differs from owlrl in one more family that says nothing: it types every subject
``owl:Thing``, including the reified statements, which owlrl and the rules do only for instances
of declared classes (see tests/test_reasoning.py and tests/test_rules.py).

After ``untoc add`` the cached closure is not computed again: the worker extends a copy of the
older one from the triples the add recorded (``rules.extend``, ``carrying.carry``), within the
same budget; where the rules cannot (the add brings a construct they lack, or the older closure
was ``reasonable``'s, which the same checks find) the closure is computed from the files.

pyoxigraph and reasonable hand plain literals back as ``xsd:string``-typed ones (RDF 1.1 makes
them the same term; rdflib does not), so the inferences given as rdflib triples
(``inferred_triples``) are normalised to rdflib's plain form before they are compared with the
input; otherwise every plain literal of the data would look like a new inference.

Budget
------
OWL RL closures can grow quadratically (an ``owl:sameAs`` set of n resources needs n² triples and a
copy of every fact of each member for every other; a chain of n links of a transitive property
needs n²/2) and reasoners take minutes or hours on such graphs (owlrl: 280 s for a 200-resource
sameAs chain; reasonable: 4 s for it, over 2 minutes for 1,000). So the closure runs in a separate
process, killed when it passes its budget. A refusal is a ``ReasoningLimitError``: one line, exit
status 1 from the CLI, and nothing cached. Each limit is set by an environment variable (or by a
``Budget`` given to the functions below):

=================================  =========  ==================================================
variable                           default    limit
=================================  =========  ==================================================
``UNTOC_REASONING_TIMEOUT``        300        seconds for the whole closure (reading the files,
                                              reasoning, writing the result)
``UNTOC_REASONING_MAX_INPUT``      3000000    triples of ontology + data, checked before reasoning
``UNTOC_REASONING_MAX_SAMEAS``     100        resources in one ``owl:sameAs`` set, checked before
``UNTOC_REASONING_MAX_INFERRED``   3000000    inferred triples ...
``UNTOC_REASONING_MAX_GROWTH``     4          ... and at most this many times the input triples
                                              (but 100,000 are always allowed)
``UNTOC_REASONING_MAX_MEMORY``     8192       MiB of address space of the reasoning process
=================================  =========  ==================================================

The inferred-triples limit is applied twice: before reasoning to a lower bound computed from the
input (every ``owl:sameAs`` set of n resources forces n(n-1) triples, every
``owl:TransitiveProperty`` the pairs its stated links connect), so the known explosive shapes are
refused in seconds and named with an example resource; and after reasoning to the real count.
Growth the bound cannot see (transitivity through a sub-property, say) is caught by that second
check (the rules apply it after every round, so a closure that grows is stopped after the
round that passed the limit), or by the memory or time limit first. The defaults let the
1M-triple benchmark graph through (``benchmarks/closure.py``).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox

from . import rules
from .errors import InputError, ReasoningLimitError, UntocError
from .loading import (GRAPH_DATA, GRAPH_SHAPES, GraphSource, cache_dir, cached_store, fill_store,
                      keep_store_info, read_quads, store_info)

__all__ = ["GRAPH_INFERRED", "ENGINES", "Budget", "closure", "inferred_triples", "reason",
           "reasoned_store"]

GRAPH_INFERRED = GRAPH_DATA.rsplit("/", 1)[0] + "/inferred"
ENGINES = ("rules", "reasonable", "owlrl")

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_OWL = "http://www.w3.org/2002/07/owl#"

# Small graphs may grow more than max_growth times: up to this many inferences are always allowed.
_GROWTH_FLOOR = 100_000

# Budget field -> the environment variable that sets it
_ENV = {
    "seconds": "UNTOC_REASONING_TIMEOUT",
    "max_input": "UNTOC_REASONING_MAX_INPUT",
    "max_inferred": "UNTOC_REASONING_MAX_INFERRED",
    "max_growth": "UNTOC_REASONING_MAX_GROWTH",
    "max_memory_mib": "UNTOC_REASONING_MAX_MEMORY",
    "max_same_as": "UNTOC_REASONING_MAX_SAMEAS",
}


@dataclass(frozen=True)
class Budget:
    """What one closure may cost; see the module docstring for the meaning and the defaults."""

    seconds: float = 300.0
    max_input: int = 3_000_000
    max_inferred: int = 3_000_000
    max_growth: float = 4.0
    max_memory_mib: int = 8192
    max_same_as: int = 100

    def __post_init__(self):
        for name, env in _ENV.items():
            if not getattr(self, name) > 0:
                raise InputError(f"{env} must be positive, not {getattr(self, name)!r}")

    @classmethod
    def from_env(cls, environ=None) -> "Budget":
        environ = os.environ if environ is None else environ
        values = {}
        for name, env in _ENV.items():
            kind = type(getattr(cls, name))
            text = environ.get(env, "").strip()
            if not text:
                continue
            try:
                values[name] = kind(text.replace("_", ""))
            except ValueError:
                what = "a whole number" if kind is int else "a number"
                raise InputError(f"{env} must be {what}, not {text!r}") from None
        return cls(**values)

    def allowed_inferred(self, n_input: int) -> int:
        return int(min(self.max_inferred, max(self.max_growth * n_input, _GROWTH_FLOOR)))

    def check_input(self, n_input: int) -> None:
        if n_input > self.max_input:
            raise ReasoningLimitError(
                f"reasoning refused: ontology and data hold {n_input:,} triples, more than the limit "
                f"of {self.max_input:,} ({_ENV['max_input']})")

    def _too_many(self, what: str, n_input: int) -> ReasoningLimitError:
        return ReasoningLimitError(
            f"reasoning refused: {what}, more than the limit of {self.allowed_inferred(n_input):,} "
            f"inferred triples for {n_input:,} input triples ({_ENV['max_inferred']}, "
            f"{_ENV['max_growth']})")

    def check_inferred(self, n_inferred: int, n_input: int) -> None:
        if n_inferred > self.allowed_inferred(n_input):
            raise self._too_many(f"the OWL RL closure adds {n_inferred:,} triples", n_input)


# ---- the closure itself (in this process) --------------------------------------------------------


def _plain_form():
    """A function giving rdflib's form of a term: xsd:string-typed literals become plain ones
    (the same RDF 1.1 term, but not for rdflib); other terms are returned as they are."""
    from rdflib import Literal, URIRef

    string = {URIRef(_XSD_STRING)}

    def plain(term):
        if type(term) is Literal and term.datatype in string and term.language is None:
            return Literal(str(term))
        return term

    return plain


def _is_rdf(triple) -> bool:
    """False for generalized triples (literal subject, non-IRI predicate): OWL RL rules derive
    them, RDF cannot hold them."""
    import rdflib

    s, p, _ = triple
    return not isinstance(s, rdflib.Literal) and isinstance(p, rdflib.URIRef)


def _n3(term) -> str:
    """A term as N-Triples/Turtle writes it, rdflib's or pyoxigraph's."""
    return term.n3() if hasattr(term, "n3") else str(term)


def _iri_maker(triples):
    """The IRI constructor of the terms in ``triples`` (a set or list): rdflib's or pyoxigraph's
    (either for no triples: nothing is compared)."""
    for s, _, _ in triples:
        if not isinstance(s, (ox.NamedNode, ox.BlankNode)):
            import rdflib

            return rdflib.URIRef
        break
    return ox.NamedNode


def _growth_bound(triples, limit: int) -> tuple[int, str, int, object]:
    """What owl:sameAs sets and transitive properties force, from the input only, before any
    reasoning: (a lower bound of the inferences, its biggest contributor described, the size of
    the largest owl:sameAs set, a member of it). Counting stops soon after the bound passes
    ``limit``. The terms are rdflib's or pyoxigraph's, not mixed."""
    iri = _iri_maker(triples)
    # membership tests rather than ==: rdflib terms hash in C but compare in Python
    same_as = iri(_OWL + "sameAs")
    is_transitive = {iri(_OWL + "TransitiveProperty")}
    rdf_type = {iri(_RDF_TYPE)}
    transitive = {s for s, p, o in triples if o in is_transitive and p in rdf_type}
    parent: dict = {}

    def root(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    explicit_same, edges = 0, {p: {} for p in transitive}
    special = {same_as, *transitive}
    for s, p, o in triples:
        if p not in special:
            continue
        if p == same_as:
            if s != o:
                explicit_same += 1
                a, b = root(s), root(o)
                if a != b:
                    parent[a] = b
        else:
            edges[p].setdefault(s, set()).add(o)
    sizes: dict = {}
    for x in list(parent):
        r = root(x)
        sizes[r] = sizes.get(r, 0) + 1
    # every two members of a set are owl:sameAs each other, both ways
    total = max(0, sum(k * (k - 1) for k in sizes.values()) - explicit_same)
    worst, what, largest, member = 0, "", 0, None
    if sizes:
        member, largest = max(sizes.items(), key=lambda kv: kv[1])
        worst, what = largest * (largest - 1), (f"owl:sameAs joins {largest:,} resources into one "
                                                f"set (e.g. {_n3(member)})")
    for p, graph in edges.items():
        explicit = sum(len(targets) for targets in graph.values())
        pairs = 0
        for start in graph:  # every node reachable from start is linked to it by p
            pairs += len(rules.reachable(graph, start))
            if pairs - explicit > limit:
                break
        forced = pairs - explicit
        total += forced
        if forced > worst:
            worst, what = forced, f"the transitive property {_n3(p)} links at least {pairs:,} pairs"
    return total, what, largest, member


def _precheck(budget: Budget, special, n_input: int) -> None:
    """The refusals before reasoning: too much input, an owl:sameAs set or a transitive chain
    too big. ``special`` holds (at least) the owl:sameAs triples, the links of the transitive
    properties and their declarations."""
    budget.check_input(n_input)
    allowed = budget.allowed_inferred(n_input)
    bound, what, largest, member = _growth_bound(special, allowed)
    if largest > budget.max_same_as:
        raise ReasoningLimitError(
            f"reasoning refused: owl:sameAs joins {largest:,} resources into one set (e.g. "
            f"{_n3(member)}), more than the limit of {budget.max_same_as:,} "
            f"({_ENV['max_same_as']})")
    if bound > allowed:
        raise budget._too_many(f"{what}; its closure adds at least {bound:,} triples", n_input)


class _Terms:
    """Converts terms between pyoxigraph and rdflib, each distinct term once; a term converted
    one way comes back as the very term it came from (blank nodes and literals keep their form)."""

    def __init__(self):
        from .querying import from_rdflib, to_rdflib

        self._to_rdflib, self._from_rdflib = to_rdflib, from_rdflib
        self._rdflib: dict = {}
        self._ours: dict = {}

    def rdflib(self, term):
        theirs = self._rdflib.get(term)
        if theirs is None:
            theirs = self._rdflib[term] = self._to_rdflib(term)
            self._ours.setdefault(theirs, term)
        return theirs

    def ours(self, term):
        mine = self._ours.get(term)
        if mine is None:
            mine = self._ours[term] = self._from_rdflib(term)
        return mine


def _by_rules(base, check) -> list | None:
    """The inferences of ``rules`` from rdflib triples, as rdflib triples; None when the input
    uses what the rules do not implement."""
    store, terms = ox.Store(), _Terms()
    g = ox.NamedNode(GRAPH_DATA)
    store.extend(ox.Quad(terms.ours(s), terms.ours(p), terms.ours(o), g) for s, p, o in base)
    try:
        rules.materialise(store, GRAPH_INFERRED, check=check)
    except rules.Unsupported:
        return None
    return [(terms.rdflib(q.subject), terms.rdflib(q.predicate), terms.rdflib(q.object))
            for q in store.quads_for_pattern(None, None, None, ox.NamedNode(GRAPH_INFERRED))]


def inferred_triples(triples, *, engine: str = "rules", budget: Budget | None = None) -> list:
    """The OWL RL inferences from rdflib ``triples`` (ontology + data): only triples not in the
    input, only RDF ones (no generalized triples), plain literals in rdflib's plain form.

    ``engine="rules"`` (``rules.py``) falls back to reasonable when the input uses a construct the
    rules do not implement. With a ``budget`` its size limits are applied here (before reasoning,
    from the input and the lower bound, and after); its time and memory limits need a separate
    process (``reason``).
    """
    import rdflib

    _check_engine(engine)
    plain = _plain_form()
    base = {(s, p, plain(o)) for s, p, o in triples}
    n_input = len(base)
    if budget is not None:
        _precheck(budget, base, n_input)
    out = None
    if engine == "rules":
        out = _by_rules(base, None if budget is None else
                        (lambda n: budget.check_inferred(n, n_input)))
        if out is None:
            engine = "reasonable"
    if engine == "reasonable":
        import reasonable

        reasoner = reasonable.PyReasoner()
        reasoner.from_graph(list(base))
        out = reasoner.reason()
    elif engine == "owlrl":
        import owlrl

        expanded = rdflib.Graph()
        for t in base:
            expanded.add(t)
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, rdfs_closure=False, axiomatic_triples=False,
                               datatype_axioms=False).expand(expanded)
        out = expanded
    inferred = []
    for s, p, o in out:
        t = (s, p, plain(o))
        if t not in base and _is_rdf(t):
            base.add(t)  # reasoners may repeat a triple
            inferred.append(t)
    if budget is not None:
        budget.check_inferred(len(inferred), n_input)
    return inferred


def closure(graph, *, engine: str = "rules", budget: Budget | None = None):
    """The OWL RL closure of an rdflib graph, as a new rdflib graph (input untouched).

    Runs in this process: a ``budget`` applies its size limits only (see ``inferred_triples``).
    """
    import rdflib

    full = rdflib.Graph()
    for triple in graph:
        full.add(triple)
    for triple in inferred_triples(graph, engine=engine, budget=budget):
        full.add(triple)
    return full


# ---- the closure in a worker process, within the whole budget ------------------------------------


def _special(store: ox.Store, skip: str | None = None) -> set:
    """The triples ``_growth_bound`` looks at: owl:sameAs, transitive properties and their links
    (not those of the graph ``skip``)."""
    rdf_type, same_as = ox.NamedNode(_RDF_TYPE), ox.NamedNode(_OWL + "sameAs")
    transitive = ox.NamedNode(_OWL + "TransitiveProperty")
    skip = ox.NamedNode(skip) if skip else None

    def triples(p, o=None):
        found = store.quads_for_pattern(None, p, o, None)
        return {(q.subject, q.predicate, q.object) for q in found if q.graph_name != skip}

    out = triples(rdf_type, transitive)
    for p in (same_as, *{s for s, _, _ in out}):
        out |= triples(p)
    return out


def _via_rdflib(store: ox.Store, engine: str, budget: Budget) -> None:
    """Reason with another engine (through rdflib terms) and add its inferences to the store."""
    terms = _Terms()
    base = [(terms.rdflib(q.subject), terms.rdflib(q.predicate), terms.rdflib(q.object))
            for q in store]
    inferred = inferred_triples(base, engine=engine, budget=budget)
    g = ox.NamedNode(GRAPH_INFERRED)
    store.extend(ox.Quad(terms.ours(s), terms.ours(p), terms.ours(o), g) for s, p, o in inferred)


def _materialise(graphs, out: str, budget: Budget, engine: str = "rules") -> dict:
    """Read the files, reason, write ontology + data + inferred graphs as N-Quads to ``out``.

    The input goes into a pyoxigraph store (blank nodes relabelled apart per file, as everywhere
    in the package) and the inferences are written from the same store, so the data graph and
    the inferred graph share blank nodes and literals keep their lexical form. With the rules
    engine no term leaves the store; a graph the rules cannot reason about completely goes to
    reasonable.
    """
    store = ox.Store()
    fill_store(store, graphs, on_file=budget.check_input)
    n_input = len(store)
    used = engine
    if engine == "rules":
        _precheck(budget, _special(store), n_input)
        try:
            rules.materialise(store, GRAPH_INFERRED,
                              check=lambda n: budget.check_inferred(n, n_input))
        except rules.Unsupported:
            used = "reasonable"
    if used != "rules":
        _via_rdflib(store, used, budget)
    n_inferred = rules.count(store, GRAPH_INFERRED)
    budget.check_inferred(n_inferred, n_input)
    store.dump(out, ox.RdfFormat.N_QUADS)
    return {"input": n_input, "inferred": n_inferred, "engine": used}


def _extend(directory: str, records: list[str], shapes: str, budget: Budget,
            info: dict | None) -> dict:
    """Bring the cached closure store in ``directory`` (``reasoned_store``'s) up to date with the
    triples recorded by adds (``records``, N-Quads of the data graph): the rules from the new
    triples only (``rules.extend``), within the budget. ``{"carried": False}`` when the rules
    cannot do it (the store is then thrown away and the closure computed from the files).

    ``info`` is what was kept with the older store (its counts, the engine that made it): with
    it nothing is counted (at 10M that was most of the work), and a closure the rules made is
    known to hold no conflicting literal values, so only the new triples are checked for them."""
    store = ox.Store(directory)
    try:
        # the closure is of ontology and data; the shapes are put back after
        store.update(f"DROP SILENT GRAPH <{GRAPH_SHAPES}>")
        quads = [q for r in records for q in ox.parse(path=r, format=ox.RdfFormat.N_QUADS)]
        made_by_rules = bool(info) and info.get("engine") == "rules"
        if made_by_rules and {"input", "inferred"} <= info.keys():
            n_inferred, n_input = int(info["inferred"]), int(info["input"]) + len(quads)
        else:
            n_inferred = rules.count(store, GRAPH_INFERRED)
            n_input = len(store) - n_inferred + len(quads)
        budget.check_input(n_input)
        _precheck(budget, _special(store, GRAPH_INFERRED)
                  | {(q.subject, q.predicate, q.object) for q in quads}, n_input)
        try:
            n_inferred = rules.extend(store, GRAPH_INFERRED, quads, size=n_inferred,
                                      rules_made=made_by_rules,
                                      check=lambda n: budget.check_inferred(n, n_input))
        except rules.Unsupported:
            return {"carried": False}
        budget.check_inferred(n_inferred, n_input)
        store.extend(read_quads(Path(shapes), GRAPH_SHAPES))
        store.flush()
    finally:
        del store  # closed before the caller moves its directory
    return {"carried": True, "input": n_input, "inferred": n_inferred}


def _work() -> None:
    """Worker process (``python -m untoc_kg.reasoning``): the job as JSON on stdin, the answer
    as one JSON object on stdout."""
    job = json.load(sys.stdin)
    budget = Budget(**job["budget"])
    engine = job.get("engine", "rules")
    limit = budget.max_memory_mib * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # SIGALRM's default action ends the process: a worker whose caller was killed stops too
    signal.setitimer(signal.ITIMER_REAL, budget.seconds + 5)
    try:
        if "extend" in job:
            counts = _extend(job["extend"], job["records"], job["shapes"], budget, job["info"])
        else:
            counts = _materialise(job["graphs"], job["out"], budget, engine)
        answer = {"kind": "ok", "counts": counts}
    except InputError as exc:
        answer = {"kind": "input", "message": str(exc)}
    except ReasoningLimitError as exc:
        answer = {"kind": "limit", "message": str(exc)}
    except UntocError as exc:
        answer = {"kind": "error", "message": str(exc)}
    except MemoryError:
        answer = {"kind": "memory"}
    except BaseException as exc:  # noqa: BLE001 - pyo3 turns a Rust panic into a BaseException
        answer = {"kind": "failed", "message": (str(exc).splitlines() or [type(exc).__name__])[0]}
    sys.stdout.write(json.dumps(answer) + "\n")


def _run(graphs, out: str, budget: Budget, engine: str = "rules") -> dict:
    """``_materialise`` in a worker process, killed when it passes the time limit."""
    return _in_worker({"graphs": graphs, "out": out, "engine": engine}, budget)


def _in_worker(job: dict, budget: Budget) -> dict:
    """The worker's answer to ``job`` (``_work``), within the budget.

    A plain subprocess rather than multiprocessing: nothing depends on how the caller's main
    module is written, and its stderr (Rust panics and allocation failures write there) is
    dropped so the caller reports one line.
    """
    job = json.dumps({**job, "budget": asdict(budget)})
    package_parent = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, RUST_BACKTRACE="0",
               PYTHONPATH=os.pathsep.join(filter(None, [package_parent,
                                                        os.environ.get("PYTHONPATH")])))
    proc = subprocess.Popen([sys.executable, "-m", "untoc_kg.reasoning"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        stdout, _ = proc.communicate(job.encode(), timeout=budget.seconds)
    except subprocess.TimeoutExpired:
        raise ReasoningLimitError(
            f"reasoning stopped: the OWL RL closure ran longer than the time limit of "
            f"{budget.seconds:g} s ({_ENV['seconds']})") from None
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    memory = (f"reasoning stopped: the OWL RL closure ran out of its memory limit of "
              f"{budget.max_memory_mib:,} MiB ({_ENV['max_memory_mib']})")
    try:
        answer = json.loads(stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        if proc.returncode in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV):
            raise ReasoningLimitError(memory) from None  # the allocator aborts at the limit
        raise UntocError(f"the reasoning process stopped without an answer "
                         f"(exit {proc.returncode})") from None
    kind = answer["kind"]
    if kind == "ok":
        return answer["counts"]
    if kind == "input":
        raise InputError(answer["message"])
    if kind == "limit":
        raise ReasoningLimitError(answer["message"])
    if kind == "memory":
        raise ReasoningLimitError(memory)
    if kind == "error":
        raise UntocError(answer["message"])
    raise UntocError(f"the reasoner failed: {answer['message']}")


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise UntocError(f"unknown reasoning engine {engine!r}; use one of {', '.join(ENGINES)}")


def reason(source: GraphSource, *, budget: Budget | None = None,
           engine: str = "rules") -> list[ox.Quad]:
    """Ontology, data and inferred triples as quads in their named graphs, within the budget
    (``Budget.from_env()`` when not given); blank nodes are shared between the graphs."""
    _check_engine(engine)
    with _closure_file(source, budget, engine) as (out, _):
        return list(ox.parse(path=out, format=ox.RdfFormat.N_QUADS))


@contextlib.contextmanager
def _closure_file(source: GraphSource, budget: Budget | None, engine: str):
    """The path of an N-Quads file of ontology, data and inferences, made by the worker within the
    budget (``Budget.from_env()`` when not given), with the worker's counts; removed on leaving."""
    graphs = [(graph, str(path)) for graph, path in source.graphs()]
    with tempfile.TemporaryDirectory(prefix="untoc-reasoning-") as tmp:
        out = os.path.join(tmp, "closure.nq")
        counts = _run(graphs, out, budget or Budget.from_env(), engine)
        yield out, counts


def _extend_copy(source: GraphSource, budget: Budget | None, base: Path, directory: Path,
                 records, quads) -> bool:
    """``carrying.carry``'s ``extend`` for the closure's store: ``_extend`` in the worker on the
    copy in ``directory`` of the store ``base``, which then keeps the new counts."""
    job = {"extend": str(directory), "records": [str(r) for r in records],
           "shapes": str(source.shapes_file), "info": store_info(base)}
    try:
        counts = _in_worker(job, budget or Budget.from_env())
    except (ReasoningLimitError, InputError):  # the closure from the files would be refused too
        raise
    except UntocError:  # the worker failed otherwise: the closure from the files
        return False
    if counts["carried"]:
        keep_store_info(directory, {"input": counts["input"], "inferred": counts["inferred"],
                                    "engine": "rules"})
    return counts["carried"]


def reasoned_store(source: GraphSource, *, cache: bool = True, on_rebuild=None,
                   budget: Budget | None = None, engine: str = "rules") -> ox.Store:
    """Ontology, data and shapes as in ``loading.open_store``, plus a named graph of inferences.

    A closure that passes the budget raises ``ReasoningLimitError`` and leaves no cache behind.
    """
    _check_engine(engine)

    def fill(store: ox.Store) -> dict:
        with _closure_file(source, budget, engine) as (out, counts):
            # one load of the whole file: its blank nodes stay shared between the graphs
            store.bulk_load(path=out, format=ox.RdfFormat.N_QUADS)
        store.bulk_extend(read_quads(source.shapes_file, GRAPH_SHAPES))
        return counts  # kept with the cached store: an extension after an add starts from them

    if not cache or source.extra_files:
        store = ox.Store()
        fill(store)
        return store
    key = source.fingerprint()
    if engine == "rules":
        from .carrying import carry

        # after an add: the closure of the content before it, extended by the rules
        carry(cache_dir(), "reasoned-{}-rules", key,
              functools.partial(_extend_copy, source, budget), on_rebuild)
    # the engine is part of the key: a cache built by another engine (or before the rules were
    # the default) is rebuilt, not reused
    return cached_store("reasoned", f"{key}-{engine}", fill, on_rebuild,
                        current=lambda: source.fingerprint() == key)


if __name__ == "__main__":
    _work()
