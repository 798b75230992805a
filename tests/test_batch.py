"""`forewarn batch`: inputs (folders, JSONL, Parquet), failures, idempotent re-runs, the
process pool, progress, and that Dask is never imported without --cluster."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import forewarn.batch.run as batch_run
import forewarn.batch.tasks as batch_tasks
from forewarn.cli import main
from forewarn.progress import Progress, format_duration

ROOT = Path(__file__).resolve().parent.parent
STORIES = ROOT / "tests" / "fixtures" / "stories"
INGEST = ROOT / "tests" / "fixtures" / "ingest"
OLD = time.time() - 3600  # an mtime old enough for the file-hash cache to trust


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def batch_json(capsys, *argv: str) -> tuple[int, dict, str]:
    code, out, err = run(capsys, "batch", *argv, "-q", "--json")
    return code, (json.loads(out) if out.strip() else {}), err


def make_folder(root: Path) -> Path:
    """Stories in nested folders, plus an empty, a binary and a control-character file."""
    folder = root / "archive"
    (folder / "sub").mkdir(parents=True)
    for name in ("quiet-months.txt", "hard-negatives.txt"):
        (folder / name).write_bytes((STORIES / name).read_bytes())
    (folder / "sub" / "story.md").write_bytes((INGEST / "story.md").read_bytes())
    (folder / "sub" / "ao3.html").write_bytes((INGEST / "ao3_download.html").read_bytes())
    (folder / "sub" / "empty.txt").write_bytes(b"  \n")
    (folder / "sub" / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (folder / "sub" / "control.txt").write_bytes(b"Once upon \x01\x02 a time.\n")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4 not collected")
    (folder / ".hidden.txt").write_text("not collected", encoding="utf-8")
    for path in folder.rglob("*"):
        os.utime(path, (OLD, OLD))
    return folder


def make_jsonl(root: Path) -> Path:
    lines = [
        json.dumps({"work_id": "pan-1", "text": (STORIES / "quiet-months.txt").read_text()}),
        "",
        "{this is not json",
        json.dumps({"work_id": "pan-2"}),
        json.dumps({"text": "no id here"}),
        json.dumps({"work_id": 3, "text": "He slit his wrist with the razor and the blood "
                                          "ran into the sink."}),
        json.dumps(["a", "list"]),
    ]
    path = root / "works.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")  # with a BOM
    return path


def stored(db: Path) -> tuple[dict[str, tuple], list[tuple]]:
    conn = sqlite3.connect(db)
    works = {r[0]: r[1:] for r in conn.execute(
        "SELECT work_id, status, error_kind, error_message, report, content_hash, "
        "model_version FROM works")}
    warnings = conn.execute("SELECT work_id, warning, severity, severity_rank, confidence "
                            "FROM work_warnings ORDER BY work_id, warning").fetchall()
    conn.close()
    return works, warnings


def check_consistent(db: Path) -> dict[str, tuple]:
    """Every report parses, and the warning rows are exactly the reports' warnings."""
    works, warnings = stored(db)
    expected = []
    for wid, (status, _, _, report, *_rest) in works.items():
        if status == "ok":
            data = json.loads(report)
            assert data["schema"] == "forewarn.report/2"
            expected += [(wid, w["id"], w["severity"],
                          ["mentioned", "depicted", "graphic"].index(w["severity"]),
                          w["confidence"]) for w in data["warnings"]]
        else:
            assert report is None
    assert sorted(expected) == sorted(warnings)
    return works


