"""Figures about the annotated corpus: what was drawn, what was labelled, how consistent and
how valid the labels are, and how today's shipped scanner does against them.

Prints Markdown (the tables in training/annotations/README.md come from it)::

    python training/annotation_report.py counts      # passages per stratum, positives per split
    python training/annotation_report.py agreement   # double readings: kappa per warning
    python training/annotation_report.py agreement --batch mw84 mw80   # ... per batch
    python training/annotation_report.py ao3         # full-taxonomy labels vs the AO3 votes
    python training/annotation_report.py baseline    # shipped scanner on the random passages
    python training/annotation_report.py adjudicate [--batch mw84 ...]  # ids to read a third time

Agreement is Cohen's kappa between the first and second reading of each passage read
twice: on presence (absent vs any severity), and on the four-level scale (absent,
mentioned, depicted, graphic) with quadratic weights. Warnings with fewer than 5 positive
readings among the doubles are shown but not averaged.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from annotate import (
    DEFAULT_DATA,
    WORK,
    ao3_passages,
    final_labels,
    load_labels,
    load_sample,
    passage_text,
    warning_ids,
)
from corpus import split_of_passage

LEVEL = {None: 0, "mentioned": 1, "depicted": 2, "graphic": 3}


def kappa(a: list[int], b: list[int], weights: str | None = None) -> float | None:
    """Cohen's kappa (optionally quadratic-weighted) of two equal-length label lists."""
    if not a:
        return None
    cats = sorted(set(a) | set(b))
    if len(cats) == 1:
        return None  # no variation: kappa undefined
    index = {c: i for i, c in enumerate(cats)}
    k = len(cats)
    observed = [[0.0] * k for _ in range(k)]
    for x, y in zip(a, b, strict=True):
        observed[index[x]][index[y]] += 1
    n = len(a)
    rows = [sum(r) for r in observed]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]

    def w(i: int, j: int) -> float:
        if weights == "quadratic":
            return ((cats[i] - cats[j]) ** 2) / ((cats[-1] - cats[0]) ** 2)
        return 0.0 if i == j else 1.0

    disagree_obs = sum(w(i, j) * observed[i][j] for i in range(k) for j in range(k)) / n
    disagree_exp = sum(w(i, j) * rows[i] * cols[j] for i in range(k) for j in range(k)) / n / n
    if disagree_exp == 0:
        return None
    return 1 - disagree_obs / disagree_exp


def readings(rows: list[dict] | None = None) -> dict[str, dict[int, dict]]:
    """passage id -> {round: reading} over every stored label (or ``rows``)."""
    by: dict[str, dict[int, dict]] = defaultdict(dict)
    for row in load_labels() if rows is None else rows:
        by[row["id"]][row["round"]] = row
    return by


def pairs(rows: list[dict] | None = None) -> list[tuple[dict, dict]]:
    """(first reading, second reading) for every passage read in rounds 1 and 2."""
    return [(r[1], r[2]) for r in readings(rows).values() if 1 in r and 2 in r]


def batch_agreement(both: list[tuple[dict, dict]]) -> list[dict]:
    """Per batch of the first reading: passages read twice, the any-warning kappa, how many
    have the same set of warnings in both readings, and how many differ (the ones a third
    reading decides)."""
    by: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for x, y in both:
        by[x["batch"]].append((x, y))
    out = []
    for batch in sorted(by):
        sub = by[batch]
        same = sum(x["labels"].keys() == y["labels"].keys() for x, y in sub)
        out.append({"batch": batch, "passages": len(sub),
                    "any_kappa": kappa([int(bool(x["labels"])) for x, _ in sub],
                                       [int(bool(y["labels"])) for _, y in sub]),
                    "same": same, "differ": len(sub) - same})
    return out


def to_adjudicate(rows: list[dict] | None = None, batches: set[str] | None = None) -> list[str]:
    """Passages whose two readings differ on any warning's presence and that have no third
    reading yet, in the order first read; only those first read in ``batches`` if given."""
    out = []
    for r in readings(rows).values():
        if 1 not in r or 2 not in r or 3 in r:
            continue
        if batches and r[1]["batch"] not in batches:
            continue
        if set(r[1]["labels"]) != set(r[2]["labels"]):
            out.append(r[1]["id"])
    return out


def cmd_counts(_: argparse.Namespace) -> None:
    labels = final_labels()
    sample = load_sample()
    strata = Counter(r["stratum"] for r in sample)
    done = Counter(r["stratum"] for r in sample if r["id"] in labels)
    sources = Counter(r["source"] for r in labels.values())
    print("| stratum | drawn | labelled |\n|---|---:|---:|")
    for s in ("random", "pointed", "scene", "targeted"):
        print(f"| {s} | {strata[s]:,} | {done[s]:,} |")
    print(f"| modern (written for the project) | – | {sources['modern']:,} |")
    print(f"| AO3 (evaluation only) | 3,309 | {sources['ao3']:,} |")
    pos: dict[str, Counter] = defaultdict(Counter)
    for row in labels.values():
        if row["source"] != "ao3":
            for wid in row["labels"]:
                pos[wid][split_of_passage(row["id"])] += 1
    print("\n| warning | train | dev | test | all |\n|---|---:|---:|---:|---:|")
    for wid in warning_ids():
        c = pos[wid]
        print(f"| {wid} | {c['train']} | {c['dev']} | {c['test']} | {sum(c.values())} |")


