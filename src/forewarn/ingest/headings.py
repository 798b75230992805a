"""Chapter headings that only their context makes headings.

``is_chapter_heading`` knows a line by its words ("Chapter 3", "PART II", "Prologue"). Many
books, and most public-domain ones, head their chapters otherwise:

- a numeral alone on its line, or a numeral and a title in capitals (``I``, ``12.``,
  ``IV. THE CYLINDER OPENS.``). A lone "I" could be a word, so such lines count only as a
  sequence: standing alone between blank lines, numbered mostly one after another from 1
  (a numbering may start again at 1, as books or parts do), at least three of them;
- the titles a table of contents lists (an anthology's stories: ``THE SISTERS``), where the
  same titles later stand alone between blank lines, in the listed order, at least three.

:func:`context_headings` finds both in one pass over the lines and returns the line
starts it takes as headings, with their titles. It never looks inside a line longer than a
heading can be, so a novel costs one ``split`` and a few comparisons per short line.

A text that heads any chapter with the word ("Chapter 1", "CHAPTER I") has said how it heads
its chapters: its numbered lines are then sections within chapters and its title lines
chapter subtitles, so neither rule applies to it.

**Prose in a heading.** A chapter title is read but never scanned for warnings, so a heading
must not swallow story prose. :func:`prose_start` decides, for the text of a heading line
(a plain-text chapter line, a Markdown ``#``/``##`` or setext heading, a heading found by
context), where its prose begins. The heading is split into a *label*, a leading
``Chapter 2``/``Part III``/``Prologue`` (with its ``:``, ``.``, ``-`` or dash separator) or a
numeral with a stop (``IV.``, ``12.``), and the *rest* (the whole heading when it has no
label). The rest is **prose** when

- it has more than :data:`MAX_TITLE_WORDS` (12) words, or
- it holds a sentence of more than :data:`MAX_SENTENCE_WORDS` (4) words that ends in
  ``.``, ``!``, ``?`` or ``…`` (closing quotes or brackets may follow the stop), unless it
  is set in capitals or title case, as old books set their chapter titles ("CHAPTER IV.
  WHAT JOHN RANCE HAD TO TELL.", "PART II. The Country of the Saints."): such a title of 12
  words or fewer stays a title, unscanned.

(A word is a whitespace-separated token holding a letter or digit, so markup such as
``**`` is not one.) When the rest is prose the readers keep only the label as the chapter's
title (no title when there is no label) and make the rest the chapter's first paragraph,
so it is scanned like any other story text. ``Chapter 3: The Well``, ``Epilogue: Ten Years
Later`` and ``4. THE REPLY.`` stay whole titles; ``Chapter 2: That night she took the razor
blade and ...`` becomes the title ``Chapter 2`` and a paragraph.
"""

from __future__ import annotations

import re
from itertools import pairwise

from forewarn.ingest._common import CHAPTER_HEADING, WELL_FORMED_ROMAN, is_chapter_heading

__all__ = ["MAX_SENTENCE_WORDS", "MAX_TITLE_WORDS", "context_headings", "is_prose",
           "label_title", "prose_start"]

_MAX_TITLE = 100
_MIN_RUN = 3

_NUMERAL = re.compile(
    r"(?P<num>\d{1,3}|[IVXLC]{1,8})\.?(?:[ \t]+(?P<title>[^a-z\n]{1,100}?))?[ \t]*"
)
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
_CONTENTS = re.compile(r"(?:table of )?contents\.?", re.IGNORECASE)
_LEADER = re.compile(r"(?:[ \t.\u2026_-]{2,}|[ \t]+)(?:page[ \t]+)?\d{1,4}$", re.IGNORECASE)
_PAGE_LABEL = re.compile(r"page\.?", re.IGNORECASE)


def _number(num: str) -> int | None:
    """A numeral's value; None for a malformed Roman one ("IIII", "VX")."""
    if num.isdigit():
        return int(num)
    if not WELL_FORMED_ROMAN.fullmatch(num.lower()):
        return None
    values = [_ROMAN_VALUES[ch] for ch in num]
    return sum(-v if v < after else v
               for v, after in zip(values, [*values[1:], 0], strict=True))


def _key(title: str) -> str:
    """A title as a contents line and its heading both write it: capitals, no page
    number or dot leaders, no closing full stop, single spaces."""
    title = _LEADER.sub("", title.strip())
    return " ".join(title.strip(" .:").upper().split())


def _standalone(lines: list[str], i: int) -> bool:
    before = i == 0 or not lines[i - 1].strip()
    after = i + 1 == len(lines) or not lines[i + 1].strip()
    return before and after


def _numbered(lines: list[str], starts: list[int]) -> dict[int, str]:
    found: list[tuple[int, int, str]] = []  # (line start, number, title)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or len(stripped) > _MAX_TITLE + 6 or not stripped[0].isalnum():
            continue
        m = _NUMERAL.fullmatch(stripped)
        if m is None or not _standalone(lines, i):
            continue
        number = _number(m["num"])
        if number is None or number == 0:
            continue
        found.append((starts[i], number, stripped))
    if len(found) < _MIN_RUN or found[0][1] != 1:
        return {}
    in_order = sum(1 for (_, a, _), (_, b, _) in pairwise(found) if b in (a + 1, 1))
    if in_order < 0.75 * (len(found) - 1):
        return {}
    return {start: title for start, _, title in found}


