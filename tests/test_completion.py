"""Shell completion scripts, made from the parser."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from forewarn.cli import main
from forewarn.commands.completion import commands_and_options


def script(capsys, shell: str) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def test_the_table_comes_from_the_parser() -> None:
    table = commands_and_options()
    assert {"scan", "check", "read", "audit", "profile", "eval"} <= set(table)
    assert "--by-chapter" in table["scan"] and "--profile" in table["check"]
    assert {"init", "show"} <= set(table["profile"])


def bash_completions(capsys, tmp_path, *lines: tuple[str, int]) -> list[str]:
    """What the bash script offers for each (COMP_WORDS, COMP_CWORD), one line each."""
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    path = tmp_path / "forewarn.bash"
    path.write_text(script(capsys, "bash"))
    probe = f"source {path}; " + "; ".join(
        f'COMP_WORDS=({words}); COMP_CWORD={cword}; _forewarn; echo "${{COMPREPLY[@]}}"'
        for words, cword in lines)
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def test_bash_completes_commands_then_options(capsys, tmp_path) -> None:
    first, second = bash_completions(capsys, tmp_path, ("forewarn sc", 1),
                                     ("forewarn scan --by", 2))
    assert first == "scan" and second == "--by-chapter"


def test_zsh_and_fish_scripts_name_every_command(capsys) -> None:
    zsh, fish = script(capsys, "zsh"), script(capsys, "fish")
    assert zsh.startswith("#compdef forewarn") and "bashcompinit" in zsh
    for name in commands_and_options():
        assert name in zsh and f"__fish_seen_subcommand_from {name}" in fish
    assert "-l by-chapter" in fish


def test_format_values_complete_from_the_renderer_registry(capsys, tmp_path) -> None:
    """``--format`` completes to the formats registered for the command's kind."""
    from forewarn.commands.completion import option_choices
    from forewarn.render.registry import renderer_names

    choices = option_choices()
    for command, kind in (("scan", "report"), ("check", "verdict"), ("audit", "audit"),
                          ("stats", "stats"), ("taxonomy", "taxonomy"), ("batch", "batch"),
                          ("export", "export"), ("eval", "eval")):
        assert choices[command]["--format"] == list(renderer_names(kind)), command
    fish = script(capsys, "fish")
    assert ("complete -c forewarn -n '__fish_seen_subcommand_from audit' -l format -x "
            "-a 'text json jsonl ao3'") in fish
    assert bash_completions(capsys, tmp_path, ("forewarn scan --format j", 3),
                            ('forewarn export --format ""', 3)) == ["json jsonl",
                                                                   "jsonl csv parquet"]
