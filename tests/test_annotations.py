"""The annotated corpus: every label file validates against the taxonomy, no passage sits
in two splits, and the annotation tool refuses what is not a label."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "training"))

import annotate  # noqa: E402
from annotation_report import batch_agreement, kappa, pairs, to_adjudicate  # noqa: E402
from corpus import DEFAULT_DATA, load_splits, parse_id, split_of_passage  # noqa: E402

HAVE_DATA = (DEFAULT_DATA / "fiction-corpus").is_dir()


def test_every_label_file_validates_against_the_taxonomy_and_the_splits() -> None:
    rows = annotate.load_labels()
    assert rows, "training/annotations/labels holds no labels"
    problems = annotate.validate(DEFAULT_DATA if HAVE_DATA else None)
    assert problems == []


def test_no_book_and_no_writing_batch_sits_in_two_splits() -> None:
    splits = load_splits()
    books = Counter(b for names in splits["books"].values() for b in names)
    assert [b for b, n in books.items() if n > 1] == []
    batches = Counter(b for names in splits["modern_batches"].values() for b in names)
    assert [b for b, n in batches.items() if n > 1] == []
    assert len(splits["books"]["test"]) >= 15


def test_every_labelled_passage_has_exactly_one_split() -> None:
    seen: dict[str, str] = {}
    for row in annotate.load_labels():
        split = split_of_passage(row["id"])  # AO3 passages: "eval", never trained on
        assert split in ("train", "dev", "test", "eval")
        assert seen.setdefault(row["id"], split) == split


def test_the_sample_records_how_each_passage_was_drawn() -> None:
    sample = annotate.load_sample()
    strata = Counter(r["stratum"] for r in sample)
    assert strata["random"] >= 6000 and strata["pointed"] >= 10000
    assert sum(strata.values()) >= 20000
    assert len({r["id"] for r in sample}) == len(sample)
    assert all(r["drawn"] for r in sample)


@pytest.mark.skipif(not HAVE_DATA, reason="../shared/data/fiction-corpus is not present")
def test_corpus_ids_address_the_segmenters_passages() -> None:
    from corpus import book_text, lookup

    for row in annotate.load_sample()[:50]:
        p = lookup(row["id"])
        book, start, end = parse_id(row["id"])
        assert book_text(book)[start:end] == p.text


def write_batch(tmp_path: Path, monkeypatch, ids: list[str]) -> None:
    monkeypatch.setattr(annotate, "WORK", tmp_path)
    monkeypatch.setattr(annotate, "LABELS_DIR", tmp_path / "labels")
    (tmp_path / "batches").mkdir()
    (tmp_path / "batches" / "t001.ids").write_text("\n".join(ids) + "\n")


def run_import(tmp_path: Path, lines: list[str]) -> None:
    f = tmp_path / "out.jsonl"
    f.write_text("\n".join(lines) + "\n")
    annotate.main(["import", "t001", str(f), "--annotator", "tester"])


@pytest.mark.parametrize("bad, message", [
    ('{"id": "a:1-2", "labels": {"nonsense": "mentioned"}}', "unknown warning"),
    ('{"id": "a:1-2", "labels": {"death": "very"}}', "severity"),
    ('{"id": "a:1-2", "labels": {}, "flags": ["maybe"]}', "flags"),
    ('{"labels": {}}', "no string id"),
    ("not json", "not JSON"),
])
def test_import_refuses_what_is_not_a_label(tmp_path, monkeypatch, capsys, bad, message):
    write_batch(tmp_path, monkeypatch, ["a:1-2"])
    with pytest.raises(SystemExit) as exc:
        run_import(tmp_path, [bad])
    assert message in str(exc.value)
    assert not (tmp_path / "labels").exists()


def test_import_refuses_a_file_that_misses_or_repeats_passages(tmp_path, monkeypatch):
    write_batch(tmp_path, monkeypatch, ["a:1-2", "a:3-4"])
    with pytest.raises(SystemExit, match="missing 1"):
        run_import(tmp_path, ['{"id": "a:1-2", "labels": {}}'])
    with pytest.raises(SystemExit, match="repeated"):
        run_import(tmp_path, ['{"id": "a:1-2", "labels": {}}', '{"id": "a:1-2", "labels": {}}',
                              '{"id": "a:3-4", "labels": {}}'])


def test_import_stores_labels_with_their_provenance(tmp_path, monkeypatch):
    write_batch(tmp_path, monkeypatch, ["a:1-2"])
    run_import(tmp_path, ['{"id": "a:1-2", "labels": {"death": "mentioned"}, "flags": []}'])
    (row,) = [json.loads(x) for x in (tmp_path / "labels" / "t001.r1.jsonl").read_text()
              .splitlines()]
    assert row["labels"] == {"death": "mentioned"} and row["annotator"] == "tester"
    assert row["round"] == 1 and row["guide_version"] == annotate.GUIDE_VERSION


def _reading(pid: str, batch: str, rnd: int, labels: dict[str, str]) -> dict:
    return {"id": pid, "batch": batch, "round": rnd, "labels": labels, "source": "modern"}


def test_per_batch_agreement_and_what_is_left_to_adjudicate() -> None:
    rows = [
        # batch a: two passages, the readings agree on one and part on the other
        _reading("p1", "a", 1, {"death": "mentioned"}), _reading("p1", "a", 2, {"death": "depicted"}),
        _reading("p2", "a", 1, {}), _reading("p2", "a", 2, {"suicide": "mentioned"}),
        # batch b: parted, but a third reading has already decided it
        _reading("p3", "b", 1, {"war": "mentioned"}), _reading("p3", "b", 2, {}),
        _reading("p3", "adj", 3, {"war": "mentioned"}),
        # batch b: parted, not yet decided
        _reading("p4", "b", 1, {}), _reading("p4", "b", 2, {"abuse": "depicted"}),
        # read once only: neither agreement nor adjudication
        _reading("p5", "b", 1, {"abuse": "depicted"}),
    ]
    assert len(pairs(rows)) == 4
    table = {r["batch"]: r for r in batch_agreement(pairs(rows))}
    assert set(table) == {"a", "b"}
    assert (table["a"]["passages"], table["a"]["same"], table["a"]["differ"]) == (2, 1, 1)
    # any-warning presence: a = [1, 0] vs [1, 1] -> kappa 0 (expected agreement 0.5 = observed)
    assert table["a"]["any_kappa"] == pytest.approx(0.0)
    assert table["b"]["differ"] == 2
    # a severity difference alone (p1) is not a disagreement on presence
    assert to_adjudicate(rows) == ["p2", "p4"]
    assert to_adjudicate(rows, batches={"b"}) == ["p4"]


def test_kappa_matches_hand_computed_values() -> None:
    # 10 items: observed agreement 0.8; expected (0.5*0.6 + 0.5*0.4) = 0.5; kappa 0.6
    a = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    b = [1, 1, 1, 1, 0, 0, 0, 0, 0, 1]
    assert kappa(a, b) == pytest.approx(0.6)
    assert kappa(a, a) == pytest.approx(1.0)
    assert kappa([0, 0, 0], [0, 0, 0]) is None
    # quadratic weights: one step apart on a 0-2 scale costs a quarter of two steps
    x = [0, 1, 2, 0, 1, 2]
    y = [0, 1, 2, 1, 2, 0]
    # observed weighted disagreement: (0.25 + 0.25 + 1) / 6 = 0.25
    # expected: both marginals uniform (1/3 each): mean weight over 9 cells = 4/9 * ... -> 1/3
    assert kappa(x, y, "quadratic") == pytest.approx(1 - 0.25 / (1 / 3))


def test_the_aggregator_is_fitted_on_whole_scenes_and_annotated_stretches() -> None:
    from fit_combiner import natural_weight, works_of

    anchor = "dickens-bleak-house:499280-499876"
    ids = [anchor, "dickens-bleak-house:500316-500842", "dickens-bleak-house:1-90",
           "modern:w03-s01:0-400", "modern:w03-s01:402-800", "modern:w03-s02:0-300"]
    drawn = {ids[1]: f"around:self-harm:{anchor}:+2", ids[2]: "uniform"}
    groups = works_of(ids, drawn)
    # the anchor joins the stretch drawn around it; a lone passage or scene is no work
    assert groups == {anchor: [1, 0], "w03-s01": [3, 4]}
    weights = natural_weight(ids, {ids[0]: "pointed", ids[1]: "scene", ids[2]: "random"})
    assert weights.tolist() == [0.1, 0.1, 1.0, 1.0, 1.0, 1.0]


def copy_sample(tmp_path: Path, monkeypatch) -> set[str]:
    sample = tmp_path / "sample.jsonl"
    sample.write_text(annotate.SAMPLE_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(annotate, "SAMPLE_FILE", sample)
    return {r["id"] for r in annotate.load_sample()}


@pytest.mark.skipif(not HAVE_DATA, reason="../shared/data/fiction-corpus is not present")
def test_a_random_draw_takes_unread_passages_of_one_split_only(tmp_path, monkeypatch) -> None:
    before = copy_sample(tmp_path, monkeypatch)
    annotate.main(["random", "--split", "dev", "--wave", "probe", "--n", "40"])
    new = annotate.load_sample()[len(before):]
    assert len(new) == 40 and len({r["id"] for r in new}) == 40
    assert all(r["id"] not in before for r in new)
    assert {split_of_passage(r["id"]) for r in new} == {"dev"}
    assert {(r["stratum"], r["drawn"]) for r in new} == {("random", "probe:uniform-dev")}


@pytest.mark.skipif(not HAVE_DATA, reason="../shared/data/fiction-corpus is not present")
def test_a_scored_wave_points_at_train_passages_by_the_classifiers_scores(
        tmp_path, monkeypatch) -> None:
    import numpy as np
    from corpus import book_passages

    before = copy_sample(tmp_path, monkeypatch)
    splits = load_splits()["books"]
    train, dev = sorted(splits["train"])[0], sorted(splits["dev"])[0]
    books = [train] * 40 + [dev] * 5
    index = list(range(40)) + list(range(5))
    probs = np.zeros((45, 2), dtype=np.float32)
    probs[:40, 1] = np.linspace(0.0, 0.99, 40)  # the train book: every level of "war"
    probs[40:, 1] = 1.0  # the dev book's passages are the most probable: never drawn
    scores = tmp_path / "scores.npz"
    np.savez(scores, books=np.array(books), index=np.array(index), probs=probs,
             warnings=np.array(["death", "war"]))
    annotate.main(["scored", str(scores), "--wave", "probe", "--warnings", "war",
                   "--per-warning", "6"])
    new = annotate.load_sample()[len(before):]
    passages = book_passages(train)
    drawn = {r["id"]: r["drawn"] for r in new}
    assert len(new) == 6 and all(pid not in before for pid in drawn)
    assert {split_of_passage(pid) for pid in drawn} == {"train"}
    top = [d for d in drawn.values() if ":classifier-top:" in d]
    unsure = [d for d in drawn.values() if ":classifier-unsure:" in d]
    assert len(top) == 3 and len(unsure) == 3
    # the most probable unread passages first; "unsure" ones sit nearest probability 0.3
    unread = [passages[i].id for i in range(39, -1, -1) if passages[i].id not in before]
    assert {pid for pid, d in drawn.items() if d in top} == set(unread[:3])
    assert all(abs(float(d.rsplit(":", 1)[1]) - annotate.WAVE_UNSURE) < 0.1 for d in unsure)


def test_the_readme_can_print_the_agreement_table_without_batch_arguments(capsys) -> None:
    import argparse

    from annotation_report import cmd_agreement

    cmd_agreement(argparse.Namespace())  # as `annotation_report.py readme` calls it
    assert "passages read twice, independently" in capsys.readouterr().out
