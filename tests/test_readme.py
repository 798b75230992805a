"""The README's examples run as shown (issue 14).

Every example that shows a command's output (the quick start's scan, the scan with
``--evidence``, ``check`` and its exit code, ``audit``) prints exactly that today; the
commands of its ``sh`` blocks run (story files named there stand in for real ones); the
Python example runs; and the README says to activate the virtual environment before its
first bare ``forewarn``. Regenerate stale outputs with
``PYTHONPATH=src python tests/readme_examples.py --write``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from readme_examples import (
    README,
    ROOT,
    Example,
    commands_in_code,
    environment,
    examples,
    run,
    same_output,
)

TEXT = README.read_text(encoding="utf-8")
EXAMPLES = examples(TEXT)


def test_the_readme_shows_the_examples_it_should() -> None:
    titles = [example.title for example in EXAMPLES]
    assert titles == [
        "forewarn scan examples/the-lighthouse-keeper.txt",
        "forewarn scan --evidence tests/fixtures/stories/quiet-months.txt",
        "forewarn check --profile examples/me.toml examples/the-lighthouse-keeper.txt "
        "tests/fixtures/stories/quiet-months.txt",
        "forewarn audit tests/fixtures/audit/salt-and-iron.txt",
    ]
    check = EXAMPLES[2]
    assert check.commands[1:] == ["echo $?"] and check.shown[1] == "10\n"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.title.split(" ", 2)[1])
def test_each_example_prints_what_the_readme_shows(example: Example) -> None:
    with environment():
        printed = run(example)
    assert same_output(printed, example.shown), (
        f"README.md's example '{example.title}' is stale: regenerate it with "
        "'PYTHONPATH=src python tests/readme_examples.py --write'")


def test_the_profile_shown_is_the_file_the_check_example_reads() -> None:
    shown = re.search(r"```toml\n(.*?)```", TEXT, re.S)
    assert shown is not None
    assert shown.group(1) == (ROOT / "examples" / "me.toml").read_text(encoding="utf-8")


def test_the_readme_says_to_activate_the_venv_before_bare_commands() -> None:
    activate = TEXT.find(". .venv/bin/activate")
    assert activate >= 0, "the README never says to activate the virtual environment"
    # a bare forewarn command in a code block: "forewarn ...", "$ forewarn", "| forewarn"...
    bare = [fence.start(1) + line.start()
            for fence in re.finditer(r"^```[\w-]*\n(.*?)^```$", TEXT, re.S | re.M)
            for line in re.finditer(r"^(?:\$ |.*(?:\| |&& ))?forewarn ", fence.group(1), re.M)]
    assert bare, "no forewarn command in the README's code blocks"
    # before it, only the spelled-out .venv/bin/forewarn (the quick start)
    assert activate < min(bare), TEXT[min(bare) : min(bare) + 80]


# Placeholders the README's sh blocks use, and the real files that stand in for them.
def _stand_ins(folder: Path) -> None:
    from forewarn.ingest import read_path
    from forewarn.render.epub import render_epub

    story = ROOT / "examples" / "the-lighthouse-keeper.txt"
    shutil.copy(story, folder / "story.txt")
    shutil.copy(ROOT / "tests" / "fixtures" / "stories" / "quiet-months.txt", folder)
    shutil.copy(ROOT / "tests" / "fixtures" / "ingest" / "story.md", folder / "story.md")
    shutil.copy(ROOT / "tests" / "fixtures" / "ingest" / "generic_story.html",
                folder / "story.html")
    (folder / "story.epub").write_bytes(render_epub(read_path(story), []))
    (folder / "stories").mkdir()
    shutil.copy(story, folder / "stories" / "lighthouse.txt")
    shutil.copy(ROOT / "tests" / "fixtures" / "eval" / "works.jsonl", folder / "works.jsonl")


# Commands shown that need what a test cannot have: a server, a cluster, an install.
_NOT_RUN = re.compile(r"postgresql://|--cluster|forewarn serve|pip install|^\.venv/|^curl ")


def test_the_commands_of_the_sh_blocks_run(tmp_path: Path) -> None:
    commands = [c for c in commands_in_code(TEXT) if "forewarn" in c and not _NOT_RUN.search(c)]
    assert len(commands) >= 9, commands
    _stand_ins(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "forewarn"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m forewarn "$@"\n')
    shim.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src"),
           "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"), "LANG": "C.UTF-8"}
    for command in commands:
        done = subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}: exit {done.returncode}: {done.stderr}"
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert (tmp_path / "report.json").stat().st_size > 0  # scan --json story.html > report.json
    assert (tmp_path / "results.db").exists()


def test_the_python_example_runs(monkeypatch) -> None:
    code = re.search(r"```python\n(.*?)```", TEXT, re.S)
    assert code is not None
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("FOREWARN_ENGINE", raising=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "README.md", "exec"), {"__name__": "readme"})
    assert "miscarriage depicted" in out.getvalue()


def test_an_example_may_differ_only_in_its_confidences_and_only_a_little() -> None:
    shown = ["  depicted   Suicide             0.98  chapter 1, 25-70%\n"]
    assert same_output(["  depicted   Suicide             0.95  chapter 1, 25-70%\n"], shown)
    assert not same_output(["  depicted   Suicide             0.91  chapter 1, 25-70%\n"],
                           shown)
    assert not same_output(["  mentioned  Suicide             0.98  chapter 1, 25-70%\n"],
                           shown)
    assert not same_output(["  depicted   Suicide             0.98  chapter 1, 25-75%\n"],
                           shown)
    assert not same_output(shown * 2, shown)


def test_the_regeneration_script_finds_nothing_stale() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "readme_examples.py")],
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
