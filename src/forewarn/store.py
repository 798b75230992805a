"""The results store of ``forewarn batch``: SQLite by default, PostgreSQL for a URL.

One small interface (:class:`Store`) over two back ends:

* :class:`SQLiteStore` for a file path (WAL mode, ``synchronous=NORMAL``: a committed
  transaction survives the process being killed);
* :class:`PostgresStore` for a ``postgresql://`` URL (psycopg 3, the ``postgres`` extra).

The schema (documented with example queries in ``docs/store.md``) has a ``works`` table,
one row per work, and a ``work_warnings`` table, one row per (work, detected warning),
indexed on ``(warning, severity_rank, confidence, work_id)`` so that "works with warning
X at severity at least Y and confidence at least Z" is one indexed range scan. Each work's
row and its warning rows are written in one transaction (:meth:`Store.write`), so a run
killed at any moment leaves every work either fully stored or not at all.

Only the process that runs the batch writes (workers never open the store).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from forewarn.errors import ForewarnError

__all__ = [
    "SCHEMA_VERSION",
    "SEVERITY_RANK",
    "MissingDependency",
    "PostgresStore",
    "SQLiteStore",
    "Store",
    "StoreError",
    "StoredState",
    "WarningRow",
    "WorkResult",
    "is_postgres_url",
    "open_store",
]

SCHEMA_VERSION = 1
SEVERITY_RANK = {"mentioned": 0, "depicted": 1, "graphic": 2}
_LOOKUP_CHUNK = 500


class StoreError(ForewarnError, exit_code=8, kind="store"):
    """The store cannot be opened, created, read or written (exit code 8)."""


class MissingDependency(ForewarnError, exit_code=9, kind="missing-dependency"):
    """An optional extra (pyarrow, psycopg, dask) is needed but not installed (exit code 9)."""


@dataclass(frozen=True, slots=True)
class WarningRow:
    """One detected warning of one work, as stored in ``work_warnings``."""

    warning: str
    severity: str
    confidence: float
    declared: bool

    @property
    def severity_rank(self) -> int:
        return SEVERITY_RANK[self.severity]


@dataclass(slots=True)
class WorkResult:
    """What one work's scan produced: a report, or an error (``error_kind`` set)."""

    work_id: str
    source: str | None
    content_hash: str
    forewarn_version: str
    model_version: str
    error_kind: str | None = None
    error_message: str | None = None
    report_json: str | None = None
    warnings: list[WarningRow] = field(default_factory=list)
    title: str | None = None
    format: str | None = None
    word_count: int | None = None
    chapters: int | None = None
    elapsed_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.error_kind is None


@dataclass(frozen=True, slots=True)
class StoredState:
    """What the store already holds for a work id: enough to decide whether to skip it."""

    content_hash: str
    model_version: str
    failed: bool
    error_kind: str | None = None

    @property
    def transient(self) -> bool:
        """A failure of the run or of forewarn, not of the work (its worker process died,
        memory ran out, a model file was damaged, a bug): the next run scans it again
        without ``--retry-failed``."""
        return self.error_kind in ("worker-crashed", "internal", "install")


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def open_store(target: str, *, create: bool = True, read_only: bool = False) -> Store:
    """Open (and with ``create``, create or migrate) the store at a path or URL.

    ``read_only`` (for commands that only read: ``export``, ``stats``) opens a SQLite
    file read-only, so a store on read-only media or in a folder one cannot write to
    opens too (see :class:`SQLiteStore`); it implies ``create=False``.

    Raises :class:`StoreError` with one line naming the target for anything that goes
    wrong, and :class:`MissingDependency` for a PostgreSQL URL without psycopg.
    """
    if read_only:
        create = False
    if is_postgres_url(target):
        return PostgresStore(target, create=create)
    if "://" in target:
        scheme = target.split("://", 1)[0]
        raise StoreError(
            f"{target}: unsupported store URL scheme {scheme!r} "
            "(give a file path for SQLite or a postgresql:// URL)"
        )
    return SQLiteStore(target, create=create, read_only=read_only)


