"""Auxiliary sets: short non-fiction texts with moderation or hate-speech labels.

Three sets from ``auxiliary/`` in the data folder, each text scanned by the shipped
scanner (as a one-chapter work, default confidence). Their labels are mapped onto
forewarn's warnings (:data:`MODERATION_MAP`, :data:`HATECHECK_TARGETS`,
:data:`TOXIGEN_TARGETS`); a text is predicted positive for a mapped label when the scanner
reports any of the label's accepted warnings. The shipped model never trained on any of
these texts, so each set is held out in full.

They are not fiction: web comments, chat-like prompts and one-line templates. They test
whether forewarn's cues transfer, not how it does on stories.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from forewarn.eval.common import Context, EvalError, Scored, json_field, read_jsonl
from forewarn.eval.metrics import Counts
from forewarn.eval.report import Section, Table

MODERATION_FILE = Path("auxiliary/openai-moderation/data/samples-1680.jsonl.gz")
HATECHECK_FILE = Path("auxiliary/hatecheck/test_suite_cases.csv")
TOXIGEN_FILE = Path("auxiliary/toxigen/toxigen_seed_sentences.csv")

HATE = ("racism", "homophobia", "transphobia", "sexism", "misogyny", "ableism",
        "religious-discrimination")


@dataclass(frozen=True)
class Mapping:
    """A source label and the forewarn warnings that count as predicting it."""

    label: str
    accepted: tuple[str, ...]
    graphic_only: bool = False  # count only warnings reported at severity "graphic"

    def predicts(self, scored: Scored) -> bool:
        return any(w in scored.warnings and (not self.graphic_only
                                             or scored.severities.get(w) == "graphic")
                   for w in self.accepted)

    @property
    def describe(self) -> str:
        text = " or ".join(self.accepted)
        return f"{text} (graphic)" if self.graphic_only else text


# OpenAI moderation labels (README of openai/moderation-api-release) -> forewarn.
MODERATION_MAP: tuple[Mapping, ...] = (
    Mapping("S", ("sexual-content", "incest", "underage")),
    Mapping("S3", ("underage",)),
    Mapping("H", HATE),
    Mapping("V", ("violence", "war")),
    Mapping("V2", ("violence", "blood-gore")),
    Mapping("V2", ("violence", "blood-gore", "death"), graphic_only=True),
    Mapping("HR", ("abusive-language", "abuse")),
    Mapping("SH", ("self-harm", "suicide", "eating-disorders")),
)

# HateCheck target_ident -> the forewarn warnings that name hate against it.
HATECHECK_TARGETS: dict[str, tuple[str, ...]] = {
    "women": ("sexism", "misogyny"),
    "trans people": ("transphobia",),
    "gay people": ("homophobia",),
    "black people": ("racism",),
    "disabled people": ("ableism",),
    "Muslims": ("religious-discrimination",),
    "immigrants": ("racism",),  # xenophobia is under racism in forewarn's taxonomy
}

# ToxiGen target_group -> forewarn warnings.
TOXIGEN_TARGETS: dict[str, tuple[str, ...]] = {
    "asian": ("racism",), "black": ("racism",), "chinese": ("racism",),
    "latino": ("racism",), "mexican": ("racism",), "middle_east": ("racism",),
    "native_american": ("racism",), "immigrant": ("racism",),
    "jewish": ("religious-discrimination", "racism"),
    "muslim": ("religious-discrimination", "racism"),
    "lgbtq": ("homophobia", "transphobia"), "bisexual": ("homophobia",),
    "trans": ("transphobia",),
    "women": ("sexism", "misogyny"),
    "mental_disability": ("ableism",), "physical_disability": ("ableism",),
}  # fmt: skip


def _table(caption: str) -> Table:
    return Table(["label", "forewarn warnings accepted", "texts", "positives", "flagged",
                  "precision", "recall", "F1", "false-alarm rate"], caption=caption)


def _row(table: Table, label: str, accepted: str, c: Counts) -> None:
    table.add(label, accepted, c.n, c.positives, c.predicted, c.precision, c.recall, c.f1,
              c.false_positive_rate)


def moderation(ctx: Context, path: Path) -> tuple[Table, dict[str, dict[str, float | int]]]:
    rows = read_jsonl(path)
    ctx.log(f"auxiliary: OpenAI moderation, {len(rows):,} texts")
    prompts = [json_field(r, "prompt", f"{path}: line {n}", str)
               for n, r in enumerate(rows, 1)]
    scored = ctx.shipped.score_many(prompts)
    table = _table(f"**OpenAI moderation** ({len(rows):,} texts; a label missing from a "
                   "sample is unknown, and the sample is left out for that label)")
    data = {}
    for m in MODERATION_MAP:
        keep = [i for i, r in enumerate(rows) if m.label in r]
        c = Counts.of([m.predicts(scored[i]) for i in keep], [bool(rows[i][m.label])
                                                               for i in keep])
        name = f"{m.label} (graphic only)" if m.graphic_only else m.label
        _row(table, name, m.describe, c)
        data[name] = c.as_dict()
    return table, data


Unit = tuple[set[str], tuple[str, ...]]


def _group_units(targets: dict[str, tuple[str, ...]]) -> dict[str, Unit]:
    """warning set name -> (targets, accepted warnings), one unit per distinct set."""
    units: dict[str, Unit] = {}
    for target, accepted in targets.items():
        key = " or ".join(accepted)
        units.setdefault(key, (set(), accepted))[0].add(target)
    return units


def hate_set(ctx: Context, name: str, texts: Sequence[str], hateful: Sequence[bool],
             target: Sequence[str], targets: dict[str, tuple[str, ...]],
             ) -> tuple[Table, dict[str, dict[str, float | int]], list[Scored]]:
    """Per target-group unit: gold = hateful towards one of its targets; predicted = any
    accepted warning. Plus "any hate": gold = hateful, predicted = any hate warning."""
    ctx.log(f"auxiliary: {name}, {len(texts):,} texts")
    scored = ctx.shipped.score_many(texts)
    table = _table(f"**{name}** ({len(texts):,} texts; per target group, every other text "
                   "is a negative)")
    data = {}
    any_hate = Mapping("hate", HATE)
    c = Counts.of([any_hate.predicts(s) for s in scored], list(hateful))
    _row(table, "hateful, any group", any_hate.describe, c)
    data["any"] = c.as_dict()
    for key, (group, accepted) in sorted(_group_units(targets).items()):
        m = Mapping(key, accepted)
        gold = [h and t in group for h, t in zip(hateful, target, strict=True)]
        c = Counts.of([m.predicts(s) for s in scored], gold)
        _row(table, "hateful: " + ", ".join(sorted(group)), m.describe, c)
        data[key] = c.as_dict()
    return table, data, scored


def _read_csv(path: Path, columns: Sequence[str]) -> list[dict[str, str]]:
    """The rows of a CSV file that has ``columns``; an :class:`EvalError` naming the file
    otherwise (a missing column, not UTF-8, unreadable)."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise EvalError(f"{path}: no column {', '.join(map(repr, missing))}")
            rows = list(reader)
    except UnicodeDecodeError:
        raise EvalError(f"{path}: not UTF-8") from None
    except (OSError, csv.Error) as exc:
        raise EvalError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    return [{k: (v or "") for k, v in r.items() if k is not None} for r in rows]