def test_batch_folder_and_jsonl_records_every_work_and_failure(tmp_path, capsys):
    folder, jsonl, db = make_folder(tmp_path), make_jsonl(tmp_path), tmp_path / "r.db"
    code, summary, err = batch_json(capsys, str(folder), str(jsonl), "--store", str(db),
                                    "--jobs", "1")
    assert code == 11, err  # finished, some works failed
    assert summary["total"] == 13 and summary["works"] == 13
    assert summary["scanned"] == 6 and summary["failed"] == 7
    assert summary["failures"] == {"malformed": 5, "empty": 1, "unsupported": 1}
    assert summary["warnings"]["miscarriage"] == 2
    works = check_consistent(db)
    assert set(works) == {
        "quiet-months.txt", "hard-negatives.txt", "sub/story.md", "sub/ao3.html",
        "sub/empty.txt", "sub/binary.txt", "sub/control.txt", "pan-1", "pan-2", "3",
        f"{jsonl}:3", f"{jsonl}:5", f"{jsonl}:7"}
    assert works["sub/empty.txt"][:2] == ("failed", "empty")
    assert works["sub/binary.txt"][:2] == ("failed", "unsupported")
    assert works["sub/control.txt"][:2] == ("failed", "malformed")
    status, kind, message = works[f"{jsonl}:3"][:3]
    assert (status, kind) == ("failed", "malformed")
    assert message.startswith(f"{jsonl}:3: not valid JSON")  # names the line
    assert "'text'" in works["pan-2"][2] and "'work_id'" in works[f"{jsonl}:5"][2]
    assert works["pan-1"][0] == "ok" and works["3"][0] == "ok"
    ids = {w[1] for w in stored(db)[1] if w[0] == "3"}
    assert "blood-gore" in ids
    assert "failed: " in err and err.count("\n") == 7  # one line per failure, no traceback
    assert "Traceback" not in err


def test_rerun_skips_unchanged_works_without_reading_them(tmp_path, capsys, monkeypatch):
    folder, db = make_folder(tmp_path), tmp_path / "r.db"
    code, first, _ = batch_json(capsys, str(folder), "--store", str(db), "--jobs", "1")
    assert code == 11 and first["scanned"] == 4 and first["failed"] == 3
    before = stored(db)

    def no(*args, **kwargs):
        raise AssertionError("a re-run of unchanged files must neither read nor scan them")

    with monkeypatch.context() as m:
        m.setattr(batch_run, "_read_limited", no)  # the parent's reads (hashing, tasks)
        m.setattr(batch_tasks, "_read_limited", no)  # a worker's reads (path tasks)
        m.setattr(batch_tasks, "scan_task", no)  # what scan_chunk calls
        code, again, err = batch_json(capsys, str(folder), "--store", str(db), "--jobs", "1")
    assert code == 0, err  # nothing failed in this run
    assert again["skipped"] == 7 and again["scanned"] == 0 and again["failed"] == 0
    assert again["skipped_failed"] == 3
    assert stored(db) == before

    # A changed file is scanned again; its old warning rows go.
    (folder / "quiet-months.txt").write_text("She made tea. Nothing happened at all.\n",
                                             encoding="utf-8")
    code, third, _ = batch_json(capsys, str(folder), "--store", str(db), "--jobs", "1")
    assert third["scanned"] == 1 and third["skipped"] == 6
    works = check_consistent(db)
    assert works["quiet-months.txt"][4] != before[0]["quiet-months.txt"][4]
    assert "quiet-months.txt" not in {w[0] for w in stored(db)[1]}

    # --retry-failed scans the unchanged failures again (they fail again).
    code, fourth, _ = batch_json(capsys, str(folder), "--store", str(db), "--jobs", "1",
                                 "--retry-failed")
    assert code == 11 and fourth["failed"] == 3 and fourth["skipped"] == 4

    # Another model version (here: another confidence floor) scans everything again.
    code, fifth, _ = batch_json(capsys, str(folder), "--store", str(db), "--jobs", "1",
                                "--min-confidence", "0.3")
    assert fifth["skipped"] == 0 and fifth["scanned"] == 4
    assert {w[5] for w in check_consistent(db).values()} == {fifth["model_version"]}
    assert fifth["model_version"].endswith(";min_confidence=0.3")


def test_a_file_rewritten_in_the_same_clock_tick_is_hashed_again(tmp_path, capsys):
    """The (path, size, mtime) cache is trusted only for files older than the check."""
    folder, db = tmp_path / "fresh", tmp_path / "r.db"
    folder.mkdir()
    story = folder / "a.txt"
    story.write_text("She made tea and sat by the window.\n", encoding="utf-8")
    stamp = story.stat().st_mtime_ns
    _, first, _ = batch_json(capsys, str(folder), "--store", str(db), "-j", "1")
    assert first["scanned"] == 1
    # Same size, same mtime, other content: only the hash can tell.
    story.write_text("He cut his arm and the blood ran.\n".ljust(36), encoding="utf-8")
    os.utime(story, ns=(stamp, stamp))
    assert story.stat().st_size == len("She made tea and sat by the window.\n")
    _, again, _ = batch_json(capsys, str(folder), "--store", str(db), "-j", "1")
    assert again["scanned"] == 1 and again["skipped"] == 0
    assert "blood-gore" in again["warnings"]


