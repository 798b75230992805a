"""One work against one reader's profile: safe, not safe, uncertain, or not checked.

A reader with a trigger list trusts "safe" above everything else, so "safe" means exactly
this: every word of the work was read, in a language forewarn judges, nothing the profile
avoids was found or declared, nothing it avoids came near the confidence floor, and
forewarn is good at every warning on the list. Anything short of that is said as what it
is:

* **not safe**: a warning the profile avoids was found at or above the floor and the
  entry's severity, or the author declared one;
* **not checked**: forewarn could not read every word (``coverage``: a skipped document,
  text in a container it did not read, passages in another language) or the work is not
  in a language it judges (``language``). Found warnings still make a work not safe;
* **uncertain**: nothing was found above the floor, but evidence for a listed warning sits
  between :data:`POSSIBLE_FLOOR` and the floor, or the list names a warning whose measured
  recall on held-out text (``data/recall.json``, from the model card) is below
  ``weak_below`` (0.8): forewarn is weak at it, and "nothing found" says little.

``forewarn check``, the service's ``/v1/check`` and the web page all give these answers;
:func:`forewarn.render.terminal.render_verdict` writes one for a terminal.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from forewarn.coverage import checked
from forewarn.declared import DeclaredWarning
from forewarn.profile import Profile, ProfileEntry
from forewarn.report import DetectedWarning, Location, Report

SCHEMA = "forewarn.check/2"

#: Evidence at or above this confidence, and below the floor, makes a verdict uncertain.
POSSIBLE_FLOOR = 0.3
#: A confidence floor above this is refused: confidence is capped at 0.99, so a higher
#: floor would hide every warning and call every story safe.
MAX_FLOOR = 0.99

SAFE, NOT_SAFE, UNCERTAIN, NOT_CHECKED = "safe", "not safe", "uncertain", "not checked"

#: ``forewarn check`` exit codes, one per answer (errors reading a work keep theirs, 3-7).
EXIT_CODES = {SAFE: 0, NOT_SAFE: 10, UNCERTAIN: 13, "not checked: coverage": 14,
              "not checked: language": 15}
EXIT_NOT_SAFE = 10


@cache
def recall_table() -> tuple[float, dict[str, float | None]]:
    """(weak_below, recall per warning id) from ``data/recall.json``; None where held-out
    data is too thin to measure it."""
    data = json.loads(resources.files("forewarn").joinpath("data/recall.json")
                      .read_text(encoding="utf-8"))
    return float(data["weak_below"]), {
        k: None if v["recall"] is None else float(v["recall"]) for k, v in data["recall"].items()}


def weak_warnings(profile: Profile) -> list[tuple[ProfileEntry, float | None]]:
    """The profile's entries whose warning forewarn finds less often than ``weak_below``,
    or whose recall could not be measured (too few held-out examples)."""
    weak_below, recall = recall_table()
    out = []
    for e in profile.entries:
        if e.warning in recall:
            r = recall[e.warning]
            if r is None or r < weak_below:
                out.append((e, r))
    return out


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """One work against one profile. ``report`` keeps warnings down to POSSIBLE_FLOOR."""

    report: Report
    profile: Profile
    floor: float
    triggered: tuple[tuple[DetectedWarning, ProfileEntry], ...]
    declared: tuple[tuple[DeclaredWarning, ProfileEntry], ...]
    allowed: tuple[tuple[DetectedWarning, ProfileEntry], ...]
    possible: tuple[tuple[DetectedWarning, ProfileEntry], ...]
    weak: tuple[tuple[ProfileEntry, float | None], ...]

    @classmethod
    def of(cls, report: Report, profile: Profile, floor: float | None = None) -> Verdict:
        """Judge ``report`` (scanned with a floor at or below POSSIBLE_FLOOR, so that
        near misses are still in it) against ``profile`` at ``floor``."""
        if floor is None:
            floor = (profile.min_confidence if profile.min_confidence is not None
                     else report.min_confidence)
        at_floor = dataclasses.replace(profile, min_confidence=floor)
        above = report.filtered(floor)
        possible = []
        for w in report.warnings:
            if POSSIBLE_FLOOR <= w.confidence < floor:
                entry = profile.avoids(w.id, w.severity)
                if entry is not None:
                    possible.append((w, entry))
        return cls(above, at_floor, floor,
                   tuple(at_floor.triggered(above)),
                   tuple(at_floor.declared_triggered(above)),
                   tuple(at_floor.below_threshold(above)),
                   tuple(possible), tuple(weak_warnings(profile)))

    # -- the answer ----------------------------------------------------------------------

    @property
    def answer(self) -> str:
        if self.triggered or self.declared:
            return NOT_SAFE
        if self.report.not_checked is not None:
            return NOT_CHECKED
        if self.possible or self.weak:
            return UNCERTAIN
        return SAFE

    @property
    def safe(self) -> bool | None:
        """True, False, or None when forewarn cannot say (uncertain, not checked)."""
        answer = self.answer
        return True if answer == SAFE else False if answer == NOT_SAFE else None

    @property
    def exit_code(self) -> int:
        answer = self.answer
        if answer == NOT_CHECKED:
            gap = self.report.not_checked
            assert gap is not None
            return EXIT_CODES[f"not checked: {gap[0]}"]
        return EXIT_CODES[answer]

    def reasons(self) -> list[str]:
        """Why the answer is not "safe", one line each, under the reader's aliases."""
        out: list[str] = []
        gap = self.report.not_checked
        if gap is not None:
            out.append(("not checked: " if gap[0] == "language" else "not fully read: ")
                       + gap[1])
        if self.answer == NOT_SAFE:  # the warnings say it; near misses and weak spots add nothing
            return out
        for w, _ in self.possible:
            shown = f"{w.confidence:.2f}"
            if float(shown) >= self.floor:  # 0.9899 is below 0.99: say so in the digits
                shown = f"{w.confidence:.4f}".rstrip("0")
            out.append(f"possible {self.profile.label(w.id)} ({w.severity}, confidence "
                       f"{shown}, below the floor {self.floor:.2f})")
        for entry, recall in self.weak:
            if recall is None:
                out.append(f"forewarn has too few held-out examples of "
                           f"{self.profile.label(entry.warning)} to vouch for finding it, "
                           "so finding nothing says little")
            else:
                out.append(f"forewarn is weak at {self.profile.label(entry.warning)}: it "
                           f"finds about {round(recall * 10)} in 10 on held-out text, so "
                           "finding nothing says little")
        return out

    # -- output -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        warnings = [self._detected(w, e) for w, e in self.triggered]
        warnings += [self._declared(d, e) for d, e in self.declared]
        return {
            "source": self.report.source,
            "title": self.report.title,
            "safe": self.safe,
            "answer": self.answer,
            "reasons": self.reasons(),
            "checked": checked(self.report.not_checked),
            "warnings": warnings,
            "possible": [self._detected(w, e) for w, e in self.possible],
            "allowed": [self._detected(w, e) for w, e in self.allowed],
            "weak": [self._weak(e, r) for e, r in self.weak],
        }

    def _label(self, wid: str, name: str, entry: ProfileEntry) -> dict[str, Any]:
        if entry.alias:  # never the id or the name: the reader chose not to read them
            return {"label": entry.alias}
        return {"id": wid, "name": name, "label": name}

    def _detected(self, w: DetectedWarning, entry: ProfileEntry) -> dict[str, Any]:
        from forewarn.render.terminal import describe_locations

        d = self._label(w.id, w.name, entry)
        d.update(severity=w.severity, confidence=round(w.confidence, 3),
                 where=describe_locations(w.locations),
                 locations=_locations(w.locations), detected=True, declared=w.declared)
        return d

    def _weak(self, entry: ProfileEntry, recall: float | None) -> dict[str, Any]:
        from forewarn.taxonomy import load_taxonomy

        tax = load_taxonomy()
        name = tax.get(entry.warning).name if entry.warning in tax else entry.warning
        d = self._label(entry.warning, name, entry)
        d["recall"] = None if recall is None else round(recall, 3)
        return d

    def _declared(self, dw: DeclaredWarning, entry: ProfileEntry) -> dict[str, Any]:
        d = self._label(dw.id, dw.name, entry)
        d.update(severity=dw.severity, confidence=None, where=None, locations=[],
                 detected=False, declared=True)
        return d


def overall_exit_code(verdicts: Sequence[Verdict]) -> int:
    """One code for several works: not safe, then not checked, then uncertain, then 0."""
    codes = [v.exit_code for v in verdicts]
    for wanted in (EXIT_NOT_SAFE, 14, 15, 13):
        if wanted in codes:
            return wanted
    return 0


def _locations(locations: Sequence[Location]) -> list[dict[str, Any]]:
    return [loc.to_dict() for loc in locations]