def auxiliary(ctx: Context) -> Section:
    """Part 4: shipped forewarn's precision and recall per mapped label on the three sets."""
    section = Section("auxiliary", "Auxiliary sets (non-fiction, held out in full)")
    started = time.perf_counter()
    found = False
    missing = []
    data: dict[str, object] = {}
    path = ctx.data_dir / MODERATION_FILE
    if path.is_file():
        found = True
        table, data["openai-moderation"] = moderation(ctx, path)
        section.tables.append(table)
    else:
        missing.append(str(MODERATION_FILE))
    path = ctx.data_dir / HATECHECK_FILE
    if path.is_file():
        found = True
        rows = _read_csv(path, ("test_case", "label_gold", "target_ident", "functionality"))
        table, data["hatecheck"], scored = hate_set(
            ctx, "HateCheck", [r["test_case"].strip() for r in rows],
            [r["label_gold"] == "hateful" for r in rows], [r["target_ident"] for r in rows],
            HATECHECK_TARGETS)
        section.tables.append(table)
        section.tables.append(_functionalities(rows, scored))
    else:
        missing.append(str(HATECHECK_FILE))
    path = ctx.data_dir / TOXIGEN_FILE
    if path.is_file():
        found = True
        rows = _read_csv(path, ("text", "polarity", "target_group"))
        table, data["toxigen"], _ = hate_set(
            ctx, "ToxiGen seed sentences", [r["text"].strip() for r in rows],
            [r["polarity"] == "hate" for r in rows], [r["target_group"] for r in rows],
            TOXIGEN_TARGETS)
        section.tables.append(table)
    else:
        missing.append(str(TOXIGEN_FILE))
    if not found:
        raise EvalError(f"no auxiliary set found under {ctx.data_dir}: "
                        f"{', '.join(missing)}")
    section.intro = (
        "Each text is scanned by the shipped scanner (lexicon + shipped heads, default "
        "confidence) as a one-chapter work; a text counts as flagged for a label when the "
        "scanner reports any of the accepted warnings. None of these texts was used to "
        "train or tune forewarn: every set is held out in full. They are short non-fiction "
        "(web text, templated one-liners), not stories.")
    if missing:
        section.notes.append(f"Not found, skipped: {', '.join(missing)}.")
    section.notes.append(
        "Per target group, a hateful text about another group is a negative, so a text "
        "flagged with a neighbouring warning (racism for anti-Muslim hate) lowers that "
        "group's precision; the 'any group' row is free of that.")
    section.data = data
    section.seconds = time.perf_counter() - started
    return section


def _functionalities(rows: list[dict[str, str]], scored: list[Scored]) -> Table:
    """HateCheck by functionality: how often any hate warning fires."""
    any_hate = Mapping("hate", HATE)
    by: dict[tuple[str, str], list[bool]] = {}
    for r, s in zip(rows, scored, strict=True):
        by.setdefault((r["functionality"], r["label_gold"]), []).append(any_hate.predicts(s))
    table = Table(["functionality", "gold", "cases", "flagged (any hate warning)"],
                  caption="**HateCheck by functionality**: the share flagged; for hateful "
                          "cases that is recall, for non-hateful ones the false-alarm rate.")
    for key in sorted(by, key=lambda k: (k[1], k[0])):
        flags = by[key]
        table.add(key[0], key[1], len(flags), sum(flags) / len(flags))
    return table
