"""What the author declared: AO3 archive warnings, freeform tags and "TW:" lines.

:func:`declared_warnings` reads a :class:`~forewarn.work.Work`'s archive warnings, freeform
tags, content notes, summary and notes, and returns one :class:`Declared` per warning and
source. Free text (summary, notes) only counts after an explicit cue such as ``TW:``;
content notes are read as a list.

The package: :mod:`forewarn.declared.parse` reads one tag (:func:`map_tag`,
:func:`map_tag_all`) or the warning lists in free text (:func:`find_declarations`);
:mod:`forewarn.declared.tables` loads the tag tables it uses from
``forewarn/data/declared.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass

from forewarn.declared.parse import (
    QUALIFIERS,
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
    "Declared",
    "declared_warnings",
    "find_declarations",
    "map_tag",
    "map_tag_all",
    "qualifier_severity",
]

SOURCES = ("archive_warning", "freeform_tag", "content_notes", "summary", "notes")


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
