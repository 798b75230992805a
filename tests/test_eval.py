"""The evaluation harness (``forewarn eval``): metric arithmetic and every part end to end.

Everything runs on miniature inputs made here (a passages.jsonl of sentences written for
this test, the PAN23-format fixture in tests/fixtures/eval, a tiny chapters folder, a
small test-set file). Tests that read ../shared/data skip with a message when it is
absent; the two passage parts need scikit-learn (the ``eval`` extra) and skip without it.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from forewarn.cli import main
from forewarn.eval import Context, EvalError, run_part, run_parts
from forewarn.eval.chapters import FAMILY_MAP, family_warnings
from forewarn.eval.common import Shipped, text_work
from forewarn.eval.documents import PAN23_LABELS, to_pan23
from forewarn.eval.metrics import Counts, f1, macro_f1, micro, multilabel_counts, summarize
from forewarn.eval.report import Section, Table, render_markdown
from forewarn.eval.testset import kind_group, parse_label
from forewarn.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "eval"


def shared_data() -> Path:
    env = os.environ.get("FOREWARN_DATA")
    path = Path(env) if env else ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"reference data not found at {path} (set FOREWARN_DATA or put it at "
                    "../shared/data); skipping the check on real data")
    return path


@pytest.fixture(scope="module")
def shipped() -> Shipped:
    """One shipped model for the module: its cache makes repeated texts free."""
    return Shipped()


# -- metric arithmetic ---------------------------------------------------------------


def test_counts_of_a_known_confusion() -> None:
    c = Counts.of([True, True, False, False, True], [True, False, True, False, True])
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 1, 1)
    assert c.precision == pytest.approx(2 / 3)
    assert c.recall == pytest.approx(2 / 3)
    assert c.f1 == pytest.approx(2 / 3)
    assert c.accuracy == pytest.approx(3 / 5)
    assert c.false_positive_rate == pytest.approx(1 / 2)


def test_f1_by_hand() -> None:
    # tp 3, fp 1, fn 2: P = 3/4, R = 3/5, F1 = 2 * 0.45 / 1.35 = 2/3
    c = Counts(tp=3, fp=1, fn=2, tn=10)
    assert c.precision == 0.75
    assert c.recall == 0.6
    assert c.f1 == pytest.approx(2 / 3)
    assert f1(0.5, 1.0) == pytest.approx(2 / 3)  # always "yes" on a balanced test set
    assert f1(0.0, 0.0) == 0.0


def test_reliability_bins_by_hand() -> None:
    from forewarn.eval.passages import reliability

    conf = [0.55, 0.58, 0.62, 0.85, 0.95, 1.0, 0.3]
    right = [True, False, True, True, False, True, True]
    rows = reliability(conf, right)
    # 0.3 is below every bin; 1.0 falls in the closed last bin; 0.7-0.8 is empty
    assert [r[0] for r in rows] == ["0.5-0.6", "0.6-0.7", "0.8-0.9", "0.9-1.0"]
    assert rows[0][1:] == (2, pytest.approx(0.565), 0.5)
    assert rows[1][1:] == (1, pytest.approx(0.62), 1.0)
    assert rows[3][1:] == (2, pytest.approx(0.975), 0.5)


def test_zero_division_is_zero() -> None:
    assert Counts(tn=5).precision == 0.0
    assert Counts(tn=5).recall == 0.0
    assert Counts(tn=5).f1 == 0.0
    assert not Counts(tn=5).defined
    assert Counts(fp=1).defined


def test_micro_versus_macro() -> None:
    a = Counts(tp=9, fp=1, fn=0, tn=0)  # F1 = 18/19
    b = Counts(tp=0, fp=0, fn=1, tn=9)  # F1 = 0 (one missed positive)
    c = Counts(tn=10)  # no gold, no predicted positive
    pooled = micro([a, b, c])
    assert (pooled.tp, pooled.fp, pooled.fn) == (9, 1, 1)
    assert pooled.f1 == pytest.approx(0.9)  # micro: the frequent label dominates
    assert macro_f1([a, b]) == pytest.approx((18 / 19) / 2)  # macro: the rare one counts
    assert macro_f1([a, b, c]) == pytest.approx((18 / 19) / 3)  # undefined counts 0
    assert macro_f1([a, b, c], defined_only=True) == pytest.approx((18 / 19) / 2)
    s = summarize({"a": a, "b": b, "c": c})
    assert s["micro_f1"] == pytest.approx(0.9)
    assert s["macro_f1_defined"] == pytest.approx(9 / 19)


def test_multilabel_counts() -> None:
    predicted = [{"death", "violence"}, set(), {"blood"}]
    gold = [{"death"}, {"violence"}, {"blood", "death"}]
    counts = multilabel_counts(predicted, gold, ["death", "violence", "blood", "abortion"])
    assert counts["death"] == Counts(tp=1, fp=0, fn=1, tn=1)
    assert counts["violence"] == Counts(tp=0, fp=1, fn=1, tn=1)
    assert counts["blood"] == Counts(tp=1, fp=0, fn=0, tn=2)
    assert counts["abortion"] == Counts(tn=3)
    pooled = micro(counts.values())  # tp 2, fp 1, fn 2: P 2/3, R 1/2
    assert pooled.f1 == pytest.approx(f1(2 / 3, 1 / 2))
    assert macro_f1(counts.values()) == pytest.approx((2 / 3 + 0 + 1 + 0) / 4)
    assert macro_f1(counts.values(), defined_only=True) == pytest.approx((2 / 3 + 1) / 3)


def test_table_markdown() -> None:
    t = Table(["model", "F1", "note"], caption="**x**")
    t.add("a|b", 0.5, None)
    t.add("c", 1, "line\nbreak")
    md = t.to_markdown()
    assert md.splitlines()[2] == "| model | F1 | note |"
    assert md.splitlines()[3] == "|---|---:|---|"
    assert "| a\\|b | 0.50 | – |" in md
    assert "| c | 1 | line break |" in md
    with pytest.raises(ValueError):
        t.add("too", "few")
    skipped = render_markdown([Section("x", "Part X", skipped="no data")])
    assert "*Skipped: no data*" in skipped


# -- mappings --------------------------------------------------------------------------


def test_pan23_labels_cover_the_taxonomy() -> None:
    assert len(PAN23_LABELS) == 32 == len(set(PAN23_LABELS))
    tax = load_taxonomy()
    mapped = {label for w in tax for label in w.pan23}
    assert mapped <= set(PAN23_LABELS)
    assert to_pan23({"kidnapping"}) == {"kidnapping", "abduction"}
    assert to_pan23({"sexual-content", "war"}) == {"pornographic-content", "violence"}
    assert to_pan23({"abusive-language"}) == set()


def test_pan23_labels_match_the_shared_list() -> None:
    path = shared_data() / "taxonomy" / "pan23-labels-by-frequency.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    listed = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    assert tuple(listed) == PAN23_LABELS


def test_family_map() -> None:
    tax = load_taxonomy()
    for family, ids in FAMILY_MAP.items():
        assert ids, family
        assert all(i in tax for i in ids), family
    assert family_warnings("grief") == FAMILY_MAP["grief"]
    assert family_warnings("Suicide") == ("suicide",)
    assert family_warnings("miscarriage") == ("miscarriage",)  # taxonomy fallback
    with pytest.raises(EvalError, match="FAMILY_MAP"):
        family_warnings("existential dread")


def test_real_chapter_labels_all_map() -> None:
    from forewarn.eval.chapters import load_labels

    folder = shared_data() / "public-domain"
    if not (folder / "labels.json").is_file():
        pytest.skip(f"{folder / 'labels.json'} not found")
    assert len(load_labels(folder)) >= 10


def test_text_work_has_no_header_parsing() -> None:
    work = text_work("Warning: this is a line of story.\n\nAnd a second paragraph.")
    assert len(work.chapters) == 1
    assert len(work.chapters[0].paragraphs) == 2
    assert work.content_notes == []


def test_testset_label_and_kind_parsing() -> None:
    assert parse_label(1, "") is True
    assert parse_label("negative", "") is False
    assert parse_label(None, "positive-implicit") is True
    assert parse_label(None, "figurative") is False
    assert parse_label("maybe", "positive") is None
    assert parse_label(0.4, "") is None and parse_label(1.0, "") is True  # 0.4 is no yes
    assert kind_group("neighbour:death") == "neighbour:*"
    assert kind_group("Negated") == "negated"


# -- the parts, end to end -----------------------------------------------------------

VIOLENT = [
    "{a} punched {b} in the face and kicked him as he lay on the floor.",
    "{a} stabbed {b} twice in the stomach and left him bleeding in the alley.",
    "{a} beat {b} with an iron bar until his ribs broke.",
    "{a} slammed {b} against the wall and strangled him with both hands.",
    "{a} shot {b} in the leg and then hit him with the butt of the rifle.",
    "{a} smashed a bottle over {b}'s head and kicked him down the stairs.",
]
DEATHLY = [
    "{b} died in the night, and {a} sat beside the body until morning.",
    "At the funeral {a} could not look at {b}'s coffin.",
    "The doctor told {a} that {b} was dead, that nothing more could be done.",
    "{a} found {b}'s corpse on the kitchen floor, cold and stiff.",
    "They buried {b} on a grey Tuesday and {a} threw the first handful of earth.",
    "{a} kept {b}'s coat on its hook for a year after {b} died.",
]
CALM = [
    "{a} and {b} planted tulips along the fence and argued about the colours.",
    "{a} taught {b} to play chess on the train to the coast.",
    "{a} baked a lemon cake and {b} ate half of it before it cooled.",
    "{a} and {b} walked the dog along the canal and watched the boats.",
    "{a} read the newspaper aloud while {b} did the crossword.",
    "{a} painted the shed green and {b} held the ladder.",
]
NAMES = [("Ana", "Ben"), ("Cleo", "Dan"), ("Eve", "Finn"), ("Gus", "Hal"), ("Ida", "Joe")]


def mini_passages(path: Path) -> None:
    """Two warnings, 45 passages each: set 0 18 positive + 12 negative, set 1 9 + 6."""
    rows = []
    work = 0
    for warning, positive in (("violence", VIOLENT), ("death", DEATHLY)):
        for set_id in (0, 1):
            for k, (a, b) in enumerate(NAMES):
                for j, template in enumerate(positive if k < 3 else CALM):
                    if j >= 3 and set_id == 1:
                        continue
                    work += 1
                    yes = k < 3
                    rows.append({
                        "warning": warning, "labels": [int(yes), int(yes), 0],
                        "text": template.format(a=a, b=b), "work_id": work // 2,
                        "example_id": len(rows), "set_id": set_id,
                    })
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_passage_parts_end_to_end(tmp_path: Path, shipped: Shipped) -> None:
    pytest.importorskip("sklearn", reason="the passage parts train heads: needs the eval extra")
    mini_passages(tmp_path / "passage-warnings" / "passages.jsonl")
    ctx = Context(data_dir=tmp_path, shipped=shipped,
                  options={"seeds": (43, 44), "n_test": 4, "c_grid": (1.0,)})
    section = run_part("passages", ctx)
    assert section.skipped is None
    ids = section.data["results"]["in-distribution"]
    # always yes on 4 + 4: precision 1/2, recall 1, F1 2/3, accuracy 1/2
    assert ids["always yes"]["violence"]["f1"] == pytest.approx(2 / 3)
    assert ids["always yes"]["violence"]["accuracy"] == pytest.approx(0.5)
    for model in ids.values():
        for figures in model.values():
            assert 0.0 <= figures["f1"] <= 1.0
            assert len(figures["per_seed_f1"]) == 2
    # the two words "violence" and "death" are enough for a head on these sentences
    assert ids["static head"]["violence"]["f1"] >= 0.6
    assert ids["encoder head"]["violence"]["f1"] >= 0.6
    md = section.to_markdown()
    assert "published: Mixtral-8x7B" in md and "0.77" in md
    assert "Out-of-distribution" in md

    natural = run_part("natural", ctx)
    majority = natural.data["majority"]
    assert set(majority) >= {"TF-IDF + LR", "static head", "encoder head", "shipped lexicon"}
    for model in majority.values():
        for counts in model.values():
            assert counts["tp"] + counts["fn"] in (9, 27)  # set-1 rows only, or all
    assert majority["TF-IDF + LR"]["death"]["tp"] + majority["TF-IDF + LR"]["death"]["fn"] == 27
    assert "macro" in natural.to_markdown()
    assert "Calibration, held-out set 1" in natural.to_markdown()


def test_documents_on_the_fixture(shipped: Shipped) -> None:
    ctx = Context(data_dir=Path("/nonexistent"), shipped=shipped,
                  options={"pan23": FIXTURE})
    section = run_part("documents", ctx)
    data = section.data
    assert data["works"] == 8
    gold = {json.loads(line)["work_id"]: set(json.loads(line)["labels"])
            for line in (FIXTURE / "labels.jsonl").read_text().splitlines()}
    predicted = {w: set(p) for w, p in data["predicted"].items()}
    counts = multilabel_counts([predicted[w] for w in gold], list(gold.values()),
                               PAN23_LABELS)
    assert data["micro"]["f1"] == pytest.approx(micro(counts.values()).f1, abs=1e-4)
    assert data["macro_f1"] == pytest.approx(macro_f1(counts.values()))
    assert data["macro_f1_present"] >= data["macro_f1"]
    # a sanity floor, not a target: the fixture's warnings are spelled out plainly
    assert data["micro"]["f1"] > 0.5
    assert "micro-F1" in section.to_markdown()


def test_documents_bad_labels(tmp_path: Path, shipped: Shipped) -> None:
    (tmp_path / "works.jsonl").write_text('{"work_id": "a", "text": "Hello there."}\n')
    (tmp_path / "labels.jsonl").write_text('{"work_id": "a", "labels": ["grumpiness"]}\n')
    ctx = Context(shipped=shipped, options={"pan23": tmp_path})
    with pytest.raises(EvalError, match="not PAN23 labels: grumpiness"):
        run_part("documents", ctx)


@pytest.mark.parametrize(("works", "labels", "message"), [
    ('{"text": "Hi."}', '{"work_id": "a", "labels": []}', "work 1: no 'work_id' field"),
    ('["a", "Hi."]', '{"work_id": "a", "labels": []}', "work 1: not a JSON object"),
    ('{"work_id": "a", "text": null}', '{"work_id": "a", "labels": []}', "no 'text' field"),
    ('{"work_id": "a", "text": "Hi."}', '{"work_id": "a", "labels": null}', "no 'labels'"),
    ('{"work_id": "a", "text": "Hi."}', '{"work_id": "a"}', "line 1: no 'labels' field"),
    ('{"work_id": "a", "text": "Hi."}', '{"work_id": "a", "labels": "violence"}',
     "a str as its 'labels' field"),
    ('{"work_id": "a", "text": "Hi."}\n{"work_id": "a", "text": "Yo."}',
     '{"work_id": "a", "labels": []}', "work id 'a' given twice"),
    ('{"work_id": "a", "text": "Hi."}', '{"work_id": "a", "labels": []}\n'
     '{"work_id": "a", "labels": ["death"]}', "labels for work 'a' given twice"),
])
def test_documents_malformed_input_is_one_error_naming_the_file(
        tmp_path: Path, shipped: Shipped, works: str, labels: str, message: str) -> None:
    # each was an internal error, or figures silently wrong (review 19, finding 10)
    (tmp_path / "works.jsonl").write_text(works + "\n")
    (tmp_path / "labels.jsonl").write_text(labels + "\n")
    ctx = Context(shipped=shipped, options={"pan23": tmp_path})
    with pytest.raises(EvalError, match=re.escape(message)):
        run_part("documents", ctx)


def test_unreadable_jsonl_is_one_error_naming_the_file(tmp_path: Path) -> None:
    from forewarn.eval.common import read_jsonl

    (tmp_path / "latin1.jsonl").write_bytes('{"t": "café"}\n'.encode("latin-1"))
    (tmp_path / "folder.jsonl").mkdir()
    whole = gzip.compress("".join(f'{{"t": {i * 7919 % 10007}}}\n' for i in range(2000)).encode())
    (tmp_path / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    for name, message in (("latin1.jsonl", ":1: not UTF-8"), ("folder.jsonl", "cannot read"),
                          ("cut.jsonl.gz", "cannot read")):
        with pytest.raises(EvalError, match=re.escape(message)):
            read_jsonl(tmp_path / name)


CHAPTER_DEATH = """Chapter One

