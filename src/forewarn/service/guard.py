"""The outer ASGI layers: :class:`Guard` (last-resort ``500``, security headers, access
log) and shutdown (:class:`Draining`, the :class:`Drain` middleware and
:func:`chain_shutdown_signals`)."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forewarn.service.errors import error_response, shutting_down

__all__ = ["Drain", "Draining", "Guard", "chain_shutdown_signals", "restore_signals"]

log = logging.getLogger("forewarn.service")
access_log = logging.getLogger("forewarn.service.access")

_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
)


class Guard:
    """Outer ASGI middleware: the last-resort ``500`` (JSON, no internals), security
    headers on every response, and the access log (method, path, status, time only)."""

    def __init__(self, app: ASGIApp, access: bool = True) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def guarded_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in _SECURITY_HEADERS:
                    if name not in present:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as exc:  # the last resort: never a traceback to the client
            log.error("internal error: %s (%s %s)", type(exc).__name__, scope.get("method"),
                      scope.get("path"))
            if status == 0:
                response = error_response(500, "internal",
                                          "internal error; nothing of the request was kept")
                await response(scope, receive, guarded_send)
        finally:
            if self.access:
                access_log.info("%s %s %d %.1fms", scope.get("method"), scope.get("path"),
                                status, (time.perf_counter() - started) * 1000)


class Draining:
    """Whether the server is shutting down, and when the requests still running must be
    answered. :meth:`start` may be called from a signal handler or another thread."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.active = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._expired: asyncio.Event | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """At start-up, in the event loop that serves the requests."""
        self.active = False
        self._loop = loop
        self._expired = asyncio.Event()

    def detach(self) -> None:
        self._loop = self._expired = None

    @property
    def attached(self) -> bool:
        return self._loop is not None

    def start(self) -> None:
        """Shutdown begins: new requests get ``503`` now, running ones in ``grace`` s."""
        if self.active:
            return
        self.active = True
        loop = self._loop
        if loop is not None:
            with suppress(RuntimeError):  # the loop has closed: nothing left to answer
                loop.call_soon_threadsafe(self._arm)

    def _arm(self) -> None:
        if self._loop is not None and self._expired is not None:
            self._loop.call_later(self.grace, self._expired.set)

    async def expired(self) -> None:
        assert self._expired is not None
        await self._expired.wait()


class Drain:
    """ASGI middleware for shutdown: once :class:`Draining` has started, a new request is
    answered ``503`` (``shutting-down``) at once, and one still running ``grace`` seconds
    later is stopped and answered ``503`` too (uvicorn would otherwise close its connection
    with no answer at all when its own graceful-shutdown time runs out)."""

    def __init__(self, app: ASGIApp, draining: Draining) -> None:
        self.app = app
        self.draining = draining

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        draining = self.draining
        if scope["type"] != "http" or not draining.attached:
            await self.app(scope, receive, send)
            return
        if draining.active:
            await shutting_down()(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, watched_send))
        expiry = asyncio.ensure_future(draining.expired())
        try:
            await asyncio.wait({task, expiry}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            expiry.cancel()
        if task.done():
            task.result()  # its exception, if any, goes on to Guard
            return
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        if not started:
            await shutting_down()(scope, receive, send)


def chain_shutdown_signals(draining: Draining) -> list[tuple[int, Any]]:
    """Have SIGINT and SIGTERM start :class:`Draining` before the server's own handler
    (uvicorn's) runs. Only in the main thread, and only over a Python handler; returns
    what to restore (:func:`restore_signals`)."""
    if threading.current_thread() is not threading.main_thread():
        return []
    restore: list[tuple[int, Any]] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def handler(signum: int, frame: Any, previous: Callable[..., Any] = previous) -> None:
            draining.start()
            previous(signum, frame)

        signal.signal(sig, handler)
        restore.append((sig, previous))
    return restore


def restore_signals(restore: list[tuple[int, Any]]) -> None:
    """Put back the handlers :func:`chain_shutdown_signals` replaced."""
    for sig, handler in restore:
        with suppress(ValueError, TypeError):
            signal.signal(sig, handler)