def test_process_pool_gives_the_same_results_as_one_process(tmp_path, capsys):
    folder, jsonl = make_folder(tmp_path), make_jsonl(tmp_path)
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    code1, s1, _ = batch_json(capsys, str(folder), str(jsonl), "--store", str(one), "-j", "1")
    code2, s2, _ = batch_json(capsys, str(folder), str(jsonl), "--store", str(two), "-j", "2",
                              "--chunk-size", "2")
    assert code1 == code2 == 11
    assert s2["mode"] == "processes" and s2["jobs"] == 2
    assert (s1["scanned"], s1["failed"]) == (s2["scanned"], s2["failed"])
    w1, warnings1 = stored(one)
    w2, warnings2 = stored(two)
    assert warnings1 == warnings2
    assert {k: v[:3] for k, v in w1.items()} == {k: v[:3] for k, v in w2.items()}
    assert 0 < s2["worker_peak_rss_mb"] < 600


def test_parquet_input(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow", reason="pyarrow (the parquet extra) is not installed")
    import pyarrow.parquet as pq

    table = pa.table({
        "id": ["p1", "p2", "p3"],
        "body": [(STORIES / "quiet-months.txt").read_text(), "", None],
    })
    path = tmp_path / "works.parquet"
    pq.write_table(table, path)
    db = tmp_path / "r.db"
    code, summary, err = batch_json(capsys, str(path), "--store", str(db), "-j", "1",
                                    "--id-field", "id", "--text-field", "body")
    assert code == 11, err
    assert summary["scanned"] == 1 and summary["failures"] == {"empty": 1, "malformed": 1}
    works = check_consistent(db)
    assert works["p1"][0] == "ok" and works["p2"][1] == "empty"
    code, _, err = run(capsys, "batch", str(path), "--store", str(db))
    assert code == 6 and "no column 'work_id'" in err and err.count("\n") == 1


def test_parquet_without_pyarrow_is_one_line(tmp_path, capsys, monkeypatch):
    path = tmp_path / "works.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code, _out, err = run(capsys, "batch", str(path), "--store", str(tmp_path / "r.db"))
    assert code == 9 and "pyarrow" in err and err.count("\n") == 1


def test_duplicate_ids_are_reported_and_skipped(tmp_path, capsys):
    path = tmp_path / "dup.jsonl"
    path.write_text("\n".join(json.dumps({"work_id": "same", "text": t}) for t in (
        "She made tea.", "He drank it.")) + "\n", encoding="utf-8")
    code, summary, err = batch_json(capsys, str(path), "--store", str(tmp_path / "r.db"),
                                    "-j", "1")
    # a work not stored: the run did not do everything (review 19, finding 2)
    assert code == 11 and summary["duplicates"] == 1 and summary["scanned"] == 1
    assert "duplicate work id 'same'" in err


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["batch", "{tmp}/missing", "--store", "{tmp}/r.db"], 3, "no such file or folder"),
    (["batch", "{tmp}/data.csv", "--store", "{tmp}/r.db"], 5, "not a folder, a JSONL"),
    (["batch", "{tmp}", "--store", "{tmp}/no/such/dir/r.db"], 8, "does not exist"),
    (["batch", "{tmp}", "--store", "{tmp}"], 8, "is a directory"),
    (["batch", "{tmp}", "--store", "mysql://h/db"], 8, "unsupported store URL scheme"),
    (["batch", "{tmp}", "--store", "{tmp}/r.db", "--jobs", "0"], 2, "must be at least 1"),
    (["batch", "{tmp}"], 2, "--store"),
])
def test_bad_input_is_one_line_with_a_documented_code(tmp_path, capsys, argv, code, message):
    (tmp_path / "data.csv").write_text("a,b\n", encoding="utf-8")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        got = main(argv)
    except SystemExit as exc:  # argparse usage errors
        got = exc.code
    err = capsys.readouterr().err
    assert got == code, err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_dask_is_not_imported_without_cluster(tmp_path):
    (tmp_path / "a.txt").write_text("She made tea.\n", encoding="utf-8")
    code = (
        "import sys\n"
        "from forewarn.cli import main\n"
        f"rc = main(['batch', {str(tmp_path)!r}, '--store', {str(tmp_path / 'r.db')!r},"
        " '-j', '1', '-q'])\n"
        "assert rc == 0, rc\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dask', 'distributed', 'psycopg', 'pyarrow'))\n"
        "print('LOADED', loaded)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout


# --- progress ----------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_plain_lines_every_interval():
    clock, out = FakeClock(), io.StringIO()
    p = Progress(100, stream=out, tty=False, interval=5.0, clock=clock)
    clock.now += 1
    p.update(10)  # first update draws
    clock.now += 1
    p.update(10)  # too soon
    clock.now += 5
    p.update(10, skipped=5)
    p.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("forewarn batch: 10/100 works (10%), 10.0 works/s, ETA 0:09")
    assert lines[1] == ("forewarn batch: 30/100 works (30%), 4.3 works/s, ETA 0:16, "
                        "5 skipped")


def test_progress_bar_on_a_terminal():
    clock, out = FakeClock(), io.StringIO()
    p = Progress(1000, stream=out, tty=True, clock=clock)
    clock.now += 2
    p.update(500, failed=3)
    text = out.getvalue()
    assert text.startswith("\r\x1b[2K[############............]")
    assert "500/1,000  50%" in text and "250.0 works/s" in text and "ETA 0:02" in text
    assert "(3 failed)" in text and "\n" not in text
    p.close()
    assert out.getvalue().endswith("\r\x1b[2K")


def test_progress_rate_follows_the_recent_window():
    clock = FakeClock()
    p = Progress(None, stream=io.StringIO(), tty=False, window=10, clock=clock)
    for _ in range(30):  # 100 works/s for 30 s...
        clock.now += 1
        p.update(100)
    for _ in range(20):  # ...then 1 work/s
        clock.now += 1
        p.update(1)
    assert p.rate() < 2.5
    assert p.eta() is None and "works/s" in p.line() and "ETA" not in p.line()


def test_format_duration():
    assert format_duration(48) == "0:48"
    assert format_duration(725) == "12:05"
    assert format_duration(3 * 3600 + 130) == "3:02:10"
    assert format_duration(float("nan")) == "?"


def test_a_fifo_in_a_folder_is_a_stored_failure_and_the_batch_goes_on(tmp_path, capsys):
    from ingest_helpers import Fifo

    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "quiet-months.txt").write_bytes((STORIES / "quiet-months.txt").read_bytes())
    pipe = Fifo(folder / "pipe.txt")
    try:
        code, summary, err = batch_json(capsys, str(folder), "--store", str(tmp_path / "r.db"),
                                        "--jobs", "1")
        assert code == 11, err  # finished, a work failed
        assert summary["scanned"] == 1 and summary["failures"] == {"not-found": 1}
        works = check_consistent(tmp_path / "r.db")
        assert works["pipe.txt"][:2] == ("failed", "not-found")
        assert "is a FIFO (named pipe), not a regular file" in works["pipe.txt"][2]
        assert works["quiet-months.txt"][0] == "ok"
        # named as an INPUT, it is refused up front
        code, _, err = batch_json(capsys, str(pipe.path), "--store", str(tmp_path / "r2.db"))
        assert code == 3 and err.count("\n") == 1 and "not a regular file" in err, err
    finally:
        pipe.close()


