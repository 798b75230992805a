"""The reading copy in a real browser: Chromium driven by Playwright.

Skipped with a message when Playwright (``pip install playwright``) or Chromium (Debian:
``apt-get install chromium``) is missing. Set ``FOREWARN_REQUIRE_BROWSER=1`` (as CI does)
to make a missing browser a failure instead. ``FOREWARN_CHROMIUM`` overrides the browser
path (default ``/usr/bin/chromium``). Playwright's own browser downloads are never used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    decode_png,
    launched_chromium,
    require_browser,
)

from forewarn.cli import main

require_browser()

from playwright.sync_api import Browser, Page  # noqa: E402

FILLER = [
    "The tide turned at noon and the gulls wheeled over the harbour wall.",
    "Mara counted the crates on the quay and wrote the numbers in her little book.",
    "The radio in the pub played the shipping forecast twice, as it always did.",
    "Her sister's letters came on Tuesdays, full of trams and hats and shop windows.",
    "In the evening the lamps were lit one by one along the front.",
]
SCENE_ONE = (
    "He fell against the winch and the hook tore open his arm. Blood poured down his sleeve "
    "and pooled on the stones, and she pressed her scarf into the wound while he screamed."
)
SCENE_TWO = (
    "They found the old man dead in the barn, stiff and cold beside the stove, and her father "
    "buried him under the apple tree."
)
HOSTILE_TITLE = "Salt <script>window.__pwned=1</script> & Lamplight"


def story_text() -> str:
    def filler(n: int, start: int = 0) -> list[str]:
        return [FILLER[(start + i) % len(FILLER)] for i in range(n)]

    chapter_one = [*filler(6), SCENE_ONE, *filler(25, 6)]
    chapter_two = [
        *filler(3, 40),
        ('A stranger left a note: <script>window.__pwned=1</script> and '
         '<img src=x onerror="window.__pwned=1"> and <a href="javascript:alert(1)">this</a>.'),
        *filler(3, 50),
        SCENE_TWO,
        *filler(25, 60),
    ]
    return "\n\n".join([
        f"Title: {HOSTILE_TITLE}",
        'Author: A. Writer <img src=x onerror="alert(1)">',
        "Chapter 1: The Harbour",
        *chapter_one,
        "Chapter 2: Quiet <script>alert(2)</script>",
        *chapter_two,
    ]) + "\n"


@pytest.fixture(scope="module")
def copy_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reading copy of the test story, written by ``forewarn read``."""
    folder = tmp_path_factory.mktemp("reading")
    source = folder / "story.txt"
    source.write_text(story_text(), encoding="utf-8")
    out = folder / "story.html"
    assert main(["read", "--lexicon-only", str(source), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.count("<details") == 2, "the test story has two flagged scenes"
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_chromium() as launched:
        yield launched


class Watched:
    """A page with every dialog, request and console message recorded."""

    def __init__(self, browser: Browser, **context: Any) -> None:
        context.setdefault("reduced_motion", "reduce")
        context.setdefault("viewport", {"width": 900, "height": 700})
        self.context = browser.new_context(**context)
        self.page: Page = self.context.new_page()
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.console: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: self.console.append(message.text))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: Path) -> Page:
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_load_state("load")
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    w = Watched(browser)
    yield w
    w.close()


def in_view(page: Page, selector: str) -> bool:
    return bool(page.eval_on_selector(
        selector,
        "el => { const r = el.getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight; }",
    ))


def test_scenes_are_collapsed_by_default(watched: Watched, copy_path: Path):
    page = watched.open(copy_path)
    assert page.locator("details").count() == 2
    assert page.evaluate("[...document.querySelectorAll('details')].every(d => !d.open)")
    assert not page.get_by_text("Blood poured down his sleeve").is_visible()
    assert not page.get_by_text("found the old man dead").is_visible()
    # the notices and both controls are visible
    for n in (1, 2):
        assert page.locator(f"#scene-{n}-note").is_visible()
        assert page.locator(f"#scene-{n} summary").is_visible()
        assert page.locator(f'#scene-{n} a[href="#after-scene-{n}"]').is_visible()
    assert "Blood and gore (depicted)" in page.locator("#scene-1-note").inner_text()
    # the rest of the story is there and visible
    assert page.get_by_text(FILLER[0]).first.is_visible()


