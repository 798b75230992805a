"""Running a batch: :func:`run_batch`, and the parent process's side of it.

The parent decides what to scan and writes every result. For each block of the corpus it
takes each file's content hash from the store's file-hash cache when
``(path, size, mtime)`` is unchanged (otherwise it reads and hashes the file), skips the
works already stored with the same hash and model version, sends the rest in chunks to a
runner (:mod:`forewarn.batch.runners`), and stores each finished chunk in one transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from forewarn.batch.corpus import BadItem, Corpus, FileItem, Item, TextItem
from forewarn.batch.hashing import sha256_bytes
from forewarn.batch.runners import (
    DEFAULT_START_METHOD,
    START_METHODS,
    DaskRunner,
    PoolRunner,
    SerialRunner,
)
from forewarn.batch.summary import BatchSummary
from forewarn.batch.tasks import (
    ChunkResult,
    ScanConfig,
    Task,
    _max_rss_kb,
    _read_limited,
    expected_versions,
    model_version_string,
)
from forewarn.errors import BrokenInstall, ForewarnError, InputNotFound, InputTooLarge
from forewarn.store import Store, WorkResult

BLOCK = 256  # works looked up in the store at once
# The most file bytes a block keeps between hashing and submitting: the rest are read again
# when submitted, so 256 EPUBs of 25 MB cost this much, not 6 GB (review 19, finding 6)
HELD_BYTES = 64 << 20
HASH_CACHE_MARGIN_NS = 2_000_000_000  # trust (size, mtime) only for files older than this
MAX_FAILURE_LINES = 10


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
        broken = next((r for r in chunk.results if r.error_kind == BrokenInstall.kind), None)
        if broken is not None:  # every later work would fail the same way: stop now
            raise BrokenInstall(f"{broken.error_message} (the batch stops: reinstall "
                                "forewarn, then run the same command again)")

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
        return not (state.failed and (self.retry_failed or state.transient))

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
        held = 0
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
            if not self.dask_paths and held + len(content) <= HELD_BYTES:
                data[item.real_path] = content  # past the cap: read again when submitted
                held += len(content)
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
                if child.pid is not None:
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
        from forewarn.errors import UsageError

        raise UsageError(f"FOREWARN_START_METHOD={method!r} is not a start method: use "
                         f"{' or '.join(START_METHODS)}")
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

