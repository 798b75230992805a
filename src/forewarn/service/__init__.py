"""forewarn as a service: an HTTP API and a web page (``forewarn serve``; docs/service.md).

Needs the ``serve`` extra (FastAPI, uvicorn, python-multipart). Importing this package is
cheap: :func:`create_app` loads the web stack on first use; :class:`Settings` needs none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forewarn.service.app import create_app
    from forewarn.service.settings import Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "Settings":
        from forewarn.service.settings import Settings

        return Settings
    if name == "create_app":
        from forewarn.service.app import create_app

        return create_app
    raise AttributeError(f"module 'forewarn.service' has no attribute {name!r}")
