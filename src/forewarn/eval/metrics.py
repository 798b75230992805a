"""Counting and scoring: confusion counts, precision/recall/F1, micro and macro averages.

Plain Python (no scikit-learn), so the arithmetic is easy to check by hand and every part
of the harness that only runs the shipped scanner works without the ``eval`` extra.

Conventions, stated once: precision with no predicted positives is 0, recall with no
gold positives is 0, and F1 is 0 when precision + recall is 0 (scikit-learn's
``zero_division=0``). A macro average is the unweighted mean of per-label F1; "defined"
macro averages only over labels with at least one gold or predicted positive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Counts:
    """A binary confusion matrix."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn,
                      self.tn + other.tn)

    @classmethod
    def of(cls, predicted: Iterable[bool], gold: Iterable[bool]) -> Counts:
        """Count paired boolean predictions against gold labels."""
        tp = fp = fn = tn = 0
        for p, g in zip(predicted, gold, strict=True):
            if p and g:
                tp += 1
            elif p:
                fp += 1
            elif g:
                fn += 1
            else:
                tn += 1
        return cls(tp, fp, fn, tn)

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def positives(self) -> int:
        """Gold positives."""
        return self.tp + self.fn

    @property
    def predicted(self) -> int:
        """Predicted positives."""
        return self.tp + self.fp

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return f1(self.precision, self.recall)

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.n if self.n else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    @property
    def defined(self) -> bool:
        """True when there is at least one gold or predicted positive."""
        return self.tp + self.fp + self.fn > 0

    def as_dict(self) -> dict[str, float | int]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4),
                "f1": round(self.f1, 4), "accuracy": round(self.accuracy, 4)}


def f1(precision: float, recall: float) -> float:
    """The harmonic mean of precision and recall (0 when both are 0)."""
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def micro(counts: Iterable[Counts]) -> Counts:
    """Pool the confusion counts of several labels (micro-averaging)."""
    total = Counts()
    for c in counts:
        total = total + c
    return total


def macro_f1(counts: Iterable[Counts], *, defined_only: bool = False) -> float:
    """Unweighted mean of per-label F1; ``defined_only`` skips labels with no positives."""
    values = [c.f1 for c in counts if c.defined or not defined_only]
    return sum(values) / len(values) if values else 0.0


def macro(values: Iterable[float]) -> float:
    """The plain mean (0 for none)."""
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def multilabel_counts(
    predicted: Sequence[set[str]], gold: Sequence[set[str]], labels: Sequence[str]
) -> dict[str, Counts]:
    """Per-label confusion counts for multi-label predictions over a fixed label list."""
    if len(predicted) != len(gold):
        raise ValueError("predicted and gold differ in length")
    out: dict[str, Counts] = {}
    for label in labels:
        out[label] = Counts.of((label in p for p in predicted), (label in g for g in gold))
    return out


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and population standard deviation."""
    if not values:
        return 0.0, 0.0
    m = sum(values) / len(values)
    return m, (sum((v - m) ** 2 for v in values) / len(values)) ** 0.5


def summarize(counts: Mapping[str, Counts]) -> dict[str, float]:
    """Micro P/R/F1 and both macro-F1s of a label -> counts mapping."""
    pooled = micro(counts.values())
    return {
        "micro_precision": pooled.precision,
        "micro_recall": pooled.recall,
        "micro_f1": pooled.f1,
        "macro_f1": macro_f1(counts.values()),
        "macro_f1_defined": macro_f1(counts.values(), defined_only=True),
    }
