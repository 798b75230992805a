"""Fold look-alike letters to the ones detectors know, without moving a single offset.

Fullwidth letters (``ｓｕｉｃｉｄｅ``), mathematical alphanumerics (``𝐬𝐮𝐢𝐜𝐢𝐝𝐞``) and similar
compatibility characters read as ordinary letters to a person and as unknown symbols to a
lexicon or tokenizer. Each character whose NFKC form is a single character is replaced by
it; every other character is kept, so the folded text has the same length as the original
and every offset into it (evidence, locations) addresses the original text.
"""

from __future__ import annotations

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
