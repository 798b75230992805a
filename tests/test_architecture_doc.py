"""docs/architecture.md cannot silently rot.

* Every ``forewarn.…`` name it gives resolves (the module imports; a name after the module
  is an attribute of it), and every repository path it gives (``src/…``, ``tests/…``,
  ``docs/…``, ``training/…``) exists, except the files its examples create, which the page
  marks "(new)". A JSON schema name (``forewarn.report/2``) is not a module.
* Its relative links resolve.
* Its three examples (a reader, a detector, an output format) are run against the real
  registries and the checks of their contract tests.
* The layering rule it states holds: no module of the library outside the command line
  imports ``forewarn.cli`` or ``forewarn.commands``.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
import types
from pathlib import Path

import pytest
from source_imports import imported_modules

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
SRC = ROOT / "src" / "forewarn"

_DOTTED = re.compile(r"(?<![\w./-])forewarn(?:\.[A-Za-z_]\w*)+(?![\w/])")
_PATH = re.compile(r"(?<![\w./-])(?:src|tests|docs|training)/[\w./-]*[\w/]")
_NEW = re.compile(r"`((?:src|tests|docs|training)/[\w./-]+)` \(new\)")
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _new_files(text: str) -> set[str]:
    return set(_NEW.findall(text))


def _new_modules(text: str) -> set[str]:
    return {p.removeprefix("src/").removesuffix(".py").replace("/", ".")
            for p in _new_files(text) if p.startswith("src/forewarn/")}


def _resolves(dotted: str) -> bool:
    """``forewarn.a.b.C.d``: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError as exc:
            if exc.name is not None and not ".".join(parts[:cut]).startswith(exc.name):
                raise  # the module exists, one of its own imports is missing
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_the_page_exists_and_is_linked() -> None:
    assert DOC.is_file()
    assert "docs/architecture.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_forewarn_name_resolves() -> None:
    text = _text()
    new = _new_modules(text)
    names = sorted(set(_DOTTED.findall(text)))
    assert len(names) > 20, "the page names modules; the pattern finds none"
    missing = [n for n in names
               if not any(n == m or n.startswith(m + ".") for m in new) and not _resolves(n)]
    assert not missing, f"docs/architecture.md names what does not exist: {missing}"


def test_every_path_exists() -> None:
    text = _text()
    new = _new_files(text)
    paths = sorted(set(_PATH.findall(text)))
    assert any(p.startswith("src/forewarn/") for p in paths)
    missing = [p for p in paths if p not in new and not (ROOT / p).exists()]
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"
    created = [p for p in new if (ROOT / p).exists()]
    assert not created, f"an example's new file now exists; drop its '(new)': {created}"


