"""What an operator can set: :class:`Settings`, and reading them from the environment.

``forewarn serve`` writes the settings as JSON to ``$FOREWARN_SERVICE_SETTINGS``; each
uvicorn worker process reads them back with :func:`settings_from_env`. This module needs
no web stack.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass

from forewarn.ingest import DEFAULT_MAX_BYTES

__all__ = ["ENV_SETTINGS", "Settings", "settings_from_env"]

ENV_SETTINGS = "FOREWARN_SERVICE_SETTINGS"
"""Environment variable holding the settings as JSON (how ``forewarn serve`` passes them
to each worker process)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What an operator can set (``forewarn serve`` options; see docs/service.md).

    ``scan_workers`` and ``max_queue`` are per HTTP worker process: each runs at most
    ``scan_workers`` scans at once (in as many spawned processes with
    ``scan_processes``, else in threads of its own) and lets at most ``max_queue`` more
    wait; it answers ``503`` beyond that. ``max_body_bytes`` is the ingest readers' limit
    (:data:`forewarn.ingest.DEFAULT_MAX_BYTES`, 32 MiB) unless set; all the bodies being
    received at once may hold at most ``max_buffered_bytes`` (``503`` beyond), and a body
    must arrive within ``body_timeout_s`` (``408``).
    """

    max_body_bytes: int = DEFAULT_MAX_BYTES
    max_buffered_bytes: int = 4 * DEFAULT_MAX_BYTES
    body_timeout_s: float = 30.0
    shutdown_grace_s: float = 8.0
    timeout_s: float = 60.0
    scan_workers: int = 1
    scan_processes: bool = False
    max_queue: int = 16
    lexicon_only: bool = False
    warm_up: bool = True
    access_log: bool = True
    # origins whose pages may call the API from a browser (CORS); none by default
    cors_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1 or self.max_buffered_bytes < 1:
            raise ValueError("max_body_bytes and max_buffered_bytes must be at least 1")
        if not self.body_timeout_s > 0 or self.shutdown_grace_s < 0:
            raise ValueError("body_timeout_s must be more than 0, shutdown_grace_s at least 0")
        if not self.timeout_s > 0:
            raise ValueError("timeout_s must be more than 0")
        if self.scan_workers < 1 or self.max_queue < 0:
            raise ValueError("scan_workers must be at least 1 and max_queue at least 0")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        if "cors_origins" in data:
            data["cors_origins"] = tuple(data["cors_origins"])
        return cls(**{k: v for k, v in data.items() if k in names})


def settings_from_env() -> Settings:
    """The settings in ``$FOREWARN_SERVICE_SETTINGS`` (JSON), or the defaults when it is
    not set."""
    raw = os.environ.get(ENV_SETTINGS)
    return Settings.from_json(raw) if raw else Settings()
