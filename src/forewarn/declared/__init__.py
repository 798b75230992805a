"""What the author declared: AO3 archive warnings, freeform tags and "TW:" lines.

:func:`declared_warnings` reads a :class:`~forewarn.work.Work`'s archive warnings, freeform
tags, content notes, summary and notes, and returns one :class:`DeclaredWarning` per
warning and source. Free text (summary, notes) only counts after an explicit cue such as
``TW:``; content notes are read as a list. :func:`archive_pieces` splits an archive-warning
field into its archive warnings (the audit reads the same pieces).

The package: :mod:`forewarn.declared.parse` reads one tag (:func:`map_tag`,
:func:`map_tag_all`) or the warning lists in free text (:func:`find_declarations`);
:mod:`forewarn.declared.tables` loads the tag tables it uses from
``forewarn/data/declared.toml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from forewarn.declared.parse import (
    QUALIFIERS,
    cue_lists,
    find_declarations,
    map_tag,
    map_tag_all,
    qualifier_severity,
)
from forewarn.taxonomy import Taxonomy, WarningDef, load_taxonomy
from forewarn.work import Work

__all__ = [
    "QUALIFIERS",
    "SOURCES",
    "DeclaredWarning",
    "archive_pieces",
    "declared_warnings",
    "find_declarations",
    "map_tag",
    "map_tag_all",
    "qualifier_severity",
]

SOURCES = ("archive_warning", "freeform_tag", "content_notes", "summary", "notes")

# The most tags (and, apart, content notes) read per work, each distinct one once. AO3 lets a
# work carry 75 tags in all; a crafted file of a hundred thousand tags of near 300 characters
# (about 5 ms each) would otherwise keep a scan busy for minutes.
MAX_TAGS = 300


@dataclass(frozen=True, slots=True)
class DeclaredWarning:
    """One warning the author declared, as a report carries it.

    ``id`` and ``name`` are the taxonomy's; ``source`` is where it was declared (one of
    :data:`SOURCES`); ``text`` the tag or list item as written; ``qualifier`` one of
    :data:`QUALIFIERS` or None; ``severity`` what the declaration says about strength:
    ``graphic`` ("Graphic Depictions Of Violence", "Graphic X"), ``mentioned``
    (implied/mentioned/referenced/past) or None. ``detected`` is whether the scan also found
    the warning at the report's confidence floor (False until a scanner says so).
    """

    id: str
    name: str
    source: str
    text: str
    qualifier: str | None = None
    severity: str | None = None
    detected: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "source": self.source,
            "text": self.text,
            "qualifier": self.qualifier,
            "severity": self.severity,
            "detected": self.detected,
        }


def declared_warnings(work: Work, taxonomy: Taxonomy | None = None) -> list[DeclaredWarning]:
    """Every warning the author of ``work`` declared, one per (warning, source), in the
    order of the sources in :data:`SOURCES`; none is marked ``detected``."""
    tax = taxonomy or load_taxonomy()
    out: list[DeclaredWarning] = []
    seen: set[tuple[str, str]] = set()

    def add(w: WarningDef, source: str, text: str, qual: str | None, sev: str | None) -> None:
        if (w.id, source) not in seen:
            seen.add((w.id, source))
            out.append(DeclaredWarning(w.id, w.name, source, text.strip(), qual, sev))

    for piece in _distinct(archive_pieces(work.archive_warnings, tax)):
        entry = tax.ao3_archive_warning(piece)
        if entry is not None:
            if entry[0] is not None:
                add(entry[0], "archive_warning", piece, None, entry[1])
            continue
        for w, q in map_tag_all(piece, tax):
            add(w, "archive_warning", piece, q, qualifier_severity(q))

    for tag in _distinct(work.freeform_tags):
        for w, q in map_tag_all(tag, tax):
            add(w, "freeform_tag", tag, q, qualifier_severity(q))

    # The readers take content notes out of the "TW:" lines of the summary and notes too, one
    # item each: "TW: no death, violence" gives "no death" and "violence". Alone, "violence"
    # has lost the negation at the head of its list, so a note that is a piece of such a list
    # declares only what the whole list declares.
    lists = [found for text in (work.summary, work.notes) if text for found in cue_lists(text, tax)]
    for note in _distinct(work.content_notes):
        within = [ids for segment, ids in lists if note.strip() and note.strip() in segment]
        for w, q, item in find_declarations(note, tax, cue_required=False):
            if not within or any(w.id in ids for ids in within):
                add(w, "content_notes", item, q, qualifier_severity(q))

    for source, text in (("summary", work.summary), ("notes", work.notes)):
        if text:
            for w, q, item in find_declarations(text, tax):
                add(w, source, item, q, qualifier_severity(q))
    return out


def _distinct(items: Sequence[str]) -> list[str]:
    """The first :data:`MAX_TAGS` distinct items, in order."""
    return list(dict.fromkeys(items))[:MAX_TAGS]


def archive_pieces(archive_warnings: Sequence[str], taxonomy: Taxonomy | None = None) -> list[str]:
    """The archive warnings a work's archive-warning field holds, one string each.

    A text that is itself an archive warning is kept whole (however it is punctuated:
    "Rape, Non-Con" is one); any other text is split at commas ("Rape/Non-Con, Underage
    Sex" is two). Whitespace is collapsed; empty pieces and repeats are dropped.
    """
    tax = taxonomy or load_taxonomy()
    out: list[str] = []
    for text in archive_warnings:
        pieces = [text] if tax.ao3_archive_warning(text) is not None else text.split(",")
        for piece in pieces:
            piece = " ".join(piece.split())
            if piece and piece not in out:
                out.append(piece)
    return out
