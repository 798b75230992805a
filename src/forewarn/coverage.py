"""What a reader read: story text, metadata, and what it did not read, and why.

A "safe" answer is only honest when every word of the story was read. Readers skip things
on purpose (a table of contents, a menu, a preface page of ``Key: value`` lines) and by
mistake (a container they did not expect). So coverage is not taken on the readers' word:
it is *audited*. Each reader hands over the text a person would see in the input (every
text node of every content document, scripts, styles and comments aside) and the audit
subtracts, word by word, what ended up in the Work as story or metadata. What is left is
unread, and the reader's reasons (a document it skipped, a file missing from the archive)
say why.

* Navigation (the short link items of a table of contents, a menu, a button label) may be
  skipped; readers class a block as navigation only when it is short, so prose inside a
  ``<nav>`` is content.
* A work is **fully read** when no more than :data:`UNREAD_TOLERANCE` words are unread and
  no document of the work was missing. ``check`` never calls a work that is not fully read
  safe.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forewarn.language import Languages
    from forewarn.work import Work

#: Unread words a work may have and still be fully read: stray markup words ("Next",
#: "Home") outside navigation. A sentence is more than this.
UNREAD_TOLERANCE = 3

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The words of ``text`` as the audit compares them (NFKC, case-folded)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something of the input that was not read as story: where, why, how many words."""

    where: str
    reason: str
    words: int

    def to_dict(self) -> dict[str, Any]:
        return {"where": self.where, "reason": self.reason, "words": self.words}


@dataclass(frozen=True, slots=True)
class Coverage:
    """The account of one work: words read as story and as metadata, words not read."""

    story_words: int
    metadata_words: int = 0
    unread_words: int = 0
    navigation_words: int = 0
    skipped: tuple[Skipped, ...] = ()
    missing_documents: tuple[str, ...] = ()

    @property
    def fully_read(self) -> bool:
        return self.unread_words <= UNREAD_TOLERANCE and not self.missing_documents

    def reason(self) -> str | None:
        """Why the work is not fully read, in one line (None when it is)."""
        if self.fully_read:
            return None
        parts = []
        if self.unread_words > UNREAD_TOLERANCE:
            where = [s for s in self.skipped if s.words and s.where != "navigation"]
            detail = "; ".join(f"{s.where}: {s.reason}" for s in where[:3])
            parts.append(f"{self.unread_words:,} words were not read as story"
                         + (f" ({detail})" if detail else ""))
        if self.missing_documents:
            parts.append(f"{len(self.missing_documents)} document(s) of the book could not "
                         f"be read ({', '.join(self.missing_documents[:3])})")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fully_read": self.fully_read,
            "story_words": self.story_words,
            "metadata_words": self.metadata_words,
            "unread_words": self.unread_words,
            "navigation_words": self.navigation_words,
            "skipped": [s.to_dict() for s in self.skipped],
            "missing_documents": list(self.missing_documents),
            "reason": self.reason(),
        }


@dataclass(slots=True)
class Source:
    """The text a person would see in one part of the input, and how the reader treated it.

    ``kind`` is ``"content"`` (should have been read), ``"navigation"`` (may be skipped);
    ``reason`` is the reader's reason when it skipped the part on purpose.
    """

    where: str
    text: str
    kind: str = "content"
    reason: str | None = None


@dataclass(slots=True)
class Ledger:
    """What a reader collects while it reads; :func:`audit` turns it into a Coverage."""

    sources: list[Source] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def add(self, where: str, text: str, kind: str = "content", reason: str | None = None) -> None:
        self.sources.append(Source(where, text, kind, reason))


def metadata_texts(work: Work) -> list[str]:
    out = [work.title or "", work.author or "", work.summary or "", work.notes or "",
           work.rating or ""]
    out += work.archive_warnings + work.freeform_tags + work.content_notes
    for name, values in work.tags.items():
        out.append(name)
        out += values
    return [t for t in out if t]


def audit(work: Work, ledger: Ledger | None) -> Coverage:
    """Compare what a person would see (the ledger) with what the work holds."""
    story: Counter[str] = Counter()
    for ch in work.chapters:
        story.update(words(ch.text))
        if ch.title:
            story.update(words(ch.title))
    meta: Counter[str] = Counter()
    for text in metadata_texts(work):
        meta.update(words(text))
    story_words = sum(len(ch.text.split()) for ch in work.chapters)
    meta_words = sum(len(t.split()) for t in metadata_texts(work))
    if ledger is None:
        return Coverage(story_words, meta_words)
    remaining = story + meta
    skipped: list[Skipped] = []
    unread = navigation = 0
    # navigation may be skipped: its words count as accounted for wherever they appear
    for source in ledger.sources:
        if source.kind == "navigation":
            seen = Counter(words(source.text))
            remaining.update(seen)
            navigation += sum(seen.values())
    if navigation:
        skipped.append(Skipped("navigation", "menus and tables of contents", navigation))
    for source in ledger.sources:
        if source.kind == "navigation":
            continue
        lost = 0
        for w, n in Counter(words(source.text)).items():
            have = remaining[w]
            take = min(have, n)
            remaining[w] = have - take
            lost += n - take
        if lost:
            unread += lost
            skipped.append(Skipped(source.where, source.reason or "text not read as story", lost))
    return Coverage(story_words, meta_words, unread, navigation, tuple(skipped),
                    tuple(ledger.missing))


def gap(coverage: Coverage | None, languages: Languages | None) -> tuple[str, str] | None:
    """``(kind, reason)`` when forewarn cannot vouch for every word of a work, else None.

    ``kind`` is ``"language"`` (mostly in a language forewarn does not judge) or
    ``"coverage"`` (text not read as story, documents missing, or passages in a language
    forewarn does not judge)."""
    from forewarn.language import language_name

    if languages is not None and not languages.judgeable:
        names = ", ".join(language_name(c) for c in list(languages.not_judged)[:2])
        return ("language", f"the work is in {names}; forewarn judges English only")
    if coverage is not None and not coverage.fully_read:
        return ("coverage", coverage.reason() or "not every word was read")
    if languages is not None:
        other = languages.not_judged
        if sum(other.values()) > UNREAD_TOLERANCE:
            parts = ", ".join(f"{n:,} words in {language_name(c)}" for c, n in other.items())
            return ("coverage", f"{parts} not judged (forewarn judges English only)")
    return None


def checked(found: tuple[str, str] | None) -> dict[str, Any]:
    """The ``checked`` object of the report and verdict JSON."""
    return {"complete": found is None, "kind": found[0] if found else None,
            "reason": found[1] if found else None}


def unread_notice(work: Work) -> str | None:
    """What forewarn did not read or cannot judge in ``work``, for a reading copy's header
    (None when it read every word in a language it judges)."""
    from forewarn.language import languages
    from forewarn.segment import segment

    coverage = work.coverage if work.coverage is not None else audit(work, None)
    found = gap(coverage, languages(p.text for p in segment(work)))
    if found is None:
        return None
    return ("forewarn did not check all of this work, so scenes may be left open that it "
            f"would have collapsed: {found[1]}.")
