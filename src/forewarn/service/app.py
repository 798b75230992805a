"""forewarn as a service: the HTTP API (FastAPI) and the web page. See docs/service.md.

:func:`create_app` builds the ASGI application from :class:`Settings`. The service adds
no detection logic of its own: every endpoint reads the work with
:mod:`forewarn.ingest`, scans it with :class:`~forewarn.scanner.Scanner` and answers with
the library's own JSON (``Report.to_dict``, the ``forewarn check`` verdict,
``Audit.to_dict``) or reading copy (``render_html``).

* Reading, scanning and rendering run in the :class:`~forewarn.service.limits.ScanGate`
  pool (:mod:`forewarn.service.jobs`), never on the event loop: spawned scan processes
  (``forewarn serve``'s default), each loading the model once as the server starts, or
  threads (the library default; the lifespan runs one warm-up scan). The gate sheds load
  (``503`` + ``Retry-After``) and enforces the time limit (``504``).
* Every error is JSON ``{"error": {"code", "message"}}``; an unexpected exception is a
  ``500`` with no internals, logged by its type name only.
* Nothing of a request is logged or kept: the access log has the method, the path
  (without the query string), the status and the time taken.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import re
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forewarn import __version__
from forewarn.confidence import DEFAULT_MIN_CONFIDENCE, confidence_floor
from forewarn.errors import (
    EmptyInput,
    ForewarnError,
    InputTooLarge,
    MalformedInput,
    TaxonomyError,
    UnsupportedFormat,
)
from forewarn.ingest import DEFAULT_MAX_BYTES
from forewarn.profile import Profile, ProfileError
from forewarn.service import jobs
from forewarn.service.jobs import Job, JobKind, ScannerFactory, WorkInput
from forewarn.service.limits import (
    BodiesOverBudget,
    BodyBudget,
    BodyLimit,
    BodyTimeout,
    BodyTooLarge,
    Overloaded,
    ScanGate,
    Shed,
    TimedOut,
    Unavailable,
)
from forewarn.service.models import (
    REQUEST_MODELS,
    AuditOut,
    CheckOut,
    CheckRequest,
    ErrorOut,
    HealthOut,
    InputFormat,
    ProfileIn,
    ReadRequest,
    ReportOut,
    ScanRequest,
    TaxonomyOut,
    TextWork,
)
from forewarn.verdict import MAX_FLOOR

__all__ = ["ENV_SETTINGS", "Settings", "app_from_env", "create_app"]

log = logging.getLogger("forewarn.service")
access_log = logging.getLogger("forewarn.service.access")

ENV_SETTINGS = "FOREWARN_SERVICE_SETTINGS"
"""Environment variable holding the settings as JSON (how ``forewarn serve`` passes them
to each worker process)."""

_MAX_FIELDS = 8
_MAX_FILENAME = 200
_MESSAGE_LIMIT = 500
_FIELDS = frozenset({"file", "text", "title", "profile"})
# Declared media types of an upload that no reader takes (415 before anything is read).
_REFUSED_UPLOAD_TYPES = re.compile(
    r"(image|audio|video|font)/.*|application/(pdf|msword|rtf|x-mobipocket-ebook|"
    r"vnd\.(openxmlformats|oasis|ms-|amazon|apple).*|x-(7z|rar|tar|gzip)-compressed|gzip)",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
SCAN_PATHS = frozenset({"/v1/scan", "/v1/check", "/v1/audit", "/v1/read"})


@dataclass(frozen=True, slots=True)
class Settings:
    """What an operator can set (``forewarn serve`` options; see docs/service.md).

    ``scan_workers`` and ``max_queue`` are per HTTP worker process: each runs at most
    ``scan_workers`` scans at once (in as many spawned processes with
    ``scan_processes``, else in threads of its own) and lets at most ``max_queue`` more
    wait; it answers ``503`` beyond that. ``max_body_bytes`` is the ingest readers' limit
    (:data:`forewarn.ingest.DEFAULT_MAX_BYTES`, 32 MiB) unless set; all the bodies being
    received at once may hold at most ``max_buffered_bytes`` (``503`` beyond), and a body
    must arrive within ``body_timeout_s`` (``408``).
    """

    max_body_bytes: int = DEFAULT_MAX_BYTES
    max_buffered_bytes: int = 4 * DEFAULT_MAX_BYTES
    body_timeout_s: float = 30.0
    shutdown_grace_s: float = 8.0
    timeout_s: float = 60.0
    scan_workers: int = 1
    scan_processes: bool = False
    max_queue: int = 16
    lexicon_only: bool = False
    warm_up: bool = True
    access_log: bool = True
    # origins whose pages may call the API from a browser (CORS); none by default
    cors_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1 or self.max_buffered_bytes < 1:
            raise ValueError("max_body_bytes and max_buffered_bytes must be at least 1")
        if not self.body_timeout_s > 0 or self.shutdown_grace_s < 0:
            raise ValueError("body_timeout_s must be more than 0, shutdown_grace_s at least 0")
        if not self.timeout_s > 0:
            raise ValueError("timeout_s must be more than 0")
        if self.scan_workers < 1 or self.max_queue < 0:
            raise ValueError("scan_workers must be at least 1 and max_queue at least 0")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        if "cors_origins" in data:
            data["cors_origins"] = tuple(data["cors_origins"])
        return cls(**{k: v for k, v in data.items() if k in names})


# --- errors -------------------------------------------------------------------------------------


class RequestError(Exception):
    """A problem with the request itself (not the story): status, code and message."""

    def __init__(self, status: int, code: str, message: str,
                 details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def _one_line(message: object) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"


def error_response(status: int, code: str, message: str, *,
                   details: list[dict[str, str]] | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    """``{"error": {"code": ..., "message": ..., "details"?: [...]}}`` with ``status``."""
    body: dict[str, Any] = {"code": code, "message": _one_line(message)}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=dict(headers or {}))


def _validation_details(errors: list[Any], prefix: str = "") -> list[dict[str, str]]:
    """Where and what, for people; never the input itself (it may be story text)."""
    out = []
    for e in errors[:20]:
        loc = ".".join(str(part) for part in (prefix, *e.get("loc", ())) if part != "")
        out.append({"location": loc or "body", "message": _one_line(e.get("msg", "invalid"))})
    return out


def _summary(details: list[dict[str, str]]) -> str:
    first = details[0] if details else {"location": "request", "message": "invalid"}
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"{first['location']}: {first['message']}{more}"


_FOREWARN_STATUS: tuple[tuple[type[ForewarnError], int, str], ...] = (
    (InputTooLarge, 413, "too-large"),
    (UnsupportedFormat, 415, "unsupported-format"),
    (EmptyInput, 422, "empty"),
    (MalformedInput, 422, "malformed"),
    (ProfileError, 422, "bad-profile"),
    (TaxonomyError, 422, "unknown-warning"),
)
_HTTP_CODES = {400: "bad-request", 404: "not-found", 405: "method-not-allowed",
               408: "body-timeout",
               413: "too-large", 415: "unsupported-media-type", 422: "invalid-request",
               503: "unavailable"}


def _forewarn_error(exc: ForewarnError) -> JSONResponse:
    for kind, status, code in _FOREWARN_STATUS:
        if isinstance(exc, kind):
            return error_response(status, code, str(exc))
    return error_response(422, exc.kind or "invalid-input", str(exc))


def _overloaded(exc: Overloaded) -> JSONResponse:
    return error_response(503, "overloaded", str(exc),
                          headers={"Retry-After": str(exc.retry_after)})


def _body_timeout(exc: Exception) -> JSONResponse:
    # the rest of the body is not read: the connection cannot be used again
    return error_response(408, "body-timeout", str(exc), headers={"Connection": "close"})


def _body_error(exc: Exception) -> JSONResponse:
    """The answer to a body over the limit (413), over the budget (503) or too slow (408)."""
    if isinstance(exc, BodiesOverBudget):
        return _overloaded(exc)
    if isinstance(exc, BodyTimeout):
        return _body_timeout(exc)
    return error_response(413, "too-large", str(exc))


def _install_error_handlers(app: FastAPI) -> None:
    async def on_forewarn(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ForewarnError)
        return _forewarn_error(exc)

    async def on_request_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestError)
        return error_response(exc.status, exc.code, exc.message, details=exc.details)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        details = _validation_details(list(exc.errors()))
        return error_response(422, "invalid-request", _summary(details), details=details)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, f"http-{exc.status_code}")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("-", " ")
        return error_response(exc.status_code, code, message, headers=exc.headers)

    async def on_too_large(request: Request, exc: Exception) -> Response:
        return error_response(413, "too-large", str(exc))

    async def on_body_timeout(request: Request, exc: Exception) -> Response:
        return _body_timeout(exc)

    async def on_overloaded(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Overloaded)
        return _overloaded(exc)

    async def on_timeout(request: Request, exc: Exception) -> Response:
        return error_response(504, "timeout", str(exc))

    async def on_unavailable(request: Request, exc: Exception) -> Response:
        return error_response(503, "unavailable", str(exc), headers={"Retry-After": "1"})

    app.add_exception_handler(ForewarnError, on_forewarn)
    app.add_exception_handler(RequestError, on_request_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(BodyTooLarge, on_too_large)
    app.add_exception_handler(BodyTimeout, on_body_timeout)
    app.add_exception_handler(Overloaded, on_overloaded)
    app.add_exception_handler(TimedOut, on_timeout)
    app.add_exception_handler(Unavailable, on_unavailable)


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


def _shutting_down() -> JSONResponse:
    return error_response(503, "shutting-down", "the server is shutting down; try again "
                          "shortly", headers={"Retry-After": "1", "Connection": "close"})


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
            await _shutting_down()(scope, receive, send)
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
            await _shutting_down()(scope, receive, send)


def _chain_shutdown_signals(draining: Draining) -> list[tuple[int, Any]]:
    """Have SIGINT and SIGTERM start :class:`Draining` before the server's own handler
    (uvicorn's) runs. Only in the main thread, and only over a Python handler; returns
    what to restore."""
    if threading.current_thread() is not threading.main_thread():
        return []
    restore = []
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


_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
)


# --- request bodies -------------------------------------------------------------------------


@dataclass(slots=True)
class _Part:
    name: str = ""
    filename: str | None = None
    content_type: str | None = None
    data: bytearray = dataclasses.field(default_factory=bytearray)
    header_name: bytearray = dataclasses.field(default_factory=bytearray)
    header_value: bytearray = dataclasses.field(default_factory=bytearray)
    headers: list[tuple[bytes, bytes]] = dataclasses.field(default_factory=list)


def parse_multipart(body: bytes, boundary: bytes) -> dict[str, _Part]:
    """The parts of a ``multipart/form-data`` body, parsed in memory (nothing on disk).

    At most 8 parts, each name once, and only the fields the API knows; any problem is a
    :class:`RequestError` (422).
    """
    parts: dict[str, _Part] = {}
    current = _Part()

    def bad(message: str) -> RequestError:
        return RequestError(422, "malformed-form", f"multipart body: {message}")

    def on_part_begin() -> None:
        nonlocal current
        if len(parts) >= _MAX_FIELDS:
            raise bad(f"more than {_MAX_FIELDS} parts")
        current = _Part()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current.data += data[start:end]

    def on_header_field(data: bytes, start: int, end: int) -> None:
        current.header_name += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        current.header_value += data[start:end]

    def on_header_end() -> None:
        current.headers.append((bytes(current.header_name).lower().strip(),
                                bytes(current.header_value).strip()))
        current.header_name.clear()
        current.header_value.clear()

    def on_headers_finished() -> None:
        for name, value in current.headers:
            if name == b"content-disposition":
                _, options = parse_options_header(value.decode("latin-1"))
                if b"name" not in options:
                    raise bad('a part has no name in its Content-Disposition')
                current.name = _decode_header(options[b"name"])
                if b"filename" in options:
                    current.filename = _decode_header(options[b"filename"])
            elif name == b"content-type":
                current.content_type = value.decode("latin-1")
        if not current.name:
            raise bad("a part has no Content-Disposition name")
        if current.name not in _FIELDS:
            raise bad(f"unknown field {current.name[:40]!r}; expected: "
                      f"{', '.join(sorted(_FIELDS))}")
        if current.name in parts:
            raise bad(f"field {current.name!r} is given twice")

    def on_part_end() -> None:
        parts[current.name] = current

    ended = False

    def on_end() -> None:
        nonlocal ended
        ended = True

    callbacks: Any = {
        "on_end": on_end,
        "on_part_begin": on_part_begin,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
    }
    try:
        parser = MultipartParser(boundary, callbacks, max_size=max(1, len(body)))
        parser.write(body)
        parser.finalize()
    except (FormParserError, ValueError) as exc:
        raise bad(f"cannot be parsed ({type(exc).__name__})") from None
    if not ended:
        raise bad("it ends before its closing boundary")
    return parts


def _decode_header(value: bytes) -> str:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        text = value.decode("latin-1")
    return _CONTROL.sub("", text)


def _field_text(part: _Part, what: str) -> str:
    try:
        return bytes(part.data).decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError(422, "invalid-request", f"form field {what!r} is not UTF-8 text",
                           [{"location": f"form.{what}", "message": "not UTF-8 text"}]) from None


def _safe_filename(name: str | None) -> str:
    base = re.split(r"[\\/]", name or "")[-1].strip()
    base = _CONTROL.sub("", base)[:_MAX_FILENAME]
    return base or "<upload>"


def _profile_from(model: ProfileIn) -> Profile:
    return Profile.from_dict(model.model_dump(exclude_unset=True, exclude_none=True),
                             source="profile")


def _pydantic_error(exc: ValidationError, prefix: str) -> RequestError:
    errors = list(exc.errors(include_input=False, include_url=False))
    if any(e.get("type") == "json_invalid" for e in errors):
        return RequestError(422, "malformed-json", f"the {prefix} is not valid JSON",
                            _validation_details(errors, prefix))
    details = _validation_details(errors, prefix)
    return RequestError(422, "invalid-request", _summary(details), details)


ProfileNeed = Literal["required", "optional", "none"]


async def read_request(request: Request, gate: ScanGate, model: type[TextWork],
                       profile: ProfileNeed, fmt: str | None) -> tuple[WorkInput, Profile | None]:
    """The work (and profile) a request carries, as JSON or as ``multipart/form-data``.

    The body is read within the size limit (:class:`BodyLimit`), then the gate is checked
    so that a full worker answers ``503`` before parsing anything.
    """
    media, options = parse_options_header(request.headers.get("content-type", ""))
    kind = media.decode("latin-1").lower()
    is_json = kind == "application/json" or (kind.startswith("application/")
                                             and kind.endswith("+json"))
    plain = kind == "text/plain"
    if not is_json and not plain and kind != "multipart/form-data":
        shown = kind[:80] or "none"
        raise RequestError(415, "unsupported-media-type",
                           f"Content-Type {shown} is not accepted; send application/json, "
                           "text/plain or multipart/form-data")
    body = await request.body()
    if gate.full():
        raise gate.refuse()
    if plain:
        # a browser sends text/plain without a CORS preflight: a JSON object in it is read
        # as JSON; anything else is the story's text (where no profile is needed)
        if body.lstrip()[:1] == b"{":
            is_json = True
        elif profile == "required":
            raise RequestError(422, "invalid-request", "a text/plain body here must be the "
                               "JSON object (text and profile): a profile is required")
        else:
            try:
                story = body.decode("utf-8")
            except UnicodeDecodeError:
                raise RequestError(422, "invalid-request",
                                   "a text/plain body must be UTF-8") from None
            return WorkInput(text=story, fmt=fmt), None
    if is_json:
        _refuse_duplicate_keys(body, "body")
        try:
            parsed = model.model_validate_json(body)
        except ValidationError as exc:
            raise _pydantic_error(exc, "body") from None
        work = WorkInput(text=parsed.text, title=parsed.title, fmt=fmt)
        given: ProfileIn | None = getattr(parsed, "profile", None)
    else:
        boundary = options.get(b"boundary")
        if not boundary:
            raise RequestError(422, "malformed-form", "multipart body: no boundary given")
        work, given = _form_request(parse_multipart(body, boundary), profile, fmt)
    if profile == "required" and given is None:
        raise RequestError(422, "invalid-request", "profile: a profile is required",
                           [{"location": "body.profile", "message": "Field required"}])
    return work, (_profile_from(given) if given is not None else None)


def _refuse_duplicate_keys(body: bytes, where: str) -> None:
    """A JSON object that names a key twice is refused (422), as TOML refuses it: in a
    profile, ``{"avoid": {"suicide": "mentioned", "suicide": "graphic"}}`` would otherwise
    keep the last one silently. Bodies that are not JSON are left to the model's errors."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen:
                raise _DuplicateKey(key)
            seen[key] = value
        return seen

    try:
        json.loads(body, object_pairs_hook=pairs)
    except _DuplicateKey:
        # the key is not named: in a profile it may be a warning the reader avoids reading
        raise RequestError(422, "invalid-request", f"{where}: an object names the same key "
                           "twice; keep one", [{"location": where, "message": "duplicate key"}]
                           ) from None
    except (ValueError, RecursionError):
        return


class _DuplicateKey(Exception):
    pass


def _form_request(parts: dict[str, _Part], profile: ProfileNeed,
                  fmt: str | None) -> tuple[WorkInput, ProfileIn | None]:
    if "profile" in parts and profile == "none":
        raise RequestError(422, "malformed-form", "multipart body: this endpoint takes no "
                           "profile")
    upload, text = parts.get("file"), parts.get("text")
    if (upload is None) == (text is None):
        raise RequestError(422, "invalid-request",
                           'send the story as exactly one of the form fields "file" or "text"',
                           [{"location": "form", "message": "one of file or text"}])
    title = _field_text(parts["title"], "title") if "title" in parts else None
    if title is not None and len(title) > 300:
        raise RequestError(422, "invalid-request", "title: at most 300 characters",
                           [{"location": "form.title", "message": "at most 300 characters"}])
    given: ProfileIn | None = None
    if "profile" in parts:
        _refuse_duplicate_keys(bytes(parts["profile"].data), "form.profile")
        try:
            given = ProfileIn.model_validate_json(bytes(parts["profile"].data))
        except ValidationError as exc:
            raise _pydantic_error(exc, "form.profile") from None
    if upload is not None:
        declared = (upload.content_type or "").split(";")[0].strip()
        if declared and _REFUSED_UPLOAD_TYPES.fullmatch(declared):
            raise RequestError(415, "unsupported-format",
                               f"{_safe_filename(upload.filename)}: {declared[:80]} is not "
                               "supported (supported: .txt .md .html .epub)")
        return WorkInput(data=bytes(upload.data), filename=_safe_filename(upload.filename),
                         title=title, fmt=fmt), given
    assert text is not None
    story = _field_text(text, "text")
    if not story:
        raise RequestError(422, "invalid-request", "text: the story is empty",
                           [{"location": "form.text", "message": "empty"}])
    return WorkInput(text=story, title=title, fmt=fmt), given


# --- the application ----------------------------------------------------------------------------


def _json_and_upload_body(model: type[BaseModel], *, profile: ProfileNeed) -> dict[str, Any]:
    """OpenAPI ``requestBody``: the JSON model or a multipart form with a file or text."""
    form: dict[str, Any] = {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "the story file: .txt, .md, AO3 .html or .epub"},
            "text": {"type": "string", "minLength": 1,
                     "description": "the story as text (instead of a file)"},
            "title": {"type": "string", "maxLength": 300},
        },
        "additionalProperties": False,
        "description": 'exactly one of "file" or "text"',
    }
    if profile != "none":
        form["properties"]["profile"] = {
            "type": "string", "contentMediaType": "application/json",
            "description": "the profile as JSON text (see ProfileIn)",
        }
        if profile == "required":
            form["required"] = ["profile"]
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}},
        "multipart/form-data": {"schema": form},
    }}}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    text = {
        408: "the body did not arrive within the time limit for bodies",
        413: "the body is larger than the limit",
        415: "not JSON or multipart, or a file format forewarn does not read",
        422: "malformed input: JSON, form, profile, query option, or an unreadable story",
        500: "an internal error (no internals are shown)",
        503: "the worker is busy, receiving too much at once, or shutting down (see "
             "Retry-After)",
        504: "the request took longer than the time limit",
    }
    return {s: {"model": ErrorOut, "description": text[s]} for s in statuses}


