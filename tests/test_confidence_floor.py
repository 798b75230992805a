"""The confidence floor: one default (``forewarn.confidence``), picked by one rule everywhere.

Every command and the service resolve their floor with
:func:`forewarn.confidence.confidence_floor`: these tests change the one default and see
each of them follow it, and see an explicit value and a profile's floor win over it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import forewarn.confidence
import forewarn.scanner
from forewarn.cli import main
from forewarn.confidence import DEFAULT_MIN_CONFIDENCE, confidence_floor
from forewarn.profile import load_profile

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "the-lighthouse-keeper.txt"
ODD_DEFAULT = 0.37  # a default no code path writes by hand


def test_the_rule() -> None:
    assert DEFAULT_MIN_CONFIDENCE == 0.5
    assert forewarn.scanner.DEFAULT_MIN_CONFIDENCE is DEFAULT_MIN_CONFIDENCE
    assert confidence_floor(None) == DEFAULT_MIN_CONFIDENCE
    assert confidence_floor(0.0) == 0.0  # an explicit 0 is a floor, not "not given"
    assert confidence_floor(0.8) == 0.8


def test_a_profile_floor_comes_between_the_option_and_the_default(tmp_path) -> None:
    with_floor = tmp_path / "with.toml"
    with_floor.write_text('[avoid]\n"blood" = "depicted"\n[settings]\nmin_confidence = 0.6\n',
                          encoding="utf-8")
    without = tmp_path / "without.toml"
    without.write_text('[avoid]\n"blood" = "depicted"\n', encoding="utf-8")
    assert confidence_floor(None, load_profile(with_floor)) == 0.6
    assert confidence_floor(0.7, load_profile(with_floor)) == 0.7
    assert confidence_floor(None, load_profile(without)) == DEFAULT_MIN_CONFIDENCE
    assert confidence_floor(None, None) == DEFAULT_MIN_CONFIDENCE


@pytest.fixture
def odd_default(monkeypatch) -> float:
    """Set the one default to :data:`ODD_DEFAULT`."""
    monkeypatch.setattr(forewarn.confidence, "DEFAULT_MIN_CONFIDENCE", ODD_DEFAULT)
    return ODD_DEFAULT


@pytest.fixture
def floors(odd_default, monkeypatch) -> list[float]:
    """The floor of each Scanner a command makes (with the default set to ODD_DEFAULT)."""
    made: list[float] = []

    class Recording(forewarn.scanner.Scanner):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self.min_confidence)

    monkeypatch.setattr(forewarn.scanner, "Scanner", Recording)
    return made


@pytest.fixture
def plain_profile(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text('[avoid]\n"blood" = "depicted"\n', encoding="utf-8")
    monkeypatch.delenv("FOREWARN_PROFILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "no-home"))
    return path


@pytest.mark.parametrize("argv", [
    ["scan", "--lexicon-only", "--json", str(EXAMPLE)],
    ["audit", "--lexicon-only", "--json", str(EXAMPLE)],
    ["read", "--lexicon-only", str(EXAMPLE)],
])
def test_each_command_takes_the_one_default(floors, plain_profile, capsys, argv) -> None:
    assert main(argv) == 0
    assert floors == [ODD_DEFAULT]
    if "--json" in argv:
        assert json.loads(capsys.readouterr().out)["min_confidence"] == ODD_DEFAULT


def test_check_takes_the_one_default(floors, plain_profile, capsys) -> None:
    from forewarn.verdict import POSSIBLE_FLOOR

    code = main(["check", "--lexicon-only", "--json", "--profile", str(plain_profile),
                 str(EXAMPLE)])
    assert code in (0, 10, 12, 13)
    assert floors == [min(ODD_DEFAULT, POSSIBLE_FLOOR)]
    assert json.loads(capsys.readouterr().out)["min_confidence"] == ODD_DEFAULT


def test_batch_takes_the_one_default(floors, tmp_path, monkeypatch) -> None:
    import forewarn.batch

    configs = []

    def run_batch(corpus, store, *, config, **kwargs):
        configs.append(config)
        raise RuntimeError("stop here: the configuration is all this test needs")

    monkeypatch.setattr(forewarn.batch, "run_batch", run_batch)
    assert main(["batch", "--quiet", "--lexicon-only", "--store", str(tmp_path / "s.db"),
                 str(EXAMPLE)]) != 0
    assert [c.min_confidence for c in configs] == [ODD_DEFAULT]


def test_the_service_takes_the_one_default(odd_default) -> None:
    pytest.importorskip("fastapi", reason="the service needs the serve extra (fastapi)")
    from fastapi.testclient import TestClient

    from forewarn.service.app import Settings, create_app

    story = EXAMPLE.read_text(encoding="utf-8")
    app = create_app(Settings(lexicon_only=True, warm_up=False))
    with TestClient(app) as client:
        scanned = client.post("/v1/scan", json={"text": story})
        assert scanned.status_code == 200, scanned.text
        assert scanned.json()["min_confidence"] == ODD_DEFAULT
        checked = client.post("/v1/check", json={
            "text": story, "profile": {"avoid": {"blood": "depicted"}}})
        assert checked.status_code == 200, checked.text
        assert checked.json()["min_confidence"] == ODD_DEFAULT
        audited = client.post("/v1/audit", json={"text": story})
        assert audited.status_code == 200, audited.text
        assert audited.json()["min_confidence"] == ODD_DEFAULT
        chosen = client.post("/v1/scan?min_confidence=0.8", json={"text": story})
        assert chosen.json()["min_confidence"] == 0.8
