"""Which language each passage is in, so that forewarn only judges what it can read.

forewarn's detectors are built for English. A French story about a suicide attempt gets
no warnings from them, and "no warnings" must not become "safe". So every passage is
assigned a language, and the report says how many words are in languages forewarn does
not judge (:data:`JUDGED`).

Two steps, cheapest first:

1. English function words ("the", "and", "of", "was"...) make up a quarter or more of any
   English prose, period or modern, dialogue or narration, and almost none of other
   languages: a passage where they are at least :data:`ENGLISH_SHARE` of the words (two
   different ones at least) is English without further ado. This keeps dialect, archaic
   spelling and names (which statistical identifiers sometimes take for Scots, Latin or
   Afrikaans) English.
2. Anything else goes to py3langid (a small offline n-gram model, MIT/BSD licensed,
   loaded on first use); passages under :data:`MIN_WORDS` words are not judged either way.

``bench/bench_language.py`` compares py3langid with lingua-language-detector and this
combination on short and long texts, and measures load time (see docs/model-card.md).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

JUDGED = frozenset({"en"})
ENGLISH_SHARE = 0.15
MIN_WORDS = 6
#: A passage is judged paragraph by paragraph when each of its paragraphs has at least this
#: many words (a short line, a keysmash, a name or an exclamation tells little alone).
PARAGRAPH_WORDS = 8
#: A work is "not checked: language" when less than this share of its words is in a
#: judged language.
MIN_JUDGED_SHARE = 0.5

# English function words that are not also common words of French, German, Dutch,
# Spanish, Italian or Portuguese ("a", "as", "do", "no", "in", "is", "was", "so" are).
_FUNCTION_WORDS = frozenset({
    "the", "and", "of", "to", "with", "from", "for", "but", "or", "be", "been", "were", "are",
    "it", "its", "he", "she", "they", "we", "you", "him", "her", "them", "us", "my", "his",
    "their", "our", "your", "this", "that", "these", "those", "not", "had", "has", "have", "did",
    "does", "would", "could", "should", "will", "shall", "there", "what", "which", "who", "when",
    "where", "if", "then", "than", "out", "into", "over", "about", "upon", "said", "any", "all",
    "one",
})
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
# scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, Japanese kana,
# Chinese characters): each character counts as a word, so that a chapter in Chinese is
# not "three words" because it has three paragraphs
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff]")
_PARAGRAPHS = re.compile(r"\n\s*\n|\n")
# invisible format characters (Unicode category Cf: soft hyphens, zero-width spaces and
# joiners, direction marks, tag characters): a reader never sees them and the classifier's
# tokenizer drops them, so the language is told without them; left in, a zero-width space
# after every letter made an English story read as Igbo and "not checked"
_FORMAT = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]")


def word_count(text: str) -> int:
    """Words of ``text``: runs between spaces, and each character of a script written
    without spaces."""
    return sum(len(_UNSPACED.findall(token)) or 1 for token in text.split())

_NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "nl": "Dutch", "pt": "Portuguese", "sv": "Swedish", "da": "Danish", "no": "Norwegian",
    "fi": "Finnish", "pl": "Polish", "cs": "Czech", "ru": "Russian", "uk": "Ukrainian",
    "el": "Greek", "tr": "Turkish", "ja": "Japanese", "zh": "Chinese", "ko": "Korean",
    "ar": "Arabic", "he": "Hebrew", "hi": "Hindi", "la": "Latin", "ro": "Romanian",
    "hu": "Hungarian", "id": "Indonesian", "vi": "Vietnamese", "ca": "Catalan",
}


def language_name(code: str) -> str:
    return _NAMES.get(code, code)


@cache
def _identifier() -> Any:
    import py3langid

    return py3langid


def passage_language(text: str) -> str | None:
    """The passage's language (ISO 639-1), or None when it is too short to tell."""
    if not text.isascii():
        text = _FORMAT.sub("", text)
    found = _WORD.findall(text.casefold())
    if word_count(text) < MIN_WORDS:
        return None
    function = [w for w in found if w in _FUNCTION_WORDS]
    if len(function) >= ENGLISH_SHARE * len(found) and len(set(function)) >= 2:
        return "en"
    code, _ = _identifier().classify(text)
    return str(code)


@dataclass(frozen=True, slots=True)
class Languages:
    """Words per language over a work's passages; passages too short to tell count as
    judged (they are a line of dialogue or a heading among the rest)."""

    words: dict[str, int]
    undetermined: int

    @property
    def total(self) -> int:
        return sum(self.words.values()) + self.undetermined

    @property
    def judged_words(self) -> int:
        return sum(n for code, n in self.words.items() if code in JUDGED) + self.undetermined

    @property
    def not_judged(self) -> dict[str, int]:
        return {c: n for c, n in sorted(self.words.items(), key=lambda kv: -kv[1])
                if c not in JUDGED}

    @property
    def main(self) -> str | None:
        return max(self.words, key=self.words.__getitem__) if self.words else None

    @property
    def judgeable(self) -> bool:
        """Whether forewarn can judge the work at all (mostly in a judged language)."""
        return self.total == 0 or self.judged_words >= MIN_JUDGED_SHARE * self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "main": self.main,
            "words": dict(sorted(self.words.items(), key=lambda kv: -kv[1])),
            "judged": sorted(JUDGED),
            "not_judged_words": sum(self.not_judged.values()),
            "judgeable": self.judgeable,
        }


def languages(texts: Iterable[str]) -> Languages:
    """Words per language over passages. A passage is judged paragraph by paragraph where
    each of its paragraphs is long enough to tell (:data:`PARAGRAPH_WORDS`: a French
    paragraph packed between English ones counts as French); otherwise it is judged
    whole."""
    words: Counter[str] = Counter()
    undetermined = 0
    for text in texts:
        parts = [p for p in _PARAGRAPHS.split(text) if p.strip()]
        if len(parts) < 2 or any(word_count(p) < PARAGRAPH_WORDS for p in parts):
            parts = [text]
        for part in parts:
            n = word_count(part)
            code = passage_language(part)
            if code is None:
                undetermined += n
            else:
                words[code] += n
    return Languages(dict(words), undetermined)