def cmd_agreement(args: argparse.Namespace) -> None:
    both = pairs()
    if getattr(args, "batch", None):  # readme calls this with no --batch
        wanted = set(args.batch)
        print("| batch | read twice | any-warning kappa | identical label sets |")
        print("|---|---:|---:|---:|")
        for row in batch_agreement([(x, y) for x, y in both if x["batch"] in wanted]):
            k = "–" if row["any_kappa"] is None else f"{row['any_kappa']:.2f}"
            print(f"| {row['batch']} | {row['passages']} | {k} | "
                  f"{row['same']}/{row['passages']} |")
        missing = wanted - {x["batch"] for x, _ in both}
        if missing:
            print(f"\nnot read twice: {', '.join(sorted(missing))}")
        return
    print(f"{len(both):,} passages read twice, independently\n")
    print("| warning | positive readings | presence kappa | severity kappa (quadratic) |")
    print("|---|---:|---:|---:|")
    presences, severities = [], []
    for wid in warning_ids():
        a = [LEVEL[x["labels"].get(wid)] for x, _ in both]
        b = [LEVEL[y["labels"].get(wid)] for _, y in both]
        positives = sum(1 for v in a if v) + sum(1 for v in b if v)
        kp = kappa([int(v > 0) for v in a], [int(v > 0) for v in b])
        ks = kappa(a, b, "quadratic")
        if positives >= 5 and kp is not None:
            presences.append(kp)
            if ks is not None:
                severities.append(ks)
        def show(v):
            return ("–" if v is None else f"{v:.2f}")
        print(f"| {wid} | {positives} | {show(kp)} | {show(ks)} |")
    any_a = [int(bool(x["labels"])) for x, _ in both]
    any_b = [int(bool(y["labels"])) for _, y in both]
    k_any = kappa(any_a, any_b)
    print(f"\nany warning at all: kappa {k_any:.2f}; agreement "
          f"{sum(x == y for x, y in zip(any_a, any_b, strict=True)) / len(both):.3f}")
    for source in ("corpus", "modern", "ao3"):
        sub = [(x, y) for x, y in both if x["source"] == source]
        if not sub:
            continue
        a = [int(bool(x["labels"])) for x, _ in sub]
        b = [int(bool(y["labels"])) for _, y in sub]
        same = sum(x["labels"].keys() == y["labels"].keys() for x, y in sub) / len(sub)
        k = kappa(a, b)
        print(f"{source}: {len(sub):,} passages read twice; any-warning kappa "
              f"{'–' if k is None else f'{k:.2f}'}; same set of warnings {same:.3f}")
    if presences:
        print(f"mean presence kappa over {len(presences)} warnings with >= 5 positive "
              f"readings: {sum(presences) / len(presences):.2f}; severity "
              f"{sum(severities) / len(severities):.2f}")


def cmd_adjudicate(args: argparse.Namespace) -> None:
    """Ids whose two readings differ on any warning's presence and that no third reading has
    decided yet: a third reading decides."""
    batch = getattr(args, "batch", None)
    out = to_adjudicate(batches=set(batch) if batch else None)
    path = WORK / "adjudicate.ids"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"{len(out)} passages to adjudicate -> {path}")


AO3_WARNING = {"abduction": "kidnapping"}


