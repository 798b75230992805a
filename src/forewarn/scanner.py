"""The one straight path: ingest → segment → detect → aggregate → Report."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from forewarn import __version__
from forewarn.aggregate import aggregate
from forewarn.confidence import DEFAULT_MIN_CONFIDENCE
from forewarn.coverage import audit
from forewarn.declared import declared_warnings
from forewarn.detect.lexicon import LexiconDetector, LexiconHits
from forewarn.errors import InputNotFound
from forewarn.ingest import read_path, read_text
from forewarn.language import languages
from forewarn.normalize import decode_references, fold_passages
from forewarn.report import Report
from forewarn.segment import segment
from forewarn.taxonomy import Taxonomy, load_taxonomy
from forewarn.work import Hit, Passage, PassageScores, Work


class Detector(Protocol):
    name: str

    def detect(self, passages: Sequence[Passage]) -> list[Hit]: ...


ENGINE_ENV = "FOREWARN_ENGINE"
ENGINES = ("v1", "v2")  # forewarn.detect.ENGINES says what each runs


DEFAULT_ENGINE = "v2"


def default_engine() -> str:
    """``FOREWARN_ENGINE`` (``v1`` or ``v2``), else :data:`DEFAULT_ENGINE` (v2, the
    fine-tuned classifier)."""
    value = os.environ.get(ENGINE_ENV, "").strip().lower()
    if not value:
        return DEFAULT_ENGINE
    if value not in ENGINES:  # a typo ("vl") must not quietly run the other engine
        from forewarn.errors import UsageError

        raise UsageError(f"{ENGINE_ENV}={value!r} is not an engine: use "
                         f"{' or '.join(ENGINES)} (or leave it unset for {DEFAULT_ENGINE})")
    return value


def default_detectors(engine: str | None = None) -> list[Detector]:
    """v1: the lexicon (every passage), then the embedding cascade: static heads on every
    passage, the MiniLM encoder's heads on those the lexicon or a static head points at.
    v2 (the default): the lexicon, whose best score per passage is one feature of the
    fitted combiner and whose cues explain, then the fine-tuned passage classifier, which
    reads every passage; the combiner turns both into each passage's probability and the
    fitted work aggregator into the work's."""
    from forewarn.detect import ENGINES, create

    chosen = engine or default_engine()
    if "classifier" in ENGINES[chosen]:
        from forewarn.detect.classifier import available
        from forewarn.errors import EngineUnavailable

        if not available():
            raise EngineUnavailable(
                "detection v2 is not part of this installation: build it with "
                "training/train_classifier.py and training/export_classifier.py "
                "(docs/model-card.md), or set FOREWARN_ENGINE=v1")
    return [create(key) for key in ENGINES[chosen]]


def _looks_like_path(value: str) -> bool:
    if "\n" in value or len(value) > 1024:
        return False
    from forewarn.ingest.registry import extensions

    return value.lower().endswith(extensions()) or os.path.isfile(value)


