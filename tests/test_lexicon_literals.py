"""The lexicon's gating literals: what each cue declares it ``needs`` is true of its pattern.

The detector runs a cue's pattern only on passages that contain one of its literals, so a
literal that some match lacks would lose hits silently. For every cue these tests check,
on the fixture stories and on strings generated from the pattern itself, that every match
contains one of the cue's literals (lower-cased, as the detector compares them), and that
each literal occurs in at least one match (so that none is a typo that gates the cue off).
"""

from __future__ import annotations

import json
import random
import re
import string
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from forewarn.detect.lexicon import _PLAIN, TIER_WEIGHTS, Cue, _required_literals, load_lexicon

ROOT = Path(__file__).resolve().parent.parent
STORIES = sorted([*ROOT.glob("tests/fixtures/stories/*.txt"), *ROOT.glob("tests/fixtures/audit/*.txt"),
                  *ROOT.glob("examples/*.txt")])
DRAWS = 40  # generated strings per cue; more than the widest alternation in the lexicon


# --------------------------------------------------------------------------- a generator
# Strings that a pattern matches, built from the pattern's text. It reads the regular
# expression syntax the lexicon uses (groups, alternation, classes, \w \s \d \b escapes,
# ? * + {m,n} quantifiers, lookaheads, $) and raises ValueError on anything else, so a
# new construct in the lexicon fails here loudly rather than going unchecked.

_WORD_CHARS = string.ascii_letters + string.digits
_PRINTABLE = string.ascii_letters + string.digits + " .,!?;:'\"-()"


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0

    def parse(self) -> tuple:
        node = self._alternation()
        if self.i != len(self.p):
            raise ValueError(f"unbalanced ) at {self.i} in {self.p!r}")
        return node

    def _peek(self) -> str:
        return self.p[self.i] if self.i < len(self.p) else ""

    def _alternation(self) -> tuple:
        branches = [self._sequence()]
        while self._peek() == "|":
            self.i += 1
            branches.append(self._sequence())
        return ("alt", branches) if len(branches) > 1 else branches[0]

    def _sequence(self) -> tuple:
        items: list[tuple] = []
        while self._peek() not in ("", "|", ")"):
            atom = self._atom()
            items.append(self._quantified(atom))
        return ("seq", items)

    def _quantified(self, atom: tuple) -> tuple:
        c = self._peek()
        if c and c in "?*+":
            self.i += 1
            lo, hi = {"?": (0, 1), "*": (0, 3), "+": (1, 3)}[c]
        elif c == "{" and self.p.find("}", self.i) > 0:
            end = self.p.index("}", self.i)
            body = self.p[self.i + 1:end]
            self.i = end + 1
            lo_s, _, hi_s = body.partition(",")
            lo = int(lo_s or 0)
            hi = int(hi_s) if "," in body and hi_s else (lo + 3 if "," in body else lo)
        else:
            return atom
        if self._peek() and self._peek() in "?+":
            raise ValueError(f"lazy or possessive quantifier in {self.p!r}")
        return ("repeat", atom, lo, hi)

    def _atom(self) -> tuple:
        c = self.p[self.i]
        self.i += 1
        if c == "(":
            kind = "group"
            if self.p.startswith("?:", self.i):
                self.i += 2
            elif self.p.startswith("?=", self.i):
                kind, self.i = "ahead", self.i + 2
            elif self.p.startswith("?!", self.i):
                kind, self.i = "not-ahead", self.i + 2
            elif self._peek() == "?":
                raise ValueError(f"unsupported group at {self.i} in {self.p!r}")
            node = self._alternation()
            if self._peek() != ")":
                raise ValueError(f"unclosed ( in {self.p!r}")
            self.i += 1
            return (kind, node)
        if c == "[":
            return self._class()
        if c == "\\":
            return self._escape()
        if c == ".":
            return ("class", _WORD_CHARS, False)
        if c == "$":
            return ("end",)
        if c in "^)*+?{":
            raise ValueError(f"unsupported {c!r} at {self.i - 1} in {self.p!r}")
        return ("lit", c)

    def _escape(self) -> tuple:
        c = self.p[self.i]
        self.i += 1
        if c == "w":
            return ("class", _WORD_CHARS, False)
        if c == "d":
            return ("class", string.digits, False)
        if c == "s":
            return ("class", " ", False)
        if c == "b":
            return ("boundary",)
        if c.isalnum():
            raise ValueError(f"unsupported escape \\{c} in {self.p!r}")
        return ("lit", c)

    def _class(self) -> tuple:
        negated = self._peek() == "^"
        if negated:
            self.i += 1
        members: list[str] = []
        first = True
        while first or self._peek() != "]":
            first = False
            c = self.p[self.i]
            self.i += 1
            if c == "\\":
                e = self.p[self.i]
                self.i += 1
                members.extend({"w": _WORD_CHARS, "d": string.digits, "s": " "}.get(e, e))
            elif self._peek() == "-" and self.p[self.i + 1] != "]":
                hi = self.p[self.i + 1]
                self.i += 2
                members.extend(chr(x) for x in range(ord(c), ord(hi) + 1))
            else:
                members.append(c)
        self.i += 1
        return ("class", "".join(members), negated)


