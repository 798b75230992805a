"""A small progress display for long runs, on standard error.

On a terminal, one line redrawn in place (at most ten times a second)::

    [#########...........]  412/1,000  41%  12.3 works/s  ETA 0:48  (200 skipped, 3 failed)

Elsewhere (a log file, CI), a plain line every ``interval`` seconds, so logs stay short::

    forewarn batch: 412/1,000 works (41%), 12.3 works/s, ETA 0:48, 200 skipped, 3 failed

The rate is measured over the last ``window`` seconds, so the ETA follows the current
speed rather than the average since the start (skipped works are fast; scanned ones are
not). No threads: the display is refreshed by :meth:`Progress.update` calls.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress", "format_duration"]


def format_duration(seconds: float) -> str:
    """``0:48``, ``12:05``, ``3:02:10``; ``?`` for an unknown or absurd value."""
    if seconds != seconds or seconds < 0 or seconds > 360 * 24 * 3600:  # NaN, negative, huge
        return "?"
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Works done of ``total`` (``None``: unknown), with rate and ETA, on ``stream``."""

    BAR_WIDTH = 24

    def __init__(
        self,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        tty: bool | None = None,
        interval: float = 5.0,
        enabled: bool = True,
        label: str = "forewarn batch",
        window: float = 30.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self.interval = interval
        self.enabled = enabled
        self.label = label
        self.window = window
        self._clock = clock or time.perf_counter
        self.started = self._clock()
        self.done = 0
        self.skipped = 0
        self.failed = 0
        self._samples: deque[tuple[float, int]] = deque([(self.started, 0)])
        self._last_draw = float("-inf")
        self._drawn = False

    # --- counting ------------------------------------------------------------------------
    def update(self, done: int = 0, *, skipped: int = 0, failed: int = 0,
               force: bool = False) -> None:
        """Add ``done`` finished works (of which ``skipped`` were skipped, ``failed`` failed)."""
        self.done += done
        self.skipped += skipped
        self.failed += failed
        now = self._clock()
        self._samples.append((now, self.done))
        while len(self._samples) > 2 and now - self._samples[1][0] > self.window:
            self._samples.popleft()
        if not self.enabled:
            return
        every = 0.1 if self.tty else self.interval
        if force or now - self._last_draw >= every:
            self._last_draw = now
            self._draw(now)

    @property
    def elapsed(self) -> float:
        return self._clock() - self.started

    def rate(self) -> float:
        """Works per second over the recent window (since the start if that is shorter)."""
        (t0, n0), (t1, n1) = self._samples[0], self._samples[-1]
        if t1 - t0 <= 0:
            return 0.0
        return (n1 - n0) / (t1 - t0)

    def eta(self) -> float | None:
        rate = self.rate()
        if self.total is None or rate <= 0:
            return None
        return max(0, self.total - self.done) / rate

    # --- drawing -------------------------------------------------------------------------
    def line(self) -> str:
        """The current state, in the plain (non-terminal) form."""
        parts = [f"{self.done:,}/{self.total:,} works ({self._percent()}%)"
                 if self.total else f"{self.done:,} works"]
        parts.append(f"{self.rate():.1f} works/s")
        eta = self.eta()
        if self.total is not None:
            parts.append(f"ETA {format_duration(eta) if eta is not None else '?'}")
        if self.skipped:
            parts.append(f"{self.skipped:,} skipped")
        if self.failed:
            parts.append(f"{self.failed:,} failed")
        return f"{self.label}: " + ", ".join(parts)

    def _percent(self) -> int:
        if not self.total:
            return 0
        return min(100, int(100 * self.done / self.total))

    def _bar_line(self) -> str:
        if self.total:
            filled = min(self.BAR_WIDTH, int(self.BAR_WIDTH * self.done / self.total))
            bar = "[" + "#" * filled + "." * (self.BAR_WIDTH - filled) + "]"
            width = len(f"{self.total:,}")
            head = f"{bar} {self.done:>{width},}/{self.total:,} {self._percent():>3}%"
        else:
            head = f"{self.done:,} works"
        eta = self.eta()
        text = f"{head}  {self.rate():.1f} works/s"
        if self.total is not None:
            text += f"  ETA {format_duration(eta) if eta is not None else '?'}"
        extra = [f"{n:,} {what}" for n, what in ((self.skipped, "skipped"),
                                                   (self.failed, "failed")) if n]
        if extra:
            text += f"  ({', '.join(extra)})"
        return text

    def _draw(self, now: float) -> None:
        try:
            if self.tty:
                self.stream.write("\r\x1b[2K" + self._bar_line())
                self._drawn = True
            else:
                self.stream.write(self.line() + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr must not stop the run
            self.enabled = False

    def close(self) -> None:
        """Finish the display: clear the terminal line (the caller prints a summary)."""
        if self.enabled and self.tty and self._drawn:
            try:
                self.stream.write("\r\x1b[2K")
                self.stream.flush()
            except (OSError, ValueError):
                pass
        self.enabled = False