def _sqlite_read_only_uri(path: str) -> str:
    """A ``file:`` URI that opens ``path`` read-only (``mode=ro``), and also ``immutable=1``
    when its folder cannot be written: a WAL-mode database needs its ``-shm`` file, which
    SQLite cannot create there, so it must be told that nobody writes the file at all."""
    from urllib.parse import quote

    absolute = os.path.abspath(path)
    uri = f"file:{quote(absolute)}?mode=ro"
    if not os.access(os.path.dirname(absolute), os.W_OK):
        # immutable ignores the write-ahead log: a batch that was killed leaves its last
        # committed chunks there, and reading past them would give a silent subset
        with contextlib.suppress(OSError):
            if os.path.getsize(absolute + "-wal") > 0:
                raise StoreError(
                    f"{path}: the store has writes from an unfinished batch in "
                    f"{os.path.basename(path)}-wal, which cannot be read without writing "
                    "to its folder; run the batch again or open the store once where the "
                    "folder can be written")
        uri += "&immutable=1"
    return uri


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Store:
    """The interface both back ends implement. Use as a context manager, or call close()."""

    dialect = "?"
    target = ""

    # --- implemented by each back end ----------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _transaction(self) -> Any:
        raise NotImplementedError

    def _iterate(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        raise NotImplementedError

    def _bin_expr(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # --- shared --------------------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lookup(self, work_ids: Sequence[str]) -> dict[str, StoredState]:
        """The stored (hash, model version, failed) of each of ``work_ids`` that is stored."""
        out: dict[str, StoredState] = {}
        for i in range(0, len(work_ids), _LOOKUP_CHUNK):
            part = list(work_ids[i:i + _LOOKUP_CHUNK])
            asked = {_storable(w): w for w in part}  # an id as stored -> as given
            for wid, digest, version, kind in self._lookup_rows(part):
                out[asked.get(wid, wid)] = StoredState(digest, version, kind is not None, kind)
        return out

    def _lookup_rows(self, work_ids: list[str]) -> list[tuple[Any, ...]]:
        marks = ",".join("?" * len(work_ids))
        return self._execute(
            "SELECT work_id, content_hash, model_version, error_kind FROM works "
            f"WHERE work_id IN ({marks})", work_ids)

    def cached_hashes(self, paths: Sequence[str]) -> dict[str, tuple[int, int, int, str]]:
        """``path -> (size, mtime_ns, checked_ns, sha256)`` from the file-hash cache."""
        out: dict[str, tuple[int, int, int, str]] = {}
        for i in range(0, len(paths), _LOOKUP_CHUNK):
            part = list(paths[i:i + _LOOKUP_CHUNK])
            asked = {_storable(p): p for p in part}
            marks = ",".join("?" * len(part))
            for path, size, mtime_ns, checked_ns, digest in self._execute(
                "SELECT path, size, mtime_ns, checked_ns, content_hash FROM files "
                f"WHERE path IN ({marks})", part):
                out[asked.get(path, path)] = (int(size), int(mtime_ns), int(checked_ns), digest)
        return out

    def remember_hashes(self, rows: Sequence[tuple[str, int, int, int, str]]) -> None:
        """Record ``(path, size, mtime_ns, checked_ns, sha256)`` in the file-hash cache (a
        path too long to be a key is not cached: it is hashed again each run)."""
        rows = [row for row in rows if fits_key(row[0])]
        if not rows:
            return
        with self._transaction():
            self._executemany(
                "INSERT INTO files (path, size, mtime_ns, checked_ns, content_hash) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
                "size = excluded.size, mtime_ns = excluded.mtime_ns, "
                "checked_ns = excluded.checked_ns, content_hash = excluded.content_hash",
                rows)

    def write(self, results: Iterable[WorkResult]) -> int:
        """Store ``results`` in one transaction (each work with its warning rows)."""
        results = list(results)
        if not results:
            return 0
        now = _now()
        work_rows = []
        warning_rows: list[tuple[Any, ...]] = []
        for r in results:
            work_rows.append((
                r.work_id, r.source, r.content_hash, r.forewarn_version, r.model_version,
                "ok" if r.ok else "failed", r.error_kind, r.error_message,
                r.title, r.format, r.word_count, r.chapters,
                len(r.warnings) if r.ok else None, r.report_json, r.elapsed_s, now,
            ))
            warning_rows.extend(
                (r.work_id, w.warning, w.severity, w.severity_rank, float(w.confidence),
                 bool(w.declared))
                for w in r.warnings)
        ids = [(r.work_id,) for r in results]
        with self._transaction():
            self._executemany("DELETE FROM work_warnings WHERE work_id = ?", ids)
            self._executemany(_UPSERT_WORK, work_rows)
            if warning_rows:
                self._executemany(
                    "INSERT INTO work_warnings (work_id, warning, severity, severity_rank, "
                    "confidence, declared) VALUES (?, ?, ?, ?, ?, ?)", warning_rows)
        return len(results)

    # --- reading, for export and stats ------------------------------------------------------
    def count_works(self) -> int:
        return int(self._execute("SELECT COUNT(*) FROM works")[0][0])

    def query_work_ids(self, warning: str, min_severity_rank: int = 0,
                       min_confidence: float = 0.0) -> list[str]:
        """Ids of works with ``warning`` at severity rank and confidence at least these."""
        rows = self._execute(
            "SELECT work_id FROM work_warnings WHERE warning = ? AND severity_rank >= ? "
            "AND confidence >= ? ORDER BY work_id", (warning, min_severity_rank, min_confidence))
        return [r[0] for r in rows]

    def iter_works(self, *, warning: str | None = None, min_severity_rank: int = 0,
                   min_confidence: float = 0.0) -> Iterator[dict[str, Any]]:
        """Every stored work (or those matching the warning filter) as a dict, by work id."""
        columns = ("work_id, source, content_hash, forewarn_version, model_version, status, "
                   "error_kind, error_message, title, format, word_count, chapters, "
                   "warning_count, report, elapsed_s, scanned_at")
        names = [c.strip() for c in columns.split(",")]
        if warning is None:
            sql = f"SELECT {columns} FROM works ORDER BY work_id"
            params: tuple[Any, ...] = ()
        else:
            sql = (f"SELECT {columns} FROM works WHERE work_id IN (SELECT work_id FROM "
                   "work_warnings WHERE warning = ? AND severity_rank >= ? AND confidence >= ?) "
                   "ORDER BY work_id")
            params = (warning, min_severity_rank, min_confidence)
        for row in self._iterate(sql, params):
            d = dict(zip(names, row, strict=True))
            report = d.get("report")
            if report is not None and not isinstance(report, str):
                d["report"] = json.dumps(report, ensure_ascii=False)
            yield d

    def iter_warnings(self, *, warning: str | None = None, min_severity_rank: int = 0,
                      min_confidence: float = 0.0) -> Iterator[dict[str, Any]]:
        """Every stored (work, warning) row, optionally filtered, by work id and warning."""
        names = ["work_id", "warning", "severity", "severity_rank", "confidence", "declared"]
        where, params = "", ()  # type: tuple[str, tuple[Any, ...]]
        if warning is not None:
            where = "WHERE warning = ? AND severity_rank >= ? AND confidence >= ?"
            params = (warning, min_severity_rank, min_confidence)
        sql = (f"SELECT {', '.join(names)} FROM work_warnings {where} "
               "ORDER BY work_id, warning")
        for row in self._iterate(sql, params):
            d = dict(zip(names, row, strict=True))
            d["declared"] = bool(d["declared"])
            yield d

    def stats(self, warning: str | None = None) -> dict[str, Any]:
        """Counts per status, warning and severity, a 10-bin confidence histogram, failures."""
        status = dict(self._execute("SELECT status, COUNT(*) FROM works GROUP BY status"))
        per: dict[str, dict[str, int]] = {}
        for wid, sev, n in self._execute(
                "SELECT warning, severity, COUNT(*) FROM work_warnings "
                "GROUP BY warning, severity ORDER BY warning"):
            per.setdefault(wid, {s: 0 for s in SEVERITY_RANK})[sev] = int(n)
        where, params = "", ()  # type: tuple[str, tuple[Any, ...]]
        if warning is not None:
            where, params = "WHERE warning = ?", (warning,)
        bins = [0] * 10
        for b, n in self._execute(
                f"SELECT {self._bin_expr()} AS b, COUNT(*) FROM work_warnings {where} "
                "GROUP BY b", params):
            bins[max(0, min(9, int(b)))] += int(n)
        failures = dict(self._execute(
            "SELECT error_kind, COUNT(*) FROM works WHERE status = 'failed' "
            "GROUP BY error_kind ORDER BY COUNT(*) DESC, error_kind"))
        versions = dict(self._execute(
            "SELECT model_version, COUNT(*) FROM works GROUP BY model_version "
            "ORDER BY COUNT(*) DESC"))
        with_warning = self._execute(
            "SELECT COUNT(DISTINCT work_id) FROM work_warnings")[0][0]
        return {
            "works": int(sum(status.values())),
            "ok": int(status.get("ok", 0)),
            "failed": int(status.get("failed", 0)),
            "works_with_warnings": int(with_warning),
            "warnings": {k: dict(v, total=sum(v.values())) for k, v in per.items()},
            "confidence_histogram": {
                "warning": warning,
                "bins": [{"from": i / 10, "to": (i + 1) / 10, "count": bins[i]}
                         for i in range(10)],
            },
            "failures": {str(k): int(v) for k, v in failures.items()},
            "model_versions": {str(k): int(v) for k, v in versions.items()},
        }


_UPSERT_WORK = (
    "INSERT INTO works (work_id, source, content_hash, forewarn_version, model_version, "
    "status, error_kind, error_message, title, format, word_count, chapters, warning_count, "
    "report, elapsed_s, scanned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (work_id) DO UPDATE SET source = excluded.source, "
    "content_hash = excluded.content_hash, forewarn_version = excluded.forewarn_version, "
    "model_version = excluded.model_version, status = excluded.status, "
    "error_kind = excluded.error_kind, error_message = excluded.error_message, "
    "title = excluded.title, format = excluded.format, word_count = excluded.word_count, "
    "chapters = excluded.chapters, warning_count = excluded.warning_count, "
    "report = excluded.report, elapsed_s = excluded.elapsed_s, scanned_at = excluded.scanned_at"
)

# The store's tables, with each backend's column types
_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER NOT NULL,
    applied_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS works (
    work_id           TEXT PRIMARY KEY,
    source            TEXT,
    content_hash      TEXT NOT NULL,
    forewarn_version  TEXT NOT NULL,
    model_version     TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error_kind        TEXT,
    error_message     TEXT,
    title             TEXT,
    format            TEXT,
    word_count        INTEGER,
    chapters          INTEGER,
    warning_count     INTEGER,
    report            {json},
    elapsed_s         {real},
    scanned_at        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS work_warnings (
    work_id        TEXT NOT NULL REFERENCES works (work_id) ON DELETE CASCADE,
    warning        TEXT NOT NULL,
    severity       TEXT NOT NULL,
    severity_rank  {small} NOT NULL,
    confidence     {real} NOT NULL,
    declared       {flag} NOT NULL,
    PRIMARY KEY (work_id, warning)
);
CREATE INDEX IF NOT EXISTS work_warnings_by_warning
    ON work_warnings (warning, severity_rank, confidence, work_id);
CREATE INDEX IF NOT EXISTS works_by_status ON works (status, error_kind);
CREATE TABLE IF NOT EXISTS files (
    path          TEXT PRIMARY KEY,
    size          {big} NOT NULL,
    mtime_ns      {big} NOT NULL,
    checked_ns    {big} NOT NULL,
    content_hash  TEXT NOT NULL
);
"""
_SQLITE_SCHEMA = _SCHEMA.format(json="TEXT", real="REAL", small="INTEGER", flag="INTEGER",
                                big="INTEGER")
_POSTGRES_SCHEMA = _SCHEMA.format(json="JSONB", real="DOUBLE PRECISION", small="SMALLINT",
                                  flag="BOOLEAN", big="BIGINT")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class SQLiteStore(Store):
    """The default store: one SQLite file in WAL mode."""

    dialect = "sqlite"

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True,
                 read_only: bool = False) -> None:
        self.target = os.fspath(path)
        if read_only:
            create = False
        if os.path.isdir(self.target):
            raise StoreError(f"{self.target}: is a directory, not a store file")
        if not create and not os.path.exists(self.target):
            raise StoreError(f"{self.target}: no such store")
        if os.path.exists(self.target) and not os.path.isfile(self.target):
            # a FIFO or a device would block the open, or be read without end
            raise StoreError(f"{self.target}: not a regular file, so not a store")
        parent = os.path.dirname(os.path.abspath(self.target))
        if not os.path.isdir(parent):
            raise StoreError(f"{self.target}: cannot create the store: "
                             f"folder {parent} does not exist")
        try:
            if read_only:
                self.conn = sqlite3.connect(_sqlite_read_only_uri(self.target), uri=True,
                                            timeout=30.0, isolation_level=None,
                                            check_same_thread=False)
            else:
                self.conn = sqlite3.connect(self.target, timeout=30.0, isolation_level=None,
                                            check_same_thread=False)
            self.conn.execute("PRAGMA busy_timeout = 30000")
            self.conn.execute("PRAGMA foreign_keys = ON")
            self._prepare(create)  # before anything changes the file: it may not be ours
            if create:
                self.conn.execute("PRAGMA journal_mode = WAL")
            if not read_only:
                self.conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.target}: cannot open the store: {_one_line(exc)}") from None
        self._in_tx = False

    def _prepare(self, create: bool) -> None:
        tables = {r[0] for r in self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "works" in tables and "schema_version" in tables:
            _check_version(self.target, self.conn.execute(
                "SELECT MAX(version) FROM schema_version").fetchone()[0])
            return
        if (tables - {"files"} and "works" not in tables) or (
                "files" in tables and self._columns("files") != _FILES_COLUMNS):
            raise StoreError(f"{self.target}: not a forewarn store (it holds other tables)")
        if not create:
            raise StoreError(f"{self.target}: not a forewarn store")
        self.conn.execute("BEGIN IMMEDIATE")
        for statement in _statements(_SQLITE_SCHEMA):
            self.conn.execute(statement)
        self.conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                          (SCHEMA_VERSION, _now()))
        self.conn.execute("COMMIT")

    def _columns(self, table: str) -> set[str]:
        return {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, _bindable(params)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.target}: {_one_line(exc)}") from None

    def _iterate(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        try:
            cursor = self.conn.execute(sql, _bindable(params))
            while rows := cursor.fetchmany(1000):
                yield from rows
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.target}: {_one_line(exc)}") from None

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, [_bindable(row) for row in rows])

    def _transaction(self) -> _SQLiteTransaction:
        return _SQLiteTransaction(self)

    def _bin_expr(self) -> str:
        return "MIN(CAST(confidence * 10 AS INTEGER), 9)"

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()


# the file-hash cache's columns (a table of that name with others is another program's)
_FILES_COLUMNS = {"path", "size", "mtime_ns", "checked_ns", "content_hash"}


def _bindable(params: Sequence[Any]) -> tuple[Any, ...]:
    """``params`` as a database can store them: a string that is not valid Unicode (a file
    name in another encoding read with surrogate escapes, a JSON id with a lone surrogate)
    has its stray code points written as ``\\udce9`` escapes, the same way every time, so
    lookups find what was written; every other value is unchanged."""
    return tuple(_bound(v) for v in params)


def _bound(value: Any) -> Any:
    if isinstance(value, str):
        return _storable(value)
    if isinstance(value, list):  # PostgreSQL's "= ANY(?)" takes a list of ids
        return [_storable(v) if isinstance(v, str) else v for v in value]
    return value


def storable_json(value: Any) -> str:
    """``value`` as JSON text every store accepts: each string that is not valid Unicode has
    its stray code points written as ``\\udce9`` text first, as :func:`_storable` writes a
    work id (PostgreSQL's ``json`` type refuses a ``\\udce9`` escape of a lone surrogate;
    so the report names a work the way the store does)."""
    def clean(v: Any) -> Any:
        if isinstance(v, str):
            return _storable(v)
        if isinstance(v, dict):
            return {clean(k): clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(value), ensure_ascii=False)


#: The longest key (a work id, a file's path) a store keeps, in UTF-8 bytes as stored:
#: PostgreSQL refuses an index entry over 2,704 bytes, and a work id is indexed with other
#: columns beside it. A JSON or Parquet id over it is a failure; a longer path is shortened
#: (:func:`key_form`) or, in the file-hash cache, not cached.
MAX_KEY_BYTES = 1_000


def fits_key(value: str) -> bool:
    """Whether ``value``, as stored, is short enough to be a key in every store."""
    return len(_storable(value).encode("utf-8")) <= MAX_KEY_BYTES


def key_form(value: str) -> str:
    """``value`` itself where it fits (:func:`fits_key`), else its first characters, an
    ellipsis and 16 hex digits of its SHA-256: the same every run, so a re-run finds it."""
    if fits_key(value):
        return value
    import hashlib

    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    head = value
    while len(_storable(head).encode("utf-8")) > MAX_KEY_BYTES // 2:
        head = head[: len(head) * 3 // 4]
    return f"{head}\u2026{digest}"


def _storable(value: str) -> str:
    """``value`` as both stores keep it: stray surrogates as ``\\udce9`` text and NUL as
    ``\\x00`` text (PostgreSQL's text refuses both; a JSON id may hold either). An id
    that holds such text literally is kept the same way, so the two meet (documented)."""
    if "\x00" in value:
        value = value.replace("\x00", "\\x00")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


class _SQLiteTransaction:
    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def __enter__(self) -> None:
        try:
            self.store.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.store.target}: {_one_line(exc)}") from None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        conn = self.store.conn
        if exc_type is None:
            try:
                conn.execute("COMMIT")
                return
            except sqlite3.DatabaseError as error:
                exc = error
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.DatabaseError):
            raise StoreError(f"{self.store.target}: cannot write: {_one_line(exc)}") from None


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _check_version(target: str, version: Any) -> None:
    if version is None:
        raise StoreError(f"{target}: the store has no schema version")
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise StoreError(f"{target}: the store's schema version is not a number "
                         f"({str(version)[:40]!r}): a damaged store") from None
    if number > SCHEMA_VERSION:
        raise StoreError(f"{target}: the store has schema version {version}, newer than this "
                         f"forewarn understands ({SCHEMA_VERSION}); upgrade forewarn")


class PostgresStore(Store):
    """A PostgreSQL database (psycopg 3); the same tables, ``report`` as JSONB."""

    dialect = "postgresql"

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.target = _redact(url)
        self._hidden = _secrets(url)
        try:
            import psycopg
        except ImportError:
            raise MissingDependency(
                "a postgresql:// store needs psycopg 3: pip install 'forewarn[postgres]'"
            ) from None
        self._psycopg = psycopg
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except (psycopg.Error, ValueError) as exc:
            raise StoreError(f"{self.target}: cannot connect: {self._say(exc)}") from None
        try:
            # A commit need not wait for the server's disk: after a server crash the last
            # few works are missing (never half-written) and the next run scans them.
            self.conn.execute("SET synchronous_commit = off")
            self._prepare(create)
        except psycopg.Error as exc:
            self.close()
            raise StoreError(f"{self.target}: cannot prepare the store: {self._say(exc)}") from None

    def _say(self, exc: BaseException) -> str:
        """The driver's message in one line, with no password in it (its connection errors
        quote the whole URL)."""
        return _scrub(_one_line(exc), self._hidden, self.target)

    def _prepare(self, create: bool) -> None:
        exists = self.conn.execute(
            "SELECT to_regclass('works') IS NOT NULL AND "
            "to_regclass('schema_version') IS NOT NULL").fetchone()
        if exists and exists[0]:
            version = self.conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
            _check_version(self.target, version[0] if version else None)
            return
        if not create:
            raise StoreError(f"{self.target}: not a forewarn store")
        with self.conn.transaction():
            # Two batch runs creating the same store at once: one waits for the other.
            self.conn.execute("SELECT pg_advisory_xact_lock(4242424242)")
            for statement in _statements(_POSTGRES_SCHEMA):
                self.conn.execute(statement)
            row = self.conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()
            if not row or not row[0]:
                self.conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (%s, %s)",
                    (SCHEMA_VERSION, _now()))

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            cursor = self.conn.execute(self._sql(sql), _bindable(params))
            return list(cursor.fetchall()) if cursor.description else []
        except self._psycopg.Error as exc:
            raise StoreError(f"{self.target}: {self._say(exc)}") from None

    def _lookup_rows(self, work_ids: list[str]) -> list[tuple[Any, ...]]:
        return self._execute(
            "SELECT work_id, content_hash, model_version, error_kind FROM works "
            "WHERE work_id = ANY(?)", (work_ids,))

    def _iterate(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        try:
            with self.conn.transaction(), self.conn.cursor(name="forewarn_export") as cursor:
                cursor.itersize = 1000
                cursor.execute(self._sql(sql), _bindable(params))
                yield from cursor
        except self._psycopg.Error as exc:
            raise StoreError(f"{self.target}: {self._say(exc)}") from None

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(self._sql(sql), [_bindable(row) for row in rows])

    def write(self, results: Iterable[WorkResult]) -> int:
        try:
            return super().write(results)
        except self._psycopg.Error as exc:
            raise StoreError(f"{self.target}: cannot write: {self._say(exc)}") from None

    def remember_hashes(self, rows: Sequence[tuple[str, int, int, int, str]]) -> None:
        try:
            super().remember_hashes(rows)
        except self._psycopg.Error as exc:
            raise StoreError(f"{self.target}: cannot write: {self._say(exc)}") from None

    def _transaction(self) -> Any:
        return self.conn.transaction()

    def _bin_expr(self) -> str:
        return "LEAST(FLOOR(confidence * 10)::int, 9)"

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken connection
            self.conn.close()


def _redact(url: str) -> str:
    """The URL without its password (in the user part or a ``password=`` parameter), for
    messages. Nothing is parsed that could fail: a bad or multi-host port stays as given,
    for the driver to refuse in its own words."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://…"
    netloc = parts.netloc
    userinfo, at, hosts = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:***@{hosts}"
    query = "&".join("password=***" if kv.split("=", 1)[0].strip().lower() == "password"
                     else kv for kv in parts.query.split("&")) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _secrets(url: str) -> list[str]:
    """The URL itself and every password in it, to be kept out of any message (a driver's
    own message may quote the whole URL)."""
    from urllib.parse import unquote, urlsplit

    found = [url]
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    userinfo = (parts.netloc if parts else url.partition("://")[2]).rpartition("@")[0]
    if ":" in userinfo:
        found.append(userinfo.split(":", 1)[1])
    for kv in (parts.query.split("&") if parts else []):
        key, _, value = kv.partition("=")
        if key.strip().lower() == "password" and value:
            found.append(value)
    passwords = {f for f in found[1:] + [unquote(f) for f in found[1:]] if f}
    return [url, *sorted(passwords, key=len, reverse=True)]


def _scrub(message: str, secrets: list[str], shown: str) -> str:
    """``message`` with the URL (``secrets[0]``) written as ``shown`` and every password
    (the rest) as ``***``."""
    message = message.replace(secrets[0], shown)
    for secret in secrets[1:]:
        message = message.replace(secret, "***")
    return message
