"""Batch scans of whole archives: corpus iteration, local and Dask runners, one writer.

A batch reads works from INPUTs (:class:`Corpus`: folders of story files, JSONL files of
``{"work_id": ..., "text": ...}`` objects, Parquet files with the same columns, or single
story files), skips those already in the store with the same content hash and model
version, scans the rest in parallel, and stores every result through the one process that
owns the store (:func:`run_batch`).

The pipeline, in the parent process:

1. iterate the corpus in blocks; for files, take the content hash from the file-hash cache
   when ``(path, size, mtime)`` is unchanged, otherwise read the bytes and hash them;
2. look the block's work ids up in the store and skip unchanged works (and unchanged
   failures, unless ``retry_failed``), so a re-run reads nothing it does not need;
3. send the rest, in chunks, to a runner: in-process (``jobs=1``), a process pool with one
   :class:`~forewarn.scanner.Scanner` per worker process (models loaded once per process),
   or a Dask cluster (one Scanner per Dask worker process, created lazily);
4. store each finished chunk in one transaction (each work with its warning rows), so a
   run killed at any moment can be started again and finishes with every work stored once.

Nothing from Dask is imported unless a cluster address is given.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from forewarn.errors import (
    ForewarnError,
    InputNotFound,
    InputTooLarge,
    MalformedInput,
    UnsupportedFormat,
)
from forewarn.ingest import DEFAULT_MAX_BYTES, EXTENSIONS
from forewarn.scanner import DEFAULT_MIN_CONFIDENCE
from forewarn.store import MissingDependency, Store, WarningRow, WorkResult

__all__ = [
    "BatchSummary",
    "ClusterError",
    "Corpus",
    "ScanConfig",
    "Task",
    "expected_versions",
    "model_version_string",
    "run_batch",
]

BLOCK = 256  # works looked up in the store at once
HASH_CACHE_MARGIN_NS = 2_000_000_000  # trust (size, mtime) only for files older than this
START_METHODS = ("auto", "fork", "forkserver", "spawn")
# fork starts warm workers fastest (measured: about 1.0 s for 2 workers, against 1.8 s
# with forkserver and 2.0 s with spawn) and is safe while the parent has no other thread
# (the CLI has none; ProcessPoolExecutor forks all its workers before starting its own
# thread). "auto" picks fork then, forkserver in a threaded process (a notebook, a
# server), and spawn off Linux (macOS).
DEFAULT_START_METHOD = "auto"
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
MAX_FAILURE_LINES = 10


class ClusterError(ForewarnError):
    """The Dask scheduler cannot be reached, or the cluster failed (exit code 12)."""

    exit_code = 12
    kind = "cluster"


# --- what is scanned, and how ----------------------------------------------------------------


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


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


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
        report_json=report.to_json(evidence=False, indent=None),
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


# --- the corpus --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileItem:
    work_id: str
    path: str  # as given (joined with the folder); the report's source
    real_path: str  # absolute, for the hash cache and for Dask workers


@dataclass(frozen=True, slots=True)
class TextItem:
    work_id: str
    source: str
    text: str
    content_hash: str


@dataclass(frozen=True, slots=True)
class BadItem:
    """A work that failed before scanning (a JSONL line that isn't JSON, a missing field)."""

    work_id: str
    source: str
    content_hash: str
    kind: str
    message: str


Item = FileItem | TextItem | BadItem


@dataclass(frozen=True, slots=True)
class _Input:
    path: str
    kind: str  # folder | jsonl | parquet | file


class Corpus:
    """The works named by INPUTs, validated up front (missing inputs raise at once)."""

    def __init__(self, inputs: Sequence[str], *, id_field: str = "work_id",
                 text_field: str = "text") -> None:
        if not inputs:
            raise InputNotFound("batch: no INPUT given")
        self.id_field = id_field
        self.text_field = text_field
        self.inputs = [self._classify(p) for p in inputs]

    @staticmethod
    def _classify(path: str) -> _Input:
        if not os.path.exists(path):
            raise InputNotFound(f"{path}: no such file or folder")
        if os.path.isdir(path):
            if not os.access(path, os.R_OK | os.X_OK):
                raise InputNotFound(f"{path}: permission denied")
            return _Input(path, "folder")
        if not os.path.isfile(path):  # a FIFO, device or socket would hang or never end
            raise InputNotFound(f"{path}: not a regular file or folder")
        if not os.access(path, os.R_OK):
            raise InputNotFound(f"{path}: permission denied")
        lower = path.lower()
        if lower.endswith(JSONL_SUFFIXES):
            return _Input(path, "jsonl")
        if lower.endswith(PARQUET_SUFFIXES):
            _require_pyarrow()
            return _Input(path, "parquet")
        if os.path.splitext(lower)[1] in EXTENSIONS:
            return _Input(path, "file")
        raise UnsupportedFormat(
            f"{path}: not a folder, a JSONL (.jsonl) or Parquet (.parquet) file, or a story "
            f"file ({' '.join(sorted(EXTENSIONS))})")

    def count(self) -> int:
        """How many works (cheap: a folder walk, a line count, Parquet metadata)."""
        total = 0
        for inp in self.inputs:
            if inp.kind == "folder":
                total += sum(1 for _ in _walk(inp.path))
            elif inp.kind == "jsonl":
                total += _count_lines(inp.path)
            elif inp.kind == "parquet":
                total += _parquet_rows(inp.path)
            else:
                total += 1
        return total

    def __iter__(self) -> Iterator[Item]:
        for inp in self.inputs:
            if inp.kind == "folder":
                for rel in _walk(inp.path):
                    path = os.path.join(inp.path, rel)
                    yield FileItem(rel.replace(os.sep, "/"), path, os.path.abspath(path))
            elif inp.kind == "jsonl":
                yield from self._jsonl(inp.path)
            elif inp.kind == "parquet":
                yield from self._parquet(inp.path)
            else:
                path = os.path.normpath(inp.path)
                yield FileItem(path.replace(os.sep, "/"), inp.path, os.path.abspath(path))

    def _record(self, obj: Any, source: str, raw: bytes) -> Item:
        if not isinstance(obj, dict):
            return BadItem(source, source, sha256_bytes(raw), MalformedInput.kind,
                           f"{source}: not a JSON object")
        wid = obj.get(self.id_field)
        if wid is None or (isinstance(wid, str) and not wid.strip()) or isinstance(
                wid, (dict, list, bool)):
            return BadItem(source, source, sha256_bytes(raw), MalformedInput.kind,
                           f"{source}: no usable {self.id_field!r} field")
        wid = str(wid)
        text = obj.get(self.text_field)
        if not isinstance(text, str):
            what = "no" if text is None else "a non-string"
            return BadItem(wid, source, sha256_bytes(raw), MalformedInput.kind,
                           f"{source}: {what} {self.text_field!r} field")
        return TextItem(wid, source, text, sha256_text(text))

    def _jsonl(self, path: str) -> Iterator[Item]:
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise InputNotFound(f"{path}: cannot open ({exc.strerror or exc})") from None
        with handle:
            for lineno, raw in enumerate(handle, 1):
                if not raw.strip():
                    continue
                source = f"{path}:{lineno}"
                if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]  # a UTF-8 byte-order mark
                try:
                    obj = json.loads(raw)
                except (ValueError, UnicodeDecodeError) as exc:
                    reason = str(exc).splitlines()[0] if str(exc) else "invalid"
                    yield BadItem(source, source, sha256_bytes(raw), MalformedInput.kind,
                                  f"{source}: not valid JSON ({reason})")
                    continue
                yield self._record(obj, source, raw)

    def _parquet(self, path: str) -> Iterator[Item]:
        pq = _require_pyarrow()
        try:
            parquet = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several kinds
            raise MalformedInput(f"{path}: not a readable Parquet file ({exc})") from None
        names = set(parquet.schema_arrow.names)
        missing = [c for c in (self.id_field, self.text_field) if c not in names]
        if missing:
            raise MalformedInput(f"{path}: no column {', '.join(map(repr, missing))} "
                                 f"(columns: {', '.join(sorted(names))}; see --id-field, "
                                 "--text-field)")
        row = 0
        for batch in parquet.iter_batches(batch_size=1024,
                                          columns=[self.id_field, self.text_field]):
            ids = batch.column(0).to_pylist()
            texts = batch.column(1).to_pylist()
            for wid, text in zip(ids, texts, strict=True):
                row += 1
                source = f"{path}:{row}"
                raw = json.dumps([str(wid), text], ensure_ascii=False).encode("utf-8",
                                                                              "surrogatepass")
                yield self._record({self.id_field: wid, self.text_field: text}, source, raw)


