"""The output renderer registry: every format forewarn prints results in, registered once.

A renderer is one function plus one :func:`register_renderer` call (the model is
Datasette's ``register_output_renderer``). It declares the *kinds* of result it can
render; every command that prints results names its kind, and its ``--format`` choices
and help are generated from here (:func:`renderer_names`, :func:`format_help`), so a new
format reaches every command it applies to without editing them.

The kinds and what a renderer is given for each (``items``, an iterable consumed once,
produced lazily as the command works, so a renderer that writes as it goes streams):

================  ================================================================
``report``        ``scan``: a :class:`~forewarn.report.Report` or :class:`Failed` per
                  input, in order
``verdict``       ``check``: a :class:`~forewarn.verdict.Verdict` or :class:`Failed` per
                  input; ``options.meta["min_confidence"]``
``audit``         ``audit``: an :class:`~forewarn.audit.Audit` or :class:`Failed` per input
``stats``         ``stats``: one dict (``Store.stats()`` with ``store``)
``taxonomy``      ``taxonomy``: one :class:`~forewarn.taxonomy.Taxonomy`
``batch``         ``batch``: one :class:`~forewarn.batch.BatchSummary`
``export``        ``export``: one :class:`~forewarn.export.Export` (a store's works)
``eval``          ``eval``: one :class:`~forewarn.eval.report.EvalResult`
================  ================================================================

``render(kind, items, out, options)`` writes to ``out``: a text stream, or a binary one
for a renderer registered with ``binary=True`` (Parquet). The built-in renderers (text,
json, jsonl, csv, ao3, parquet) are registered in :mod:`forewarn.render.formats`, which
:func:`renderers` loads before answering. Every renderer neutralises story content for its
format: no terminal escapes in text, JSON that parses back to the same strings, CSV cells
that a spreadsheet cannot run as a formula, no markup in the AO3 line
(``tests/test_renderer_contract.py`` holds each one to it).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

__all__ = [
    "KINDS",
    "Failed",
    "RenderOptions",
    "Renderer",
    "format_help",
    "get_renderer",
    "register_renderer",
    "render",
    "render_to_string",
    "renderer_names",
    "renderers",
    "renderers_markdown",
    "unregister_renderer",
]

#: Every kind of result a command prints, and which command prints it.
KINDS: dict[str, str] = {
    "report": "scan",
    "verdict": "check",
    "audit": "audit",
    "stats": "stats",
    "taxonomy": "taxonomy",
    "batch": "batch",
    "export": "export",
    "eval": "eval",
}


@dataclass(frozen=True, slots=True)
class Failed:
    """An input that could not be read, in its place among a command's results."""

    source: str
    error: Exception

    @property
    def exit_code(self) -> int:
        return int(getattr(self.error, "exit_code", 1))

    def to_dict(self) -> dict[str, Any]:
        """``{"source", "error", "exit_code"}``: the error entry in a JSON array."""
        return {"source": self.source, "error": " ".join(str(self.error).split()),
                "exit_code": self.exit_code}


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """What a command tells its renderer: ``evidence`` (quote the story), ``colour`` (the
    output is a terminal that takes colour), ``by_chapter`` (scan's chapter table),
    ``strip`` (scan's strip per warning across the work),
    ``many`` (several inputs were given: JSON prints an array, ao3 prefixes each line
    with its source), and ``meta`` (per kind, see the module's table)."""

    evidence: bool = False
    colour: bool = False
    by_chapter: bool = False
    strip: bool = False
    many: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)


RenderFunction = Callable[[str, Iterable[Any], IO[Any], RenderOptions], None]


@dataclass(frozen=True, slots=True)
class Renderer:
    """One output format: ``name`` (what ``--format`` takes), the ``kinds`` it renders,
    ``render(kind, items, out, options)``, a short ``label`` for help, the ``media_type``
    of what it writes, ``binary`` (writes bytes), ``needs_file`` (cannot go to a
    terminal: the command needs ``-o FILE``)."""

    name: str
    kinds: frozenset[str]
    render: RenderFunction
    label: str
    media_type: str = "text/plain; charset=utf-8"
    binary: bool = False
    needs_file: bool = False


