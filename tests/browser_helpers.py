"""Shared pieces of the browser tests: Debian's Chromium driven by Playwright.

The same policy as tests/test_reading_browser.py: skip with a message when Playwright
(``pip install playwright``) or Chromium (Debian: ``apt-get install chromium``) is
missing, unless ``FOREWARN_REQUIRE_BROWSER=1`` (as CI sets), which makes that a failure.
``FOREWARN_CHROMIUM`` overrides the browser path (default ``/usr/bin/chromium``).
Playwright's own browser downloads are never used (never run ``playwright install``).
"""

from __future__ import annotations

import contextlib
import os
import struct
import zlib
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest

CHROMIUM = os.environ.get("FOREWARN_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("FOREWARN_REQUIRE_BROWSER", "") not in ("", "0")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def unavailable(reason: str, *, module: bool = True) -> NoReturn:
    """Skip (or, with FOREWARN_REQUIRE_BROWSER=1, fail) because ``reason`` is missing."""
    message = f"browser tests need {reason}"
    if REQUIRED:
        pytest.fail(f"{message} (FOREWARN_REQUIRE_BROWSER is set)", pytrace=False)
    pytest.skip(message, allow_module_level=module)


def require_browser() -> None:
    """Skip the calling module unless Playwright imports and Chromium is executable."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("Playwright for Python: pip install playwright "
                    "(do not run `playwright install`)")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"Chromium at {CHROMIUM}: apt-get install chromium "
                    "(or set FOREWARN_CHROMIUM)")


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the RGB pixels of an 8-bit, non-interlaced PNG (stdlib only)."""
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    pixels: list[bytes] = []
    for row in range(height):
        start = row * (stride + 1)
        row_filter = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if row_filter == 1:
                line[i] = (line[i] + left) & 0xFF
            elif row_filter == 2:
                line[i] = (line[i] + up) & 0xFF
            elif row_filter == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif row_filter == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
                line[i] = (line[i] + predictor) & 0xFF
        pixels.extend(bytes(line[i : i + 3]) for i in range(0, stride, channels))
        previous = line
    return width, height, pixels


@contextlib.contextmanager
def launched_chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright, closed on exit (skips if it will not start)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except PlaywrightError as exc:
            unavailable(f"a Chromium that starts ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''})")
        yield browser
        browser.close()
