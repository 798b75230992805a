"""The tag tables: ``forewarn/data/declared.toml``, loaded and compiled once, on first use.

:func:`tables` returns the compiled :class:`Tables` (cached for the process);
:func:`load_raw` the file as parsed TOML, and :func:`build` compiles such a mapping, so a
test can compile a modified copy. The file's header says what each table holds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = ["CENSORABLE", "MASKS", "SLANG", "Tables", "build", "load_raw", "tables"]

# Censored and euphemistic spellings, common in "TW:" lines on sites that hide posts naming a
# warning ("su*cide", "r@pe", "unalive", "sewerslide"). They are not tag-table patterns: the
# cleaning step (forewarn/declared/parse.py) spells them out before the tag tables apply.
#
# The words a masked word may stand for: "*" stands for any one letter, a character of MASKS
# for its letter. A masked word is spelt out only when exactly one of these fits it.
CENSORABLE = (
    "abuse", "abused", "abusive", "assault", "blood", "bulimia", "anorexia", "cutting",
    "dead", "death", "drugs", "dying", "gore", "grooming", "harm", "incest", "kill",
    "killed", "killing", "miscarriage", "molest", "molested", "molestation", "murder",
    "murdered", "overdose", "pedophile", "pedophilia", "porn", "rape", "raped", "rapes",
    "rapist", "raping", "self", "sex", "sexual", "suicidal", "suicide", "torture",
    "violence", "vomit", "vomiting",
)  # fmt: skip
MASKS = {"@": "a", "4": "a", "3": "e", "!": "i", "1": "i", "0": "o", "$": "s", "5": "s"}
# Euphemisms, each with the word that replaces it; tried in order. "Unalive" is used for
# killing and for suicide alike: alone it declares a death, with a reflexive a suicide.
SLANG = tuple(
    (re.compile(pattern), word)
    for pattern, word in (
        (r"\bsewer ?slid(?:e|es|ed|ing)\b", "suicide"),
        (r"\bself[- ]?unaliv(?:e|es|ed|ing)\b", "suicide"),
        (r"\bunaliv(?:e|es|ed|ing) (?:my|your|him|her|them|our|one|it)sel(?:f|ves)\b", "suicide"),
        (r"\bunaliv(?:e|es|ed|ing)\b", "death"),
    )
)

Rules = tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]
Affixes = tuple[tuple[re.Pattern[str], str | None], ...]

# a prefix qualifier may be followed by "/", "or", "&"... and another qualifier
_SEP = r"(?:\s*(?:/|,|&|\+|:|-)\s*|\s+(?:or|and)\s+|\s+)"
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True, slots=True)
class Tables:
    """The compiled tag tables.

    ``prefixes`` and ``suffixes`` pair each qualifier or filler pattern with its qualifier
    (None for a filler), longest pattern first; ``scan_qualifiers`` finds qualifiers anywhere
    in an aside; ``child_sexual`` is the child-sexual-abuse class; ``compound_rules`` and
    ``stem_rules`` pair a pattern with the warning ids it declares, in the order they are
    tried.
    """

    prefixes: Affixes
    suffixes: Affixes
    scan_qualifiers: tuple[tuple[str, re.Pattern[str]], ...]
    child_sexual: re.Pattern[str]
    compound_rules: Rules
    stem_rules: Rules
    no_tail: frozenset[str]
    modifiers: frozenset[str]
    typo_vocabulary: tuple[str, ...]

    def warning_ids(self) -> set[str]:
        """Every warning id the rules declare."""
        return {wid for _, ids in (*self.compound_rules, *self.stem_rules) for wid in ids}


def load_raw() -> dict[str, Any]:
    """``data/declared.toml``, parsed."""
    import tomllib  # only when the tables are first needed; keeps import time down

    text = resources.files("forewarn").joinpath("data/declared.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@functools.cache
def tables() -> Tables:
    """The shipped tables, compiled on the first call."""
    return build(load_raw())


def build(raw: Mapping[str, Any]) -> Tables:
    """Compile parsed tables. A pattern naming an unknown class raises ``ValueError``."""
    classes: dict[str, str] = {}
    for name, pattern in raw["classes"].items():
        classes[name] = _expand(pattern, classes)
    compound = _rules(raw["compound"], classes, {})
    stem = _rules(raw["stem"], classes, {"compound": raw["compound"]})
    words = raw["words"]
    return Tables(
        prefixes=_affixes(raw["prefix"], prefix=True),
        suffixes=_affixes(raw["suffix"], prefix=False),
        scan_qualifiers=tuple((q, re.compile(p)) for q, p in raw["scan_qualifiers"].items()),
        child_sexual=re.compile(classes["child_sexual"]),
        compound_rules=compound,
        stem_rules=stem,
        no_tail=frozenset(words["no_tail"]),
        modifiers=frozenset(words["modifiers"]),
        typo_vocabulary=tuple(words["typo_vocabulary"]),
    )


def _expand(pattern: str | list[str], classes: Mapping[str, str]) -> str:
    """Join a pattern written as pieces and put each ``{class}``'s pattern in its place."""
    text = "".join(pattern) if isinstance(pattern, list) else pattern

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in classes:
            raise ValueError(f"declared tables: unknown class {{{m.group(1)}}} in {text!r}")
        return classes[m.group(1)]

    return _PLACEHOLDER.sub(sub, text)


def _rules(
    entries: list[dict[str, Any]], classes: Mapping[str, str], includes: Mapping[str, Any]
) -> Rules:
    out: list[tuple[re.Pattern[str], tuple[str, ...]]] = []
    for entry in entries:
        if "include" in entry:
            out.extend(_rules(includes[entry["include"]], classes, {}))
        else:
            out.append((re.compile(_expand(entry["pattern"], classes)), tuple(entry["warnings"])))
    return tuple(out)


def _affixes(table: Mapping[str, Any], *, prefix: bool) -> Affixes:
    items: list[tuple[str, str | None]] = [
        (w, q) for q, words in table["qualifiers"].items() for w in words
    ] + [(w, None) for w in table["fillers"]]
    out = []
    for word, qual in items:
        if prefix:
            pat = rf"^(?:{word})(?:\b|(?=[/&,:(-]))(?:{_SEP})?" if qual else rf"^(?:{word})\b\s*"
        else:
            pat = rf"(?:^|\s*[-–—:,(\[]\s*|\s+)(?:{word})\s*[)\]]?$"
        out.append((re.compile(pat), qual))
    # longest alternatives first, so "graphic depictions of" beats "graphic"
    out.sort(key=lambda pq: -len(pq[0].pattern))
    return tuple(out)
