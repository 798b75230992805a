"""The declared-warning reader's answers, pinned on many tag strings and warning lines.

``fixtures/declared/pinned.json`` holds what :func:`map_tag_all` and
:func:`find_declarations` answer for about 400 tags and 50 free-text lines chosen to reach
every qualifier, filler, stem rule, compound rule, negation and cleaning step of the tag
tables; ``fixtures/declared/abuse-tags-mapped.txt`` holds, one line per row, what
:func:`map_tag_all` answers for each of the 5,654 real AO3 tags in the reference data
(``ao3-tags/abuse-tags.csv``, read in place: skipped where the data is absent). A change to
the tables that changes any answer fails here, naming the tag.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from forewarn.declared import find_declarations, map_tag_all
from forewarn.taxonomy import load_taxonomy

FIXTURES = Path(__file__).parent / "fixtures" / "declared"
PINNED = json.loads((FIXTURES / "pinned.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


def test_the_pinned_set_reaches_both_answers():
    tags = PINNED["tags"]
    assert len(tags) > 400
    assert sum(1 for _, found in tags if found) > 300  # most name a warning
    assert sum(1 for _, found in tags if not found) > 50  # and many name none
    assert {q for _, found in tags for _, q in found} >= {
        None, "implied", "mentioned", "referenced", "past", "minor", "brief", "graphic"
    }


@pytest.mark.parametrize("tag, expected", PINNED["tags"], ids=[t for t, _ in PINNED["tags"]])
def test_tag(tax, tag, expected):
    assert [[w.id, q] for w, q in map_tag_all(tag, tax)] == expected


@pytest.mark.parametrize(
    "text, cue_required, expected",
    PINNED["free_text"],
    ids=[f"{t!r}-{'cue' if c else 'list'}" for t, c, _ in PINNED["free_text"]],
)
def test_free_text(tax, text, cue_required, expected):
    got = find_declarations(text, tax, cue_required=cue_required)
    assert [[w.id, q, item] for w, q, item in got] == expected


def test_real_ao3_tags(tax):
    env = os.environ.get("FOREWARN_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    path = base / "ao3-tags" / "abuse-tags.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found (set FOREWARN_DATA); skipping the real-tag pin")
    with path.open(encoding="utf-8", newline="") as f:
        tags = [row["dst"] for row in csv.DictReader(f)]
    pinned = (FIXTURES / "abuse-tags-mapped.txt").read_text(encoding="utf-8").splitlines()
    assert len(pinned) == len(tags)
    changed = []
    for tag, line in zip(tags, pinned, strict=True):
        got = " ".join(f"{w.id}:{q or '-'}" for w, q in map_tag_all(tag, tax))
        if got != line:
            changed.append(f"{tag!r}: {got!r}, pinned {line!r}")
    assert not changed, f"{len(changed)} tags changed:\n" + "\n".join(changed[:20])
