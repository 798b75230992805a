"""Hits → work-level warnings: confidence, severity, locations and evidence.

Per warning and passage, the detectors' scores combine into one passage score. For the
warnings with fiction data to calibrate on (the eight of the AO3 passage data), it is a
probability that the passage shows the warning (:class:`Calibration`, fitted by
``training/fit_calibration.py`` on AO3 passages the encoder heads never saw, stored in
``data/calibration.json``):

    p = sigmoid(b0[warning] + b1 * lexicon + b2 * model + b3 * lexicon * model)

where ``lexicon`` is the best lexicon hit's score and ``model`` the encoder head's
probability (each 0 when that detector did not fire on the passage). The other warnings
keep the uncalibrated combination ``1 - (1 - lexicon) * (1 - model)``: the lexicon's score
alone, the model's alone, a noisy-or of both. The model's probability counts in full, as
much as a lexicon score: the calibration fitted on the eight warnings weighs an encoder hit
about as much as a lexicon hit (slopes b2 and b1 within 30% of each other), and the encoder
heads' probabilities are already Platt-calibrated on their own out-of-fold rows.

A passage is evidence when its probability reaches ``EVIDENCE_FLOOR``. The work's confidence is
the noisy-or of its three strongest evidence passages (more independent places, more
certainty), capped at 0.99. Severity is the strongest severity among evidence passages,
so one graphic scene makes the warning graphic. Declared warnings are reported apart.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from forewarn.combine import WorkAggregator
from forewarn.declared import DeclaredWarning
from forewarn.report import DetectedWarning, Evidence, Location
from forewarn.taxonomy import Taxonomy, severity_rank
from forewarn.work import Hit, Passage, PassageScores, Work

CALIBRATION_PATH = Path(__file__).resolve().parent / "data" / "calibration.json"
EVIDENCE_FLOOR = 0.5
TOP_PASSAGES = 3
LOCATION_GAP = 0.15  # evidence further apart than this (fraction of a chapter) splits a location
SNIPPET_CHARS = 240


@dataclass(frozen=True, slots=True)
class Calibration:
    """``p = sigmoid(b0[w] + b1*lexicon + b2*model + b3*lexicon*model)`` for the warnings in
    ``intercepts``; the uncalibrated combination for the others."""

    intercepts: dict[str, float]
    b1: float
    b2: float
    b3: float
    # for passages the model did not read: p = sigmoid(c0[w] + c1 * lexicon)
    lexicon_intercepts: dict[str, float] | None = None
    c1: float = 0.0

    def calibrated(self, warning: str) -> bool:
        return warning in self.intercepts

    def __call__(self, warning: str, lexicon: float, model: float, read: bool = True) -> float:
        """The passage's probability; ``read``: whether the model read the passage (when it
        did not, its silence is no evidence and the lexicon-only calibration applies)."""
        b0 = self.intercepts.get(warning)
        if b0 is None:
            return 1.0 - (1.0 - lexicon) * (1.0 - model)
        if not read and self.lexicon_intercepts is not None:
            z = self.lexicon_intercepts[warning] + self.c1 * lexicon
        else:
            z = b0 + self.b1 * lexicon + self.b2 * model + self.b3 * lexicon * model
        return 1.0 / (1.0 + math.exp(-z))


@cache
def calibration(path: Path = CALIBRATION_PATH) -> Calibration:
    """The shipped calibration (read once per process)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    coefficients, lexicon_only = data["coefficients"], data.get("lexicon_only")
    return Calibration(
        {str(w): float(v) for w, v in coefficients["b0"].items()},
        b1=float(coefficients["b1"]), b2=float(coefficients["b2"]),
        b3=float(coefficients["b3"]),
        lexicon_intercepts=({str(w): float(v) for w, v in lexicon_only["c0"].items()}
                            if lexicon_only else None),
        c1=float(lexicon_only["c1"]) if lexicon_only else 0.0,
    )


@dataclass(frozen=True, slots=True)
class WorkModel:
    """Detection v2's work level: the fitted aggregator and per-warning operating points
    (:mod:`forewarn.combine`)."""

    aggregator: WorkAggregator
    points: Mapping[str, float]


