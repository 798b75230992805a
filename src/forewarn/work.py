"""The plain data that flows through forewarn: a Work, its chapters and paragraphs, and passages.

Offsets are always character offsets (Python ``str`` indices):

* ``Paragraph.start``/``end`` index into ``Chapter.text``;
* ``Chapter.offset`` is where ``Chapter.text`` begins in ``Work.source_text`` (the decoded
  input for text and Markdown; the extracted story text for HTML and EPUB), so
  ``chapter.offset + paragraph.start`` addresses the same characters in the whole work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forewarn.coverage import Coverage


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One paragraph of a chapter: ``chapter.text[start:end] == text``."""

    text: str
    start: int
    end: int


@dataclass(slots=True)
class Chapter:
    """A chapter: 1-based ``number``, optional title, its text and its paragraphs."""

    number: int
    title: str | None
    text: str
    paragraphs: list[Paragraph]
    offset: int = 0

    @classmethod
    def from_paragraphs(
        cls, number: int, title: str | None, paragraphs: list[str], offset: int = 0
    ) -> Chapter:
        """Build a chapter whose text is the paragraphs joined by blank lines."""
        parts: list[Paragraph] = []
        pos = 0
        for text in paragraphs:
            text = text.strip()
            if not text:
                continue
            if parts:
                pos += 2  # the "\n\n" separator
            parts.append(Paragraph(text, pos, pos + len(text)))
            pos += len(text)
        return cls(number, title, "\n\n".join(p.text for p in parts), parts, offset)


@dataclass(slots=True)
class Work:
    """A work of fiction as every reader delivers it.

    ``archive_warnings``, ``freeform_tags`` and ``content_notes`` are what the author
    declared (AO3 archive warnings, AO3 additional tags, explicit "Warnings:" style
    header lines); ``tags`` keeps every other labelled tag field (fandom, relationship,
    character, category...) by lower-case field name.
    """

    chapters: list[Chapter]
    title: str | None = None
    author: str | None = None
    summary: str | None = None
    notes: str | None = None
    rating: str | None = None
    archive_warnings: list[str] = field(default_factory=list)
    freeform_tags: list[str] = field(default_factory=list)
    content_notes: list[str] = field(default_factory=list)
    tags: dict[str, list[str]] = field(default_factory=dict)
    source: str | None = None
    format: str = "text"
    source_text: str = ""
    encoding: str | None = None
    # what the reader read and did not read (forewarn.coverage); None for a Work built
    # by hand, which is taken as read in full
    coverage: Coverage | None = None

    @property
    def word_count(self) -> int:
        return sum(len(ch.text.split()) for ch in self.chapters)


@dataclass(frozen=True, slots=True)
class Passage:
    """A window of one or more consecutive paragraphs (or part of a long paragraph).

    ``start``/``end`` index into the chapter's text; ``paragraph`` is the index (0-based)
    of the paragraph the passage starts in; ``index`` is the passage's position in the work.

    A ``title`` passage is the chapter's title, read as a passage of its own before the
    chapter's first: its ``text`` is the title, not in the chapter's text, so its span is
    empty (``start == end == 0``) and ``paragraph`` is 0.
    """

    index: int
    chapter: int
    paragraph: int
    start: int
    end: int
    text: str
    chapter_position: float  # where the passage starts in its chapter, 0..1
    title: bool = False


@dataclass(frozen=True, slots=True)
class Hit:
    """One detector's claim: ``warning`` is present at ``passage`` (span in chapter text).

    ``score`` is in [0, 1]; ``reason`` is short and machine-readable, e.g.
    ``"lexicon:miscarriage:lost the baby"`` or ``"embedding:head"``; ``severity`` is the
    detector's estimate (``mentioned``/``depicted``/``graphic``) or ``None``.
    """

    warning: str
    passage: int
    chapter: int
    paragraph: int
    start: int
    end: int
    score: float
    reason: str
    detector: str
    severity: str | None = None


SEVERITY_NAMES = ("", "mentioned", "depicted", "graphic")  # by rank 1..3


@dataclass(frozen=True)
class PassageScores:
    """A scoring detector's reading of passages: a probability for every passage it was
    given and every warning it knows, with no threshold applied (thresholds belong to the
    work aggregator and to presentation).

    ``passages``: the passages' indices, one row each, in the order given; ``probs``
    ``[rows, warnings]`` in [0, 1]; ``severity`` ``[rows, warnings]``: 1 mentioned,
    2 depicted, 3 graphic (the detector's estimate were the warning present).
    """

    detector: str
    warnings: tuple[str, ...]
    passages: tuple[int, ...]
    probs: Any  # numpy.ndarray, float32
    severity: Any  # numpy.ndarray, int8

    def hit(self, row: int, col: int, passage: Passage) -> Hit:
        """The score of one passage and warning as a :class:`Hit` (evidence, explanation)."""
        wid = self.warnings[col]
        return Hit(wid, passage.index, passage.chapter, passage.paragraph, passage.start,
                   passage.end, float(self.probs[row, col]), f"{self.detector}:{wid}",
                   self.detector, SEVERITY_NAMES[int(self.severity[row, col])])

