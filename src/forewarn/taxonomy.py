"""The warning taxonomy: which warnings forewarn knows, their groups, names and aliases.

The data lives in ``forewarn/data/taxonomy.json``. Groups follow the seven coarse groups of
WTWC-22 (Wiegmann et al., 2023); each warning records the WTWC-22 fine labels and the
PAN@CLEF 2023 labels it corresponds to, and the AO3 archive warnings that declare it.

Names are matched loosely: :func:`normalize` ignores case, spacing, hyphens, underscores,
slashes and a plural ``s`` on the last word, so ``"Self_Harm"``, ``"self harm"`` and
``"selfharm"`` all resolve to ``self-harm``.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from forewarn.errors import TaxonomyError

SEVERITIES: tuple[str, ...] = ("mentioned", "depicted", "graphic")
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}

__all__ = [
    "SEVERITIES",
    "Group",
    "Taxonomy",
    "WarningDef",
    "load_taxonomy",
    "normalize",
    "severity_rank",
]


@dataclass(frozen=True, slots=True)
class Group:
    """One of the seven coarse warning groups."""

    id: str
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class WarningDef:
    """One warning: its id, display name, group, aliases and labels in other taxonomies."""

    id: str
    name: str
    group: str
    description: str
    aliases: tuple[str, ...] = ()
    wtwc: tuple[str, ...] = ()
    pan23: tuple[str, ...] = ()
    ao3: tuple[str, ...] = ()


# An AO3 archive warning maps to (warning id, severity), or to None when it declares nothing.
ArchiveEntry = tuple[str, str | None] | None

_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[^\w\s]|_")


def _singular(word: str) -> str:
    if len(word) < 5:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalize(text: str) -> str:
    """The lookup key of a warning name: case-, spacing-, punctuation- and plural-insensitive."""
    s = unicodedata.normalize("NFKC", text).casefold().replace("&", " and ")
    s = _APOSTROPHES.sub("", s)
    words = _NON_WORD.sub(" ", s).split()
    if words:
        words[-1] = _singular(words[-1])
    return " ".join(words)


def severity_rank(s: str) -> int:
    """0 for ``mentioned``, 1 for ``depicted``, 2 for ``graphic``; TaxonomyError otherwise."""
    try:
        return _SEVERITY_RANK[s]
    except (KeyError, TypeError):
        raise TaxonomyError(
            f'unknown severity "{s}"; expected one of: {", ".join(SEVERITIES)}'
        ) from None


class Taxonomy:
    """The set of warnings, with lookup by id, name, alias and external label."""

    def __init__(
        self,
        version: str,
        groups: tuple[Group, ...],
        warnings: tuple[WarningDef, ...],
        ao3_archive_warnings: Mapping[str, ArchiveEntry] | None = None,
        source: str = "taxonomy",
    ) -> None:
        self.version = version
        self.source = source
        self.groups = groups
        self.warnings = warnings
        self._by_id: dict[str, WarningDef] = {}
        self._groups: dict[str, Group] = {}
        self._keys: dict[str, str] = {}  # normalised name -> warning id
        self._compact: dict[str, str] = {}  # normalised name without spaces -> warning id
        self._labels: list[tuple[str, str, str]] = []  # (key, warning id, name as written)
        self._archive: dict[str, ArchiveEntry] = {}
        self._build(ao3_archive_warnings or {})

    # -- construction and validation -------------------------------------------------

    def _build(self, archive: Mapping[str, ArchiveEntry]) -> None:
        for g in self.groups:
            if g.id in self._groups:
                raise self._error(f'duplicate group id "{g.id}"')
            self._groups[g.id] = g
        for w in self.warnings:
            if w.id in self._by_id:
                raise self._error(f'duplicate warning id "{w.id}"')
            if w.group not in self._groups:
                raise self._error(f'warning "{w.id}" has unknown group "{w.group}"')
            self._by_id[w.id] = w
        for w in self.warnings:
            seen: set[str] = set()
            for alias in w.aliases:
                folded = alias.strip().casefold()
                if not folded:
                    raise self._error(f'warning "{w.id}" has an empty alias')
                if folded in seen:
                    raise self._error(f'warning "{w.id}" lists alias "{alias}" twice')
                seen.add(folded)
            for label in (w.id, w.name, *w.aliases):
                self._add_key(label, w.id)
        for text, entry in archive.items():
            if entry is not None:
                wid, severity = entry
                if wid not in self._by_id:
                    raise self._error(
                        f'AO3 archive warning "{text}" maps to unknown warning "{wid}"'
                    )
                if severity is not None and severity not in _SEVERITY_RANK:
                    raise self._error(
                        f'AO3 archive warning "{text}" has unknown severity "{severity}"'
                    )
                if text not in self._by_id[wid].ao3:
                    raise self._error(
                        f'AO3 archive warning "{text}" maps to "{wid}" '
                        f"but is not in that warning's ao3 list"
                    )
            self._archive[normalize(text)] = entry
        for w in self.warnings:
            for text in w.ao3:
                entry = self._archive.get(normalize(text))
                if entry is None or entry[0] != w.id:
                    raise self._error(
                        f'warning "{w.id}" lists AO3 archive warning "{text}" '
                        "that ao3_archive_warnings does not map to it"
                    )

    def _error(self, message: str) -> TaxonomyError:
        return TaxonomyError(f"{self.source}: {message}")

    def _add_key(self, label: str, wid: str) -> None:
        key = normalize(label)
        if not key:
            raise self._error(f'warning "{wid}" has a name with no letters: "{label}"')
        for index, k in ((self._keys, key), (self._compact, key.replace(" ", ""))):
            other = index.setdefault(k, wid)
            if other != wid:
                raise self._error(
                    f'alias "{label}" is ambiguous: it names both "{other}" and "{wid}"'
                )
        self._labels.append((key, wid, label))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "taxonomy") -> Taxonomy:
        """Build and validate a taxonomy from its JSON form."""
        try:
            return cls._from_dict(data, source)
        except _SchemaError as exc:
            raise TaxonomyError(f"{source}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TaxonomyError(f"{source}: malformed taxonomy data ({exc!r})") from None

    @classmethod
    def _from_dict(cls, data: Mapping[str, Any], source: str) -> Taxonomy:
        severities = tuple(
            s["id"] if isinstance(s, Mapping) else str(s)
            for s in data.get("severities", SEVERITIES)
        )
        if severities != SEVERITIES:
            raise _SchemaError(f"severities must be {list(SEVERITIES)}, got {list(severities)}")
        groups = tuple(
            Group(_str(g, "id"), _str(g, "name"), _str(g, "description")) for g in data["groups"]
        )
        warnings = tuple(
            WarningDef(
                id=_str(w, "id"),
                name=_str(w, "name"),
                group=_str(w, "group"),
                description=_str(w, "description"),
                aliases=_strs(w, "aliases"),
                wtwc=_strs(w, "wtwc"),
                pan23=_strs(w, "pan23"),
                ao3=_strs(w, "ao3"),
            )
            for w in data["warnings"]
        )
        archive: dict[str, ArchiveEntry] = {}
        for text, entry in dict(data.get("ao3_archive_warnings", {})).items():
            if entry is None:
                archive[str(text)] = None
            else:
                sev = entry.get("severity")
                archive[str(text)] = (_str(entry, "warning"), None if sev is None else str(sev))
        return cls(str(data["version"]), groups, warnings, archive, source)

    # -- lookup ------------------------------------------------------------------------

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    @property
    def severities(self) -> tuple[str, ...]:
        return SEVERITIES

    def __iter__(self) -> Iterator[WarningDef]:
        return iter(self.warnings)

    def __len__(self) -> int:
        return len(self.warnings)

    def __contains__(self, wid: object) -> bool:
        return wid in self._by_id

    def __repr__(self) -> str:
        return f"Taxonomy(version={self.version!r}, warnings={len(self.warnings)})"

    def get(self, wid: str) -> WarningDef:
        """The warning with id ``wid``; KeyError if there is none."""
        try:
            return self._by_id[wid]
        except KeyError:
            raise KeyError(wid) from None

    def group(self, gid: str) -> Group:
        """The group with id ``gid``; KeyError if there is none."""
        try:
            return self._groups[gid]
        except KeyError:
            raise KeyError(gid) from None

    def in_group(self, gid: str) -> tuple[WarningDef, ...]:
        """The warnings of group ``gid``, in taxonomy order (empty for an unknown group)."""
        return tuple(w for w in self.warnings if w.group == gid)

    def resolve(self, name: str) -> WarningDef | None:
        """The warning an id, display name or alias names, or None."""
        key = normalize(name)
        if not key:
            return None
        wid = self._keys.get(key) or self._compact.get(key.replace(" ", ""))
        return self._by_id[wid] if wid else None

    def resolve_strict(self, name: str) -> WarningDef:
        """Like :meth:`resolve`, but an unknown name raises TaxonomyError with suggestions."""
        found = self.resolve(name)
        if found is not None:
            return found
        shown = name.strip()
        if not normalize(name):
            raise TaxonomyError(f'empty warning name "{shown}"' if shown else "empty warning name")
        suggestions = self.suggest(name)
        if suggestions:
            raise TaxonomyError(
                f'unknown warning "{shown}"; did you mean: {", ".join(suggestions)}?'
            )
        raise TaxonomyError(f'unknown warning "{shown}"; known warnings: {", ".join(self.ids)}')

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Close matches for a misspelt name, as ``"id"`` or ``"id (alias)"``, best first."""
        import difflib  # only needed on the error path; keeps import time down

        key = normalize(name)
        if not key:
            return []
        labels: dict[str, tuple[str, str]] = {}
        for k, wid, label in self._labels:
            labels.setdefault(k, (wid, label))
        out: list[str] = []
        seen: set[str] = set()
        for match in difflib.get_close_matches(key, list(labels), n=n * 4, cutoff=0.75):
            wid, label = labels[match]
            if wid in seen:
                continue
            seen.add(wid)
            out.append(wid if match == normalize(wid) else f"{wid} ({label})")
            if len(out) == n:
                break
        return out

    def parse_list(self, spec: str) -> list[WarningDef]:
        """``"miscarriage, sh,blood"`` -> the warnings named, in order, without repeats.
        A list that names no warning (``","``, ``" "``) is an error, not an empty filter
        that would scan for nothing and say nothing was found."""
        out: list[WarningDef] = []
        for item in spec.split(","):
            if not item.strip():
                continue
            w = self.resolve_strict(item)
            if w not in out:
                out.append(w)
        if not out:
            raise TaxonomyError(f"no warning named in {spec!r}")
        return out

    def from_pan23(self, label: str) -> list[WarningDef]:
        """The warnings a PAN@CLEF 2023 label corresponds to (empty if none)."""
        key = label.strip().casefold()
        return [w for w in self.warnings if key in w.pan23]

    def from_wtwc(self, label: str) -> list[WarningDef]:
        """The warnings a WTWC-22 fine label corresponds to (empty if none)."""
        key = label.strip().casefold()
        return [w for w in self.warnings if key in w.wtwc]

    def to_pan23(self, wid: str) -> tuple[str, ...]:
        """The PAN@CLEF 2023 labels of warning ``wid`` (KeyError if unknown)."""
        return self.get(wid).pan23

    def to_wtwc(self, wid: str) -> tuple[str, ...]:
        """The WTWC-22 fine labels of warning ``wid`` (KeyError if unknown)."""
        return self.get(wid).wtwc

    def ao3_archive_warning(self, text: str) -> tuple[WarningDef | None, str | None] | None:
        """Read an AO3 archive warning.

        ``None`` when ``text`` is not an archive warning; ``(None, None)`` for the ones that
        declare nothing ("No Archive Warnings Apply", "Creator Chose Not To Use Archive
        Warnings"); otherwise ``(warning, severity)``, severity ``"graphic"`` for "Graphic
        Depictions Of Violence" and ``None`` for the others.
        """
        key = normalize(text)
        if key not in self._archive:
            return None
        entry = self._archive[key]
        if entry is None:
            return (None, None)
        return (self._by_id[entry[0]], entry[1])


