"""Limits of the service: request body size, scan concurrency (load shedding), time.

* :class:`BodyLimit` is ASGI middleware that refuses a request body over the limit
  (``413``): at once when ``Content-Length`` says so, otherwise while the body streams in,
  by counting the bytes each ``receive()`` delivers; nothing past the limit is buffered.
  It also keeps the bytes buffered by all requests at once within a :class:`BodyBudget`
  (``503`` + ``Retry-After`` beyond it: :class:`BodiesOverBudget`) and gives a body a
  time limit to arrive in (``408``: :class:`BodyTimeout`), so that slow or partial bodies
  can hold neither memory nor connections without bound.
* :class:`ScanGate` runs the CPU-bound work (reading, scanning, rendering) in a small
  pool of processes (or threads) of its own, admits at most ``workers + max_queue``
  requests at a time and refuses the rest at once (:class:`Overloaded`: ``503`` with
  ``Retry-After``) rather than queueing without bound. Each admitted request has a
  deadline (:class:`TimedOut`: ``504``) that counts its time in the queue too. A scan
  still running at its deadline in a scan process is stopped (the process is killed and
  replaced), so its slot is free again at once; one in a thread (no scan processes)
  finishes in the background and keeps its slot until it does; one still queued then is
  cancelled.

The event loop never scans, so ``/healthz`` and the shedding answers stay quick under
load.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import (
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodiesOverBudget", "BodyBudget", "BodyLimit", "BodyTimeout", "BodyTooLarge",
           "Overloaded", "ScanGate", "Shed", "TimedOut", "Unavailable", "human_size"]

T = TypeVar("T")


def human_size(size: int) -> str:
    """``25 MB`` / ``512 KB`` / ``32 MiB`` / ``300 bytes`` (as the limit was given)."""
    if size >= 1024**2 and size % (1024**2 // 4) == 0:
        return f"{size / 1024**2:g} MiB"
    if size >= 1_000_000 and size % 100_000 == 0:
        return f"{size / 1_000_000:g} MB"
    if size >= 1_000 and size % 100 == 0:
        return f"{size / 1_000:g} KB"
    return f"{size} bytes"


class BodyTooLarge(Exception):
    """The request body is larger than the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than the limit of {human_size(limit)}")
        self.limit = limit


class Overloaded(Exception):
    """Every scan slot and queue place of this worker is taken."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the server is busy; try again shortly")
        self.retry_after = retry_after


class BodiesOverBudget(Overloaded):
    """The bodies being received by this worker already use the whole buffer budget."""

    def __init__(self) -> None:
        super().__init__(1)
        self.args = ("the server is receiving too much at once; try again shortly",)

    def __str__(self) -> str:
        return str(self.args[0])


class BodyTimeout(Exception):
    """The request body did not arrive within its time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request body did not arrive within {seconds:g} s")
        self.seconds = seconds


class BodyBudget:
    """The bytes of request body that all the requests of one worker may buffer at once.

    Each request reserves what it has received (or its whole ``Content-Length`` up front)
    and gives it back when it ends, so ``used`` is what the bodies can hold in memory."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self.max_bytes = max_bytes
        self.used = 0
        self.refused = 0
        self.peak = 0
        self._lock = threading.Lock()

    def reserve(self, n: int) -> bool:
        with self._lock:
            if self.used + n > self.max_bytes:
                self.refused += 1
                return False
            self.used += n
            self.peak = max(self.peak, self.used)
            return True

    def release(self, n: int) -> None:
        with self._lock:
            self.used = max(0, self.used - n)


class TimedOut(Exception):
    """The request did not finish within the time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request took longer than the time limit of {seconds:g} s")
        self.seconds = seconds


# --- the request body ------------------------------------------------------------------------