def cmd_ao3(_: argparse.Namespace) -> None:
    """How the full-taxonomy reading agrees with the three AO3 votes, per warning."""
    labels = final_labels()
    passages = ao3_passages(DEFAULT_DATA)
    rows: dict[str, list[tuple[int, int, list[int]]]] = defaultdict(list)
    for pid, row in labels.items():
        if row["source"] != "ao3" or pid not in passages:
            continue
        p = passages[pid]
        wid = AO3_WARNING.get(p["warning"], p["warning"])
        votes = [int(v) for v in p["labels"]]
        majority = int(sum(votes) >= 2)
        ours = int(wid in row["labels"])
        rows[p["warning"]].append((ours, majority, votes))
    print("| warning (AO3) | passages | ours + | majority + | kappa ours vs majority | "
          "agreement | mean kappa between AO3 annotators |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for warning, items in sorted(rows.items()):
        ours = [o for o, _, _ in items]
        maj = [m for _, m, _ in items]
        k = kappa(ours, maj)
        inter = []
        for i in range(3):
            for j in range(i + 1, 3):
                kk = kappa([v[i] for _, _, v in items], [v[j] for _, _, v in items])
                if kk is not None:
                    inter.append(kk)
        agree = sum(o == m for o, m in zip(ours, maj, strict=True)) / len(items)
        show = "–" if k is None else f"{k:.2f}"
        print(f"| {warning} | {len(items)} | {sum(ours)} | {sum(maj)} | {show} | {agree:.2f} | "
              f"{sum(inter) / len(inter):.2f} |" if inter else "| – |")


def cmd_baseline(args: argparse.Namespace) -> None:
    """The shipped scanner on each random passage, read alone as a story, at its default
    confidence: precision and recall per warning against the final labels, and the
    false-alarm rate (random passages annotated with no warning that get one)."""
    from forewarn.errors import ForewarnError
    from forewarn.scanner import Scanner

    labels = final_labels()
    ids = [r["id"] for r in load_sample() if r["stratum"] == "random" and r["id"] in labels]
    if args.limit:
        ids = ids[: args.limit]
    scanner = Scanner()
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    clean = alarms = 0
    per_passage: dict[str, list[str]] = {}
    for n, pid in enumerate(ids):
        text = passage_text(pid)[1]
        try:
            found = set(scanner.scan(text + "\n").ids)
        except ForewarnError:
            found = set()
        per_passage[pid] = sorted(found)
        gold = set(labels[pid]["labels"])
        for w in found & gold:
            tp[w] += 1
        for w in found - gold:
            fp[w] += 1
        for w in gold - found:
            fn[w] += 1
        if not gold:
            clean += 1
            alarms += bool(found)
        if n % 500 == 0:
            print(f"... {n}/{len(ids)}", file=sys.stderr)
    print(f"{len(ids):,} random passages, each scanned alone at the default confidence (0.5)\n")
    print("| warning | gold + | flagged | TP | precision | recall |")
    print("|---|---:|---:|---:|---:|---:|")
    all_tp = sum(tp.values())
    all_fp = sum(fp.values())
    all_fn = sum(fn.values())
    for wid in warning_ids():
        g, f = tp[wid] + fn[wid], tp[wid] + fp[wid]
        if not g and not f:
            continue
        p = f"{tp[wid] / f:.2f}" if f else "–"
        r = f"{tp[wid] / g:.2f}" if g else "–"
        print(f"| {wid} | {g} | {f} | {tp[wid]} | {p} | {r} |")
    print(f"\nmicro precision {all_tp / max(1, all_tp + all_fp):.3f}, micro recall "
          f"{all_tp / max(1, all_tp + all_fn):.3f}; false-alarm rate {alarms}/{clean} = "
          f"{alarms / max(1, clean):.3f} of the passages annotated with no warning")
    out = WORK / "baseline.json"
    out.write_text(json.dumps({"tp": tp, "fp": fp, "fn": fn, "clean": clean,
                               "alarms": alarms, "passages": len(ids),
                               "found": per_passage}), encoding="utf-8")


def cmd_readme(_: argparse.Namespace) -> None:
    """Rewrite the figures section of training/annotations/README.md from the labels."""
    import contextlib
    import io

    readme = Path(__file__).resolve().parent / "annotations" / "README.md"
    text = readme.read_text(encoding="utf-8")
    head = text.split("## Figures", 1)[0]
    parts = ["## Figures", "",
             "Made by `training/annotation_report.py readme` from the label files.", ""]
    for title, fn in (("Passages per stratum, positives per warning", cmd_counts),
                      ("Agreement of two independent readings", cmd_agreement),
                      ("Against the AO3 human votes (validity)", cmd_ao3)):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            fn(argparse.Namespace())
        parts += [f"### {title}", "", buffer.getvalue().rstrip(), ""]
    results = readme.parent / "results"
    for title, name in (("The shipped scanner on the random passages (the baseline)",
                         "baseline-shipped-random.md"),
                        ("Spot check", "spotcheck.md")):
        if (results / name).exists():
            body = (results / name).read_text(encoding="utf-8").strip()
            body = "\n".join(line for line in body.splitlines() if not line.startswith("# "))
            parts += [f"### {title}", "", body.strip(), ""]
    readme.write_text(head + "\n".join(parts) + "\n", encoding="utf-8")
    print(f"wrote {readme}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("counts").set_defaults(fn=cmd_counts)
    for name, fn in (("agreement", cmd_agreement), ("adjudicate", cmd_adjudicate)):
        p = sub.add_parser(name)
        p.add_argument("--batch", nargs="+", metavar="BATCH",
                       help="only passages first read in these batches (agreement: a table "
                            "per batch)")
        p.set_defaults(fn=fn)
    sub.add_parser("readme").set_defaults(fn=cmd_readme)
    sub.add_parser("ao3").set_defaults(fn=cmd_ao3)
    b = sub.add_parser("baseline")
    b.add_argument("--limit", type=int, default=0)
    b.set_defaults(fn=cmd_baseline)
    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
