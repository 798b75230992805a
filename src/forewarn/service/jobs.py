"""The CPU-bound work of each endpoint: read the work, scan it, build the answer.

These run in the scan pool (:class:`~forewarn.service.limits.ScanGate`), in a thread or in
a spawned process, so everything here is plain picklable data and module-level functions.
They only call the library: the service adds no detection logic of its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from forewarn.confidence import DEFAULT_MIN_CONFIDENCE
from forewarn.ingest import DEFAULT_MAX_BYTES
from forewarn.lifeline import die_with_parent
from forewarn.profile import Profile
from forewarn.scanner import Scanner
from forewarn.work import Work

__all__ = ["Job", "JobKind", "ScannerFactory", "WorkInput", "init_process", "run"]

ScannerFactory = Callable[[float], Scanner]
"""Makes the scanner for one request from its confidence floor."""

WARM_UP_TEXT = (
    "The storm came in at dusk. She was not pregnant, thank God, and she could kill for a "
    "coffee. Later the doctor stitched the cut on his arm while the blood dried."
)


@dataclass(frozen=True, slots=True)
class WorkInput:
    """A work as the request gave it: text (JSON or a form field) or an uploaded file."""

    text: str | None = None
    data: bytes | None = None
    filename: str | None = None
    title: str | None = None
    fmt: str | None = None

    def read(self, max_bytes: int) -> Work:
        """The Work, read with the ingest readers (in memory, within ``max_bytes``)."""
        from forewarn.ingest import read_bytes, read_text

        if self.data is not None:
            work = read_bytes(self.data, self.filename or "<upload>", fmt=self.fmt,
                              max_bytes=max_bytes)
        elif self.fmt is None or self.fmt == "text":
            work = read_text(self.text or "", "<text>")
        else:
            work = read_bytes((self.text or "").encode("utf-8", "surrogatepass"), "<text>",
                              fmt=self.fmt, max_bytes=max_bytes)
        if self.title and self.title.strip():
            work.title = " ".join(self.title.split())
        return work


JobKind = Literal["scan", "check", "audit", "read", "warm-up"]


@dataclass(frozen=True, slots=True)
class Job:
    """One request's work, as plain data."""

    kind: JobKind
    work: WorkInput
    floor: float = DEFAULT_MIN_CONFIDENCE
    max_bytes: int = DEFAULT_MAX_BYTES
    lexicon_only: bool = False
    evidence: bool = False
    only: frozenset[str] | None = None
    profile: Profile | None = None
    gap: int = 1
    with_report: bool = False  # check: also the report (as scan gives it) from the same scan


def default_scanner(floor: float, lexicon_only: bool = False) -> Scanner:
    """The library's scanner (the lexicon alone with ``lexicon_only``)."""

    return Scanner(lexicon_only=lexicon_only, min_confidence=floor)


def run(job: Job, make_scanner: ScannerFactory | None = None) -> tuple[float, Any]:
    """Do ``job``; return the seconds it took and its result (JSON-able data, or HTML)."""
    started = time.perf_counter()
    floor = job.floor
    if job.kind == "check":  # near misses below the floor make a verdict uncertain
        from forewarn.verdict import POSSIBLE_FLOOR

        floor = min(floor, POSSIBLE_FLOOR)
    scanner = (make_scanner(floor) if make_scanner is not None
               else default_scanner(floor, job.lexicon_only))
    result = _KINDS[job.kind](job, scanner)
    return time.perf_counter() - started, result


def _scan(job: Job, scanner: Scanner) -> dict[str, Any]:
    report = scanner.scan_work(job.work.read(job.max_bytes))
    return report.filtered(job.floor, set(job.only) if job.only else None).to_dict(
        evidence=job.evidence)


def _check(job: Job, scanner: Scanner) -> dict[str, Any]:
    from forewarn.verdict import SCHEMA, Verdict

    assert job.profile is not None
    report = scanner.scan_work(job.work.read(job.max_bytes))
    verdict = Verdict.of(report, job.profile, job.floor)
    out = {"schema": SCHEMA, "min_confidence": job.floor, "works": [verdict.to_dict()]}
    if job.with_report:
        out["report"] = report.filtered(job.floor).to_dict(evidence=job.evidence)
    return out


def _audit(job: Job, scanner: Scanner) -> dict[str, Any]:
    from forewarn.audit import audit_work

    return audit_work(job.work.read(job.max_bytes), scanner).to_dict(evidence=job.evidence)


def _read(job: Job, scanner: Scanner) -> str:
    from forewarn.render.html import render_html
    from forewarn.render.strip import strips
    from forewarn.scenes import flagged_scenes, without_flagged_titles

    work = job.work.read(job.max_bytes)
    report = scanner.scan_work(work).filtered(job.floor)
    scenes = flagged_scenes(work, report, job.profile, max_gap=job.gap)
    work = without_flagged_titles(work, report, job.profile)  # a flagged title is not shown
    return render_html(work, scenes, profile=job.profile is not None,
                       strips=strips(report, job.profile))


def _warm_up(job: Job, scanner: Scanner) -> None:
    scanner.scan_work(job.work.read(job.max_bytes))


_KINDS: dict[str, Callable[[Job, Scanner], Any]] = {
    "scan": _scan,
    "check": _check,
    "audit": _audit,
    "read": _read,
    "warm-up": _warm_up,
}


def warm_up_job(lexicon_only: bool = False) -> Job:
    """A small scan that loads the lexicon and the model."""
    return Job("warm-up", WorkInput(text=WARM_UP_TEXT), lexicon_only=lexicon_only)


SCAN_NICENESS = 5
"""Scan processes run at a lower priority than the HTTP worker, so that the event loop
gets a core as soon as it has something to do (``/healthz``, a ``503``) even while every
core is scanning; with nothing else to do the scans still use all the CPU."""


def init_process(lexicon_only: bool) -> None:
    """Start of a scan process: lower its priority, leave Ctrl-C to the server, load the
    model once."""
    die_with_parent()
    with contextlib.suppress(OSError):
        os.nice(SCAN_NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("FOREWARN_THREADS", "1")  # one core per scan process
    run(warm_up_job(lexicon_only))
    default_scanner(DEFAULT_MIN_CONFIDENCE, lexicon_only).warm_up()


def ping() -> tuple[float, None]:
    """Nothing: submitting it makes the pool start a process."""
    return 0.0, None