@dataclass(slots=True)
class _PassageScore:
    warning: str
    passage: Passage
    read: bool = True  # the model read this passage
    lexicon: Hit | None = None
    embedding: Hit | None = None
    classifier: Hit | None = None
    v2: bool = False  # detection v2: the classifier's probability is the passage's score

    @property
    def score(self) -> float:
        if self.v2:  # the lexicon explains and grades, it never raises a warning alone
            return self.classifier.score if self.classifier else 0.0
        lex = self.lexicon.score if self.lexicon else 0.0
        emb = self.embedding.score if self.embedding else 0.0
        return calibration()(self.warning, lex, emb, self.read or self.embedding is not None)

    @property
    def _hits(self) -> tuple[Hit, ...]:
        return tuple(h for h in (self.lexicon, self.embedding, self.classifier) if h is not None)

    @property
    def severity(self) -> str:
        if self.v2 and self.classifier is not None and self.classifier.severity:
            return self.classifier.severity  # learnt per warning; the lexicon's cues explain
        for hit in self._hits:
            if hit.severity:
                return hit.severity
        return "depicted"

    @property
    def span(self) -> tuple[int, int]:
        """What the evidence covers: every hit's span (the classifier's is its whole
        passage). Not the lexicon's phrase alone: a reading copy collapses the paragraphs
        the evidence touches, and a passage flagged for what the classifier read must not
        shrink to the one sentence that names it."""
        hits = self._hits
        return min(h.start for h in hits), max(h.end for h in hits)

    @property
    def quote_span(self) -> tuple[int, int]:
        """What ``--evidence`` quotes: the sentence of the lexicon's cue where there is
        one (it says why in the story's words), else the span."""
        hit = self.lexicon or self._hits[0]
        return hit.start, hit.end

    @property
    def detectors(self) -> tuple[str, ...]:
        return tuple(h.detector for h in self._hits)

    @property
    def reason(self) -> str:
        return ";".join(h.reason for h in self._hits)


def _snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1] + "\u2026"


def _paragraph_at(work: Work, chapter_number: int, offset: int, fallback: int) -> int:
    chapter = work.chapters[chapter_number - 1]
    for i, para in enumerate(chapter.paragraphs):
        if para.start <= offset < para.end + 2:
            return i
    return fallback


def _locations(evidence: Sequence[Evidence], work: Work) -> tuple[Location, ...]:
    by_chapter: dict[int, list[tuple[float, float]]] = defaultdict(list)
    titles = {ev.chapter for ev in evidence if ev.title}
    for ev in evidence:
        if ev.title:
            continue
        length = max(1, len(work.chapters[ev.chapter - 1].text))
        by_chapter[ev.chapter].append((ev.start / length, ev.end / length))
    out: list[Location] = []
    for chapter in sorted(by_chapter.keys() | titles):
        if chapter in titles:  # the title comes first in its chapter
            out.append(Location(chapter, 0.0, 0.0, title=True))
        spans = sorted(by_chapter[chapter])
        if not spans:
            continue
        lo, hi = spans[0]
        for s, e in spans[1:]:
            if s - hi > LOCATION_GAP:
                out.append(Location(chapter, lo, hi))
                lo, hi = s, e
            else:
                hi = max(hi, e)
        out.append(Location(chapter, lo, hi))
    return tuple(out)


def aggregate(
    work: Work,
    passages: Sequence[Passage],
    hits: Sequence[Hit],
    taxonomy: Taxonomy,
    declared: Sequence[DeclaredWarning] = (),
    read: frozenset[int] | None = None,
    work_model: WorkModel | None = None,
    scores: PassageScores | None = None,
) -> list[DetectedWarning]:
    """Turn hits into warnings, strongest first (severity, then confidence).

    ``read``: the indices of the passages a model read (None: all of them); where no model
    read a passage, its lexicon hits are calibrated on their own. When the hits include the
    v2 classifier's (which reads every passage), its calibrated probability is each
    passage's score and lexicon hits only explain it; with ``work_model`` (the classifier's
    fitted work aggregator and per-warning operating points) the work's confidence is the
    aggregator's reading of all its passages' probabilities, and evidence is the passages
    at or above the warning's operating point (else its single most probable passage).

    ``scores``: a scoring detector's probabilities for every passage (the v2 classifier's):
    with ``work_model``, every warning's confidence is the aggregator's reading of all of
    them, no floor, and the report's threshold is applied later, once.
    """
    if scores is not None and work_model is not None:
        return _aggregate_scores(work, passages, hits, taxonomy, declared, work_model, scores)
    v2 = work_model is not None or any(h.detector == "classifier" for h in hits)
    table: dict[str, dict[int, _PassageScore]] = defaultdict(dict)
    for hit in hits:
        cell = table[hit.warning].setdefault(
            hit.passage, _PassageScore(hit.warning, passages[hit.passage],
                                       read is None or hit.passage in read, v2=v2))
        slot = {"lexicon": "lexicon", "classifier": "classifier"}.get(hit.detector,
                                                                      "embedding")
        current = getattr(cell, slot)
        if current is None or hit.score > current.score:
            setattr(cell, slot, hit)
    declared_ids = {d.id for d in declared}
    warnings: list[DetectedWarning] = []
    for warning_id, cells in table.items():
        if work_model is not None:
            scored = [c for c in cells.values() if c.score > 0.0]
            if not scored:
                continue
            confidence = work_model.aggregator([c.score for c in scored])
            point = work_model.points.get(warning_id, EVIDENCE_FLOOR)
            strong = ([c for c in scored if c.score >= point]
                      or [max(scored, key=lambda c: c.score)])
        else:
            strong = [c for c in cells.values() if c.score >= EVIDENCE_FLOOR]
            if not strong:
                continue
            top = sorted((c.score for c in strong), reverse=True)[:TOP_PASSAGES]
            miss = 1.0
            for s in top:
                miss *= 1.0 - s
            confidence = min(0.99, 1.0 - miss)
        warnings.append(_warning(work, taxonomy, warning_id, confidence, strong,
                                 warning_id in declared_ids))
    warnings.sort(key=lambda w: (-severity_rank(w.severity), -w.confidence, w.id))
    return warnings


