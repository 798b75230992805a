"""The declared-warning audit: what a work declares against what forewarn finds in it.

For authors. :func:`audit_report` compares a :class:`~forewarn.report.Report`'s declared
warnings (AO3 archive warnings, additional tags, "TW:"/"CW:" lines in the summary and notes,
with their qualifiers: implied, mentioned, referenced, past...) with its detected ones and
returns an :class:`Audit` with three lists:

* **declared and found**, with where forewarn found each; a note when the declaration
  says less than the page shows ("declared as implied, but depicted on the page");
* **declared but not found**, said gently (:data:`NOT_FOUND_NOTE`): detection can miss;
* **found but not declared**, with the AO3 tag to add (``forewarn.render.ao3``).

It also says which of AO3's archive warnings the work calls for and does not declare
(graphic violence → "Graphic Depictions Of Violence", a death on the page → "Major
Character Death" if the character is major, sexual assault → "Rape/Non-Con", underage sex
→ "Underage Sex"), unless the author chose not to use archive warnings.

The JSON form (``Audit.to_dict``) has ``schema: "forewarn.audit/1"``; see ``docs/audit.md``.
Story text is quoted only with ``evidence=True``. The text form is
:func:`forewarn.render.terminal.render_audit`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from forewarn.declared import DeclaredWarning, archive_pieces
from forewarn.render.ao3 import (
    ARCHIVE_NONE,
    ARCHIVE_NOT_USED,
    additional_tags_line,
    ao3_tag,
    archive_requirements,
)
from forewarn.report import DetectedWarning, Report
from forewarn.taxonomy import Taxonomy, load_taxonomy, normalize
from forewarn.work import Work

if TYPE_CHECKING:
    from forewarn.scanner import Scanner

__all__ = [
    "NOT_FOUND_NOTE",
    "SCHEMA",
    "ArchiveNeed",
    "Audit",
    "DeclaredFound",
    "DeclaredNotFound",
    "Undeclared",
    "audit_report",
    "audit_work",
]

SCHEMA = "forewarn.audit/1"
NOT_FOUND_NOTE = (
    "forewarn did not find this in the text; detection can miss, "
    "and the author knows the story best"
)
SOURCE_LABELS = {
    "archive_warning": "archive warning",
    "freeform_tag": "tag",
    "content_notes": "content notes",
    "summary": "summary",
    "notes": "notes",
}
_MENTION_LIKE = frozenset({"implied", "mentioned", "referenced", "past"})
_SLIGHT = frozenset({"minor", "brief"})
_RANK = {"mentioned": 0, "depicted": 1, "graphic": 2}


@dataclass(frozen=True, slots=True)
class DeclaredFound:
    """A declared warning forewarn also found. ``note`` when the declaration understates it."""

    warning: DetectedWarning
    declared: tuple[DeclaredWarning, ...]
    note: str | None = None

    def to_dict(self, evidence: bool = False) -> dict[str, Any]:
        return _found(self.warning, evidence, declared_as=[
            _declaration(x) for x in self.declared], note=self.note)


@dataclass(frozen=True, slots=True)
class DeclaredNotFound:
    """A declared warning forewarn did not find (at the audit's confidence)."""

    id: str
    name: str
    declared: tuple[DeclaredWarning, ...]

    @property
    def note(self) -> str:
        return NOT_FOUND_NOTE

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name,
                "declared_as": [_declaration(x) for x in self.declared], "note": self.note}


@dataclass(frozen=True, slots=True)
class Undeclared:
    """A warning forewarn found that the work does not declare, with the AO3 tag to add."""

    warning: DetectedWarning
    tag: str

    def to_dict(self, evidence: bool = False) -> dict[str, Any]:
        return _found(self.warning, evidence, ao3_tag=self.tag)


@dataclass(frozen=True, slots=True)
class ArchiveNeed:
    """An AO3 archive warning the work calls for and does not declare."""

    archive: str
    warning: str
    name: str
    severity: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"archive_warning": self.archive, "because": self.warning, "name": self.name,
                "severity": self.severity, "message": self.message}


@dataclass(slots=True)
class Audit:
    """A work's declared warnings against its detected ones (see the module docstring)."""

    source: str | None
    title: str | None
    format: str
    word_count: int
    chapter_count: int
    min_confidence: float
    declared_and_found: list[DeclaredFound]
    declared_not_found: list[DeclaredNotFound]
    found_not_declared: list[Undeclared]
    archive_declared: list[str] = field(default_factory=list)
    archive_needed: list[ArchiveNeed] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def additional_tags(self) -> list[str]:
        """The AO3 tags to add: one per found-but-not-declared warning, strongest first."""
        out: list[str] = []
        for u in self.found_not_declared:
            if u.tag not in out:
                out.append(u.tag)
        return out

    def ao3_line(self) -> str:
        """:attr:`additional_tags` as one line to paste into AO3's "Additional Tags" field."""
        return additional_tags_line(self.additional_tags)

    def to_dict(self, evidence: bool = False) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "versions": dict(self.versions),
            "source": self.source,
            "title": self.title,
            "format": self.format,
            "word_count": self.word_count,
            "chapters": self.chapter_count,
            "min_confidence": self.min_confidence,
            "spoiler_free": not evidence,
            "declared_and_found": [x.to_dict(evidence) for x in self.declared_and_found],
            "declared_not_found": [x.to_dict() for x in self.declared_not_found],
            "found_not_declared": [x.to_dict(evidence) for x in self.found_not_declared],
            "archive_warnings": {
                "declared": list(self.archive_declared),
                "needed": [x.to_dict() for x in self.archive_needed],
            },
            "ao3_additional_tags": self.additional_tags,
        }

    def to_json(self, evidence: bool = False, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(evidence), ensure_ascii=False, indent=indent)


