"""The Report: what forewarn found in one work, as plain data, and its JSON form.

The JSON form is versioned (``schema``) and documented in ``docs/report-schema.md``;
``Report.to_dict()`` and ``Report.to_json()`` produce exactly that form. Snippets of story
text are included only when asked for (``evidence=True``): the default is spoiler-free.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from forewarn.coverage import checked, gap
from forewarn.declared import DeclaredWarning

if TYPE_CHECKING:
    from forewarn.coverage import Coverage
    from forewarn.language import Languages

SCHEMA = "forewarn.report/2"


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where one piece of evidence is: chapter (1-based), paragraph (0-based in the chapter),
    character span in the chapter's text and in the whole work's text, and a snippet.
    ``title``: the evidence is the chapter's title, which is not in the chapter's text (its
    span is empty, at the chapter's start, paragraph 0; the snippet is the title)."""

    chapter: int
    paragraph: int
    start: int
    end: int
    offset_start: int
    offset_end: int
    position: float  # 0..1 within the chapter
    score: float
    severity: str
    detectors: tuple[str, ...]
    reason: str
    snippet: str
    title: bool = False

    def to_dict(self, evidence: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "chapter": self.chapter,
            "title": self.title,
            "paragraph": self.paragraph,
            "start": self.start,
            "end": self.end,
            "offset_start": self.offset_start,
            "offset_end": self.offset_end,
            "position": round(self.position, 3),
            "score": round(self.score, 3),
            "severity": self.severity,
            "detectors": list(self.detectors),
            "reason": self.reason if evidence else spoiler_free_reason(self.reason),
        }
        if evidence:
            d["snippet"] = self.snippet
        return d


def spoiler_free_reason(reason: str) -> str:
    """``reason`` without the story's words: each detector's part keeps its name and
    warning (``lexicon:kidnapping``) and drops the cues it matched, which are the story's
    text (a lexicon cue may take a whole clause)."""
    return ";".join(":".join(part.split(":")[:2]) for part in reason.split(";") if part)


@dataclass(frozen=True, slots=True)
class Location:
    """A stretch of a chapter with evidence, as fractions of the chapter's length, or
    (``title``) the chapter's title."""

    chapter: int
    start: float
    end: float
    title: bool = False

    def describe(self) -> str:
        if self.title:
            return f"chapter {self.chapter}, title"
        lo, hi = int(self.start * 100), round(self.end * 100)
        lo, hi = (lo // 5) * 5, min(100, -(-hi // 5) * 5)
        if hi <= lo:
            hi = min(100, lo + 5)
        return f"chapter {self.chapter}, {lo}-{hi}%"

    def to_dict(self) -> dict[str, Any]:
        return {"chapter": self.chapter, "title": self.title, "from": round(self.start, 3),
                "to": round(self.end, 3), "text": self.describe()}


@dataclass(frozen=True, slots=True)
class DetectedWarning:
    """A warning the text itself supports."""

    id: str
    name: str
    group: str
    confidence: float
    severity: str
    declared: bool
    detectors: tuple[str, ...]
    locations: tuple[Location, ...]
    evidence: tuple[Evidence, ...]

    def to_dict(self, evidence: bool = True) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "group": self.group,
            "confidence": round(self.confidence, 3),
            "severity": self.severity,
            "declared": self.declared,
            "detectors": list(self.detectors),
            "locations": [loc.to_dict() for loc in self.locations],
            "evidence": [e.to_dict(evidence) for e in self.evidence],
        }


@dataclass(slots=True)
class Report:
    """Everything forewarn says about one work. ``warnings`` is sorted strongest first."""

    source: str | None
    format: str
    title: str | None
    word_count: int
    chapter_count: int
    warnings: list[DetectedWarning]
    declared: list[DeclaredWarning]
    min_confidence: float
    versions: dict[str, str] = field(default_factory=dict)
    elapsed_s: float | None = None
    coverage: Coverage | None = None
    languages: Languages | None = None

    @property
    def not_checked(self) -> tuple[str, str] | None:
        """``(kind, reason)`` when forewarn cannot vouch for every word of the work, else
        None (:func:`forewarn.coverage.gap`)."""
        return gap(self.coverage, self.languages)

    def get(self, warning_id: str) -> DetectedWarning | None:
        return next((w for w in self.warnings if w.id == warning_id), None)

    @property
    def ids(self) -> list[str]:
        return [w.id for w in self.warnings]

    def filtered(self, min_confidence: float | None = None,
                 only: set[str] | None = None) -> Report:
        """A copy keeping warnings at or above ``min_confidence`` and, if given, in ``only``."""
        floor = self.min_confidence if min_confidence is None else min_confidence
        keep = [w for w in self.warnings
                if w.confidence >= floor and (only is None or w.id in only)]
        declared = [d for d in self.declared if only is None or d.id in only]
        detected = {w.id for w in keep}
        declared = [replace(d, detected=d.id in detected) for d in declared]
        return Report(self.source, self.format, self.title, self.word_count,
                      self.chapter_count, keep, declared, floor, dict(self.versions),
                      self.elapsed_s, self.coverage, self.languages)

    def to_dict(self, evidence: bool = True) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "versions": dict(self.versions),
            "source": self.source,
            "format": self.format,
            "title": self.title,
            "word_count": self.word_count,
            "chapters": self.chapter_count,
            "min_confidence": self.min_confidence,
            "spoiler_free": not evidence,
            "warnings": [w.to_dict(evidence) for w in self.warnings],
            "declared": [d.to_dict() for d in self.declared],
            "checked": checked(self.not_checked),
            "coverage": self.coverage.to_dict() if self.coverage is not None else None,
            "language": self.languages.to_dict() if self.languages is not None else None,
        }

    def to_json(self, evidence: bool = True, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(evidence), ensure_ascii=False, indent=indent)