# --- a worker that dies ------------------------------------------------------------------

def _poisoned_scan(tasks, config):  # type: ignore[no-untyped-def]
    """scan_chunk, except that the worker scanning the work "poison" dies at once (as the
    OOM killer would end it); the others wait a moment, so that they are in flight."""
    if any(t.work_id == "poison" for t in tasks):
        os._exit(9)
    time.sleep(0.05)
    return batch_tasks.scan_chunk(tasks, config)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork start method")
def test_a_dying_worker_fails_only_the_work_that_kills_it(monkeypatch):
    """Every chunk in flight fails with a dead worker; its works are scanned again, each
    alone, and only the one whose worker dies again is stored as worker-crashed."""
    import forewarn.batch.runners as runners

    monkeypatch.setattr(runners, "scan_chunk", _poisoned_scan)
    results = []
    config = batch_tasks.ScanConfig(lexicon_only=True)
    pool = runners.PoolRunner(2, config, lambda chunk: results.extend(chunk.results),
                              start_method="fork")
    try:
        ids = [f"w{i}" for i in range(12)]
        ids.insert(5, "poison")
        for i in range(0, len(ids), 2):
            pool.submit([batch_tasks.Task(w, f"{w}.txt", "text", "She made tea.", w,
                                          fmt="text") for w in ids[i:i + 2]])
        pool.drain()
    finally:
        pool.close()
    by_id = {r.work_id: r for r in results}
    assert sorted(by_id) == sorted(ids) and len(results) == len(ids)  # each stored once
    assert by_id["poison"].error_kind == "worker-crashed"
    assert all(by_id[w].ok for w in ids if w != "poison"), \
        {w: r.error_kind for w, r in by_id.items() if not r.ok}


