"""Pydantic models of the HTTP API's requests and responses (they make ``/openapi.json``).

Requests are validated with these models. Responses are built by the library
(``Report.to_dict``, ``Verdict.to_dict``, ``Audit.to_dict``: the one source of their
shape) and described here; the models allow extra keys, so a field added to a report in
a later version does not break a client that validates against this schema.
``tests/test_report_models.py`` validates the library's real output against these models
strictly, refusing any key they do not name, so the description cannot drift from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from forewarn.ingest.registry import reader_names

Severity = Literal["mentioned", "depicted", "graphic"]
#: A story's format as the service accepts it: the registered readers' names
#: (:func:`forewarn.ingest.registry.reader_names`), read when the service is imported.
#: A type checker cannot see a Literal built at run time, so it is a str to mypy.
if TYPE_CHECKING:
    InputFormat = str
else:
    InputFormat = Literal[reader_names()]

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
_OPEN = ConfigDict(extra="allow", populate_by_name=True)


# --- requests -------------------------------------------------------------------------------


class AvoidEntry(BaseModel):
    """One avoided warning, as a table: ``{"severity": "depicted", "alias": "..."}``."""

    model_config = _STRICT
    severity: str = Field("mentioned", description='"mentioned" (or "any"), "depicted" or '
                          '"graphic": the weakest strength that counts')
    alias: str | None = Field(None, max_length=200,
                              description="what to call this warning instead of its name")


class AvoidItem(BaseModel):
    """One avoided warning in the list form: ``{"warning": "mc", "severity": ...}``."""

    model_config = _STRICT
    warning: str = Field(max_length=200, description="a warning id, name or alias")
    severity: str = "mentioned"
    alias: str | None = Field(None, max_length=200)


class ProfileSettings(BaseModel):
    """The optional ``[settings]`` table of a profile."""

    model_config = _STRICT
    min_confidence: float | None = Field(None, ge=0.0, le=0.99)


class ProfileIn(BaseModel):
    """A reader's profile: the JSON form of the TOML profile (docs/profiles.md).

    ``avoid`` is a table ``{name: severity}`` / ``{name: {severity, alias}}``, or a list
    of names (each at "mentioned") or of ``{warning, severity, alias}`` tables.
    """

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={"examples": [
            {"avoid": {"pregnancy loss": "depicted", "sh": "mentioned",
                       "blood": {"severity": "graphic", "alias": "the red thing"}},
             "settings": {"min_confidence": 0.6}},
            {"avoid": ["mc", "suicide"]},
        ]},
    )
    avoid: dict[str, str | AvoidEntry] | list[str | AvoidItem] = Field(
        description="the warnings this reader avoids")
    settings: ProfileSettings | None = None


class TextWork(BaseModel):
    """A story sent as text. It may start with AO3-style header lines (``Title:``,
    ``Archive Warnings:``, ``Additional Tags:``...), which are read as in a .txt file."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Chapter 1\n\nThe tide turned at noon...",
                                         "title": "Salt and Lamplight"}]},
    )
    text: str = Field(min_length=1, description="the story (plain text)")
    title: str | None = Field(None, max_length=300, description="the work's title")


class ScanRequest(TextWork):
    """``POST /v1/scan`` with a JSON body."""


class AuditRequest(TextWork):
    """``POST /v1/audit`` with a JSON body."""


class CheckRequest(TextWork):
    """``POST /v1/check`` with a JSON body: the story and the reader's profile."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "The tide turned at noon...",
                                         "profile": {"avoid": {"mc": "depicted"}}}]},
    )
    profile: ProfileIn


class ReadRequest(TextWork):
    """``POST /v1/read`` with a JSON body: the story and, optionally, the reader's profile
    (without one, every reported warning's scenes are collapsed)."""

    profile: ProfileIn | None = None


REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    ScanRequest, AuditRequest, CheckRequest, ReadRequest,
)


# --- responses ------------------------------------------------------------------------------


class LocationOut(BaseModel):
    """A stretch of a chapter, as fractions of its length, or (``title``) its title."""

    model_config = _OPEN
    chapter: int
    title: bool = Field(description="the chapter's title (from and to are 0)")
    from_: float = Field(alias="from")
    to: float
    text: str = Field(description='e.g. "chapter 2, 20-40%" or "chapter 3, title"')


class EvidenceOut(BaseModel):
    """One piece of evidence; ``snippet`` (story text) only with ``evidence=true``."""

    model_config = _OPEN
    chapter: int
    title: bool = Field(description="the chapter's title, which is not in its text: the span "
                        "is empty, at the chapter's start; paragraph 0")
    paragraph: int
    start: int
    end: int
    offset_start: int
    offset_end: int
    position: float
    score: float
    severity: str
    detectors: list[str]
    reason: str
    snippet: str | None = None


class DetectedWarningOut(BaseModel):
    """A warning the text supports."""

    model_config = _OPEN
    id: str
    name: str
    group: str
    confidence: float
    severity: Severity
    declared: bool
    detectors: list[str]
    locations: list[LocationOut]
    evidence: list[EvidenceOut]


class DeclaredWarningOut(BaseModel):
    """A warning the author declared (archive warning, tag, or "TW:" note)."""

    model_config = _OPEN
    id: str
    name: str
    source: str
    text: str
    qualifier: str | None
    severity: str | None
    detected: bool


