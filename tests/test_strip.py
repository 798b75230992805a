"""The strip per warning (forewarn.render.strip): its geometry, its SVG in the reading copy
(HTML and EPUB), and its text form in the terminal (``forewarn scan --strip``)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from forewarn.cli import main
from forewarn.detect.lexicon import LexiconDetector
from forewarn.ingest import read_path
from forewarn.profile import Profile, ProfileEntry
from forewarn.render import strip as S
from forewarn.render.epub import render_epub
from forewarn.render.html import content_security_policy, reading_css, render_html
from forewarn.report import DetectedWarning, Evidence, Report
from forewarn.scanner import Scanner
from forewarn.scenes import flagged_scenes

SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def ev(chapter: int, position: float, severity: str) -> Evidence:
    return Evidence(chapter, 0, 0, 1, 0, 1, position, 0.9, severity, ("lexicon",), "x",
                    "a <script>snippet</script>")


def warning(wid: str, name: str, *evidence: Evidence) -> DetectedWarning:
    strongest = max((e.severity for e in evidence),
                    key=["mentioned", "depicted", "graphic"].index)
    return DetectedWarning(wid, name, "violence", 0.9, strongest, False, ("lexicon",), (),
                           evidence)


#: 8 chapters; blood in chapter 2 (graphic, halfway), 5 (mentioned, a tenth in) and 6
#: (mentioned, near the end); death once, at the very start of chapter 8.
FIXTURE = Report(None, "text", "Fixture", 5000, 8, [
    warning("blood-gore", "Blood and gore", ev(5, 0.1, "mentioned"), ev(2, 0.5, "graphic"),
            ev(6, 0.9, "mentioned")),
    warning("death", "Death <b>", ev(8, 0.0, "depicted")),
], [], 0.5)


# --- geometry ---------------------------------------------------------------------------------


def test_mark_x_puts_each_chapter_in_an_equal_share():
    assert S.mark_x(1, 0.0, 4) == 0.0
    assert S.mark_x(2, 0.5, 4) == pytest.approx(0.375)
    assert S.mark_x(4, 1.0, 4) == 1.0
    # out of range values are held to the strip
    assert S.mark_x(9, 0.5, 4) == pytest.approx(0.875)
    assert S.mark_x(0, -1.0, 4) == 0.0
    assert S.mark_x(1, float("nan"), 1) == 0.0
    assert S.mark_x(1, 0.3, 0) == pytest.approx(0.3)


def test_marks_sit_at_the_right_x_for_a_fixture_report():
    blood, death = S.strips(FIXTURE)
    assert blood.label == "Blood and gore" and blood.chapters == 8
    assert [(m.chapter, m.severity) for m in blood.marks] == [
        (2, "graphic"), (5, "mentioned"), (6, "mentioned")]  # reading order
    assert [m.x for m in blood.marks] == pytest.approx([1.5 / 8, 4.1 / 8, 5.9 / 8])
    assert [m.x for m in death.marks] == [7 / 8]
    # in the SVG: one rect per piece of evidence, centred on its x (600 units wide)
    svg = ET.fromstring(S.svg(blood))
    marks = [r for r in svg.iter(f"{SVG}rect") if "mark" in r.get("class", "").split()]
    assert len(marks) == 3
    centres = sorted(float(r.get("x")) + S.MARK_WIDTH / 2 for r in marks)
    assert centres == pytest.approx([600 * 1.5 / 8, 600 * 4.1 / 8, 600 * 5.9 / 8])
    # severity by shade and by height (taller is stronger), both bottom-aligned
    by_severity = {r.get("data-severity"): r for r in marks}
    assert by_severity["graphic"].get("fill") == S.SHADES["graphic"]
    assert by_severity["mentioned"].get("fill") == S.SHADES["mentioned"]
    heights = {s: float(r.get("height")) for s, r in by_severity.items()}
    assert heights["graphic"] == S.HEIGHT > heights["mentioned"] > 0
    for r in marks:
        assert float(r.get("y")) + float(r.get("height")) == pytest.approx(S.HEIGHT)
    # a divider between each pair of chapters
    assert len(list(svg.iter(f"{SVG}line"))) == 7


def test_a_mark_at_either_end_stays_inside_the_strip():
    report = Report(None, "text", None, 10, 1, [
        warning("death", "Death", ev(1, 0.0, "depicted"), ev(1, 1.0, "depicted"))], [], 0.5)
    (strip,) = S.strips(report)
    xs = [float(r.get("x")) for r in ET.fromstring(S.svg(strip)).iter(f"{SVG}rect")
          if "mark" in r.get("class", "")]
    assert min(xs) == 0 and max(xs) == S.WIDTH - S.MARK_WIDTH


def test_the_text_equivalent_names_chapters_and_severities():
    blood, death = S.strips(FIXTURE)
    assert S.describe(blood) == "Blood and gore: chapter 2 (graphic), chapters 5-6 (mentioned)"
    assert S.describe(death) == "Death <b>: chapter 8 (depicted)"
    one = Report(None, "text", None, 10, 1, [warning(
        "death", "Death", ev(1, 0.12, "mentioned"), ev(1, 0.5, "graphic"),
        ev(1, 0.51, "depicted"))], [], 0.5)
    assert S.describe(S.strips(one)[0]) == "Death: 10% (mentioned), 50% (graphic) of the way through"


def test_a_profile_keeps_its_warnings_under_its_labels():
    profile = Profile((ProfileEntry("blood-gore", "depicted", "the red thing"),))
    (only,) = S.strips(FIXTURE, profile)
    assert only.label == "the red thing" and len(only.marks) == 3
    assert "Blood" not in S.svg(only) and "Blood" not in S.describe(only)


def test_the_svg_is_inert_and_escapes_names():
    svg = S.svg(S.strips(FIXTURE)[1])
    root = ET.fromstring(svg)  # well-formed XML, so fine in XHTML too
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-label") == "Death <b>: chapter 8 (depicted)"
    assert root.findtext(f"{SVG}title") == "Death <b>: chapter 8 (depicted)"
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    for el in root.iter():
        assert not any(k.startswith("on") or k in ("style", "href") or k.endswith("}href")
                       for k in el.attrib), el.attrib
    assert "script" not in svg and "snippet" not in svg  # no story text on a strip


# --- terminal ---------------------------------------------------------------------------------


def test_text_row_one_character_per_chapter_in_a_long_work():
    report = Report(None, "text", None, 10, 12, [warning(
        "blood-gore", "Blood and gore", ev(3, 0.2, "mentioned"), ev(5, 0.5, "depicted"),
        ev(5, 0.9, "graphic"), ev(12, 0.1, "mentioned"))], [], 0.5)
    (strip,) = S.strips(report)
    assert S.text_row(strip) == "··░·█······░"
    assert S.text_row(strip, ascii_only=True) == "..m.G......m"
    text = S.render_text([strip])
    assert text.splitlines()[0].startswith("Where the warnings sit (one character per chapter")
    assert text.splitlines()[1].strip() == "1        10"
    assert text.splitlines()[2] == "  Blood and gore  ··░·█······░"


def test_text_row_tenths_of_a_short_work():
    one = Report(None, "text", None, 10, 1, [warning(
        "death", "Death", ev(1, 0.05, "mentioned"), ev(1, 0.55, "depicted"))], [], 0.5)
    assert S.text_row(S.strips(one)[0]) == "░····▓····"
    two = Report(None, "text", None, 10, 2, [warning(
        "death", "Death", ev(1, 0.05, "mentioned"), ev(2, 0.99, "graphic"))], [], 0.5)
    assert S.text_row(S.strips(two)[0]) == "░····│····█"


def test_a_very_long_work_shares_cells():
    report = Report(None, "text", None, 10, 300, [warning(
        "death", "Death", ev(1, 0.5, "depicted"), ev(300, 0.5, "mentioned"))], [], 0.5)
    row = S.text_row(S.strips(report)[0])
    assert len(row) == 100 and row[0] == "▓" and row[-1] == "░"


def test_colour_only_when_asked():
    (strip, _) = S.strips(FIXTURE)
    assert "\033[" not in S.text_row(strip)
    assert "\033[1;31m\u2588\033[0m" in S.text_row(strip, colour=True)


def test_scan_strip_prints_a_row_per_warning_without_colour_under_no_color(
        capsys, monkeypatch, tmp_path: Path):
    story = tmp_path / "story.txt"
    story.write_text(
        "Chapter 1\n\nThe tide turned at noon.\n\nChapter 2\n\nHe fell against the winch and "
        "the hook tore open his arm. Blood poured down his sleeve and pooled on the stones.\n",
        encoding="utf-8")

    class Terminal(io.StringIO):
        encoding = "utf-8"

        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("NO_COLOR", "1")
    out = Terminal()
    monkeypatch.setattr("sys.stdout", out)
    assert main(["scan", "--lexicon-only", "--strip", str(story)]) == 0
    text = out.getvalue()
    assert "Where the warnings sit (5 characters per chapter" in text
    row = next(line for line in text.splitlines() if line.startswith("  Blood and gore  "))
    assert re.fullmatch(r"  Blood and gore  ·····│[·░▓█]{5}", row) and row[-6:] != "│·····"
    assert "\033[" not in text
    monkeypatch.delenv("NO_COLOR")
    out.seek(0)
    out.truncate()
    assert main(["scan", "--lexicon-only", "--strip", str(story)]) == 0
    assert "\033[" in out.getvalue()  # on a terminal, without NO_COLOR: colour


# --- the reading copy ------------------------------------------------------------------------

STORY = """\
Title: Salt <script>alert("title")</script>