def _emit(node: tuple, rng: random.Random, turn: int, out: list[str]) -> None:
    """Append to ``out`` one string ``node`` matches. Alternatives are chosen by ``turn``
    (so that draws 0, 1, 2... take every alternative of every alternation in turn), the
    rest at random; letters come in random case, as the lexicon matches ignoring case."""
    kind = node[0]
    if kind == "seq":
        for item in node[1]:
            _emit(item, rng, turn, out)
    elif kind == "alt":
        _emit(node[1][turn % len(node[1])], rng, turn, out)
    elif kind == "group":
        _emit(node[1], rng, turn, out)
    elif kind == "ahead":  # what follows must match: write it (a lookahead ends its pattern)
        ahead: list[str] = []
        _emit(node[1], rng, turn, ahead)
        if "".join(ahead)[:1].isalnum():  # keep the word boundary that ends the cue's match
            out.append(" ")
        out.extend(ahead)
    elif kind == "repeat":
        for _ in range(rng.randint(node[2], node[3])):
            _emit(node[1], rng, turn, out)
    elif kind == "class":
        members, negated = node[1], node[2]
        pool = [c for c in _PRINTABLE if c not in members] if negated else list(members)
        out.append(rng.choice(pool))
    elif kind == "lit":
        c = node[1]
        out.append(c.upper() if rng.random() < 0.3 else c)
    elif kind == "boundary":
        out.append(" ")
    # "end" and "not-ahead" write nothing; a draw they fail is left out


def generated(pattern: str, draws: int = DRAWS, seed: int = 0) -> list[str]:
    """Strings built to match ``pattern``, each between spaces."""
    tree = _Parser(pattern).parse()
    rng = random.Random(f"{seed}:{pattern}")
    out = []
    for turn in range(draws):
        parts: list[str] = []
        _emit(tree, rng, turn, parts)
        out.append(" " + "".join(parts) + " ")
    return out


def test_the_generator_builds_matching_strings() -> None:
    for pattern in ("stabb(?:ed|ing)", "f[a@]gg?ots?", "(?:cock|dick)s?", "\\w+n't",
                    "blood(?! test)", "queers?(?= like you)", "[^.!?]{0,5}x", "e\\.?r\\.?"):
        strings = generated(pattern, 10)
        assert all(re.search(pattern, s, re.IGNORECASE) for s in strings[:5]), pattern
    assert {s.strip().lower() for s in generated("(?:cock|dick)", 4)} == {"cock", "dick"}
    with pytest.raises(ValueError):
        generated("(?<=a)b")


# --------------------------------------------------------------------------- the checks


def _cues() -> list[tuple[str, Cue]]:
    return [(rules.warning, cue) for rules in load_lexicon().rules for cue in rules.cues]


def _matches(cue: Cue, texts: list[str]) -> list[str]:
    return [m.group(0).lower() for t in texts for m in cue.regex.finditer(t) if m.group(0)]


def test_every_pattern_compiles() -> None:
    """Patterns compile on first use in a scan; here all of them, once."""
    assert all(isinstance(cue.regex, re.Pattern) for _, cue in _cues())