class Scanner:
    """Scans works. Construction does no work; models load on first use, once per process.

    ``engine``: "v2" (the default: the fine-tuned classifier) or "v1". ``lexicon_only=True``
    runs the lexicon alone (faster, far lower recall).

    >>> from forewarn import Scanner
    >>> scanner = Scanner()
    >>> scanner.scan("She could kill for a coffee, and the deadline was killing her.").ids
    []
    >>> scanner.scan("He stabbed the guard and beat him. Blood pooled on the stones.").ids
    ['violence', 'blood-gore']
    """

    def __init__(
        self,
        detectors: Sequence[Detector] | None = None,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        taxonomy: Taxonomy | None = None,
        *,
        lexicon_only: bool = False,
        engine: str | None = None,
    ) -> None:
        if engine is not None and engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        self.engine = engine
        if detectors is None and lexicon_only:
            detectors = [LexiconDetector()]
        self.detectors = detectors
        self.min_confidence = check_floor(min_confidence)
        self.taxonomy = taxonomy

    def scan(self, source: str | os.PathLike[str] | Work, *,
             min_confidence: float | None = None) -> Report:
        """Scan a Work, a path (str or Path), or a story given as a string.

        A string is read as a path when it has no newline and names an existing file or
        ends with a supported extension (a missing ``story.txt`` raises InputNotFound
        rather than being scanned as a two-word story); otherwise it is the story text.
        ``min_confidence``: this scan's floor instead of the scanner's.
        """
        if isinstance(source, Work):
            return self.scan_work(source, min_confidence=min_confidence)
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError("scan() takes a story's text, a path or a Work, not "
                            f"{type(source).__name__}")
        if isinstance(source, os.PathLike) or _looks_like_path(source):
            path = Path(source)
            if not path.exists():
                raise InputNotFound(f"{path}: no such file")
            return self.scan_work(read_path(path), min_confidence=min_confidence)
        return self.scan_work(read_text(source), min_confidence=min_confidence)

    @property
    def versions(self) -> dict[str, str]:
        """What every report of this scanner says in ``versions`` (no model is loaded)."""
        return _versions(self._detectors())

    def _detectors(self) -> list[Detector]:
        if self.detectors is not None:
            return list(self.detectors)
        return default_detectors(self.engine)

    def warm_up(self) -> None:
        """Load every model now rather than on the first work that needs it."""
        for detector in self._detectors():
            load = getattr(detector, "warm_up", None)
            if load is not None:
                load()

    def scan_work(self, work: Work, *, min_confidence: float | None = None) -> Report:
        """Scan ``work``; ``min_confidence``: this scan's floor instead of the scanner's
        (a lower one shows warnings the scanner's own floor would leave out)."""
        started = time.perf_counter()
        floor = self.min_confidence if min_confidence is None else check_floor(min_confidence)
        taxonomy = self.taxonomy or load_taxonomy()
        detectors = self._detectors()
        passages = segment(work, titles=True)  # a chapter title is read too
        read_as = fold_passages(passages)  # look-alike letters
        if work.format == "markdown":  # a viewer shows "&#72;anged" as "Hanged"
            read_as = [replace(p, text=decode_references(p.text)) for p in read_as]
        hits: list[Hit] = []
        scores: PassageScores | None = None  # a scoring detector's full matrix
        read: frozenset[int] | None = frozenset()  # passages a model read (None: all)
        ruled_out: set[tuple[int, str]] = set()  # negated/figurative: (passage, warning)
        for detector in detectors:
            hints: LexiconHits | None = None
            if getattr(detector, "uses_hints", False):  # a later stage sees earlier hits
                hints = LexiconHits(hits)
                hints.ruled_out = frozenset(ruled_out)
            if hasattr(detector, "score"):  # reads every passage, thresholds nothing
                scores = (detector.score(read_as, hints) if hints is not None
                          else detector.score(read_as))
                read = None
                continue
            found = (detector.detect(read_as, hints=hints)  # type: ignore[call-arg]
                     if hints is not None else detector.detect(read_as))
            hits.extend(found)
            ruled_out.update(getattr(found, "ruled_out", ()))
            if read is not None and detector.name != "lexicon":
                more = getattr(found, "read", None)
                read = None if more is None else read | more
        declared = declared_warnings(work, taxonomy)
        if ruled_out:  # the rules read a negation the v1 models cannot: drop their hit there
            hits = [h for h in hits
                    if h.detector in ("lexicon", "classifier")
                    or (h.passage, h.warning) not in ruled_out]
        work_model = next((m for m in (getattr(d, "work_model", None) for d in detectors)
                           if m is not None), None)
        warnings = aggregate(work, passages, hits, taxonomy, declared, read, work_model, scores)
        detected = {w.id for w in warnings if w.confidence >= floor}
        declared = [replace(d, detected=d.id in detected) for d in declared]
        report = Report(
            source=work.source,
            format=work.format,
            title=work.title,
            word_count=work.word_count,
            chapter_count=len(work.chapters),
            warnings=warnings,
            declared=declared,
            min_confidence=floor,
            versions=_versions(detectors),
            coverage=work.coverage if work.coverage is not None else audit(work, None),
            # a title is a few words, often in title case, which a language guess misreads
            # ("Bittersweet Symphony Played Under Winter Stars" as Luxembourgish): the text
            # alone says what language the work is in
            languages=languages(p.text for p in read_as if not p.title),
        )
        report = report.filtered(floor)
        report.elapsed_s = round(time.perf_counter() - started, 4)
        return report


def _versions(detectors: Sequence[Detector]) -> dict[str, str]:
    versions = {"forewarn": __version__}
    for detector in detectors:
        version = getattr(detector, "version", None)
        if version:
            versions[detector.name] = str(version)
    return versions


_default_scanner: Scanner | None = None


def scan(source: str | os.PathLike[str] | Work, *, min_confidence: float | None = None) -> Report:
    """Scan a story (text, path or Work) with the default detectors and return its Report."""
    global _default_scanner
    if _default_scanner is None:
        _default_scanner = Scanner()
    return _default_scanner.scan(source, min_confidence=min_confidence)


def check_floor(value: float) -> float:
    """``value`` as a confidence floor: a number from 0 to 1 (ValueError otherwise; a
    floor above every confidence would report nothing without saying why)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"min_confidence must be a number, not {type(value).__name__}")
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise ValueError(f"min_confidence must be between 0 and 1, got {value!r}")
    return float(value)
