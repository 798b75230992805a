"""Content hashes: how a batch tells whether a work changed since it was stored."""

from __future__ import annotations

import hashlib


def sha256_bytes(data: bytes) -> str:
    """The hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    """The hex SHA-256 of ``text`` as UTF-8 (lone surrogates kept, as JSON can carry them)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
