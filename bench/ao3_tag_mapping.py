"""How well ``forewarn.declared.map_tag`` reads real AO3 freeform tags.

Reads ``ao3-tags/abuse-tags.csv`` (5,654 AO3 freeform tags filed under "Abuse", from
webis-de/lrec26-lexical-consistency-of-trigger-warnings, Apache-2.0) in place: the data
directory comes from ``--data``, else ``$FOREWARN_DATA``, else ``../shared/data`` beside the
repository. Nothing is copied.

Each row is one tag (``dst``; AO3 URL escapes ``*s*`` = ``/``, ``*a*`` = ``&``) with four
hand labels: emotional, neglect, physical, sexual (any number of them, often none: a tag
like "Past Abuse" says no kind). The script prints

* coverage: the share of tags ``map_tag`` maps to any warning, and to the abuse group;
* accuracy against the hand labels, for the labelled tags: ``sexual`` expects
  ``sexual-assault``; ``physical`` and ``neglect`` expect ``abuse`` or ``child-abuse``;
  ``emotional`` expects ``abuse``, ``child-abuse`` or ``abusive-language``. A tag is right
  when the warning ``map_tag`` gives (the first one) is expected by one of its labels; an
  unmapped tag counts as wrong. Also the stricter "every label covered" rate, using
  ``map_tag_all``;
* a confusion table: hand label x the warning ``map_tag`` gives;
* 10 example misses (a fixed, seeded sample).

    python bench/ao3_tag_mapping.py [--data DIR] [--misses 10]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from forewarn.declared import map_tag, map_tag_all  # noqa: E402
from forewarn.taxonomy import load_taxonomy  # noqa: E402

CSV = Path("ao3-tags") / "abuse-tags.csv"
LABELS = {  # CSV column -> short label
    "Emotional Abuse": "emotional",
    "Neglect": "neglect",
    "Physical Abuse": "physical",
    "Sexual Abuse": "sexual",
}
EXPECTED = {
    "sexual": {"sexual-assault"},
    "physical": {"abuse", "child-abuse"},
    "neglect": {"abuse", "child-abuse"},
    "emotional": {"abuse", "child-abuse", "abusive-language"},
}
ABUSE_GROUP = {"abuse", "child-abuse", "sexual-assault", "abusive-language", "animal-cruelty"}
COLUMNS = ["abuse", "child-abuse", "sexual-assault", "abusive-language", "animal-cruelty",
           "other", "(none)"]
_ESCAPES = (("*s*", "/"), ("*a*", "&"), ("*d*", "."), ("*q*", "?"), ("*h*", "#"))


def data_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    env = os.environ.get("FOREWARN_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def unescape(tag: str) -> str:
    for esc, char in _ESCAPES:
        tag = tag.replace(esc, char)
    return tag


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:5.1f}%" if d else "   n/a"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", help="the shared data directory (default: $FOREWARN_DATA or "
                                   "../shared/data)")
    ap.add_argument("--misses", type=int, default=10, help="example misses to print")
    args = ap.parse_args(argv)

    path = data_dir(args.data) / CSV
    if not path.is_file():
        print(f"ao3_tag_mapping: {path} not found; pass --data or set FOREWARN_DATA "
              "(skipping)", file=sys.stderr)
        return 0
    tax = load_taxonomy()
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))

    total = len(rows)
    mapped = labelled = correct = all_covered = mapped_labelled = abuse_group = 0
    confusion: dict[str, Counter[str]] = {k: Counter() for k in [*EXPECTED, "(unlabelled)"]}
    label_totals: Counter[str] = Counter()
    misses: list[tuple[str, list[str], str]] = []
    unlabelled = unlabelled_mapped = 0
    for row in rows:
        tag = row["dst"]
        labels = [short for col, short in LABELS.items() if row[col].strip() == "1"]
        first = map_tag(tag, tax)
        wid = first[0].id if first else None
        every = {w.id for w, _ in map_tag_all(tag, tax)}
        column = "(none)" if wid is None else wid if wid in COLUMNS else "other"
        if wid is not None:
            mapped += 1
            abuse_group += wid in ABUSE_GROUP
        if not labels:
            unlabelled += 1
            unlabelled_mapped += wid is not None
            confusion["(unlabelled)"][column] += 1
            continue
        labelled += 1
        mapped_labelled += wid is not None
        for label in labels:
            confusion[label][column] += 1
            label_totals[label] += 1
        ok = wid is not None and any(wid in EXPECTED[label] for label in labels)
        correct += ok
        all_covered += all(EXPECTED[label] & every for label in labels)
        if not ok:
            misses.append((unescape(tag), labels, wid or "(none)"))

    unique = len({r["dst"] for r in rows})
    print(f"AO3 tag mapping: {path}")
    print(f"  {total:,} tags ({unique:,} distinct) filed under AO3 \"Abuse\"; "
          f"{labelled:,} carry at least one hand label, {unlabelled:,} none")
    print()
    print("Coverage (map_tag gives some warning)")
    print(f"  all tags           {pct(mapped, total)}  ({mapped:,} / {total:,})")
    print(f"  to the abuse group {pct(abuse_group, total)}  ({abuse_group:,} / {total:,})  "
          "abuse, child-abuse, sexual-assault, abusive-language, animal-cruelty")
    print(f"  labelled tags      {pct(mapped_labelled, labelled)}  "
          f"({mapped_labelled:,} / {labelled:,})")
    print(f"  unlabelled tags    {pct(unlabelled_mapped, unlabelled)}  "
          f"({unlabelled_mapped:,} / {unlabelled:,})")
    print()
    print("Accuracy against the hand labels (labelled tags)")
    print(f"  first warning expected by a label  {pct(correct, labelled)}  "
          f"({correct:,} / {labelled:,}; unmapped counts as wrong)")
    print(f"  same, among mapped tags only       {pct(correct, mapped_labelled)}  "
          f"({correct:,} / {mapped_labelled:,})")
    print(f"  every label covered (map_tag_all)  {pct(all_covered, labelled)}  "
          f"({all_covered:,} / {labelled:,})")
    print("  expected: sexual -> sexual-assault; physical, neglect -> abuse | child-abuse;")
    print("            emotional -> abuse | child-abuse | abusive-language")
    print()
    print("Confusion: hand label (rows; a tag with two labels counts in both) x the warning")
    print("map_tag gives (columns)")
    widths = [max(len(c), 5) + 2 for c in COLUMNS]
    print("  " + " " * 13 + "".join(f"{c:>{w}}" for c, w in zip(COLUMNS, widths, strict=True))
          + "   total")
    for label, counts in confusion.items():
        n = sum(counts.values())
        print(f"  {label:<13}"
              + "".join(f"{counts[c]:>{w}}" for c, w in zip(COLUMNS, widths, strict=True))
              + f"  {n:>6}")
    print()
    print("Caveat: the tag mapper's rules were written with this data set in view (its")
    print("examples appear in forewarn/declared/ and its tables), so these are in-sample figures,")
    print("not a held-out test.")
    print()
    print(f"Example misses ({min(args.misses, len(misses))} of {len(misses):,}, seeded sample)")
    for tag, labels, got in sorted(random.Random(13).sample(misses, min(args.misses,
                                                                         len(misses)))):
        print(f"  {tag!r:<60} labels: {'+'.join(labels):<18} map_tag: {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
