"""The reader's default profile: `forewarn profile init|show`, used by check and read."""

from __future__ import annotations

from pathlib import Path

import pytest

from forewarn.cli import main

EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "the-lighthouse-keeper.txt")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("FOREWARN_PROFILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "forewarn" / "profile.toml"


def test_without_any_profile_check_says_how_to_make_one(home: Path, capsys) -> None:
    assert main(["check", EXAMPLE]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "forewarn profile init" in err
    assert main(["profile", "show"]) == 2


def test_init_writes_a_commented_profile_once_and_check_and_read_use_it(
        home: Path, capsys, tmp_path: Path) -> None:
    assert main(["profile", "init"]) == 0
    assert home.is_file() and "[avoid]" in home.read_text()
    assert main(["profile", "init"]) == 2  # never over an existing file
    assert "--force" in capsys.readouterr().err
    home.write_text('[avoid]\n"blood" = { severity = "graphic", alias = "the red thing" }\n')
    assert main(["profile", "show"]) == 0
    out = capsys.readouterr().out
    assert str(home) in out and "the red thing" in out and "blood" not in out.lower()
    assert main(["check", EXAMPLE]) == 10  # the default profile is used
    assert "the red thing" in capsys.readouterr().out
    copy = tmp_path / "copy.html"
    assert main(["read", EXAMPLE, "-o", str(copy)]) == 0
    assert "the red thing" in copy.read_text(encoding="utf-8")


def test_forewarn_profile_env_names_the_profile_and_must_exist(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("FOREWARN_PROFILE", str(tmp_path / "missing.toml"))
    assert main(["check", EXAMPLE]) == 2  # a named profile that is not there is an error
    assert "missing.toml" in capsys.readouterr().err
