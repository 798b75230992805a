"""forewarn's evaluation harness: ``forewarn eval`` (or ``python -m forewarn.eval``).

Eight parts, each runnable alone (see docs/evaluation.md):

=============  ==========================================================================
``passages``   the published passage-level protocol (20 + 20 per warning, seeds 43-47),
               in and out of distribution, against the paper's figures
``natural``    passage level at the natural distribution, grouped 5-fold CV by work,
               majority and minority labels, with a TF-IDF + LR baseline
``documents``  document level in the PAN23 format (works.jsonl + labels.jsonl), micro-
               and macro-F1 over the 32 PAN23 labels
``auxiliary``  OpenAI moderation, HateCheck and ToxiGen, labels mapped to warnings
``chapters``   whole public-domain chapters: must/should recall, false alarms, timing
``testset``    the project's own held-out test set (tests/eval/testset-*.jsonl)
``annotated``  detection v2 against v1 on the annotated corpus's test split: per warning,
               natural distribution, calibration, whole scenes and chapters
``ao3``        detection v2 on the AO3 passages (never trained on): natural distribution
               and the published protocol's test draws
=============  ==========================================================================

``passages`` and ``natural`` train heads and need scikit-learn (``pip install
'forewarn[eval]'``) and the source checkout's ``training/train_heads.py``; the others only
run the shipped scanner. Data comes from ``--data`` (default ``$FOREWARN_DATA`` or
``../shared/data`` beside the checkout) and is only read, never copied.

>>> from forewarn.eval import Context, run_parts
>>> sections = run_parts(["chapters"], Context())          # doctest: +SKIP
>>> print(render_markdown(sections))                       # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import time
from collections.abc import Callable, Sequence
from typing import Any

from forewarn.errors import ForewarnError
from forewarn.eval.common import Context, EvalError, MissingExtra, Shipped, data_dir_default
from forewarn.eval.report import Section, Table, render_json, render_markdown

__all__ = [
    "PARTS",
    "Context",
    "EvalError",
    "MissingExtra",
    "Section",
    "Shipped",
    "Table",
    "data_dir_default",
    "environment",
    "render_json",
    "render_markdown",
    "run_part",
    "run_parts",
]


def _passages(ctx: Context) -> Section:
    from forewarn.eval.passages import N_TEST_PER_CLASS, PROTOCOL_SEEDS, protocol

    return protocol(ctx, ctx.options.get("seeds") or PROTOCOL_SEEDS,
                    int(ctx.options.get("n_test") or N_TEST_PER_CLASS))


def _natural(ctx: Context) -> Section:
    from forewarn.eval.passages import natural

    return natural(ctx)


def _documents(ctx: Context) -> Section:
    from forewarn.eval.documents import documents

    return documents(ctx)


def _auxiliary(ctx: Context) -> Section:
    from forewarn.eval.auxiliary import auxiliary

    return auxiliary(ctx)


def _chapters(ctx: Context) -> Section:
    from forewarn.eval.chapters import chapters

    return chapters(ctx)


def _testset(ctx: Context) -> Section:
    from forewarn.eval.testset import testset

    return testset(ctx)


def _annotated(ctx: Context) -> Section:
    from forewarn.eval.annotated import annotated

    return annotated(ctx)


def _ao3(ctx: Context) -> Section:
    from forewarn.eval.ao3 import ao3

    return ao3(ctx)


# name -> (title for a skipped part, function), in the order "all" runs them.
PARTS: dict[str, tuple[str, Callable[[Context], Section]]] = {
    "passages": ("Passage level: the published protocol", _passages),
    "natural": ("Passage level: natural distribution", _natural),
    "documents": ("Document level: PAN23 format", _documents),
    "auxiliary": ("Auxiliary sets", _auxiliary),
    "chapters": ("Whole chapters", _chapters),
    "testset": ("The project's held-out test set", _testset),
    "annotated": ("Held-out annotated data (test books and scenes)", _annotated),
    "ao3": ("AO3 passages, detection v2 (never trained on them)", _ao3),
}


def run_part(name: str, ctx: Context) -> Section:
    """Run one part; its errors (missing data, missing scikit-learn) propagate."""
    try:
        _, func = PARTS[name]
    except KeyError:
        raise EvalError(f"unknown part {name!r}; parts: {', '.join(PARTS)}, all") from None
    return func(ctx)


def run_parts(names: Sequence[str], ctx: Context, *, skip_missing: bool = True,
              ) -> list[Section]:
    """Run several parts in order; with ``skip_missing`` a part whose data or extra is
    missing becomes a skipped section (with the reason) instead of stopping the rest."""
    sections = []
    for name in names:
        started = time.perf_counter()
        try:
            section = run_part(name, ctx)
        except (EvalError, MissingExtra, ForewarnError) as exc:
            if not skip_missing:
                raise
            section = Section(name, PARTS[name][0], skipped=str(exc))
            ctx.log(f"{name}: skipped: {exc}")
        else:
            ctx.log(f"{name}: done in {time.perf_counter() - started:.1f} s")
        sections.append(section)
    return sections


def environment(ctx: Context, command: str) -> dict[str, Any]:
    """Where and with what the evaluation ran: for the report's header and the JSON."""
    import json
    from importlib import resources

    from forewarn import __version__
    from forewarn.detect.lexicon import LexiconDetector

    try:
        heads = json.loads((resources.files("forewarn") / "data" / "heads.json")
                           .read_text("utf-8"))["heads_npz_sha256"][:12]
    except (OSError, ValueError, KeyError):
        heads = "unknown"
    try:
        static = json.loads((resources.files("forewarn") / "data" / "static" / "manifest.json")
                            .read_text("utf-8"))["files"]["embeddings.npy"]["sha256"][:12]
    except (OSError, ValueError, KeyError, TypeError):
        static = "unknown"
    cpu = platform.processor() or platform.machine()
    from forewarn.scanner import Scanner, default_engine

    engine = ctx.shipped.engine or default_engine()
    try:  # what each detector of the engine measured is (artifact hashes; nothing loaded)
        detectors = {k: v for k, v in Scanner(engine=engine).versions.items()
                     if k != "forewarn"}
    except Exception:  # an engine not installed: the figures below say so themselves
        detectors = {}
    return {
        "engine": engine,
        "detectors": detectors,
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command,
        "forewarn": __version__,
        "lexicon": LexiconDetector().version,
        "heads_sha256": heads,
        "static_model_sha256": static,
        "min_confidence": ctx.shipped.min_confidence,
        "data": str(ctx.data_dir),
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.release()}, {cpu}, "
                   f"{os.cpu_count()} CPUs (shared)",
    }


def header_lines(meta: dict[str, Any]) -> list[str]:
    took = f" (all parts: {meta['seconds']:.0f} s)" if meta.get("seconds") else ""
    return [
        f"- Date: {meta['date']}",
        f"- Command: `{meta['command']}`",
        f"- forewarn {meta['forewarn']}: lexicon {meta['lexicon']}, static model "
        f"{meta['static_model_sha256']}, heads {meta['heads_sha256']} (sha256 prefixes); "
        f"default confidence {meta['min_confidence']}",
        f"- Engine: {meta.get('engine', '?')} ("
        + (", ".join(f"{k} {v}" for k, v in meta.get("detectors", {}).items()) or "?")
        + ")",
        f"- Data: {meta['data']}",
        f"- Machine: {meta['machine']}, Python {meta['python']}{took}",
    ]
