"""The web page of ``forewarn serve`` in a real browser: headless Chromium via Playwright.

uvicorn serves the app on 127.0.0.1 (a free port, in a thread); the page is driven as a
reader would: paste or upload a story, choose triggers, read the verdict, reveal the
evidence, open the reading copy. Skipped with a message when Playwright or Chromium is
missing, unless FOREWARN_REQUIRE_BROWSER=1 (see tests/browser_helpers.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (
    decode_png,
    launched_chromium,
    require_browser,
)

pytest.importorskip("fastapi", reason="the service needs the serve extra (fastapi)")
uvicorn = pytest.importorskip("uvicorn", reason="the service needs the serve extra (uvicorn)")
require_browser()

from ingest_helpers import EpubSpec, build_epub  # noqa: E402
from playwright.sync_api import Browser, Page  # noqa: E402

from forewarn.service.app import create_app  # noqa: E402
from forewarn.service.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "the-lighthouse-keeper.txt"
PAYLOAD = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1">'
HOSTILE = f"""Title: Harbour {PAYLOAD}

Chapter 1

The tide turned at noon and the gulls wheeled over the harbour wall.

He fell against the winch and the hook tore open his arm. Blood poured down his sleeve {PAYLOAD} and pooled on the stones, and she pressed her scarf into the wound.

