"""``forewarn check --profile FILE PATH...``: is each work safe for this reader?

Prints, per work, ``safe`` or ``NOT SAFE`` and the warnings that make it unsafe, under the
reader's aliases, with their severity and where they are (chapter and position). It never
quotes story text, and when an entry has an alias neither the text nor the JSON output
holds that warning's id or name (see docs/profiles.md).

A work is NOT SAFE when forewarn detects a warning the profile avoids, at or above the
entry's severity and the confidence floor, or when the author declares such a warning that
forewarn did not detect (detection can miss; the author knows the story).

Exit codes, one simple rule for scripts:

* any work could not be read → that error's code (3-7, see docs/cli.md; the first failure
  when several fail). Errors win over 10: an unread work cannot be called safe;
* otherwise 10 when any work is NOT SAFE;
* otherwise 0: every work was read and is safe.

A bad profile or option is exit code 2 and nothing is checked.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from forewarn.cli import confidence, err
from forewarn.errors import ForewarnError
from forewarn.profile import Profile, ProfileEntry, load_profile
from forewarn.report import DeclaredWarning, DetectedWarning, Location, Report

SCHEMA = "forewarn.check/1"
EXIT_NOT_SAFE = 10


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="say whether stories are safe for a personal profile")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="story files (.txt .md .html .epub), or - for standard input")
    p.add_argument("--profile", required=True, metavar="FILE",
                   help="the reader's profile (TOML; see docs/profiles.md)")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.add_argument("--min-confidence", type=confidence, default=None, metavar="X",
                   help="ignore warnings below this confidence (0-1; default: the "
                        "profile's min_confidence, else 0.5)")
    p.add_argument("--encoding", help="decode text files with this encoding")
    p.add_argument("--lexicon-only", action="store_true",
                   help="skip the embedding model (faster, less recall)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forewarn.ingest import read_path
    from forewarn.scanner import DEFAULT_MIN_CONFIDENCE, Scanner

    profile = load_profile(args.profile)
    if args.min_confidence is not None:
        floor = args.min_confidence
    elif profile.min_confidence is not None:
        floor = profile.min_confidence
    else:
        floor = DEFAULT_MIN_CONFIDENCE
    profile = dataclasses.replace(profile, min_confidence=floor)
    scanner = Scanner(lexicon_only=args.lexicon_only, min_confidence=floor)

    error_code = 0
    unsafe = False
    works: list[dict[str, Any]] = []
    for n, path in enumerate(args.paths):
        try:
            report = scanner.scan_work(read_path(path, encoding=args.encoding))
        except ForewarnError as exc:
            err(str(exc))
            error_code = error_code or exc.exit_code
            works.append({"source": path, "title": None, "safe": None,
                          "error": " ".join(str(exc).split()), "exit_code": exc.exit_code})
            continue
        verdict = Verdict.of(report.filtered(floor), profile)
        unsafe = unsafe or not verdict.safe
        if args.json:
            works.append(verdict.to_dict())
        else:
            if n:
                print()
            print(verdict.render(), flush=True)
    if args.json:
        print(json.dumps({"schema": SCHEMA, "min_confidence": floor, "works": works},
                         ensure_ascii=False, indent=2))
    if error_code:
        return error_code
    return EXIT_NOT_SAFE if unsafe else 0


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """One work against one profile."""

    report: Report
    profile: Profile
    triggered: tuple[tuple[DetectedWarning, ProfileEntry], ...]
    declared: tuple[tuple[DeclaredWarning, ProfileEntry], ...]
    allowed: tuple[tuple[DetectedWarning, ProfileEntry], ...]

    @classmethod
    def of(cls, report: Report, profile: Profile) -> Verdict:
        return cls(report, profile, tuple(profile.triggered(report)),
                   tuple(profile.declared_triggered(report)),
                   tuple(profile.below_threshold(report)))

    @property
    def safe(self) -> bool:
        return not self.triggered and not self.declared

    def to_dict(self) -> dict[str, Any]:
        warnings = [self._detected(w, e) for w, e in self.triggered]
        warnings += [self._declared(d, e) for d, e in self.declared]
        return {
            "source": self.report.source,
            "title": self.report.title,
            "safe": self.safe,
            "warnings": warnings,
            "allowed": [self._detected(w, e) for w, e in self.allowed],
        }

    def render(self) -> str:
        from forewarn.render.terminal import SEVERITY_LABEL, describe_locations

        r = self.report
        head = r.title or r.source or "<text>"
        facts = [f"{r.word_count:,} words"]
        if r.chapter_count > 1:
            facts.append(f"{r.chapter_count} chapters")
        if r.title and r.source:
            facts.insert(0, r.source)
        lines = [f"{head}  ({' · '.join(facts)})"]
        labels = [self.profile.label(w.id) for w, _ in self.triggered]
        labels += [self.profile.label(d.id) for d, _ in self.declared]
        width = max((len(x) for x in labels), default=0)
        if self.safe:
            lines.append("  safe")
        else:
            lines.append("  NOT SAFE")
            for w, _ in self.triggered:
                mark = "  (declared)" if w.declared else ""
                lines.append(f"    {SEVERITY_LABEL[w.severity]:<9}  "
                             f"{self.profile.label(w.id):<{width}}  {w.confidence:.2f}  "
                             f"{describe_locations(w.locations)}{mark}")
            for d, _ in self.declared:
                strength = d.severity or "declared"
                lines.append(f"    {SEVERITY_LABEL.get(strength, strength):<9}  "
                             f"{self.profile.label(d.id):<{width}}  declared by the author; "
                             "forewarn did not find it in the text")
        for w, _ in self.allowed:
            lines.append(f"    also: {self.profile.label(w.id)} is {w.severity} "
                         f"({describe_locations(w.locations)}), which this profile allows")
        return "\n".join(lines)

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

    def _declared(self, dw: DeclaredWarning, entry: ProfileEntry) -> dict[str, Any]:
        d = self._label(dw.id, dw.name, entry)
        d.update(severity=dw.severity, confidence=None, where=None, locations=[],
                 detected=False, declared=True)
        return d


def _locations(locations: Sequence[Location]) -> list[dict[str, Any]]:
    return [loc.to_dict() for loc in locations]
