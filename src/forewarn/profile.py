"""Personal profiles: which warnings a reader avoids, from what strength, and under what name.

A profile is a small TOML file the reader keeps to themselves (see ``docs/profiles.md``)::

    [avoid]
    "pregnancy loss" = "depicted"        # depicted or graphic; a mention is fine
    "sh" = "mentioned"                   # any mention
    "blood" = { severity = "graphic", alias = "the red thing" }

    [settings]
    min_confidence = 0.6

or, with every entry at "mentioned" (any strength), ``avoid = ["mc", "suicide"]``.

Names resolve through the taxonomy (ids, names, aliases). An entry's ``alias`` replaces
the warning's name everywhere the profile is used, so a reader never reads the word they
avoid: :meth:`Profile.label` gives the alias, or the taxonomy name when there is none.

Every problem with a profile (missing file, TOML syntax, unknown warning, unknown
severity, a key forewarn does not know) is a :class:`ProfileError`, one line, exit code 2.
Unknown keys are errors rather than ignored: a misspelt ``[avoids]`` table would otherwise
give an empty profile that calls every story safe.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forewarn.declared import DeclaredWarning
from forewarn.errors import ForewarnError, TaxonomyError
from forewarn.report import DetectedWarning, Report
from forewarn.taxonomy import SEVERITIES, Taxonomy, load_taxonomy, severity_rank

__all__ = [
    "Profile",
    "ProfileEntry",
    "ProfileError",
    "load_profile",
]

# "any" is accepted as a friendlier spelling of the weakest severity.
_SEVERITY_SYNONYMS = {"any": "mentioned"}
_TOP_KEYS = ("avoid", "settings")
_ENTRY_KEYS = ("severity", "alias")
_LIST_ENTRY_KEYS = ("warning", "severity", "alias")
_SETTINGS_KEYS = ("min_confidence",)
_MAX_ALIAS = 80


class ProfileError(ForewarnError, exit_code=2, kind="profile"):
    """A profile that cannot be read or makes no sense (a usage error)."""


@dataclass(frozen=True, slots=True)
class ProfileEntry:
    """One avoided warning: its taxonomy id, the weakest severity that counts, an alias."""

    warning: str
    min_severity: str
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """What one reader avoids. Build it with :func:`load_profile` or :meth:`from_dict`."""

    entries: tuple[ProfileEntry, ...]
    min_confidence: float | None = None

    # -- lookup ------------------------------------------------------------------------

    def entry(self, warning_id: str) -> ProfileEntry | None:
        """The entry for ``warning_id`` whatever the severity, or None."""
        return next((e for e in self.entries if e.warning == warning_id), None)

    def label(self, warning_id: str) -> str:
        """What to call a warning: the reader's alias, else the taxonomy name (else the id)."""
        found = self.entry(warning_id)
        if found is not None and found.alias:
            return found.alias
        tax = load_taxonomy()
        return tax.get(warning_id).name if warning_id in tax else warning_id

    def avoids(self, warning_id: str, severity: str) -> ProfileEntry | None:
        """The entry that makes ``warning_id`` at ``severity`` a problem, or None."""
        found = self.entry(warning_id)
        if found is None or severity_rank(severity) < severity_rank(found.min_severity):
            return None
        return found

    def triggered(self, report: Report) -> list[tuple[DetectedWarning, ProfileEntry]]:
        """Detected warnings this profile avoids, at or above each entry's severity and
        (when the profile sets one) ``min_confidence``; strongest first."""
        out: list[tuple[DetectedWarning, ProfileEntry]] = []
        for w in report.warnings:
            if self.min_confidence is not None and w.confidence < self.min_confidence:
                continue
            found = self.avoids(w.id, w.severity)
            if found is not None:
                out.append((w, found))
        out.sort(key=lambda pair: (-severity_rank(pair[0].severity), -pair[0].confidence))
        return out

    def below_threshold(self, report: Report) -> list[tuple[DetectedWarning, ProfileEntry]]:
        """Detected warnings this profile names but allows at the strength found
        (a mention when the entry starts at ``depicted``); strongest first."""
        out: list[tuple[DetectedWarning, ProfileEntry]] = []
        for w in report.warnings:
            if self.min_confidence is not None and w.confidence < self.min_confidence:
                continue
            found = self.entry(w.id)
            if found is not None and self.avoids(w.id, w.severity) is None:
                out.append((w, found))
        out.sort(key=lambda pair: (-severity_rank(pair[0].severity), -pair[0].confidence))
        return out

    def declared_triggered(self, report: Report) -> list[tuple[DeclaredWarning, ProfileEntry]]:
        """Warnings the *author declared* that this profile avoids but forewarn did not
        detect (detection can miss; the author knows the story). A declaration with no
        strength ("Miscarriage") counts; one that says "mentioned" ("Implied/Referenced
        X", "past X") counts only for entries that start at ``mentioned``. A warning that
        was detected is judged by :meth:`triggered` instead. One per warning."""
        detected = {w.id for w in report.warnings
                    if self.min_confidence is None or w.confidence >= self.min_confidence}
        out: list[tuple[DeclaredWarning, ProfileEntry]] = []
        seen: set[str] = set()
        for d in report.declared:
            if d.id in detected or d.id in seen:
                continue
            found = self.entry(d.id)
            if found is None:
                continue
            if d.severity is not None and self.avoids(d.id, d.severity) is None:
                continue
            seen.add(d.id)
            out.append((d, found))
        return out

    # -- plain data --------------------------------------------------------------------

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        source: str = "profile",
        taxonomy: Taxonomy | None = None,
    ) -> Profile:
        """Build a profile from the TOML structure (as parsed) or its JSON equivalent.

        ``avoid`` is a table ``{name: severity}`` / ``{name: {severity, alias}}``, or a list
        of names (each at ``mentioned``) or of ``{warning, severity, alias}`` tables.
        """
        tax = taxonomy or load_taxonomy()
        if not isinstance(data, Mapping):
            raise ProfileError(f"{source}: a profile must be a table, got {_kind(data)}")
        unknown = [k for k in data if k not in _TOP_KEYS]
        if unknown:
            raise ProfileError(
                f"{source}: unknown key {_quote(unknown[0])}; a profile has "
                f"[avoid] and optionally [settings]"
            )
        if "avoid" not in data:
            raise ProfileError(f"{source}: no [avoid] table: the profile avoids nothing")
        entries = _entries(data["avoid"], source, tax)
        if not entries:
            raise ProfileError(f"{source}: [avoid] is empty: the profile avoids nothing")
        seen: dict[str, str] = {}
        for written, entry in entries:
            if entry.warning in seen:
                # no warning name here: the reader may not want to read it
                raise ProfileError(
                    f"{source}: [avoid] {_quote(seen[entry.warning])} and {_quote(written)} "
                    f"name the same warning; keep one"
                )
            seen[entry.warning] = written
        min_confidence = _settings(data.get("settings", {}), source)
        return cls(tuple(e for _, e in entries), min_confidence)

    def to_dict(self) -> dict[str, Any]:
        """The TOML structure, keyed by warning id (``from_dict`` reads it back)."""
        avoid: dict[str, Any] = {}
        for e in self.entries:
            avoid[e.warning] = (
                {"severity": e.min_severity, "alias": e.alias} if e.alias else e.min_severity
            )
        out: dict[str, Any] = {"avoid": avoid}
        if self.min_confidence is not None:
            out["settings"] = {"min_confidence": self.min_confidence}
        return out


