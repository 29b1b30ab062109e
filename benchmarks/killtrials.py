"""Kill -9 trials: `untoc add` killed at any moment never leaves data/ half written.

    python benchmarks/killtrials.py                              # every fault point + 200 random kills
    python benchmarks/killtrials.py --random 50 --watch 50 --seed 7
    python benchmarks/killtrials.py --data DIR --entry FILE      # another copy of the data, entry

Each trial copies the data directory, starts ``untoc --data COPY add ENTRY`` in a subprocess, kills
it with SIGKILL, then runs a read-only command (``untoc queries``), which finishes or discards what
the killed ``add`` left. The copy must then be byte-identical (every file hashed; the empty lock
file ignored) to the data before the add or to the reference after-state of an uninterrupted add.
Anything else is counted as "other" and makes the script exit 1.

Three ways of choosing the moment:

``fault``   every step named in ``untoc_kg.adding.FAULT_POINTS``, through the test-only hook
            ``UNTOC_FAULT_POINT`` (the process SIGKILLs itself there): deterministic coverage of the
            write and rename window, which lasts milliseconds of a run of seconds.
``random``  a delay drawn uniformly from the whole run time of an uninterrupted add (measured
            first, lowered whenever a trial finishes before its kill); most land while the entry is
            being validated. A trial whose add finished first still counts, as not killed.
``watch``   the trial polls for the staging directory and kills after a random delay within the
            measured write window (its appearance to its removal, plus a fifth): random moments inside the window that matters, without the hook.

The query cache lives in a temporary directory (the user's cache is never touched).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from untoc_kg.adding import FAULT_POINTS, LOCK, STAGING  # noqa: E402

UNTOC = [sys.executable, "-c", "from untoc_kg.cli import main; main()"]


def digest(directory: Path) -> dict[str, str]:
    """Relative path → sha256 of every file under ``directory`` (the lock file left out)."""
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file() and p.name != LOCK}


class Trials:
    """The before and after states of one add, and trials against them."""

    def __init__(self, data: Path, entry: Path, work: Path):
        self.data, self.entry, self.work = Path(data), Path(entry), Path(work)
        self.env = dict(os.environ, UNTOC_CACHE_DIR=str(self.work / "cache"))
        self.env.pop("UNTOC_FAULT_POINT", None)
        self.before = digest(self.data)
        ref = self._copy("reference")
        self._untoc(ref, "queries")  # warm the interpreter's file cache before timing
        started = time.monotonic()
        proc = subprocess.Popen([*UNTOC, "--data", str(ref), "add", str(self.entry)], env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        window_start = window_end = None
        while proc.poll() is None:
            staged = (ref / STAGING).is_dir()
            if window_start is None and staged:
                window_start = time.monotonic()
            elif window_start is not None and window_end is None and not staged:
                window_end = time.monotonic()
            time.sleep(0.0002)
        ended = time.monotonic()
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"the uninterrupted add failed: {err.strip() or out.strip()}")
        self.after = digest(ref)
        if self.after == self.before:
            raise SystemExit(f"{self.entry} adds nothing to {self.data}: choose another entry")
        self.run_time = ended - started
        # From the staging directory's appearance to its removal after the renames; polling can
        # miss a very short window, and then the process exit bounds it.
        start = window_start or ended
        self.window = max((window_end or ended) - start, 0.002)
        shutil.rmtree(ref)

    def _copy(self, name: str) -> Path:
        target = self.work / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(self.data, target)
        return target

    def _untoc(self, data: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*UNTOC, "--data", str(data), *args], env=env or self.env,
                              capture_output=True, text=True, timeout=600)

    def _start(self, data: Path, env: dict) -> subprocess.Popen:
        return subprocess.Popen([*UNTOC, "--data", str(data), "add", str(self.entry)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _outcome(self, data: Path) -> str:
        reader = self._untoc(data, "queries")
        if reader.returncode != 0:
            return "other"
        state = digest(data)
        return "before" if state == self.before else "after" if state == self.after else "other"

    def fault(self, point: str) -> tuple[str, bool]:
        """Kill at a named step; (outcome, whether the step was reached and the process killed)."""
        data = self._copy("trial")
        proc = self._start(data, dict(self.env, UNTOC_FAULT_POINT=point))
        proc.wait(timeout=600)
        return self._outcome(data), proc.returncode == -signal.SIGKILL

    def random(self, rng: random.Random) -> tuple[str, bool]:
        """Kill after a random delay within the run time of an uninterrupted add."""
        data = self._copy("trial")
        started = time.monotonic()
        proc = self._start(data, self.env)
        try:
            proc.wait(timeout=rng.uniform(0, self.run_time))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
        else:  # finished first: aim the next delays at this (shorter) run time
            self.run_time = min(self.run_time, time.monotonic() - started)
        proc.wait()
        return self._outcome(data), proc.returncode == -signal.SIGKILL

    def watch(self, rng: random.Random) -> tuple[str, bool]:
        """Kill at a random moment after the staging directory appears (the write window)."""
        data = self._copy("trial")
        proc = self._start(data, self.env)
        while proc.poll() is None and not (data / STAGING).is_dir():
            time.sleep(0.0002)
        delay = rng.uniform(0, self.window * 1.2)
        deadline = time.monotonic() + delay
        while proc.poll() is None and time.monotonic() < deadline:
            pass  # busy wait: sleep() is too coarse for a window of milliseconds
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        return self._outcome(data), proc.returncode == -signal.SIGKILL


def run(data: Path, entry: Path, *, points=FAULT_POINTS, n_random: int = 200, n_watch: int = 50,
        seed: int = 1, progress=None) -> dict[str, Counter]:
    """Run the trials; mode → Counter of outcomes (before/after/other) and of 'killed'."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="untoc-killtrials-") as tmp:
        trials = Trials(data, entry, Path(tmp))
        results: dict[str, Counter] = {}
        plan = ([("fault", p) for p in points] + [("random", None)] * n_random
                + [("watch", None)] * n_watch)
        for i, (mode, point) in enumerate(plan, 1):
            if mode == "fault":
                outcome, killed = trials.fault(point)
                key = f"fault:{point}"
            else:
                outcome, killed = getattr(trials, mode)(rng)
                key = mode
            counts = results.setdefault(key, Counter())
            counts[outcome] += 1
            counts["killed"] += killed
            if progress:
                progress(i, len(plan), key, outcome, killed)
        results["_timing"] = Counter(run_ms=round(trials.run_time * 1000),
                                     window_ms=round(trials.window * 1000, 1))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="data directory to copy")
    parser.add_argument("--entry", type=Path, default=ROOT / "tests/fixtures/entries/new-meeting.ttl")
    parser.add_argument("--random", type=int, default=200, help="random-delay kills")
    parser.add_argument("--watch", type=int, default=50, help="kills inside the write window")
    parser.add_argument("--no-faults", action="store_true", help="skip the fault-point trials")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per trial")
    args = parser.parse_args()

    def progress(i, total, key, outcome, killed):
        if args.verbose:
            print(f"{i:>4}/{total} {key:<20} {outcome:<6} {'killed' if killed else 'finished'}",
                  file=sys.stderr, flush=True)

    started = time.monotonic()
    results = run(args.data, args.entry, points=() if args.no_faults else FAULT_POINTS,
                  n_random=args.random, n_watch=args.watch, seed=args.seed, progress=progress)
    timing = results.pop("_timing")
    print(f"uninterrupted add: {timing['run_ms']} ms; write window seen: {timing['window_ms']} ms")
    print(f"{'trials':<22}{'n':>5}{'killed':>8}{'before':>8}{'after':>7}{'other':>7}")
    total = Counter()
    for key, c in results.items():
        n = c["before"] + c["after"] + c["other"]
        total.update(c)
        total["n"] += n
        print(f"{key:<22}{n:>5}{c['killed']:>8}{c['before']:>8}{c['after']:>7}{c['other']:>7}")
    print(f"{'total':<22}{total['n']:>5}{total['killed']:>8}{total['before']:>8}{total['after']:>7}"
          f"{total['other']:>7}")
    print(f"{time.monotonic() - started:.0f} s")
    sys.exit(1 if total["other"] else 0)


if __name__ == "__main__":
    main()