def _aggregate_scores(work: Work, passages: Sequence[Passage], hits: Sequence[Hit],
                      taxonomy: Taxonomy, declared: Sequence[DeclaredWarning],
                      work_model: WorkModel, scores: PassageScores) -> list[DetectedWarning]:
    """Detection v2's work level on a scoring detector's full matrix: each warning's
    confidence from all passages' probabilities; evidence at or above the warning's
    operating point, else the most probable passage; the lexicon's hits in those passages
    explain them."""
    lexicon: dict[tuple[str, int], Hit] = {}
    for hit in hits:
        key = (hit.warning, hit.passage)
        if hit.detector == "lexicon" and (key not in lexicon or hit.score > lexicon[key].score):
            lexicon[key] = hit
    declared_ids = {d.id for d in declared}
    warnings: list[DetectedWarning] = []
    if not scores.passages:
        return warnings
    for col, warning_id in enumerate(scores.warnings):
        column = scores.probs[:, col]
        if not float(column.max()) > 0.0:
            continue  # nothing was read (passages with no text)
        confidence = work_model.aggregator(column)
        point = work_model.points.get(warning_id, EVIDENCE_FLOOR)
        rows = np.flatnonzero(column >= point).tolist() or [int(column.argmax())]
        strong = []
        for r in rows:
            passage = passages[scores.passages[r]]
            strong.append(_PassageScore(
                warning_id, passage, True, lexicon=lexicon.get((warning_id, passage.index)),
                classifier=scores.hit(r, col, passage), v2=True))
        warnings.append(_warning(work, taxonomy, warning_id, confidence, strong,
                                 warning_id in declared_ids))
    warnings.sort(key=lambda w: (-severity_rank(w.severity), -w.confidence, w.id))
    return warnings


def _warning(work: Work, taxonomy: Taxonomy, warning_id: str, confidence: float,
             strong: Sequence[_PassageScore], declared: bool) -> DetectedWarning:
    """A detected warning from its evidence passages."""
    evidence = []
    for c in sorted(strong, key=lambda c: c.passage.index):
        start, end = c.span
        quote = c.quote_span
        chapter = work.chapters[c.passage.chapter - 1]
        title = c.passage.title  # the chapter's title: quoted as it is, not from the text
        evidence.append(Evidence(
            chapter=c.passage.chapter,
            paragraph=0 if title else _paragraph_at(work, c.passage.chapter, quote[0],
                                                    c.passage.paragraph),
            start=start,
            end=end,
            offset_start=chapter.offset + start,
            offset_end=chapter.offset + end,
            position=start / max(1, len(chapter.text)),
            score=c.score,
            severity=c.severity,
            detectors=c.detectors,
            reason=c.reason,
            snippet=_snippet(" ".join((chapter.title or "").split()) if title
                             else chapter.text[slice(*quote)]),
            title=title,
        ))
    severity = max((e.severity for e in evidence), key=severity_rank)
    definition = taxonomy.get(warning_id)
    return DetectedWarning(
        id=warning_id,
        name=definition.name,
        group=definition.group,
        confidence=round(confidence, 4),
        severity=severity,
        declared=declared,
        detectors=tuple(sorted({d for e in evidence for d in e.detectors})),
        locations=_locations(evidence, work),
        evidence=tuple(evidence),
    )
