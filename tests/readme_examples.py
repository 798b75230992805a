"""The README's examples, run as shown.

Two kinds of example show what a command prints:

* a transcript: a fenced block (no language) whose lines starting with ``$ `` are
  commands (``forewarn ...``, ``.venv/bin/forewarn ...`` or ``echo $?``) each followed
  by what it prints on standard output;
* an output block: a fenced block right after an HTML comment
  ``<!-- output of: forewarn ... -->`` (the command is in the text above it).

``tests/test_readme.py`` checks that each prints what the README shows, run from the
checkout's root. When forewarn's output changes on purpose, regenerate the README's
examples from the real commands with::

    PYTHONPATH=src python tests/readme_examples.py --write

(without ``--write`` it lists the stale examples and exits 1 when there are any).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

_FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.S | re.M)
_OUTPUT_OF = re.compile(r"<!-- output of: (.+?) -->\s*$")
# environment that would change what the examples print
_ENV_UNSET = ("FOREWARN_ENGINE", "FOREWARN_PROFILE", "NO_COLOR", "FORCE_COLOR", "COLUMNS")


@dataclass
class Example:
    """One example: its commands, the output shown for each, and where its text lies."""

    start: int  # of the fenced block's body in the README
    end: int
    commands: list[str]
    shown: list[str]
    transcript: bool  # commands are in the block ("$ ..."), not in a comment above it

    @property
    def title(self) -> str:
        return self.commands[0]

    def render(self, outputs: list[str]) -> str:
        """The block's body with ``outputs`` in place of what it shows."""
        if not self.transcript:
            return outputs[0]
        return "".join(f"$ {command}\n{output}"
                       for command, output in zip(self.commands, outputs, strict=True))


def examples(readme: str) -> list[Example]:
    """Every example in ``readme`` that shows a command's output."""
    found = []
    for fence in _FENCE.finditer(readme):
        lang, body = fence.group(1), fence.group(2)
        start, end = fence.start(2), fence.end(2)
        before = readme[: fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
        comment = _OUTPUT_OF.search(before)
        if comment is not None:
            found.append(Example(start, end, [comment.group(1)], [body], transcript=False))
        elif not lang and body.startswith("$ "):
            commands, shown = [], []
            for line in body.splitlines(keepends=True):
                if line.startswith("$ "):
                    commands.append(line[2:].rstrip("\n"))
                    shown.append("")
                else:
                    shown[-1] += line
            found.append(Example(start, end, commands, shown, transcript=True))
    return found


def commands_in_code(readme: str, lang: str = "sh") -> Iterator[str]:
    """The ``forewarn`` command lines of the README's ``sh`` blocks (comments cut off)."""
    for fence in _FENCE.finditer(readme):
        if fence.group(1) != lang:
            continue
        for line in fence.group(2).splitlines():
            code = line.split("  #", 1)[0].strip()
            if code:
                yield code


@contextlib.contextmanager
def environment() -> Iterator[None]:
    """Run from the root, with none of the settings that change what forewarn prints."""
    saved = {name: os.environ.pop(name) for name in _ENV_UNSET if name in os.environ}
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(cwd)
        os.environ.update(saved)


def run(example: Example) -> list[str]:
    """What each of the example's commands prints now (call inside :func:`environment`)."""
    from forewarn.cli import main

    outputs, status = [], 0
    for command in example.commands:
        argv = shlex.split(command)
        if argv == ["echo", "$?"]:
            outputs.append(f"{status}\n")
            continue
        if not argv or argv[0] not in ("forewarn", ".venv/bin/forewarn"):
            raise ValueError(f"README example runs something other than forewarn: {command}")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = main(argv[1:])
        outputs.append(out.getvalue())
    return outputs


#: How far a confidence printed may be from the one shown. The int8 graph's activations are
#: quantised at run time from fp32 values, and fp32 kernels differ in their last bits
#: between CPUs (AVX2, AVX-512, AMX), so a probability can move by a few hundredths from
#: one machine to another (the example story's child abuse: 0.59 on the machine that made
#: the README, 0.62 on an AVX2 one). Everything else an example prints must be identical.
CONFIDENCE_SLACK = 0.05
_CONFIDENCE = re.compile(r"(?<![\d.])[01]\.\d\d(?![\d.])")


def same_output(printed: list[str], shown: list[str]) -> bool:
    """Whether an example prints what it shows, confidences within CONFIDENCE_SLACK."""
    if len(printed) != len(shown):
        return False
    for now, then in zip(printed, shown, strict=True):
        if _CONFIDENCE.split(now) != _CONFIDENCE.split(then):
            return False
        pairs = zip(_CONFIDENCE.findall(now), _CONFIDENCE.findall(then), strict=True)
        if any(abs(float(a) - float(b)) > CONFIDENCE_SLACK + 1e-9 for a, b in pairs):
            return False
    return True


def stale(readme: str) -> list[tuple[Example, list[str]]]:
    """The examples whose shown output differs from what their commands print now."""
    with environment():
        checked = [(example, run(example)) for example in examples(readme)]
    return [(example, outputs) for example, outputs in checked
            if not same_output(outputs, example.shown)]


def regenerate(readme: str) -> str:
    """``readme`` with every example's output as its commands print it now."""
    with environment():
        pieces, pos = [], 0
        for example in examples(readme):
            pieces += [readme[pos : example.start], example.render(run(example))]
            pos = example.end
    return "".join([*pieces, readme[pos:]])


def _main(argv: list[str]) -> int:
    readme = README.read_text(encoding="utf-8")
    if argv == ["--write"]:
        new = regenerate(readme)
        if new != readme:
            README.write_text(new, encoding="utf-8")
            print("README.md: examples regenerated")
        else:
            print("README.md: examples up to date")
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    old = stale(readme)
    for example, _ in old:
        print(f"stale: {example.title}")
    return 1 if old else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
