"""Fold look-alike letters to the ones detectors know, without moving a single offset.

Fullwidth letters (``ｓｕｉｃｉｄｅ``), mathematical alphanumerics (``𝐬𝐮𝐢𝐜𝐢𝐝𝐞``) and similar
compatibility characters read as ordinary letters to a person and as unknown symbols to a
lexicon or tokenizer. Each character whose NFKC form is a single character is replaced by
it; every other character is kept, so the folded text has the same length as the original
and every offset into it (evidence, locations) addresses the original text.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from typing import Any, TypeVar

P = TypeVar("P", bound=Any)


@cache
def _fold_char(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 else ch


def fold(text: str) -> str:
    """``text`` with compatibility characters folded one for one (same length)."""
    if text.isascii():
        return text
    return "".join(_fold_char(ch) for ch in text)


def fold_passages(passages: Iterable[P]) -> list[P]:
    """The passages as the detectors read them: each text folded (offsets unchanged)."""
    return [replace(p, text=fold(p.text)) for p in passages]


_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_PAD = "\u200b"  # zero width: the tokenizer drops it, and a word after it is still a word


def _reference(match: re.Match[str]) -> str:
    decoded = html.unescape(match[0])
    if len(decoded) != 1 or decoded == match[0]:
        return match[0]  # not a reference a viewer would decode to one character
    return _PAD * (len(match[0]) - 1) + decoded


def decode_references(text: str) -> str:
    """``text`` with each character reference a Markdown viewer decodes (``&#72;``,
    ``&#x48;``, ``&shy;``, ``&amp;``) read as its character, the same length: the
    character is put last, after zero-width spaces, so that offsets stay and a word that
    starts with a reference ("&#72;anged") reads as the word."""
    if "&" not in text:
        return text
    return _REFERENCE.sub(_reference, text)
