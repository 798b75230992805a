"""One upload limit: the service and ``forewarn serve`` take the ingest readers' own.

``forewarn.ingest.DEFAULT_MAX_BYTES`` (32 MiB) is the largest story a reader accepts; the
service's request-body limit is that same number, and the limit on the bodies one HTTP
worker holds at once (a different limit) is defined from it.
"""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the service needs the serve extra (fastapi)")

from forewarn.cli import build_parser
from forewarn.ingest import DEFAULT_MAX_BYTES
from forewarn.service.app import Settings
from forewarn.service.jobs import Job, WorkInput


def test_the_service_limit_is_the_readers_limit() -> None:
    assert DEFAULT_MAX_BYTES == 32 * 1024 * 1024
    assert Settings().max_body_bytes == DEFAULT_MAX_BYTES
    assert Job("scan", WorkInput(text="x")).max_bytes == DEFAULT_MAX_BYTES
    assert Settings().max_buffered_bytes == 4 * DEFAULT_MAX_BYTES


def test_serve_defaults_are_the_services() -> None:
    args = build_parser().parse_args(["serve"])
    assert args.max_body == Settings().max_body_bytes == DEFAULT_MAX_BYTES
    assert args.max_buffered == Settings().max_buffered_bytes
