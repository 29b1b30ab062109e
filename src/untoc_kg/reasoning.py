"""OWL RL inferences: the closure of ontology + data, computed within a budget and cached.

The closure behind ``untoc query --reasoning``, ``untoc export --reasoning`` and ``reasoned_store``
is computed by ``reasonable`` (an OWL 2 RL reasoner in Rust). ``owlrl`` stays available as the
reference (``closure(graph, engine="owlrl")``); on the shipped graph both give the same
instance-level inferences except for two families of triples that say nothing (see
tests/test_reasoning.py): owlrl writes ``x owl:sameAs x`` for every resource, and reasonable types
every subject ``owl:Thing``, including the reified statements, which owlrl only does for instances
of declared classes.

reasonable hands plain literals back as ``xsd:string``-typed ones (RDF 1.1 makes them the same
term; rdflib does not), so its output is normalised to rdflib's plain form before it is compared
with the input; otherwise every plain literal of the data would look like a new inference.

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
check, or by the memory or time limit first. The defaults let the 1M-triple benchmark graph
through (``benchmarks/closure.py``: 116 s and 5.1 GB peak on a busy 2-core machine).
"""

from __future__ import annotations

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

from .errors import InputError, ReasoningLimitError, UntocError
from .loading import GRAPH_DATA, GRAPH_SHAPES, GraphSource, cached_store, read_quads

__all__ = ["GRAPH_INFERRED", "ENGINES", "Budget", "closure", "inferred_triples", "reason",
           "reasoned_store"]

GRAPH_INFERRED = GRAPH_DATA.rsplit("/", 1)[0] + "/inferred"
ENGINES = ("reasonable", "owlrl")

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


def _growth_bound(triples, limit: int) -> tuple[int, str, int, object]:
    """What owl:sameAs sets and transitive properties force, from the input only, before any
    reasoning: (a lower bound of the inferences, its biggest contributor described, the size of
    the largest owl:sameAs set, a member of it). Counting stops soon after the bound passes
    ``limit``."""
    import rdflib

    # membership tests rather than ==: rdflib terms hash in C but compare in Python
    same_as = rdflib.URIRef(_OWL + "sameAs")
    is_transitive = {rdflib.URIRef(_OWL + "TransitiveProperty")}
    rdf_type = {rdflib.URIRef(_RDF_TYPE)}
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
                                                f"set (e.g. {member.n3()})")
    for p, graph in edges.items():
        explicit = sum(len(targets) for targets in graph.values())
        pairs = 0
        for start in graph:  # every node reachable from start is linked to it by p
            seen, stack = set(), list(graph[start])
            while stack:
                n = stack.pop()
                if n not in seen:
                    seen.add(n)
                    stack.extend(graph.get(n, ()))
            pairs += len(seen)
            if pairs - explicit > limit:
                break
        forced = pairs - explicit
        total += forced
        if forced > worst:
            worst, what = forced, f"the transitive property {p.n3()} links at least {pairs:,} pairs"
    return total, what, largest, member


def inferred_triples(triples, *, engine: str = "reasonable", budget: Budget | None = None) -> list:
    """The OWL RL inferences from rdflib ``triples`` (ontology + data): only triples not in the
    input, only RDF ones (no generalized triples), plain literals in rdflib's plain form.

    With a ``budget`` its size limits are applied here (before reasoning, from the input and the
    lower bound, and after); its time and memory limits need a separate process (``reason``).
    """
    import rdflib

    if engine not in ENGINES:
        raise UntocError(f"unknown reasoning engine {engine!r}; use one of {', '.join(ENGINES)}")
    plain = _plain_form()
    base = {(s, p, plain(o)) for s, p, o in triples}
    n_input = len(base)
    if budget is not None:
        budget.check_input(n_input)
        allowed = budget.allowed_inferred(n_input)
        bound, what, largest, member = _growth_bound(base, allowed)
        if largest > budget.max_same_as:
            raise ReasoningLimitError(
                f"reasoning refused: owl:sameAs joins {largest:,} resources into one set (e.g. "
                f"{member.n3()}), more than the limit of {budget.max_same_as:,} "
                f"({_ENV['max_same_as']})")
        if bound > allowed:
            raise budget._too_many(f"{what}; its closure adds at least {bound:,} triples", n_input)
    if engine == "reasonable":
        import reasonable

        reasoner = reasonable.PyReasoner()
        reasoner.from_graph(list(base))
        out = reasoner.reason()
    else:
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


