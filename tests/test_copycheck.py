"""The project repeats no run of 12+ words of the source paper (official names and titles aside)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COPYCHECK = ROOT.parent / "shared" / "tools" / "copycheck.py"


def test_no_sentences_copied_from_the_source():
    if not COPYCHECK.is_file():
        pytest.skip(f"{COPYCHECK} is not beside this checkout")
    proc = subprocess.run([sys.executable, str(COPYCHECK), str(ROOT)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
