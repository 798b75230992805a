"""The service's routes, by area; each ``add_*_routes`` registers its area on an app.

* :func:`add_scan_routes`: ``POST /v1/scan``, ``/v1/check``, ``/v1/audit`` and
  ``/v1/read``. Each reads the request (:func:`~forewarn.service.uploads.read_request`),
  builds a :class:`~forewarn.service.jobs.Job` and runs it in the scan pool
  (:class:`Scans`).
* :func:`add_reference_routes`: ``GET /v1/taxonomy`` and ``/healthz``.
* :func:`add_page_routes`: the web page (``/`` and its script and stylesheet).
* :func:`install_openapi`: ``/openapi.json``, with the request models' schemas.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.types import DecoratedCallable
from pydantic import BaseModel

from forewarn import __version__
from forewarn.confidence import DEFAULT_MIN_CONFIDENCE, confidence_floor
from forewarn.ingest.registry import formats_line
from forewarn.profile import Profile
from forewarn.service import jobs
from forewarn.service.errors import RequestError, documented_errors
from forewarn.service.jobs import Job, JobKind, ScannerFactory, WorkInput
from forewarn.service.limits import ScanGate
from forewarn.service.models import (
    REQUEST_MODELS,
    AuditOut,
    CheckOut,
    CheckRequest,
    HealthOut,
    InputFormat,
    ReadRequest,
    ReportOut,
    ScanRequest,
    TaxonomyOut,
)
from forewarn.service.settings import Settings
from forewarn.service.uploads import ProfileNeed, json_and_upload_body, read_request
from forewarn.verdict import MAX_FLOOR

__all__ = [
    "SCAN_PATHS",
    "Scans",
    "add_page_routes",
    "add_reference_routes",
    "add_scan_routes",
    "cached_taxonomy",
    "install_openapi",
    "page_security_policy",
]

SCAN_PATHS = frozenset({"/v1/scan", "/v1/check", "/v1/audit", "/v1/read"})
"""The routes that scan: the ones load shedding (:class:`~forewarn.service.limits.Shed`)
answers ``503`` when the pool is full."""


@dataclass(frozen=True, slots=True)
class Scans:
    """How the routes run their work: the settings, the scan pool, and the scanner
    factory that replaces the default one (scan threads only)."""

    settings: Settings
    gate: ScanGate
    make_scanner: ScannerFactory | None = None

    async def run(self, job: Job) -> Any:
        """Run ``job`` in the pool; its result."""
        if self.settings.scan_processes:
            return await self.gate.run(jobs.run, job)
        return await self.gate.run(jobs.run, job, self.make_scanner)

    def job(self, kind: JobKind, work: WorkInput, floor: float, *, evidence: bool = False,
            only: frozenset[str] | None = None, profile: Profile | None = None,
            gap: int = 1, with_report: bool = False) -> Job:
        """A job with the settings' body limit and detectors."""
        return Job(kind, work, floor, max_bytes=self.settings.max_body_bytes,
                   lexicon_only=self.settings.lexicon_only, evidence=evidence, only=only,
                   profile=profile, gap=gap, with_report=with_report)


