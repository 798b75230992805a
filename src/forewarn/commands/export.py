"""``forewarn export --store results.db --format jsonl|csv|parquet [-o FILE]``.

Writes what a results store holds, for researchers:

* ``jsonl`` (default): one object per work: ``work_id``, ``source``, ``content_hash``,
  ``forewarn_version``, ``model_version``, ``status``, ``error`` (``{"kind", "message"}``
  or null) and ``report`` (the ``forewarn.report/1`` object, or null for a failure);
* ``csv`` and ``parquet``: a flat table; ``--table works`` (default) has one row per work
  with its warnings as ``id:severity:confidence`` joined by ``;``, ``--table warnings`` one
  row per (work, warning).

``--warning W [--min-severity S] [--min-confidence X]`` keeps only works (or rows) with
that warning at least that strong: the same indexed query as in docs/store.md.

``-o FILE`` is written to a temporary file in the same folder that replaces FILE only when
complete: a full disk or an error leaves no partial file (and an existing FILE as it was).

Exit codes: 0 written; 2 usage error (an unknown warning, parquet without ``-o``); 3
``-o FILE`` cannot be written (its folder is missing or read-only, the disk is full: the
file is then not written at all); 8 the store cannot be opened or read; 9 pyarrow (for
parquet) or psycopg (for a PostgreSQL store) is not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import sys
from collections.abc import Iterator
from typing import IO, Any

from forewarn.cli import confidence

WORK_COLUMNS = ["work_id", "source", "content_hash", "forewarn_version", "model_version",
                "status", "error_kind", "error_message", "title", "format", "word_count",
                "chapters", "warning_count", "warnings", "scanned_at"]
WARNING_COLUMNS = ["work_id", "warning", "severity", "severity_rank", "confidence",
                   "declared"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export", help="export a results store as JSONL, CSV or Parquet")
    p.add_argument("--store", required=True, metavar="FILE|URL",
                   help="the results store (a SQLite file or a postgresql:// URL)")
    p.add_argument("--format", choices=("jsonl", "csv", "parquet"), default="jsonl")
    p.add_argument("--table", choices=("works", "warnings"), default="works",
                   help="csv/parquet: one row per work (default) or per (work, warning)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write here (default: standard output; required for parquet)")
    p.add_argument("--warning", metavar="WARNING",
                   help="only works with this warning (an id, name or alias)")
    p.add_argument("--min-severity", choices=("mentioned", "depicted", "graphic"),
                   default="mentioned", help="with --warning: at least this severity")
    p.add_argument("--min-confidence", type=confidence, default=0.0, metavar="X",
                   help="with --warning: at least this confidence")
    p.set_defaults(func=run)


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    from forewarn.store import SEVERITY_RANK

    if args.warning is None:
        return {}
    from forewarn.taxonomy import load_taxonomy

    warning = load_taxonomy().parse_list(args.warning)
    if len(warning) != 1:
        from forewarn.errors import TaxonomyError

        raise TaxonomyError(f"--warning takes one warning, not {args.warning!r}")
    return {"warning": warning[0].id, "min_severity_rank": SEVERITY_RANK[args.min_severity],
            "min_confidence": args.min_confidence}


def run(args: argparse.Namespace) -> int:
    from forewarn.store import open_store

    if args.format == "parquet" and not args.output:
        from forewarn.cli import err

        err("export: --format parquet needs -o FILE")
        return 2
    filters = _filters(args)
    with open_store(args.store, read_only=True) as store:
        if not args.output:
            _write_text(store, args, filters, sys.stdout)
            sys.stdout.flush()
            return 0
        with _AtomicOutput(args.output) as temp:
            if args.format == "parquet":
                _parquet(store, args, filters, temp)
            else:
                with open(temp, "w", encoding="utf-8", newline="") as out:
                    _write_text(store, args, filters, out)
    return 0


class _AtomicOutput:
    """``-o FILE``: the export is written to a temporary file in FILE's folder, which
    replaces FILE (``os.replace``) only once it is complete. On any failure (a full disk,
    a store error) the temporary file is removed and FILE is left as it was; an
    ``OSError`` becomes one line and exit code 3."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.temp: str | None = None

    def __enter__(self) -> str:
        import tempfile

        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            fd, self.temp = tempfile.mkstemp(
                dir=folder, prefix=f".{os.path.basename(self.path)}.", suffix=".tmp")
            os.close(fd)
            # mkstemp makes the file 0600; give it the mode a plain open() would
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.temp, 0o666 & ~umask)
        except OSError as exc:
            self._remove()
            raise self._error(exc) from None
        return self.temp

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            try:
                assert self.temp is not None
                os.replace(self.temp, self.path)
                self.temp = None
                return
            except OSError as error:
                exc = error
        self._remove()
        if isinstance(exc, OSError):
            raise self._error(exc) from None

    def _remove(self) -> None:
        if self.temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)
            self.temp = None

    def _error(self, exc: OSError) -> Exception:
        from forewarn.errors import InputNotFound

        why = exc.strerror or str(exc) or type(exc).__name__
        return InputNotFound(f"{self.path}: cannot write ({why}); the file was not "
                             "written (an existing one is unchanged)")


