"""The confidence floor: its one default, and the one rule that picks a scan's floor.

A scan reports the warnings whose confidence reaches its floor. The floor is the one the
caller gives (``--min-confidence`` on the command line, ``min_confidence`` in a service
request), else the reader's profile's (``[settings] min_confidence``, for the commands
that read a profile), else :data:`DEFAULT_MIN_CONFIDENCE`. Every command and the service
pick it with :func:`confidence_floor`. This module imports nothing, so the CLI can show
the default in its help without loading the scanner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forewarn.profile import Profile

DEFAULT_MIN_CONFIDENCE = 0.5


def confidence_floor(given: float | None, profile: Profile | None = None) -> float:
    """``given`` if not None, else ``profile``'s floor if it sets one, else the default."""
    if given is not None:
        return given
    if profile is not None and profile.min_confidence is not None:
        return profile.min_confidence
    return DEFAULT_MIN_CONFIDENCE
