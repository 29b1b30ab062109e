"""OWL RL inferences: the closure of ontology + data, computed with owlrl and cached."""

from __future__ import annotations

import pyoxigraph as ox

from .loading import (GRAPH_DATA, GRAPH_ONTOLOGY, GRAPH_SHAPES, GraphSource, cached_store,
                      read_quads, read_rdflib)
from .querying import from_rdflib

__all__ = ["GRAPH_INFERRED", "closure", "reason", "reasoned_store"]

GRAPH_INFERRED = GRAPH_DATA.rsplit("/", 1)[0] + "/inferred"


def closure(graph):
    """The OWL RL closure of an rdflib graph, as a new rdflib graph (input untouched)."""
    import owlrl
    import rdflib

    expanded = rdflib.Graph()
    for triple in graph:
        expanded.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, rdfs_closure=False, axiomatic_triples=False,
                           datatype_axioms=False).expand(expanded)
    return expanded


def reason(source: GraphSource):
    """(ontology graph, data graph, inferred graph) as rdflib graphs sharing blank nodes."""
    import rdflib

    ontology = read_rdflib([source.ontology_file])
    data = read_rdflib([*source.data_files, *source.extra_files])
    base = rdflib.Graph()
    for t in ontology:
        base.add(t)
    for t in data:
        base.add(t)
    full = closure(base)
    inferred = rdflib.Graph()
    for t in full:
        # OWL RL rules also derive generalized triples (literal subjects), which RDF cannot hold.
        if t not in base and not isinstance(t[0], rdflib.Literal) and isinstance(t[1], rdflib.URIRef):
            inferred.add(t)
    return ontology, data, inferred


def reasoned_store(source: GraphSource, *, cache: bool = True, on_rebuild=None) -> ox.Store:
    """Ontology, data and shapes as in ``loading.open_store``, plus a named graph of inferences."""

    def fill(store: ox.Store) -> None:
        graphs = zip((GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_INFERRED), reason(source))
        for name, graph in graphs:
            g = ox.NamedNode(name)
            store.extend(ox.Quad(from_rdflib(s), from_rdflib(p), from_rdflib(o), g)
                         for s, p, o in graph)
        store.extend(read_quads(source.shapes_file, GRAPH_SHAPES))

    if not cache or source.extra_files:
        store = ox.Store()
        fill(store)
        return store
    return cached_store("reasoned", source.fingerprint(), fill, on_rebuild)
