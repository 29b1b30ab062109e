"""atheris harness: SPARQL text and saved-query parameter values.

Each input is split in two: a parameter value bound to every parameter of every saved query
(catalogue type checking), and SPARQL text run on a small in-memory store through the local query
path (which refuses SERVICE/FROM/LOAD). Only success or the package's errors are allowed.
Run: .venv/bin/python fuzz/fuzz_query.py fuzz/corpus/query -max_total_time=120
"""

import sys

import atheris

with atheris.instrument_imports(include=["untoc_kg"]):
    import pyoxigraph as ox

    from untoc_kg.catalogue import Catalogue
    from untoc_kg.errors import UntocError
    from untoc_kg.loading import GraphSource
    from untoc_kg.querying import run_query

SOURCE = GraphSource.default()
CATALOGUE = Catalogue.from_dir(SOURCE.queries_dir)
STORE = ox.Store()
STORE.extend(ox.parse(b"""@prefix ex: <http://example.org/> .
ex:a ex:p ex:b , 1 , "x"@en ; ex:q [ ex:r ex:c ] . ex:b ex:p ex:a .""", ox.RdfFormat.TURTLE))


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    value = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 200))
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    for saved in CATALOGUE:
        for p in saved.params:
            try:
                saved.bindings({p.name: value})
            except UntocError:
                pass
    try:
        run_query(STORE, text)
    except UntocError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
