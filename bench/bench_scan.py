"""Benchmark the whole `forewarn scan` command, and the false-alarm rate on ordinary passages.

Prints, for each input, the median wall time of N runs of the real command (a fresh
process each time: interpreter start, imports, model load, scan, report) and the peak
resident memory of the process; then the fraction of ordinary passages (all three
annotators said "no") that get any warning at all.

    python bench/bench_scan.py [--runs 7] [--data ../shared/data]

    python bench/bench_scan.py --engine v2     # detection v2 (FOREWARN_ENGINE=v2)

The novel is a real one: the corpus book (``--data``) closest to 100,000 words, written to
a temporary file; without the corpus, chapters of ``bench/corpus`` repeated to that length.

Targets (issue 12): 2,500-word story at most 1.0 s median; a 100,000-word novel at most
15 s and 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus"


def forewarn_command() -> list[str]:
    exe = Path(sys.executable).with_name("forewarn")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "forewarn"]


def run_once(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of the command."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(args)}\n{err}")
    return wall, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def build_novel(target_words: int, out: Path) -> int:
    chapters = [
        p.read_text(encoding="utf-8") for p in sorted((CORPUS / "novel-chapters").glob("*.txt"))
    ]
    parts, words, n = ["Title: The Boatyard (benchmark novel)\n"], 0, 0
    while words < target_words:
        text = chapters[n % len(chapters)]
        n += 1
        parts.append(f"Chapter {n}\n\n{text.strip()}\n")
        words += len(text.split())
    out.write_text("\n".join(parts), encoding="utf-8")
    return words


def real_novel(data: Path, out: Path, target_words: int = 100_000) -> str | None:
    """Write the corpus book closest to ``target_words`` to ``out``; its name, or None."""
    import csv
    import gzip

    folder = data / "fiction-corpus"
    try:
        with open(folder / "MANIFEST.tsv", encoding="utf-8", newline="") as f:
            books = list(csv.DictReader(f, delimiter="\t"))
    except OSError:
        return None
    sizes = []
    for row in books:
        with gzip.open(folder / row["file"], "rt", encoding="utf-8") as f:
            text = f.read()
        sizes.append((abs(len(text.split()) - target_words), row["file"], text))
    _, name, text = min(sizes)
    out.write_text(text, encoding="utf-8")
    return name.removesuffix(".txt.gz")


def bench_inputs(runs: int, data: Path) -> None:
    cmd = forewarn_command()
    with tempfile.TemporaryDirectory() as tmp:
        novel = Path(tmp) / "novel-100k.txt"
        book = real_novel(data, novel)
        if book is None:
            build_novel(100_000, novel)
            book = "repeated bench chapters"
        inputs = [
            ("example story", ROOT / "examples" / "the-lighthouse-keeper.txt", runs),
            ("2,500-word story", CORPUS / "story-2500.txt", runs),
            (f"novel: {book}"[:28], novel, max(3, runs // 2)),
        ]
        print(
            f"forewarn scan, engine {os.environ.get('FOREWARN_ENGINE') or 'default'}, median of"
            f" N runs  ({platform.machine()}, {os.cpu_count()} cores,"
            f" Python {platform.python_version()})"
        )
        print(
            f"{'input':<28} {'words':>8} {'runs':>5} {'median s':>9} {'min s':>7} {'max s':>7}"
            f" {'peak MB':>8}"
        )
        for label, path, n in inputs:
            words = len(path.read_text(encoding="utf-8").split())
            results = [run_once([*cmd, "scan", str(path)]) for _ in range(n)]
            walls = [w for w, _ in results]
            peak = max(m for _, m in results)
            print(
                f"{label:<28} {words:>8,} {n:>5} {statistics.median(walls):>9.3f}"
                f" {min(walls):>7.3f} {max(walls):>7.3f} {peak:>8.0f}"
            )


def bench_false_alarms(data: Path) -> None:
    path = data / "passage-warnings" / "passages.jsonl"
    if not path.exists():
        print(f"\nfalse alarms: skipped ({path} not found; pass --data)")
        return
    from forewarn import Scanner
    from forewarn.work import Chapter, Work

    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    ordinary = [r for r in rows if not any(r["labels"])]
    scanner = Scanner()
    started = time.perf_counter()
    flagged: dict[int, list[bool]] = {0: [], 1: []}
    per_warning: dict[str, int] = {}
    for r in ordinary:
        # each passage is a one-paragraph work (no header parsing: passages are not files)
        report = scanner.scan_work(Work([Chapter.from_paragraphs(1, None, [r["text"]])]))
        flagged[r["set_id"]].append(bool(report.warnings))
        for w in report.warnings:
            per_warning[w.id] = per_warning.get(w.id, 0) + 1
    elapsed = time.perf_counter() - started
    everything = flagged[0] + flagged[1]
    print(
        f"\nordinary passages (all 3 annotators said no): {len(everything):,} "
        f"scanned in {elapsed:.1f} s"
    )
    print(
        f"  any warning at default confidence: {sum(everything) / len(everything):.1%}"
        f"  (set_id 0, seen by the heads' training: "
        f"{sum(flagged[0]) / max(1, len(flagged[0])):.1%};"
        f" set_id 1, held out: {sum(flagged[1]) / max(1, len(flagged[1])):.1%})"
    )
    top = sorted(per_warning.items(), key=lambda kv: -kv[1])[:8]
    print("  most frequent: " + ", ".join(f"{k} {v}" for k, v in top))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("FOREWARN_DATA", ROOT.parent / "shared" / "data")),
    )
    parser.add_argument("--skip-false-alarms", action="store_true")
    parser.add_argument("--engine", choices=("v1", "v2"),
                        help="FOREWARN_ENGINE for every run (default: as set)")
    args = parser.parse_args()
    if args.engine:
        os.environ["FOREWARN_ENGINE"] = args.engine
    bench_inputs(args.runs, args.data)
    if not args.skip_false_alarms:
        bench_false_alarms(args.data)


if __name__ == "__main__":
    main()
