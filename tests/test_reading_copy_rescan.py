"""A reading copy forewarn wrote, scanned again, reads as the story it was made from (issue 14).

The copy's scene notices ("Collapsed scene 1 of 2: Miscarriage (depicted)", "Content note:
the next scene contains ..."), its controls and its header are forewarn's words: they are
marked (``data-forewarn``) and the HTML and EPUB readers leave them out, so the warnings
of the copy are the warnings of the original.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from forewarn.cli import main
from forewarn.ingest import read_bytes, read_path
from forewarn.render.epub import render_epub
from forewarn.render.html import render_html
from forewarn.report import Report
from forewarn.scanner import Scanner
from forewarn.scenes import flagged_scenes
from forewarn.work import Work

ROOT = Path(__file__).resolve().parent.parent
STORIES = [ROOT / "examples" / "the-lighthouse-keeper.txt",
           ROOT / "tests" / "fixtures" / "stories" / "quiet-months.txt"]
PROFILE = ROOT / "tests" / "fixtures" / "profiles" / "reader.toml"
# every text forewarn writes around the story in a copy
OWN_WORDS = ("Collapsed scene", "Content note", "Skip to after this scene", "Show this scene",
             "Hide this scene", "End of collapsed scene", "Skip to the story", "words ·",
             "Each collapsed scene", "A note before each marked scene", "Contents")


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner()


def warnings(report: Report) -> list[tuple[str, str, float, list[str]]]:
    return [(w.id, w.severity, round(w.confidence, 4), [loc.describe() for loc in w.locations])
            for w in report.warnings]


def paragraphs(work: Work) -> list[list[str]]:
    return [[p.text for p in chapter.paragraphs] for chapter in work.chapters]


def assert_story_only(copy: Work, original: Work) -> None:
    assert paragraphs(copy) == paragraphs(original)
    for words in OWN_WORDS:
        assert words not in copy.source_text, words
    assert copy.coverage is not None and copy.coverage.fully_read, copy.coverage


@pytest.mark.parametrize("story", STORIES, ids=lambda p: p.stem)
@pytest.mark.parametrize("suffix", [".html", ".epub"])
def test_a_reading_copy_scanned_again_gives_the_original_warnings(
        story: Path, suffix: str, tmp_path: Path, scanner: Scanner, monkeypatch) -> None:
    monkeypatch.delenv("FOREWARN_ENGINE", raising=False)
    copy = tmp_path / f"copy{suffix}"
    assert main(["read", "--profile", str(PROFILE), str(story), "-o", str(copy)]) == 0
    data = copy.read_bytes()
    marked = data if suffix == ".html" else _chapters(data)
    assert b'data-forewarn="notice"' in marked  # the copy collapsed at least one scene
    original, again = read_path(story), read_path(copy)
    assert again.format == suffix[1:]
    assert_story_only(again, original)
    assert warnings(scanner.scan_work(again)) == warnings(scanner.scan_work(original))


@pytest.mark.parametrize("render", ["html", "epub"])
def test_every_scene_collapsed_without_a_profile_is_read_as_story(
        render: str, scanner: Scanner) -> None:
    original = read_path(STORIES[1])
    report = scanner.scan_work(original)
    scenes = flagged_scenes(original, report, None)  # every warning found: several notices
    assert len(scenes) >= 2
    if render == "html":
        data = render_html(original, scenes, profile=False).encode()
    else:
        data = render_epub(original, scenes, profile=False)
    again = read_bytes(data, f"copy.{render}")
    assert_story_only(again, original)
    assert warnings(scanner.scan_work(again)) == warnings(report)


@pytest.mark.parametrize("render", ["html", "epub"])
def test_copies_written_before_the_markers_are_recognised_by_their_classes(
        render: str, scanner: Scanner) -> None:
    original = read_path(STORIES[0])
    scenes = flagged_scenes(original, scanner.scan_work(original), None)
    if render == "html":
        data = _unmark(render_html(original, scenes).encode())
    else:
        data = _rezip(render_epub(original, scenes), _unmark)
    assert b"data-forewarn" not in data
    assert_story_only(read_bytes(data, f"old.{render}"), original)


def test_the_copy_keeps_the_title_and_author() -> None:
    original = read_path(ROOT / "examples" / "the-lighthouse-keeper.txt")
    for data, name in ((render_html(original, []).encode(), "c.html"),
                       (render_epub(original, []), "c.epub")):
        again = read_bytes(data, name)
        assert (again.title, again.author) == (original.title, original.author)


STORY = ("<p>The storm broke over the harbour and the boats strained at their ropes.</p>"
         '<p data-forewarn="notice">Collapsed scene 1 of 1: Death (depicted)</p>')


def test_a_story_cannot_hide_its_text_behind_the_marker() -> None:
    # forewarn's marker on prose that is not forewarn's wording: read as story
    page = ('<!DOCTYPE html><html><head><meta name="generator" content="forewarn 0.1.0">'
            '<title>T</title></head><body>'
            '<p data-forewarn="notice">He drowned in the harbour while they watched.</p>'
            '<p class="scene-note">Then the storm came, and the lights went out one by one.</p>'
            '<nav class="contents" data-forewarn="page"><a href="https://x.invalid/">'
            'Elsewhere</a> and prose around the link, read as it always was.</nav>'
            f"{STORY}</body></html>")
    work = read_bytes(page.encode(), "x.html")
    text = work.source_text
    assert "He drowned in the harbour while they watched." in text
    assert "Then the storm came" in text
    assert "prose around the link" in text
    # the notice wording itself is forewarn's: dropped in a forewarn document
    assert "Collapsed scene" not in text


@pytest.mark.parametrize("element", [
    # prose passed off as the warnings a scene notice lists
    '<p class="scene-note" data-forewarn="notice"><strong>Collapsed scene:</strong> She '
    "locked the door. She took the blade from the cabinet and cut deep. (mentioned)</p>",
    # prose passed off as the reason a copy gives for not checking every word
    '<p data-forewarn="notice">forewarn did not check all of this work, so scenes may be '
    "left open that it would have collapsed: She locked the door and took the blade.</p>",
    # prose passed off as a byline
    '<p class="byline">by She locked the door. She took the blade and cut deep.</p>',
    # prose after forewarn's how-to sentence, or after the header's count of scenes
    '<p class="how-to">Each collapsed scene has a note saying what it holds. She locked '
    "the door and took the blade from the cabinet.</p>",
    '<p class="facts">120 words · 1 chapter · 1 scene collapsed for you She locked the '
    "door and took the blade</p>",
])
def test_a_story_cannot_pass_its_prose_off_as_forewarns_own_wording(element: str) -> None:
    page = ('<!DOCTYPE html><html><head><meta name="generator" content="forewarn 0.1.0">'
            f"<title>T</title></head><body>{element}{STORY}</body></html>")
    work = read_bytes(page.encode(), "x.html")
    assert "She locked the door" in work.source_text
    assert "locked" not in (work.author or "")


def test_a_notice_listing_what_is_no_warnings_name_leaves_the_work_not_fully_read() -> None:
    """A notice names each warning, or by the reader's alias for it; an alias cannot be
    told from a story's words made to look like one, so they are not counted as read."""
    head = ('<!DOCTYPE html><html><head><meta name="generator" content="forewarn 0.1.0">'
            '<title>T</title></head><body>')
    items = ", ".join(f"{w} (depicted)" for w in (
        "She took the blade from the cabinet", "and drew it across her wrist",
        "slowly and deep", "until the basin ran red"))
    forged = read_bytes((f'{head}<p class="scene-note" data-forewarn="notice">Collapsed '
                         f"scene 1 of 1: {items}</p>{STORY}</body></html>").encode(), "x.html")
    assert "blade" not in forged.source_text  # dropped from the story, but not vouched for
    assert forged.coverage is not None and not forged.coverage.fully_read
    assert "not warnings' names" in (forged.coverage.reason() or "")
    named = read_bytes((f'{head}<p class="scene-note" data-forewarn="notice">Collapsed '
                        "scene 1 of 1: Self-harm (depicted), Blood and gore (graphic)</p>"
                        f"{STORY}</body></html>").encode(), "x.html")
    assert named.coverage is not None and named.coverage.fully_read


