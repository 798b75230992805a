"""The service package keeps its shape: ``app.py`` only puts the parts together, and no
service module reaches up into the command line (``forewarn.commands``, ``forewarn.cli``).

Read from the source (every import, at the top or inside a function), so this runs
without the serve extra.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from source_imports import imported_modules

SERVICE = Path(__file__).resolve().parent.parent / "src" / "forewarn" / "service"
MODULES = sorted(SERVICE.glob("*.py"))
APP_MAX_LINES = 250
CLI_PACKAGES = ("forewarn.commands", "forewarn.cli")


def reaches_cli(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in CLI_PACKAGES)


def test_the_service_modules_are_found():
    names = {p.stem for p in MODULES}
    assert {"app", "settings", "errors", "guard", "uploads", "routes", "jobs", "limits",
            "models"} <= names


def test_app_py_stays_short():
    lines = (SERVICE / "app.py").read_text(encoding="utf-8").count("\n")
    assert lines < APP_MAX_LINES, (
        f"service/app.py has {lines} lines: it puts the parts together; routes go to "
        "routes.py, request reading to uploads.py, errors to errors.py")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_service_module_imports_the_command_line(path: Path):
    assert not sorted(filter(reaches_cli, imported_modules(path)))


def test_the_import_check_sees_every_form_of_import(tmp_path: Path):
    probe = tmp_path / "probe.py"
    probe.write_text("import forewarn.cli\n"
                     "def f():\n    from forewarn.commands.check import run\n"
                     "from forewarn import cli\n"
                     "from .. import commands\n", encoding="utf-8")
    found = imported_modules(probe, package="forewarn.service")
    assert {"forewarn.cli", "forewarn.commands.check", "forewarn.commands"} <= found
    assert {name for name in found if not reaches_cli(name)} == {"forewarn"}
    assert not reaches_cli("forewarn.client") and not reaches_cli("forewarn.service.jobs")
