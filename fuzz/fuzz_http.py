"""atheris harness: HTTP request targets and Accept headers into the server's request handling.

Service.handle (what the HTTP handler calls) is given GET requests for arbitrary paths and query
strings, without a socket; /sparql and /queries/NAME, which run each query in a worker process,
are left to tests/test_serve.py. negotiate() gets arbitrary Accept headers. A reply of any status
is fine; an exception other than the package's own is a crash.
Run: .venv/bin/python fuzz/fuzz_http.py fuzz/corpus/http -max_total_time=120
"""

import sys

import atheris

with atheris.instrument_imports(include=["untoc_kg"]):
    from untoc_kg.errors import UntocError
    from untoc_kg.negotiation import RDF_TYPES, RESULT_TYPES, negotiate
    from untoc_kg.serving import Service

SERVICE = None
PREFIXES = ("/id/", "/queries", "/ontology", "/", "/timeline", "/lineage", "/id/meeting/")


def one_input(data: bytes) -> None:
    global SERVICE
    if SERVICE is None:
        SERVICE = Service(timeout=5, max_rows=100)
    fdp = atheris.FuzzedDataProvider(data)
    accept = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 80))
    prefix = PREFIXES[fdp.ConsumeIntInRange(0, len(PREFIXES) - 1)]
    target = prefix + fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    for offers in (RESULT_TYPES, RDF_TYPES):
        negotiate(accept, offers, next(iter(offers.values())))
    if target.split("?", 1)[0].startswith(("/sparql", "/queries/")):
        return
    try:
        reply = SERVICE.handle("GET", target, {"Accept": accept})
    except UntocError:
        return
    assert 200 <= reply.status < 600, reply.status


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
