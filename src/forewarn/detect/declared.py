"""What the author declared: AO3 archive warnings, freeform tags and "TW:" lines.

:func:`declared_warnings` reads a :class:`~forewarn.work.Work`'s archive warnings, freeform
tags, content notes, summary and notes, and returns one :class:`Declared` per warning and
source. Free text (summary, notes) only counts after an explicit cue such as ``TW:``,
``CW for``, ``Warnings:``, ``trigger warning for`` or ``content warning:``; "she was warned"
declares nothing, nor do "Warnings: none" and "No warnings apply".

:func:`map_tag` maps one freeform tag (or one item of a warning list) to a warning. It
resolves the taxonomy's names and aliases after stripping qualifiers ("Implied/Referenced
X", "X - Mentioned", "Past X", "Graphic X", "(brief)"...), splits compound tags ("Blood
and Injury", "Self-Harm/Suicide"), recognises an alias at the end of a longer tag ("Really
Horrible Child Abuse") and falls back to word-stem rules ("Abusive Endeavor", "Bakugou's
mom is abusive"). Tags that name no warning map to ``None``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from forewarn.taxonomy import Taxonomy, WarningDef, load_taxonomy
from forewarn.work import Work

__all__ = [
    "QUALIFIERS",
    "SOURCES",
    "Declared",
    "declared_warnings",
    "find_declarations",
    "map_tag",
    "map_tag_all",
    "qualifier_severity",
]

SOURCES = ("archive_warning", "freeform_tag", "content_notes", "summary", "notes")
QUALIFIERS = ("implied", "mentioned", "referenced", "past", "minor", "brief", "graphic")
# When a phrase carries several qualifiers, the first of these wins.
_PRECEDENCE = ("implied", "referenced", "mentioned", "past", "graphic", "brief", "minor")
_MENTION_LIKE = frozenset({"implied", "mentioned", "referenced", "past"})


@dataclass(frozen=True, slots=True)
class Declared:
    """One warning the author declared.

    ``source`` is where it was declared (one of :data:`SOURCES`); ``text`` the tag or list
    item as written; ``qualifier`` one of :data:`QUALIFIERS` or None; ``severity`` what the
    declaration says about strength: ``graphic`` ("Graphic Depictions Of Violence",
    "Graphic X"), ``mentioned`` (implied/mentioned/referenced/past) or None.
    """

    warning: str
    source: str
    text: str
    qualifier: str | None = None
    severity: str | None = None


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


# fmt: off
_SEP = r"(?:\s*(?:/|,|&|\+|:|-)\s*|\s+(?:or|and)\s+|\s+)"

_PREFIX_QUALIFIERS: dict[str, list[str]] = {
    "implied": [
        "implied", "implies", "implying", r"implications?(?: of)?", r"implicit(?:ly)?",
        r"hints?(?: of| at| to| towards?)?", r"hinted(?: at)?", r"suggestions?(?: of)?",
        "suggested", "suggestive of", r"allusions?(?: to)?", r"alluded(?: to)?",
        r"alludes? to", r"undertones? of", "insinuated", r"subtext(?: of)?",
    ],
    "mentioned": [
        r"mentions?(?: of)?", "mentioned", "mentioning", r"talk(?:s|ing)? (?:of|about)",
        r"discussions?(?: of| about| around)?", "discussed", r"discussing",
        r"conversations? (?:of|about|around)", r"thoughts? (?:of|about)",
        r"memor(?:y|ies) of", "remembered", r"nods? to",
    ],
    "referenced": [
        r"references?(?: to)?", "referenced", "referencing", r"refs?(?: to)?",
        r"referred(?: to)?", r"references? (?:of|about)",
    ],
    "past": [
        "past", "previous", "prior", "former", "old", "historical", r"history of",
        "backstory", "earlier", "childhood trauma from",
    ],
    "minor": [r"minor(?! characters?\b)", "mild", "mildly", "slight", "slightly", "light", "lightly", "small"],
    "brief": ["brief", "briefly", "short", "quick", "a single", "momentary", r"passing"],
    "graphic": [
        r"graphic(?:ally)?(?: depictions?| descriptions?| scenes?)?(?: of)?",
        r"explicit(?:ly)?(?: depictions?| descriptions?)?(?: of)?",
        r"detailed(?: depictions?| descriptions?)?(?: of)?", "gratuitous",
        r"in detail", "very graphic", "extremely graphic", "gory depictions of",
    ],
}

_PREFIX_FILLERS = [
    # warning cues left at the start of a tag ("TW: self harm", "cw for blood")
    r"(?:trigger|content)\s*warnings?(?:\s*for)?", r"content\s*notes?(?:\s*for)?",
    r"tw\s*/\s*cw", r"cw\s*/\s*tw", r"tws?(?:\s*for)?", r"cws?(?:\s*for)?", r"cn",
    r"warnings?(?:\s*for)?", r"heads?\s*up(?:\s*for)?", r"warning\s*:",
    # graphic-negating and stance words
    (r"not\s+(?:very\s+|too\s+|overly\s+|super\s+|that\s+|really\s+|at all\s+)?"
    r"(?:graphic|explicit|detailed|descriptive)(?:ally)?"),
    r"non[- ]?(?:graphic|explicit|descriptive|detailed)", r"nothing\s+(?:graphic|explicit)",
    # quantity and intensity
    "the", "a", "an", "some", r"lots? of", r"a lot of", r"a lotta", r"plenty of", r"tons of",
    r"a (?:little )?bit of", r"little bit of", r"bit of", r"a dash of", r"a touch of",
    r"a sprinkle of", r"a tiny", r"a little", r"a few", r"sort of", r"kind of", "kinda", "sorta",
    "very", "really", "extremely", "heavily", "heavy", "strongly", "somewhat", "pretty", "quite",
    "more", "much", "huge", "general", "generic", "serious", "severe", "intense", "constant",
    "ongoing", "current", "actual", "possible", "possibly", "potential", "potentially",
    "vague", "vaguely", "ambiguous", "oblique", "obvious", "frequent", "repeated", "casual",
    "canonical", r"canon[- ]?(?:typical|compliant|complicit|accurate|level|appropriate)?",
    r"period[- ]?(?:typical|appropriate)", r"in[- ]?universe", "background", "offscreen",
    r"off[- ]?(?:screen|page|camera)", r"on[- ]?(?:screen|page)",
    r"depictions?(?: of)?", r"descriptions?(?: of)?", "depicted", "described",
    r"themes?(?: of)?", r"elements? of", r"scenes? (?:of|with|involving)", r"aftermath of",
    r"effects of", r"consequences of", r"deal(?:s|ing)? with", r"aspects? of",
    # list glue and "this story contains ..."
    "and", "or", "also", "plus", "with", "including", "includes", "include", "contains",
    "containing", "contain", "features", "featuring", "depicts", "involving", "involves",
    r"may (?:contain|include|feature|involve)", "except", r"apart from", r"other than",
    "besides", "but", "for", "of", "about", "regarding", "re",
    r"there (?:is|are|will be|s|may be|might be)", r"theres?",
    (r"(?:this|the) (?:chapter|fic|story|work|one|part|book|series) (?:contains|has|includes|"
    r"deals with|features|depicts|mentions|involves|discusses|references|will contain)"),
    r"(?:this|the) (?:chapter|fic|story|work|one|part)",
    r"(?:minor|side|background|secondary|original) (?=characters?\b)",
]

_SUFFIX_QUALIFIERS: dict[str, list[str]] = {
    "implied": [
        "implied", r"(?:is|are|heavily|vaguely|strongly) implied", r"hinted(?: at)?",
        r"alluded(?: to)?", "ish",
    ],
    "mentioned": [
        r"mentions?", "mentioned", r"(?:is|are|only|briefly|just) mentioned",
        r"mentioned (?:briefly|only|once)", r"mention only",
    ],
    "referenced": [r"references?", "referenced", r"refs?", r"(?:is|are) referenced"],
    "past": [
        "past", r"in (?:the )?past", r"(?:in|from) (?:the )?(?:backstory|flashbacks?)",
        "backstory", r"flashbacks?", r"(?:is|are|was|were) in the past",
    ],
    "graphic": [r"graphic(?:ally)?", r"(?:in|with) (?:graphic )?detail", r"described in detail"],
    "brief": [r"brief(?:ly)?", r"only briefly", r"for a (?:moment|bit|second)"],
    "minor": [r"minor(?! characters?\b)", "mild", "slight", "light", "lite"],
}

_SUFFIX_FILLERS = [
    "tw", "cw", r"warnings?", r"trigger warnings?", r"content warnings?", r"elements?",
    r"themes?", "content", r"issues?", "stuff", r"scenes?", r"discussions?", "talk",
    r"depictions?", r"descriptions?", "described", "depicted", "shown", r"happens?",
    r"occurs?", "present", "included", r"involved", "ahead", r"just (?:in case|to be safe)",
    r"to be safe", r"i guess", r"and (?:stuff|more|such|so on|things)", "etc", "freeform",
    r"at (?:the end|the start|the beginning|one point|some point|times)",
    r"in (?:the )?(?:beginning|end|middle)", r"later(?: on)?", "throughout", "everywhere",
    r"off[- ]?(?:screen|page)", r"on[- ]?(?:screen|page)", "offscreen", "onscreen",
    (r"(?:but )?(?:not|non|nothing|never) (?:too |very |super |really |that |overly )?"
    r"(?:graphic|explicit|detailed|descriptive)(?:ally)?"),
    r"non[- ]?(?:graphic|explicit)", r"if you squint",
    (r"(?:in |for |during |from )?(?:the |this |these |later |some |certain |a few |one |"
    r"first |last |final |next )?(?:ch|chs|chap|chaps|chapters?|parts?)(?:\s*\d+"
    r"(?:\s*(?:-|,|&|and|to)\s*\d+)*)?(?: only)?"),
    r"only",
]
# fmt: on

_NEGATION = re.compile(
    r"^(?:no|not|without|w/o|nobody|noone|no one|never|zero|none|nothing|minus|sans|"
    r"there (?:is|are|will be|s) no|theres no|isnt|arent|doesnt|dont|absolutely no|"
    r"lack of|absence of|free of)\b"
    r"(?!\s*(?:very |too |overly |super |that |really |at all |extremely |particularly |"
    r"incredibly |especially )?"
    r"(?:graphic|explicit|detailed|descriptive))"
)
_NOT_GRAPHIC = re.compile(r"\b(?:not|non|nothing|never|isnt|no)[- ]+(?:\w+ )?(?:graphic|explicit)")


def _compile_affixes(
    table: dict[str, list[str]], fillers: list[str], *, prefix: bool
) -> list[tuple[re.Pattern[str], str | None]]:
    items: list[tuple[str, str | None]] = [(w, q) for q, words in table.items() for w in words] + [
        (w, None) for w in fillers
    ]
    out = []
    for word, qual in items:
        if prefix:
            # a prefix qualifier may be followed by "/", "or", "&"... and another qualifier
            pat = rf"^(?:{word})(?:\b|(?=[/&,:(-]))(?:{_SEP})?" if qual else rf"^(?:{word})\b\s*"
        else:
            pat = rf"(?:^|\s*[-–—:,(\[]\s*|\s+)(?:{word})\s*[)\]]?$"
        out.append((re.compile(pat), qual))
    # longest alternatives first, so "graphic depictions of" beats "graphic"
    out.sort(key=lambda pq: -len(pq[0].pattern))
    return out


_PREFIXES = _compile_affixes(_PREFIX_QUALIFIERS, _PREFIX_FILLERS, prefix=True)
_SUFFIXES = _compile_affixes(_SUFFIX_QUALIFIERS, _SUFFIX_FILLERS, prefix=False)
_LEAD_PAREN = re.compile(r"^[(\[]([^)\]]*)[)\]]\s*")
_TRAIL_PAREN = re.compile(r"\s*[(\[]([^)\]]*)[)\]]?$")

_SCAN_QUALIFIERS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (q, re.compile(p))
    for q, p in (
        ("implied", r"\b(?:impl\w*|hint\w*|allu\w*|suggest\w*|insinuat\w*)"),
        ("mentioned", r"\b(?:mention\w*|discuss\w*|talk\w*)"),
        ("referenced", r"\b(?:referen\w*|refs?)\b"),
        ("past", r"\b(?:past|previous\w*|backstory|flashback\w*|prior|history)\b"),
        ("minor", r"\b(?:minor|mild\w*|slight\w*|light\w*)\b"),
        ("brief", r"\b(?:brief\w*|short|quick\w*)\b"),
        ("graphic", r"\b(?:graphic\w*|explicit\w*|detailed|in detail)\b"),
    )
)


def _scan_qualifiers(text: str) -> set[str]:
    found = {q for q, pat in _SCAN_QUALIFIERS if pat.search(text)}
    if "graphic" in found and _NOT_GRAPHIC.search(text):
        found.discard("graphic")
    return found


def _pick(qualifiers: set[str]) -> str | None:
    for q in _PRECEDENCE:
        if q in qualifiers:
            return q
    return None


# ---------------------------------------------------------------------------------------
# Stem rules: the last resort, for tags that name a warning without using an alias.

_CHILD = (
    r"(?:child|children|childhood|kid|kids|infant|baby|toddler|minor|minors|underage|young|"
    r"youth|teen|teenage|son|daughter|boy|girl)"
)
_KIN = (
    r"(?:parent|parents|parental|father|fathers|mother|mothers|dad|dads|mom|moms|mum|mums|"
    r"mommy|daddy|familial|family|families|household|home|stepfather|stepmother|stepdad|"
    r"stepmom|step dad|step mom|guardian|guardians|uncle|aunt|grandfather|grandmother|"
    r"grandparents?|upbringing|sibling|siblings|brother|sister)"
)
_CHILD_SEXUAL = re.compile(
    rf"\b{_CHILD}\w*\s+(?:sexual(?:ly)?\s+(?:abus|assault|molest|exploit)\w*|sex\s+abus\w*|"
    rf"rape\w*|molest\w*)|\bcsa\b|\bp(?:a)?edophil\w*|\bgrooming\b|"
    rf"\bsexual(?:ly)?\s+abus\w*\s+(?:of\s+|as\s+)?(?:a\s+)?{_CHILD}\b|"
    r"\bmolest\w*\s+(?:as\s+)?(?:a\s+)?(?:child|kid)\b|\bcocsa\b|\bcsem\b|\bchild\s?molest\w*|"
    rf"\bsexual(?:ly)?\s+{_CHILD}\w*\s+abus\w*|"
    r"\bsexual\w*\s+(?:violen|abus|assault|exploit)\w*\s+(?:against|of|on|towards?)\s+"
    r"(?:an?\s+|the\s+)?(?:child|children|kids?|minors?)\b"
)

_ANIMAL = (
    r"(?:animals?|pets?|dogs?|puppy|puppies|cats?|kittens?|horses?|livestock|chickens?|birds?|"
    r"cows?|pigs?|rabbits?|creatures?|wildlife|pokemon|pokémon)"
)
_PARTNER = (
    r"(?:spouses?|partners?|wife|wives|husbands?|boyfriends?|girlfriends?|lovers?|"
    r"relationships?|family|families|family members?)"
)

# fmt: off
# Rules whose words span a preposition ("violence against children"): tried before a tag is
# cut at its first function word, and again among the other stem rules.
_COMPOUND_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (_CHILD_SEXUAL.pattern, ("sexual-assault", "child-abuse")),
    (
        (rf"\b(?:violen\w*|cruel\w*|tortur\w*|harm\w*|hurt\w*|injur\w*|abus\w*|neglect\w*|"
         rf"mistreat\w*)\s+(?:\w+\s+)?(?:of|to|towards?|against|on)\s+(?:an?\s+|the\s+|"
         rf"small\s+|poor\s+|innocent\s+|some\s+)*{_ANIMAL}\b|"
         rf"\b(?:hurt|harmed|injured|abused|mistreated|tortured|wounded|beaten)\s+(?:\w+\s+)?"
         rf"{_ANIMAL}\b|\b{_ANIMAL}\s+(?:\w+\s+)?(?:being\s+|were\s+|was\s+|is\s+|are\s+|"
         rf"gets?\s+|getting\s+)?(?:harm|hurt|injur|abus|mistreat|tortur|violen)\w*"),
        ("animal-cruelty",),
    ),
    (
        (rf"\b(?:violen\w*|cruel\w*|harm\w*|abus\w*|mistreat\w*)\s+(?:\w+\s+)?"
         rf"(?:to|towards?|against|on)\s+(?:an?\s+|the\s+|small\s+|young\s+|his\s+|her\s+|"
         rf"their\s+)*(?:child|children|kids?|minors?|babies|baby|infants?|sons?|daughters?)\b|"
         rf"\b(?:child|parental|parent on child|parent child)\s+violen\w*|"
         rf"\b(?:beaten|hit|slapped|hurt|beat|hits|slaps)\s+by\s+(?:his\s+|her\s+|their\s+|"
         rf"a\s+|the\s+)?{_KIN}\b|\b(?:hitting|beating|slapping)\s+(?:a\s+|his\s+|her\s+|"
         rf"their\s+)?(?:child|children|kids?|sons?|daughters?)\b"),
        ("child-abuse",),
    ),
    (
        (rf"\b(?:violen\w*|abus\w*)\s+(?:\w+\s+)?(?:in|towards?|against|within|between)\s+"
         rf"(?:an?\s+|the\s+|his\s+|her\s+|their\s+)?{_PARTNER}\b|"
         rf"\b(?:home|family|familial|inter family|partner|relationship|spousal|dating|couple|"
         rf"intimate partner)\s+violen\w*|"
         rf"\bcontrolling\s+(?:\w+\s+)?(?:{_PARTNER}|{_KIN})\b"),
        ("abuse",),
    ),
)

_STEM_RULES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(p), ids)
    for p, ids in (
        # most specific first: a rule's match is removed before the next rules look
        (
            (r"\b(?:drug|drugs|substance|substances|alcohol|narcotic|opioid|pill|pills)\s+"
            r"(?:ab)?use\b|\baddict\w*|\balcoholi\w*|\boverdos\w*"),
            ("addiction",),
        ),
        (r"\bself\s?(?:harm\w*|injur\w*|mutilat\w*|abus\w*)", ("self-harm",)),
        (r"\bsuicid\w*", ("suicide",)),
        (_CHILD_SEXUAL.pattern, ("sexual-assault", "child-abuse")),
        (
            (r"\bsexual(?:ly)?\s+(?:abus|assault|violen|harass|exploit|coerc|tortur|traum|hazing|"
            r"maltreat|mistreat)\w*|\bsex\s+abuse\b|\babus(?:e|ive)\s+sex\b|sexual\s?abus\w*|"
            r"\babus sexuel\w*|\babusos sexuales|\bsexual (?:offen[cs]e|crimes?|victim)\w*|"
            r"\brap(?:e|ed|es|ing|ist|ists|ey)\b|\bnon\s?con\w*|\bdub\s?con\w*|\bmolest\w*|"
            r"\bnon\s?consensual\w*|\babuso sexual|\babus sexuel|\bsexuelle[rn]? missbrauch|"
            r"性侵\w*|性虐待|сексуальн\w*\s+(?:насили\w*|посягательств\w*)"),
            ("sexual-assault",),
        ),
        *_COMPOUND_RULES,
        (
            (r"\banimals?\s+(?:\w+\s+)?(?:abus|cruel|neglect|harm|tortur|mistreat)\w*|"
            r"\bcruelty\s+(?:to|towards?)\s+animals?|"
            r"\b(?:abus\w*|cruel\w*|neglect\w*|tortur\w*|harm\w*|mistreat\w*)\s+"
            r"(?:of\s+|to\s+|towards?\s+)?(?:an?\s+|the\s+)?"
            r"(?:animals?|pets?|dogs?|cats?|horses?|pokemon|pokémon)\b|"
            r"\b(?:pokemon|pokémon|pets?|dogs?|cats?|horses?)\s+(?:abus|cruel)\w*|\bdog\s?fight\w*|"
            r"虐猫|虐待动物|残杀动物|животн\w*|\bmaltrat\w* animal\w*|\bmaltraitance animale"),
            ("animal-cruelty",),
        ),
        (
            (r"\bverbal(?:ly)?\s+(?:abus|assault|harass|bully)\w*|\babus\w*\s+language|"
            r"\b(?:abus\w*|verbal)\s*\(?\s*verbal|\bslurs?\b|\bname\s?calling|"
            r"\babus verbal\b|\babusoverbal|\babuseverbal|\bverbal\w* violen\w*|\bviolen\w* verba\w*|"
            r"\bviolent (?:dialogue|language|words)|语言暴力"),
            ("abusive-language",),
        ),
        (
            (rf"\b{_CHILD}\w*\s+(?:abus|neglect|endanger|maltreat|mistreat|beat)\w*|"
            rf"\b(?:abus|neglect|maltreat|beat)\w*\s+(?:of\s+|as\s+)?(?:a\s+|the\s+|his\s+|her\s+"
            rf"|their\s+)?(?:child|children|kids?|baby|infant|son|daughter)\b|"
            rf"\b{_KIN}\s+(?:\w+\s+)?(?:abus|neglect)\w*|"
            rf"\babus\w*\s+(?:\w+\s+)?{_KIN}\b|"
            rf"\b(?:abus\w*|neglect\w*)\s+(?:\w+\s+)?(?:at the hands of|by|from)\s+(?:a\s+|the\s+|"
            rf"his\s+|her\s+|their\s+|\w+s\s+)?{_KIN}\b|"
            rf"\b{_KIN}\s+(?:is|was|are|were)\s+(?:\w+\s+)?(?:abusive|neglectful)|"
            r"(?<!self )(?<!self-)\bneglect\w*|\bnegligen\w*|\bnégligen\w*|\babandon(?:ed|ment)\b|"
            r"\babuso infantil|\babuso de niñ\w*|\bkindes\w*|虐童|虐待儿童|아동학대|"
            r"насили\w* над (?:дет|ребен|ребён)\w*|жесток\w* обращени\w* с (?:дет|ребен|ребён)\w*|"
            r"child\s?abus\w*|týrání dítěte|"
            r"znęcanie się nad dziećmi|父母的虐待"),
            ("child-abuse",),
        ),
        (
            (r"\babus(?:e|es|ed|ing|ive|ively|er|ers|iveness)\b|\babuse\w*|\bgaslight\w*|"
            r"\bmistreat\w*|\bill[- ]?treat\w*|(?<!dis)abus(?:e|ed|ive)|\babus\b|\bgasli\w*|"
            r"\bviolent home|\bviolen\w* (?:familiales?|conjugales?|psicol[oó]gica|psychologique)|"
            r"домашн\w* насили\w*|психологическ\w* насили\w*|"
            r"\bdomestic(?:\s+\w+)?\s+(?:violen\w*|abuse|assault|fights?)|\bbattered\b|"
            r"\bcoercive control|\bviolen\w* (?:domestique|domestica|doméstica|familiar|intrafamiliar)|"
            r"\bprzemoc domow\w*|"
            r"\bbully(?:ing)\b|\bbullied\b|\bbullies\b|\bstalk(?:ing|er|ers|ed)\b|"
            r"\babuz\w*|\babuso\w*|\babusiv\w*|\bmaltrat\w*|\bmaltrait\w*|\bmissbrauch\w*|"
            r"\bhäusliche gewalt|\bviolência doméstica|\bviolencia doméstica|\bабьюз\w*|"
            r"домашнее насилие|虐待|家暴|家庭暴力|冷暴力|精神暴力|施暴|학대|\bznęca\w*|"
            r"\btýrání\b|\bbántalmaz\w*|\bzneuží\w*|\bnásilnick\w*"),
            ("abuse",),
        ),
        (r"\bmiscarr\w*|\bstill\s?b(?:irth|orn)\w*", ("miscarriage",)),
        (r"\babortion\w*", ("abortion",)),
        (r"\bpregnan\w*|\bmpreg\b", ("pregnancy",)),
        (r"\bincest\w*", ("incest",)),
        (r"\beating disorder\w*|\banorexi\w*|\bbulimi\w*", ("eating-disorders",)),
        (r"\bkidnap\w*|\babduct\w*", ("kidnapping",)),
        (r"\bhomophob\w*", ("homophobia",)),
        (r"\btransphob\w*", ("transphobia",)),
        (r"\bracis[mt]\w*", ("racism",)),
        (r"\bmisogyn\w*", ("misogyny",)),
        (r"\bsexis[mt]\w*", ("sexism",)),
        (r"\bableis[mt]\w*", ("ableism",)),
        (r"\bfat\s?(?:phob|sham)\w*", ("fatphobia",)),
        (r"\bemeto\w*|\bvomit\w*|\bpuk(?:e|es|ed|ing)\b", ("vomiting",)),
        (r"\bgore\b|\bgory\b|\bgorey\b", ("blood-gore",)),
        (r"\btortur\w*|\bmurder\w*", ("violence",)),
        (r"\bgenocid\w*|\bmassacr\w*", ("war",)),
        (r"\bautops\w*|\bvivisect\w*|\bdissect\w*", ("dissection",)),
        (r"\bunderage\s+(?:sex\w*|smut|porn\w*)", ("underage",)),
        (r"\b(?:dies|died)\b|\bcharacter deaths?\b", ("death",)),
    )
)

# Single words that may not be matched at the end of a longer tag ("Vampire Blood", "Star
# Wars", "Prank War", "Hair Cutting", "Child Labor", "Food Porn", "Knitting Needles").
_NO_TAIL = frozenset(
    {
        "blood", "death", "dead", "war", "dying", "birth", "labor", "labour", "fighting", "battle",
        "combat", "torture", "neglect", "cutting", "porn", "lemon", "needle", "madness",
        "execution", "shooting", "beating", "killing", "grief", "riot", "stitches", "wound",
        "hospital", "relapse", "withdrawal", "trafficking", "drugs", "assault",
        "brawl", "captivity", "manipulation", "mourning", "funeral", "bombing", "violent",
        "abusive", "abuser", "dysphoria", "body image", "nausea", "anxiety", "depression",
        "paranoia", "emeto", "vomit", "corpse", "explicit", "pregnant", "hostage",
    }
)
# fmt: on

_COMPOUND_PATTERNS = tuple((re.compile(p), ids) for p, ids in _COMPOUND_RULES)
# Words that qualify a shared noun: "sexual/physical abuse", "abuse (verbal)".
_MODIFIERS = frozenset(
    {
        "sexual", "physical", "emotional", "verbal", "mental", "psychological", "domestic",
        "child", "childhood", "animal", "spousal", "parental", "familial", "financial",
        "sexually", "physically", "emotionally", "verbally", "mentally", "psychologically",
    }
)  # fmt: skip
_TRAIL_MODIFIER = re.compile(r"\s*(?:[-:,(\[]\s*|\s-\s*)(\w+)\s*[)\]]?$")
_TYPO_VOCABULARY = (
    "abusive", "abused", "abuser", "neglect", "neglected", "neglectful", "violence", "domestic",
    "cruelty", "molestation", "relationship", "parents", "emotional", "psychological",
    "physical", "mistreatment", "manipulation", "gaslighting", "suicidal", "miscarriage",
)  # fmt: skip

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
    for pat, qual in _PREFIXES:
        m = pat.match(s)
        if m and m.end() < len(s):
            if qual:
                quals.add(qual)
            return s[m.end() :]
    m = _TRAIL_MODIFIER.search(s)
    if m and m.start() > 0 and m.group(1) in _MODIFIERS:  # "abuse (sexual)", "abuse - verbal"
        return f"{m.group(1)} {s[: m.start()]}"
    m = _TRAIL_PAREN.search(s)
    if m and m.start() > 0:
        quals |= _scan_qualifiers(m.group(1))
        return s[: m.start()]
    for pat, qual in _SUFFIXES:
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
    if "sexual-assault" in ids and "child-abuse" not in ids and _CHILD_SEXUAL.search(s):
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
            if not found and part in _MODIFIERS and len(parts[-1].split()) > 1:
                found = _map(tax, f"{part} {head_noun}", depth + 1)
            out.extend((w, q | quals) for w, q in found)
        if out:
            return _dedupe(out)
    # 2. rules that span a preposition: "violence against children"
    found = _stems(tax, s, quals, _COMPOUND_PATTERNS)
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
    found = _stems(tax, s, quals, _STEM_RULES)
    if found:
        return found
    # 5. an alias at the end of a longer tag: "canon typical gun violence"
    words = s.replace("-", " ").split()
    for i in range(1, len(words)):
        tail = " ".join(words[i:])
        if i == len(words) - 1 and (
            (len(tail) <= 3 and tail != "sex")
            or tail in _NO_TAIL
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

    words = s.split()
    for i, word in enumerate(words):
        if len(word) >= 6 and word.isalpha() and word not in _TYPO_VOCABULARY:
            close = difflib.get_close_matches(word, _TYPO_VOCABULARY, n=3, cutoff=0.85)
            close = [c for c in close if c[:2] == word[:2]]  # not "amused" -> "abused"
            if close:
                words[i] = close[0]
    return " ".join(words)


def _stems(
    tax: Taxonomy,
    s: str,
    quals: set[str],
    rules: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...],
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


# ---------------------------------------------------------------------------------------
# A work


def declared_warnings(work: Work, taxonomy: Taxonomy | None = None) -> list[Declared]:
    """Every warning the author of ``work`` declared, one per (warning, source)."""
    tax = taxonomy or load_taxonomy()
    out: list[Declared] = []
    seen: set[tuple[str, str]] = set()

    def add(w: WarningDef, source: str, text: str, qual: str | None, sev: str | None) -> None:
        if (w.id, source) not in seen:
            seen.add((w.id, source))
            out.append(Declared(w.id, source, text.strip(), qual, sev))

    for text in work.archive_warnings:
        for piece in _archive_pieces(tax, text):
            entry = tax.ao3_archive_warning(piece)
            if entry is not None:
                if entry[0] is not None:
                    add(entry[0], "archive_warning", piece, None, entry[1])
                continue
            for w, q in map_tag_all(piece, tax):
                add(w, "archive_warning", piece, q, qualifier_severity(q))

    for tag in work.freeform_tags:
        for w, q in map_tag_all(tag, tax):
            add(w, "freeform_tag", tag, q, qualifier_severity(q))

    for note in work.content_notes:
        for w, q, item in find_declarations(note, tax, cue_required=False):
            add(w, "content_notes", item, q, qualifier_severity(q))

    for source, text in (("summary", work.summary), ("notes", work.notes)):
        if text:
            for w, q, item in find_declarations(text, tax):
                add(w, source, item, q, qualifier_severity(q))
    return out


def _archive_pieces(tax: Taxonomy, text: str) -> list[str]:
    """An archive-warning field, split when it holds several ("A, B")."""
    if tax.ao3_archive_warning(text) is not None or "," not in text:
        return [text]
    return [p.strip() for p in text.split(",") if p.strip()]