Chapter 1: The Harbour

The morning was grey and the boats came in slowly, one after another, with gulls behind them.

He fell against the winch and the hook tore open his arm. Blood poured down his sleeve and \
pooled on the stones, and she pressed her scarf into the wound while he screamed.

Chapter 2: Quiet

The summer came late that year. Mara mended nets and listened to the radio from the pub.

They found the old man dead in the barn, stiff and cold beside the stove, and her father \
buried him under the apple tree.
"""


@pytest.fixture
def scanned(tmp_path: Path):
    path = tmp_path / "story.txt"
    path.write_text(STORY, encoding="utf-8")
    work = read_path(path)
    report = Scanner(detectors=[LexiconDetector()]).scan_work(work)
    assert len(report.warnings) >= 2
    return work, report


def test_the_html_copy_draws_a_strip_per_warning_within_its_csp(scanned):
    work, report = scanned
    drawn = S.strips(report)
    page = render_html(work, flagged_scenes(work, report), strips=drawn)
    section = page[page.index('<section class="strips"'):page.index("</section>") + 10]
    assert section.count("<svg ") == len(report.warnings)
    assert section.count('class="mark ') == sum(len(w.evidence) for w in report.warnings)
    for w in report.warnings:
        assert f'data-warning="{w.id}"' in section
    # nothing the policy forbids: no script, no inline style attribute, no handler, no
    # link or image; the one <style> is the hashed stylesheet
    assert not re.search(r"<\s*script|\sstyle=|\son\w+=|href=|<image|<use|<foreignObject",
                         section, re.IGNORECASE)
    policy = content_security_policy(reading_css())
    assert "script-src 'none'" in policy
    assert page.count("<style>") == 1 and f"<style>{reading_css()}</style>" in page
    # the strips come after the header and before the contents
    assert page.index("</header>") < page.index('<section class="strips"') < \
        page.index('<nav class="contents"')
    # without strips, none
    assert "<svg" not in render_html(work, flagged_scenes(work, report))


def test_the_epub_has_a_page_of_strips_that_is_valid_xhtml(scanned):
    work, report = scanned
    book = render_epub(work, flagged_scenes(work, report), strips=S.strips(report), modified=0)
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        page = archive.read("OEBPS/warnings.xhtml").decode("utf-8")
        opf = ET.fromstring(archive.read("OEBPS/content.opf"))
        nav = archive.read("OEBPS/nav.xhtml").decode("utf-8")
        ncx = archive.read("OEBPS/toc.ncx").decode("utf-8")
    root = ET.fromstring(page)
    svgs = list(root.iter(f"{SVG}svg"))
    assert len(svgs) == len(report.warnings)
    assert all(s.get("role") == "img" and s.get("aria-label") for s in svgs)
    texts = [p.text for p in root.iter(f"{XHTML}p") if p.get("class") == "strip-text"]
    assert texts == [S.describe(s) for s in S.strips(report)]
    ns = {"opf": "http://www.idpf.org/2007/opf"}
    item = opf.find("opf:manifest/opf:item[@id='warnings']", ns)
    assert item is not None and item.get("properties") == "svg"
    spine = [r.get("idref") for r in opf.iterfind("opf:spine/opf:itemref", ns)]
    assert spine[:2] == ["nav", "warnings"]
    assert 'href="warnings.xhtml"' in nav and 'src="warnings.xhtml"' in ncx
    assert b"<script" not in book
    # read back, the strips are not story: the same two chapters, nothing new found
    again = read_path_bytes(book)
    assert [c.title for c in again.chapters] == [c.title for c in work.chapters]


def read_path_bytes(book: bytes):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "copy.epub"
        path.write_bytes(book)
        return read_path(path)


def test_forewarn_read_draws_only_the_profiles_warnings(capsys, tmp_path: Path):
    path = tmp_path / "story.txt"
    path.write_text(STORY, encoding="utf-8")
    profile = tmp_path / "me.toml"
    profile.write_text('[avoid]\nblood = { severity = "depicted", alias = "the red thing" }\n',
                       encoding="utf-8")
    assert main(["read", "--lexicon-only", "--profile", str(profile), str(path)]) == 0
    page = capsys.readouterr().out
    assert page.count("<svg ") == 1
    assert 'aria-label="the red thing: chapter 1' in page
    # the alias hides the warning's name in the page's source too
    assert "blood-gore" not in page and "Blood and gore" not in page


def test_the_scale_numbers_the_chapters_for_the_eye_only():
    assert S.scale(1) == ""
    three = S.scale(3)
    assert three.count("<span>") == 3 and 'aria-hidden="true"' in three
    assert ">1<" in three and ">3<" in three
    many = S.scale(30)
    assert many.count("<span>") == 2 and "chapter 30" in many and "strip-scale-ends" in many
    assert "style=" not in three + many
