"""Detectors: anything that reads passages and returns hits.

A detector has a ``name`` and ``detect(passages) -> list[Hit]`` (one hit per passage and
warning it scores, ``score`` in [0, 1]); it loads its model on first use. Detectors are
registered here by key with the ``module:Class`` that builds them, so adding one is one new
module plus one line below; ``tests/test_detector_contract.py`` runs every registered
detector through the same contract. An engine is the list of detectors a scan runs.
"""

from __future__ import annotations

import importlib
from typing import Any

_REGISTRY: dict[str, str] = {
    "lexicon": "forewarn.detect.lexicon:LexiconDetector",
    "static": "forewarn.detect.embedding:EmbeddingDetector",
    "cascade": "forewarn.detect.cascade:CascadeDetector",
    "classifier": "forewarn.detect.classifier:ClassifierDetector",
}

#: The detectors each engine runs, in order (later ones may read earlier ones' hints).
ENGINES: dict[str, tuple[str, ...]] = {
    "v1": ("lexicon", "cascade"),
    "v2": ("lexicon", "classifier"),
}


def register(key: str, target: str) -> None:
    """Register a detector: ``target`` is ``"package.module:Class"`` (built with no
    arguments). Re-registering a key replaces it."""
    if ":" not in target:
        raise ValueError(f"target must be 'module:Class', got {target!r}")
    _REGISTRY[key] = target


def registered() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def create(key: str, **kwargs: Any) -> Any:
    """A new detector of the registered kind (its model loads on first use)."""
    try:
        module, _, cls = _REGISTRY[key].partition(":")
    except KeyError:
        raise KeyError(f"no detector {key!r}; registered: {', '.join(_REGISTRY)}") from None
    return getattr(importlib.import_module(module), cls)(**kwargs)
