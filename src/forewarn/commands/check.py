"""``forewarn check --profile FILE PATH...``: is each work safe for this reader?

Prints, per work, one of four answers (:mod:`forewarn.verdict`): ``safe``, ``NOT SAFE``
with the warnings that make it so, ``UNCERTAIN`` or ``NOT CHECKED`` with the reasons,
under the reader's aliases. It never quotes story text, and when an entry has an alias
neither the text nor the JSON output holds that warning's id or name (docs/profiles.md).

Exit codes, one rule for scripts:

* any work could not be read → that error's code (3-7, see docs/cli.md; the first failure
  when several fail). Errors win: an unread work cannot be called safe;
* otherwise 10 when any work is NOT SAFE;
* otherwise 14 when any work was not fully read (coverage), 15 when any is in a language
  forewarn does not judge;
* otherwise 13 when any work is UNCERTAIN;
* otherwise 0: every work was read in full and is safe.

A bad profile or option is exit code 2 and nothing is checked.
"""

from __future__ import annotations

import argparse
import sys

from forewarn import cli
from forewarn.confidence import confidence_floor
from forewarn.profile import load_profile
from forewarn.verdict import EXIT_NOT_SAFE, POSSIBLE_FLOOR, SCHEMA, Verdict, overall_exit_code

__all__ = ["EXIT_NOT_SAFE", "SCHEMA", "Verdict", "register", "run"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="say whether stories are safe for a personal profile")
    cli.add_paths_argument(p)
    p.add_argument("--profile", metavar="FILE",
                   help="the reader's profile (TOML; see docs/profiles.md); default: "
                        "$FOREWARN_PROFILE, else ~/.config/forewarn/profile.toml")
    cli.add_format_option(p, "verdict")
    cli.add_confidence_option(p, profile=True, verdict=True)
    cli.add_scan_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forewarn.ingest import read_path
    from forewarn.profile import resolve_profile
    from forewarn.render.registry import RenderOptions, render
    from forewarn.render.terminal import use_colour
    from forewarn.scanner import Scanner

    fmt = cli.output_format(args)
    path = resolve_profile(args.profile)
    if path is None:
        cli.err("check: no profile: pass --profile FILE, set FOREWARN_PROFILE, or write "
                "one with 'forewarn profile init'")
        return 2
    profile = load_profile(path)
    floor = confidence_floor(args.min_confidence, profile)
    # scan down to the "possible" floor: near misses make a verdict uncertain
    scanner = Scanner(lexicon_only=args.lexicon_only, min_confidence=min(floor, POSSIBLE_FLOOR))

    verdicts: list[Verdict] = []

    def judge(path: str) -> Verdict:
        verdict = Verdict.of(scanner.scan_work(read_path(path, encoding=args.encoding)),
                             profile, floor)
        verdicts.append(verdict)
        return verdict

    results = cli.EachInput(args.paths, judge)
    options = RenderOptions(colour=use_colour(sys.stdout), many=len(args.paths) > 1,
                            meta={"min_confidence": floor})
    render(fmt, "verdict", results, sys.stdout, options)
    return results.status or overall_exit_code(verdicts)
