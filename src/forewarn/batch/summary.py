"""What a batch run did: :class:`BatchSummary`, and its JSON form (the terminal text is
:func:`forewarn.render.terminal.render_batch`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class BatchSummary:
    """What a run did. ``failed`` counts failures recorded in this run (new or retried)."""

    total: int = 0
    scanned: int = 0
    skipped: int = 0
    skipped_failed: int = 0
    failed: int = 0
    duplicates: int = 0
    elapsed_s: float = 0.0
    mode: str = ""
    jobs: int = 1
    store: str = ""
    model_version: str = ""
    warnings: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    worker_peak_rss_mb: float = 0.0
    interrupted: bool = False

    @property
    def done(self) -> int:
        return self.scanned + self.skipped + self.failed + self.duplicates

    def to_dict(self) -> dict[str, Any]:
        rate = self.scanned / self.elapsed_s if self.elapsed_s > 0 else 0.0
        return {
            "schema": "forewarn.batch/1",
            "works": self.done,
            "total": self.total,
            "scanned": self.scanned,
            "skipped": self.skipped,
            "skipped_failed": self.skipped_failed,
            "failed": self.failed,
            "duplicates": self.duplicates,
            "elapsed_s": round(self.elapsed_s, 3),
            "works_per_s": round(rate, 3),
            "mode": self.mode,
            "jobs": self.jobs,
            "store": self.store,
            "model_version": self.model_version,
            "warnings": dict(sorted(self.warnings.items(), key=lambda kv: (-kv[1], kv[0]))),
            "failures": dict(sorted(self.failures.items(), key=lambda kv: (-kv[1], kv[0]))),
            "worker_peak_rss_mb": round(self.worker_peak_rss_mb, 1),
            "interrupted": self.interrupted,
        }
