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

Where each part lives: :mod:`~forewarn.service.settings` (:class:`Settings`, read from
the environment), :mod:`~forewarn.service.errors` (the JSON errors and their handlers),
:mod:`~forewarn.service.guard` (the outer middleware and shutdown),
:mod:`~forewarn.service.limits` (body limits, load shedding, the scan pool),
:mod:`~forewarn.service.uploads` (reading a request's story and profile),
:mod:`~forewarn.service.routes` (the endpoints, by area), :mod:`~forewarn.service.jobs`
(what runs in the pool) and :mod:`~forewarn.service.models` (the OpenAPI schemas). This
module puts them together.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from forewarn import __version__
from forewarn.service import jobs
from forewarn.service.errors import body_error, install_error_handlers, overloaded
from forewarn.service.guard import Drain, Draining, Guard, chain_shutdown_signals, restore_signals
from forewarn.service.jobs import ScannerFactory
from forewarn.service.limits import BodyBudget, BodyLimit, ScanGate, Shed
from forewarn.service.routes import (
    SCAN_PATHS,
    Scans,
    add_page_routes,
    add_reference_routes,
    add_scan_routes,
    install_openapi,
)
from forewarn.service.settings import ENV_SETTINGS, Settings, settings_from_env

__all__ = ["ENV_SETTINGS", "Settings", "app_from_env", "create_app"]


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
    scans = Scans(settings, gate, make_scanner)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        draining.attach(asyncio.get_running_loop())
        restore = chain_shutdown_signals(draining)
        gate.start()
        if settings.scan_processes:
            # start every scan process now; each loads the model as it starts
            await asyncio.gather(*(gate.run(jobs.ping) for _ in range(settings.scan_workers)))
        elif settings.warm_up:
            await scans.run(jobs.warm_up_job(settings.lexicon_only))
        app.state.model_loaded = settings.scan_processes or settings.warm_up
        try:
            yield
        finally:
            draining.start()
            restore_signals(restore)
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
    install_error_handlers(app)
    # add_middleware puts each new one outside the previous: Guard, Drain, Shed, BodyLimit,
    # app.
    budget = BodyBudget(settings.max_buffered_bytes)
    app.state.body_budget = budget
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, respond=body_error,
                       budget=budget, timeout=settings.body_timeout_s)
    app.add_middleware(Shed, gate=gate, paths=SCAN_PATHS, respond=overloaded)
    app.add_middleware(Drain, draining=draining)
    app.add_middleware(Guard, access=settings.access_log)
    if settings.cors_origins:  # off unless an operator names the origins (--cors-origin)
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST"], allow_headers=["Content-Type"],
                           max_age=600)

    add_scan_routes(app, scans)
    add_reference_routes(app, gate)
    add_page_routes(app)
    install_openapi(app)
    return app


def app_from_env() -> FastAPI:
    """The application with settings from ``$FOREWARN_SERVICE_SETTINGS`` (JSON), for
    ``uvicorn --factory`` and each worker process of ``forewarn serve``."""
    return create_app(settings_from_env())
