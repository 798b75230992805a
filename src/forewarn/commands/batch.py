"""``forewarn batch INPUT... --store results.db``: scan an archive into a results store.

INPUT is a folder (every story file below it that a reader takes), a JSONL file of works
(``work_id`` and ``text`` per line; ``--id-field``/``--text-field`` for other names), a
Parquet file with the same columns (needs pyarrow), or a single story file. Works already
in the store with the same content hash and model version are skipped, so a run that was
stopped (even with SIGKILL) is finished by running it again. See docs/store.md and
docs/scaling.md.

Exit codes (docs/store.md): 0 every work stored (scanned now or before); 11 the run
finished but some works failed (each recorded in the store with its error); 2 usage
error; 3 an INPUT is missing or unreadable; 5 an INPUT is not a folder, JSONL, Parquet
or story file; 6 a Parquet file is unreadable or lacks the columns; 8 the store cannot be
opened or written; 9 an optional extra is missing (pyarrow, psycopg, dask); 12 the Dask
cluster cannot be reached or failed; 130 interrupted (what finished is stored; a second
Ctrl-C while it stops ends it at once, also with 130).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from forewarn.cli import (
    add_confidence_option,
    add_format_option,
    add_scan_options,
    err,
    output_format,
    seconds,
    whole_number,
)
from forewarn.confidence import confidence_floor

EXIT_SOME_FAILED = 11
_positive, _seconds = whole_number(1), seconds()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from forewarn.ingest.registry import extensions_line

    p = sub.add_parser("batch", help="scan a folder, JSONL or Parquet file of works into a "
                                     "results store (resumable)")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help=f"a folder of stories ({extensions_line()}), a JSONL or Parquet "
                        "file of works, or a story")
    p.add_argument("--store", required=True, metavar="FILE|URL",
                   help="results store: a SQLite file, or a postgresql:// URL")
    p.add_argument("--jobs", "-j", type=_positive, default=None, metavar="N",
                   help="worker processes (default: all cores; 1 scans in this process)")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="scan on this Dask scheduler (tcp://host:8786) instead of locally")
    p.add_argument("--cluster-timeout", type=_seconds, default=15.0, metavar="S",
                   help="seconds to wait for the Dask scheduler (default 15)")
    p.add_argument("--id-field", default="work_id", metavar="NAME",
                   help="JSONL/Parquet field holding the work id (default work_id)")
    p.add_argument("--text-field", default="text", metavar="NAME",
                   help="JSONL/Parquet field holding the story text (default text)")
    p.add_argument("--retry-failed", action="store_true",
                   help="scan again works that failed before, even if unchanged")
    add_confidence_option(p)
    add_scan_options(p, encoding=False)
    p.add_argument("--chunk-size", type=_positive, default=None, metavar="N",
                   help="works per task sent to a worker (default 4 locally, 8 on Dask)")
    p.add_argument("--start-method", choices=("auto", "fork", "forkserver", "spawn"),
                   default=None, help="how worker processes start (default auto: fork on "
                                      "Linux, spawn elsewhere)")
    p.add_argument("--progress-interval", type=_seconds, default=5.0, metavar="S",
                   help="seconds between progress lines when stderr is not a terminal "
                        "(default 5)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress display (the summary is still printed)")
    add_format_option(p, "batch")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forewarn.batch import Corpus, ScanConfig, run_batch
    from forewarn.progress import Progress
    from forewarn.render.registry import render
    from forewarn.store import open_store

    fmt = output_format(args)
    # The batch's parallelism is its worker processes: one core each, no tokenizer threads
    # on the side (so --jobs N uses N cores, and --jobs 1 one).
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    corpus = Corpus(args.inputs, id_field=args.id_field, text_field=args.text_field)
    config = ScanConfig(
        min_confidence=confidence_floor(args.min_confidence),
        lexicon_only=args.lexicon_only)
    total = corpus.count()
    with open_store(args.store) as store:
        progress = Progress(total, interval=args.progress_interval, enabled=not args.quiet)
        summary = run_batch(corpus, store, jobs=args.jobs, cluster=args.cluster,
                            config=config, retry_failed=args.retry_failed,
                            chunk_size=args.chunk_size, progress=progress,
                            start_method=args.start_method, warn=err,
                            cluster_timeout=args.cluster_timeout,
                            second_interrupt_exits=True)
        summary.total = total
    render(fmt, "batch", [summary], sys.stdout)  # the summary
    if summary.interrupted:
        err("interrupted; what finished is stored: run the same command again to go on")
        # Nothing is left to stop: a further Ctrl-C while Python exits changes nothing
        # (and would otherwise end it by the signal, not with the exit code).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        return 130
    # a duplicate id is a work not stored: not a run that did everything
    return EXIT_SOME_FAILED if summary.failed or summary.duplicates else 0
