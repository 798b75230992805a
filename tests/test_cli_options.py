"""The options every story-reading command shares come from one place (forewarn.cli), and
so do its argument types, the loop over its inputs and the errors' exit codes."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from forewarn import cli
from forewarn.errors import ForewarnError, InputNotFound, MalformedInput

EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "the-lighthouse-keeper.txt")


def _actions(command: str) -> dict[str, argparse.Action]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {opt: a for a in sub.choices[command]._actions for opt in a.option_strings}


@pytest.mark.parametrize("command", ["scan", "check", "audit", "read", "batch"])
def test_every_story_command_says_its_confidence_floor_the_same_way(command: str) -> None:
    floor = _actions(command)["--min-confidence"]
    assert floor.help is not None and floor.help.startswith(
        "leave out warnings below this confidence (0-")
    assert ("profile's" in floor.help) == (command in ("check", "read"))
    assert floor.default is None and floor.metavar == "X"


@pytest.mark.parametrize("command", ["scan", "check", "audit", "read", "batch", "serve"])
def test_lexicon_only_is_one_option(command: str) -> None:
    helps = {_actions(c)["--lexicon-only"].help for c in ("scan", command)}
    assert len(helps) == 1


def test_the_argument_types() -> None:
    assert cli.whole_number(1)("3") == 3 and cli.whole_number(0)("0") == 0
    with pytest.raises(argparse.ArgumentTypeError, match="must be at least 1"):
        cli.whole_number(1)("0")
    with pytest.raises(argparse.ArgumentTypeError, match="not a whole number"):
        cli.whole_number(0)("1.5")
    assert cli.seconds()("0.5") == 0.5
    with pytest.raises(argparse.ArgumentTypeError, match="more than 0"):
        cli.seconds()("0")
    with pytest.raises(argparse.ArgumentTypeError, match="at most 60"):
        cli.seconds(60)("61")


def test_each_input_keeps_every_place_and_the_first_failure(capsys) -> None:
    from forewarn.render.registry import Failed

    def make(path: str) -> str:
        if path.startswith("bad"):
            raise (InputNotFound if path == "bad1" else MalformedInput)(f"{path}: no")
        return path.upper()

    inputs = cli.EachInput(["a", "bad1", "b", "bad2"], make)
    results = list(inputs)
    assert results[0] == "A" and results[2] == "B"
    assert isinstance(results[1], Failed) and isinstance(results[3], Failed)
    assert inputs.status == 3  # the first failure's
    assert capsys.readouterr().err == "forewarn: bad1: no\nforewarn: bad2: no\n"


def test_an_error_class_names_its_exit_code_and_kind_in_its_class_line() -> None:
    class Odd(ForewarnError, exit_code=42, kind="odd"):
        pass

    class Odder(Odd):
        pass

    class Plain(ForewarnError):
        exit_code = 43

    assert (Odd.exit_code, Odd.kind) == (42, "odd") == (Odder.exit_code, Odder.kind)
    assert (Plain.exit_code, Plain.kind) == (43, "error")
    assert (InputNotFound.exit_code, InputNotFound.kind) == (3, "not-found")
    assert (MalformedInput.exit_code, MalformedInput.kind) == (6, "malformed")


@pytest.mark.parametrize("spec", [",", " ", "  ,  ,", ""])
def test_an_only_list_that_names_no_warning_is_a_usage_error(capsys, spec) -> None:
    """--only that names nothing would scan for nothing and report "no content warnings
    found": one line and exit 2 instead, as for an unknown name."""
    from forewarn.cli import main

    code = main(["scan", "--lexicon-only", "--only", spec,
                 EXAMPLE])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "no warning named" in err


@pytest.mark.parametrize("command", ["read"])
def test_read_refuses_a_floor_no_confidence_reaches(capsys, command) -> None:
    """At 1 no scene would be collapsed, as check at 1 would call every story safe."""
    from forewarn.cli import main

    with pytest.raises(SystemExit) as exc:
        main([command, "--lexicon-only", "--min-confidence", "1",
              EXAMPLE])
    assert exc.value.code == 2 and "at most 0.99" in capsys.readouterr().err