class BodyLimit:
    """ASGI middleware: at most ``max_bytes`` of request body, checked as it streams in;
    at most ``budget.max_bytes`` buffered by all requests at once; the whole body within
    ``timeout`` seconds.

    A declared ``Content-Length`` over the limit gets ``413`` before any of the body is
    read, and one that does not fit in the budget ``503``; otherwise the wrapped
    ``receive`` raises :class:`BodyTooLarge`, :class:`BodiesOverBudget` or
    :class:`BodyTimeout` as soon as the running total passes the limit, passes the budget,
    or the time is up, and whoever reads the body (the endpoint) turns that into ``413``,
    ``503`` or ``408``. Should one escape, this middleware answers it itself if the
    response has not started. What a request reserved is given back when it ends.
    """

    def __init__(self, app: ASGIApp, max_bytes: int,
                 respond: Callable[[Exception], Any], budget: BodyBudget | None = None,
                 timeout: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.respond = respond
        self.budget = budget
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, budget, timeout = self.max_bytes, self.budget, self.timeout
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            response = self.respond(BodyTooLarge(limit))
            await response(scope, receive, send)
            return
        reserved = 0
        if budget is not None and declared:
            if not budget.reserve(declared):
                response = self.respond(BodiesOverBudget())
                await response(scope, receive, send)
                return
            reserved = declared
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        received = 0
        more = scope.get("method") not in ("GET", "HEAD")
        started = False

        async def counted_receive() -> Message:
            nonlocal received, reserved, more
            if not more:  # the body is in: no limits on waiting for a disconnect
                return await receive()
            if deadline is None:
                message = await receive()
            else:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise BodyTimeout(timeout or 0.0)
                try:
                    message = await asyncio.wait_for(receive(), remaining)
                except TimeoutError:
                    raise BodyTimeout(timeout or 0.0) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
                if budget is not None and received > reserved:
                    if not budget.reserve(received - reserved):
                        raise BodiesOverBudget()
                    reserved = received
                if not message.get("more_body", False):
                    more = False
            else:
                more = False
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except (BodyTooLarge, BodiesOverBudget, BodyTimeout) as exc:
            if started:
                raise
            response = self.respond(exc)
            await response(scope, receive, send)
        finally:
            if budget is not None and reserved:
                budget.release(reserved)


class Shed:
    """ASGI middleware: a ``POST`` to a scanning path while ``gate`` is full gets ``503`` at
    once, before any routing, validation or reading of the body: shedding costs little."""

    def __init__(self, app: ASGIApp, gate: ScanGate, paths: frozenset[str],
                 respond: Callable[[Overloaded], Any]) -> None:
        self.app = app
        self.gate = gate
        self.paths = paths
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope.get("method") == "POST"
                and scope.get("path") in self.paths and self.gate.full()):
            response = self.respond(self.gate.refuse())
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


# --- scans --------------------------------------------------------------------------------------


class Unavailable(Exception):
    """The scan pool broke (a scan process died); it is rebuilt for the next request."""

    def __init__(self) -> None:
        super().__init__("a scan process stopped unexpectedly; try again")
        self.retry_after = 1


def _noop() -> tuple[float, None]:
    """Nothing: submitting it starts a fresh scan process (and its initializer)."""
    return 0.0, None


