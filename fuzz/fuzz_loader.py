"""atheris harness: arbitrary bytes as an entry file of every supported format, through the loader.

The first byte picks the format (file suffix); the rest is the file. read_quads and read_rdflib
(what 'untoc validate FILE' and 'untoc add FILE' read entries with) may only succeed or raise the
package's own errors. Run: .venv/bin/python fuzz/fuzz_loader.py fuzz/corpus/loader -max_total_time=120
"""

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["untoc_kg"]):
    from untoc_kg.errors import UntocError
    from untoc_kg.loading import RDF_FORMATS, read_rdflib

SUFFIXES = sorted(RDF_FORMATS)
DIRECTORY = tempfile.mkdtemp(prefix="untoc-fuzz-")


def one_input(data: bytes) -> None:
    if not data:
        return
    path = os.path.join(DIRECTORY, "entry" + SUFFIXES[data[0] % len(SUFFIXES)])
    with open(path, "wb") as fh:
        fh.write(data[1:])
    try:
        read_rdflib([path])
    except UntocError:
        pass


if __name__ == "__main__":
    os.environ.setdefault("UNTOC_MAX_INPUT_BYTES", str(1 << 20))
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
