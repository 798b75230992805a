"""A request's story (and profile): JSON, ``text/plain`` or ``multipart/form-data``.

:func:`read_request` reads the body (within the size limit) and turns it into a
:class:`~forewarn.service.jobs.WorkInput` and an optional
:class:`~forewarn.profile.Profile`. A form is parsed in memory with ``python-multipart``
(:func:`parse_multipart`): at most 8 parts, only the fields the API knows, each once; an
upload's filename is cut to its last component without control characters. A JSON object
that names a key twice is refused. Every problem is a
:class:`~forewarn.service.errors.RequestError`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from pydantic import BaseModel, ValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from forewarn.ingest.registry import extensions_line
from forewarn.profile import Profile
from forewarn.service.errors import RequestError, pydantic_error
from forewarn.service.jobs import WorkInput
from forewarn.service.limits import ScanGate
from forewarn.service.models import ProfileIn, TextWork

__all__ = ["ProfileNeed", "json_and_upload_body", "parse_multipart", "read_request"]

_MAX_FIELDS = 8
_MAX_FILENAME = 200
_FIELDS = frozenset({"file", "text", "title", "profile"})
# Declared media types of an upload that no reader takes (415 before anything is read).
_REFUSED_UPLOAD_TYPES = re.compile(
    r"(image|audio|video|font)/.*|application/(pdf|msword|rtf|x-mobipocket-ebook|"
    r"vnd\.(openxmlformats|oasis|ms-|amazon|apple).*|x-(7z|rar|tar|gzip)-compressed|gzip)",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(slots=True)
class _Part:
    """One part of a multipart body, as it is parsed."""

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
            raise pydantic_error(exc, "body") from None
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
            raise pydantic_error(exc, "form.profile") from None
    if upload is not None:
        declared = (upload.content_type or "").split(";")[0].strip()
        if declared and _REFUSED_UPLOAD_TYPES.fullmatch(declared):
            raise RequestError(415, "unsupported-format",
                               f"{_safe_filename(upload.filename)}: {declared[:80]} is not "
                               f"supported (supported: {extensions_line()})")
        return WorkInput(data=bytes(upload.data), filename=_safe_filename(upload.filename),
                         title=title, fmt=fmt), given
    assert text is not None
    story = _field_text(text, "text")
    if not story:
        raise RequestError(422, "invalid-request", "text: the story is empty",
                           [{"location": "form.text", "message": "empty"}])
    return WorkInput(text=story, title=title, fmt=fmt), given


def json_and_upload_body(model: type[BaseModel], *, profile: ProfileNeed) -> dict[str, Any]:
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
