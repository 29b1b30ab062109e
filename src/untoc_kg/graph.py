"""``KnowledgeGraph``: the library's front door, the same features the CLI offers."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from .catalogue import Catalogue, SavedQuery, load_query
from .errors import QueryError
from .loading import GraphSource, open_store, read_rdflib
from .querying import QueryResult, run_query

__all__ = ["KnowledgeGraph"]

STAGING = ".untoc-staging"  # adding.STAGING, where an interrupted 'add' leaves its files


class KnowledgeGraph:
    """The shipped graph (or another copy of its data) with its saved queries.

    >>> kg = KnowledgeGraph()
    >>> result = kg.query("wg-meetings")            # a saved query by name
    >>> result = kg.query(sparql="ASK { ?s ?p ?o }")  # or ad-hoc SPARQL
    """

    def __init__(self, data_dir: str | Path | None = None, *, cache: bool = True, on_rebuild=None):
        self.source = GraphSource.default(data_dir)
        try:  # finish or discard an 'add' that a crash interrupted
            if (self.source.data_dir / STAGING).is_dir():  # not importing adding saves startup time
                from .adding import recover

                recover(self.source.data_dir)
        except OSError:
            pass
        self._cache = cache
        self._on_rebuild = on_rebuild

    @cached_property
    def catalogue(self) -> Catalogue:
        return Catalogue.from_dir(self.source.queries_dir)

    @cached_property
    def store(self):
        """pyoxigraph store: ontology, data and shapes as named graphs."""
        return open_store(self.source, cache=self._cache, on_rebuild=self._on_rebuild)

    @cached_property
    def rdflib_graph(self):
        """rdflib graph of ontology + data (no shapes): for validation and reasoning."""
        return read_rdflib([self.source.ontology_file, *self.source.data_files])

    def saved(self, name_or_path: str) -> SavedQuery:
        """A saved query by catalogue name, or a ``.rq`` file path."""
        path = Path(name_or_path)
        if path.suffix == ".rq":
            if not path.is_file():
                raise QueryError(f"no such query file: {name_or_path}")
            return load_query(path)
        return self.catalogue.get(name_or_path)

    def query(self, name: str | None = None, params: dict[str, str] | None = None, *,
              sparql: str | None = None, store=None) -> QueryResult:
        """Run a saved query (``name``, with typed ``params``) or ad-hoc ``sparql``."""
        if (name is None) == (sparql is None):
            raise QueryError("give either a saved query name or SPARQL text, not both")
        target = self.store if store is None else store
        if sparql is not None:
            if params:
                raise QueryError("parameters apply to saved queries only")
            return run_query(target, sparql)
        saved = self.saved(name)
        return run_query(target, saved.text, saved.bindings(params))

    def describe(self, thing: str):
        """One entity by IRI, CURIE or label: a ``describe.Description``."""
        from .describe import describe, find_entity

        return describe(self.store, find_entity(self.store, thing))

    def validate(self, files=()):
        """SHACL report for the graph, or for new entry ``files`` checked together with it."""
        from .validation import validate

        return validate(self.source.with_extra(files), on_rebuild=self._on_rebuild)

    def add(self, files, *, dry_run: bool = False):
        """Validate new entry ``files`` and merge them into the data (all or nothing)."""
        from .adding import add

        return add(self.source, files, dry_run=dry_run)

    def export(self, fmt: str = "turtle", *, reasoning: bool = False) -> bytes:
        """The whole graph with its VoID description, in one of ``export.EXPORT_FORMATS``."""
        from .export import export

        return export(self.source, fmt, reasoning=reasoning)

    def docs(self, out_dir: str | Path):
        """Write the ontology's documentation site (as ``untoc docs -o``); returns the files."""
        from .ontodocs import write_docs

        return write_docs(out_dir, self.source)

    def stats(self):
        """Counts per class and property, and entities lacking labels: a ``stats.Stats``."""
        from .stats import stats

        return stats(self.store)