def _require_pyarrow() -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependency(
            "reading Parquet needs pyarrow: pip install 'forewarn[parquet]'") from None
    return pq


def _walk(folder: str) -> Iterator[str]:
    """Story files under ``folder`` (relative paths), in a stable order; hidden ones skipped."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            if os.path.splitext(name)[1].lower() in EXTENSIONS:
                yield os.path.relpath(os.path.join(root, name), folder)


def _count_lines(path: str) -> int:
    try:
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    except OSError as exc:
        raise InputNotFound(f"{path}: cannot read ({exc.strerror or exc})") from None


def _parquet_rows(path: str) -> int:
    pq = _require_pyarrow()
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception as exc:
        raise MalformedInput(f"{path}: not a readable Parquet file ({exc})") from None


# --- runners -----------------------------------------------------------------------------------

OnResults = Callable[[ChunkResult], None]


class SerialRunner:
    """``--jobs 1``: scan in this process, no pool."""

    mode = "in-process"

    def __init__(self, config: ScanConfig, on_results: OnResults) -> None:
        self.config = config
        self.on_results = on_results

    def submit(self, tasks: list[Task]) -> None:
        self.on_results(scan_chunk(tasks, self.config))

    def drain(self) -> None:
        pass

    def close(self, cancel: bool = False) -> None:
        pass


class PoolRunner:
    """A process pool, one Scanner per worker process, a bounded window of chunks."""

    mode = "processes"

    def __init__(self, jobs: int, config: ScanConfig, on_results: OnResults,
                 start_method: str = DEFAULT_START_METHOD) -> None:
        self.jobs = jobs
        self.config = config
        self.on_results = on_results
        self.start_method = start_method
        self.window = jobs * 3
        self.inflight: dict[Any, list[Task]] = {}
        self.pool: Any = None
        self._start()

    def _start(self) -> None:
        from concurrent.futures import ProcessPoolExecutor

        method = self.start_method
        if method == "auto":
            if not sys.platform.startswith("linux"):
                method = "spawn"
            else:
                method = "fork" if threading.active_count() == 1 else "forkserver"
        self.method_used = method
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["forewarn.batch", "forewarn.scanner"])
        self.pool = ProcessPoolExecutor(self.jobs, mp_context=context,
                                        initializer=_init_worker, initargs=(self.config,))

    def submit(self, tasks: list[Task]) -> None:
        while len(self.inflight) >= self.window:
            self._harvest(block=True)
        try:
            future = self.pool.submit(scan_chunk, tasks, self.config)
        except RuntimeError:  # the pool broke between two submits
            self._restart()
            future = self.pool.submit(scan_chunk, tasks, self.config)
        self.inflight[future] = tasks
        self._harvest(block=False)

    def _harvest(self, block: bool) -> None:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        if not self.inflight:
            return
        done, _ = wait(list(self.inflight), timeout=None if block else 0,
                       return_when=FIRST_COMPLETED)
        broken = False
        for future in done:
            tasks = self.inflight.pop(future)
            try:
                chunk = future.result()
            except BrokenProcessPool:
                broken = True
                chunk = _crashed(tasks, self.config, "a worker process died (killed, or out "
                                 "of memory) while scanning this chunk")
            except Exception as exc:  # e.g. a result that could not be pickled
                chunk = _crashed(tasks, self.config, f"{type(exc).__name__}: {exc}")
            self.on_results(chunk)
        if broken:
            self._restart()

    def _restart(self) -> None:
        from concurrent.futures.process import BrokenProcessPool

        for future, tasks in list(self.inflight.items()):
            self.inflight.pop(future)
            try:
                self.on_results(future.result(timeout=0))
            except BrokenProcessPool:
                self.on_results(_crashed(tasks, self.config, "a worker process died while "
                                         "scanning this chunk"))
            except Exception:
                self.on_results(_crashed(tasks, self.config, "the worker pool failed"))
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._start()

    def drain(self) -> None:
        while self.inflight:
            self._harvest(block=True)

    def close(self, cancel: bool = False) -> None:
        """Stop the pool: with ``cancel`` (Ctrl-C) at once, the workers terminated and the
        chunks they were scanning dropped (they are not stored, so the next run scans
        them); otherwise once every chunk is done."""
        pool, self.pool = self.pool, None
        if pool is None:
            return
        if not cancel:
            pool.shutdown(wait=True)
            return
        # the pool's processes (a long-standing private attribute; [] if it ever goes)
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(5)
                if process.is_alive():
                    process.kill()
                    process.join(1)
        # with the workers gone this returns at once; it ends the pool's manager thread,
        # which the interpreter would otherwise wait for at exit
        pool.shutdown(wait=True)
        self.inflight.clear()


class DaskRunner:
    """A Dask distributed cluster: chunks go out in a bounded window, results come back here."""

    mode = "dask"

    def __init__(self, address: str, config: ScanConfig, on_results: OnResults,
                 window: int | None = None, timeout: float = 15.0) -> None:
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise MissingDependency(
                "--cluster needs Dask: pip install 'forewarn[cluster]'") from None
        self.config = config
        self.on_results = on_results
        try:
            self.client = Client(address, timeout=f"{timeout}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"{address}: cannot reach the Dask scheduler: "
                               f"{' '.join(str(exc).split()) or type(exc).__name__}") from None
        try:
            threads = sum(self.client.nthreads().values())
        except Exception:
            threads = 1
        self.workers = threads
        self.window = window or max(4, 2 * max(1, threads))
        self.completed = as_completed([], loop=self.client.loop, with_results=False)
        self.inflight: dict[Any, tuple[Any, list[Task]]] = {}

    def submit(self, tasks: list[Task]) -> None:
        while len(self.inflight) >= self.window:
            self._harvest_one()
        future = self.client.submit(dask_scan_chunk, tasks, self.config, pure=False)
        self.inflight[future.key] = (future, tasks)
        self.completed.add(future)

    def _harvest_one(self) -> None:
        future = next(self.completed)
        _, tasks = self.inflight.pop(future.key)
        try:
            chunk = future.result()
        except Exception as exc:  # KilledWorker, a lost connection...
            if future.status not in ("error", "cancelled"):
                raise ClusterError(f"the Dask cluster failed: {type(exc).__name__}: "
                                   f"{exc}") from None
            chunk = _crashed(tasks, self.config, f"the Dask task failed: "
                             f"{type(exc).__name__}: {' '.join(str(exc).split())}")
        future.release()
        self.on_results(chunk)

    def drain(self) -> None:
        while self.inflight:
            self._harvest_one()

    def close(self, cancel: bool = False) -> None:
        if cancel:
            for future, _ in self.inflight.values():
                future.cancel()
        with contextlib.suppress(Exception):  # closing after a failure
            self.client.close(timeout=10)


def _crashed(tasks: Sequence[Task], config: ScanConfig, message: str) -> ChunkResult:
    versions = expected_versions(config)
    fv, mv = versions.get("forewarn", "?"), model_version_string(versions, config)
    results = [_failure(t, t.content_hash, fv, mv, "worker-crashed", f"{t.source}: {message}")
               for t in tasks]
    return ChunkResult(results, 0, 0)


# --- the batch ---------------------------------------------------------------------------------


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

    def render(self) -> str:
        from forewarn.progress import format_duration

        rate = self.scanned / self.elapsed_s if self.elapsed_s > 0 else 0.0
        where = {"in-process": "1 process", "processes": f"{self.jobs} worker processes",
                 "dask": f"Dask, {self.jobs} worker threads"}.get(self.mode, self.mode)
        head = "interrupted after" if self.interrupted else "done:"
        lines = [
            f"forewarn batch {head} {self.done:,} works in {format_duration(self.elapsed_s)} "
            f"({self.elapsed_s:.1f} s; {rate:.1f} works/s scanned; {where})",
            f"  scanned {self.scanned:,}, skipped {self.skipped:,} (already stored), "
            f"failed {self.failed:,}" + (f", duplicate ids {self.duplicates:,}"
                                          if self.duplicates else ""),
        ]
        if self.skipped_failed:
            lines.append(f"  {self.skipped_failed:,} of the skipped works failed before and "
                         "are unchanged (--retry-failed scans them again)")
        if self.warnings:
            top = sorted(self.warnings.items(), key=lambda kv: (-kv[1], kv[0]))
            lines.append("  warnings found (works): "
                         + ", ".join(f"{k} {v:,}" for k, v in top))
        elif self.scanned:
            lines.append("  warnings found: none")
        if self.failures:
            lines.append("  failures by kind: " + ", ".join(
                f"{k} {v:,}" for k, v in sorted(self.failures.items(),
                                                key=lambda kv: (-kv[1], kv[0]))))
        if self.worker_peak_rss_mb:
            lines.append(f"  peak memory per worker: {self.worker_peak_rss_mb:.0f} MB")
        lines.append(f"  store: {self.store}  (model {self.model_version})")
        return "\n".join(lines)


class _Batch:
    """The parent's side of a run: decides what to scan, feeds the runner, writes results."""

    def __init__(self, corpus: Corpus, store: Store, config: ScanConfig, *,
                 retry_failed: bool, chunk_size: int, progress: Any,
                 dask_paths: bool, warn: Callable[[str], object]) -> None:
        self.corpus = corpus
        self.store = store
        self.config = config
        self.retry_failed = retry_failed
        self.chunk_size = chunk_size
        self.progress = progress
        self.dask_paths = dask_paths
        self.warn = warn
        self.versions = expected_versions(config)
        self.forewarn_version = self.versions.get("forewarn", "?")
        self.model_version = model_version_string(self.versions, config)
        self.summary = BatchSummary(model_version=self.model_version, store=store.target)
        self.seen: set[str] = set()
        self.pending: list[Task] = []
        self.runner: Any = None
        self.make_runner: Callable[[], Any] = lambda: None
        self._failure_lines = 0
        self._version_warned = False

    # --- results ---------------------------------------------------------------------------
    def on_results(self, chunk: ChunkResult) -> None:
        self.store.write(chunk.results)
        if chunk.max_rss_kb:
            self.summary.worker_peak_rss_mb = max(self.summary.worker_peak_rss_mb,
                                                  chunk.max_rss_kb / 1024)
        failed = 0
        for r in chunk.results:
            if r.ok:
                self.summary.scanned += 1
                self.summary.warnings.update(w.warning for w in r.warnings)
                if r.model_version != self.model_version and not self._version_warned:
                    self._version_warned = True
                    self.warn(f"warning: workers report model version {r.model_version}, "
                              f"this process {self.model_version}; their works will be "
                              "scanned again on every run until the installs match")
            else:
                failed += 1
                self._note_failure(r)
        self.summary.failed += failed
        self.progress.update(len(chunk.results), failed=failed)

    def _note_failure(self, r: WorkResult) -> None:
        self.summary.failures[r.error_kind or "error"] += 1
        self._failure_lines += 1
        if self._failure_lines <= MAX_FAILURE_LINES:
            self.warn(f"failed: {r.error_message}")
        elif self._failure_lines == MAX_FAILURE_LINES + 1:
            self.warn("more works failed (see `forewarn stats` or `forewarn export`)")

    # --- feeding ---------------------------------------------------------------------------
    def _submit(self, task: Task) -> None:
        self.pending.append(task)
        if len(self.pending) >= self.chunk_size:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        if self.runner is None:
            self.runner = self.make_runner()
        tasks, self.pending = self.pending, []
        self.runner.submit(tasks)

    def run(self) -> None:
        block: list[Item] = []
        for item in self.corpus:
            block.append(item)
            if len(block) >= BLOCK:
                self._block(block)
                block = []
        if block:
            self._block(block)
        self._flush()
        if self.runner is not None:
            self.runner.drain()

    def _block(self, items: list[Item]) -> None:
        fresh: list[Item] = []
        duplicates = 0
        for item in items:
            if item.work_id in self.seen:
                duplicates += 1
                source = item.path if isinstance(item, FileItem) else item.source
                self.warn(f"{source}: duplicate work id {item.work_id!r}; skipped")
                continue
            self.seen.add(item.work_id)
            fresh.append(item)
        if duplicates:
            self.summary.duplicates += duplicates
            self.progress.update(duplicates)
        hashes, data = self._hash_files([i for i in fresh if isinstance(i, FileItem)])
        stored = self.store.lookup([i.work_id for i in fresh])
        skipped = 0
        failures: list[WorkResult] = []
        for item in fresh:
            if isinstance(item, FileItem):
                digest = hashes.get(item.real_path)
                if isinstance(digest, WorkResult):  # unreadable: a failure already
                    digest.work_id = item.work_id
                    if self._skip(stored.get(item.work_id), digest.content_hash):
                        skipped += 1
                        self.summary.skipped_failed += 1
                    else:
                        failures.append(digest)
                    continue
                assert digest is not None
            else:
                digest = item.content_hash
            state = stored.get(item.work_id)
            if self._skip(state, digest):
                skipped += 1
                self.summary.skipped_failed += int(state is not None and state.failed)
                continue
            if isinstance(item, BadItem):
                failures.append(WorkResult(item.work_id, item.source, item.content_hash,
                                           self.forewarn_version, self.model_version,
                                           error_kind=item.kind, error_message=item.message))
            elif isinstance(item, TextItem):
                self._submit(Task(item.work_id, item.source, "text", item.text,
                                  item.content_hash, fmt="text"))
            else:
                self._submit(self._file_task(item, digest, data.get(item.real_path)))
        if skipped:
            self.summary.skipped += skipped
            self.progress.update(skipped, skipped=skipped)
        if failures:
            self.on_results(ChunkResult(failures, 0, 0))

    def _skip(self, state: Any, digest: str) -> bool:
        if (state is None or state.content_hash != digest
                or state.model_version != self.model_version):
            return False
        return not (state.failed and self.retry_failed)

    def _file_task(self, item: FileItem, digest: str, data: bytes | None) -> Task:
        if self.dask_paths:
            return Task(item.work_id, item.path, "path", None, digest, path=item.real_path)
        if data is None:  # hash came from the cache: read it now
            try:
                data = _read_limited(item.real_path, self.config.max_bytes)
            except ForewarnError:
                # The worker reads it again (kind "path") and records the same error.
                return Task(item.work_id, item.path, "path", None, digest, path=item.real_path)
            digest = sha256_bytes(data)
        return Task(item.work_id, item.path, "bytes", data, digest)

    def _hash_files(self, items: list[FileItem]) -> tuple[dict[str, Any], dict[str, bytes]]:
        """Content hash of each file (cache or read), and the bytes of those read."""
        hashes: dict[str, Any] = {}
        data: dict[str, bytes] = {}
        if not items:
            return hashes, data
        cached = self.store.cached_hashes([i.real_path for i in items])
        remember: list[tuple[str, int, int, int, str]] = []
        now = time.time_ns()
        for item in items:
            try:
                info = os.stat(item.real_path)
            except OSError as exc:
                hashes[item.real_path] = self._read_failure(item, InputNotFound(
                    f"{item.path}: cannot open ({exc.strerror or exc})"), "")
                continue
            hit = cached.get(item.real_path)
            if (hit is not None and hit[0] == info.st_size and hit[1] == info.st_mtime_ns
                    and hit[2] - info.st_mtime_ns > HASH_CACHE_MARGIN_NS):
                hashes[item.real_path] = hit[3]
                continue
            if info.st_size > self.config.max_bytes:
                digest = _hash_stream(item.real_path)
                hashes[item.real_path] = self._read_failure(item, InputTooLarge(
                    f"{item.path}: file is too large ({info.st_size / 1048576:.1f} MiB; "
                    f"the limit is {self.config.max_bytes / 1048576:.1f} MiB)"), digest)
                continue
            try:
                content = _read_limited(item.real_path, self.config.max_bytes)
            except ForewarnError as exc:
                hashes[item.real_path] = self._read_failure(item, exc, "")
                continue
            digest = sha256_bytes(content)
            hashes[item.real_path] = digest
            if not self.dask_paths:
                data[item.real_path] = content
            if len(content) == info.st_size:
                remember.append((item.real_path, info.st_size, info.st_mtime_ns, now, digest))
        self.store.remember_hashes(remember)
        return hashes, data

    def _read_failure(self, item: FileItem, exc: ForewarnError, digest: str) -> WorkResult:
        return WorkResult(item.work_id, item.path, digest or f"unreadable:{item.real_path}",
                          self.forewarn_version, self.model_version, error_kind=exc.kind,
                          error_message=" ".join(str(exc).split()))