# ---------------------------------------------------------------------------------------


def audit_work(
    work: Work, scanner: Scanner | None = None, min_confidence: float | None = None
) -> Audit:
    """Scan ``work`` (with ``scanner``, default :class:`~forewarn.scanner.Scanner`) and audit it."""
    from forewarn.scanner import Scanner

    report = (scanner or Scanner()).scan_work(work, min_confidence=min_confidence)
    return audit_report(report, work.archive_warnings)


def audit_report(
    report: Report,
    archive_warnings: Sequence[str] = (),
    taxonomy: Taxonomy | None = None,
) -> Audit:
    """Audit a report. ``archive_warnings`` is the work's archive-warning field as written
    (``Work.archive_warnings``): empty when the work has none (not an AO3 work)."""
    tax = taxonomy or load_taxonomy()
    by_id: dict[str, list[DeclaredWarning]] = {}
    for d in report.declared:
        by_id.setdefault(d.id, []).append(d)

    found: list[DeclaredFound] = []
    missing: list[DeclaredNotFound] = []
    for w in report.warnings:
        if w.id in by_id:
            as_declared = tuple(by_id[w.id])
            found.append(DeclaredFound(w, as_declared, _understated(as_declared, w.severity)))
    for wid, decls in by_id.items():
        if report.get(wid) is None:
            missing.append(DeclaredNotFound(wid, decls[0].name, tuple(decls)))
    undeclared = [Undeclared(w, ao3_tag(w.id, w.severity))
                  for w in report.warnings if w.id not in by_id]

    archive = archive_pieces(archive_warnings, tax)
    return Audit(
        source=report.source,
        title=report.title,
        format=report.format,
        word_count=report.word_count,
        chapter_count=report.chapter_count,
        min_confidence=report.min_confidence,
        declared_and_found=found,
        declared_not_found=missing,
        found_not_declared=undeclared,
        archive_declared=archive,
        archive_needed=_archive_needs(report, archive, tax),
        versions=dict(report.versions),
    )


def _understated(decls: Sequence[DeclaredWarning], severity: str) -> str | None:
    """A note when every declaration qualifies the warning as weaker than what was found."""
    quals = [d.qualifier for d in decls]
    if not quals or any(q is None or q == "graphic" for q in quals):
        return None
    shown = "shown in graphic detail" if severity == "graphic" else "depicted on the page"
    if all(q in _MENTION_LIKE for q in quals) and _RANK[severity] >= _RANK["depicted"]:
        return f"declared as {quals[0]}, but {shown}"
    if all(q in _MENTION_LIKE | _SLIGHT for q in quals) and severity == "graphic":
        return f"declared as {quals[0]}, but {shown}"
    return None


def _archive_needs(report: Report, archive: list[str], tax: Taxonomy) -> list[ArchiveNeed]:
    keys = {normalize(a) for a in archive}
    if any("chose not to use" in k or "choose not to use" in k for k in keys):
        return []  # a valid choice on AO3: it warns for everything
    declared_ids: set[str] = set()
    for a in archive:
        entry = tax.ao3_archive_warning(a)
        if entry is not None and entry[0] is not None:
            declared_ids.add(entry[0].id)
    said_none = normalize(ARCHIVE_NONE) in keys
    out: list[ArchiveNeed] = []
    seen: set[str] = set()
    for w in report.warnings:
        for req in archive_requirements(w.id, w.severity):
            entry = tax.ao3_archive_warning(req.archive)
            covers = entry[0].id if entry is not None and entry[0] is not None else None
            if req.archive in seen or covers in declared_ids:
                continue
            seen.add(req.archive)
            what = f"{w.name.lower()} ({w.severity})"
            hedge = f" {req.hedge}" if req.hedge else ""
            alternative = f' (or "{ARCHIVE_NOT_USED}")'
            if said_none:
                message = (f'declared "{ARCHIVE_NONE}", but forewarn found {what}: '
                           f'AO3 asks for "{req.archive}"{hedge}')
            elif archive:
                message = f'forewarn found {what}: AO3 asks for "{req.archive}"{hedge} as well'
            else:
                message = (f"forewarn found {what}: on AO3 that calls for the archive warning "
                           f'"{req.archive}"{hedge}')
            out.append(ArchiveNeed(req.archive, w.id, w.name, w.severity, message + alternative))
    return out


def _found(w: DetectedWarning, evidence: bool, **extra: Any) -> dict[str, Any]:
    """A found warning as the report has it, less ``declared`` (the audit's lists say it),
    with ``extra``."""
    d = w.to_dict(evidence)
    d.pop("declared", None)
    d.update(extra)
    return d


def _declaration(d: DeclaredWarning) -> dict[str, Any]:
    return {"source": d.source, "text": d.text, "qualifier": d.qualifier,
            "severity": d.severity}