def _write_text(store: Any, args: argparse.Namespace, filters: dict[str, Any],
                out: IO[str]) -> None:
    if args.format == "jsonl":
        for work in store.iter_works(**filters):
            out.write(json.dumps(_json_record(work), ensure_ascii=False) + "\n")
    else:
        writer = csv.writer(out)
        columns = WORK_COLUMNS if args.table == "works" else WARNING_COLUMNS
        writer.writerow(columns)
        for row in _rows(store, args.table, filters):
            writer.writerow([row.get(c) for c in columns])


def _json_record(work: dict[str, Any]) -> dict[str, Any]:
    report = work.get("report")
    error = None
    if work["status"] != "ok":
        error = {"kind": work.get("error_kind"), "message": work.get("error_message")}
    return {
        "work_id": work["work_id"],
        "source": work["source"],
        "content_hash": work["content_hash"],
        "forewarn_version": work["forewarn_version"],
        "model_version": work["model_version"],
        "status": work["status"],
        "error": error,
        "report": json.loads(report) if report else None,
        "scanned_at": work["scanned_at"],
    }


def _warning_summary(report: str | None) -> str:
    if not report:
        return ""
    try:
        data = json.loads(report)
    except ValueError:
        return ""
    return ";".join(f"{w['id']}:{w['severity']}:{w['confidence']}"
                    for w in data.get("warnings", []))


def _rows(store: Any, table: str, filters: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if table == "warnings":
        yield from store.iter_warnings(**filters)
        return
    for work in store.iter_works(**filters):
        work["warnings"] = _warning_summary(work.get("report"))
        yield work


def _parquet(store: Any, args: argparse.Namespace, filters: dict[str, Any], path: str) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        from forewarn.store import MissingDependency

        raise MissingDependency(
            "--format parquet needs pyarrow: pip install 'forewarn[parquet]'") from None
    if args.table == "works":
        schema = pa.schema([
            ("work_id", pa.string()), ("source", pa.string()), ("content_hash", pa.string()),
            ("forewarn_version", pa.string()), ("model_version", pa.string()),
            ("status", pa.string()), ("error_kind", pa.string()),
            ("error_message", pa.string()), ("title", pa.string()), ("format", pa.string()),
            ("word_count", pa.int64()), ("chapters", pa.int64()),
            ("warning_count", pa.int64()), ("warnings", pa.string()),
            ("scanned_at", pa.string()), ("report", pa.string()),
        ])
    else:
        schema = pa.schema([
            ("work_id", pa.string()), ("warning", pa.string()), ("severity", pa.string()),
            ("severity_rank", pa.int8()), ("confidence", pa.float64()),
            ("declared", pa.bool_()),
        ])
    names = schema.names
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[dict[str, Any]] = []
        for row in _rows(store, args.table, filters):
            batch.append({n: row.get(n) for n in names})
            if len(batch) >= 2000:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
