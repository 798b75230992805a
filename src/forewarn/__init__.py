"""forewarn: content warnings for fiction, with where and how strong, without spoilers.

The public API is :func:`scan`, :class:`Scanner` and :class:`Report`::

    import forewarn
    report = forewarn.scan("examples/the-lighthouse-keeper.txt")
    for w in report.warnings:
        print(w.id, w.severity, w.confidence)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Report", "Scanner", "__version__", "scan"]

if TYPE_CHECKING:
    from forewarn.report import Report
    from forewarn.scanner import Scanner, scan


def __getattr__(name: str) -> Any:
    # Imported on first use so that `import forewarn.work` (and the CLI's start) stays cheap.
    if name == "Report":
        from forewarn.report import Report

        return Report
    if name in ("Scanner", "scan"):
        from forewarn import scanner

        return getattr(scanner, name)
    raise AttributeError(f"module 'forewarn' has no attribute {name!r}")
