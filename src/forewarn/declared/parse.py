"""Reading declarations: one tag, or the warning lists in free text, to warnings.

:func:`map_tag` maps one freeform tag (or one item of a warning list) to a warning. It
resolves the taxonomy's names and aliases after stripping qualifiers ("Implied/Referenced
X", "X - Mentioned", "Past X", "Graphic X", "(brief)"...), splits compound tags ("Blood
and Injury", "Self-Harm/Suicide"), recognises an alias at the end of a longer tag ("Really
Horrible Child Abuse") and falls back to word-stem rules ("Abusive Endeavor", "Bakugou's
mom is abusive"). Tags that name no warning map to ``None``. The words and rules it uses
are the tag tables (:mod:`forewarn.declared.tables`); the grammar around them (cleaning,
negation, splitting, cues) is here.

:func:`find_declarations` reads free text: only the lists after an explicit cue such as
``TW:``, ``CW for``, ``Warnings:``, ``trigger warning for`` or ``content warning:`` count;
"she was warned" declares nothing, nor do "Warnings: none" and "No warnings apply".

A declaration can be negative: before its noun ("no rape", "free of gore", "(no) self
harm"), after it ("Self-harm - no", "Violence (none)", "Rape-free", "Self-Harm Not
Included"), or at the head of a list, where it covers every item of that list ("TW: no self
harm, suicide, or death", "TW: none (no death, violence, or blood)"). What follows a turn
("none except blood", "no death but there is self harm", "not much, just blood") is
declared.

Every pattern here runs in time linear in its input, and a tag or list item longer than
:data:`MAX_TAG_CHARS` is not read at all: AO3 caps a tag at 100 characters, so a longer one is
not a warning an author wrote, and reading it would only cost time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from forewarn.declared.tables import CENSORABLE, MASKS, SLANG, Rules, tables
from forewarn.taxonomy import Taxonomy, WarningDef, load_taxonomy

__all__ = [
    "MAX_TAG_CHARS",
    "QUALIFIERS",
    "find_declarations",
    "map_tag",
    "map_tag_all",
    "qualifier_severity",
]

# The longest tag or list item read, in characters. AO3 caps a tag at 100; the margin is for
# free-text list items ("TW: self harm in the flashback at the start of chapter three").
MAX_TAG_CHARS = 300

QUALIFIERS = ("implied", "mentioned", "referenced", "past", "minor", "brief", "graphic")
# When a phrase carries several qualifiers, the first of these wins.
_PRECEDENCE = ("implied", "referenced", "mentioned", "past", "graphic", "brief", "minor")
_MENTION_LIKE = frozenset({"implied", "mentioned", "referenced", "past"})


def qualifier_severity(qualifier: str | None) -> str | None:
    """The severity a qualifier implies: ``mentioned``, ``graphic`` or None."""
    if qualifier in _MENTION_LIKE:
        return "mentioned"
    if qualifier == "graphic":
        return "graphic"
    return None


# ---------------------------------------------------------------------------------------
# Cleaning


_AO3_ESCAPES = (("*s*", "/"), ("*a*", "&"), ("*d*", "."), ("*q*", "?"), ("*h*", "#"))
_APOSTROPHE = re.compile(r"['’‘`´]")
_NOISE = re.compile(r"[\"“”«»„*#~_!?.|<>^=]+")
_NON_SEXUAL = re.compile(r"\b(?:non|not)[- ]?sexual(?:ly)?\b")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
_FREEFORM = re.compile(r" ?[-–—] ?freeform$")  # on collapsed whitespace: no backtracking
_EDGE_PUNCT = " \t\n:,;.-–—~*/&+'\""
# A word that may be censored: letters and mask characters, a mask inside ("su*cide")
_MASKABLE = re.compile(r"[\w*@!$]+")


def _clean(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    for esc, char in _AO3_ESCAPES:
        s = s.replace(esc, char)
    s = _CAMEL.sub(" ", s)  # "MentionsOfAbuse"
    # whitespace is collapsed first, so that no pattern below meets a long run of it
    s = " ".join(_APOSTROPHE.sub("", s.casefold()).split())
    s = _FREEFORM.sub("", s)
    s = _unmask(s)
    for pat, word in SLANG:
        s = pat.sub(word, s)
    s = _NON_SEXUAL.sub(" ", s)  # "non-sexual child abuse" is not sexual abuse
    s = _NOISE.sub(" ", s)
    s = re.sub(r"[–—]", "-", s)
    return " ".join(s.split()).strip(_EDGE_PUNCT)


def _unmask(s: str) -> str:
    """Spell out censored warning words: "su*cide", "r@pe", "s3lf h4rm"."""

    def sub(m: re.Match[str]) -> str:
        word = m.group(0)
        inner = word.strip("*!")  # "*rape*" is emphasis, "rape!" a shout: not masks
        if inner.isalpha() or sum(c.isalpha() for c in inner) < 2:
            return word
        found = {v for v in CENSORABLE if _unmasks_to(inner, v)}
        if len(found) != 1:  # none, or ambiguous
            return word
        return word.replace(inner, found.pop())

    return _MASKABLE.sub(sub, s)


def _unmasks_to(masked: str, word: str) -> bool:
    return len(masked) == len(word) and all(
        m == w or m == "*" or MASKS.get(m) == w for m, w in zip(masked, word, strict=True)
    )


# ---------------------------------------------------------------------------------------
# Qualifiers


# "not graphic violence" is a declaration: a negation must not be followed by these
_NOT_GRAPHIC_AHEAD = (
    r"(?!\s*(?:very |too |overly |super |that |really |at all |extremely |particularly |"
    r"incredibly |especially )?"
    r"(?:graphic|explicit|detailed|descriptive))"
)
_NEGATION = re.compile(
    r"^(?:no|not|without|w/o|nobody|noone|no one|never|zero|none|nothing|minus|sans|"
    r"there (?:is|are|will be|s) no|theres no|isnt|arent|doesnt|dont|absolutely no|"
    r"lack of|absence of|free (?:of|from)|neither|nor|"
    r"(?:it|this|the (?:fic|story|chapter|work)) (?:wont|doesnt|does not|will not) "
    r"(?:have|contain|include|feature|show|depict))\b" + _NOT_GRAPHIC_AHEAD
)
# The negations that, heading a list, cover all of it: "no rape, torture or death". Not
# "nobody dies, ..." or "not ...", whose later items may be declarations.
_LIST_NEGATION = re.compile(
    r"^(?:no|zero|none of|nothing like|neither|free (?:of|from)|without|absolutely no|"
    r"there (?:is|are|will be|s) no|theres no|"
    r"(?:it|this|the (?:fic|story|chapter|work)) (?:wont|doesnt|does not|will not) "
    r"(?:have|contain|include|feature|show|depict))\b" + _NOT_GRAPHIC_AHEAD
)
_NOT_GRAPHIC = re.compile(r"\b(?:not|non|nothing|never|isnt|no)[- ]+(?:\w+ )?(?:graphic|explicit)")
# A negation after its noun: "self-harm - no", "violence (none)", "rape is not in this fic",
# "self-harm not included", "rape-free". Every alternative starts at a space or a separator
# and is a fixed phrase, so a search tries each start once.
_TRAIL_NEGATION = re.compile(
    r"(?: ?[-:=(\[] ?)(?:no|none|nope|nah|nada|n/a|never|absent)(?: ?[)\]])?$"
    r"| (?:(?:is|are|will be|s|will) )?(?:not|never|isnt|arent|wont be) (?:included|depicted|"
    r"shown|present|featured|here|happening|a thing|(?:a )?part of (?:this|the) \w+|"
    r"in (?:it|here|this|this \w+|the \w+))$"
    r"|(?: ?- ?| )free$"
)
# What follows a turn is declared again: "nothing but blood", "none except gore"
_TURN = re.compile(
    r"(?<!\S)(?:but|except|apart\s+from|aside\s+from|other\s+than|besides|save\s+for|just|only)\s+",
    re.IGNORECASE,
)
_JOINED = re.compile(r"(?:\s(?:and|yet|though)|,)$")
_LEAD_PAREN = re.compile(r"^[(\[]([^)\]]*)[)\]]\s*")
_TRAIL_OPEN = re.compile(r"\s*[(\[]")


def _scan_qualifiers(text: str) -> set[str]:
    found = {q for q, pat in tables().scan_qualifiers if pat.search(text)}
    if "graphic" in found and _NOT_GRAPHIC.search(text):
        found.discard("graphic")
    return found


def _pick(qualifiers: set[str]) -> str | None:
    for q in _PRECEDENCE:
        if q in qualifiers:
            return q
    return None


# ---------------------------------------------------------------------------------------
# Grammar around the rules

# A modifier after its noun
_TRAIL_MODIFIER = re.compile(r"\s*(?:[-:,(\[]\s*|\s-\s*)(\w+)\s*[)\]]?$")
# Negated clauses ("nobody dies", "no rape") and names that only look like warnings.
_NEGATED_PART = re.compile(
    r"\b(?:no|not|nobody|noone|no one|never|without|none|nothing|zero|doesnt|dont|isnt|arent|"
    r"wont|didnt)\b[^/,;&()]*|\bsuicide squad\b"
)
_SPLIT = re.compile(r"\s*(?:/|&|\+|,|;)\s*|\s+(?:and|or|plus|vs)\s+")
_TRUNCATE = re.compile(
    r"\s+(?:for|from|by|in|on|at|after|before|during|until|since|because|but|though|although|"
    r"while|when|which|that|who|whom|whose|where|is|was|are|were|has|have|had|will|would|may|"
    r"might|can|could|so|if|to|towards?|against|between|as|like|via|than|it|its|toward|"
    r"throughout|within|without|about|involving|including|happening|happens|occurs|"
    r"mentioned|shown|depicted|described|implied|referenced)\b.*$"
)


# ---------------------------------------------------------------------------------------
# Mapping one phrase


Mapped = list[tuple[WarningDef, set[str]]]

# The most qualifiers and fillers one phrase sheds. Of the 5,654 real AO3 tags in the
# reference data the most is 6 ("very very brief mention of a minor character being involved
# in domestic violence"); each step tries every pattern, so the bound keeps a phrase of
# fillers ("a - a - a - ...", "x - mentioned - mentioned - ...") cheap.
_MAX_STEPS = 10
# How far from its end a phrase is searched for a trailing qualifier or filler: the longest
# there is ("mentioned in the backstory", "in chapters 3, 5 and 7") is far shorter.
_SUFFIX_WINDOW = 100


def _strip_step(s: str, quals: set[str]) -> str | None:
    """Remove one leading or trailing qualifier/filler; None when nothing was removed."""
    m = _LEAD_PAREN.match(s)
    if m:
        quals |= _scan_qualifiers(m.group(1))
        return s[m.end() :]
    for pat, qual in tables().prefixes:
        m = pat.match(s)
        if m and m.end() < len(s):
            if qual:
                quals.add(qual)
            return s[m.end() :]
    m = _TRAIL_MODIFIER.search(s)  # "abuse (sexual)", "abuse - verbal"
    if m and m.start() > 0 and m.group(1) in tables().modifiers:
        return f"{m.group(1)} {s[: m.start()]}"
    trail = _trail_paren(s)  # "self-harm (brief)", "abuse [implied"
    if trail is not None and trail[0] > 0:
        quals |= _scan_qualifiers(trail[1])
        return s[: trail[0]]
    # a suffix ends the phrase, so only its tail is searched: on a phrase of AO3's length
    # (100) that is all of it, and a long phrase costs no more per step than a tag
    tail = max(0, len(s) - _SUFFIX_WINDOW)
    for pat, qual in tables().suffixes:
        m = pat.search(s, tail)
        if m and m.start() > 0:
            if qual:
                quals.add(qual)
            return s[: m.start()]
    return None


def _trail_paren(s: str) -> tuple[int, str] | None:
    """The trailing bracketed aside of ``s``, unclosed or closed by its last character:
    where it starts (with the space before it) and what it holds.

    Found from the last closing bracket before the end, not by a backtracking search,
    which took time quadratic in the length of "x((((...(a)y".
    """
    end = len(s) - 1 if s.endswith((")", "]")) else len(s)
    m = _TRAIL_OPEN.search(s, max(s.rfind(")", 0, end), s.rfind("]", 0, end)) + 1)
    return (m.start(), s[m.end() : end]) if m else None


def _negated(tax: Taxonomy, s: str, quals: set[str]) -> str | None:
    """None if the cleaned phrase ``s`` is not negated; else what it still declares after a
    turn ("no rape but there is sexual abuse" -> "there is sexual abuse"), or "".

    ``quals`` are the qualifiers already taken off the phrase ("Past X not shown").
    """
    if tax.resolve(s):
        return None
    m = _LEAD_PAREN.match(s)  # "(no) self harm"
    if _NEGATION.match(m.group(1) if m else s):
        turn = _TURN.search(s)
        return s[turn.end() :] if turn else ""
    m = _TRAIL_NEGATION.search(s)
    if m and m.start() > 0:
        head = s[: m.start()]
        # "rape mentioned but not depicted", "past abuse not shown", "abuse is a memory and
        # not depicted": it happened, out of sight; a declaration
        if (
            not _TURN.search(f"{head} ")
            and not _JOINED.search(head)
            and not (quals | _scan_qualifiers(head)) & _MENTION_LIKE
        ):
            return ""
    return None


def _map(tax: Taxonomy, phrase: str, depth: int = 0) -> Mapped:
    if len(phrase) > MAX_TAG_CHARS:
        return []
    s = _clean(phrase)
    quals: set[str] = set()
    for _ in range(_MAX_STEPS):
        if not s:
            return []
        rest = _negated(tax, s, quals)
        if rest is not None:
            return _map(tax, rest, depth + 1) if rest and depth < 3 else []
        found = tax.resolve(s)
        if found is not None:
            return _with_child(s, [(found, quals)], tax)
        nxt = _strip_step(s, quals)
        if nxt is None:
            return _with_child(s, _map_core(tax, s, quals, depth), tax)
        s = nxt.strip(_EDGE_PUNCT)
    return []  # still shedding words after _MAX_STEPS: "a - a - a - ...", not a tag


def _with_child(s: str, found: Mapped, tax: Taxonomy) -> Mapped:
    """Child sexual abuse declares child abuse too."""
    ids = {w.id for w, _ in found}
    if "sexual-assault" in ids and "child-abuse" not in ids and tables().child_sexual.search(s):
        quals = next(q for w, q in found if w.id == "sexual-assault")
        found = [*found, (tax.get("child-abuse"), quals)]
    return found


def _map_core(tax: Taxonomy, s: str, quals: set[str], depth: int) -> Mapped:
    # 1. a compound: "blood and injury" is an alias, but "self-harm/suicide" is two warnings;
    # a bare modifier shares the last part's noun: "sexual/physical abuse"
    parts = [p.strip(_EDGE_PUNCT) for p in _SPLIT.split(s) if p.strip(_EDGE_PUNCT)]
    if len(parts) > 1 and depth < 3:
        out: Mapped = []
        head_noun = parts[-1].split()[-1]
        for part in parts:
            found = _map(tax, part, depth + 1)
            if not found and part in tables().modifiers and len(parts[-1].split()) > 1:
                found = _map(tax, f"{part} {head_noun}", depth + 1)
            out.extend((w, q | quals) for w, q in found)
        if out:
            return _dedupe(out)
    # 2. rules that span a preposition: "violence against children"
    found = _stems(tax, s, quals, tables().compound_rules)
    if found:
        return found
    # 3. the head before a trailing clause: "abuse for one night", "self harm in chapter 3"
    m = _TRUNCATE.search(s)
    if m and m.start() > 0:
        head = s[: m.start()].strip(_EDGE_PUNCT)
        tail_quals = _scan_qualifiers(s[m.start() :])
        found = _map(tax, head, depth + 1) if depth < 3 else []
        if found:
            return [(w, q | quals | tail_quals) for w, q in found]
    # 4. word stems: "abusive endeavor", "bakugous mom is abusive", "pokemon abuse"
    found = _stems(tax, s, quals, tables().stem_rules)
    if found:
        return found
    # 5. an alias at the end of a longer tag: "canon typical gun violence"
    words = s.replace("-", " ").split()
    for i in range(1, len(words)):
        tail = " ".join(words[i:])
        if i == len(words) - 1 and (
            (len(tail) <= 3 and tail != "sex")
            or tail in tables().no_tail
            or (tail == "sex" and words[i - 1] in {"same", "opposite", "other", "either", "both"})
        ):
            continue
        w = tax.resolve(tail)
        if w is not None:
            return [(w, quals)]
    # 6. common misspellings of the words the rules look for: "absuive", "child negelct"
    if depth == 0:
        fixed = _fix_typos(s)
        if fixed != s:
            return _map_core(tax, fixed, quals, depth + 1)
    return []


def _fix_typos(s: str) -> str:
    import difflib  # the last resort only; keeps import time down

    vocabulary = tables().typo_vocabulary
    words = s.split()
    for i, word in enumerate(words):
        if len(word) >= 6 and word.isalpha() and word not in vocabulary:
            close = difflib.get_close_matches(word, vocabulary, n=3, cutoff=0.85)
            close = [c for c in close if c[:2] == word[:2]]  # not "amused" -> "abused"
            if close:
                words[i] = close[0]
    return " ".join(words)


def _stems(
    tax: Taxonomy,
    s: str,
    quals: set[str],
    rules: Rules,
) -> Mapped:
    s = _NEGATED_PART.sub(" | ", s)
    text = " " + re.sub(r"[-/&+,;:()\[\]]", " ", s) + " "
    out: Mapped = []
    for pat, ids in rules:
        m = pat.search(text)
        if m is None:
            continue
        text = text[: m.start()] + " | " + text[m.end() :]
        for wid in ids:
            if wid in tax:
                out.append((tax.get(wid), quals))
    return _dedupe(out)


def _dedupe(found: Mapped) -> Mapped:
    out: Mapped = []
    seen: set[str] = set()
    for w, q in found:
        if w.id not in seen:
            seen.add(w.id)
            out.append((w, q))
    return out


def map_tag_all(tag: str, taxonomy: Taxonomy | None = None) -> list[tuple[WarningDef, str | None]]:
    """Every warning a tag or list item names, each with its qualifier, in order."""
    tax = taxonomy or load_taxonomy()
    return [(w, _pick(q)) for w, q in _map(tax, tag)]


def map_tag(tag: str, taxonomy: Taxonomy | None = None) -> tuple[WarningDef, str | None] | None:
    """The warning one freeform tag names, with its qualifier; None if it names none.

    A tag that names several warnings ("Self-Harm/Suicide", "Childhood Sexual Abuse")
    gives the first; :func:`map_tag_all` gives them all.
    """
    found = map_tag_all(tag, taxonomy)
    return found[0] if found else None


# ---------------------------------------------------------------------------------------
# Free text: "TW: ...", "CW for ...", "Warnings: ..."


_CUE = re.compile(
    r"(?<![\w/])(?:"
    r"(?P<strong>(?:trigger|content)[\s-]*warnings?|content[\s-]*notes?|content advisory|"
    r"warnings?(?:\s*\(s\))?|heads[\s-]*up)"
    r"|(?P<abbr>tw\s*/\s*cw|cw\s*/\s*tw|tw/cn|tws|cws|tw|cw|t/w|c/w)"
    r"|(?P<cn>cn)"
    # "for this chapter", "in ch. 3": the word before the noun takes its own space and the
    # number is optional as a whole, so that no two parts compete for the same spaces
    r")(?:\s+(?:for|in)\s+(?:(?:this|the|these|all|each|every|later|some|certain|today'?s)\s*)?"
    r"(?:chapters?|chaps?|ch|fics?|story|stories|works?|parts?|one|update|oneshot)\b\.?"
    r"(?:\s*\d+)?)?"
    r"(?P<sep>[ \t]*[:;=>|/]+[ \t:=>|/-]*|[ \t]+[-–—]+[ \t]*|[ \t]*[-–—]+[ \t]+|[ \t]+for[ \t]+)?",
    re.IGNORECASE,
)
_NO_STOP_BEFORE_DOT = re.compile(
    r"\b(?:ch|chap|pt|vs|etc|e\.g|i\.e|mr|mrs|ms|dr|st|no)$", re.IGNORECASE
)
_BULLET = re.compile(r"^\s*(?:[-*•·+>]|\d+[.)])\s*")
_ABBR_THEN_WORD = re.compile(r"[ \t]+\w")
# Items are stripped after the split; spaces around the separator in the pattern would be
# searched from every space of a long run.
_ITEM_SPLIT = re.compile(r"[,;|•·\n]")
_LIST_GLUE = re.compile(r"^(?:and|or|also|plus|&)\s+", re.IGNORECASE)
# Where a list opens inside its first item: "none of the usual - no rape, violence"
_HEAD_SEP = re.compile(r"\s[-–—]+\s|:\s")
_OPEN, _CLOSE = "([{", ")]}"


def _segments(text: str) -> Iterator[str]:
    """The warning lists that follow cues in free text."""
    cues = [m for m in _CUE.finditer(text) if _is_cue(m, text)]
    for i, m in enumerate(cues):
        limit = cues[i + 1].start() if i + 1 < len(cues) else len(text)
        rest = text[m.end() : limit]
        line_end = rest.find("\n")
        if line_end >= 0 and not rest[:line_end].strip():
            # "Warnings:" alone on its line, the list below it
            yield from _bullet_block(rest[line_end + 1 :])
        else:
            yield rest[: _segment_end(rest)]


def _is_cue(m: re.Match[str], text: str) -> bool:
    """A cue needs a separator ("TW:", "CW for", "Warnings -"); "tw blood" is enough for tw/cw."""
    if m.group("sep"):
        return True
    return bool(m.group("abbr")) and _ABBR_THEN_WORD.match(text, m.end()) is not None


def _segment_end(rest: str) -> int:
    depth = 0
    for i, ch in enumerate(rest):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return i
            depth -= 1
        elif ch == "\n":
            return i
        elif ch in ".!?" and (i + 1 == len(rest) or rest[i + 1].isspace()):
            # the abbreviations are short: look back a few characters, not the whole text
            if ch == "." and _NO_STOP_BEFORE_DOT.search(rest, max(0, i - 5), i):
                continue
            return i
    return len(rest)


def _bullet_block(rest: str) -> Iterator[str]:
    for n, line in enumerate(rest.split("\n")):
        if not line.strip() or n >= 15:
            return
        if not _BULLET.match(line) and len(line) > 60:
            return
        yield _BULLET.sub("", line)


def _tidy(piece: str) -> str:
    """A list item without its edge punctuation and list glue ("and also vomiting")."""
    return _LIST_GLUE.sub("", piece.strip(_EDGE_PUNCT)).strip(_EDGE_PUNCT)


def _read_list(tax: Taxonomy, segment: str) -> Iterator[tuple[WarningDef, str | None, str]]:
    """The warnings one list declares: ``(warning, qualifier, item as written)``.

    A negation at the head of a list covers every later item of that list: "no self harm,
    suicide, or death", "none (no death, violence, or blood)", "free of violence, blood, and
    gore". The list ends at the bracket that closes it or at the end of the segment (the
    end of the sentence); a turn ("but blood", "except gore", "just blood") ends the
    negation there, and what follows it is read again.
    """
    depth = 0  # the bracket depth where the next piece starts
    negated: int | None = None  # the depth of the list that a negated head covers
    for n, piece in enumerate(_ITEM_SPLIT.split(segment)):
        start = depth
        depth, close, open_at = _brackets(piece, depth, negated)
        read = piece
        if negated is not None:
            inside, after = (piece, "") if close < 0 else (piece[:close], piece[close + 1 :])
            turn = _TURN.search(inside)
            if turn:
                read, negated = inside[turn.start() :] + after, None
            else:
                read, negated = after, (negated if close < 0 else None)
        elif open_at >= 0:  # "none (no death": the list in the brackets
            negated = depth if _heads_negated_list(tax, piece[open_at:]) else None
        elif n == 0:  # the first item: "no rape", "none of the usual - no rape"
            head = piece[_last_end(_HEAD_SEP, piece) :]
            negated = start if _heads_negated_list(tax, head) else None
        item = _tidy(read)
        if item and len(item) <= MAX_TAG_CHARS:
            # an item that opens with a turn declares what follows it: "not much, just blood"
            turn = _TURN.match(item)
            for w, q in _map(tax, item[turn.end() :] if turn else item):
                yield w, _pick(q), item


def _brackets(piece: str, depth: int, level: int | None) -> tuple[int, int, int]:
    """Follow the brackets of one list piece that starts at ``depth``: the depth where it
    ends, where it first closes below ``level`` (-1 if it does not), and where the list in
    its innermost bracket still open at its end begins (-1 if none is)."""
    close = -1
    opens: list[int] = []
    for i, ch in enumerate(piece):
        if ch in _OPEN:
            depth += 1
            opens.append(i + 1)
        elif ch in _CLOSE:
            depth -= 1
            if opens:
                opens.pop()
            if level is not None and depth < level and close < 0:
                close = i
    return depth, close, (opens[-1] if opens else -1)


def _last_end(pattern: re.Pattern[str], text: str) -> int:
    end = 0
    for m in pattern.finditer(text):
        end = m.end()
    return end


def _heads_negated_list(tax: Taxonomy, head: str) -> bool:
    """Whether ``head`` negates a warning in a way that carries on to the next items: "no
    rape", "free of violence", but not "none" alone, "not much", "nobody dies" or "no death
    but blood"."""
    s = _clean(head)
    m = _LIST_NEGATION.match(s)
    return (
        m is not None
        and len(s) <= MAX_TAG_CHARS
        and not _TURN.search(s)
        and bool(_map(tax, s[m.end() :]))
    )


def cue_lists(text: str, taxonomy: Taxonomy | None = None) -> list[tuple[str, set[str]]]:
    """Each warning list after a cue in ``text``, with the ids of the warnings it declares."""
    tax = taxonomy or load_taxonomy()
    return [(seg, {w.id for w, _, _ in _read_list(tax, seg)}) for seg in _segments(text)]


def find_declarations(
    text: str, taxonomy: Taxonomy | None = None, *, cue_required: bool = True
) -> list[tuple[WarningDef, str | None, str]]:
    """Warnings declared in free text: ``(warning, qualifier, item as written)``.

    With ``cue_required`` (the default) only lists after a cue count; without it, text with
    no cue at all is read as a bare list ("self-harm, blood"), as in a Warnings header.
    """
    tax = taxonomy or load_taxonomy()
    segments = list(_segments(text))
    if not segments and not cue_required:
        segments = [text]
    return [found for segment in segments for found in _read_list(tax, segment)]
