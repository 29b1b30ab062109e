"""`untoc add` never loses data: killed at any step, racing another add or a reader, on a full or
read-only disk, data/ ends either as it was or as the finished add leaves it, with a one-line error.

Failures are real ones where the machine allows: SIGKILL (benchmarks/killtrials.py, through the
test-only UNTOC_FAULT_POINT hook and at random moments), a small tmpfs that fills up or is remounted
read-only, a file-size limit (RLIMIT_FSIZE), an unprivileged user. A mechanism the machine refuses
(mounting without privileges, switching user without root) skips its test and says why.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from untoc_kg import adding
from untoc_kg.cli import cli

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "tests" / "fixtures" / "entries" / "new-meeting.ttl"
sys.path.insert(0, str(ROOT / "benchmarks"))

import killtrials  # noqa: E402

UNTOC = [sys.executable, "-c", "from untoc_kg.cli import main; main()"]
BEFORE_COMMIT = ("locked", "staging-dir", "staged-file", "commit-tmp")


@pytest.fixture
def data_copy(tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(ROOT / "data", target)
    return target


@pytest.fixture(scope="module")
def after_state(tmp_path_factory) -> dict[str, str]:
    """Digest of data/ after an uninterrupted add of the entry (in-process)."""
    data = tmp_path_factory.mktemp("after") / "data"
    shutil.copytree(ROOT / "data", data)
    adding.add(adding.GraphSource.default(data), [ENTRY])
    return killtrials.digest(data)


def untoc(data: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*UNTOC, "--data", str(data), *args], capture_output=True, text=True,
                          timeout=600, **kwargs)


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("Error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


# --- kill -9 -----------------------------------------------------------------------------------

def test_fault_points_are_all_in_the_code():
    text = Path(adding.__file__).read_text()
    for point in adding.FAULT_POINTS:
        assert f'_fault("{point}")' in text


def test_sigkill_at_every_step_and_at_random_moments_leaves_before_or_after():
    results = killtrials.run(ROOT / "data", ENTRY, n_random=12, n_watch=8, seed=20240611)
    results.pop("_timing")
    for point in adding.FAULT_POINTS:
        counts = results[f"fault:{point}"]
        assert counts["killed"] == 1, (point, counts)  # the step was reached and the process died
        expected = "before" if point in BEFORE_COMMIT else "after"
        assert counts[expected] == 1, (point, counts)
    assert sum(c["other"] for c in results.values()) == 0, results
    assert sum(results["random"][k] for k in ("before", "after")) == 12
    assert sum(results["watch"][k] for k in ("before", "after")) == 8


# --- concurrency -------------------------------------------------------------------------------

def test_add_refuses_with_a_message_when_another_add_keeps_the_lock(data_copy, monkeypatch):
    before = killtrials.digest(data_copy)
    monkeypatch.setattr(adding, "LOCK_TIMEOUT", 0.3)
    with adding.data_lock(data_copy):  # flock: a second open file conflicts, even in this process
        result = CliRunner().invoke(cli, ["--data", str(data_copy), "add", str(ENTRY)], obj={})
    assert result.exit_code == 1
    assert "another 'untoc add' is still writing" in result.output
    assert killtrials.digest(data_copy) == before


def test_reader_leaves_the_staging_of_a_live_add_alone(data_copy, after_state):
    """A reader's recovery must not take a live add's staging directory for a crash's leftovers."""
    staging = data_copy / adding.STAGING
    with adding.data_lock(data_copy):  # what a live add holds while it writes its staging files
        staging.mkdir()
        (staging / "meetings.ttl").write_text("# half written\n")
        assert CliRunner().invoke(cli, ["--data", str(data_copy), "queries"], obj={}).exit_code == 0
        assert (staging / "meetings.ttl").is_file()
    assert CliRunner().invoke(cli, ["--data", str(data_copy), "queries"], obj={}).exit_code == 0
    assert not staging.exists()  # the add is gone: now its leftovers are discarded


