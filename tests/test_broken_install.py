"""A damaged or missing model file is a broken install, not a bug and not the input's fault:
one line and exit 16 from the CLI, a batch that stops at once and scans those works again
after the repair, a 503 from the service (review 19, findings 4 and 13)."""

from __future__ import annotations

import json

import pytest

from forewarn.cli import main
from forewarn.detect.artifacts import ModelIntegrityError
from forewarn.detect.classifier import ClassifierDetector


@pytest.fixture
def damaged(monkeypatch):
    def refuse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ModelIntegrityError("classifier file /x/model.onnx fails its integrity check: "
                                  "sha256 0000 but manifest.json records 1111")

    monkeypatch.setattr(ClassifierDetector, "score", refuse)
    monkeypatch.setattr(ClassifierDetector, "warm_up", refuse)


def test_scan_with_a_damaged_model_is_one_line_and_exit_16(tmp_path, capsys, damaged):
    story = tmp_path / "s.txt"
    story.write_text("She made tea.\n", encoding="utf-8")
    code = main(["scan", str(story)])
    err = capsys.readouterr().err
    assert code == 16 and err.count("\n") == 1
    assert "model.onnx fails its integrity check" in err and "internal error" not in err


def test_a_batch_stops_at_once_and_the_next_run_scans_those_works_again(tmp_path, capsys,
                                                                        monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(30):
        (folder / f"w{i:02}.txt").write_text(f"Story {i}: she made tea.\n", encoding="utf-8")
    db = str(tmp_path / "r.db")

    def refuse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ModelIntegrityError("classifier file /x/model.onnx fails its integrity check")

    with monkeypatch.context() as m:
        m.setattr(ClassifierDetector, "score", refuse)
        m.setattr(ClassifierDetector, "warm_up", refuse)
        code = main(["batch", str(folder), "--store", db, "-j", "1", "-q", "--chunk-size", "2"])
    err = capsys.readouterr().err
    assert code == 16 and "the batch stops: reinstall forewarn" in err, err
    import sqlite3

    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT COUNT(*), MAX(error_kind) FROM works").fetchone()
    assert stored[0] < 30 and stored[1] == "install"  # stopped, did not fail the archive
    code = main(["batch", str(folder), "--store", db, "-j", "1", "-q", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["scanned"] == 30  # the repaired install scans every work


def test_the_service_answers_503_for_a_broken_install(damaged):
    from fastapi.testclient import TestClient

    from forewarn.service.app import create_app

    client = TestClient(create_app())
    reply = client.post("/v1/scan", json={"text": "She made tea."})
    assert reply.status_code == 503, reply.text
    assert reply.json()["error"]["code"] == "broken-install"


@pytest.fixture
def damaged_data(tmp_path, monkeypatch):
    """forewarn's data folder as a copy whose files a test may cut or remove."""
    import shutil
    from importlib import resources

    import forewarn.detect.lexicon as lexicon
    import forewarn.taxonomy as taxonomy

    root = tmp_path / "forewarn"
    shutil.copytree(resources.files("forewarn") / "data", root / "data",
                    ignore=shutil.ignore_patterns("classifier", "encoder", "static"))
    for module in (lexicon, taxonomy):
        monkeypatch.setattr(module.resources, "files", lambda _name: root)
    caches = (lexicon._default_lexicon, lexicon._lexicon_digest, taxonomy._default_taxonomy)
    for cache in caches:
        cache.cache_clear()
    yield root / "data"
    monkeypatch.undo()
    for cache in caches:
        cache.cache_clear()


@pytest.mark.parametrize(("name", "damage", "message"), [
    ("lexicon.toml", "cut", "forewarn's lexicon (data/lexicon.toml) is missing or damaged"),
    ("lexicon.toml", "remove", "forewarn's lexicon (data/lexicon.toml) is missing or damaged"),
    ("taxonomy.json", "cut", "forewarn's taxonomy (data/taxonomy.json) is missing or damaged"),
    ("taxonomy.json", "remove", "forewarn's taxonomy (data/taxonomy.json) is missing or damaged"),
])
def test_a_damaged_lexicon_or_taxonomy_is_a_broken_install(tmp_path, capsys, damaged_data,
                                                           name, damage, message):
    # "internal error: TOMLDecodeError" or exit 2 as if the user had erred (review 19, 13)
    target = damaged_data / name
    if damage == "cut":
        target.write_bytes(target.read_bytes()[:1000])
    else:
        target.unlink()
    story = tmp_path / "s.txt"
    story.write_text("She made tea.\n", encoding="utf-8")
    code = main(["scan", "--lexicon-only", str(story)])
    err = capsys.readouterr().err
    assert code == 16 and err.count("\n") == 1 and message in err, err