class _SchemaError(Exception):
    """A structural problem in taxonomy data (reported as TaxonomyError with the source)."""


def _str(obj: Mapping[str, Any], key: str) -> str:
    value = obj[key]
    if not isinstance(value, str) or not value.strip():
        raise _SchemaError(f'field "{key}" must be a non-empty string, got {value!r}')
    return value


def _strs(obj: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        ident = obj.get("id", "?")
        raise _SchemaError(f'"{key}" of "{ident}" must be a list of strings')
    return tuple(value)


def _parse(text: str, source: str) -> Taxonomy:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TaxonomyError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise TaxonomyError(f"{source}: the top level must be a JSON object")
    return Taxonomy.from_dict(data, source)


@functools.lru_cache(maxsize=1)
def _default_taxonomy() -> Taxonomy:
    from forewarn.errors import BrokenInstall

    try:  # the shipped file missing or damaged: the installation, not the user's input
        text = (resources.files("forewarn") / "data" / "taxonomy.json").read_text("utf-8")
        return _parse(text, "taxonomy.json")
    except (OSError, UnicodeDecodeError, TaxonomyError) as exc:
        raise BrokenInstall(f"forewarn's taxonomy (data/taxonomy.json) is missing or damaged "
                            f"({' '.join(str(exc).split())[:200]}): reinstall forewarn") from None


def load_taxonomy(path: str | None = None) -> Taxonomy:
    """The built-in taxonomy (loaded once and cached), or the one in the JSON file ``path``."""
    if path is None:
        return _default_taxonomy()
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except OSError as exc:
        raise TaxonomyError(f"cannot read taxonomy file {path}: {exc.strerror or exc}") from None
    return _parse(text, str(p))


TAXONOMY_SCHEMA = "forewarn.taxonomy/1"


def taxonomy_document(taxonomy: Taxonomy | None = None) -> dict[str, Any]:
    """The taxonomy as ``forewarn taxonomy --json`` prints it and ``GET /v1/taxonomy``
    returns it (one shape for both)."""
    tax = taxonomy or load_taxonomy()
    return {
        "schema": TAXONOMY_SCHEMA,
        "version": tax.version,
        "severities": list(SEVERITIES),
        "groups": [{"id": g.id, "name": g.name, "description": g.description}
                   for g in tax.groups],
        "warnings": [{"id": w.id, "name": w.name, "group": w.group,
                      "description": w.description, "aliases": list(w.aliases)}
                     for w in tax.warnings],
    }