In the evening the lamps were lit one by one along the front.
"""


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = create_app(Settings(access_log=False))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched_chromium() as launched:
        yield launched


class Visit:
    """A fresh browser context on the page, recording dialogs, requests and console."""

    def __init__(self, browser: Browser, base_url: str, **context: Any) -> None:
        context.setdefault("viewport", {"width": 1000, "height": 900})
        context.setdefault("reduced_motion", "reduce")
        self.base_url = base_url
        self.context = browser.new_context(**context)
        self.page: Page = self.context.new_page()
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.console: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page.on("dialog", self._dialog)
        self.page.on("console", lambda message: self.console.append(message.text))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self) -> Page:
        self.page.goto(self.base_url + "/")
        self.page.wait_for_selector("body[data-ready=true]")
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Browser, base_url: str) -> Iterator[Visit]:
    v = Visit(browser, base_url)
    yield v
    v.close()


def choose(page: Page, search: str, warning_id: str, severity: str | None = None) -> None:
    page.get_by_label("Find a warning by name or alias").fill(search)
    page.locator(f"#t-{warning_id}").check()
    if severity:
        page.locator(f"#s-{warning_id}").select_option(severity)


def check_story(page: Page) -> None:
    page.get_by_role("button", name="Check the story").click()
    page.wait_for_selector("#results:not([hidden]) #warnings li")


def test_paste_a_story_pick_a_trigger_and_see_the_verdict(visit: Visit):
    page = visit.open()
    page.get_by_label("Paste the story").fill(EXAMPLE.read_text(encoding="utf-8"))
    # an alias finds its warning: "mc" is Miscarriage
    page.get_by_label("Find a warning by name or alias").fill("mc")
    assert page.locator("li.trigger[data-id=miscarriage]").is_visible()
    assert not page.locator("li.trigger[data-id=blood-gore]").is_visible()
    assert "match" in page.locator("#trigger-count").inner_text()
    choose(page, "blood", "blood-gore", "depicted")
    assert page.locator("#s-miscarriage").is_disabled()  # not chosen: no severity to pick
    assert not page.locator("#s-blood-gore").is_disabled()
    check_story(page)
    summary = page.locator("#results-summary").inner_text()
    assert summary.startswith("Not safe for your list")
    assert page.locator(".verdict").inner_text() == "Not safe for your list"
    verdict = page.locator(".verdict-list li").all_inner_texts()
    assert len(verdict) == 1 and "Blood and gore" in verdict[0] and "chapter 2" in verdict[0]
    found = page.locator("#warnings li.warning").all_inner_texts()
    names = [line.split(" — ")[0].split(None, 1)[1] for line in found]
    assert names[0] == "Blood and gore"
    assert {"Death", "Addiction"} <= set(names[1:])
    ranks = [["mentioned", "depicted", "GRAPHIC"].index(line.split()[0]) for line in found]
    assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[-1]  # strongest first
    assert "Declared by the author: Death" in page.locator("#declared").inner_text()
    # spoiler-free until asked
    toggle = page.locator("#toggle-evidence")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.locator("#warnings q").count() == 0
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.locator("#warnings q").count() > 0
    assert page.locator("#warnings q").first.inner_text().strip()
    toggle.click()
    assert page.locator("#warnings q").count() == 0
    # focus moved to the results heading; the summary is a live region
    assert page.locator("#results-summary").get_attribute("aria-live") == "polite"
    # nothing but this server was asked for anything
    assert all(u.startswith((visit.base_url, "data:", "blob:")) for u in visit.requests)
    assert not [m for m in visit.console if "Content Security Policy" in m]


@pytest.mark.usefixtures("measured_recall")
def test_the_page_says_uncertain_and_why_and_safe_only_when_it_can(visit: Visit):
    page = visit.open()
    page.get_by_label("Paste the story").fill(EXAMPLE.read_text(encoding="utf-8"))
    choose(page, "self-harm", "self-harm")  # not in the story; too rare in held-out data
    check_story(page)
    assert page.locator("#results-summary").inner_text().startswith("Uncertain for your list")
    assert page.locator(".verdict").inner_text() == "Uncertain for your list"
    reasons = page.locator(".verdict-reasons li").all_inner_texts()
    assert any("Self-harm" in r and "finding nothing says little" in r for r in reasons)
    page.locator("#t-self-harm").uncheck()
    choose(page, "dissection", "dissection")  # not in the story; forewarn is good at it
    check_story(page)
    assert page.locator(".verdict").inner_text() == "Safe for your list"
    assert page.locator(".verdict-reasons").count() == 0


def test_a_story_in_french_is_not_checked(visit: Visit):
    page = visit.open()
    page.get_by_label("Paste the story").fill(
        "Elle avait pris toutes les pilules du flacon. Le lendemain matin, sa soeur la "
        "trouva sans vie dans la chambre froide, et personne ne comprit pourquoi.\n\n"
        "Le médecin arriva trop tard. Il ferma les yeux de la jeune femme et resta "
        "longtemps silencieux devant la fenêtre.\n")
    choose(page, "dissection", "dissection")
    page.get_by_role("button", name="Check the story").click()
    page.wait_for_selector("#results:not([hidden]) .verdict")
    assert page.locator(".verdict").inner_text().startswith("Not checked")
    assert "French" in page.locator(".verdict-reasons").inner_text()


def test_without_triggers_every_warning_is_listed(visit: Visit):
    page = visit.open()
    page.get_by_label("Paste the story").fill(EXAMPLE.read_text(encoding="utf-8"))
    check_story(page)
    assert "You chose no warnings" in page.locator("#verdict").inner_text()
    import forewarn

    expected = len(forewarn.scan(EXAMPLE).warnings)
    assert expected >= 4 and page.locator("#warnings li.warning").count() == expected


def test_upload_an_epub(visit: Visit, tmp_path: Path):
    epub = build_epub(EpubSpec(
        title="The Winch",
        documents=[("ch1.xhtml", "<h2>Chapter 1</h2><p>The tide turned at noon.</p>"
                    "<p>He fell against the winch and the hook tore open his arm. Blood "
                    "poured down his sleeve and pooled on the stones.</p>")],
    ))
    path = tmp_path / "winch.epub"
    path.write_bytes(epub)
    page = visit.open()
    page.get_by_label("Or choose a file (.txt, .md, AO3 .html or .epub)").set_input_files(path)
    assert "winch.epub" in page.locator("#file-note").inner_text()
    assert page.locator("#story-text").is_disabled()
    choose(page, "gore", "blood-gore")
    check_story(page)
    assert "“The Winch”" in page.locator("#results-summary").inner_text()
    assert "Not safe" in page.locator(".verdict").inner_text()
    assert "Blood and gore" in page.locator("#warnings").inner_text()
    page.get_by_role("button", name="Remove the file").click()
    assert not page.locator("#story-text").is_disabled()


def test_open_the_reading_copy_and_reveal_a_scene(visit: Visit):
    page = visit.open()
    page.get_by_label("Paste the story").fill(EXAMPLE.read_text(encoding="utf-8"))
    choose(page, "blood", "blood-gore")
    check_story(page)
    page.get_by_role("button", name="Make a reading copy").click()
    link = page.locator("#open-copy")
    link.wait_for()
    assert (link.get_attribute("href") or "").startswith("blob:")
    assert page.locator("#download-copy").get_attribute("download") == "reading-copy.html"
    with visit.context.expect_page() as opened:
        link.click()
    copy = opened.value
    copy.wait_for_load_state("load")
    assert copy.title() == "The Lighthouse Keeper"
    scenes = copy.locator("details")
    assert scenes.count() >= 1
    assert copy.evaluate("[...document.querySelectorAll('details')].every(d => !d.open)")
    first = copy.locator("details").first
    hidden = first.locator("p").first
    assert not hidden.is_visible()
    first.locator("summary").click()
    assert hidden.is_visible()
    # its stylesheet was allowed (by hash) although the copy came from a blob: URL
    assert copy.evaluate("getComputedStyle(document.body).maxWidth") != "none"
    # with a strip per warning on the list, its marks drawn
    strip = copy.locator("section.strips svg.strip-svg")
    assert strip.count() == 1 and strip.is_visible()
    label = strip.get_attribute("aria-label") or ""
    assert label.startswith("Blood and gore: ") and "chapter 2" in label
    assert strip.locator("rect.mark").count() >= 1
    copy.close()


def test_story_markup_never_runs(visit: Visit):
    page = visit.open()
    page.get_by_label("Paste the story").fill(HOSTILE)
    choose(page, "blood", "blood-gore")
    check_story(page)
    page.locator("#toggle-evidence").click()
    page.get_by_role("button", name="Make a reading copy").click()
    page.locator("#open-copy").wait_for()
    with visit.context.expect_page() as opened:
        page.locator("#open-copy").click()
    copy = opened.value
    copy.wait_for_load_state("load")
    copy.locator("details summary").first.click()
    page.wait_for_timeout(300)
    for p in (page, copy):
        assert p.evaluate("typeof window.__pwned") == "undefined"
        assert p.evaluate("document.images.length") == 0
    assert visit.dialogs == []
    # shown as text, exactly
    assert PAYLOAD in page.locator("#results-summary").inner_text()
    assert "sleeve <script>window." in page.locator("#warnings").inner_text()  # a quote
    assert page.evaluate("document.scripts.length") == 1  # app.js only
    assert "<script>window.__pwned=1</script>" in copy.locator("main").inner_text()
    assert copy.evaluate("document.scripts.length") == 0
    assert all(u.startswith((visit.base_url, "data:", "blob:")) for u in visit.requests)


def test_a_saved_list_stays_in_this_browser(visit: Visit):
    page = visit.open()
    choose(page, "mc", "miscarriage", "depicted")
    page.get_by_label("Remember my list in this browser", exact=False).check()
    stored = page.evaluate("localStorage.getItem('forewarn.profile.v1')")
    assert stored == '{"avoid":{"miscarriage":"depicted"}}'
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#t-miscarriage").is_checked()
    assert page.locator("#s-miscarriage").input_value() == "depicted"
    assert "Miscarriage" in page.locator("#chosen-summary").inner_text()
    page.get_by_role("button", name="Forget my saved list").click()
    assert page.evaluate("localStorage.getItem('forewarn.profile.v1')") is None
    # nothing about the list went to the server until a check (none here)
    assert not [u for u in visit.requests if "/v1/check" in u or "/v1/scan" in u]


def test_keyboard_and_screen_reader_basics(visit: Visit):
    page = visit.open()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    # every form control has an accessible name
    unnamed = page.evaluate("""() => [...document.querySelectorAll(
        'input, select, textarea, button')].filter(el => !(el.labels && el.labels.length)
        && !el.getAttribute('aria-label') && !el.textContent.trim()).map(el => el.id)""")
    assert unnamed == []
    # the whole flow by keyboard: type the story, tick a warning with Space, submit
    page.get_by_label("Paste the story").focus()
    page.keyboard.type("Chapter 1\n\nBlood poured down his arm and pooled on the stones.")
    page.get_by_label("Find a warning by name or alias").focus()
    page.keyboard.type("blood")
    page.locator("#t-blood-gore").focus()
    page.keyboard.press("Space")
    assert page.locator("#t-blood-gore").is_checked()
    page.locator("#check-button").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#results:not([hidden]) #warnings li")
    assert page.evaluate("document.activeElement.id") == "results-heading"
    assert page.locator("#form-error").get_attribute("role") == "alert"


def test_errors_are_shown_in_words(visit: Visit):
    page = visit.open()
    page.get_by_role("button", name="Check the story").click()
    assert "Paste a story" in page.locator("#form-error").inner_text()
    page.locator("#story-file").set_input_files(
        {"name": "cover.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + bytes(64)})
    page.get_by_role("button", name="Check the story").click()
    page.wait_for_selector("#form-error:not(:empty)")
    message = page.locator("#form-error").inner_text()
    assert message.startswith("This file cannot be read") and "cover.png" in message
    assert page.locator("#results").is_hidden()


def test_phone_screen_and_a_screenshot_that_is_not_blank(browser: Browser, base_url: str,
                                                          tmp_path: Path):
    phone = Visit(browser, base_url, viewport={"width": 360, "height": 740},
                  device_scale_factor=1, is_mobile=True, has_touch=True)
    try:
        page = phone.open()
        page.get_by_label("Paste the story").fill(EXAMPLE.read_text(encoding="utf-8"))
        choose(page, "blood", "blood-gore")
        check_story(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.locator("#results").scroll_into_view_if_needed()
        shot = tmp_path / "result-page.png"
        page.screenshot(path=str(shot))
    finally:
        phone.close()
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    width, height, pixels = decode_png(data)
    assert (width, height) == (360, 740)
    colours: dict[bytes, int] = {}
    for pixel in pixels:
        colours[pixel] = colours.get(pixel, 0) + 1
    assert len(colours) > 16, "text is drawn"
    assert max(colours.values()) < 0.97 * len(pixels), "not one colour all over"


def test_an_exact_alias_is_listed_first_and_clearing_restores_the_order(visit: Visit):
    page = visit.open()
    search = page.get_by_label("Find a warning by name or alias")
    first_before = page.locator("#trigger-list li.trigger").first.get_attribute("data-id")
    search.fill("mc")  # Miscarriage's alias; "mcd" (Death's) only starts with it
    visible = [li.get_attribute("data-id")
               for li in page.locator("#trigger-list li.trigger:visible").all()]
    assert visible[0] == "miscarriage" and "death" in visible
    search.fill("")
    assert page.locator("#trigger-list li.trigger").first.get_attribute("data-id") == \
        first_before


def test_checking_with_a_list_sends_one_request(visit: Visit):
    page = visit.open()
    page.get_by_label("Paste the story").fill(EXAMPLE.read_text(encoding="utf-8"))
    choose(page, "blood", "blood-gore", "depicted")
    before = len(visit.requests)
    check_story(page)
    posts = [u for u in visit.requests[before:] if "/v1/" in u]
    assert len(posts) == 1 and "/v1/check" in posts[0]
    assert page.locator("#warnings li.warning").count() >= 4  # the report came with it


# --- the trigger picker: groups, search, aliases ------------------------------------------


def test_groups_are_collapsed_so_the_page_is_short(browser: Browser, base_url: str):
    from forewarn.taxonomy import load_taxonomy

    tax = load_taxonomy()
    for viewport, most in (({"width": 1280, "height": 900}, 2000),
                           ({"width": 360, "height": 740}, 3200)):
        v = Visit(browser, base_url, viewport=viewport)
        try:
            page = v.open()
            height = page.evaluate("document.documentElement.scrollHeight")
            assert height < most, (viewport, height)
            groups = page.locator("#trigger-list details.group")
            assert groups.count() == len(tax.groups)
            assert page.evaluate("[...document.querySelectorAll('#trigger-list details')]"
                                 ".every(d => !d.open)")
            assert page.locator("#trigger-list li.trigger:visible").count() == 0
            assert page.locator("#trigger-list li.trigger").count() == len(tax.warnings)
            # the search is above the groups, the check button within two screens
            search = page.locator("#trigger-search").bounding_box()
            first = groups.first.bounding_box()
            assert search and first and search["y"] < first["y"]
            button = page.locator("#check-button").bounding_box()
            assert button and button["y"] < 2 * viewport["height"] + 400
        finally:
            v.close()


def test_a_group_summary_counts_the_chosen_ones(visit: Visit):
    from forewarn.taxonomy import load_taxonomy

    page = visit.open()
    group = page.locator("#trigger-list details[data-group=pregnancy]")
    size = len(load_taxonomy().in_group("pregnancy"))
    assert group.locator(".group-count").inner_text() == f"({size} warnings)"
    group.locator("summary").click()  # opened by hand
    assert group.evaluate("d => d.open")
    page.locator("#t-miscarriage").check()
    assert group.locator(".group-count").inner_text() == f"(1 of {size} chosen)"


def test_searching_opens_the_group_with_matches_and_clearing_restores(visit: Visit):
    page = visit.open()
    search = page.get_by_label("Find a warning by name or alias")
    page.locator("#trigger-list details[data-group=medical] summary").click()  # the reader's
    search.fill("miscarriage")
    open_groups = page.evaluate("[...document.querySelectorAll('#trigger-list details')]"
                                ".filter(d => d.open && !d.hidden).map(d => d.dataset.group)")
    assert open_groups == ["pregnancy"]
    assert page.locator("li.trigger[data-id=miscarriage]").is_visible()
    assert page.locator("#trigger-list details.group:visible").count() == 1
    search.fill("sh")  # an alias: self-harm, in mental health
    assert page.locator("li.trigger[data-id=self-harm]").is_visible()
    assert page.locator("#trigger-list details[data-group=mental-health]").evaluate(
        "d => d.open")
    search.fill("")
    state = page.evaluate("Object.fromEntries([...document.querySelectorAll("
                          "'#trigger-list details')].map(d => [d.dataset.group, d.open]))")
    assert state == {g: g == "medical" for g in state}  # as before the search
    assert page.locator("#trigger-list details.group:visible").count() == len(state)


def test_names_resolve_as_the_cli_resolves_them(visit: Visit):
    from forewarn.taxonomy import load_taxonomy

    tax = load_taxonomy()
    page = visit.open()
    names: list[str] = []
    for w in tax.warnings:
        for label in (w.id, w.name, *w.aliases):
            names += [label, label.upper(), label.replace(" ", "_"), label.replace(" ", ""),
                      label.replace("-", " "), f"{label}s", f"  {label} "]
    names += ["mc", "sh", "Self_Harm", "selfharm", "Blood & Gore", "nonsense", "", "!!"]
    resolved = page.evaluate("names => names.map(n => window.forewarnPage.resolve(n))", names)
    expected = [(found.id if (found := tax.resolve(n)) else None) for n in names]
    assert resolved == expected


def test_a_typed_list_and_a_saved_list_honour_aliases(visit: Visit):
    page = visit.open()
    page.get_by_label("Or type your list", exact=False).fill("mc, SH, the gore, nonsense")
    page.get_by_role("button", name="Add to my list").click()
    assert page.locator("#t-miscarriage").is_checked()
    assert page.locator("#t-self-harm").is_checked()
    note = page.locator("#list-note").inner_text()
    assert "“nonsense”" in note and "Miscarriage" in note
    assert page.locator("#chosen-summary").inner_text().startswith(
        "Your list: Miscarriage (any mention); Self-harm (any mention)")
    # Enter adds, and does not send the form
    box = page.get_by_label("Or type your list", exact=False)
    box.fill("blood")
    box.press("Enter")
    assert page.locator("#t-blood-gore").is_checked()
    assert page.locator("#results").is_hidden()
    # a list kept by hand in this browser may say "mc" too
    page.evaluate("localStorage.setItem('forewarn.profile.v1', "
                  "JSON.stringify({avoid: {mc: 'depicted', 'Self_Harm': 'graphic'}}))")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#t-miscarriage").is_checked()
    assert page.locator("#s-miscarriage").input_value() == "depicted"
    assert page.locator("#s-self-harm").input_value() == "graphic"


@pytest.mark.usefixtures("measured_recall")
def test_under_the_verdict_the_readers_list_comes_first_in_their_order(visit: Visit):
    page = visit.open()
    page.get_by_label("Paste the story").fill(EXAMPLE.read_text(encoding="utf-8"))
    box = page.get_by_label("Or type your list", exact=False)
    box.fill("sh, blood, dissection")
    box.press("Enter")
    check_story(page)
    entries = page.locator(".verdict-list li")
    assert [entries.nth(i).get_attribute("data-id") for i in range(entries.count())] == [
        "self-harm", "blood-gore", "dissection"]
    assert [entries.nth(i).get_attribute("data-status") for i in range(entries.count())] == [
        "uncertain", "found", "not-found"]
    texts = entries.all_inner_texts()
    assert texts[0].startswith("Uncertain Self-harm")
    assert texts[1].startswith("Found Blood and gore") and "chapter 2" in texts[1]
    assert texts[2] == "Not found Dissection"
    # then the other warnings found, none of them on the list
    others = [li.get_attribute("data-id") for li in page.locator(".verdict-others li").all()]
    assert others and not {"self-harm", "blood-gore", "dissection"} & set(others)
    assert {"death", "addiction"} <= set(others)
    verdict_text = page.locator("#verdict").inner_text()
    assert verdict_text.index("Your list") < verdict_text.index("Also found, not on your list")
    # in the full list too, the reader's warnings first
    assert page.locator("#warnings li.warning").first.inner_text().split(" — ")[0].endswith(
        "Blood and gore")
    assert "on your list" in page.locator("#warnings li.warning").first.inner_text()


# --- the strips on the page -------------------------------------------------------------------


def test_the_page_draws_a_strip_per_warning_with_a_mark_per_piece_of_evidence(visit: Visit):
    from forewarn.render.strip import Mark, Strip, describe, mark_x

    page = visit.open()
    story = EXAMPLE.read_text(encoding="utf-8")
    page.get_by_label("Paste the story").fill(story)
    check_story(page)
    # the same report the page got (one scan of the same text by the same server)
    report = page.request.post(f"{visit.base_url}/v1/scan?evidence=true",
                               data={"text": story}).json()
    found = [w for w in report["warnings"] if w["evidence"]]
    assert len(found) >= 4
    strips = page.locator("#strips li.strip")
    assert strips.count() == len(found)
    chapters = report["chapters"]
    shown = {strips.nth(i).get_attribute("data-warning"): strips.nth(i)
             for i in range(strips.count())}
    for w in found:
        item = shown[w["id"]]
        svg = item.locator("svg.strip-svg")
        assert svg.is_visible() and svg.get_attribute("role") == "img"
        marks = svg.locator("rect.mark")
        assert marks.count() == len(w["evidence"])
        xs = sorted(float(marks.nth(i).get_attribute("x")) + 2 for i in range(marks.count()))
        expected = sorted(min(max(600 * mark_x(e["chapter"], e["position"], chapters), 2), 598)
                          for e in w["evidence"])
        assert xs == pytest.approx(expected)
        strip = Strip(w["id"], w["name"], w["severity"], chapters, tuple(
            Mark(mark_x(e["chapter"], e["position"], chapters), e["chapter"], e["position"],
                 e["severity"]) for e in w["evidence"]))
        assert item.locator(".strip-text").inner_text() == describe(strip)
        assert svg.get_attribute("aria-label") == describe(strip)
        assert svg.locator("title").text_content() == describe(strip)
    assert not [m for m in visit.console if "Content Security Policy" in m]
