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
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from forewarn.declared.tables import Rules, tables
from forewarn.taxonomy import Taxonomy, WarningDef, load_taxonomy

__all__ = [
    "QUALIFIERS",
    "find_declarations",
    "map_tag",
    "map_tag_all",
    "qualifier_severity",
]

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
_EDGE_PUNCT = " \t\n:,;.-–—~*/&+'\""


def _clean(text: str) -> str:
    s = unicodedata.normalize("NFKC", text)
    for esc, char in _AO3_ESCAPES:
        s = s.replace(esc, char)
    s = _CAMEL.sub(" ", s)  # "MentionsOfAbuse"
    s = _APOSTROPHE.sub("", s.casefold())
    s = re.sub(r"\s*[-–—]\s*freeform\s*$", "", s)
    s = _NON_SEXUAL.sub(" ", s)  # "non-sexual child abuse" is not sexual abuse
    s = _NOISE.sub(" ", s)
    s = re.sub(r"[–—]", "-", s)
    return " ".join(s.split()).strip(_EDGE_PUNCT)


# ---------------------------------------------------------------------------------------
# Qualifiers


_NEGATION = re.compile(
    r"^(?:no|not|without|w/o|nobody|noone|no one|never|zero|none|nothing|minus|sans|"
    r"there (?:is|are|will be|s) no|theres no|isnt|arent|doesnt|dont|absolutely no|"
    r"lack of|absence of|free of)\b"
    r"(?!\s*(?:very |too |overly |super |that |really |at all |extremely |particularly |"
    r"incredibly |especially )?"
    r"(?:graphic|explicit|detailed|descriptive))"
)
_NOT_GRAPHIC = re.compile(r"\b(?:not|non|nothing|never|isnt|no)[- ]+(?:\w+ )?(?:graphic|explicit)")
_LEAD_PAREN = re.compile(r"^[(\[]([^)\]]*)[)\]]\s*")
_TRAIL_PAREN = re.compile(r"\s*[(\[]([^)\]]*)[)\]]?$")


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
    m = _TRAIL_PAREN.search(s)
    if m and m.start() > 0:
        quals |= _scan_qualifiers(m.group(1))
        return s[: m.start()]
    for pat, qual in tables().suffixes:
        m = pat.search(s)
        if m and m.start() > 0:
            if qual:
                quals.add(qual)
            return s[: m.start()]
    return None


def _map(tax: Taxonomy, phrase: str, depth: int = 0) -> Mapped:
    s = _clean(phrase)
    quals: set[str] = set()
    while s:
        if _NEGATION.match(s) and not tax.resolve(s):
            # "no rape but there is sexual abuse": only the clause after "but" declares
            _, but, rest = s.partition(" but ")
            return _map(tax, rest, depth + 1) if but and depth < 3 else []
        found = tax.resolve(s)
        if found is not None:
            return _with_child(s, [(found, quals)], tax)
        nxt = _strip_step(s, quals)
        if nxt is None:
            break
        s = nxt.strip(_EDGE_PUNCT)
    if not s:
        return []
    return _with_child(s, _map_core(tax, s, quals, depth), tax)


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
    r"|(?P<abbr>tw\s*/\s*cw|cw\s*/\s*tw|tw/cn|tws|cws|tw|cw)"
    r"|(?P<cn>cn)"
    r")(?:\s+(?:for|in)\s+(?:this|the|these|all|each|every|later|some|certain|today'?s)?\s*"
    r"(?:chapters?|chaps?|ch|fics?|story|stories|works?|parts?|one|update|oneshot)\b\.?\s*"
    r"\d*)?"
    r"(?P<sep>[ \t]*[:=>|/]+[ \t:=>|/-]*|[ \t]+[-–—]+[ \t]*|[ \t]*[-–—]+[ \t]+|[ \t]+for[ \t]+)?",
    re.IGNORECASE,
)
_NO_STOP_BEFORE_DOT = re.compile(
    r"\b(?:ch|chap|pt|vs|etc|e\.g|i\.e|mr|mrs|ms|dr|st|no)$", re.IGNORECASE
)
_BULLET = re.compile(r"^\s*(?:[-*•·+>]|\d+[.)])\s*")
_ITEM_SPLIT = re.compile(r"\s*[,;|•·]\s*|\n")


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
    return bool(m.group("abbr")) and re.match(r"[ \t]+\w", text[m.end() :]) is not None


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
            if ch == "." and _NO_STOP_BEFORE_DOT.search(rest[:i]):
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


def _items(segment: str) -> Iterator[str]:
    for item in _ITEM_SPLIT.split(segment):
        item = re.sub(
            r"^(?:and|or|also|plus|&)\s+", "", item.strip(_EDGE_PUNCT), flags=re.IGNORECASE
        )
        item = item.strip(_EDGE_PUNCT)
        if item:
            yield item


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
    out: list[tuple[WarningDef, str | None, str]] = []
    for segment in segments:
        for item in _items(segment):
            for w, q in _map(tax, item):
                out.append((w, _pick(q), item))
    return out
