"""forewarn as a service: an HTTP API and a web page (``forewarn serve``; docs/service.md).

Needs the ``serve`` extra (FastAPI, uvicorn, python-multipart). Importing this package is
cheap; :func:`create_app` and :class:`Settings` load the web stack on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forewarn.service.app import Settings, create_app

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from forewarn.service import app

        return getattr(app, name)
    raise AttributeError(f"module 'forewarn.service' has no attribute {name!r}")