class ScanGate:
    """Runs CPU-bound jobs on ``workers`` threads or processes, with at most ``max_queue``
    waiting.

    ``run(fn, *args)`` raises :class:`Overloaded` at once when ``workers + max_queue``
    jobs are already admitted, and :class:`TimedOut` when the job has not finished
    ``timeout`` seconds after admission. ``fn`` returns ``(seconds, result)``, the seconds
    it worked (for ``Retry-After``).

    With ``processes=True`` each worker is a *slot*: a spawned process of its own
    (``initializer`` runs in it as it starts) that runs one job at a time, so a scan never
    holds the event loop's GIL; ``fn`` and its arguments must then be picklable. A job
    still running at its deadline (or whose request went away) is stopped: its process is
    killed and the slot gets a fresh one, started at once, so the slot is free again
    straight away. With threads a running job cannot be stopped: it finishes in the
    background and keeps its slot until it does (the slot accounts for the CPU it uses);
    a job still queued at its deadline is cancelled either way.
    """

    def __init__(self, workers: int, max_queue: int, timeout: float, *,
                 processes: bool = False,
                 initializer: Callable[..., object] | None = None,
                 initargs: tuple[Any, ...] = ()) -> None:
        if workers < 1 or max_queue < 0 or not timeout > 0:
            raise ValueError("workers >= 1, max_queue >= 0 and timeout > 0")
        self.workers = workers
        self.max_queue = max_queue
        self.timeout = timeout
        self.processes = processes
        self._initializer = initializer
        self._initargs = initargs
        self._lock = threading.Lock()
        self._admitted = 0
        self._inflight: set[Future[Any]] = set()
        self._seconds = 0.5  # moving average of a job's duration, for Retry-After
        self._shed = 0
        self._timed_out = 0
        self._stopped = 0
        self._executor: Executor | None = None  # threads
        self._slots: list[ProcessPoolExecutor] = []  # processes: one per slot
        self._free: asyncio.Queue[ProcessPoolExecutor] | None = None

    @property
    def capacity(self) -> int:
        """How many requests may be admitted at once (running plus waiting)."""
        return self.workers + self.max_queue

    def stats(self) -> dict[str, int]:
        """Running and waiting jobs, the capacity, and how many were shed or timed out."""
        with self._lock:
            running = min(self.workers, sum(1 for f in self._inflight if f.running()))
            return {
                "running": running,
                "waiting": max(0, self._admitted - running),
                "capacity": self.capacity,
                "shed": self._shed,
                "timed_out": self._timed_out,
            }

    @property
    def stopped(self) -> int:
        """How many running jobs were stopped (their scan process killed)."""
        return self._stopped

    def full(self) -> bool:
        """Whether a new request would be refused now."""
        with self._lock:
            return self._admitted >= self.capacity

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the queue's length times a job's average
        duration, over the workers; from 1 to 60."""
        with self._lock:
            return self._retry_after_locked()

    def refuse(self) -> Overloaded:
        """The error for a request that finds the gate full (and count it)."""
        with self._lock:
            self._shed += 1
            return Overloaded(self._retry_after_locked())

    def start(self) -> None:
        """The pool (the threads, or a process per slot), created on first use."""
        with self._lock:
            if self.processes:
                if self._free is None:
                    self._free = asyncio.Queue()
                    self._slots = [self._new_slot() for _ in range(self.workers)]
                    for slot in self._slots:
                        self._free.put_nowait(slot)
            elif self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers,
                                                    thread_name_prefix="forewarn-scan")

    def _new_slot(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=self._initializer, initargs=self._initargs)

    def _replace(self, slot: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """Kill ``slot``'s process (a job it runs is abandoned) and return a fresh slot
        whose process starts now, in the background."""
        for process in _processes_of(slot):
            with contextlib.suppress(Exception):
                process.kill()
        slot.shutdown(wait=False, cancel_futures=True)
        fresh = self._new_slot()
        with self._lock:
            self._slots = [fresh if s is slot else s for s in self._slots]
        with contextlib.suppress(Exception):
            fresh.submit(_noop)
        return fresh

    def close(self, grace: float = 10.0) -> None:
        """Stop the pool: queued jobs are cancelled, running ones get ``grace`` seconds to
        finish; scan processes still alive then are terminated. Returns when they are
        gone (uvicorn may end the process by its signal right after, with no clean-up)."""
        with self._lock:
            executors: list[Executor] = [*self._slots]
            if self._executor is not None:
                executors.append(self._executor)
            self._executor, self._slots, self._free = None, [], None
        processes = [p for e in executors if isinstance(e, ProcessPoolExecutor)
                     for p in _processes_of(e)]
        for executor in executors:
            executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(2)
        for executor in executors:
            if isinstance(executor, ProcessPoolExecutor):
                # with its processes gone this is quick, and it releases the pool's queues
                # and their semaphores now (else the resource tracker warns of "leaked" ones)
                executor.shutdown(wait=True)

    def _broken(self, executor: Executor) -> None:
        with self._lock:
            if self._executor is executor:
                self._executor = None
        executor.shutdown(wait=False, cancel_futures=True)

    async def run(self, fn: Callable[..., tuple[float, T]], *args: Any) -> T:
        """Run ``fn(*args)`` in the pool and return its result (or raise its exception)."""
        with self._lock:
            if self._admitted >= self.capacity:
                self._shed += 1
                raise Overloaded(self._retry_after_locked())
            self._admitted += 1
        if self.processes:
            return await self._run_in_slot(fn, args)
        return await self._run_in_thread(fn, args)

    async def _run_in_slot(self, fn: Callable[..., tuple[float, T]], args: tuple[Any, ...]) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        slot: ProcessPoolExecutor | None = None
        future: Future[tuple[float, T]] | None = None
        try:
            self.start()
            free = self._free
            assert free is not None
            try:
                slot = await asyncio.wait_for(free.get(), self.timeout)
            except TimeoutError:
                self._count_timeout()
                raise TimedOut(self.timeout) from None
            try:
                future = slot.submit(fn, *args)
            except (RuntimeError, BrokenExecutor):  # its process died while idle
                slot = self._replace(slot)
                raise Unavailable() from None
            with self._lock:
                self._inflight.add(future)
            try:
                seconds, result = await asyncio.wait_for(
                    asyncio.wrap_future(future), max(0.0, deadline - loop.time()))
            except TimeoutError:
                self._count_timeout()
                if not future.done():  # still scanning: stop it, free the slot
                    slot = self._stop(slot)
                raise TimedOut(self.timeout) from None
            except asyncio.CancelledError:  # the request went away (or shutdown)
                if not future.done():
                    slot = self._stop(slot)
                raise
            except BrokenExecutor:
                slot = self._replace(slot)
                raise Unavailable() from None
            with self._lock:
                self._seconds = 0.8 * self._seconds + 0.2 * seconds
            return result
        finally:
            with self._lock:
                self._admitted -= 1
                if future is not None:
                    self._inflight.discard(future)
            if slot is not None and self._free is not None and slot in self._slots:
                self._free.put_nowait(slot)

    def _stop(self, slot: ProcessPoolExecutor) -> ProcessPoolExecutor:
        with self._lock:
            self._stopped += 1
        return self._replace(slot)

    def _count_timeout(self) -> None:
        with self._lock:
            self._timed_out += 1

    async def _run_in_thread(self, fn: Callable[..., tuple[float, T]],
                             args: tuple[Any, ...]) -> T:
        self.start()
        executor = self._executor
        assert executor is not None
        try:
            future = executor.submit(fn, *args)
        except (RuntimeError, BrokenExecutor):  # shut down, or broken: rebuild
            with self._lock:
                self._admitted -= 1
            self._broken(executor)
            raise Unavailable() from None
        with self._lock:
            self._inflight.add(future)
        future.add_done_callback(self._release)
        waiter = asyncio.wrap_future(future)
        try:
            # on timeout (or if the client goes away) wait_for cancels ``waiter``, which
            # cancels ``future`` unless it is already running
            seconds, result = await asyncio.wait_for(waiter, self.timeout)
        except TimeoutError:
            self._count_timeout()
            raise TimedOut(self.timeout) from None
        except BrokenExecutor:
            self._broken(executor)
            raise Unavailable() from None
        with self._lock:
            self._seconds = 0.8 * self._seconds + 0.2 * seconds
        return result

    def _release(self, future: Future[Any]) -> None:
        with self._lock:
            self._admitted -= 1
            self._inflight.discard(future)

    def _retry_after_locked(self) -> int:
        backlog = max(1, self._admitted - self.workers + 1)
        return max(1, min(60, math.ceil(backlog * self._seconds / self.workers)))


def _processes_of(executor: ProcessPoolExecutor) -> list[Any]:
    """The pool's processes (a long-standing private attribute; [] if it ever goes)."""
    return list((getattr(executor, "_processes", None) or {}).values())
