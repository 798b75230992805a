"""``forewarn export --store results.db --format jsonl|csv|parquet [-o FILE]``.

Writes what a results store holds, for researchers, in the formats registered for the
``export`` kind (:mod:`forewarn.render.registry`; the built-ins in
:mod:`forewarn.render.formats`, the data in :mod:`forewarn.export`):

* ``jsonl`` (default): one object per work: ``schema`` (``forewarn.export/1``),
  ``work_id``, ``source``, ``content_hash``, ``forewarn_version``, ``model_version``,
  ``status``, ``error`` (``{"kind", "message"}`` or null), ``report`` (the
  ``forewarn.report/2`` object, or null for a failure) and ``scanned_at``;
* ``csv`` and ``parquet``: a flat table; ``--table works`` (default) has one row per work
  with its warnings as ``id:severity:confidence`` joined by ``;``, ``--table warnings`` one
  row per (work, warning). A CSV cell that a spreadsheet would run as a formula (text
  starting with ``=``, ``+``, ``-`` or ``@``) starts with ``'``.

``--warning W [--min-severity S] [--min-confidence X]`` keeps only works (or rows) with
that warning at least that strong: the same indexed query as in docs/store.md.

``-o FILE`` is written to a temporary file in the same folder that replaces FILE only when
complete: a full disk or an error leaves no partial file (and an existing FILE as it was).

Exit codes: 0 written; 2 usage error (an unknown warning, parquet without ``-o``); 3
``-o FILE`` cannot be written (its folder is missing or read-only, the disk is full: the
file is then not written at all); 8 the store cannot be opened or read; 9 pyarrow (for
parquet) or psycopg (for a PostgreSQL store) is not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any

from forewarn.cli import add_format_option, confidence, output_format
from forewarn.export import TABLES


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export", help="export a results store as JSONL, CSV or Parquet")
    p.add_argument("--store", required=True, metavar="FILE|URL",
                   help="the results store (a SQLite file or a postgresql:// URL)")
    add_format_option(p, "export", default="jsonl", json_alias=False)
    p.add_argument("--table", choices=TABLES, default="works",
                   help="csv/parquet: one row per work (default) or per (work, warning)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write here (default: standard output; required for parquet)")
    p.add_argument("--warning", metavar="WARNING",
                   help="only works with this warning (an id, name or alias)")
    p.add_argument("--min-severity", choices=("mentioned", "depicted", "graphic"),
                   default="mentioned", help="with --warning: at least this severity")
    p.add_argument("--min-confidence", type=confidence, default=0.0, metavar="X",
                   help="with --warning: at least this confidence")
    p.set_defaults(func=run)


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    from forewarn.store import SEVERITY_RANK

    if args.warning is None:
        return {}
    from forewarn.taxonomy import load_taxonomy

    warning = load_taxonomy().parse_list(args.warning)
    if len(warning) != 1:
        from forewarn.errors import TaxonomyError

        raise TaxonomyError(f"--warning takes one warning, not {args.warning!r}")
    return {"warning": warning[0].id, "min_severity_rank": SEVERITY_RANK[args.min_severity],
            "min_confidence": args.min_confidence}


def run(args: argparse.Namespace) -> int:
    from forewarn.export import Export
    from forewarn.render.registry import RenderOptions, get_renderer
    from forewarn.store import open_store

    fmt = output_format(args)
    renderer = get_renderer(fmt, "export")
    options = RenderOptions()
    if renderer.needs_file and not args.output:
        from forewarn.cli import err

        err(f"export: --format {fmt} needs -o FILE")
        return 2
    if args.warning is None and (args.min_severity != "mentioned" or args.min_confidence > 0):
        from forewarn.cli import err

        err("export: --min-severity and --min-confidence filter one warning's rows: name it "
            "with --warning (without it every work is exported)")
        return 2
    if args.output and _is_the_store(args.output, args.store):
        from forewarn.cli import err

        err(f"export: -o {args.output} is the store itself (or its -wal/-shm file): "
            "writing there would replace the results; choose another file")
        return 2
    filters = _filters(args)
    with open_store(args.store, read_only=True) as store:
        items = [Export(store, table=args.table, filters=filters)]
        if not args.output:
            renderer.render("export", items, sys.stdout, options)
            sys.stdout.flush()
            return 0
        with _AtomicOutput(args.output) as temp:
            if renderer.binary:
                with open(temp, "wb") as out:
                    renderer.render("export", items, out, options)
            else:
                with open(temp, "w", encoding="utf-8", newline="") as out:
                    renderer.render("export", items, out, options)
    return 0


def _is_the_store(output: str, store: str) -> bool:
    """Whether ``output`` names the SQLite store file or one of its -wal/-shm files."""
    import os

    if "://" in store:
        return False
    for target in (store, f"{store}-wal", f"{store}-shm", f"{store}-journal"):
        try:
            if os.path.samefile(output, target):
                return True
        except OSError:  # either one missing
            if os.path.abspath(output) == os.path.abspath(target):
                return True
    return False


class _AtomicOutput:
    """``-o FILE``: the export is written to a temporary file in FILE's folder, which
    replaces FILE (``os.replace``) only once it is complete. On any failure (a full disk,
    a store error) the temporary file is removed and FILE is left as it was; an
    ``OSError`` becomes one line and exit code 3."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.temp: str | None = None

    def __enter__(self) -> str:
        import tempfile

        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            fd, self.temp = tempfile.mkstemp(
                dir=folder, prefix=f".{os.path.basename(self.path)}.", suffix=".tmp")
            os.close(fd)
            # mkstemp makes the file 0600; give it the mode a plain open() would
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.temp, 0o666 & ~umask)
        except OSError as exc:
            self._remove()
            raise self._error(exc) from None
        return self.temp

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc is None:
            try:
                assert self.temp is not None
                os.replace(self.temp, self.path)
                self.temp = None
                return
            except OSError as error:
                exc = error
        self._remove()
        if isinstance(exc, OSError):
            raise self._error(exc) from None

    def _remove(self) -> None:
        if self.temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)
            self.temp = None

    def _error(self, exc: OSError) -> Exception:
        from forewarn.errors import InputNotFound

        why = exc.strerror or str(exc) or type(exc).__name__
        return InputNotFound(f"{self.path}: cannot write ({why}); the file was not "
                             "written (an existing one is unchanged)")