_RENDERERS: dict[str, Renderer] = {}
_BUILTINS_LOADED = False


def register_renderer(
    name: str,
    *,
    kinds: Iterable[str],
    render: RenderFunction,
    label: str | None = None,
    media_type: str = "text/plain; charset=utf-8",
    binary: bool = False,
    needs_file: bool = False,
    replace: bool = False,
) -> Renderer:
    """Register an output format; returns it. Raises ``ValueError`` for an unknown kind or
    a name already taken (``replace=True`` replaces it)."""
    name = name.strip().lower()
    kinds = frozenset(kinds)
    if not name or not kinds:
        raise ValueError("a renderer needs a name and at least one kind")
    unknown = sorted(kinds - KINDS.keys())
    if unknown:
        raise ValueError(f"renderer {name!r}: unknown kind {unknown[0]!r} "
                         f"(kinds: {', '.join(KINDS)})")
    _load_builtins()
    if name in _RENDERERS and not replace:
        raise ValueError(f"a renderer named {name!r} is already registered")
    renderer = Renderer(name, kinds, render, label or name, media_type, binary, needs_file)
    _RENDERERS[name] = renderer
    return renderer


def unregister_renderer(name: str) -> None:
    """Remove a renderer (tests, plugins replacing a built-in). Unknown names are ignored."""
    _RENDERERS.pop(name.lower(), None)


def renderers(kind: str | None = None) -> tuple[Renderer, ...]:
    """The registered renderers (for ``kind`` only, if given), in registration order."""
    _load_builtins()
    return tuple(r for r in _RENDERERS.values() if kind is None or kind in r.kinds)


def renderer_names(kind: str) -> tuple[str, ...]:
    """What ``--format`` takes for a command printing ``kind``: ``("text", "json")``..."""
    return tuple(r.name for r in renderers(kind))


def get_renderer(name: str, kind: str) -> Renderer:
    """The renderer ``name`` for ``kind``; ``KeyError`` if there is none."""
    for renderer in renderers(kind):
        if renderer.name == name.lower():
            return renderer
    raise KeyError(f"no {name!r} renderer for {kind} (formats: "
                   f"{', '.join(renderer_names(kind))})")


def format_help(kind: str, default: str = "text") -> str:
    """``--format``'s help for a command printing ``kind``, from the renderers' labels:
    "text (default); json: the JSON document; ao3: ..."."""
    parts = []
    for r in renderers(kind):
        parts.append(f"{r.name} (default)" if r.name == default else f"{r.name}: {r.label}")
    return "; ".join(parts)


def renderers_markdown() -> str:
    """The output formats as the markdown table docs/cli.md shows (a test keeps the two
    the same): each format, what it writes, and the commands that take it."""
    rows = ["| `--format` | writes | commands |", "|---|---|---|"]
    for r in renderers():
        commands = ", ".join(f"`{KINDS[k]}`" for k in KINDS if k in r.kinds)
        rows.append(f"| `{r.name}` | {r.label} | {commands} |")
    return "\n".join(rows) + "\n"


def render(name: str, kind: str, items: Iterable[Any], out: IO[Any],
           options: RenderOptions | None = None) -> None:
    """Render ``items`` of ``kind`` in format ``name`` to ``out``."""
    get_renderer(name, kind).render(kind, items, out, options or RenderOptions())


def render_to_string(name: str, kind: str, items: Iterable[Any],
                     options: RenderOptions | None = None) -> str | bytes:
    """What :func:`render` would write, as a string (bytes for a binary format)."""
    renderer = get_renderer(name, kind)
    out: io.BytesIO | io.StringIO = io.BytesIO() if renderer.binary else io.StringIO()
    renderer.render(kind, items, out, options or RenderOptions())
    return out.getvalue()


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        import forewarn.render.formats  # noqa: F401  (registers the built-ins)
