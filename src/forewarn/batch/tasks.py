"""What is scanned and how, and the worker side of a batch.

:class:`Task` (one work to scan), :class:`ScanConfig` (how, sent to every worker),
:class:`ChunkResult` (a worker's answer), the model-version string stored with each work,
and the functions worker processes run: :func:`scan_chunk` (a process-pool worker, or the
parent with ``--jobs 1``), :func:`dask_scan_chunk` (a Dask worker) and the pool
initializer. Each worker process builds one :class:`~forewarn.scanner.Scanner` per
configuration and keeps it. Process pools and Dask pickle these by their module path,
so everything a worker is sent lives here, importable on its own.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from forewarn.batch.hashing import sha256_bytes
from forewarn.confidence import DEFAULT_MIN_CONFIDENCE
from forewarn.errors import ForewarnError
from forewarn.ingest import DEFAULT_MAX_BYTES
from forewarn.store import WarningRow, WorkResult, storable_json


@dataclass(frozen=True, slots=True)
class ScanConfig:
    """How each work is scanned; sent to every worker."""

    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    lexicon_only: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES

    def scanner(self) -> Any:
        from forewarn.scanner import Scanner

        return Scanner(lexicon_only=self.lexicon_only, min_confidence=self.min_confidence)


def expected_versions(config: ScanConfig) -> dict[str, str]:
    """What ``Report.versions`` will say for a scan with ``config`` (without scanning)."""
    return dict(config.scanner().versions)


def model_version_string(versions: dict[str, str], config: ScanConfig) -> str:
    """One string for the store from ``Report.versions``: ``forewarn=0.1.0;lexicon=…``.

    A non-default ``min_confidence`` is part of it, since it changes what is stored.
    """
    parts = [f"forewarn={versions.get('forewarn', '?')}"]
    parts += [f"{k}={v}" for k, v in sorted(versions.items()) if k != "forewarn"]
    if config.min_confidence != DEFAULT_MIN_CONFIDENCE:
        parts.append(f"min_confidence={config.min_confidence:g}")
    return ";".join(parts)


@dataclass(frozen=True, slots=True)
class Task:
    """One work to scan. ``kind``: ``bytes`` (data in hand), ``path`` (the worker reads
    ``path``) or ``text`` (a decoded story from JSONL or Parquet)."""

    work_id: str
    source: str
    kind: str
    data: bytes | str | None
    content_hash: str
    fmt: str | None = None
    path: str | None = None


@dataclass(slots=True)
class ChunkResult:
    """A worker's answer for one chunk: the results, its pid and peak RSS (KiB)."""

    results: list[WorkResult]
    pid: int
    max_rss_kb: int


def _read_limited(path: str, max_bytes: int) -> bytes:
    """The file's bytes; InputNotFound / InputTooLarge as ``read_path`` would raise."""
    from forewarn.ingest import read_file_bytes

    return read_file_bytes(path, max_bytes)


def scan_task(scanner: Any, task: Task, config: ScanConfig, versions: dict[str, str]) -> WorkResult:
    """Scan one task. Never raises for a bad work: the error is in the result."""
    from forewarn.ingest import read_bytes

    started = time.perf_counter()
    forewarn_version = versions.get("forewarn", "?")
    model_version = model_version_string(versions, config)
    digest = task.content_hash
    try:
        if task.kind == "path":
            # a read that fails (a file moved away a moment, a share that hiccups) is
            # stored under a hash no content has, so the next run reads it again
            digest = f"unreadable:{task.path or task.source}"
            data = _read_limited(task.path or task.source, config.max_bytes)
            digest = sha256_bytes(data)
        elif task.kind == "text":
            assert isinstance(task.data, str)
            data = task.data.encode("utf-8", "surrogatepass")
        else:
            assert isinstance(task.data, bytes)
            data = task.data
        work = read_bytes(data, task.source, fmt=task.fmt, max_bytes=config.max_bytes)
        report = scanner.scan_work(work)
    except ForewarnError as exc:
        return _failure(task, digest, forewarn_version, model_version, exc.kind,
                        " ".join(str(exc).split()))
    except MemoryError:
        return _failure(task, digest, forewarn_version, model_version, "internal",
                        f"{task.source}: out of memory")
    except Exception as exc:  # one bad work must not stop a batch
        return _failure(task, digest, forewarn_version, model_version, "internal",
                        f"{task.source}: internal error: {type(exc).__name__}: "
                        f"{' '.join(str(exc).split())}")
    report_versions = dict(report.versions) or versions
    return WorkResult(
        work_id=task.work_id,
        source=task.source,
        content_hash=digest,
        forewarn_version=report_versions.get("forewarn", forewarn_version),
        model_version=model_version_string(report_versions, config),
        report_json=storable_json(report.to_dict(evidence=False)),
        warnings=[WarningRow(w.id, w.severity, round(w.confidence, 3), w.declared)
                  for w in report.warnings],
        title=report.title,
        format=report.format,
        word_count=report.word_count,
        chapters=report.chapter_count,
        elapsed_s=round(time.perf_counter() - started, 4),
    )


def _failure(task: Task, digest: str, forewarn_version: str, model_version: str,
             kind: str, message: str) -> WorkResult:
    return WorkResult(task.work_id, task.source, digest, forewarn_version, model_version,
                      error_kind=kind, error_message=message)


# --- worker processes ------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}
_WORKER_LOCK = threading.Lock()


def _worker_state(config: ScanConfig) -> tuple[Any, dict[str, str]]:
    """This process's Scanner and versions for ``config``, built once and cached."""
    with _WORKER_LOCK:
        state = _WORKER.get("state")
        if state is None or state[0] != config:
            state = (config, config.scanner(), expected_versions(config))
            _WORKER["state"] = state
    return state[1], state[2]


def _init_worker(config: ScanConfig) -> None:
    """Process-pool initializer: end with the parent however it ends, ignore Ctrl-C (the
    parent decides) and build the Scanner."""
    from forewarn.lifeline import die_with_parent

    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One core per worker: the tokenizer's own thread pool would only oversubscribe.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    os.environ.setdefault("FOREWARN_THREADS", "1")  # the encoder's onnxruntime threads
    scanner, _ = _worker_state(config)
    # Load the models now, so the first chunk is not slower than the others.
    try:
        from forewarn.ingest import read_text

        scanner.scan_work(read_text("Warm-up.\n\nShe made tea.", "<warm-up>"))
        scanner.warm_up()
    except Exception:  # a broken install shows up on the first real work
        pass


def _max_rss_kb() -> int:
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    except (ImportError, OSError):
        return 0


def scan_chunk(tasks: Sequence[Task], config: ScanConfig) -> ChunkResult:
    """Scan a chunk in this process (a pool worker, a Dask worker, or the parent)."""
    scanner, versions = _worker_state(config)
    results = [scan_task(scanner, task, config, versions) for task in tasks]
    return ChunkResult(results, os.getpid(), _max_rss_kb())


def dask_scan_chunk(tasks: Sequence[Task], config: ScanConfig) -> ChunkResult:
    """The function Dask workers run: the same as :func:`scan_chunk`, Ctrl-C untouched."""
    return scan_chunk(tasks, config)