def test_show_this_scene_reveals_it(watched: Watched, copy_path: Path):
    page = watched.open(copy_path)
    page.locator("#scene-1").get_by_text("Show this scene").click()
    assert page.get_by_text("Blood poured down his sleeve").is_visible()
    assert page.locator("#scene-1").get_by_text("Hide this scene").is_visible()
    assert not page.get_by_text("found the old man dead").is_visible()
    # by keyboard: focus the second summary, press Enter
    page.locator("#scene-2 summary").focus()
    page.keyboard.press("Enter")
    assert page.get_by_text("found the old man dead").is_visible()
    # and closed again
    page.keyboard.press("Enter")
    assert not page.get_by_text("found the old man dead").is_visible()


def test_skip_moves_past_the_scene(watched: Watched, copy_path: Path):
    page = watched.open(copy_path)
    assert not in_view(page, "#after-scene-2")
    page.locator("#scene-2-note").scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    page.locator('#scene-2 a[href="#after-scene-2"]').click()
    page.wait_for_function("location.hash === '#after-scene-2'")
    page.wait_for_function(
        "() => { const r = document.getElementById('after-scene-2').getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight; }"
    )
    assert page.evaluate("window.scrollY") > before
    assert page.evaluate("document.activeElement.id") == "after-scene-2"
    # the scene stayed closed, and the next Tab goes on from after the scene
    assert not page.get_by_text("found the old man dead").is_visible()
    scene_bottom = page.eval_on_selector("#scene-2", "el => el.getBoundingClientRect().bottom")
    anchor_top = page.eval_on_selector("#after-scene-2", "el => el.getBoundingClientRect().top")
    assert scene_bottom <= anchor_top


def test_keyboard_focus_is_visible_and_skips_to_the_story(watched: Watched, copy_path: Path):
    page = watched.open(copy_path)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-to-story"
    assert page.locator(".skip-to-story").is_visible()
    style = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert style not in ("none", "")
    page.keyboard.press("Enter")
    page.wait_for_function("location.hash === '#story'")
    # tab order in a scene: the skip link, then the summary
    page.locator("#scene-1-note").scroll_into_view_if_needed()
    page.locator('#scene-1 a[href="#after-scene-1"]').focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_hostile_story_runs_no_script_and_loads_nothing(watched: Watched, copy_path: Path):
    page = watched.open(copy_path)
    page.wait_for_timeout(200)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert watched.dialogs == []
    assert page.evaluate("document.scripts.length") == 0
    assert page.evaluate("document.images.length") == 0
    assert page.title() == HOSTILE_TITLE
    assert page.locator("h1").inner_text() == HOSTILE_TITLE
    assert "<script>window.__pwned=1</script>" in page.locator("main").inner_text()
    # nothing but the file itself was requested
    assert watched.requests and all(u.startswith(("file://", "data:")) for u in watched.requests)
    assert all(u == copy_path.resolve().as_uri() for u in watched.requests
               if u.startswith("file://"))
    # the stylesheet was allowed by its hash (a blocked style would log a CSP error)
    assert not [m for m in watched.console if "Content Security Policy" in m]
    assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none"


def test_escaping_alone_keeps_scripts_inert(watched: Watched, copy_path: Path, tmp_path: Path):
    # positive control: this browser does run a live script and records the dialog
    watched.page.set_content("<script>window.__pwned = 1; alert('control')</script>")
    assert watched.page.evaluate("window.__pwned") == 1
    assert watched.dialogs == ["control"]
    watched.dialogs.clear()
    # the reading copy without its Content-Security-Policy is still inert
    page_text = copy_path.read_text(encoding="utf-8")
    start = page_text.index('<meta http-equiv="Content-Security-Policy"')
    stripped = page_text[:start] + page_text[page_text.index(">", start) + 1 :]
    assert "Content-Security-Policy" not in stripped
    bare = tmp_path / "no-csp.html"
    bare.write_text(stripped, encoding="utf-8")
    other = Watched(watched.page.context.browser)
    try:
        page = other.open(bare)
        page.wait_for_timeout(200)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert other.dialogs == []
        assert page.evaluate("document.scripts.length") == 0
    finally:
        other.close()


