"""Every error the service answers, as JSON ``{"error": {"code", "message", "details"?}}``.

:class:`RequestError` is a problem with the request itself (not the story);
:func:`install_error_handlers` maps it, the library's :class:`~forewarn.errors.ForewarnError`
kinds, FastAPI's validation errors, HTTP errors and the limits' exceptions
(:mod:`forewarn.service.limits`) to a status and a stable code. Messages are one line and
never quote the input (it may be story text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from forewarn.errors import (
    BrokenInstall,
    EmptyInput,
    ForewarnError,
    InputTooLarge,
    MalformedInput,
    TaxonomyError,
    UnsupportedFormat,
)
from forewarn.profile import ProfileError
from forewarn.service.limits import (
    BodiesOverBudget,
    BodyTimeout,
    BodyTooLarge,
    Overloaded,
    TimedOut,
    Unavailable,
)
from forewarn.service.models import ErrorOut

__all__ = [
    "RequestError",
    "body_error",
    "documented_errors",
    "error_response",
    "install_error_handlers",
    "overloaded",
    "pydantic_error",
    "shutting_down",
]

_MESSAGE_LIMIT = 500


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


def pydantic_error(exc: ValidationError, prefix: str) -> RequestError:
    """The ``422`` for a body (or form field) ``prefix`` that a request model refused:
    ``malformed-json`` when it is not JSON at all, else ``invalid-request``."""
    errors = list(exc.errors(include_input=False, include_url=False))
    if any(e.get("type") == "json_invalid" for e in errors):
        return RequestError(422, "malformed-json", f"the {prefix} is not valid JSON",
                            _validation_details(errors, prefix))
    details = _validation_details(errors, prefix)
    return RequestError(422, "invalid-request", _summary(details), details)


_FOREWARN_STATUS: tuple[tuple[type[ForewarnError], int, str], ...] = (
    (BrokenInstall, 503, "broken-install"),  # the server's files, not the request
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


def overloaded(exc: Overloaded) -> JSONResponse:
    """``503`` (``overloaded``) with the gate's ``Retry-After``."""
    return error_response(503, "overloaded", str(exc),
                          headers={"Retry-After": str(exc.retry_after)})


def _body_timeout(exc: Exception) -> JSONResponse:
    # the rest of the body is not read: the connection cannot be used again
    return error_response(408, "body-timeout", str(exc), headers={"Connection": "close"})


def body_error(exc: Exception) -> JSONResponse:
    """The answer to a body over the limit (413), over the budget (503) or too slow (408)."""
    if isinstance(exc, BodiesOverBudget):
        return overloaded(exc)
    if isinstance(exc, BodyTimeout):
        return _body_timeout(exc)
    return error_response(413, "too-large", str(exc))


def shutting_down() -> JSONResponse:
    """``503`` (``shutting-down``) for a request the server will not serve any more."""
    return error_response(503, "shutting-down", "the server is shutting down; try again "
                          "shortly", headers={"Retry-After": "1", "Connection": "close"})


def install_error_handlers(app: FastAPI) -> None:
    """Answer every known exception of a route with its status and JSON error."""

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
        return overloaded(exc)

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


def documented_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entries for these error statuses (each an :class:`ErrorOut`)."""
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