# a profile lists at most every warning with an alias and a severity: a few KiB
MAX_PROFILE_BYTES = 256 * 1024


def load_profile(path: str | Path) -> Profile:
    """Read a profile file. Every problem is a one-line :class:`ProfileError`."""
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise ProfileError(f"{name}: no such profile file")
    if p.is_dir():
        raise ProfileError(f"{name}: is a directory, not a profile file")
    if not p.is_file():  # a FIFO would block, a device be read without end
        raise ProfileError(f"{name}: not a regular file, so not a profile file")
    try:
        with p.open("rb") as f:
            raw = f.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        raise ProfileError(f"{name}: cannot read the profile: {exc.strerror or exc}") from None
    if len(raw) > MAX_PROFILE_BYTES:
        raise ProfileError(f"{name}: too large for a profile (over "
                           f"{MAX_PROFILE_BYTES // 1024} KiB)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProfileError(f"{name}: not UTF-8 text; save the profile as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{name}: not valid TOML: {exc}") from None
    except RecursionError:  # tables or arrays nested thousands deep
        raise ProfileError(f"{name}: not a profile: nested too deeply") from None
    return Profile.from_dict(data, source=name)


# ---------------------------------------------------------------------------------------


def _entries(avoid: Any, source: str, tax: Taxonomy) -> list[tuple[str, ProfileEntry]]:
    out: list[tuple[str, ProfileEntry]] = []
    if isinstance(avoid, Mapping):
        for name, value in avoid.items():
            if isinstance(value, str):
                out.append((name, _entry(name, value, None, source, tax)))
            elif isinstance(value, Mapping):
                _check_keys(value, _ENTRY_KEYS, f"{source}: [avoid] {_quote(name)}")
                out.append((name, _entry(name, value.get("severity", "mentioned"),
                                         value.get("alias"), source, tax)))
            else:
                raise ProfileError(
                    f"{source}: [avoid] {_quote(name)} must be a severity "
                    f'("mentioned", "depicted", "graphic") or a table '
                    f"{{ severity = ..., alias = ... }}, got {_kind(value)}"
                )
        return out
    if isinstance(avoid, list):
        for i, item in enumerate(avoid, 1):
            if isinstance(item, str):
                out.append((item, _entry(item, "mentioned", None, source, tax)))
            elif isinstance(item, Mapping):
                where = f"{source}: avoid item {i}"
                _check_keys(item, _LIST_ENTRY_KEYS, where)
                name = item.get("warning")
                if not isinstance(name, str):
                    raise ProfileError(f'{where} needs a "warning" name')
                out.append((name, _entry(name, item.get("severity", "mentioned"),
                                         item.get("alias"), source, tax)))
            else:
                raise ProfileError(
                    f"{source}: avoid item {i} must be a warning name, got {_kind(item)}"
                )
        return out
    raise ProfileError(
        f"{source}: avoid must be a table ([avoid]) or a list of warning names, "
        f"got {_kind(avoid)}"
    )


def _entry(name: str, severity: Any, alias: Any, source: str, tax: Taxonomy) -> ProfileEntry:
    where = f"{source}: [avoid] {_quote(name)}"
    try:
        warning = tax.resolve_strict(name)
    except TaxonomyError as exc:
        raise ProfileError(f"{source}: [avoid] {exc}") from None
    if not isinstance(severity, str):
        raise ProfileError(
            f"{where}: severity must be one of: {', '.join(SEVERITIES)}; got {_kind(severity)}"
        )
    sev = severity.strip().casefold()
    sev = _SEVERITY_SYNONYMS.get(sev, sev)
    if sev not in SEVERITIES:
        raise ProfileError(
            f"{where}: unknown severity {_quote(severity)}; expected one of: "
            f"{', '.join(SEVERITIES)}"
        )
    if alias is not None:
        if not isinstance(alias, str):
            raise ProfileError(f"{where}: alias must be text, got {_kind(alias)}")
        alias = " ".join(alias.split())
        if not alias:
            raise ProfileError(f"{where}: alias is empty; remove it or give a name")
        if len(alias) > _MAX_ALIAS or not alias.isprintable():
            raise ProfileError(f"{where}: alias must be a short single line of text")
    return ProfileEntry(warning.id, sev, alias)


def _settings(settings: Any, source: str) -> float | None:
    if not isinstance(settings, Mapping):
        raise ProfileError(
            f"{source}: settings must be a table ([settings]), got {_kind(settings)}")
    _check_keys(settings, _SETTINGS_KEYS, f"{source}: [settings]")
    value = settings.get("min_confidence")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value) \
            or not 0.0 <= float(value) <= 1.0:
        raise ProfileError(
            f"{source}: [settings] min_confidence must be a number from 0 to 1, got {value!r}"
        )
    if float(value) > 0.99:  # confidence is capped at 0.99: this would call every story safe
        raise ProfileError(
            f"{source}: [settings] min_confidence {value!r} is over 0.99: confidence never "
            "goes above 0.99, so every story would pass"
        )
    return float(value)


