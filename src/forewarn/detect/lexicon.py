"""Words and phrases with context: the cheap detector that reads every passage.

The lexicon (``data/lexicon.toml``) lists, per warning, regular expressions in weighted
tiers, each with the literal text it cannot match without (``needs``): a cue's pattern
runs only on passages that contain that text. For each passage a warning's score is the
noisy-or of its distinct cues; a hit needs ``min_score`` and at least one cue that is not
``weak``. Context rules, in the spirit of Presidio's context enhancer:

* **negation**: a cue with "not", "never", "no", "n't"... a few words before it in the same
  clause does not count ("she was not pregnant");
* **figurative use**: a cue overlapping a figurative pattern does not count ("I could kill
  for a coffee", "a routine blood test");
* **context**: ``contextual`` cues count only when another warning was found earlier in the
  work, within ``context_window`` passages, or in the same passage: a pregnancy followed by
  cramping, bleeding and "no heartbeat" is a miscarriage even if the word never appears;
* **severity**: a cue in a sentence that remembers or reports ("years ago", "implied",
  "the funeral") is ``mentioned``; physical detail dwelt on ("blood pooled", "bone
  jutting") makes it ``graphic``; otherwise ``depicted``.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from forewarn.work import Hit, Passage

TIER_WEIGHTS = {"strong": 0.9, "medium": 0.65, "weak": 0.25, "contextual": 0.45, "mention": 0.65}
# Warnings where physical detail makes the content graphic.
PHYSICAL = frozenset({
    "violence", "war", "death", "child-death", "animal-death", "animal-cruelty", "abuse",
    "child-abuse", "sexual-assault", "blood-gore", "medical-procedures", "dissection",
    "vomiting", "self-harm", "suicide", "miscarriage", "childbirth", "abortion", "kidnapping",
})
_SEPARATOR = "\n\u2029\n"  # joins passage texts; no pattern can match across it
_CLAUSE_END = re.compile(r"[.!?;:,\u2014\"\u201c\u201d\n]")
_SENTENCE_END = re.compile(r"[.!?\n]")
_CLOSERS = "\"'\u201d\u2019)]"
_WORD = re.compile(r"[\w']+")
# a cue of letters, digits, spaces, apostrophes and hyphens only is a literal phrase: every
# match of it contains it, so it is its own gating literal
_PLAIN = re.compile(r"[\w' -]+")


class LexiconHits(list[Hit]):
    """The lexicon's hits, and the (passage index, warning) pairs it ruled out."""

    ruled_out: frozenset[tuple[int, str]] = frozenset()


@dataclass(frozen=True, slots=True)
class Cue:
    tier: str
    weight: float
    pattern: str
    required: tuple[str, ...]  # lower-case literals, one of which any match contains

    @property
    def regex(self) -> re.Pattern[str]:
        """The cue's compiled pattern, compiled on first use: most cues' gating literals
        never occur in a given work, and compiling all ~1,100 up front would cost about a
        tenth of a short story's scan."""
        return _cue_regex(self.pattern)


@cache
def _cue_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class WarningRules:
    warning: str
    cues: tuple[Cue, ...]
    figurative: re.Pattern[str] | None
    context: str | None
    context_window: int


@dataclass(frozen=True, slots=True)
class Lexicon:
    rules: tuple[WarningRules, ...]
    # gating literal -> (rule position, cue position) of each cue it admits
    by_literal: dict[str, tuple[tuple[int, int], ...]]
    ungated: tuple[tuple[int, int], ...]  # cues with no literal: always tried
    negation: re.Pattern[str]
    negation_window: int
    mention: re.Pattern[str]
    graphic: re.Pattern[str]
    min_score: float