class ReportOut(BaseModel):
    """The core report, schema ``forewarn.report/2`` (docs/report-schema.md)."""

    model_config = _OPEN
    schema_: str = Field(alias="schema", examples=["forewarn.report/2"])
    versions: dict[str, str]
    source: str | None
    format: str
    title: str | None
    word_count: int
    chapters: int
    min_confidence: float
    spoiler_free: bool
    warnings: list[DetectedWarningOut]
    declared: list[DeclaredWarningOut]
    checked: CheckedOut
    coverage: dict[str, Any] | None = Field(
        description="words read as story and metadata, words not read and why")
    language: dict[str, Any] | None = Field(description="words per language")


class VerdictWarningOut(BaseModel):
    """A warning in a verdict. With an alias in the profile only ``label`` names it: no
    ``id`` and no ``name``."""

    model_config = _OPEN
    id: str | None = None
    name: str | None = None
    label: str
    severity: str | None
    confidence: float | None
    where: str | None
    locations: list[LocationOut]
    detected: bool
    declared: bool


class WeakWarningOut(BaseModel):
    """A listed warning forewarn is weak at (its measured recall is low or unmeasured), so
    "not found" cannot make the work safe for it. With an alias only ``label`` names it."""

    model_config = _OPEN
    id: str | None = None
    name: str | None = None
    label: str
    recall: float | None = Field(description="forewarn's measured recall for it on held-out "
                                 "books; null: too few examples to measure")


class CheckedOut(BaseModel):
    """Whether forewarn read every word, in a language it judges."""

    model_config = _OPEN
    complete: bool
    kind: Literal["coverage", "language"] | None
    reason: str | None


class VerdictOut(BaseModel):
    """One work against one profile."""

    model_config = _OPEN
    source: str | None
    title: str | None
    safe: bool | None = Field(description="true only when every word was read in a "
                              "language forewarn judges and nothing listed was found; null "
                              "when the answer is uncertain or not checked")
    answer: Literal["safe", "not safe", "uncertain", "not checked"]
    reasons: list[str] = Field(description="why the answer is not safe: what was not read, "
                               "near misses, warnings forewarn is weak at")
    checked: CheckedOut
    warnings: list[VerdictWarningOut] = Field(
        description="what makes the work not safe, strongest first")
    possible: list[VerdictWarningOut] = Field(
        description="listed warnings found below the floor but above the possible floor")
    allowed: list[VerdictWarningOut] = Field(
        description="warnings the profile names but allows at the strength found")
    weak: list[WeakWarningOut] = Field(
        description="listed warnings forewarn is weak at: not found is not proof of absence")


class CheckOut(BaseModel):
    """The verdict: the same JSON as ``forewarn check --json`` for one work."""

    model_config = _OPEN
    schema_: str = Field(alias="schema", examples=["forewarn.check/2"])
    min_confidence: float
    works: list[VerdictOut]
    report: ReportOut | None = Field(None, description="with ?report=true: the full report, "
                                     "as /v1/scan gives it (one scan for both)")


class AuditOut(BaseModel):
    """The declared-warning audit, schema ``forewarn.audit/1`` (docs/audit.md)."""

    model_config = _OPEN
    schema_: str = Field(alias="schema", examples=["forewarn.audit/1"])
    versions: dict[str, str]
    source: str | None
    title: str | None
    format: str
    word_count: int
    chapters: int
    min_confidence: float
    spoiler_free: bool
    declared_and_found: list[dict[str, Any]]
    declared_not_found: list[dict[str, Any]]
    found_not_declared: list[dict[str, Any]]
    archive_warnings: dict[str, Any]
    ao3_additional_tags: list[str]


class GroupOut(BaseModel):
    model_config = _OPEN
    id: str
    name: str
    description: str


class TaxonomyWarningOut(BaseModel):
    model_config = _OPEN
    id: str
    name: str
    group: str
    description: str
    aliases: list[str]


class TaxonomyOut(BaseModel):
    """Every warning forewarn knows, by group, with the names and aliases it accepts."""

    model_config = _OPEN
    schema_: str = Field(alias="schema", description="forewarn.taxonomy/1")
    version: str
    severities: list[Severity]
    groups: list[GroupOut]
    warnings: list[TaxonomyWarningOut]


class ScanLoad(BaseModel):
    model_config = _OPEN
    running: int
    waiting: int
    capacity: int
    shed: int
    timed_out: int


class HealthOut(BaseModel):
    """The worker is up; ``model_loaded`` once its start-up warm-up scan has run."""

    model_config = _OPEN
    status: Literal["ok"]
    version: str
    model_loaded: bool
    scans: ScanLoad


class ErrorDetail(BaseModel):
    model_config = _OPEN
    location: str = Field(description='where, e.g. "body.profile.avoid" or "query.only"')
    message: str


class ErrorBody(BaseModel):
    model_config = _OPEN
    code: str = Field(description="a stable, machine-readable code", examples=["too-large"])
    message: str = Field(description="one line for people")
    details: list[ErrorDetail] | None = None


class ErrorOut(BaseModel):
    """Every error: ``{"error": {"code": ..., "message": ...}}``."""

    model_config = _OPEN
    error: ErrorBody
