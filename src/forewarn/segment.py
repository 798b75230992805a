"""Cut a Work into Passages: windows of whole paragraphs, long paragraphs split at sentences.

A passage is what a detector reads at once: big enough to carry context (a short line of
dialogue alone says little), small enough that evidence points somewhere useful. Short
consecutive paragraphs are packed up to ``target_words``; a paragraph longer than
``max_words`` is split at sentence ends. Offsets always index into the chapter's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice

from forewarn.work import Chapter, Passage, Work

_SENTENCE = re.compile(r"[^.!?\u2026]*(?:[.!?\u2026]+[\"'\u201d\u2019)\]]*|$)\s*")

_WORD = re.compile(r"\S+")  # \s is exactly str.isspace(), as str.split() uses


def _sentence_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for m in _SENTENCE.finditer(text, start, end):
        if m.end() == m.start():
            if m.end() >= end:
                break
            continue
        yield pos, m.end()
        pos = m.end()
    if pos < end:
        yield pos, end


def _split_long(
    chapter: Chapter, start: int, end: int, max_words: int
) -> Iterator[tuple[int, int]]:
    """Split chapter.text[start:end] into chunks of whole sentences of at most ~max_words.

    Linear in the length of the paragraph: a sentence longer than 3x ``max_words`` (no
    punctuation) is cut every ``max_words`` words, walking its words once.
    """
    chunk_start, words = start, 0
    text = chapter.text
    for s, e in _sentence_spans(text, start, end):
        n = len(text[s:e].split())
        if words and words + n > max_words:
            yield chunk_start, s
            chunk_start, words = s, 0
        words += n
        if words > 3 * max_words:
            # a single sentence longer than 3x max_words (no punctuation): cut on whitespace
            # every max_words words. A cut before e falls on the whitespace after a word, so
            # text[cut:e] holds exactly max_words words fewer: count once, not per cut.
            exact = len(text[chunk_start:e].split())
            ends = (m.end() for m in _WORD.finditer(text, chunk_start))
            while words > 3 * max_words:
                cut = next(islice(ends, max_words - 1, None), len(text))
                yield chunk_start, cut
                chunk_start = cut
                exact -= max_words
                words = exact if cut < e else 0
    if chunk_start < end:
        yield chunk_start, end


#: The words of a bare chapter label ("Chapter XII.", "Part 2", "Book the First"): a title
#: of nothing else says nothing and is not read as a passage.
_LABEL_WORD = re.compile(
    r"(?:chapter|chap|part|book|volume|vol|section|act|scene|prologue|epilogue|interlude|"
    r"the|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|no|"
    r"m{0,4}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})|\d+)", re.IGNORECASE)


def is_bare_label(title: str | None) -> bool:
    """Whether ``title`` says nothing but a chapter's label ("CHAPTER XLIV.", "Part the
    Second"), or nothing at all."""
    words = re.findall(r"\w+", title or "")
    return all(_LABEL_WORD.fullmatch(w) for w in words)


def title_text(chapter: Chapter) -> str | None:
    """The chapter's title as a title passage reads it (whitespace folded), or None when it
    has none or it is a bare label."""
    title = " ".join((chapter.title or "").split())
    return None if is_bare_label(title) else title


def segment(work: Work, target_words: int = 90, max_words: int = 140, *,
            titles: bool = False) -> list[Passage]:
    """Return the work's passages in reading order, numbered from 0. With ``titles`` (the
    scanner's reading), each chapter's title passage comes before its text's, where the
    title says more than its label (see :class:`Passage`); without, the text's alone (the
    annotated corpus's passages, whose ids are their spans in the text)."""
    passages: list[Passage] = []
    for chapter in work.chapters:
        title = title_text(chapter) if titles else None
        if title is not None:
            passages.append(Passage(index=len(passages), chapter=chapter.number, paragraph=0,
                                    start=0, end=0, text=title, chapter_position=0.0,
                                    title=True))
        length = max(1, len(chapter.text))
        for s, e, paragraph in _chapter_windows(chapter, target_words, max_words):
            passages.append(
                Passage(
                    index=len(passages),
                    chapter=chapter.number,
                    paragraph=paragraph,
                    start=s,
                    end=e,
                    text=chapter.text[s:e],
                    chapter_position=s / length,
                )
            )
    return passages


def _chapter_windows(
    chapter: Chapter, target_words: int, max_words: int
) -> Iterator[tuple[int, int, int]]:
    """(start, end, first paragraph index) of each passage of one chapter."""
    group: list[int] = []  # paragraph indices waiting to be packed
    words = 0
    for i, para in enumerate(chapter.paragraphs):
        n = len(para.text.split())
        if n > max_words or (group and words + n > target_words):
            if group:
                yield (
                    chapter.paragraphs[group[0]].start,
                    chapter.paragraphs[group[-1]].end,
                    group[0],
                )
            group, words = [], 0
        if n > max_words:
            for s, e in _split_long(chapter, para.start, para.end, target_words):
                body = chapter.text[s:e]
                lead = len(body) - len(body.lstrip())
                stripped = body.strip()
                if stripped:
                    yield s + lead, s + lead + len(stripped), i
            continue
        group.append(i)
        words += n
    if group:
        yield chapter.paragraphs[group[0]].start, chapter.paragraphs[group[-1]].end, group[0]
