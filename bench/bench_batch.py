"""Benchmark `forewarn batch`: throughput with 1 and 2 jobs, re-run cost, worker memory, Dask.

Generates a corpus of N works of about W words each from the project's own bench text
(`bench/corpus/novel-chapters/*.txt` and `bench/corpus/story-2500.txt`): each work takes
chapters and paragraphs shuffled with a fixed seed, so no two works are the same text.
Then, each on a fresh store and as the real command (a fresh process: imports, model
load, worker start-up, scan, store):

* `forewarn batch --jobs 1` and `--jobs 2`: works per minute and the speed-up;
* the `--jobs 2` batch run again unchanged: its time as a % of the first run;
* peak memory (RSS) of each worker process, polled from /proc (psutil if installed),
  and the peak the workers report themselves (ru_maxrss);
* with Dask installed, a LocalCluster with 1 and then 2 worker processes (`--cluster`).

    python bench/bench_batch.py [--works 1000] [--words 2000] [--repeat 1] [--no-dask]
                                [--no-local]

Targets (issue "Archive scale"): speed-up with 2 jobs >= 1.7x; the unchanged re-run
< 5% of the first run; peak memory per worker < 600 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "corpus"


def forewarn_command() -> list[str]:
    exe = Path(sys.executable).with_name("forewarn")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "forewarn"]


def source_chapters() -> list[list[str]]:
    """Each source chapter as a list of paragraphs."""
    files = [*sorted((CORPUS / "novel-chapters").glob("*.txt")), CORPUS / "story-2500.txt"]
    out = []
    for path in files:
        paras = [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
        out.append(paras)
    return out


def generate(folder: Path, works: int, words: int, seed: int = 2024) -> int:
    """Write ``works`` stories of about ``words`` words; return the total word count."""
    rng = random.Random(seed)
    chapters = source_chapters()
    total = 0
    for i in range(works):
        order = chapters[:]
        rng.shuffle(order)
        parts = [f"Title: Bench work {i}\n"]
        count = 0
        for chapter_no, paras in enumerate(order, 1):
            if count >= words:
                break
            take = paras[:]
            rng.shuffle(take)
            # a random contiguous half-or-more of the shuffled paragraphs
            keep = take[: max(3, int(len(take) * rng.uniform(0.5, 1.0)))]
            chosen = []
            for p in keep:
                if count >= words:
                    break
                chosen.append(p)
                count += len(p.split())
            parts.append(f"Chapter {chapter_no}\n\n" + "\n\n".join(chosen) + "\n")
        sub = folder / f"{i // 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"work-{i:05d}.txt").write_text("\n".join(parts), encoding="utf-8")
        total += count
    return total


class RssPoller(threading.Thread):
    """Polls the RSS of a process's descendants every 0.2 s; keeps the peak per pid."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peaks: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for child in descendants(self.pid):
                rss = rss_mb(child)
                if rss:
                    self.peaks[child] = max(self.peaks.get(child, 0.0), rss)
            self.stop.wait(0.2)


def descendants(pid: int) -> list[int]:
    try:
        import psutil

        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except ImportError:
        pass
    except Exception:  # the process ended
        return []
    out, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                kids = Path(f"/proc/{parent}/task/{tid}/children").read_text().split()
            except OSError:
                continue
            for k in kids:
                out.append(int(k))
                todo.append(int(k))
    return out


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return 0.0
    return 0.0


CPU: dict[str, float] = {}