def test_every_short_path_exists() -> None:
    """``ingest/text.py`` or ``encoder.py`` (a path inside the package, written short)."""
    files = [p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py")]
    short = {s for s in re.findall(r"`([\w/]+\.py)`", _text())
             if not s.startswith(("src/", "tests/", "docs/", "training/"))}
    assert short, "the pattern finds no short paths"
    missing = [s for s in sorted(short) if not any(f == s or f.endswith("/" + s) for f in files)]
    assert not missing, f"docs/architecture.md names files forewarn does not have: {missing}"


def _defined_names() -> set[str]:
    """Every name defined in src/ and tests/ (functions, classes, assignments, parameters'
    keywords aside) and every short string constant (reader names, kinds, engine keys)."""
    names: set[str] = set()
    for path in [*SRC.rglob("*.py"), *(ROOT / "tests").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and len(node.value) < 40:
                names.add(node.value)
    return names


def test_every_name_in_backticks_is_defined() -> None:
    """``Verdict.of``, ``audit_report``, ``STORY_IN``: each part is defined somewhere (a
    renamed function cannot linger on the page)."""
    defined = _defined_names()
    tokens = set(re.findall(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(\))?`", _text()))
    tokens = {t for t in tokens if not t.startswith("forewarn.")  # resolved above
              and t.rpartition(".")[2] not in ("py", "md", "json", "toml")}  # files
    assert len(tokens) > 30
    missing = sorted(t for t in tokens if not all(part in defined for part in t.split(".")))
    assert not missing, f"docs/architecture.md names what nothing defines: {missing}"


def test_every_relative_link_resolves() -> None:
    for target in _LINK.findall(_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        assert (DOC.parent / target.split("#")[0]).exists(), target


def _blocks() -> dict[str, str]:
    """The page's code blocks keyed by the file their first line names."""
    out = {}
    for _, body in _BLOCK.findall(_text()):
        first, _, rest = body.partition("\n")
        m = re.match(r"# ((?:src|tests)/[\w./]+)", first)
        if m:
            out[m.group(1)] = rest
    return out


def _as_module(name: str, code: str, monkeypatch) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = f"<docs/architecture.md: {name}>"
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(code, module.__file__, "exec"), module.__dict__)
    return module


def _in(module_name: str, code: str) -> dict:
    """Run ``code`` as if appended to the module: its imports and names in scope."""
    namespace = dict(vars(importlib.import_module(module_name)))
    exec(compile(code, f"<docs/architecture.md: {module_name}>", "exec"), namespace)
    return namespace


def test_the_reader_example_keeps_the_reader_contract(monkeypatch, tmp_path: Path) -> None:
    import test_reader_contract as contract

    from forewarn.ingest.registry import accepted_media_types, unregister_reader

    blocks = _blocks()
    _as_module("forewarn.ingest.org", blocks["src/forewarn/ingest/org.py"], monkeypatch)
    fixture = _in("test_reader_contract", blocks["tests/test_reader_contract.py"])["_org"]
    monkeypatch.setitem(contract.STORY_IN, "org", fixture)
    _in("forewarn.ingest.readers", blocks["src/forewarn/ingest/readers.py"])
    try:
        contract.test_every_reader_has_the_shared_fixture()
        contract.test_each_extension_reads_the_story("org", tmp_path)
        contract.test_name_and_aliases_choose_the_reader("org")
        contract.test_sniffing_finds_the_reader("org")
        for builtin in ("text", "markdown", "html", "epub"):  # the new sniff takes none of them
            contract.test_sniffing_finds_the_reader(builtin)
        assert "text/x-org" in accepted_media_types()
    finally:
        unregister_reader("org")


def test_the_detector_example_keeps_the_detector_contract(monkeypatch) -> None:
    import test_detector_contract as contract

    import forewarn.detect as registry
    from forewarn.ingest import read_text
    from forewarn.scanner import Scanner
    from forewarn.segment import segment

    blocks = _blocks()
    _as_module("forewarn.detect.retching", blocks["src/forewarn/detect/retching.py"],
               monkeypatch)
    entry = re.search(r'^\s*"([\w-]+)": "([\w.]+:\w+)",\s*$',
                      blocks["src/forewarn/detect/__init__.py"], re.M)
    assert entry is not None, "the page shows no _REGISTRY entry"
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    registry.register(*entry.groups())
    story = "She retched into the sink until her throat burned.\n\nThe kettle sang.\n"
    # the contract's story with something for this detector to find, so that its checks
    # on hits do not run on nothing
    monkeypatch.setattr(contract, "STORY", contract.STORY + "\n" + story)
    assert registry.create(entry.group(1)).detect(segment(read_text(contract.STORY)))
    contract.test_every_detector_keeps_the_contract(entry.group(1))
    report = Scanner(detectors=[registry.create("lexicon"), registry.create("retching")],
                     min_confidence=0.0).scan(story)
    assert "vomiting" in report.ids and report.versions["retching"] == "1"


def test_the_renderer_example_keeps_the_renderer_contract(capsys) -> None:
    import test_renderer_contract as contract

    from forewarn.cli import build_parser
    from forewarn.render.registry import (
        RenderOptions,
        render_to_string,
        renderer_names,
        unregister_renderer,
    )
    from forewarn.scanner import Scanner

    blocks = _blocks()
    check = _in("test_renderer_contract", blocks["tests/test_renderer_contract.py"])["check_tsv"]
    _in("forewarn.render.formats", blocks["src/forewarn/render/formats.py"])
    try:
        assert "tsv" in renderer_names("report")
        report = Scanner(lexicon_only=True, min_confidence=0.0).scan_work(contract._work())
        for colour in (False, True):
            options = RenderOptions(evidence=True, colour=colour, by_chapter=True, many=True)
            out = render_to_string("tsv", "report", contract.SAMPLES["report"](report), options)
            assert out.count("\n") == len(report.warnings) > 0
            check("report", out, options)
        with pytest.raises(SystemExit):
            build_parser().parse_args(["scan", "--help"])
        assert "tsv: tab-separated lines" in " ".join(capsys.readouterr().out.split())
    finally:
        unregister_renderer("tsv")


# --- the layering rule ------------------------------------------------------------------

_CLI = ("forewarn.cli", "forewarn.commands")


# the command line: cli.py, commands/, and the ``python -m`` entry points
_DOMAIN = sorted(p for p in SRC.rglob("*.py")
                 if p.name != "__main__.py"
                 and p.relative_to(SRC).parts[0] not in ("cli.py", "commands"))


@pytest.mark.parametrize("path", _DOMAIN, ids=lambda p: str(p.relative_to(SRC)))
def test_no_domain_module_imports_the_command_line(path: Path) -> None:
    reached = sorted(n for n in imported_modules(path)
                     if any(n == c or n.startswith(c + ".") for c in _CLI))
    assert not reached, f"{path.relative_to(ROOT)} imports the command line: {reached}"