def _alternation(patterns: Iterable[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


def _compile_words(patterns: Sequence[str]) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{_alternation(patterns)})\b", re.IGNORECASE)


def _cue_list(raw: dict, tier: str) -> list[Cue]:
    """The cues of one tier. An entry is a pattern, ``[pattern, weight]``, or a table
    ``{ pattern = ..., weight = ..., needs = ... }`` (``weight`` optional)."""
    cues = []
    for entry in raw.get(tier, []):
        needs = None
        if isinstance(entry, dict):
            pattern = str(entry["pattern"])
            weight = float(entry.get("weight", TIER_WEIGHTS[tier]))
            needs = entry.get("needs")
        elif isinstance(entry, list):
            pattern, weight = str(entry[0]), float(entry[1])
        else:
            pattern, weight = str(entry), TIER_WEIGHTS[tier]
        cues.append(Cue(tier, weight, pattern, _required_literals(pattern, needs)))
    return cues


def _required_literals(pattern: str, needs: object = None) -> tuple[str, ...]:
    """Literals of which every match of ``pattern`` contains at least one (``()``: none known).

    Python's ``re`` tries each alternative of a big alternation at every position, which
    made the lexicon cost ~80 microseconds per character. Gating each cue on a literal
    it cannot match without (found with one fast substring search) skips almost all of
    that work. The lexicon declares them: ``needs = "stabb"`` for "stabb(?:ed|ing)",
    ``needs = ["cock", "dick"]`` for "(?:cock|dick)s?", ``needs = []`` where no literal is
    required (the cue is tried on every passage). A plain phrase ("gay bashing") needs
    itself; any other pattern without ``needs`` is tried on every passage.
    """
    if needs is None:
        return (pattern.lower(),) if _PLAIN.fullmatch(pattern) else ()
    literals = [needs] if isinstance(needs, str) else needs
    if not isinstance(literals, list) or not all(isinstance(x, str) and x for x in literals):
        raise ValueError(f"lexicon: cue {pattern!r}: needs must be a non-empty string or a "
                         f"list of them, not {needs!r}")
    return tuple(x.lower() for x in literals)


def _order_by_context(rules: list[WarningRules]) -> list[WarningRules]:
    """Warnings another warning depends on come first."""
    ordered: list[WarningRules] = []
    pending = list(rules)
    while pending:
        done = {r.warning for r in ordered}
        ready = [r for r in pending if r.context is None or r.context in done]
        if not ready:
            raise ValueError("lexicon: circular or unknown context: "
                             + ", ".join(f"{r.warning}->{r.context}" for r in pending))
        ordered.extend(ready)
        pending = [r for r in pending if r not in ready]
    return ordered


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Load and compile a lexicon file (the shipped one by default; cached)."""
    if path is None:
        return _default_lexicon()
    return _parse_lexicon(Path(path).read_text(encoding="utf-8"))


@lru_cache(maxsize=8)
def _lexicon_digest(path: str | None) -> str:
    if path is None:
        with _shipped_lexicon():
            data = resources.files("forewarn").joinpath("data/lexicon.toml").read_bytes()
    else:
        data = Path(path).read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


@lru_cache(maxsize=1)
def _default_lexicon() -> Lexicon:
    with _shipped_lexicon():
        text = resources.files("forewarn").joinpath("data/lexicon.toml").read_text(
            encoding="utf-8")
        return _parse_lexicon(text)


@contextmanager
def _shipped_lexicon() -> Iterator[None]:
    """The shipped lexicon file missing or damaged is a broken install: one line naming
    it (exit code 16), not an internal error."""
    try:
        yield
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, re.error) as exc:
        from forewarn.errors import BrokenInstall

        raise BrokenInstall(f"forewarn's lexicon (data/lexicon.toml) is missing or damaged "
                            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}): "
                            "reinstall forewarn") from None


def _parse_lexicon(text: str) -> Lexicon:
    data = tomllib.loads(text)
    shared = data["cues"]
    rules = []
    for warning, raw in data["warnings"].items():
        cues = [c for tier in ("strong", "medium", "weak", "contextual", "mention")
                for c in _cue_list(raw, tier)]
        if not cues:
            continue
        figurative = raw.get("figurative")
        rules.append(WarningRules(
            warning=warning,
            cues=tuple(cues),
            figurative=_compile_words(figurative) if figurative else None,
            context=raw.get("context"),
            context_window=int(raw.get("context_window", 50)),
        ))
    ordered = _order_by_context(rules)
    by_literal: dict[str, list[tuple[int, int]]] = {}
    ungated: list[tuple[int, int]] = []
    for r, rule in enumerate(ordered):
        for c, cue in enumerate(rule.cues):
            for lit in cue.required:
                by_literal.setdefault(lit, []).append((r, c))
            if not cue.required:
                ungated.append((r, c))
    return Lexicon(
        rules=tuple(ordered),
        by_literal={k: tuple(v) for k, v in sorted(by_literal.items())},
        ungated=tuple(ungated),
        negation=_compile_words(shared["negation"]),
        negation_window=int(shared.get("negation_window", 3)),
        mention=_compile_words(shared["mention"]),
        graphic=_compile_words(shared["graphic"]),
        min_score=float(data.get("min_score", 0.5)),
    )


@dataclass(slots=True)
class _Match:
    cue: Cue
    start: int  # in the joined text
    end: int
    text: str


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence (bounded by . ! ? or a newline, at most 400 characters away) around a cue."""
    lo = max(0, start - 400)
    left = lo
    for m in _SENTENCE_END.finditer(text, lo, start):
        left = m.end()
    stop = _SENTENCE_END.search(text, end, min(len(text), end + 400))
    right = stop.end() if stop else min(len(text), end + 400)
    while right < len(text) and text[right] in _CLOSERS:
        right += 1
    while left < start and text[left] in _CLOSERS:
        left += 1
    while left < right and text[left].isspace():
        left += 1
    while right > left and text[right - 1].isspace():
        right -= 1
    return left, right


def _candidates(passages: Sequence[Passage], lex: Lexicon) -> list[dict[int, set[int]]]:
    """Per rule, per passage position: the cues whose gating literal occurs in the passage."""
    lowered = [p.text.lower() for p in passages]
    text = _SEPARATOR.join(lowered)
    bounds: list[int] = []
    pos = 0
    for low in lowered:
        bounds.append(pos)
        pos += len(low) + len(_SEPARATOR)
    out: list[dict[int, set[int]]] = [{} for _ in lex.rules]
    n = len(bounds)
    for lit, cues in lex.by_literal.items():
        at = text.find(lit)
        while at != -1:
            idx = bisect.bisect_right(bounds, at) - 1
            for r, c in cues:
                out[r].setdefault(idx, set()).add(c)
            at = text.find(lit, bounds[idx + 1]) if idx + 1 < n else -1
    for r, c in lex.ungated:
        for idx in range(n):
            out[r].setdefault(idx, set()).add(c)
    return out


class LexiconDetector:
    """Scores every passage against the lexicon. Construction does no work."""

    name = "lexicon"

    def __init__(self, lexicon_path: str | Path | None = None) -> None:
        self.lexicon_path = lexicon_path

    @property
    def lexicon(self) -> Lexicon:
        return load_lexicon(self.lexicon_path)

    @property
    def version(self) -> str:
        """The first 12 hex digits of the lexicon file's sha256 (changes with any edit)."""
        return _lexicon_digest(None if self.lexicon_path is None else str(self.lexicon_path))

    def detect(self, passages: Sequence[Passage]) -> LexiconHits:
        """Return one hit per (passage, warning) whose cues reach the lexicon's min_score.

        The returned list's ``ruled_out`` holds the (passage index, warning) pairs where a
        strong or medium cue matched but every such match was negated or figurative ("I'm
        not pregnant", "I could kill for a coffee"): the scanner lets that veto a model's
        hit for the same warning in the same passage, since the rules can read negation
        and the embedding cannot.
        """
        if not passages:
            return LexiconHits()
        lex = self.lexicon
        joined = _SEPARATOR.join(p.text for p in passages)
        starts: list[int] = []
        pos = 0
        for p in passages:
            starts.append(pos)
            pos += len(p.text) + len(_SEPARATOR)
        candidates = _candidates(passages, lex)
        found: dict[str, list[int]] = {}  # warning -> passage positions with a hit, ascending
        hits = LexiconHits()
        ruled_out: set[tuple[int, str]] = set()
        for r, rules in enumerate(lex.rules):
            context = found.get(rules.context, []) if rules.context else []
            with_hits = found.setdefault(rules.warning, [])
            for idx in sorted(candidates[r]):
                cues = [rules.cues[c] for c in sorted(candidates[r][idx])]
                lo, hi = starts[idx], starts[idx] + len(passages[idx].text)
                dismissed: list[_Match] = []
                matches = self._matches(rules, cues, joined, lo, hi, lex, dismissed)
                if not matches:
                    if any(m.cue.weight >= lex.min_score for m in dismissed):
                        ruled_out.add((passages[idx].index, rules.warning))
                    continue
                hit = self._score(rules, idx, matches, passages, starts, joined, lex, context)
                if hit is not None:
                    hits.append(hit)
                    with_hits.append(idx)
        hits.ruled_out = frozenset(ruled_out)
        return hits

    def _matches(
        self, rules: WarningRules, cues: list[Cue], joined: str, lo: int, hi: int, lex: Lexicon,
        dismissed: list[_Match] | None = None,
    ) -> list[_Match]:
        out: list[_Match] = []
        figurative: list[tuple[int, int]] | None = None
        for cue in cues:
            for m in cue.regex.finditer(joined, lo, hi):
                s, e = m.span()
                if s == e:
                    continue
                if rules.figurative is not None:
                    if figurative is None:
                        figurative = [f.span() for f in rules.figurative.finditer(joined, lo, hi)]
                    if any(fs < e and fe > s for fs, fe in figurative):
                        if dismissed is not None:
                            dismissed.append(_Match(cue, s, e, m.group(0)))
                        continue
                if self._negated(joined, s, lex):
                    if dismissed is not None:
                        dismissed.append(_Match(cue, s, e, m.group(0)))
                    continue
                out.append(_Match(cue, s, e, m.group(0)))
        return out

    @staticmethod
    def _negated(text: str, start: int, lex: Lexicon) -> bool:
        window = text[max(0, start - 60):start]
        clause = _CLAUSE_END.split(window)[-1]
        words = _WORD.findall(clause)[-lex.negation_window:]
        return any(lex.negation.fullmatch(w) for w in words)

    def _score(
        self,
        rules: WarningRules,
        idx: int,
        matches: list[_Match],
        passages: Sequence[Passage],
        starts: list[int],
        joined: str,
        lex: Lexicon,
        context: list[int],
    ) -> Hit | None:
        has_context = False
        if rules.context is not None:
            j = bisect.bisect_right(context, idx) - 1
            has_context = j >= 0 and idx - context[j] <= rules.context_window
        best: dict[str, _Match] = {}  # distinct cue text -> strongest match
        for m in matches:
            if m.cue.tier == "contextual" and not has_context:
                continue
            key = m.text.lower()
            if key not in best or best[key].cue.weight < m.cue.weight:
                best[key] = m
        if not best or all(m.cue.tier == "weak" for m in best.values()):
            return None
        miss = 1.0
        for m in best.values():
            miss *= 1.0 - m.cue.weight
        score = 1.0 - miss
        if score < lex.min_score:
            return None
        anchor = max(best.values(), key=lambda m: (m.cue.weight, -m.start))
        s, e = _sentence_bounds(joined, anchor.start, anchor.end)
        passage = passages[idx]
        base = starts[idx]
        s = max(s, base)
        e = min(e, base + len(passage.text))
        severity = self._severity(rules.warning, joined, s, e, base, len(passage.text),
                                  best.values(), lex)
        cues = sorted({m.text.lower() for m in best.values()})
        # a title passage is not in its chapter's text: its span stays empty
        start, end = ((passage.start, passage.start) if passage.title
                      else (passage.start + (s - base), passage.start + (e - base)))
        return Hit(
            warning=rules.warning,
            passage=passage.index,
            chapter=passage.chapter,
            paragraph=passage.paragraph,
            start=start,
            end=end,
            score=round(score, 4),
            reason=f"lexicon:{rules.warning}:" + "|".join(cues[:4]),
            detector=self.name,
            severity=severity,
        )

    @staticmethod
    def _severity(
        warning: str, joined: str, s: int, e: int, base: int, length: int,
        matches: Iterable[_Match], lex: Lexicon,
    ) -> str:
        matches = list(matches)
        if all(m.cue.tier == "mention" for m in matches if m.cue.tier != "weak"):
            return "mentioned"
        if lex.mention.search(joined, s, e):
            return "mentioned"
        # a passage that recalls or reports (two or more such cues) mentions what it holds
        end = base + length
        if len({m.group(0).lower() for m in lex.mention.finditer(joined, base, end)}) >= 2:
            return "mentioned"
        strong = sum(1 for m in matches if m.cue.tier == "strong")
        if warning in PHYSICAL:
            graphic = {m.group(0).lower() for m in lex.graphic.finditer(joined, base, end)}
            if len(graphic) >= 2 or (graphic and strong >= 2):
                return "graphic"
        elif warning == "sexual-content" and strong >= 3:
            return "graphic"
        return "depicted"
