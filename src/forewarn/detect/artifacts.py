"""Model files: the errors a missing or altered one raises, and the sha256 check on load.

Every model file forewarn ships has its sha256 recorded beside it (a ``manifest.json``, or
``heads.json`` for the embedding heads). Every loader reads its files through
:func:`read_verified` or :func:`verify_sha256`, so a corrupt or modified copy is refused
with a :class:`ModelIntegrityError` that names the file, both hashes and how to rebuild it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from forewarn.errors import BrokenInstall

__all__ = ["ModelIntegrityError", "StaticModelError", "read_verified", "verify_sha256"]


class StaticModelError(BrokenInstall, RuntimeError):
    """A model's files are missing or unreadable (a broken install, not user input): one
    line and exit code 16 from the CLI, a 503 from the service."""


class ModelIntegrityError(StaticModelError):
    """A model file's sha256 does not match the one recorded for it."""


def verify_sha256(
    path: str | Path,
    expected: str,
    *,
    data: bytes | None = None,
    what: str = "model file",
    recorded_in: str = "manifest",
    remedy: str = "rebuild it",
) -> bytes:
    """The bytes of ``path`` once their sha256 is ``expected``.

    ``data`` is the file's content when the caller has read it already. The messages name
    ``what`` the file is, where its hash is ``recorded_in`` and the ``remedy`` besides
    reinstalling: :class:`ModelIntegrityError` on a mismatch, :class:`StaticModelError`
    when the file cannot be read.
    """
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StaticModelError(f"cannot read {what} {path}: {exc}") from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ModelIntegrityError(
            f"{what} {path} fails its integrity check: sha256 {actual}, "
            f"{recorded_in} says {expected}. The file is corrupt or was modified; reinstall "
            f"forewarn or {remedy}."
        )
    return data


def read_verified(
    model_dir: Path, name: str, manifest: Mapping[str, Any], what: str, rebuild: str
) -> bytes:
    """Read ``model_dir/name``, checked against the sha256 its ``manifest.json`` records
    (``manifest["files"][name]["sha256"]``); ``rebuild`` is the script that makes it."""
    try:
        expected = str(manifest["files"][name]["sha256"])
    except (KeyError, TypeError) as exc:
        raise StaticModelError(f"{model_dir / 'manifest.json'} has no sha256 for {name}") from exc
    return verify_sha256(
        model_dir / name,
        expected,
        what=f"{what} file",
        recorded_in="manifest",
        remedy=f"rebuild it with {rebuild}",
    )