The soldiers came at dawn. Captain Reyes was shot through the chest and fell in the
doorway, and the blood ran out of him across the flagstones while his men dragged him
inside. He died before the surgeon reached him.

They buried him the next morning behind the chapel, and his sister wept at the grave.
"""
CHAPTER_CALM = """Chapter One

Mrs Alder kept bees at the bottom of the orchard. Every August she took the honey off,
wearing her late husband's old hat with the net sewn to the brim, and the village children
came to watch from the wall.

She gave them each a piece of comb wrapped in greaseproof paper, and they went home sticky
and pleased.
"""


def test_chapters_end_to_end(tmp_path: Path, shipped: Shipped) -> None:
    folder = tmp_path / "public-domain"
    folder.mkdir()
    (folder / "battle.txt").write_text(CHAPTER_DEATH)
    (folder / "bees.txt").write_text(CHAPTER_CALM)
    (folder / "labels.json").write_text(json.dumps({"works": {
        "battle.txt": {"must": ["death", "violence"], "should": ["grief", "blood"],
                       "must_not": ["pregnancy", "suicide"]},
        "bees.txt": {"neutral": True},
    }}))
    section = run_part("chapters", Context(data_dir=tmp_path, shipped=shipped))
    totals = section.data["totals"]
    assert (totals["must"], totals["should"], totals["must_not"], totals["neutral"]) == (
        2, 2, 2, 1)
    battle = section.data["chapters"]["battle.txt"]
    assert len(battle["must_found"]) + len(battle["must_missed"]) == 2
    assert totals["must_found"] == len(battle["must_found"])
    assert "death" in battle["must_found"]  # "He died", a grave: plainly death
    assert totals["words"] > 100 and totals["seconds"] > 0
    md = section.to_markdown()
    assert "must-recall" in md and "Family map" in md

    (folder / "labels.json").write_text(json.dumps({"works": {
        "battle.txt": {"must": ["existential dread"]}}}))
    with pytest.raises(EvalError, match="existential dread"):
        run_part("chapters", Context(data_dir=tmp_path, shipped=shipped))


def test_real_chapters(shipped: Shipped) -> None:
    data = shared_data()
    if not (data / "public-domain" / "labels.json").is_file():
        pytest.skip("public-domain chapters not in the reference data")
    section = run_part("chapters", Context(data_dir=data, shipped=shipped))
    totals = section.data["totals"]
    assert totals["must"] >= 10 and totals["neutral"] == 2
    assert 0 <= totals["must_found"] <= totals["must"]


TESTSET_LINES = [
    {"warning": "death", "label": 1, "kind": "positive",
     "text": "Her father died in the night and they buried him on Friday."},
    {"warning": "death", "label": 1, "kind": "positive-implicit",
     "text": "The chair by the window stayed empty after the funeral."},
    {"warning": "death", "label": 0, "kind": "figurative",
     "text": "I nearly died laughing when he fell off the stage."},
    {"warning": "death", "label": 0, "kind": "neighbour:dying",
     "text": "The hospice nurse said the pain would be managed."},
    {"warning": "self harm", "label": "positive", "kind": "positive",
     "text": "She cut her arm with a razor blade to make the feeling stop."},
    {"warning": "self-harm", "label": "negative", "kind": "negated",
     "text": "He had never once hurt himself, whatever the rumours said."},
    {"warning": "nonsense-warning", "label": 1, "kind": "positive", "text": "x"},
]


def test_testset_end_to_end(tmp_path: Path, shipped: Shipped) -> None:
    a = tmp_path / "testset-a.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in TESTSET_LINES)
                 + '{"warning": "death", "label": 1, "kind": "posi')  # half-written
    ctx = Context(shipped=shipped, options={"testset": [a, tmp_path / "testset-b.jsonl"]})
    section = run_part("testset", ctx)
    data = section.data
    assert data["lines"] == 6
    assert len(data["skipped"]) == 2  # the unknown warning and the half-written line
    death, harm = data["per_warning"]["death"], data["per_warning"]["self-harm"]
    assert death["tp"] + death["fn"] == 2 and death["fp"] + death["tn"] == 2
    assert harm["tp"] + harm["fn"] == 1 and harm["fp"] + harm["tn"] == 1
    assert set(data["per_kind"]) == {"positive", "positive-implicit", "figurative",
                                     "negated", "neighbour:*"}
    md = section.to_markdown()
    assert "Not found (yet): testset-b.jsonl" in md
    assert "2 line(s) skipped" in md
    # the calibration table counts exactly the lines whose own warning was reported
    reliability = section.tables[-1]
    assert "Calibration on the test set" in reliability.caption
    reported = sum(c["tp"] + c["fp"] for c in data["per_warning"].values())
    assert reported >= 1 and sum(row[1] for row in reliability.rows) == reported


def test_testset_absent(tmp_path: Path) -> None:
    ctx = Context(options={"testset": [tmp_path / "testset-a.jsonl"]})
    with pytest.raises(EvalError, match="no test-set files found"):
        run_part("testset", ctx)


def test_all_skips_missing_parts(tmp_path: Path, shipped: Shipped) -> None:
    ctx = Context(data_dir=tmp_path / "nothing", shipped=shipped,
                  options={"testset": [tmp_path / "absent.jsonl"]})
    sections = run_parts(["auxiliary", "chapters", "testset"], ctx)
    assert all(s.skipped for s in sections)
    assert "not found" in sections[1].skipped


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = tmp_path / "lines.jsonl"
    lines.write_text("".join(json.dumps(r) + "\n" for r in TESTSET_LINES[:4]))
    out, js = tmp_path / "report.md", tmp_path / "report.json"
    code = main(["eval", "testset", "documents", "--testset", str(lines), "--pan23",
                 str(FIXTURE), "--out", str(out), "--json", str(js), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed == out.read_text()
    assert printed.startswith("# forewarn evaluation")
    assert "## Document level: PAN23 format" in printed
    assert "| death |" in printed
    parsed = json.loads(js.read_text())
    assert [s["part"] for s in parsed["sections"]] == ["testset", "documents"]
    assert parsed["meta"]["min_confidence"] == 0.5
    # which engine and which classifier the figures are of (review 19, finding 8)
    from forewarn.scanner import Scanner, default_engine

    versions = Scanner(engine=default_engine()).versions
    assert parsed["meta"]["engine"] == default_engine()
    assert parsed["meta"]["detectors"] == {k: v for k, v in versions.items() if k != "forewarn"}
    engine_line = next(line for line in printed.splitlines() if line.startswith("- Engine:"))
    assert all(v in engine_line for v in parsed["meta"]["detectors"].values())

    assert main(["eval", "nonsense"]) == 2
    assert "unknown part" in capsys.readouterr().err
    assert main(["eval", "testset", "--testset", str(tmp_path / "none.jsonl")]) == 3
    assert "no test-set files found" in capsys.readouterr().err
    code = main(["eval", "all", "--data", str(tmp_path / "nothing"), "--testset",
                 str(lines), "--pan23", str(FIXTURE), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.count("*Skipped:") >= 3  # auxiliary, chapters, and passages/natural


def test_python_m_forewarn_eval() -> None:
    done = subprocess.run([sys.executable, "-m", "forewarn.eval", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "passages" in done.stdout and "--data" in done.stdout


def test_the_annotated_part_runs_only_with_its_data(tmp_path: Path) -> None:
    """Without the corpus it is skipped with a reason (under ``all``) or an EvalError
    (asked for by name); it never reads the test split from anywhere else."""
    from forewarn.eval import PARTS

    assert "annotated" in PARTS
    ctx = Context(data_dir=tmp_path)
    (section,) = run_parts(["annotated"], ctx)
    assert section.skipped and section.part == "annotated"
    with pytest.raises(EvalError):
        run_part("annotated", ctx)


@pytest.mark.parametrize(("works", "message"), [
    ([], "'works' must map chapter files"),
    ({"x.txt": "neutral"}, "chapter x.txt: its labels must be an object"),
    ({"x.txt": {"must": "death"}}, "chapter x.txt: 'must' must be a list"),
])
def test_malformed_chapter_labels_are_one_error(tmp_path: Path, works: object,
                                                message: str) -> None:
    # AttributeError, an internal error, before (review 19, finding 10)
    from forewarn.eval.chapters import load_labels

    (tmp_path / "x.txt").write_text("Chapter 1\n\nTea.\n")
    (tmp_path / "labels.json").write_text(json.dumps({"works": works}))
    with pytest.raises(EvalError, match=re.escape(message)):
        load_labels(tmp_path)


def test_a_damaged_auxiliary_set_is_one_error_naming_the_file(tmp_path: Path,
                                                              shipped: Shipped) -> None:
    # KeyError 'polarity' or EOFError, an internal error, before (review 19, finding 10)
    from forewarn.eval.auxiliary import TOXIGEN_FILE

    path = tmp_path / TOXIGEN_FILE
    path.parent.mkdir(parents=True)
    path.write_text("text,group\nsome sentence,x\n", encoding="utf-8")
    ctx = Context(shipped=shipped, data_dir=tmp_path)
    with pytest.raises(EvalError, match=r"toxigen.*: no column 'polarity', 'target_group'"):
        run_part("auxiliary", ctx)
