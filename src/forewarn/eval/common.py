"""What every part of the harness shares: where the data is, and the shipped model, cached.

The shipped model is forewarn exactly as installed: :class:`~forewarn.scanner.Scanner`
with its default detectors (lexicon, then the embedding cascade) at the default confidence
:data:`~forewarn.confidence.DEFAULT_MIN_CONFIDENCE`. :class:`Shipped` runs it on short texts
(a passage, a moderation sample, a test-set line) and keeps, per text, the warnings the
scanner reports and, separately, the best lexicon score per warning, so that the
passage parts can use "the shipped lexicon alone" without scanning twice.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forewarn.errors import ForewarnError, InputNotFound
from forewarn.work import Chapter, Hit, Passage, Work

__all__ = [
    "Context",
    "EvalError",
    "MissingExtra",
    "Scored",
    "Shipped",
    "data_dir_default",
    "read_jsonl",
    "repo_root",
    "text_work",
]


class EvalError(ForewarnError, exit_code=3, kind="not-found"):
    """Evaluation data that is missing or unreadable (exit code 3, like a missing input)."""


class MissingExtra(ForewarnError, exit_code=9, kind="missing-dependency"):
    """A part needs an optional dependency (scikit-learn: ``pip install 'forewarn[eval]'``)."""


def repo_root() -> Path | None:
    """The source checkout forewarn runs from (``src/`` layout), or None for an install."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() and (root / "src").is_dir() else None


def data_dir_default() -> Path:
    """``$FOREWARN_DATA``, else ``../shared/data`` beside the source checkout (or the cwd)."""
    env = os.environ.get("FOREWARN_DATA")
    if env:
        return Path(env)
    root = repo_root()
    return (root.parent if root else Path.cwd().parent) / "shared" / "data"


def need(path: Path, what: str) -> Path:
    """``path`` if it exists, else :class:`EvalError` naming what is missing."""
    if not path.exists():
        raise EvalError(f"{what} not found at {path} (pass --data DIR or set FOREWARN_DATA)")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON-lines file (gzip when it ends in ``.gz``); blank lines are skipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    number = 0
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise EvalError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
                except RecursionError:
                    raise EvalError(f"{path}:{number}: not valid JSON (nested too deep)") from None
    except UnicodeDecodeError:
        raise EvalError(f"{path}:{number + 1}: not UTF-8") from None
    except (OSError, EOFError) as exc:  # a folder, a truncated or damaged .gz
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise EvalError(f"{path}: cannot read ({reason})") from None
    return rows


def json_field(row: Any, name: str, where: str, kind: type | tuple[type, ...]) -> Any:
    """``row[name]`` when ``row`` is a JSON object holding it with a value of ``kind``;
    otherwise an :class:`EvalError` naming the file, line and field."""
    if not isinstance(row, dict):
        raise EvalError(f"{where}: not a JSON object")
    value = row.get(name)
    if value is None or isinstance(value, bool) or not isinstance(value, kind):
        what = "no" if value is None else f"a {type(value).__name__} as its"
        raise EvalError(f"{where}: {what} {name!r} field")
    return value


_BLANK_LINE = re.compile(r"\n\s*\n")


def text_work(text: str, source: str = "<eval>") -> Work:
    """A one-chapter Work of ``text``, paragraphs at blank lines, with no header parsing.

    Short evaluation texts (passages, moderation samples) are not stories with AO3
    headers; reading them with :func:`forewarn.ingest.read_text` would take a first line
    like "Warning: ..." for a header. Paragraphs and passages are what the scanner makes.
    """
    paragraphs = [p for p in _BLANK_LINE.split(text) if p.strip()] or [text]
    chapter = Chapter.from_paragraphs(1, None, paragraphs)
    return Work(chapters=[chapter], source=source, source_text=chapter.text)


class _Recording:
    """Wraps a detector and keeps the hits of its last call."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = getattr(inner, "version", None)
        self.last: list[Hit] = []

    def detect(self, passages: Sequence[Passage]) -> list[Hit]:
        self.last = self.inner.detect(passages)
        return self.last


@dataclass(frozen=True, slots=True)
class Scored:
    """What the shipped scanner made of one text."""

    warnings: dict[str, float]  # warning -> confidence, as reported (>= min confidence)
    severities: dict[str, str]
    lexicon: dict[str, float]  # warning -> best lexicon hit score (lexicon alone)
    seconds: float


@dataclass
class Shipped:
    """The shipped scanner (lexicon + shipped heads) at the default confidence, cached by text."""

    min_confidence: float | None = None
    engine: str | None = None  # v1 or v2 (None: forewarn.scanner.default_engine())
    cache: dict[str, Scored] = field(default_factory=dict)
    _scanner: Any = None
    _lexicon: _Recording | None = None
    _cascade: Any = None

    def __post_init__(self) -> None:
        if self.min_confidence is None:
            from forewarn.confidence import DEFAULT_MIN_CONFIDENCE

            self.min_confidence = DEFAULT_MIN_CONFIDENCE

    def _ready(self) -> Any:
        if self._scanner is None:
            from forewarn.detect.lexicon import LexiconDetector
            from forewarn.scanner import Scanner, default_detectors, default_engine

            self.engine = self.engine or default_engine()
            self._lexicon = _Recording(LexiconDetector())
            self._cascade = default_detectors(self.engine)[-1]
            assert self.min_confidence is not None  # set by __post_init__
            self._scanner = Scanner([self._lexicon, self._cascade],
                                    min_confidence=self.min_confidence)
        return self._scanner

    def encoder(self) -> Any:
        """The shipped v1 cascade's sentence encoder (loaded on first use)."""
        from forewarn.detect.cascade import CascadeDetector

        return CascadeDetector().encoder

    def score(self, text: str) -> Scored:
        """Scan one short text (a passage, a sample) as a one-chapter work."""
        found = self.cache.get(text)
        if found is None:
            found = self.cache[text] = self._scan(text_work(text))
        return found

    def score_many(self, texts: Iterable[str]) -> list[Scored]:
        return [self.score(t) for t in texts]

    def scan_work(self, work: Work) -> Scored:
        """Scan a whole work (a chapter, a document); not cached."""
        return self._scan(work)

    def _scan(self, work: Work) -> Scored:
        scanner = self._ready()
        assert self._lexicon is not None
        started = time.perf_counter()
        if not work.chapters or not any(ch.text.strip() for ch in work.chapters):
            return Scored({}, {}, {}, 0.0)
        report = scanner.scan_work(work)
        seconds = time.perf_counter() - started
        lexicon: dict[str, float] = {}
        for hit in self._lexicon.last:
            lexicon[hit.warning] = max(lexicon.get(hit.warning, 0.0), float(hit.score))
        return Scored(
            warnings={w.id: float(w.confidence) for w in report.warnings},
            severities={w.id: w.severity for w in report.warnings},
            lexicon=lexicon,
            seconds=seconds,
        )


def check_file(path: Path, what: str) -> Path:
    """Like :func:`need`, for a path the user gave (InputNotFound, exit code 3)."""
    if not path.is_file():
        raise InputNotFound(f"{what} not found: {path}")
    return path


def _quiet(message: str) -> None:
    return None


@dataclass
class Context:
    """What a part runs with: the data folder, the shared shipped model, a progress logger."""

    data_dir: Path = field(default_factory=data_dir_default)
    shipped: Shipped = field(default_factory=Shipped)
    log: Callable[[str], None] = _quiet
    # part-specific inputs given on the command line (pan23 folder, test-set files, seeds)
    options: dict[str, Any] = field(default_factory=dict)