def _contents(lines: list[str], starts: list[int]) -> dict[int, str]:
    heading = next((i for i, line in enumerate(lines[:2000])
                    if _CONTENTS.fullmatch(line.strip())), None)
    if heading is None:
        return {}
    entries: list[str] = []
    j = heading + 1
    blank_run = 0
    while j < len(lines) and blank_run < 3:
        stripped = lines[j].strip()
        j += 1
        if not stripped:
            blank_run += 1
            continue
        if len(stripped) > _MAX_TITLE:
            break
        blank_run = 0
        key = _key(stripped)
        if key and not _PAGE_LABEL.fullmatch(key):
            entries.append(key)
    if len(entries) < _MIN_RUN:
        return {}
    wanted = {key: n for n, key in enumerate(entries)}
    found: dict[int, str] = {}
    last = -1
    for k in range(j, len(lines)):
        stripped = lines[k].strip()
        if not stripped or len(stripped) > _MAX_TITLE or not _standalone(lines, k):
            continue
        n = wanted.get(_key(stripped))
        if n is not None and n > last:
            found[starts[k]] = stripped
            last = n
    return found if len(found) >= _MIN_RUN else {}


def _chapter_word(line: str) -> bool:
    stripped = line.strip().strip("*_#=~[]<> \t")
    return (stripped[:2].lower() == "ch" and len(stripped) <= 120
            and is_chapter_heading(stripped))


def context_headings(text: str, start: int = 0) -> dict[int, str]:
    """Line starts (offsets into ``text``) of the headings found in ``text[start:]``, with
    each heading line's text; empty when the text heads its chapters in no such way."""
    lines = text[start:].split("\n")
    if any(_chapter_word(line) for line in lines):
        return {}
    starts = []
    pos = start
    for line in lines:
        starts.append(pos)
        pos += len(line) + 1
    found = _contents(lines, starts)
    found.update(_numbered(lines, starts))
    return found


# --- prose in a heading -----------------------------------------------------------------------

#: A heading's title part with more words than this is prose.
MAX_TITLE_WORDS = 12
#: A finished sentence (". ! ? …") with more words than this makes a heading's title part prose.
MAX_SENTENCE_WORDS = 4

_LEAD = "*_~`#=[]<>() \t"  # decoration a heading may open with: "**Chapter 2**", "== Part I"
_NUMERAL_LABEL = re.compile(r"(?:\d{1,3}|[IVXLC]{1,8})[.:)](?=\s)")
# possessive, and never from inside a run of stops: linear on "......" however long
_SENTENCE_END = re.compile(r"(?<![.!?\u2026])[.!?\u2026]++[\"'\u2019\u201d)\]*_~]*+(?=\s|$)")
_LABEL_END = ":.|-\u2013\u2014*_~`#=[]<>() \t"


def _wordlike(token: str) -> bool:
    return any(char.isalnum() for char in token)


def is_prose(text: str) -> bool:
    """True when ``text`` (a heading's title part) reads as story prose, not a title.

    More than :data:`MAX_TITLE_WORDS` words, or a sentence of more than
    :data:`MAX_SENTENCE_WORDS` words that ends in ``.``, ``!``, ``?`` or ``…`` and is set
    neither in capitals nor in title case (``CHAPTER IV. WHAT JOHN RANCE HAD TO TELL.`` and
    ``PART II. The Country of the Saints.`` are titles).
    """
    words = 0
    sentence_from = 0
    for token in text.split():
        if _wordlike(token):
            words += 1
            if words > MAX_TITLE_WORDS:
                return True
    if words <= MAX_SENTENCE_WORDS or not any(char.islower() for char in text):
        return False  # short, or set in capitals as old books set chapter titles
    for match in _SENTENCE_END.finditer(text):
        sentence = [t for t in text[sentence_from : match.end()].split() if _wordlike(t)]
        # a sentence in title case ("The Country of the Saints.") is a title's
        capitals = sum(1 for t in sentence if t.lstrip("_*\"'\u2018\u201c(").istitle())
        if len(sentence) > MAX_SENTENCE_WORDS and capitals * 2 < len(sentence):
            return True
        sentence_from = match.end()
    return False


def _label_end(heading: str) -> int:
    """Where the rest of ``heading`` starts after its label; 0 when it has no label."""
    lead = len(heading) - len(heading.lstrip(_LEAD))
    body = heading[lead:]
    match = CHAPTER_HEADING.match(body)
    if match is not None:
        if match["rest"] is not None:
            end = match.start("rest")
        else:
            end = match.end()
            if end < len(body) and body[end].isalnum():  # "Prologues are ...": no label
                return 0
    else:
        numeral = _NUMERAL_LABEL.match(body)
        if numeral is None:
            return 0
        end = numeral.end()
    end += lead
    while end < len(heading) and heading[end] in _LEAD:  # "**Chapter 2:** That night"
        end += 1
    return end


def prose_start(heading: str) -> int | None:
    """Index into ``heading`` (a heading line's text) where its prose starts, or ``None``
    when the heading reads as a title (see the module's docstring for the rule).

    ``0`` means the whole heading is prose (it has no label); a larger index is the start of
    the rest after a label such as ``Chapter 2:``, which may stay the chapter's title.
    """
    if not heading.strip():
        return None
    start = _label_end(heading)
    if start >= len(heading) or not is_prose(heading[start:]):
        return None
    return start


def label_title(heading: str, start: int) -> str | None:
    """The title left when the prose from ``start`` on is cut off ``heading``: its label
    without a trailing separator (``"Chapter 2"``), or ``None`` when nothing is left."""
    label = heading[:start].strip().rstrip(_LABEL_END).lstrip(_LEAD)
    return " ".join(label.split()) or None
