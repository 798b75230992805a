"""Jobs for the service's scan processes in tests: module-level, so a spawned process can
import them (and light, so it imports them quickly). Each returns ``(seconds, result)``
as a scan job does."""

from __future__ import annotations

import os
import time


def pid() -> tuple[float, int]:
    """The scan process's pid."""
    return 0.0, os.getpid()


def slow(seconds: float) -> tuple[float, int]:
    """Work (sleep) for ``seconds``, then say which process did."""
    time.sleep(seconds)
    return seconds, os.getpid()
