"""Runners: where a batch's chunks of tasks are scanned.

Each runner takes chunks with ``submit``, hands every finished :class:`ChunkResult` to
the ``on_results`` callback in this process, waits for the rest with ``drain`` and stops
with ``close``: :class:`SerialRunner` scans in this process (``--jobs 1``),
:class:`PoolRunner` in a process pool and :class:`DaskRunner` on a Dask cluster (imported
only when one is used). A chunk whose worker crashed comes back as failures
(``worker-crashed``), so it is stored and the run goes on.

A process pool cannot say which of its chunks killed a worker: when one dies, every chunk
in flight fails with it. :class:`PoolRunner` scans those chunks' works again, one at a
time with nothing else in flight, so that only a work whose worker dies again is stored as
``worker-crashed``; a worker killed from outside (the OOM killer choosing it, ``kill -9``)
costs nothing but time. A ``worker-crashed`` work is scanned again by the next run.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from forewarn.batch.tasks import (
    ChunkResult,
    ScanConfig,
    Task,
    _failure,
    _init_worker,
    dask_scan_chunk,
    expected_versions,
    model_version_string,
    scan_chunk,
)
from forewarn.errors import ForewarnError
from forewarn.store import MissingDependency

START_METHODS = ("auto", "fork", "forkserver", "spawn")
# fork starts warm workers fastest (measured: about 1.0 s for 2 workers, against 1.8 s
# with forkserver and 2.0 s with spawn) and is safe while the parent has no other thread
# (the CLI has none; ProcessPoolExecutor forks all its workers before starting its own
# thread). "auto" picks fork then, forkserver in a threaded process (a notebook, a
# server), and spawn off Linux (macOS).
DEFAULT_START_METHOD = "auto"


class ClusterError(ForewarnError, exit_code=12, kind="cluster"):
    """The Dask scheduler cannot be reached, or the cluster failed (exit code 12)."""


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
        self.suspects: deque[Task] = deque()  # in flight when a worker died: scanned alone
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
            context.set_forkserver_preload(["forewarn.batch.tasks", "forewarn.scanner"])
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
            except BrokenProcessPool:  # some worker died: not necessarily this chunk's
                broken = True
                self.suspects.extend(tasks)
                continue
            except Exception as exc:  # e.g. a result that could not be pickled
                chunk = _crashed(tasks, self.config, f"{type(exc).__name__}: {exc}")
            self.on_results(chunk)
        if broken:
            self._restart()

    def _restart(self) -> None:
        """A new pool after a worker died; the chunks that were in flight are scanned
        again, each work alone."""
        for future, tasks in list(self.inflight.items()):
            self.inflight.pop(future)
            try:
                self.on_results(future.result(timeout=0))
            except Exception:  # broken with the pool, or never finished
                self.suspects.extend(tasks)
        self.pool.shutdown(wait=False, cancel_futures=True)
        self._start()
        self._isolate()

    def _isolate(self) -> None:
        """Scan each suspect work alone, nothing else in flight: a work whose worker
        dies now is the one that kills it, and only it is stored as ``worker-crashed``."""
        from concurrent.futures.process import BrokenProcessPool

        while self.suspects:
            task = self.suspects[0]
            try:
                chunk = self.pool.submit(scan_chunk, [task], self.config).result()
            except BrokenProcessPool:
                chunk = _crashed([task], self.config, "a worker process died (killed, or out "
                                 "of memory) while scanning this work, and again when it "
                                 "was scanned alone")
                self.pool.shutdown(wait=False, cancel_futures=True)
                self._start()
            except Exception as exc:
                chunk = _crashed([task], self.config, f"{type(exc).__name__}: {exc}")
            self.suspects.popleft()
            self.on_results(chunk)

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
        self.suspects.clear()  # not stored: the next run scans them


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
        _check_address(address)  # before a Client exists: a half-built one dies noisily
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


def _check_address(address: str) -> None:
    """A ClusterError for a scheduler address Dask cannot parse (``tcp://host`` without
    its port)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise ClusterError(f"{address}: not a Dask scheduler address "
                           f"({' '.join(str(exc).split())}; e.g. tcp://host:8786)") from None
