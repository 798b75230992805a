"""The ``forewarn.batch`` package's shape: its modules import one another in one direction
only (no cycle), its public names stay importable from ``forewarn.batch``, and what the
process pool and Dask send to workers unpickles in a fresh interpreter."""

from __future__ import annotations

import ast
import os
import pickle
import subprocess
import sys
from pathlib import Path

import forewarn
import forewarn.batch

SRC = Path(forewarn.__file__).resolve().parent.parent
PACKAGE = SRC / "forewarn" / "batch"
# Each module may import only those before it (the order forewarn/batch/__init__.py gives).
LAYERS = ["hashing", "corpus", "tasks", "runners", "summary", "run"]
PUBLIC = ["BatchSummary", "ClusterError", "Corpus", "ScanConfig", "Task",
          "expected_versions", "model_version_string", "run_batch"]


def fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter that imports forewarn from the same source tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env, cwd=str(SRC))


def batch_imports(module: str) -> set[str]:
    """The ``forewarn.batch`` modules that ``module`` imports, anywhere in its source
    (``"<package>"`` for the package itself)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x / from .x import y
                base = node.module or ""
                names = [base] if base else [a.name for a in node.names]
                found.update(n.split(".")[0] for n in names)
                continue
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name == "forewarn.batch":
                found.add("<package>")
            elif name.startswith("forewarn.batch."):
                found.add(name.split(".")[2])
    return found


def test_every_module_has_a_layer():
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    assert modules == sorted(LAYERS), "add the new module to LAYERS (and to __init__'s list)"


def test_modules_import_only_those_before_them():
    for i, module in enumerate(LAYERS):
        imported = batch_imports(module)
        assert "<package>" not in imported, f"{module} imports forewarn.batch itself"
        later = imported - set(LAYERS[:i])
        assert not later, f"forewarn.batch.{module} imports {sorted(later)}, listed after it"


def test_the_layer_check_sees_imports(tmp_path, monkeypatch):
    """The check above would notice a module importing a later one."""
    (tmp_path / "tasks.py").write_text(
        "def f():\n    from forewarn.batch.run import run_batch\n    from . import summary\n",
        encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path)
    assert batch_imports("tasks") == {"run", "summary"}


def test_each_module_imports_first_in_a_fresh_interpreter():
    for module in LAYERS:
        proc = fresh_python(f"import forewarn.batch.{module}")
        assert proc.returncode == 0, f"forewarn.batch.{module}: {proc.stderr}"


def test_public_names():
    assert sorted(forewarn.batch.__all__) == PUBLIC
    proc = fresh_python(
        "import forewarn.batch as b\n"
        "from forewarn.batch import *\n"
        "print(sorted(b.__all__))\n"
        "print(sorted(n for n in b.__all__ if not getattr(b, n).__module__"
        ".startswith('forewarn.batch.')))\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [repr(PUBLIC), "[]"]


def test_what_workers_are_sent_unpickles_by_its_module_path():
    from forewarn.batch.tasks import (
        ScanConfig,
        Task,
        _init_worker,
        dask_scan_chunk,
        scan_chunk,
    )

    sent = (scan_chunk, dask_scan_chunk, _init_worker,
            [Task("w1", "a.txt", "text", "She made tea.", "0" * 64, fmt="text")],
            ScanConfig(min_confidence=0.7, lexicon_only=True))
    data = pickle.dumps(sent)
    assert b"forewarn.batch.tasks" in data
    proc = fresh_python(
        "import pickle, sys\n"
        f"sent = pickle.loads({data!r})\n"
        "print([getattr(x, '__module__', None) for x in sent[:3]],"
        " type(sent[3][0]).__module__, type(sent[4]).__module__)\n"
        "print(sent[3][0].work_id, sent[4].min_confidence, sent[4].lexicon_only)\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "['forewarn.batch.tasks', 'forewarn.batch.tasks', 'forewarn.batch.tasks'] "
        "forewarn.batch.tasks forewarn.batch.tasks",
        "w1 0.7 True",
    ]