def _hash_stream(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    except OSError:
        return f"unreadable:{path}"
    return digest.hexdigest()


def default_jobs() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


EXIT_INTERRUPTED = 130


def _second_interrupt_exits(say: Callable[[str], object]) -> None:
    """After a first Ctrl-C, while the run stops: a second one ends the process at once
    (exit code 130, one line), without waiting for anything. What is stored stays stored
    (each chunk is one transaction; one being written is rolled back by SQLite); the
    workers are killed first, and would end with this process anyway
    (:mod:`forewarn.lifeline`). Only from the main thread, over Python's own handler."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        return

    def now(signum: int, frame: Any) -> None:
        with contextlib.suppress(Exception):
            say("interrupted again: stopping now; what finished is stored: run the same "
                "command again to go on")
            sys.stderr.flush()
        for child in multiprocessing.active_children():
            with contextlib.suppress(Exception):
                os.kill(child.pid, signal.SIGKILL)
        os._exit(EXIT_INTERRUPTED)

    signal.signal(signal.SIGINT, now)


def run_batch(
    corpus: Corpus,
    store: Store,
    *,
    jobs: int | None = None,
    cluster: str | None = None,
    config: ScanConfig | None = None,
    retry_failed: bool = False,
    chunk_size: int | None = None,
    progress: Any = None,
    start_method: str | None = None,
    warn: Callable[[str], object] | None = None,
    cluster_timeout: float = 15.0,
    second_interrupt_exits: bool = False,
) -> BatchSummary:
    """Scan every work of ``corpus`` not yet in ``store``; return what was done.

    ``jobs`` worker processes (default: all cores; 1 scans in this process), or the Dask
    cluster at ``cluster`` (a scheduler address). Results are written by this process
    only, one transaction per chunk. A KeyboardInterrupt stops the run after writing what
    has finished (``summary.interrupted``), terminating the workers. With
    ``second_interrupt_exits`` (the CLI), a second Ctrl-C while it stops ends the process
    at once with exit code 130 (the handler stays: the process is about to exit).
    """
    from forewarn.progress import Progress

    config = config or ScanConfig()
    say: Callable[[str], object] = warn or (
        lambda msg: sys.stderr.write(f"forewarn: {msg}\n"))
    if progress is None:
        progress = Progress(None, enabled=False)
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    method = start_method or os.environ.get("FOREWARN_START_METHOD") or DEFAULT_START_METHOD
    if method not in START_METHODS:
        raise ValueError(f"unknown start method {method!r}")
    started = time.perf_counter()
    batch = _Batch(corpus, store, config, retry_failed=retry_failed,
                   chunk_size=chunk_size or (8 if cluster else 4), progress=progress,
                   dask_paths=cluster is not None, warn=say)
    summary = batch.summary
    if cluster is not None:
        runner: Any = DaskRunner(cluster, config, batch.on_results, timeout=cluster_timeout)
        summary.mode, summary.jobs = "dask", runner.workers
        batch.runner = runner
    elif jobs == 1:
        summary.mode, summary.jobs = "in-process", 1
        batch.make_runner = lambda: SerialRunner(config, batch.on_results)
    else:
        summary.mode, summary.jobs = "processes", jobs
        batch.make_runner = lambda: PoolRunner(jobs, config, batch.on_results, method)
    cancel = False
    try:
        batch.run()
    except KeyboardInterrupt:
        summary.interrupted = cancel = True
        if second_interrupt_exits:
            _second_interrupt_exits(say)
    finally:
        if batch.runner is not None:
            batch.runner.close(cancel=cancel)
        progress.close()
    if summary.mode == "in-process":
        summary.worker_peak_rss_mb = _max_rss_kb() / 1024 if summary.scanned else 0.0
    summary.elapsed_s = time.perf_counter() - started
    return summary

