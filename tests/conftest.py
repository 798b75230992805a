"""Shared fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture
def measured_recall(monkeypatch: pytest.MonkeyPatch) -> dict[str, float | None]:
    """A recall table in which forewarn is measured and good (0.9) at every warning but
    miscarriage (0.6, weak) and self-harm (unmeasured): for tests of how ``check`` reasons,
    not of today's figures. (With the shipped table, data/recall.json, detection v2
    reaches 0.8 on no warning yet, so ``check`` never says "safe" today.)"""
    from forewarn import verdict
    from forewarn.taxonomy import load_taxonomy

    table: dict[str, float | None] = {w.id: 0.9 for w in load_taxonomy().warnings}
    table.update({"miscarriage": 0.6, "self-harm": None})
    monkeypatch.setattr(verdict, "recall_table", lambda: (0.8, table))
    return table