def test_two_identical_concurrent_adds_equal_one(data_copy, after_state):
    procs = [subprocess.Popen([*UNTOC, "--data", str(data_copy), "add", str(ENTRY)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outcomes = [p.communicate(timeout=600) + (p.returncode,) for p in procs]
    assert [rc for _, _, rc in outcomes] == [0, 0], outcomes
    assert sorted("nothing to add" in out for out, _, _ in outcomes) == [False, True], outcomes
    assert killtrials.digest(data_copy) == after_state


# --- full and read-only disks ------------------------------------------------------------------

def _mount_tmpfs(path: Path, size: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")


def _remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True,
                   capture_output=True)


@pytest.fixture
def tmpfs(tmp_path):
    mountpoint = tmp_path / "fs"
    _mount_tmpfs(mountpoint, "4m")
    yield mountpoint
    subprocess.run(["umount", str(mountpoint)], capture_output=True)


def test_disk_full_gives_one_line_and_changes_nothing(tmpfs):
    data = tmpfs / "data"
    shutil.copytree(ROOT / "data", data)
    used = os.statvfs(tmpfs)
    used_bytes = (used.f_blocks - used.f_bfree) * used.f_frsize
    _remount(tmpfs, f"size={used_bytes + 32 * 1024}")  # room for the lock file, not the staged copy
    before = killtrials.digest(data)
    proc = untoc(data, "add", str(ENTRY))
    assert_one_line_error(proc, "No space left on device", "nothing was changed")
    assert killtrials.digest(data) == before
    assert not (data / adding.STAGING).exists()


def test_read_only_file_system_gives_one_line_and_changes_nothing(tmpfs):
    data = tmpfs / "data"
    shutil.copytree(ROOT / "data", data)
    _remount(tmpfs, "ro")
    before = killtrials.digest(data)
    proc = untoc(data, "add", str(ENTRY))
    assert_one_line_error(proc, "Read-only file system", "nothing was changed")
    assert killtrials.digest(data) == before
    assert untoc(data, "queries").returncode == 0  # reading still works


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, 16 * 1024))


def test_file_size_limit_gives_one_line_and_changes_nothing(data_copy):
    """A disk that fills up mid-file, wherever the data lives: writes past RLIMIT_FSIZE fail."""
    before = killtrials.digest(data_copy)
    proc = untoc(data_copy, "add", str(ENTRY), preexec_fn=_limit_file_size)
    assert_one_line_error(proc, "File too large", "nothing was changed")
    assert killtrials.digest(data_copy) == before
    assert not (data_copy / adding.STAGING).exists()


def test_cache_that_cannot_be_written_falls_back_to_memory(data_copy, tmp_path):
    """Building the query store hits the file-size limit: the query is answered from a store in
    memory, with no traceback and no half-built cache left behind (it was a traceback)."""
    cache = tmp_path / "cache"
    proc = untoc(data_copy, "query", "wg-meetings", "-f", "csv", preexec_fn=_limit_file_size,
                 env={**os.environ, "UNTOC_CACHE_DIR": str(cache)})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stdout.splitlines()) > 1
    assert not [p for p in cache.iterdir() if p.name.startswith((".store", "store"))]


def test_data_dir_without_write_permission(tmp_path):
    """As an unprivileged user (root ignores permission bits, so the test switches to nobody)."""
    if os.geteuid() != 0:
        pytest.skip("switching to an unprivileged user needs root")
    top = Path(tempfile.mkdtemp(prefix="untoc-perm-"))
    try:
        top.chmod(0o755)
        data, cache = top / "data", top / "cache"
        shutil.copytree(ROOT / "data", data)
        cache.mkdir()
        os.chown(cache, 65534, 65534)
        entry = top / "entry.ttl"
        shutil.copy(ENTRY, entry)

        def as_nobody():
            os.setgid(65534)
            os.setgroups([])
            os.setuid(65534)

        before = killtrials.digest(data)
        env = dict(os.environ, UNTOC_CACHE_DIR=str(cache), HOME=str(cache))
        try:
            proc = untoc(data, "add", str(entry), preexec_fn=as_nobody, env=env, cwd=top)
        except (PermissionError, subprocess.SubprocessError) as exc:
            pytest.skip(f"cannot run as an unprivileged user here: {exc}")
        if "Permission denied" in proc.stderr and "python" in proc.stderr.lower():
            pytest.skip(f"the unprivileged user cannot run the interpreter: {proc.stderr.strip()}")
        assert_one_line_error(proc, "Permission denied", "nothing was changed")
        assert killtrials.digest(data) == before
    finally:
        shutil.rmtree(top, ignore_errors=True)
