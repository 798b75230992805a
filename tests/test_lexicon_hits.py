"""The lexicon's hits on the repository's stories, held fixed.

``fixtures/lexicon-hits.json`` holds every hit (and every ruled-out pair) the lexicon
detector gives on the fixture stories and the example, and a digest of its hits on the
2,870 training seed passages. A change to how cues are gated or matched must leave them
equal; a change to the lexicon's cues that moves them is recorded on purpose with
``PYTHONPATH=src python tests/test_lexicon_hits.py --record``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

from forewarn.detect.lexicon import LexiconDetector
from forewarn.eval.common import text_work
from forewarn.ingest import read_path
from forewarn.segment import segment
from forewarn.work import Work

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ROOT / "tests/fixtures/lexicon-hits.json"
STORY_GLOBS = ("tests/fixtures/stories/*.txt", "tests/fixtures/audit/*.txt", "examples/*.txt",
               "tests/fixtures/ingest/*")


def _hits(work: Work) -> dict[str, list]:
    hits = LexiconDetector().detect(segment(work))
    return {
        "hits": [[h.warning, h.passage, h.chapter, h.paragraph, h.start, h.end, h.score,
                  h.severity, h.reason] for h in hits],
        "ruled_out": sorted([list(pair) for pair in hits.ruled_out]),
    }


def story_hits() -> dict[str, dict[str, list]]:
    out = {}
    for pattern in STORY_GLOBS:
        for path in sorted(ROOT.glob(pattern)):
            out[path.relative_to(ROOT).as_posix()] = _hits(read_path(path))
    works = ROOT / "tests/fixtures/eval/works.jsonl"
    for line in works.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        out[f"tests/fixtures/eval/works.jsonl#{row['work_id']}"] = _hits(text_work(row["text"]))
    return out


def seed_hits() -> dict[str, object]:
    texts = [json.loads(line)["text"]
             for name in ("positives", "negatives")
             for line in (ROOT / f"training/seeds/{name}.jsonl").read_text(
                 encoding="utf-8").splitlines()]
    rows = [_hits(text_work(t)) for t in texts]
    by_warning = Counter(h[0] for row in rows for h in row["hits"])
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
    return {"texts": len(texts), "hits_by_warning": dict(sorted(by_warning.items())),
            "sha256": digest}


def test_hits_on_the_fixture_stories_are_unchanged() -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))["stories"]
    got = story_hits()
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert got[name] == expected[name], name
    assert sum(len(v["hits"]) for v in got.values()) >= 60


def test_hits_on_the_training_seeds_are_unchanged() -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))["seeds"]
    got = seed_hits()
    assert got["texts"] == expected["texts"]
    assert got["hits_by_warning"] == expected["hits_by_warning"]
    assert got["sha256"] == expected["sha256"]


def _dump(stories: dict[str, dict[str, list]], seeds: dict[str, object]) -> str:
    """The expectations as JSON, one hit a line."""
    lines = ['{"stories": {']
    for i, (name, found) in enumerate(stories.items()):
        rows = [json.dumps(h, ensure_ascii=False) for h in found["hits"]]
        lines.append(f" {json.dumps(name)}: {{")
        lines.append('  "hits": [' + ("\n   " + ",\n   ".join(rows) + "\n  " if rows else "") + "],")
        lines.append(f'  "ruled_out": {json.dumps(found["ruled_out"])}')
        lines.append(" }" + ("," if i < len(stories) - 1 else ""))
    lines.append("},")
    lines.append(f'"seeds": {json.dumps(seeds, indent=1)}}}')
    return "\n".join(lines) + "\n"


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    EXPECTED.write_text(_dump(story_hits(), seed_hits()), encoding="utf-8")
