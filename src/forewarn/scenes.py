"""Flagged scenes: the stretches of a story a reader asked to have collapsed.

A *scene* is a run of whole paragraphs in one chapter. It is built from the evidence of
the report: every evidence item of a warning the reader's profile avoids (at or above the
profile's severity for it) flags the paragraphs its character span touches. Paragraphs are
the unit because they hold whole sentences, so a scene never starts or ends mid-sentence.
Flagged paragraphs of the same chapter that are at most ``max_gap`` unflagged paragraphs
apart are merged into one scene, which carries every warning of its parts (by the
reader's label) and the strongest severity of each.

Without a profile, every evidence item of every reported warning flags its paragraphs,
labelled by the taxonomy name.

>>> from forewarn.work import Chapter, Work
>>> from forewarn.report import Evidence, DetectedWarning, Report
>>> chapter = Chapter.from_paragraphs(1, None, ["Calm.", "Blood everywhere.", "Calm again."])
>>> ev = Evidence(1, 1, 7, 24, 7, 24, 0.5, 0.9, "depicted", ("lexicon",), "x", "")
>>> warning = DetectedWarning("blood-gore", "Blood and gore", "violence", 0.9, "depicted",
...                           False, ("lexicon",), (), (ev,))
>>> report = Report(None, "text", None, 5, 1, [warning], [], 0.5)
>>> [scene] = flagged_scenes(Work([chapter]), report)
>>> scene.first_paragraph, scene.last_paragraph, scene.warnings, scene.id
(1, 1, (('Blood and gore', 'depicted'),), 'scene-1')
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from forewarn.taxonomy import SEVERITIES, severity_rank

if TYPE_CHECKING:
    from forewarn.profile import Profile
    from forewarn.report import DetectedWarning, Evidence, Report
    from forewarn.work import Chapter, Work

__all__ = ["DEFAULT_MAX_GAP", "Scene", "flagged_scenes", "scene_at", "without_flagged_titles"]

DEFAULT_MAX_GAP = 1
"""Flagged paragraphs at most this many unflagged paragraphs apart make one scene."""


@dataclass(frozen=True, slots=True)
class Scene:
    """A collapsed scene: paragraphs ``first_paragraph``..``last_paragraph`` (0-based,
    inclusive) of chapter ``chapter`` (1-based).

    ``warnings`` holds ``(label, severity)`` pairs, strongest first; the label is the
    reader's alias for the warning or its taxonomy name. ``id`` (``scene-1``, ``scene-2``,
    ...) numbers the scenes in reading order and is used for anchors.
    """

    chapter: int
    first_paragraph: int
    last_paragraph: int
    warnings: tuple[tuple[str, str], ...]
    id: str

    @property
    def number(self) -> int:
        """The scene's 1-based position in reading order."""
        return int(self.id.rsplit("-", 1)[-1])

    @property
    def severity(self) -> str:
        """The strongest severity among the scene's warnings."""
        return max((s for _, s in self.warnings), key=severity_rank, default=SEVERITIES[0])

    @property
    def after_id(self) -> str:
        """The id of the anchor right after the scene (``after-scene-N``)."""
        return f"after-{self.id}"

    def covers(self, chapter: int, paragraph: int) -> bool:
        """Whether paragraph ``paragraph`` of chapter ``chapter`` is in the scene."""
        return chapter == self.chapter and self.first_paragraph <= paragraph <= self.last_paragraph


@dataclass(slots=True)
class _Span:
    """Flagged paragraphs being merged: first..last and label -> strongest severity."""

    first: int
    last: int
    warnings: dict[str, str]

    def add(self, label: str, severity: str) -> None:
        old = self.warnings.get(label)
        if old is None or severity_rank(severity) > severity_rank(old):
            self.warnings[label] = severity