def add_scan_routes(app: FastAPI, scans: Scans) -> None:
    """``POST /v1/scan``, ``/v1/check``, ``/v1/audit`` and ``/v1/read``."""
    gate = scans.gate
    confidence_q = Query(None, ge=0.0, le=1.0, allow_inf_nan=False,
                         description="leave out warnings below this confidence (0-1; "
                         f"default {DEFAULT_MIN_CONFIDENCE:g}, or the profile's)")
    evidence_q = Query(False, description="quote the passages (story text: spoilers!)")
    format_q = Query(None, description="the story's format, when its file name or content "
                     f"does not say ({formats_line()})")

    def scan_route(path: str, summary: str, ok: dict[str, Any], body: type[BaseModel],
                   profile: ProfileNeed) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """``POST path``: answers ``ok`` (its 200) or a documented error; takes ``body``
        as JSON or an upload (its profile ``"none"``, ``"optional"`` or ``"required"``)."""
        return app.post(path, tags=["scan"], response_model=None, summary=summary,
                        responses={200: ok, **documented_errors(408, 413, 415, 422, 500, 503,
                                                                504)},
                        openapi_extra=json_and_upload_body(body, profile=profile))

    @scan_route("/v1/scan", "Scan a story: the core JSON report",
                {"model": ReportOut, "description": "the report (schema forewarn.report/2)"},
                ScanRequest, "none")
    async def scan(request: Request, evidence: bool = evidence_q,
                   min_confidence: float | None = confidence_q,
                   only: str | None = Query(None, max_length=2000,
                                            description="report only these warnings, "
                                            "comma-separated ids, names or aliases"),
                   format: InputFormat | None = format_q) -> Response:
        from forewarn.taxonomy import load_taxonomy

        wanted = ({w.id for w in load_taxonomy().parse_list(only)}  # "," is an error
                  if only and only.strip() else None)
        work_in, _ = await read_request(request, gate, ScanRequest, "none", format)
        floor = confidence_floor(min_confidence)

        job = scans.job("scan", work_in, floor, evidence=evidence,
                        only=frozenset(wanted) if wanted is not None else None)
        return JSONResponse(await scans.run(job))

    @scan_route("/v1/check", "Is this story safe for a reader's profile? The verdict",
                {"model": CheckOut, "description": "the verdict, as forewarn check --json "
                 "(schema forewarn.check/2)"}, CheckRequest, "required")
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

        job = scans.job("check", work_in, floor, profile=profile, with_report=report,
                        evidence=evidence)
        return JSONResponse(await scans.run(job))

    @scan_route("/v1/audit", "Audit the warnings a work declares against what it contains",
                {"model": AuditOut, "description": "the audit (schema forewarn.audit/1)"},
                ScanRequest, "none")
    async def audit(request: Request, evidence: bool = evidence_q,
                    min_confidence: float | None = confidence_q,
                    format: InputFormat | None = format_q) -> Response:
        work_in, _ = await read_request(request, gate, ScanRequest, "none", format)
        job = scans.job("audit", work_in, confidence_floor(min_confidence), evidence=evidence)
        return JSONResponse(await scans.run(job))

    @scan_route("/v1/read", "The reading copy: the story with flagged scenes collapsed (HTML)",
                {"content": {"text/html": {"schema": {"type": "string"}}},
                 "description": "one self-contained HTML page"}, ReadRequest, "optional")
    async def read(request: Request,
                   min_confidence: float | None = confidence_q,
                   gap: int | None = Query(None, ge=0, le=50, description="merge flagged "
                                           "passages at most this many paragraphs apart "
                                           "(default 1)"),
                   format: InputFormat | None = format_q) -> Response:
        from forewarn.render.html import content_security_policy, reading_css
        from forewarn.scenes import DEFAULT_MAX_GAP

        work_in, profile = await read_request(request, gate, ReadRequest, "optional", format)
        floor = confidence_floor(min_confidence, profile)
        if profile is not None:  # the query's floor wins over the profile's, as in /v1/check
            profile = dataclasses.replace(profile, min_confidence=floor)
        job = scans.job("read", work_in, floor, profile=profile,
                        gap=DEFAULT_MAX_GAP if gap is None else gap)
        page = await scans.run(job)
        return HTMLResponse(page, headers={
            "Content-Security-Policy": content_security_policy(reading_css()),
            "Content-Disposition": 'inline; filename="reading-copy.html"',
        })


@lru_cache(maxsize=1)
def cached_taxonomy() -> dict[str, Any]:
    """The taxonomy document (``forewarn.taxonomy/1``), built once per process."""
    from forewarn.taxonomy import taxonomy_document

    return taxonomy_document()


def add_reference_routes(app: FastAPI, gate: ScanGate) -> None:
    """``GET /v1/taxonomy`` and ``/healthz`` (which reports ``gate``'s load)."""

    @app.get("/v1/taxonomy", tags=["reference"], response_model=TaxonomyOut,
             summary="Every warning forewarn knows, with its group and aliases")
    async def taxonomy() -> dict[str, Any]:
        return cached_taxonomy()

    @app.get("/healthz", tags=["reference"], response_model=HealthOut,
             summary="Liveness, and this worker's scan load")
    async def healthz(request: Request) -> dict[str, Any]:
        return {"status": "ok", "version": __version__,
                "model_loaded": bool(request.app.state.model_loaded), "scans": gate.stats()}


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


def add_page_routes(app: FastAPI) -> None:
    """The web page: ``/`` (under :func:`page_security_policy`), its script and its
    stylesheet, none of them in the OpenAPI document."""
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


def install_openapi(app: FastAPI) -> None:
    """``/openapi.json`` from the routes, with every request model's schema among the
    components (the multipart forms and JSON bodies refer to them)."""

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
