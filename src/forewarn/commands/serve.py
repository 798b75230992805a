"""``forewarn serve``: the HTTP API and the web page (docs/service.md).

Runs uvicorn (one HTTP worker process by default) and, per HTTP worker, a pool of scan
processes (one per CPU core by default), each loading the model once at start-up; the
event loop never scans, so it keeps answering, and sheds load with ``503`` beyond its
queue. Listens on 127.0.0.1 unless told otherwise. Needs the ``serve`` extra
(``pip install 'forewarn[serve]'``).
"""

from __future__ import annotations

import argparse
import math
import os
import re

from forewarn.cli import add_scan_options, whole_number
from forewarn.cli import seconds as seconds_type
from forewarn.errors import ForewarnError
from forewarn.ingest._common import DEFAULT_MAX_BYTES

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_CONNECTIONS = 256
DEFAULT_SHUTDOWN_GRACE = 8.0
UVICORN_EXTRA_S = 2  # uvicorn's own graceful-shutdown time is ours plus this

LOG_CONFIG: dict[str, object] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "access": {"format": "%(asctime)s %(message)s"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                   "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "access",
                   "stream": "ext://sys.stdout"},
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        # uvicorn's own access log would show the client address and the query string
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "forewarn.service": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "forewarn.service.access": {"handlers": ["access"], "level": "INFO",
                                    "propagate": False},
    },
}


class ServeError(ForewarnError, exit_code=2, kind="usage"):
    """The service cannot start: the ``serve`` extra is missing, or a bad option."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="run the HTTP API and the web page",
        description="Serve the HTTP API (/v1/scan, /v1/check, /v1/audit, /v1/read, "
        "/v1/taxonomy, /healthz, /openapi.json) and the web page at /. Nothing sent to "
        "it is logged or kept. See docs/service.md.",
    )
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    p.add_argument("--port", type=port, default=DEFAULT_PORT,
                   help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--workers", type=positive, default=1, metavar="N",
                   help="HTTP worker processes (default 1, which is enough: the scans run "
                   "in --scan-processes; see docs/service.md)")
    p.add_argument("--scan-processes", type=non_negative, default=None, metavar="N",
                   help="scan processes per HTTP worker (default: one per CPU core, "
                   f"{os.cpu_count() or 1} here); 0 scans in one thread of the HTTP worker")
    p.add_argument("--max-body", type=size, default=DEFAULT_MAX_BYTES, metavar="SIZE",
                   help="largest request body, e.g. 32MiB (the default: the readers' own "
                   "limit), 512KB")
    p.add_argument("--max-buffered", type=size, default=4 * DEFAULT_MAX_BYTES,
                   metavar="SIZE", help="request bodies all the requests of an HTTP worker "
                   "may hold at once; beyond it, 503 (default 128MiB: four of the largest)")
    p.add_argument("--body-timeout", type=seconds, default=30.0, metavar="S",
                   help="time for a request body to arrive; past it, 408 (default 30 s)")
    p.add_argument("--max-connections", type=positive, default=DEFAULT_MAX_CONNECTIONS,
                   metavar="N", help="open connections (and requests) per HTTP worker; "
                   f"beyond, uvicorn answers 503 (default {DEFAULT_MAX_CONNECTIONS})")
    p.add_argument("--timeout", type=seconds, default=60.0, metavar="S",
                   help="time limit of one request, queueing included (default 60 s)")
    p.add_argument("--max-queue", type=non_negative, default=16, metavar="N",
                   help="requests that may wait for a scan, per worker; more get 503 "
                   "(default 16)")
    p.add_argument("--shutdown-grace", type=seconds, default=DEFAULT_SHUTDOWN_GRACE,
                   metavar="S", help="on SIGTERM or Ctrl-C, time the running requests get "
                   "to finish before they are answered 503 (default 8 s)")
    add_scan_options(p, encoding=False)
    p.add_argument("--no-access-log", action="store_true",
                   help="do not log requests at all (by default: method, path, status, "
                   "time; never bodies, query strings or addresses)")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="let pages from this origin (e.g. https://archiveofourown.org) call "
                        "the API from a browser; repeatable; none by default")
    p.add_argument("--log-level", default="info",
                   choices=("critical", "error", "warning", "info", "debug"))
    p.set_defaults(func=run)


positive, non_negative = whole_number(1), whole_number(0)
seconds = seconds_type(24 * 3600)  # at most a day


def port(value: str) -> int:
    n = int(value) if value.strip().isascii() and value.strip().isdecimal() else 0
    if not 1 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {value}")
    return n


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(b|bytes?|kb|k|mb|m|gb|g|kib|mib|gib)?\s*",
                   re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1, "k": 1000, "kb": 1000, "m": 10**6, "mb": 10**6,
          "g": 10**9, "gb": 10**9, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def size(value: str) -> int:
    """argparse type for a size: ``25MB``, ``512KB``, ``1MiB`` or a number of bytes."""
    match = _SIZE.fullmatch(value)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {value!r} (e.g. 25MB, 512KB)")
    n = int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 byte: {value}")
    return n


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        import forewarn.service.app  # noqa: F401  (the web stack: FastAPI, python-multipart)
        from forewarn.service.settings import ENV_SETTINGS, Settings
    except ImportError as exc:
        raise ServeError(
            f"forewarn serve needs the serve extra ({exc.name} is missing): "
            "pip install 'forewarn[serve]'"
        ) from None
    processes = (os.cpu_count() or 1) if args.scan_processes is None else args.scan_processes
    settings = Settings(
        max_body_bytes=args.max_body,
        max_buffered_bytes=max(args.max_buffered, args.max_body),
        body_timeout_s=args.body_timeout,
        shutdown_grace_s=args.shutdown_grace,
        timeout_s=args.timeout,
        scan_workers=max(1, processes),
        scan_processes=processes > 0,
        max_queue=args.max_queue,
        lexicon_only=args.lexicon_only,
        access_log=not args.no_access_log,
        cors_origins=tuple(args.cors_origin),
    )
    # Each worker process builds its app from this (uvicorn imports the factory by name).
    os.environ[ENV_SETTINGS] = settings.to_json()
    uvicorn.run(
        "forewarn.service.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=LOG_CONFIG,
        log_level=args.log_level,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        limit_concurrency=args.max_connections,
        timeout_graceful_shutdown=math.ceil(args.shutdown_grace) + UVICORN_EXTRA_S,
    )
    return 0