def flagged_scenes(
    work: Work,
    report: Report,
    profile: Profile | None = None,
    *,
    max_gap: int = DEFAULT_MAX_GAP,
) -> list[Scene]:
    """The scenes of ``work`` to collapse for ``profile``, in reading order.

    With a profile, a warning counts when ``profile.triggered(report)`` lists it, and
    each of its evidence items counts when ``profile.avoids(warning, item severity)``
    (so a reader who avoids only *depicted* violence keeps the passages that merely
    mention it). Without a profile every evidence item of every reported warning counts.
    ``max_gap`` (0 or more) is how many unflagged paragraphs may separate two flagged
    stretches of a chapter that still become one scene.
    """
    if max_gap < 0:
        raise ValueError("max_gap must be 0 or more")
    flags: dict[int, list[tuple[int, int, str, str]]] = {}
    bounds: dict[int, _Bounds] = {}
    for warning, label, evidence in _flagged_evidence(report, profile):
        if not 1 <= evidence.chapter <= len(work.chapters):
            continue
        if evidence.chapter not in bounds:
            bounds[evidence.chapter] = _Bounds(work.chapters[evidence.chapter - 1])
        paragraphs = bounds[evidence.chapter].span(evidence)
        if paragraphs is None:
            continue
        severity = evidence.severity if evidence.severity in SEVERITIES else warning.severity
        flags.setdefault(evidence.chapter, []).append((*paragraphs, label, severity))
    scenes: list[Scene] = []
    for chapter_number in sorted(flags):
        for merged in _merge(flags[chapter_number], max_gap):
            warnings = sorted(merged.warnings.items(), key=lambda item: -severity_rank(item[1]))
            scenes.append(
                Scene(chapter_number, merged.first, merged.last, tuple(warnings),
                      f"scene-{len(scenes) + 1}")
            )
    return scenes


def without_flagged_titles(work: Work, report: Report, profile: Profile | None = None) -> Work:
    """``work`` as a reading copy shows it: a chapter whose title is evidence that flags
    (as :func:`flagged_scenes` counts it) loses its title, so that its heading reads
    ``Chapter N``, and so does the work's title where it is the same text. The same
    evidence collapses the chapter's first paragraph, whose notice names the warning.
    ``work`` itself is not changed."""
    flagged = {evidence.chapter for _, _, evidence in _flagged_evidence(report, profile)
               if evidence.title}
    if not flagged:
        return work
    hidden = {" ".join((ch.title or "").split()) for ch in work.chapters if ch.number in flagged}
    chapters = [replace(ch, title=None) if ch.number in flagged else ch
                for ch in work.chapters]
    # a reader may have taken the work's title from that heading (a Markdown story with
    # one heading): it goes too (review 20)
    title = None if " ".join((work.title or "").split()) in hidden else work.title
    return replace(work, chapters=chapters, title=title)


def scene_at(scenes: Iterable[Scene], chapter: int, paragraph: int) -> Scene | None:
    """The scene that covers paragraph ``paragraph`` of chapter ``chapter``, if any."""
    return next((s for s in scenes if s.covers(chapter, paragraph)), None)


def _flagged_evidence(
    report: Report, profile: Profile | None
) -> Iterable[tuple[DetectedWarning, str, Evidence]]:
    """``(warning, label, evidence)`` for every evidence item that flags a passage."""
    if profile is None:
        for warning in report.warnings:
            for evidence in warning.evidence:
                yield warning, warning.name, evidence
        return
    seen: set[str] = set()
    for warning, _entry in profile.triggered(report):
        if warning.id in seen:
            continue
        seen.add(warning.id)
        label = profile.label(warning.id)
        for evidence in warning.evidence:
            severity = evidence.severity if evidence.severity in SEVERITIES else warning.severity
            if profile.avoids(warning.id, severity) is not None:
                yield warning, label, evidence


class _Bounds:
    """A chapter's paragraph starts and ends, for finding the paragraphs a span touches."""

    def __init__(self, chapter: Chapter) -> None:
        self.starts = [p.start for p in chapter.paragraphs]
        self.ends = [p.end for p in chapter.paragraphs]

    def span(self, evidence: Evidence) -> tuple[int, int] | None:
        """The paragraphs (first, last index) the evidence's character span touches.

        Paragraphs are in order and do not overlap: the first is the first one ending
        after the span's start, the last the last one starting before its end. Falls back
        to the evidence's own paragraph index when the span touches none (an offset that
        points between paragraphs or past the end).
        """
        end = max(evidence.end, evidence.start + 1)
        first = bisect_right(self.ends, evidence.start)
        last = bisect_left(self.starts, end) - 1
        if first <= last:
            return first, last
        if 0 <= evidence.paragraph < len(self.starts):
            return evidence.paragraph, evidence.paragraph
        return None


def _merge(flags: Sequence[tuple[int, int, str, str]], max_gap: int) -> list[_Span]:
    """Merge flagged paragraph ranges whose gap is at most ``max_gap`` paragraphs."""
    spans: list[_Span] = []
    for first, last, label, severity in sorted(flags, key=lambda f: (f[0], f[1])):
        if spans and first - spans[-1].last - 1 <= max_gap:
            span = spans[-1]
            span.last = max(span.last, last)
        else:
            span = _Span(first, last, {})
            spans.append(span)
        span.add(label, severity)
    return spans
