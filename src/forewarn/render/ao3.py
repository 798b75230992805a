"""AO3 wording: suggested "Additional Tags" and the archive warnings a work needs.

:data:`AO3_TAGS` maps each taxonomy warning to the freeform tag an author would add on the
Archive of Our Own, in AO3's canonical wording where the archive has one ("Self-Harm",
"Blood and Injury", "Child Abuse", "Animal Abuse", "Verbal Abuse"). A warning found only
as a mention gets the ``Implied/Referenced`` form AO3 uses ("Implied/Referenced
Self-Harm", "Implied/Referenced Character Death", "Implied/Referenced Rape/Non-con");
graphic violence gets "Graphic Violence".

:data:`ARCHIVE_REQUIREMENTS` says which detected warnings call for one of AO3's archive
warnings, and from which strength.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from forewarn.taxonomy import load_taxonomy, severity_rank

__all__ = [
    "AO3_TAGS",
    "ARCHIVE_NONE",
    "ARCHIVE_NOT_USED",
    "ARCHIVE_REQUIREMENTS",
    "Ao3Tag",
    "ArchiveRequirement",
    "additional_tags_line",
    "ao3_tag",
    "archive_requirements",
]


@dataclass(frozen=True, slots=True)
class Ao3Tag:
    """A warning's AO3 freeform tag; ``referenced`` for a mention, ``graphic`` when graphic
    (``None``: "Implied/Referenced <tag>", resp. the plain tag)."""

    tag: str
    referenced: str | None = None
    graphic: str | None = None

    def for_severity(self, severity: str) -> str:
        if severity == "mentioned":
            return self.referenced or f"Implied/Referenced {self.tag}"
        if severity == "graphic" and self.graphic:
            return self.graphic
        return self.tag


# fmt: off
AO3_TAGS: dict[str, Ao3Tag] = {
    "homophobia": Ao3Tag("Homophobia"),
    "transphobia": Ao3Tag("Transphobia"),
    "classism": Ao3Tag("Classism"),
    "sexism": Ao3Tag("Sexism"),
    "misogyny": Ao3Tag("Misogyny"),
    "racism": Ao3Tag("Racism"),
    "religious-discrimination": Ao3Tag("Religious Discrimination"),
    "ableism": Ao3Tag("Ableism"),
    "body-shaming": Ao3Tag("Body Shaming"),
    "fatphobia": Ao3Tag("Fatphobia"),
    "violence": Ao3Tag("Violence", graphic="Graphic Violence"),
    "war": Ao3Tag("War"),
    "kidnapping": Ao3Tag("Kidnapping"),
    "death": Ao3Tag("Character Death"),
    "dying": Ao3Tag("Terminal Illness"),
    "child-death": Ao3Tag("Child Death"),
    "animal-death": Ao3Tag("Animal Death"),
    "abuse": Ao3Tag("Abuse"),
    "sexual-assault": Ao3Tag("Sexual Assault", referenced="Implied/Referenced Rape/Non-con"),
    "child-abuse": Ao3Tag("Child Abuse"),
    "animal-cruelty": Ao3Tag("Animal Abuse"),
    "abusive-language": Ao3Tag("Verbal Abuse"),
    "pregnancy": Ao3Tag("Pregnancy"),
    "miscarriage": Ao3Tag("Miscarriage"),
    "abortion": Ao3Tag("Abortion"),
    "childbirth": Ao3Tag("Childbirth"),
    "blood-gore": Ao3Tag("Blood and Injury", graphic="Blood and Gore"),
    "medical-procedures": Ao3Tag("Medical Procedures"),
    "dissection": Ao3Tag("Autopsy"),
    "vomiting": Ao3Tag("Vomiting"),
    "body-dysmorphia": Ao3Tag("Body Dysmorphia"),
    "eating-disorders": Ao3Tag("Eating Disorders"),
    "self-harm": Ao3Tag("Self-Harm"),
    "suicide": Ao3Tag("Suicide"),
    "mental-illness": Ao3Tag("Mental Illness"),
    "addiction": Ao3Tag("Addiction"),
    "sexual-content": Ao3Tag("Sexual Content", referenced="Implied Sexual Content"),
    "incest": Ao3Tag("Incest"),
    "underage": Ao3Tag("Underage Sex"),
}
# fmt: on

ARCHIVE_NONE = "No Archive Warnings Apply"
ARCHIVE_NOT_USED = "Creator Chose Not To Use Archive Warnings"


@dataclass(frozen=True, slots=True)
class ArchiveRequirement:
    """A detected ``warning`` at ``min_severity`` or stronger calls for ``archive`` on AO3.
    ``hedge`` is said with it when forewarn cannot tell for sure (a *major* character)."""

    warning: str
    archive: str
    min_severity: str
    hedge: str | None = None


ARCHIVE_REQUIREMENTS: tuple[ArchiveRequirement, ...] = (
    ArchiveRequirement("violence", "Graphic Depictions Of Violence", "graphic"),
    ArchiveRequirement("war", "Graphic Depictions Of Violence", "graphic"),
    ArchiveRequirement("death", "Major Character Death", "depicted",
                       hedge="if a major character dies"),
    ArchiveRequirement("child-death", "Major Character Death", "depicted",
                       hedge="if a major character dies"),
    ArchiveRequirement("sexual-assault", "Rape/Non-Con", "depicted"),
    ArchiveRequirement("underage", "Underage Sex", "depicted"),
)


def ao3_tag(warning_id: str, severity: str) -> str:
    """The AO3 freeform tag for a warning found at ``severity``."""
    severity_rank(severity)  # validates
    entry = AO3_TAGS.get(warning_id)
    if entry is None:  # a warning added to the taxonomy after this table
        entry = Ao3Tag(load_taxonomy().get(warning_id).name)
    return entry.for_severity(severity)


def archive_requirements(warning_id: str, severity: str) -> list[ArchiveRequirement]:
    """The archive warnings a warning detected at ``severity`` calls for."""
    rank = severity_rank(severity)
    return [r for r in ARCHIVE_REQUIREMENTS
            if r.warning == warning_id and rank >= severity_rank(r.min_severity)]


def additional_tags_line(tags: Iterable[str]) -> str:
    """Tags as one comma-separated line for AO3's "Additional Tags" field (no repeats)."""
    out: list[str] = []
    for tag in tags:
        tag = " ".join(tag.replace(",", " ").split())
        if tag and tag not in out:
            out.append(tag)
    return ", ".join(out)