def test_a_work_whose_worker_crashed_is_scanned_again_by_the_next_run(tmp_path, capsys):
    """worker-crashed is the run's failure, not the work's: a re-run scans it again without
    --retry-failed (and exits non-zero again if it crashes again); other failures stay."""
    folder = make_folder(tmp_path)
    db = tmp_path / "b.db"
    code, _, err = batch_json(capsys, str(folder), "--store", str(db), "--jobs", "1",
                                  "--lexicon-only")
    assert code == 11, err  # the folder's empty and binary files fail
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE works SET status = 'failed', error_kind = 'worker-crashed', "
                     "error_message = 'x' WHERE work_id LIKE '%quiet-months.txt'")
    code, again, err = batch_json(capsys, str(folder), "--store", str(db), "--jobs", "1",
                                  "--lexicon-only")
    assert again["scanned"] == 1, again  # the crashed one, and nothing else
    with sqlite3.connect(db) as conn:
        kinds = dict(conn.execute("SELECT work_id, error_kind FROM works"))
    assert kinds[next(k for k in kinds if k.endswith("quiet-months.txt"))] is None
    assert "worker-crashed" not in kinds.values()


def test_a_jsonl_line_past_the_limit_is_a_too_large_failure_read_past_in_pieces(
        tmp_path, capsys, monkeypatch):
    """A line longer than any work may be is never held whole: it is read past and stored
    as too-large, and the lines after it are read as usual."""
    import forewarn.batch.corpus as corpus

    monkeypatch.setattr(corpus, "LINE_LIMIT", 2000)
    path = tmp_path / "works.jsonl"
    long_line = json.dumps({"work_id": "huge", "text": "word " * 3000})
    path.write_text("\n".join([json.dumps({"work_id": "a", "text": "She made tea."}),
                               long_line,
                               json.dumps({"work_id": "b", "text": "He fed the cat."})]) + "\n",
                    encoding="utf-8")
    code, summary, err = batch_json(capsys, str(path), "--store", str(tmp_path / "s.db"),
                                    "--jobs", "1", "--lexicon-only")
    assert code == 11 and summary["scanned"] == 2 and summary["failed"] == 1, (summary, err)
    with sqlite3.connect(tmp_path / "s.db") as conn:
        rows = dict(conn.execute("SELECT work_id, error_kind FROM works"))
    assert rows == {"a": None, f"{path}:2": "too-large", "b": None}


# --- review 19: records that ended the whole run, folders passed over ---------------------

def test_odd_names_and_ids_are_stored_and_found_again(tmp_path, capsys):
    # a file name that is not UTF-8 and a JSON id with a lone surrogate ended the run with
    # "internal error" and nothing after them stored; now each is stored, and a re-run skips it
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.txt").write_text("She made tea.\n", encoding="utf-8")
    odd = os.fsencode(folder) + b"/caf\xe9.txt"
    with open(odd, "wb") as handle:
        handle.write(b"He was stabbed and bled on the stairs.\n")
    lines = tmp_path / "works.jsonl"
    lines.write_text('{"work_id": "ok1", "text": "Tea."}\n'
                     '{"work_id": "bad\\ud800id", "text": "He drank."}\n', encoding="utf-8")
    db = tmp_path / "r.db"
    for _ in range(2):
        code, summary, err = batch_json(capsys, str(folder), str(lines), "--store", str(db),
                                        "-j", "1", "--lexicon-only")
        assert code == 0, err
    assert summary["scanned"] == 0 and summary["skipped"] == 4
    works = check_consistent(db)
    assert set(works) == {"a.txt", "caf\\udce9.txt", "ok1", "bad\\ud800id"}


