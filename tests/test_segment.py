"""Segmentation: passages identical to the original algorithm, and linear on hostile text.

The annotation corpus addresses passages by their offsets, so the linear rewrite of
``_split_long`` must cut exactly where the original (quadratic) one did: a copy of the
original is kept here as the reference.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forewarn import segment as seg
from forewarn.ingest import read_path
from forewarn.work import Chapter, Work

ROOT = Path(__file__).resolve().parent.parent
STORIES = [
    *sorted((ROOT / "tests" / "fixtures" / "stories").glob("*.txt")),
    ROOT / "examples" / "the-lighthouse-keeper.txt",
]


# --- the original algorithm (before issue 13), the reference ---------------------------------


def _reference_split_long(
    chapter: Chapter, start: int, end: int, max_words: int
) -> Iterator[tuple[int, int]]:
    chunk_start, words = start, 0
    text = chapter.text
    for s, e in seg._sentence_spans(text, start, end):
        n = len(text[s:e].split())
        if words and words + n > max_words:
            yield chunk_start, s
            chunk_start, words = s, 0
        words += n
        while words > 3 * max_words:
            cut = _reference_cut_at_word(text, chunk_start, max_words)
            yield chunk_start, cut
            chunk_start = cut
            words = len(text[chunk_start:e].split())
    if chunk_start < end:
        yield chunk_start, end


def _reference_cut_at_word(text: str, start: int, n_words: int) -> int:
    count, i, in_word = 0, start, False
    while i < len(text):
        if text[i].isspace():
            if in_word:
                count += 1
                if count >= n_words:
                    return i
            in_word = False
        else:
            in_word = True
        i += 1
    return len(text)


def _passages(work: Work, target: int, maximum: int) -> list[tuple[int, int, int, int, str]]:
    return [
        (p.chapter, p.paragraph, p.start, p.end, p.text)
        for p in seg.segment(work, target_words=target, max_words=maximum)
    ]


def _both(
    work: Work, target: int, maximum: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[list, list]:
    new = _passages(work, target, maximum)
    with monkeypatch.context() as patch:
        patch.setattr(seg, "_split_long", _reference_split_long)
        old = _passages(work, target, maximum)
    return new, old


def _work(paragraphs: list[str]) -> Work:
    return Work([Chapter.from_paragraphs(1, None, paragraphs)])


# --- identical passages ------------------------------------------------------------------------

_PIECES = st.sampled_from(
    ["word", "tide", "e.g.", "Mr.", "a", "\u00e9t\u00e9", "\u201cHi!\u201d", "no\u2026",
     "end.", "why?", "(so)", "x.y.z", "'q'", "...", "!", "\u2019", "ok.)"]
)
_SPACES = st.sampled_from([" ", " ", " ", "  ", "\n", "\t", "\u00a0", "\u2003", "\x1c", ". ", "? "])


@st.composite
def _paragraph(draw: st.DrawFn) -> str:
    n = draw(st.integers(min_value=1, max_value=120))
    parts = []
    for _ in range(n):
        parts.append(draw(_PIECES))
        parts.append(draw(_SPACES))
    return "".join(parts).strip() or "word"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    paragraphs=st.lists(_paragraph(), min_size=1, max_size=5),
    target=st.integers(min_value=1, max_value=12),
    extra=st.integers(min_value=0, max_value=10),
)
def test_same_passages_as_the_original_on_generated_text(
    paragraphs: list[str], target: int, extra: int
) -> None:
    work = _work(paragraphs)
    with pytest.MonkeyPatch.context() as monkeypatch:
        new, old = _both(work, target, target + extra, monkeypatch)
    assert new == old


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab .!?\u2026\"')\n\t\u00a0\u2029"), min_size=1,
                    max_size=400),
       target=st.integers(min_value=1, max_value=6))
def test_same_passages_as_the_original_on_arbitrary_characters(text: str, target: int) -> None:
    if not text.strip():
        return
    work = _work([text])
    with pytest.MonkeyPatch.context() as monkeypatch:
        new, old = _both(work, target, target + 2, monkeypatch)
    assert new == old


@pytest.mark.parametrize("path", STORIES, ids=lambda p: p.name)
def test_same_passages_as_the_original_on_the_fixture_stories(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = read_path(path)
    for target, maximum in ((90, 140), (20, 30), (5, 8)):
        new, old = _both(work, target, maximum, monkeypatch)
        assert new == old


def test_same_passages_on_long_unpunctuated_paragraphs(monkeypatch: pytest.MonkeyPatch) -> None:
    words = ["tide", "stone", "gull", "e.g.", "harbour", "lamp\u00a0rope", "salt", "boat"]
    body = " ".join(words[i % len(words)] for i in range(3000))
    work = _work(["A short opening line.", body, body + ". And then it ended. Quietly.", "Fin."])
    new, old = _both(work, 90, 140, monkeypatch)
    assert new == old
    assert len(new) > 30


# --- linear time -------------------------------------------------------------------------------


def test_long_paragraph_without_punctuation_is_linear() -> None:
    # 2 MB in one paragraph with no sentence end: the original took about 30 s
    words = ["tide", "stone", "gull", "harbour", "lamp", "rope", "salt", "night", "boat", "keep"]
    body = " ".join(words[i % len(words)] for i in range(378_000))
    assert len(body) > 2_000_000
    work = _work([body])
    started = time.perf_counter()
    passages = seg.segment(work)
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"segmenting took {elapsed:.1f} s"
    # a cut every 90 words while more than 3 x 90 are left
    assert len(passages) == (378_000 - 270) // 90 + 1
    assert [len(p.text.split()) for p in passages[-2:]] == [90, 270]


# --- chapter titles -------------------------------------------------------------------------


def test_the_scanner_reads_a_chapter_title_as_a_passage_of_its_own_before_its_text():
    from forewarn.combine import ring_keys

    chapters = [Chapter.from_paragraphs(1, "Chapter 1", ["It was quiet."]),
                Chapter.from_paragraphs(2, "Chapter 2: The Night He Hanged Himself",
                                        ["The cat sat on the wall.", "The beans grew."]),
                Chapter.from_paragraphs(3, "CHAPTER XLIV.", ["Rain."])]
    work = Work(chapters)
    plain = seg.segment(work)
    assert not any(p.title for p in plain)  # the corpus's passages, as before
    read = seg.segment(work, titles=True)
    assert [(p.chapter, p.title, p.text) for p in read] == [
        (1, False, "It was quiet."),
        (2, True, "Chapter 2: The Night He Hanged Himself"),  # a bare label gives none
        (2, False, "The cat sat on the wall.\n\nThe beans grew."),
        (3, False, "Rain.")]
    title = read[1]
    assert (title.start, title.end, title.paragraph, title.index) == (0, 0, 0, 1)
    assert [p.index for p in read] == list(range(4))
    # read alone: no passage is within five rings of the title, nor the title of any
    keys = ring_keys(read)
    assert all(abs(keys[1] - k) > 5 for i, k in enumerate(keys) if i != 1)


@pytest.mark.parametrize("title, read", [("Chapter 12 - Mild", True), ("Book III, Chapter 2", False),
                                         ("Part the Second", False), ("Prologue", False),
                                         ("IV. The Civil War", True), ("", False)])
def test_a_bare_chapter_label_is_not_read_as_a_title(title: str, read: bool):
    assert (seg.title_text(Chapter(1, title, "x", [])) is not None) is read


def test_a_lexicon_hit_in_a_title_has_an_empty_span_at_the_chapter_start():
    from forewarn.detect.lexicon import LexiconDetector

    work = Work([Chapter.from_paragraphs(1, "The Autopsy of My Brother",
                                         ["The gulls stood on the harbour wall."])])
    hits = LexiconDetector().detect(seg.segment(work, titles=True))
    [hit] = [h for h in hits if h.warning == "dissection"]
    assert (hit.passage, hit.start, hit.end) == (0, 0, 0)
