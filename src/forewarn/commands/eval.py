"""``forewarn eval [PART ...]``: measure forewarn on reference data; print markdown tables.

Parts: passages, natural, documents, auxiliary, chapters, testset, annotated, ao3, or all
(the default).
See docs/evaluation.md. Writes the report to stdout (``--format text``, the default: the
markdown; ``--format json``: every number, ``forewarn.eval/1``) and, with ``--out``, the
markdown to a file; ``--json FILE`` also writes every number as JSON to FILE. Progress
goes to stderr (``--quiet``: none).

Exit codes: 0 done (with ``all``, a part whose data is missing is reported as skipped);
2 usage error; 3 a part asked for by name has no data, or no part could run at all; 9 a
part asked for by name needs scikit-learn (``pip install 'forewarn[eval]'``) or the source
checkout.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from forewarn.cli import add_format_option, output_format

PART_NAMES = ("passages", "natural", "documents", "auxiliary", "chapters", "testset",
              "annotated", "ao3", "all")


def _seeds(value: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(s) for s in value.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {value!r}"
                                         ) from None
    if not seeds:
        raise argparse.ArgumentTypeError("no seeds given")
    return seeds


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval", help="evaluate forewarn on reference data (markdown tables)",
        description="Evaluate forewarn on the reference data and print markdown tables. "
                    "Parts: passages (the published 20+20 protocol), natural (grouped CV, "
                    "natural distribution), documents (PAN23 format), auxiliary (moderation "
                    "and hate-speech sets), chapters (public-domain chapters), testset "
                    "(tests/eval), annotated (the annotated test books and scenes: detection "
                    "v2's held-out figures), ao3 (detection v2 on the AO3 passages), all.")
    p.add_argument("parts", nargs="*", metavar="PART", default=["all"],
                   help=f"what to run: {', '.join(PART_NAMES)} (default: all)")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="the reference data folder (default: $FOREWARN_DATA, else "
                        "../shared/data beside the checkout)")
    p.add_argument("--out", type=Path, metavar="FILE", help="also write the markdown here")
    p.add_argument("--json", type=Path, metavar="FILE",
                   help="also write every number as JSON here (forewarn.eval/1)")
    add_format_option(p, "eval", json_alias=False)
    p.add_argument("--pan23", type=Path, metavar="DIR",
                   help="documents: a folder with works.jsonl and labels.jsonl (default: "
                        "DATA/pan23, else tests/fixtures/eval)")
    p.add_argument("--testset", type=Path, action="append", metavar="FILE",
                   help="testset: a JSON-lines file (repeatable; default: "
                        "tests/eval/testset-a.jsonl and testset-b.jsonl)")
    p.add_argument("--chapters", type=Path, metavar="DIR",
                   help="chapters: a folder of .txt chapters with labels.json (default: "
                        "DATA/public-domain)")
    p.add_argument("--seeds", type=_seeds, metavar="N,N,...",
                   help="passages: the protocol's seeds (default: 43,44,45,46,47)")
    p.add_argument("--engine", choices=("v1", "v2"), default=None,
                   help="the detection engine the scanner parts run (default: "
                        "$FOREWARN_ENGINE, else the shipped default)")
    p.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from forewarn.cli import err
    from forewarn.eval import (
        PARTS,
        Context,
        EvalError,
        environment,
        header_lines,
        run_parts,
    )
    from forewarn.eval.common import data_dir_default
    from forewarn.eval.report import EvalResult
    from forewarn.render.registry import render

    unknown = [p for p in args.parts if p not in PART_NAMES]
    if unknown:
        err(f"eval: unknown part {unknown[0]!r}; choose from {', '.join(PART_NAMES)}")
        return 2
    names = list(PARTS) if "all" in args.parts else list(dict.fromkeys(args.parts))

    def log(message: str) -> None:
        if not args.quiet:
            sys.stderr.write(f"forewarn eval: {message}\n")
            sys.stderr.flush()

    options = {"pan23": args.pan23, "testset": args.testset, "chapters": args.chapters,
               "seeds": args.seeds}
    from forewarn.eval.common import Shipped

    ctx = Context(data_dir=args.data or data_dir_default(), log=log,
                  shipped=Shipped(engine=args.engine),
                  options={k: v for k, v in options.items() if v})
    if not ctx.data_dir.is_dir():
        log(f"data folder {ctx.data_dir} not found; parts that need it will be skipped")
    command = "forewarn eval " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
        if len(sys.argv) > 1 and sys.argv[1] == "eval" else "forewarn eval " + " ".join(args.parts)
    single = "all" not in args.parts
    meta = environment(ctx, command.strip())  # before running: the heads and lexicon used
    started = time.perf_counter()
    sections = run_parts(names, ctx, skip_missing=not single)
    meta["seconds"] = round(time.perf_counter() - started, 1)
    result = EvalResult(sections, meta, header_lines(meta))
    text = result.markdown()
    render(output_format(args), "eval", [result], sys.stdout)  # text: the markdown
    try:
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text, encoding="utf-8")
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(result.json(), encoding="utf-8")
    except OSError as exc:
        raise EvalError(f"cannot write the report: {exc}") from None
    skipped = [s.part for s in sections if s.skipped]
    if skipped and len(skipped) == len(sections):
        err(f"eval: no part could run (its data is missing: pass --data DIR or set "
            f"FOREWARN_DATA; looked in {ctx.data_dir})")
        return 3
    if skipped:
        log(f"skipped: {', '.join(skipped)} (see the report)")
    return 0