def test_a_json_line_nested_too_deep_is_a_failure_and_the_run_goes_on(tmp_path, capsys):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"work_id": "a", "text": "Tea."}\n'
                    + '{"work_id": "b", "meta": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
                    + '{"work_id": "c", "text": "Cake."}\n', encoding="utf-8")
    code, summary, err = batch_json(capsys, str(path), "--store", str(tmp_path / "r.db"),
                                    "-j", "1", "--lexicon-only")
    assert code == 11 and summary["scanned"] == 2 and summary["failures"] == {"malformed": 1}
    assert "nested too deep" in err


def test_a_damaged_parquet_page_is_one_line_and_the_rows_before_it_are_kept(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow", reason="pyarrow (the parquet extra) is not installed")
    import pyarrow.parquet as pq

    path = tmp_path / "works.parquet"
    texts = [f"Story {i}: she made tea and watched the rain." for i in range(3000)]
    pq.write_table(pa.table({"work_id": [f"w{i}" for i in range(3000)], "text": texts}),
                   path, row_group_size=1024, compression="none")
    data = bytearray(path.read_bytes())
    meta = pq.ParquetFile(path).metadata
    column = meta.row_group(1).column(1)  # the second row group's text page
    start = column.data_page_offset
    data[start:start + 200] = b"\xff" * 200
    path.write_bytes(bytes(data))
    db = tmp_path / "r.db"
    code, _, err = run(capsys, "batch", str(path), "--store", str(db), "-j", "1", "-q",
                       "--lexicon-only")
    assert code == 6 and "cannot read the rows after row 1024" in err, err
    assert err.count("\n") == 1 and "internal error" not in err
    assert len(check_consistent(db)) == 1024


def test_a_folder_that_cannot_be_listed_is_a_failure_not_passed_over(tmp_path, capsys,
                                                                      monkeypatch):
    folder = tmp_path / "archive"
    (folder / "locked").mkdir(parents=True)
    (folder / "a.txt").write_text("She made tea.\n", encoding="utf-8")
    (folder / "locked" / "b.txt").write_text("He was stabbed.\n", encoding="utf-8")
    real = os.scandir

    def scandir(path="."):  # as an unreadable folder answers an ordinary user
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, summary, err = batch_json(capsys, str(folder), "--store", str(tmp_path / "r.db"),
                                    "-j", "1", "--lexicon-only")
    assert code == 11 and summary["failures"] == {"not-found": 1}, err
    assert "a folder that cannot be read (Permission denied)" in err
    works = check_consistent(tmp_path / "r.db")
    assert works["locked/"][:2] == ("failed", "not-found") and works["a.txt"][0] == "ok"


def test_a_linked_folder_is_followed_once(tmp_path, capsys):
    folder = tmp_path / "archive"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b.txt").write_text("He was stabbed.\n", encoding="utf-8")
    folder.mkdir()
    (folder / "a.txt").write_text("She made tea.\n", encoding="utf-8")
    (folder / "fandom").symlink_to(elsewhere)
    (elsewhere / "loop").symlink_to(elsewhere)  # a link back up: not a walk forever
    code, summary, err = batch_json(capsys, str(folder), "--store", str(tmp_path / "r.db"),
                                    "-j", "1", "--lexicon-only")
    assert code == 0 and summary["scanned"] == 2, err
    assert set(check_consistent(tmp_path / "r.db")) == {"a.txt", "fandom/b.txt"}


def test_an_internal_failure_is_scanned_again_by_the_next_run(tmp_path, capsys, monkeypatch):
    # memory ran out, or a model file was damaged: the work was not at fault, and a run
    # after the repair scanned nothing and exited 0 (review 19, finding 4)
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.txt").write_text("She made tea.\n", encoding="utf-8")
    (folder / "b.txt").write_text("He drank it.\n", encoding="utf-8")
    db = tmp_path / "r.db"
    import forewarn.ingest as ingest  # scan_task imports read_bytes from here at each call

    original = ingest.read_bytes

    def starved(data, source, **kwargs):  # type: ignore[no-untyped-def]
        if source.endswith("b.txt"):
            raise MemoryError
        return original(data, source, **kwargs)

    monkeypatch.setattr(ingest, "read_bytes", starved)
    code, summary, err = batch_json(capsys, str(folder), "--store", str(db), "-j", "1",
                                    "--lexicon-only")
    assert code == 11 and summary["failures"] == {"internal": 1}, err
    monkeypatch.setattr(ingest, "read_bytes", original)
    code, again, err = batch_json(capsys, str(folder), "--store", str(db), "-j", "1",
                                  "--lexicon-only")
    assert code == 0 and again["scanned"] == 1 and again["skipped"] == 1, err
    assert check_consistent(db)["b.txt"][0] == "ok"


def test_a_block_keeps_at_most_held_bytes_of_files_between_hashing_and_submitting(
        tmp_path, capsys, monkeypatch):
    # a block of 256 large EPUBs was held whole in the parent (25 MB each: 6 GB); past the
    # cap the bytes are read again when the work is submitted, with the same results
    folder = tmp_path / "archive"
    folder.mkdir()
    for i in range(6):
        (folder / f"w{i}.txt").write_text(f"Story {i}. He was stabbed and bled.\n" * 40,
                                          encoding="utf-8")
    monkeypatch.setattr(batch_run, "HELD_BYTES", 3000)  # about two of these files
    kept: list[int] = []
    real = batch_run._Batch._hash_files

    def recording(self, items):  # type: ignore[no-untyped-def]
        hashes, data = real(self, items)
        kept.append(sum(len(v) for v in data.values()))
        return hashes, data

    monkeypatch.setattr(batch_run._Batch, "_hash_files", recording)
    db = tmp_path / "r.db"
    code, summary, err = batch_json(capsys, str(folder), "--store", str(db), "-j", "1",
                                    "--lexicon-only")
    assert code == 0 and summary["scanned"] == 6, err
    assert kept and max(kept) <= 3000
    works = check_consistent(db)
    assert all(works[f"w{i}.txt"][0] == "ok" for i in range(6))
    code, again, err = batch_json(capsys, str(folder), "--store", str(db), "-j", "1",
                                  "--lexicon-only")
    assert code == 0 and again["skipped"] == 6, err


def test_a_path_task_whose_file_is_gone_is_stored_under_a_hash_no_content_has(tmp_path):
    # on Dask the worker reads the file; one moved away a moment was stored "not-found"
    # under its real hash, and every later run skipped it (review 19, finding 5)
    from forewarn.batch.hashing import sha256_bytes

    path = tmp_path / "gone.txt"
    content = b"She made tea.\n"
    task = batch_tasks.Task("gone.txt", str(path), "path", None, sha256_bytes(content),
                            path=str(path))
    config = batch_tasks.ScanConfig(lexicon_only=True)
    scanner, versions = batch_tasks._worker_state(config)
    result = batch_tasks.scan_task(scanner, task, config, versions)
    assert result.error_kind == "not-found"
    assert result.content_hash == f"unreadable:{path}" != sha256_bytes(content)
    path.write_bytes(content)  # back again: read and scanned, under its real hash
    result = batch_tasks.scan_task(scanner, task, config, versions)
    assert result.error_kind is None and result.content_hash == sha256_bytes(content)


def test_a_work_id_over_a_thousand_characters_is_malformed_under_its_line(tmp_path, capsys):
    lines = tmp_path / "works.jsonl"
    lines.write_text(json.dumps({"work_id": "x" * 1001, "text": "Tea."}) + "\n"
                     + json.dumps({"work_id": "y" * 1000, "text": "Cake."}) + "\n",
                     encoding="utf-8")
    db = tmp_path / "r.db"
    code, summary, err = batch_json(capsys, str(lines), "--store", str(db), "-j", "1",
                                    "--lexicon-only")
    assert code == 11 and summary["scanned"] == 1 and summary["failures"] == {"malformed": 1}
    assert "1,001 bytes long in UTF-8 (at most 1,000)" in err
    assert set(check_consistent(db)) == {f"{lines}:1", "y" * 1000}