def closure(graph, *, engine: str = "reasonable", budget: Budget | None = None):
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


def _materialise(graphs, out: str, budget: Budget) -> dict:
    """Read the files, reason, write ontology + data + inferred graphs as N-Quads to ``out``.

    The input goes through pyoxigraph (blank nodes relabelled apart per file, as everywhere in
    the package) and is written back from the same terms, so the data graph and the inferred
    graph share blank nodes and literals keep their lexical form.
    """
    from .querying import from_rdflib, to_rdflib

    quads = []
    for graph, path in graphs:
        quads += read_quads(Path(path), graph)
        budget.check_input(len(quads))  # file by file, before converting anything
    to_ours, back = {}, {}

    def convert(term):
        mine = to_ours.get(term)
        if mine is None:
            mine = to_ours[term] = to_rdflib(term)
            back.setdefault(mine, term)
        return mine

    base = [(convert(q.subject), convert(q.predicate), convert(q.object)) for q in quads]
    inferred = inferred_triples(base, budget=budget)

    def restore(term):
        theirs = back.get(term)
        if theirs is None:
            theirs = back[term] = from_rdflib(term)
        return theirs

    g = ox.NamedNode(GRAPH_INFERRED)
    quads += [ox.Quad(restore(s), restore(p), restore(o), g) for s, p, o in inferred]
    ox.serialize(quads, output=out, format=ox.RdfFormat.N_QUADS)
    return {"input": len(base), "inferred": len(inferred)}


def _work() -> None:
    """Worker process (``python -m untoc_kg.reasoning``): the job as JSON on stdin, the answer
    as one JSON object on stdout."""
    job = json.load(sys.stdin)
    budget = Budget(**job["budget"])
    limit = budget.max_memory_mib * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # SIGALRM's default action ends the process: a worker whose caller was killed stops too
    signal.setitimer(signal.ITIMER_REAL, budget.seconds + 5)
    try:
        answer = {"kind": "ok", "counts": _materialise(job["graphs"], job["out"], budget)}
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


def _run(graphs, out: str, budget: Budget) -> dict:
    """``_materialise`` in a worker process, killed when it passes the time limit.

    A plain subprocess rather than multiprocessing: nothing depends on how the caller's main
    module is written, and its stderr (Rust panics and allocation failures write there) is
    dropped so the caller reports one line.
    """
    job = json.dumps({"graphs": graphs, "out": out, "budget": asdict(budget)})
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


def reason(source: GraphSource, *, budget: Budget | None = None) -> list[ox.Quad]:
    """Ontology, data and inferred triples as quads in their named graphs, within the budget
    (``Budget.from_env()`` when not given); blank nodes are shared between the graphs."""
    budget = budget or Budget.from_env()
    graphs = [(graph, str(path)) for graph, path in source.graphs()]
    with tempfile.TemporaryDirectory(prefix="untoc-reasoning-") as tmp:
        out = os.path.join(tmp, "closure.nq")
        _run(graphs, out, budget)
        return list(ox.parse(path=out, format=ox.RdfFormat.N_QUADS))


def reasoned_store(source: GraphSource, *, cache: bool = True, on_rebuild=None,
                   budget: Budget | None = None) -> ox.Store:
    """Ontology, data and shapes as in ``loading.open_store``, plus a named graph of inferences.

    A closure that passes the budget raises ``ReasoningLimitError`` and leaves no cache behind.
    """

    def fill(store: ox.Store) -> None:
        store.bulk_extend(reason(source, budget=budget))
        store.bulk_extend(read_quads(source.shapes_file, GRAPH_SHAPES))

    if not cache or source.extra_files:
        store = ox.Store()
        fill(store)
        return store
    return cached_store("reasoned", source.fingerprint(), fill, on_rebuild)


if __name__ == "__main__":
    _work()
