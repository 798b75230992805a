"""A real `forewarn batch` killed with SIGKILL mid-run, twice, then finished by re-running.

The runs are real processes (the parent and its worker pool, killed together as a
process group, as `kill -9` of a job or the OOM killer would). Afterwards every work is
stored exactly once, the SQLite file passes its integrity check, every report parses,
the warning rows are exactly the reports' warnings, the results equal those of one
uninterrupted run, and the re-runs skipped what was already stored.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_batch import check_consistent

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "bench" / "corpus" / "novel-chapters").glob("*.txt"))
WORKS = 300


def forewarn() -> list[str]:
    exe = Path(sys.executable).with_name("forewarn")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "forewarn"]


def make_corpus(folder: Path) -> int:
    """WORKS small stories (four shuffled paragraphs each) and two bad files."""
    paragraphs = [p.strip() for path in CHAPTERS
                  for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    rng = random.Random(7)
    for i in range(WORKS):
        sub = folder / f"{i // 50:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"w{i:04d}.txt").write_text("\n\n".join(rng.sample(paragraphs, 4)) + "\n",
                                           encoding="utf-8")
    (folder / "empty.txt").write_text("\n", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    return WORKS + 2


def count_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM works").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _default_sigint() -> None:
    # A test runner started in the background by a shell inherits SIGINT ignored, and
    # Python then leaves it ignored (rightly: so does forewarn). Ctrl-C is what these
    # tests are about, so the run under test gets the terminal's default back.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(folder: Path, db: Path, chunk_size: int = 2) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*forewarn(), "batch", str(folder), "--store", str(db), "--jobs", "2",
         "--chunk-size", str(chunk_size), "--json", "--progress-interval", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=_default_sigint)


def kill_when(proc: subprocess.Popen[bytes], db: Path, rows: int, deadline: float = 90) -> int:
    """SIGKILL the run's process group once the store holds ``rows`` works."""
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        n = count_rows(db)
        if n >= rows:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            return n
        if proc.poll() is not None:
            _out, err = proc.communicate()
            raise AssertionError(f"the run ended before it could be killed ({proc.returncode}):"
                                 f" {err.decode()[-2000:]}")
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError("the store never reached the row count to kill at")


def test_sigkill_mid_run_then_resume_stores_every_work_once(tmp_path):
    folder = tmp_path / "corpus"
    total = make_corpus(folder)
    db = tmp_path / "results.db"

    first = kill_when(start(folder, db), db, 40)
    assert 0 < count_rows(db) < total
    second = kill_when(start(folder, db), db, first + 60)
    assert first < count_rows(db) < total

    proc = start(folder, db)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err.decode()[-2000:]
    summary = json.loads(out)
    # The two bad files come first: they failed (and were stored) in the first run, and
    # unchanged failures are not retried.
    assert summary["skipped_failed"] == 2 and summary["failed"] == 0
    assert summary["skipped"] >= second  # what was stored was not scanned again
    assert summary["skipped"] + summary["scanned"] + summary["failed"] == total

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT work_id) FROM works").fetchone() == (
        total, total)
    assert conn.execute("SELECT COUNT(*) FROM work_warnings WHERE work_id NOT IN "
                        "(SELECT work_id FROM works)").fetchone()[0] == 0
    failed = dict(conn.execute("SELECT work_id, error_kind FROM works WHERE status='failed'"))
    assert failed == {"empty.txt": "empty", "binary.txt": "unsupported"}
    resumed = conn.execute("SELECT work_id, warning, severity, confidence FROM work_warnings "
                           "ORDER BY 1, 2").fetchall()
    conn.close()
    check_consistent(db)

    # The same results as one uninterrupted run (in one process, for speed).
    reference = tmp_path / "reference.db"
    done = subprocess.run([*forewarn(), "batch", str(folder), "--store", str(reference),
                           "--jobs", "1", "-q", "--json"], capture_output=True, timeout=180)
    assert done.returncode == 11, done.stderr.decode()[-2000:]
    conn = sqlite3.connect(reference)
    assert conn.execute("SELECT work_id, warning, severity, confidence FROM work_warnings "
                        "ORDER BY 1, 2").fetchall() == resumed
    conn.close()

    # And one more run has nothing left to do.
    again = subprocess.run([*forewarn(), "batch", str(folder), "--store", str(db), "-q",
                            "--json"], capture_output=True, timeout=120)
    assert again.returncode == 0
    assert json.loads(again.stdout)["skipped"] == total


