"""Worker processes that do not outlive the process that started them.

:func:`die_with_parent` is called at the start of every worker process (``forewarn
batch``'s pool, ``forewarn serve``'s scan processes). Should the parent die without
stopping its workers (``kill -9``, the OOM killer), the workers end too instead of
sleeping forever on a queue nobody feeds:

* on Linux the kernel sends them ``SIGKILL`` (``prctl(PR_SET_PDEATHSIG)``);
* everywhere, a daemon thread checks twice a second that the parent is still the same
  process (``os.getppid()`` changes when a process is re-parented) and ends the worker
  with ``os._exit`` otherwise. This also covers a ``forkserver`` worker, whose parent is
  the fork server (which exits when the process that started it dies).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time

__all__ = ["POLL_S", "die_with_parent"]

POLL_S = 0.5
"""How often the portable check looks at the parent, in seconds."""

_PR_SET_PDEATHSIG = 1


def die_with_parent(poll: float = POLL_S) -> None:
    """End this process when its parent dies (see the module's docstring). Call it first
    thing in a worker process; if the parent is already gone, it exits at once."""
    parent = os.getppid()
    expected = multiprocessing.parent_process()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    # Died before the line above? Then we were re-parented already: our parent is
    # neither the process that started us nor a fork server it started.
    if (expected is not None and expected.pid is not None and expected.pid != parent
            and not _started_by(parent, expected.pid)):
        os._exit(1)
    watcher = threading.Thread(target=_watch, args=(parent, poll), daemon=True,
                               name="forewarn-lifeline")
    watcher.start()


def _started_by(pid: int, parent: int) -> bool:
    """Whether process ``pid``'s parent is ``parent`` (a fork server started by it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return int(fields[1]) == parent
    except (OSError, IndexError, ValueError):
        return True  # cannot tell (no /proc): do not exit on a guess


def _watch(parent: int, poll: float) -> None:
    while True:
        time.sleep(poll)
        if os.getppid() != parent:
            os._exit(1)