def run_batch(args: list[str]) -> tuple[float, dict, dict[int, float]]:
    """Wall seconds, the --json summary and the per-worker RSS peaks of one run.

    The CPU seconds of the run (the process and its reaped workers) go to ``CPU["last"]``:
    CPU / wall shows how many cores the run really had (other load on the machine shows
    up as a low figure).
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen([*forewarn_command(), "batch", *args, "--json", "-q"],
                                stdout=out_file, stderr=err_file)
        poller = RssPoller(proc.pid)
        poller.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        poller.stop.set()
        poller.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read()
    CPU["last"] = usage.ru_utime + usage.ru_stime
    if proc.returncode not in (0, 11):
        raise SystemExit(f"forewarn batch failed ({proc.returncode}): {err.decode()}")
    return wall, json.loads(out), poller.peaks


def bench_local(corpus: Path, tmp: Path, works: int, repeat: int) -> None:
    results: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    rerun: list[float] = []
    peaks: list[float] = []
    reported: list[float] = []
    for r in range(repeat):
        for jobs in (1, 2):
            store = tmp / f"store-j{jobs}-{r}.db"
            wall, summary, rss = run_batch([str(corpus), "--store", str(store),
                                            "--jobs", str(jobs)])
            assert summary["scanned"] == works, summary
            results[jobs].append(wall)
            cpu[jobs].append(CPU["last"])
            print(f"  run {r + 1}: --jobs {jobs}: {wall:.1f} s wall, {CPU['last']:.1f} s CPU "
                  f"({CPU['last'] / wall:.2f} cores busy)", flush=True)
            if jobs == 2:
                peaks.extend(rss.values())
                reported.append(summary["worker_peak_rss_mb"])
                again, summary2, _ = run_batch([str(corpus), "--store", str(store),
                                                "--jobs", "2"])
                assert summary2["skipped"] == works, summary2
                rerun.append(100 * again / wall)
                print(f"  run {r + 1}: --jobs 2 again, unchanged: {again:.2f} s", flush=True)
    t1, t2 = statistics.median(results[1]), statistics.median(results[2])
    print(f"--jobs 1: {works / t1 * 60:,.0f} works/min  ({t1:.1f} s for {works} works, "
          f"median of {repeat})")
    print(f"--jobs 2: {works / t2 * 60:,.0f} works/min  ({t2:.1f} s)")
    print(f"speed-up with 2 jobs: {t1 / t2:.2f}x  (target >= 1.7x)")
    c1, c2 = statistics.median(cpu[1]), statistics.median(cpu[2])
    print(f"CPU per work: {c1 / works * 1000:.0f} ms with --jobs 1, {c2 / works * 1000:.0f} ms "
          f"with --jobs 2 (pool overhead {100 * (c2 - c1) / c1:+.1f}%); cores busy "
          f"{c1 / t1:.2f} and {c2 / t2:.2f}")
    print(f"unchanged re-run of the --jobs 2 batch: {statistics.median(rerun):.1f}% of the "
          "first run's time  (target < 5%)")
    print(f"peak RSS per worker process: {max(peaks) if peaks else 0:.0f} MB polled from /proc,"
          f" {max(reported):.0f} MB reported by the workers (ru_maxrss)  (target < 600 MB)")


def bench_dask(corpus: Path, tmp: Path, works: int) -> None:
    try:
        from distributed import LocalCluster
    except ImportError:
        print("Dask: not installed (pip install 'forewarn[cluster]'); skipped")
        return
    times = {}
    for n in (1, 2):
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            store = tmp / f"store-dask{n}.db"
            wall, summary, _ = run_batch([str(corpus), "--store", str(store),
                                          "--cluster", cluster.scheduler_address])
            assert summary["scanned"] == works, summary
            times[n] = wall
            print(f"Dask LocalCluster, {n} worker(s): {works / wall * 60:,.0f} works/min "
                  f"({wall:.1f} s wall; client CPU {CPU['last']:.1f} s)", flush=True)
    print(f"Dask speed-up with 2 workers: {times[1] / times[2]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=1000)
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--no-local", action="store_true", help="only the Dask runs")
    args = parser.parse_args()
    print(f"forewarn batch benchmark ({platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()})")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "corpus"
        words = generate(corpus, args.works, args.words)
        print(f"corpus: {args.works:,} works, {words:,} words ({words / args.works:,.0f} per "
              "work)", flush=True)
        if not args.no_local:
            bench_local(corpus, tmp, args.works, args.repeat)
        if not args.no_dask:
            bench_dask(corpus, tmp, args.works)


if __name__ == "__main__":
    main()
