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
"""

from __future__ import annotations

import re
from itertools import pairwise

from forewarn.ingest._common import WELL_FORMED_ROMAN, is_chapter_heading

__all__ = ["context_headings"]

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