def test_every_cue_that_is_not_a_plain_phrase_declares_what_it_needs() -> None:
    """A pattern without ``needs`` would be tried on every passage, unnoticed."""
    data = tomllib.loads(resources.files("forewarn").joinpath("data/lexicon.toml")
                         .read_text(encoding="utf-8"))
    undeclared = []
    for warning, raw in data["warnings"].items():
        for tier in TIER_WEIGHTS:
            for entry in raw.get(tier, []):
                if isinstance(entry, dict):
                    if "needs" not in entry:
                        undeclared.append((warning, entry["pattern"]))
                else:
                    pattern = entry[0] if isinstance(entry, list) else entry
                    if not _PLAIN.fullmatch(pattern):
                        undeclared.append((warning, pattern))
    assert undeclared == []


def test_cues_tried_on_every_passage_are_few() -> None:
    ungated = [cue.pattern for _, cue in _cues() if not cue.required]
    assert len(ungated) <= 2, ungated


def test_every_match_contains_a_needed_literal() -> None:
    stories = [p.read_text(encoding="utf-8") for p in STORIES]
    wrong = []
    for warning, cue in _cues():
        if not cue.required:
            continue
        for text in _matches(cue, stories) + _matches(cue, generated(cue.pattern)):
            if not any(lit in text for lit in cue.required):
                wrong.append((warning, cue.pattern, cue.required, text))
    assert wrong == []


def test_every_needed_literal_occurs_in_some_match() -> None:
    stories = [p.read_text(encoding="utf-8") for p in STORIES]
    unused = []
    for warning, cue in _cues():
        matched = _matches(cue, generated(cue.pattern)) + _matches(cue, stories)
        for lit in cue.required:
            if not any(lit in text for text in matched):
                unused.append((warning, cue.pattern, lit))
    assert unused == []


def test_a_wrong_declaration_is_caught() -> None:
    """The checks above fail for a literal that only some matches contain."""
    cue = Cue("medium", 0.65, "stabb(?:ed|ing)", ("stabbed",))
    assert [t for t in _matches(cue, generated(cue.pattern))
            if not any(lit in t for lit in cue.required)]


@pytest.mark.parametrize("entry, required", [
    ("gay bashing", ("gay bashing",)),
    ("Self-Harm", ("self-harm",)),
    (["spotting", 0.45], ("spotting",)),
    ("dykes?", ()),
    ({"pattern": "stabb(?:ed|ing)", "needs": "stabb"}, ("stabb",)),
    ({"pattern": "(?:cock|dick)s?", "needs": ["cock", "DICK"]}, ("cock", "dick")),
    ({"pattern": "(?:hospital|e\\.?r\\.?)", "needs": []}, ()),
    ({"pattern": "cramp(?:s|ing|ed)?", "weight": 0.4, "needs": "cramp"}, ("cramp",)),
])
def test_a_cue_entry_reads_as_its_pattern_weight_and_literals(tmp_path, entry, required) -> None:
    path = tmp_path / "lexicon.toml"
    path.write_text(
        "[cues]\nnegation = [\"not\"]\nmention = [\"years ago\"]\ngraphic = [\"gore\"]\n"
        f"[warnings.violence]\nmedium = [{_toml(entry)}]\n", encoding="utf-8")
    (cue,) = load_lexicon(path).rules[0].cues
    assert cue.required == required
    pattern = entry["pattern"] if isinstance(entry, dict) else entry[0] if isinstance(entry, list) else entry
    assert cue.pattern == pattern
    weight = entry.get("weight", 0.65) if isinstance(entry, dict) else entry[1] if isinstance(entry, list) else 0.65
    assert cue.weight == weight


def _toml(entry: object) -> str:
    if isinstance(entry, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in entry.items()) + " }"
    if isinstance(entry, list):
        return "[" + ", ".join(_toml(v) for v in entry) + "]"
    return json.dumps(entry)


@pytest.mark.parametrize("needs", ["\"\"", "[\"cock\", 3]", "3"])
def test_a_malformed_needs_is_refused(tmp_path, needs) -> None:
    path = tmp_path / "lexicon.toml"
    path.write_text(
        "[cues]\nnegation = [\"not\"]\nmention = [\"years ago\"]\ngraphic = [\"gore\"]\n"
        f"[warnings.violence]\nmedium = [{{ pattern = \"cocks?\", needs = {needs} }}]\n",
        encoding="utf-8")
    with pytest.raises(ValueError, match="needs"):
        load_lexicon(path)
    with pytest.raises(ValueError, match="needs"):
        _required_literals("cocks?", [""])