@lru_cache(maxsize=1)
def _static() -> dict[str, bytes]:
    folder = resources.files("forewarn.service").joinpath("static")
    return {name: folder.joinpath(name).read_bytes()
            for name in ("index.html", "app.js", "app.css")}


def page_security_policy() -> str:
    """The web page's Content-Security-Policy: its own script and style only, requests to
    this server only; the reading copy's inline stylesheet is allowed by its hash so the
    copy opens from a ``blob:`` URL (which inherits this policy)."""
    from forewarn.render.html import content_security_policy, reading_css

    reading_style = content_security_policy(reading_css()).split("style-src ", 1)[1]
    reading_hash = reading_style.split(";", 1)[0].strip()
    return (
        "default-src 'none'; script-src 'self'; "
        f"style-src 'self' {reading_hash}; img-src 'self' data:; connect-src 'self'; "
        "font-src 'none'; object-src 'none'; media-src 'none'; frame-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def create_app(settings: Settings | None = None, *,
               make_scanner: ScannerFactory | None = None) -> FastAPI:
    """The ASGI application. ``make_scanner(min_confidence)`` replaces the default
    :class:`Scanner` (tests use it for a slow scanner)."""
    settings = settings or Settings()
    if make_scanner is not None and settings.scan_processes:
        raise ValueError("make_scanner works with scan threads only (scan_processes=False)")
    draining = Draining(settings.shutdown_grace_s)
    gate = ScanGate(settings.scan_workers, settings.max_queue, settings.timeout_s,
                    processes=settings.scan_processes, initializer=jobs.init_process,
                    initargs=(settings.lexicon_only,))

    async def run(job: Job) -> Any:
        if settings.scan_processes:
            return await gate.run(jobs.run, job)
        return await gate.run(jobs.run, job, make_scanner)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        draining.attach(asyncio.get_running_loop())
        restore = _chain_shutdown_signals(draining)
        gate.start()
        if settings.scan_processes:
            # start every scan process now; each loads the model as it starts
            await asyncio.gather(*(gate.run(jobs.ping) for _ in range(settings.scan_workers)))
        elif settings.warm_up:
            await run(jobs.warm_up_job(settings.lexicon_only))
        app.state.model_loaded = settings.scan_processes or settings.warm_up
        try:
            yield
        finally:
            draining.start()
            for sig, handler in restore:
                with suppress(ValueError, TypeError):
                    signal.signal(sig, handler)
            draining.detach()
            gate.close(grace=2.0)  # what still runs now has been answered already

    app = FastAPI(
        title="forewarn",
        version=__version__,
        summary="Content warnings for fiction: which, where and how strong, without spoilers.",
        description="See docs/service.md. Nothing sent to this service is logged or kept.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads from a CDN: this service loads nothing remote
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.gate = gate
    app.state.draining = draining
    app.state.model_loaded = False
    _install_error_handlers(app)
    # add_middleware puts each new one outside the previous: Guard, Drain, Shed, BodyLimit,
    # app.
    budget = BodyBudget(settings.max_buffered_bytes)
    app.state.body_budget = budget
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, respond=_body_error,
                       budget=budget, timeout=settings.body_timeout_s)
    app.add_middleware(Shed, gate=gate, paths=SCAN_PATHS, respond=_overloaded)
    app.add_middleware(Drain, draining=draining)
    app.add_middleware(Guard, access=settings.access_log)
    if settings.cors_origins:  # off unless an operator names the origins (--cors-origin)
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["Content-Type"],
                           max_age=600)

    def new_job(kind: JobKind, work: WorkInput, floor: float, *, evidence: bool = False,
                only: frozenset[str] | None = None, profile: Profile | None = None,
                gap: int = 1, with_report: bool = False) -> Job:
        return Job(kind, work, floor, max_bytes=settings.max_body_bytes,
                   lexicon_only=settings.lexicon_only, evidence=evidence, only=only,
                   profile=profile, gap=gap, with_report=with_report)

    confidence_q = Query(None, ge=0.0, le=1.0, allow_inf_nan=False,
                         description="leave out warnings below this confidence (0-1; "
                         f"default {DEFAULT_MIN_CONFIDENCE:g}, or the profile's)")
    evidence_q = Query(False, description="quote the passages (story text: spoilers!)")
    format_q = Query(None, description="the story's format, when its file name or content "
                     "does not say (text, markdown, html, epub)")

    @app.post("/v1/scan", tags=["scan"], response_model=None,
              summary="Scan a story: the core JSON report",
              responses={200: {"model": ReportOut, "description": "the report "
                               "(schema forewarn.report/2)"},
                         **_errors(408, 413, 415, 422, 500, 503, 504)},
              openapi_extra=_json_and_upload_body(ScanRequest, profile="none"))
    async def scan(request: Request, evidence: bool = evidence_q,
                   min_confidence: float | None = confidence_q,
                   only: str | None = Query(None, max_length=2000,
                                            description="report only these warnings, "
                                            "comma-separated ids, names or aliases"),
                   format: InputFormat | None = format_q) -> Response:
        from forewarn.taxonomy import load_taxonomy

        wanted = ({w.id for w in load_taxonomy().parse_list(only)}
                  if only and only.strip() else None)
        work_in, _ = await read_request(request, gate, ScanRequest, "none", format)
        floor = confidence_floor(min_confidence)

        job = new_job("scan", work_in, floor, evidence=evidence,
                      only=frozenset(wanted) if wanted is not None else None)
        return JSONResponse(await run(job))

    @app.post("/v1/check", tags=["scan"], response_model=None,
              summary="Is this story safe for a reader's profile? The verdict",
              responses={200: {"model": CheckOut, "description": "the verdict, as "
                               "forewarn check --json (schema forewarn.check/2)"},
                         **_errors(408, 413, 415, 422, 500, 503, 504)},
              openapi_extra=_json_and_upload_body(CheckRequest, profile="required"))
    async def check(request: Request,
                    min_confidence: float | None = confidence_q,
                    format: InputFormat | None = format_q,
                    report: bool = Query(False, description="also return the full report "
                                         "(as /v1/scan) under 'report', from the same scan"),
                    evidence: bool = evidence_q) -> Response:
        work_in, profile = await read_request(request, gate, CheckRequest, "required", format)
        assert profile is not None
        floor = confidence_floor(min_confidence, profile)
        if floor > MAX_FLOOR:  # confidence never goes above 0.99: every story would pass
            raise RequestError(422, "invalid-request", "min_confidence: at most 0.99 for a "
                               "verdict (confidence never goes above 0.99, so a higher "
                               "floor would call every story safe)",
                               [{"location": "query.min_confidence", "message": "at most 0.99"}])
        profile = dataclasses.replace(profile, min_confidence=floor)

        job = new_job("check", work_in, floor, profile=profile, with_report=report,
                      evidence=evidence)
        return JSONResponse(await run(job))

    @app.post("/v1/audit", tags=["scan"], response_model=None,
              summary="Audit the warnings a work declares against what it contains",
              responses={200: {"model": AuditOut, "description": "the audit "
                               "(schema forewarn.audit/1)"},
                         **_errors(408, 413, 415, 422, 500, 503, 504)},
              openapi_extra=_json_and_upload_body(ScanRequest, profile="none"))
    async def audit(request: Request, evidence: bool = evidence_q,
                    min_confidence: float | None = confidence_q,
                    format: InputFormat | None = format_q) -> Response:
        work_in, _ = await read_request(request, gate, ScanRequest, "none", format)
        job = new_job("audit", work_in, confidence_floor(min_confidence), evidence=evidence)
        return JSONResponse(await run(job))

    @app.post("/v1/read", tags=["scan"], response_model=None,
              summary="The reading copy: the story with flagged scenes collapsed (HTML)",
              responses={200: {"content": {"text/html": {"schema": {"type": "string"}}},
                               "description": "one self-contained HTML page"},
                         **_errors(408, 413, 415, 422, 500, 503, 504)},
              openapi_extra=_json_and_upload_body(ReadRequest, profile="optional"))
    async def read(request: Request,
                   min_confidence: float | None = confidence_q,
                   gap: int | None = Query(None, ge=0, le=50, description="merge flagged "
                                           "passages at most this many paragraphs apart "
                                           "(default 1)"),
                   format: InputFormat | None = format_q) -> Response:
        from forewarn.render.html import content_security_policy, reading_css
        from forewarn.scenes import DEFAULT_MAX_GAP

        work_in, profile = await read_request(request, gate, ReadRequest, "optional", format)
        job = new_job("read", work_in, confidence_floor(min_confidence, profile), profile=profile,
                      gap=DEFAULT_MAX_GAP if gap is None else gap)
        page = await run(job)
        return HTMLResponse(page, headers={
            "Content-Security-Policy": content_security_policy(reading_css()),
            "Content-Disposition": 'inline; filename="reading-copy.html"',
        })

    @app.get("/v1/taxonomy", tags=["reference"], response_model=TaxonomyOut,
             summary="Every warning forewarn knows, with its group and aliases")
    async def taxonomy() -> dict[str, Any]:
        return _taxonomy()

    @app.get("/healthz", tags=["reference"], response_model=HealthOut,
             summary="Liveness, and this worker's scan load")
    async def healthz(request: Request) -> dict[str, Any]:
        return {"status": "ok", "version": __version__,
                "model_loaded": bool(request.app.state.model_loaded), "scans": gate.stats()}

    policy = page_security_policy()

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def index() -> Response:
        return Response(_static()["index.html"], media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": policy,
                                 "Cache-Control": "no-cache"})

    @app.get("/static/app.js", include_in_schema=False)
    async def script() -> Response:
        return Response(_static()["app.js"], media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})

    @app.get("/static/app.css", include_in_schema=False)
    async def style() -> Response:
        return Response(_static()["app.css"], media_type="text/css; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                                 description=app.description, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in REQUEST_MODELS:
                found = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, sub in found.pop("$defs", {}).items():
                    components.setdefault(name, sub)
                components[model.__name__] = found
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


@lru_cache(maxsize=1)
def _taxonomy() -> dict[str, Any]:
    from forewarn.taxonomy import taxonomy_document

    return taxonomy_document()


def app_from_env() -> FastAPI:
    """The application with settings from ``$FOREWARN_SERVICE_SETTINGS`` (JSON), for
    ``uvicorn --factory`` and each worker process of ``forewarn serve``."""
    raw = os.environ.get(ENV_SETTINGS)
    return create_app(Settings.from_json(raw) if raw else Settings())