def test_notice_wording_in_a_document_forewarn_did_not_write_is_story() -> None:
    page = f"<!DOCTYPE html><html><head><title>T</title></head><body>{STORY}</body></html>"
    work = read_bytes(page.encode(), "x.html")
    assert "Collapsed scene 1 of 1: Death (depicted)" in work.source_text


def _chapters(epub: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(epub)) as archive:
        return b"".join(archive.read(n) for n in archive.namelist()
                        if n.startswith("OEBPS/chapter-"))


def _unmark(data: bytes) -> bytes:
    return re.sub(rb' data-forewarn="[a-z]+"', b"", data)


def _rezip(epub: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(epub)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(".xhtml"):
                data = change(data)
            dst.writestr(info, data)
    return out.getvalue()


def test_a_story_cannot_hide_its_text_in_a_borrowed_strips_section() -> None:
    from forewarn.render.strip import legend_text

    def section(extra: str) -> str:
        return ('<section class="strips" data-forewarn="page"><h2>Where the warnings sit</h2>'
                f'<p class="strips-key">{legend_text()}</p><ul class="strip-list">'
                '<li class="strip"><p class="strip-name">Death</p>'
                '<p class="strip-text">Death: chapter 1 (depicted)</p></li></ul>'
                f'{extra}</section>')

    head = ('<!DOCTYPE html><html><head><meta name="generator" content="forewarn 0.1.0">'
            '<title>T</title></head><body>')
    own = read_bytes(f"{head}{section('')}{STORY}</body></html>".encode(), "x.html")
    assert "Where the warnings sit" not in own.source_text  # forewarn's own: dropped
    hidden = "<p>She cut her arms again that night, as she had every night.</p>"
    borrowed = read_bytes(f"{head}{section(hidden)}{STORY}</body></html>".encode(), "x.html")
    assert "She cut her arms again that night" in borrowed.source_text