def test_works_with_javascript_off(browser: Browser, copy_path: Path):
    off = Watched(browser, java_script_enabled=False)
    try:
        page = off.open(copy_path)
        assert not page.get_by_text("Blood poured down his sleeve").is_visible()
        page.locator("#scene-1").get_by_text("Show this scene").click()
        assert page.get_by_text("Blood poured down his sleeve").is_visible()
        page.locator('#scene-2 a[href="#after-scene-2"]').click()
        page.wait_for_url("**#after-scene-2")
        assert in_view(page, "#after-scene-2")
    finally:
        off.close()


def test_small_screens_do_not_scroll_sideways(browser: Browser, copy_path: Path):
    phone = Watched(browser, viewport={"width": 360, "height": 740})
    try:
        page = phone.open(copy_path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main p'))"
                             ".fontSize) / parseFloat(getComputedStyle(document.documentElement)"
                             ".fontSize)")
        assert size >= 1.1
    finally:
        phone.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshot_is_not_blank(browser: Browser, copy_path: Path, tmp_path: Path, scheme: str):
    w = Watched(browser, color_scheme=scheme)
    try:
        page = w.open(copy_path)
        page.locator("#scene-1").get_by_text("Show this scene").click()
        shot = tmp_path / f"reading-copy-{scheme}.png"
        page.screenshot(path=str(shot), full_page=False)
        background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    finally:
        w.close()
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000, f"{shot}: {len(data)} bytes, suspiciously small"
    width, height, pixels = decode_png(data)
    assert (width, height) == (900, 700)
    colours: dict[bytes, int] = {}
    for pixel in pixels:
        colours[pixel] = colours.get(pixel, 0) + 1
    assert len(colours) > 16, "more than a few colours: text is drawn"
    most = max(colours.values())
    assert most < 0.97 * len(pixels), "not one colour all over"
    dominant = max(colours, key=lambda c: colours[c])
    dark = sum(dominant[:3]) < 3 * 128
    assert dark == (scheme == "dark"), (scheme, background)



def test_the_strips_are_visible_with_a_mark_per_piece_of_evidence(watched: Watched,
                                                                   copy_path: Path):
    from forewarn.ingest import read_path
    from forewarn.render.strip import describe, strips
    from forewarn.scanner import Scanner

    report = Scanner(lexicon_only=True).scan_work(read_path(copy_path.parent / "story.txt"))
    expected = strips(report)
    assert expected and all(s.marks for s in expected)
    page = watched.open(copy_path)
    svgs = page.locator("section.strips svg.strip-svg")
    assert svgs.count() == len(expected)
    for index, strip in enumerate(expected):
        svg = svgs.nth(index)
        assert svg.is_visible()
        box = svg.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] >= 16
        assert svg.get_attribute("role") == "img"
        assert svg.get_attribute("aria-label") == describe(strip)
        marks = svg.locator("rect.mark")
        assert marks.count() == len(strip.marks)
        # each mark is drawn where the geometry puts it, in screen pixels
        centres = sorted(
            (b["x"] + b["width"] / 2 - box["x"]) / box["width"]
            for b in (marks.nth(i).bounding_box() for i in range(marks.count())) if b)
        assert centres == pytest.approx(
            sorted(min(max(m.x, 2 / 600), 1 - 2 / 600) for m in strip.marks), abs=0.01)
        assert all(marks.nth(i).is_visible() for i in range(marks.count()))
    texts = page.locator("section.strips .strip-text").all_inner_texts()
    assert texts == [describe(s) for s in expected]
    # drawn within the copy's policy: no script, nothing refused
    assert page.evaluate("document.scripts.length") == 0
    assert not [m for m in watched.console if "Content Security Policy" in m]
    assert all(u.startswith(("file:", "data:")) for u in watched.requests)
