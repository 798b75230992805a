"""What ``forewarn export`` reads from a results store, in the shapes its formats write.

:class:`Export` is the one item the ``export`` renderers get
(:mod:`forewarn.render.registry`): :meth:`Export.records` for JSON lines (one object per
work, its report included), :meth:`Export.rows` and :attr:`Export.columns` for the flat
tables (CSV, Parquet): ``table="works"`` one row per work with its warnings as
``id:severity:confidence`` joined by ``;``, ``table="warnings"`` one row per (work,
warning). ``filters`` are :meth:`Store.iter_works`'s (``warning``, ``min_severity_rank``,
``min_confidence``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

WORK_COLUMNS = ["work_id", "source", "content_hash", "forewarn_version", "model_version",
                "status", "error_kind", "error_message", "title", "format", "word_count",
                "chapters", "warning_count", "warnings", "scanned_at"]
WARNING_COLUMNS = ["work_id", "warning", "severity", "severity_rank", "confidence",
                   "declared"]
TABLES = ("works", "warnings")
EXPORT_SCHEMA = "forewarn.export/1"


@dataclass
class Export:
    """A store's works to export: ``store`` (a :class:`~forewarn.store.Store` or anything
    with ``iter_works``/``iter_warnings``), the ``table`` the flat formats write, and the
    ``filters``."""

    store: Any
    table: str = "works"
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """The flat table's columns (CSV's header)."""
        return WORK_COLUMNS if self.table == "works" else WARNING_COLUMNS

    def records(self) -> Iterator[dict[str, Any]]:
        """One object per work: ``schema`` (``forewarn.export/1``), ``work_id``, ``source``,
        ``content_hash``, ``forewarn_version``, ``model_version``, ``status``, ``error``
        (``{"kind", "message"}`` or null), ``report`` (the ``forewarn.report/2`` object, or
        null for a failure) and ``scanned_at``."""
        for work in self.store.iter_works(**self.filters):
            yield json_record(work)

    def rows(self) -> Iterator[dict[str, Any]]:
        """The flat table's rows (each has at least :attr:`columns`; works rows also
        ``report``, the JSON text)."""
        if self.table == "warnings":
            yield from self.store.iter_warnings(**self.filters)
            return
        for work in self.store.iter_works(**self.filters):
            work["warnings"] = _warning_summary(work.get("report"))
            yield work


def json_record(work: dict[str, Any]) -> dict[str, Any]:
    """A stored work as JSON lines write it."""
    report = work.get("report")
    error = None
    if work["status"] != "ok":
        error = {"kind": work.get("error_kind"), "message": work.get("error_message")}
    return {
        "schema": EXPORT_SCHEMA,
        "work_id": work["work_id"],
        "source": work["source"],
        "content_hash": work["content_hash"],
        "forewarn_version": work["forewarn_version"],
        "model_version": work["model_version"],
        "status": work["status"],
        "error": error,
        "report": _report_json(work["work_id"], report),
        "scanned_at": work["scanned_at"],
    }


def _report_json(work_id: str, report: Any) -> Any:
    """The stored report, parsed (PostgreSQL gives it parsed already); a damaged one is a
    one-line store error naming the work, not a traceback half-way through an export."""
    if not report:
        return None
    if not isinstance(report, (str, bytes)):
        return report
    try:
        return json.loads(report)
    except ValueError:
        from forewarn.store import StoreError

        raise StoreError(f"the stored report of work {work_id!r} is not JSON: a damaged "
                         "store") from None


def _warning_summary(report: str | None) -> str:
    if not report:
        return ""
    try:
        data = json.loads(report)
    except ValueError:
        return ""
    return ";".join(f"{w['id']}:{w['severity']}:{w['confidence']}"
                    for w in data.get("warnings", []))


def parquet_schema(table: str) -> Any:
    """The Parquet (pyarrow) schema of ``table``; works rows also keep ``report``."""
    import pyarrow as pa

    if table == "works":
        return pa.schema([
            ("work_id", pa.string()), ("source", pa.string()), ("content_hash", pa.string()),
            ("forewarn_version", pa.string()), ("model_version", pa.string()),
            ("status", pa.string()), ("error_kind", pa.string()),
            ("error_message", pa.string()), ("title", pa.string()), ("format", pa.string()),
            ("word_count", pa.int64()), ("chapters", pa.int64()),
            ("warning_count", pa.int64()), ("warnings", pa.string()),
            ("scanned_at", pa.string()), ("report", pa.string()),
        ])
    return pa.schema([
        ("work_id", pa.string()), ("warning", pa.string()), ("severity", pa.string()),
        ("severity_rank", pa.int8()), ("confidence", pa.float64()),
        ("declared", pa.bool_()),
    ])