def _check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ProfileError(
                f"{where}: unknown key {_quote(key)}; expected: {', '.join(allowed)}"
            )


def _quote(value: object) -> str:
    text = " ".join(str(value).split())
    return f'"{text[:60]}"'


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, str):
        return f"text {_quote(value)}"
    return type(value).__name__


PROFILE_ENV = "FOREWARN_PROFILE"

STARTER = """\
# forewarn profile: the warnings you avoid. It stays on this machine; forewarn never
# sends it anywhere. Names or aliases work ("pregnancy loss", "mc", "sh"); run
# `forewarn taxonomy` for every warning. Each takes the weakest strength that counts
# for you: "mentioned" (any mention), "depicted" (happens on the page) or "graphic".
# An alias is what forewarn shows instead of the warning's name. See docs/profiles.md.

[avoid]
# "pregnancy loss" = "depicted"
# "sh" = "mentioned"
# "blood" = { severity = "graphic", alias = "the red thing" }
"""


def default_profile_path() -> Path:
    """Where a reader's own profile lives: ``$FOREWARN_PROFILE``, else
    ``$XDG_CONFIG_HOME/forewarn/profile.toml`` (``~/.config/forewarn/profile.toml``)."""
    import os

    env = os.environ.get(PROFILE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "forewarn" / "profile.toml"


def resolve_profile(given: str | None) -> Path | None:
    """The profile a command uses: the one given, else the reader's default profile when
    it exists (``FOREWARN_PROFILE`` must exist when set), else None."""
    import os

    if given:
        return Path(given)
    path = default_profile_path()
    if os.environ.get(PROFILE_ENV) or path.is_file():
        return path
    return None
