"""The results store (SQLite here; tests/test_store_postgres.py runs the same checks on
PostgreSQL), and the `export` and `stats` commands that read it."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import sqlite3
import sys

import pytest

from forewarn.cli import main
from forewarn.store import (
    SCHEMA_VERSION,
    MissingDependency,
    SQLiteStore,
    Store,
    StoreError,
    WarningRow,
    WorkResult,
    open_store,
)

MODEL = "forewarn=0.1.0;lexicon=abc"


def result(work_id: str, warnings: list[tuple[str, str, float]] | None = None, *,
           digest: str = "h", error: tuple[str, str] | None = None,
           model: str = MODEL) -> WorkResult:
    """A WorkResult as a worker would return it, with a matching report JSON."""
    if error is not None:
        return WorkResult(work_id, f"src/{work_id}", digest, "0.1.0", model,
                          error_kind=error[0], error_message=error[1])
    rows = [WarningRow(w, s, c, False) for w, s, c in (warnings or [])]
    report = {"schema": "forewarn.report/2", "source": f"src/{work_id}",
              "warnings": [{"id": r.warning, "severity": r.severity,
                            "confidence": r.confidence} for r in rows]}
    return WorkResult(work_id, f"src/{work_id}", digest, "0.1.0", model,
                      report_json=json.dumps(report), warnings=rows, title=None,
                      format="text", word_count=100, chapters=1, elapsed_s=0.01)


def check_store(store: Store) -> None:
    """The behaviour both back ends share; ``store`` is empty."""
    assert store.count_works() == 0
    store.write([
        result("a", [("violence", "graphic", 0.99), ("death", "depicted", 0.7)], digest="ha"),
        result("b", [("violence", "mentioned", 0.95)], digest="hb"),
        result("c", [("violence", "depicted", 0.55), ("death", "mentioned", 0.91)]),
        result("bad", error=("empty", "src/bad: empty file"), digest="hbad"),
    ])
    assert store.count_works() == 4
    states = store.lookup(["a", "b", "bad", "missing"])
    assert set(states) == {"a", "b", "bad"}
    assert states["a"].content_hash == "ha" and states["a"].model_version == MODEL
    assert not states["a"].failed and states["bad"].failed

    # "works with warning X at severity at least Y and confidence at least Z"
    assert store.query_work_ids("violence") == ["a", "b", "c"]
    assert store.query_work_ids("violence", 1) == ["a", "c"]
    assert store.query_work_ids("violence", 1, 0.9) == ["a"]
    assert store.query_work_ids("violence", 2) == ["a"]
    assert store.query_work_ids("death", 0, 0.8) == ["c"]
    assert store.query_work_ids("suicide") == []

    # A re-scan replaces the work's row and all its warning rows.
    store.write([result("a", [("death", "graphic", 0.8)], digest="ha2")])
    assert store.count_works() == 4
    assert store.lookup(["a"])["a"].content_hash == "ha2"
    assert store.query_work_ids("violence") == ["b", "c"]
    rows = [r for r in store.iter_warnings() if r["work_id"] == "a"]
    assert [(r["warning"], r["severity"], r["severity_rank"]) for r in rows] == [
        ("death", "graphic", 2)]
    assert rows[0]["declared"] is False

    works = {w["work_id"]: w for w in store.iter_works()}
    assert list(works) == ["a", "b", "bad", "c"]
    assert works["bad"]["status"] == "failed" and works["bad"]["error_kind"] == "empty"
    assert works["bad"]["report"] is None
    assert json.loads(works["b"]["report"])["warnings"][0]["id"] == "violence"
    assert [w["work_id"] for w in store.iter_works(warning="death", min_severity_rank=2)] == [
        "a"]

    stats = store.stats()
    assert stats["works"] == 4 and stats["ok"] == 3 and stats["failed"] == 1
    assert stats["works_with_warnings"] == 3
    assert stats["warnings"]["violence"] == {"mentioned": 1, "depicted": 1, "graphic": 0,
                                             "total": 2}
    counts = [b["count"] for b in stats["confidence_histogram"]["bins"]]
    # confidences now: a/death 0.8, b/violence 0.95, c/violence 0.55, c/death 0.91
    assert counts == [0, 0, 0, 0, 0, 1, 0, 0, 1, 2]
    assert stats["failures"] == {"empty": 1}
    assert stats["model_versions"] == {MODEL: 4}
    only = store.stats("violence")["confidence_histogram"]
    assert [b["count"] for b in only["bins"]] == [0, 0, 0, 0, 0, 1, 0, 0, 0, 1]

    # A confidence of exactly 1.0 falls in the last bin.
    store.write([result("d", [("vomiting", "depicted", 1.0)])])
    assert store.stats("vomiting")["confidence_histogram"]["bins"][9]["count"] == 1

    # The file-hash cache.
    assert store.cached_hashes(["/x/1.txt"]) == {}
    store.remember_hashes([("/x/1.txt", 10, 111, 222, "h1")])
    store.remember_hashes([("/x/1.txt", 11, 112, 223, "h2"), ("/x/2.txt", 5, 6, 7, "h3")])
    assert store.cached_hashes(["/x/1.txt", "/x/2.txt", "/x/3.txt"]) == {
        "/x/1.txt": (11, 112, 223, "h2"), "/x/2.txt": (5, 6, 7, "h3")}

    # Lookups of many ids at once are chunked.
    many = [f"w{i:04d}" for i in range(1200)]
    store.write([result(w) for w in many])
    assert len(store.lookup([*many, "a"])) == 1201


def check_atomic_write(store: Store) -> None:
    """A write that fails part-way stores nothing of it: each work is all or nothing."""
    before = store.count_works()
    broken = result("y", [("death", "depicted", 0.9), ("death", "graphic", 0.9)])
    with pytest.raises(StoreError):
        store.write([result("x", [("violence", "depicted", 0.9)]), broken])
    assert store.count_works() == before
    assert store.lookup(["x", "y"]) == {}
    assert not [r for r in store.iter_warnings() if r["work_id"] in ("x", "y")]
    store.write([result("x", [("violence", "depicted", 0.9)])])  # the store still works
    assert store.query_work_ids("violence", 1, 0.9) == ["x"]


@pytest.fixture
def store(tmp_path):
    s = open_store(str(tmp_path / "results.db"))
    yield s
    s.close()


def test_sqlite_store_round_trip(store):
    check_store(store)


def test_sqlite_write_is_atomic(store):
    check_atomic_write(store)


def test_sqlite_store_is_wal_with_a_schema_version_and_an_indexed_query(tmp_path, store):
    conn = sqlite3.connect(tmp_path / "results.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    plan = " ".join(str(r) for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT work_id FROM work_warnings WHERE warning = ? "
        "AND severity_rank >= ? AND confidence >= ?", ("violence", 1, 0.8)))
    assert "USING COVERING INDEX work_warnings_by_warning" in plan
    conn.close()


def test_reopening_a_store_keeps_its_rows(tmp_path):
    path = str(tmp_path / "r.db")
    with open_store(path) as s:
        s.write([result("a", [("violence", "depicted", 0.9)])])
    with open_store(path, create=False) as s:
        assert s.query_work_ids("violence") == ["a"]


def test_store_errors_are_one_line_store_errors(tmp_path, monkeypatch):
    with pytest.raises(StoreError, match="no such store"):
        open_store(str(tmp_path / "missing.db"), create=False)
    with pytest.raises(StoreError, match="does not exist"):
        open_store(str(tmp_path / "no" / "dir" / "r.db"))
    with pytest.raises(StoreError, match="is a directory"):
        open_store(str(tmp_path))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all, just some bytes" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        open_store(str(junk))
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(StoreError, match="not a forewarn store"):
        open_store(str(other))
    newer = tmp_path / "newer.db"
    open_store(str(newer)).close()
    conn = sqlite3.connect(newer)
    conn.execute("INSERT INTO schema_version VALUES (?, 'x')", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        open_store(str(newer))
    with pytest.raises(StoreError, match="unsupported store URL scheme"):
        open_store("mysql://user@host/db")
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingDependency, match="psycopg"):
        open_store("postgresql://user@localhost/db")
    assert StoreError.exit_code == 8 and MissingDependency.exit_code == 9


def test_store_error_messages_hide_the_password():
    from forewarn.store import _redact

    assert _redact("postgresql://u:secret@h:5/db") == "postgresql://u:***@h:5/db"
    assert _redact("postgresql://u@h/db") == "postgresql://u@h/db"


# --- export and stats ------------------------------------------------------------------------


@pytest.fixture
def filled(tmp_path):
    path = str(tmp_path / "filled.db")
    with SQLiteStore(path) as s:
        s.write([
            result("a", [("violence", "graphic", 0.99), ("death", "depicted", 0.7)]),
            result("b", [("violence", "mentioned", 0.95)]),
            result("bad", error=("malformed", "works.jsonl:3: not valid JSON")),
        ])
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_export_jsonl(capsys, filled):
    code, out, err = run(capsys, "export", "--store", filled)
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["work_id"] for r in records] == ["a", "b", "bad"]
    assert records[0]["report"]["warnings"][0]["id"] == "violence"
    assert records[0]["error"] is None
    assert records[2]["error"] == {"kind": "malformed",
                                   "message": "works.jsonl:3: not valid JSON"}
    assert records[2]["report"] is None
    code, out, _ = run(capsys, "export", "--store", filled, "--warning", "Violence",
                       "--min-severity", "graphic")
    assert [json.loads(line)["work_id"] for line in out.splitlines()] == ["a"]


def test_export_csv_works_and_warnings(capsys, filled, tmp_path):
    code, out, _ = run(capsys, "export", "--store", filled, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["work_id"] for r in rows] == ["a", "b", "bad"]
    assert rows[0]["warnings"] == "violence:graphic:0.99;death:depicted:0.7"
    assert rows[2]["status"] == "failed" and rows[2]["error_kind"] == "malformed"
    target = tmp_path / "w.csv"
    code, out, _ = run(capsys, "export", "--store", filled, "--format", "csv", "--table",
                       "warnings", "--warning", "violence", "--min-confidence", "0.96",
                       "-o", str(target))
    assert code == 0 and out == ""
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(r["work_id"], r["warning"], r["severity"]) for r in rows] == [
        ("a", "violence", "graphic")]


def test_export_parquet(capsys, filled, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (the parquet extra) is not "
                             "installed")
    code, _, err = run(capsys, "export", "--store", filled, "--format", "parquet")
    assert code == 2 and "needs -o" in err
    target = tmp_path / "w.parquet"
    code, _, err = run(capsys, "export", "--store", filled, "--format", "parquet",
                       "-o", str(target))
    assert code == 0, err
    table = pq.read_table(target).to_pylist()
    assert [r["work_id"] for r in table] == ["a", "b", "bad"]
    assert json.loads(table[0]["report"])["warnings"][1]["id"] == "death"
    code, _, _ = run(capsys, "export", "--store", filled, "--format", "parquet", "--table",
                     "warnings", "-o", str(target))
    assert len(pq.read_table(target)) == 3



class _FullDisk:
    """A text file that takes ``room`` characters, then fails as a full disk does."""

    def __init__(self, real, room: int) -> None:
        self.real = real
        self.room = room

    def write(self, text: str) -> int:
        if len(text) > self.room:
            self.real.write(text[: self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(text)
        return self.real.write(text)

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_to_a_full_disk_leaves_no_partial_file(capsys, filled, tmp_path, monkeypatch,
                                                      fmt):
    from forewarn.commands import export

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / f"w.{fmt}"
    target.write_text("the previous export\n", encoding="utf-8")

    def full_open(path, *args, **kwargs):
        return _FullDisk(open(path, *args, **kwargs), room=40)

    monkeypatch.setattr(export, "open", full_open, raising=False)
    code, out, err = run(capsys, "export", "--store", filled, "--format", fmt,
                         "-o", str(target))
    assert code == 3, err
    assert err.count("\n") == 1 and "No space left on device" in err and str(target) in err
    assert "Traceback" not in err and out == ""
    # the old file is as it was, and no temporary file is left behind
    assert target.read_text(encoding="utf-8") == "the previous export\n"
    assert [p.name for p in out_dir.iterdir()] == [target.name]

    monkeypatch.undo()
    code, _, err = run(capsys, "export", "--store", filled, "--format", fmt,
                       "-o", str(target))
    assert code == 0, err
    assert "violence" in target.read_text(encoding="utf-8")
    assert [p.name for p in out_dir.iterdir()] == [target.name]


def test_export_parquet_to_a_full_disk_leaves_no_partial_file(capsys, filled, tmp_path,
                                                              monkeypatch):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (the parquet extra) is not "
                             "installed")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "w.parquet"

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    code, _, err = run(capsys, "export", "--store", filled, "--format", "parquet",
                       "-o", str(target))
    assert code == 3 and err.count("\n") == 1 and "No space left on device" in err, err
    assert list(out_dir.iterdir()) == []


def test_stats_text_and_json(capsys, filled):
    code, out, err = run(capsys, "stats", "--store", filled)
    assert code == 0, err
    assert "3 works (2 scanned, 1 failed)" in out
    assert "Violence" in out and "failures by kind: malformed 1" in out
    assert "0.9-1.0" in out
    code, out, _ = run(capsys, "stats", "--store", filled, "--json", "--warning", "death")
    stats = json.loads(out)
    assert stats["warnings"]["violence"]["total"] == 2
    assert [b["count"] for b in stats["confidence_histogram"]["bins"]][7] == 1
    assert stats["confidence_histogram"]["warning"] == "death"


def test_export_and_stats_bad_input_is_one_line(capsys, tmp_path, filled):
    code, _, err = run(capsys, "stats", "--store", str(tmp_path / "none.db"))
    assert code == 8 and err.count("\n") == 1 and "no such store" in err
    code, _, err = run(capsys, "export", "--store", str(tmp_path / "none.db"))
    assert code == 8 and err.count("\n") == 1
    code, _out, err = run(capsys, "export", "--store", filled, "--warning", "not-a-warning")
    assert code == 2 and err.count("\n") == 1


# --- read-only media -----------------------------------------------------------------------


def _read_only_folder_store(tmp_path):
    """A WAL-mode store cleanly closed (no -wal or -shm file left) in its own folder."""
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "r.db"
    with SQLiteStore(str(path)) as s:
        s.write([result("a", [("violence", "graphic", 0.99)]), result("b")])
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert sorted(p.name for p in folder.iterdir()) == ["r.db"]
    return folder, path


def _stats_and_export_read(capsys, path) -> None:
    code, out, err = run(capsys, "stats", "--store", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["works"] == 2
    code, out, err = run(capsys, "export", "--store", str(path))
    assert code == 0, err
    assert [json.loads(line)["work_id"] for line in out.splitlines()] == ["a", "b"]


def _unwritable(monkeypatch, folder) -> None:  # type: ignore[no-untyped-def]
    """``folder`` reads as not writable (os.access), also for root, whom chmod cannot stop."""
    real_access = os.access

    def access(p, mode, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.path.abspath(p) == str(folder) and mode & os.W_OK:
            return False
        return real_access(p, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


def test_stats_and_export_read_a_wal_store_in_a_folder_they_cannot_write(capsys, tmp_path,
                                                                          monkeypatch):
    # Tests often run as root, for whom chmod 0555 changes nothing: the folder is made
    # "unwritable" by monkeypatching os.access, and what shows that the store was opened
    # read-only and immutable is that SQLite made no -shm or -wal file next to it (opening
    # a WAL database any other way makes both, which read-only media would refuse).
    folder, path = _read_only_folder_store(tmp_path)
    _unwritable(monkeypatch, folder)
    before = path.read_bytes()
    _stats_and_export_read(capsys, path)
    assert sorted(p.name for p in folder.iterdir()) == ["r.db"]
    assert path.read_bytes() == before
    with open_store(str(path), read_only=True) as s, pytest.raises(StoreError):
        s.write([result("c")])  # read-only: one StoreError line, not a crash


def test_a_store_with_an_unfinished_batchs_log_in_a_folder_they_cannot_write_is_refused(
        capsys, tmp_path, monkeypatch):
    """Opened immutable, SQLite would ignore the write-ahead log a killed batch left, and
    export would give a silent subset: one line and exit 8 instead."""
    folder, path = _read_only_folder_store(tmp_path)
    (folder / "r.db-wal").write_bytes(b"\0" * 4096)  # what the log's last chunks would hold
    _unwritable(monkeypatch, folder)
    for argv in (["export", "--store", str(path)], ["stats", "--store", str(path)]):
        assert main(argv) == 8
        out, err = capsys.readouterr()
        assert out == "" and len(err.strip().splitlines()) == 1 and "unfinished batch" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_a_fifo_given_as_the_store_is_refused_at_once(capsys, tmp_path):
    fifo = tmp_path / "s.db"
    os.mkfifo(fifo)
    for argv in (["export", "--store", str(fifo)], ["stats", "--store", str(fifo)],
                 ["batch", str(tmp_path), "--store", str(fifo), "-q"]):
        assert main(argv) == 8, argv
        err = capsys.readouterr().err
        assert "not a regular file" in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="chmod does not stop root from writing")
def test_stats_and_export_read_a_wal_store_in_a_read_only_folder(capsys, tmp_path):
    folder, path = _read_only_folder_store(tmp_path)
    folder.chmod(0o555)
    try:
        _stats_and_export_read(capsys, path)
    finally:
        folder.chmod(0o755)


def test_a_damaged_store_value_is_one_store_error_line(capsys, filled):
    """A report that is not JSON, or a schema version that is not a number: exit 8 and one
    line naming what is damaged, never a traceback half-way through an export."""
    with sqlite3.connect(filled) as conn:
        conn.execute("UPDATE works SET report = '{not json' WHERE work_id = 'b'")
    code, _, err = run(capsys, "export", "--store", filled)
    assert code == 8 and "'b'" in err and "not JSON" in err and len(err.splitlines()) == 1
    with sqlite3.connect(filled) as conn:
        conn.execute("UPDATE schema_version SET version = 'one'")
    for command in ("stats", "export"):
        code, _, err = run(capsys, command, "--store", filled)
        assert code == 8 and "schema version" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("suffix", ["", "-wal"])
def test_export_onto_the_store_itself_is_refused(capsys, filled, suffix):
    # one typo replaced the whole results store with its export (review 19, finding 9)
    from pathlib import Path

    before = Path(filled).read_bytes()
    code, _, err = run(capsys, "export", "--store", filled, "-o", filled + suffix)
    assert code == 2 and err.count("\n") == 1 and "is the store itself" in err, err
    assert Path(filled).read_bytes() == before
    code, out, _ = run(capsys, "stats", "--store", filled)
    assert code == 0 and "3 works" in out


def test_export_filters_without_a_warning_are_a_usage_error(capsys, filled):
    # they were ignored: every work exported (review 19, finding 11)
    for extra in (["--min-severity", "graphic"], ["--min-confidence", "0.99"]):
        code, out, err = run(capsys, "export", "--store", filled, *extra)
        assert code == 2 and out == "" and "--warning" in err and err.count("\n") == 1


def test_a_file_name_cannot_drive_the_terminal_in_a_failure_line(capsys, tmp_path):
    # "b\x1b[1A\x1b[2K\rok.txt" erased the failure line above it (review 19, finding 12)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("", encoding="utf-8")
    (folder / "b\x1b[1A\x1b[2K\rok.txt").write_text("", encoding="utf-8")
    code = main(["batch", str(folder), "--store", str(tmp_path / "r.db"), "-j", "1", "-q",
                 "--lexicon-only"])
    err = capsys.readouterr().err
    assert code == 11 and "\x1b" not in err and "\r" not in err
    assert "b\\x1b[1A\\x1b[2K ok.txt: empty" in err  # the CR: whitespace, one space


def test_another_programs_database_with_a_files_table_is_refused_untouched(tmp_path):
    # taken for a store, given forewarn's tables and WAL mode before failing (review 19, 15)
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT, data BLOB)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a forewarn store"):
        SQLiteStore(str(path))
    assert path.read_bytes() == before
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert tables == {"files"} and mode == "delete"


# --- review 20: no password in any message -------------------------------------------------


@pytest.mark.parametrize("url, shown", [
    ("postgresql://u:s3cretQ@localhost:5432/db", "postgresql://u:***@localhost:5432/db"),
    ("postgresql://u@localhost/db?password=s3cretQ&sslmode=require",
     "postgresql://u@localhost/db?password=***&sslmode=require"),
    ("postgresql://u:s3cretQ@localhost:99999/db", "postgresql://u:***@localhost:99999/db"),
    ("postgresql://u:s3cretQ@h1:5432,h2:5433/db", "postgresql://u:***@h1:5432,h2:5433/db"),
])
def test_a_store_url_is_shown_without_its_password_and_never_fails_to_show(url, shown):
    from forewarn.store import _redact

    assert _redact(url) == shown  # a bad or multi-host port was a ValueError: exit 1


@pytest.mark.parametrize("url", ["postgresql://u:s3cretQ@[::1/db",
                                 "postgresql://u@[::1/db?password=s3cretQ",
                                 "postgresql://u:s3cretQ@localhost:99999/db"])
def test_the_drivers_own_message_does_not_print_the_password(url, capsys):
    pytest.importorskip("psycopg", reason="psycopg 3 (the postgres extra) is not installed")
    assert main(["stats", "--store", url]) == 8
    err = capsys.readouterr().err
    assert "s3cretQ" not in err and err.count("\n") == 1, err


def test_a_key_too_long_for_a_store_index_is_shortened_the_same_way_every_time():
    from forewarn.store import MAX_KEY_BYTES, fits_key, key_form

    short, long_ = "a/b.txt", "/".join(["\u6df1\u3044\u68ee" * 40] * 4) + "/story.txt"
    assert key_form(short) == short and fits_key(short)
    assert not fits_key(long_) and fits_key(key_form(long_))
    assert key_form(long_) == key_form(long_) != key_form(long_ + "x")
    assert key_form(long_).startswith(long_[:40])
    assert len(key_form(long_).encode()) <= MAX_KEY_BYTES