def test_ctrl_c_stops_cleanly_with_exit_code_130(tmp_path):
    folder = tmp_path / "corpus"
    make_corpus(folder)
    db = tmp_path / "results.db"
    proc = start(folder, db)
    stop = time.monotonic() + 90
    while count_rows(db) < 10 and proc.poll() is None and time.monotonic() < stop:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert b"interrupted" in err and b"Traceback" not in err
    summary = json.loads(out)
    assert summary["interrupted"] is True
    assert count_rows(db) >= summary["scanned"] + summary["failed"] > 0
    check_consistent(db)


def _read_until(proc: subprocess.Popen[bytes], marker: bytes, timeout: float) -> bytes:
    """Standard error as it comes, until it holds ``marker`` (or ``timeout`` passes)."""
    import select

    assert proc.stderr is not None
    seen = b""
    stop = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < stop:
        ready, _, _ = select.select([proc.stderr], [], [], 0.1)
        if ready:
            chunk = os.read(proc.stderr.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.parametrize("when", ["at-once", "after-the-message"])
def test_a_second_ctrl_c_exits_at_once_with_130_keeping_what_is_stored(tmp_path, when):
    folder = tmp_path / "corpus"
    make_corpus(folder)
    db = tmp_path / "results.db"
    # chunks of 16 works take a while each: plenty of time for a Ctrl-C while the first
    # is handled (before, the run then waited at exit for the workers' chunks to finish)
    proc = start(folder, db, chunk_size=16)
    stop = time.monotonic() + 90
    while count_rows(db) < 10 and proc.poll() is None and time.monotonic() < stop:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    if when == "at-once":  # while the first is being handled
        time.sleep(0.02)
        early = b""
    else:  # once it has said so (before: it then waited for the workers, at exit)
        early = _read_until(proc, b"interrupted", 30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    stopped = time.monotonic()
    try:
        _out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:  # before: a traceback, then it hung
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError("a second Ctrl-C left forewarn batch hanging") from None
    err = early + err
    assert time.monotonic() - stopped < 10
    assert proc.returncode == 130, err.decode()[-2000:]
    assert b"Traceback" not in err and b"interrupted" in err
    assert all(line.startswith(b"forewarn") for line in err.splitlines()), err.decode()
    assert count_rows(db) >= 10  # what was stored is still there, and consistent
    check_consistent(db)
    _no_process_left(proc.pid)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(b")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    return state != b"Z"  # a zombie has ended (a container's init may not reap it)


def _no_process_left(group: int) -> None:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return
    alive = [p for p in os.listdir("/proc") if p.isdigit() and _alive(int(p))
             and os.getpgid(int(p)) == group] if sys.platform.startswith("linux") else []
    if alive:
        os.killpg(group, signal.SIGKILL)
        raise AssertionError(f"processes of the run are still alive: {alive}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_exit_when_the_batch_parent_is_killed(tmp_path, method):
    folder = tmp_path / "corpus"
    make_corpus(folder)
    db = tmp_path / "results.db"
    proc = subprocess.Popen(
        [*forewarn(), "batch", str(folder), "--store", str(db), "--jobs", "2",
         "--chunk-size", "2", "-q", "--start-method", method],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        stop = time.monotonic() + 90
        while count_rows(db) < 6 and proc.poll() is None and time.monotonic() < stop:
            time.sleep(0.01)
        workers = [p for p in _children(proc.pid) if _alive(p)]
        assert len(workers) >= 2, workers  # (spawn adds a resource tracker)
        os.kill(proc.pid, signal.SIGKILL)  # the parent only, as the OOM killer would
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = [p for p in workers if _alive(p)]
        assert not left, f"workers outlived their parent: {left}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
