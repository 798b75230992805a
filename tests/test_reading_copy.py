"""The reading copy: HTML and EPUB output, escaping of hostile stories, and `forewarn read`."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import os
import re
import shutil
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from ingest_helpers import EpubSpec, build_epub

from forewarn.cli import main
from forewarn.detect.lexicon import LexiconDetector
from forewarn.ingest import read_path
from forewarn.profile import Profile, ProfileEntry
from forewarn.render.epub import render_epub
from forewarn.render.html import render_html
from forewarn.render.strip import strips
from forewarn.scanner import Scanner
from forewarn.scenes import Scene, flagged_scenes
from forewarn.work import Chapter, Work

# A story whose every field tries to smuggle markup into the page.
HOSTILE = """\
Title: Salt <script>alert("title")</script> & Lamplight
Author: A. Writer <img src=x onerror="window.__pwned=1">

Chapter 1: The <b>Harbour</b> <script>alert(3)</script>

The morning was grey and the boats came in slowly, one after another, with gulls behind them.

Mara counted the crates on the quay and wrote the numbers in her little book, as she always did.

He fell against the winch and the hook tore open his arm. Blood poured down his sleeve and \
pooled on the stones, and she pressed her scarf into the wound while he screamed.

The harbour master came running with a lantern and a length of clean sail cloth.

Nobody spoke of it at supper. <script>window.__pwned=1</script> The soup was thin.

Chapter 2: Quiet <img src=x onerror=alert(1)>

The summer came late that year. Mara mended nets and listened to the radio from the pub.

Her sister wrote about the city. <a href="javascript:alert(1)">click me</a> <div <p>unclosed &amp; \
broken </scr<script>ipt> markup

They found the old man dead in the barn, stiff and cold beside the stove, and her father \
buried him under the apple tree.

On Sundays they walked to the headland and back, and nobody said very much.
"""
SCENE_SENTENCES = ("Blood poured down his sleeve", "They found the old man dead in the barn")

# The only elements the HTML page is made of.
HTML_TAGS = {
    "html", "head", "meta", "title", "style", "link", "body", "a", "header", "h1", "h2", "p",
    "nav", "ol", "li", "main", "section", "div", "strong", "span", "details", "summary", "br",
    "ul", "svg", "rect", "line",  # the strips (forewarn.render.strip)
}  # fmt: skip


class Markup(HTMLParser):
    """Every start tag with its attributes, and every id."""

    def __init__(self, document: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.style = ""
        self._in_style = False
        self.feed(document)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def ids(self) -> list[str]:
        return [str(attrs["id"]) for _, attrs in self.tags if attrs.get("id")]

    @property
    def attributes(self) -> list[tuple[str, str | None]]:
        return [item for _, attrs in self.tags for item in attrs.items()]


def scanner() -> Scanner:
    return Scanner(detectors=[LexiconDetector()])


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.txt"
    path.write_text(HOSTILE, encoding="utf-8")
    return path


def reading_copy(path: Path, profile: Profile | None = None) -> tuple[Work, list[Scene], str]:
    work = read_path(path)
    scenes = flagged_scenes(work, scanner().scan_work(work), profile)
    return work, scenes, render_html(work, scenes, profile=profile is not None)


def assert_inert(document: str) -> Markup:
    """No live script, no event handler, no javascript: URL, only our own elements."""
    markup = Markup(document)
    assert markup.named("script") == []
    assert {name for name, _ in markup.tags} <= HTML_TAGS
    for name, value in markup.attributes:
        assert not name.lower().startswith("on"), name
        assert "javascript:" not in (value or "").lower(), (name, value)
    assert not re.search(r"<\s*script", document, re.IGNORECASE)
    return markup


# --- HTML -------------------------------------------------------------------------------------


def test_hostile_story_comes_out_as_inert_visible_text(hostile: Path):
    work, _scenes, page = reading_copy(hostile)
    assert_inert(page)
    # the markup is there, escaped, for the reader to see
    assert "&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in page
    assert "&lt;a href=&quot;javascript:alert(1)&quot;&gt;click me&lt;/a&gt;" in page
    assert "&lt;/scr&lt;script&gt;ipt&gt;" in page
    assert "Salt &lt;script&gt;" in page.split("<title>")[1].split("</title>")[0]
    assert "<b>" not in page and "<img" not in page
    # every paragraph of the story is in the page, escaped
    for chapter in work.chapters:
        for paragraph in chapter.paragraphs:
            assert html.escape(paragraph.text, quote=True) in page


def test_page_is_self_contained_with_a_strict_content_security_policy(hostile: Path):
    _, _, page = reading_copy(hostile)
    assert "http://" not in page and "https://" not in page
    markup = Markup(page)
    assert all("src" not in attrs for _, attrs in markup.tags)
    for link in markup.named("link"):
        assert str(link["href"]).startswith("data:")
    [csp] = [m for m in markup.named("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    policy = str(csp["content"])
    assert "default-src 'none'" in policy and "script-src 'none'" in policy
    assert "img-src data:" in policy
    digest = base64.b64encode(hashlib.sha256(markup.style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert len(markup.named("style")) == 1 and "max-width: 38em" in markup.style
    # the policy comes before anything it governs
    assert page.index("Content-Security-Policy") < page.index("<style>")


def test_scenes_are_collapsed_with_show_and_skip_controls(hostile: Path):
    _work, scenes, page = reading_copy(hostile)
    assert len(scenes) == 2
    markup = assert_inert(page)
    details = markup.named("details")
    assert len(details) == len(scenes)
    assert all("open" not in d for d in details)  # collapsed by default
    assert page.count("<summary>") == len(scenes)
    assert page.count('"when-closed">Show this scene<') == len(scenes)
    # the scene text is inside its <details>
    for sentence in SCENE_SENTENCES:
        before = page[: page.index(sentence)]
        assert before.rfind("<details") > before.rfind("</details>")
    ids = markup.ids
    assert len(ids) == len(set(ids)), "ids are unique"
    hrefs = [str(a["href"]) for a in markup.named("a")]
    assert all(h.startswith("#") for h in hrefs)
    assert all(h[1:] in ids for h in hrefs), "every link resolves in the page"
    for scene in scenes:
        assert f"#{scene.after_id}" in hrefs
        # the anchor comes right after the scene
        end = page.index("</details>", page.index(f'id="{scene.id}"'))
        assert page.index(f'id="{scene.after_id}"') > end
    assert page.count(">Skip to after this scene</a>") == len(scenes)


def test_page_structure_is_accessible_and_responsive(hostile: Path):
    work, scenes, page = reading_copy(hostile)
    markup = Markup(page)
    assert page.startswith("<!DOCTYPE html>")
    assert markup.named("html")[0].get("lang") == "en"
    assert any(m.get("name") == "viewport" and "width=device-width" in str(m.get("content"))
               for m in markup.named("meta"))
    assert len(markup.named("main")) == 1 and len(markup.named("nav")) == 1
    assert len(markup.named("h1")) == 1
    assert len(markup.named("h2")) == len(work.chapters) + 1  # contents + one per chapter
    toc = [str(a["href"]) for a in markup.named("a") if str(a["href"]).startswith("#chapter-")]
    assert toc == [f"#chapter-{c.number}" for c in work.chapters]
    css = markup.style
    assert "prefers-color-scheme: dark" in css and ":focus-visible" in css
    assert re.search(r"font-size:\s*1\.1[0-9]*rem", css)
    for scene in scenes:
        assert f'aria-labelledby="{scene.id}-note"' in page


def test_header_is_spoiler_free_and_counts_collapsed_scenes(hostile: Path):
    profile = Profile((ProfileEntry("blood-gore", "mentioned", "the red thing"),
                       ProfileEntry("death", "depicted", None)))
    work, _scenes, page = reading_copy(hostile, profile)
    header = page[page.index("<header"): page.index("</header>")]
    assert f"{work.word_count:,} words" in header
    assert "2 scenes collapsed for you" in header
    assert "red thing" not in header and "Blood" not in header and "Death" not in header
    # the notices use the reader's alias, and the aliased name appears nowhere
    assert "the red thing (depicted)" in page
    assert "Blood and gore" not in page and "blood-gore" not in page
    assert "Death (depicted)" in page


def test_one_scene_and_no_scene_wording():
    work = Work([Chapter.from_paragraphs(1, None, ["Calm.", "Calm again."])], title="Calm")
    page = render_html(work, [])
    assert "No scenes collapsed for you" in page and "<details" not in page
    assert "Chapter 1" in page  # an untitled chapter still has a heading
    one = Scene(1, 1, 1, (("Death", "mentioned"),), "scene-1")
    assert "1 scene collapsed for you" in render_html(work, [one])


# --- EPUB input with live markup -----------------------------------------------------------------


def test_epub_input_with_script_elements_gives_no_live_script(tmp_path: Path):
    body = (
        "<h1>Chapter 1: <script>alert(9)</script>Night</h1>"
        "<p>The boats were in and the lamps were lit along the quay.</p>"
        '<script>window.__pwned = 1</script><p onclick="window.__pwned=1">She heard a shout '
        "from the water.</p>"
        "<p>He fell against the winch and the hook tore open his arm. Blood poured down his "
        "sleeve and pooled on the stones.</p>"
        "<p>&lt;script&gt;alert(2)&lt;/script&gt; was written on the wall in chalk.</p>"
        '<p><a href="javascript:alert(1)">a link</a> and <img src="x" onerror="alert(1)"/> '
        "an image.</p>"
    )
    path = tmp_path / "night.epub"
    path.write_bytes(build_epub(EpubSpec([("c1.xhtml", body)], title="Night <i>Boats</i>")))
    work = read_path(path)
    scenes = flagged_scenes(work, scanner().scan_work(work))
    assert scenes, "the blood paragraph is flagged"
    page = render_html(work, scenes)
    assert_inert(page)
    assert "&lt;script&gt;alert(2)&lt;/script&gt; was written" in page
    assert "window.__pwned" not in page  # the script element's text was dropped by the reader
    assert "Night &lt;i&gt;Boats&lt;/i&gt;" in page
    # and the EPUB written from it has no script element either
    book = render_epub(work, scenes)
    for name, root in xhtml_members(book).items():
        tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
        assert "script" not in tags, name
        for el in root.iter():
            assert not any(k.lower().startswith("on") for k in el.attrib), name
            assert "javascript:" not in el.get("href", "")


# --- EPUB output ------------------------------------------------------------------------------


def xhtml_members(book: bytes) -> dict[str, ET.Element]:
    """Every XML member of the EPUB, parsed (ParseError if one is not well-formed)."""
    out = {}
    with zipfile.ZipFile(_bytes_io(book)) as archive:
        for name in archive.namelist():
            if name.endswith((".xhtml", ".opf", ".ncx", ".xml")):
                out[name] = ET.fromstring(archive.read(name))
    return out


def _bytes_io(data: bytes):
    import io

    return io.BytesIO(data)


def test_epub_package_is_well_formed_epub3(hostile: Path):
    work = read_path(hostile)
    scenes = flagged_scenes(work, scanner().scan_work(work))
    book = render_epub(work, scenes, modified=0)
    with zipfile.ZipFile(_bytes_io(book)) as archive:
        infos = archive.infolist()
        assert infos[0].filename == "mimetype"
        assert infos[0].compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == b"application/epub+zip"
        assert book[30:38] == b"mimetype"  # the name right after the first local header
        names = set(archive.namelist())
        assert "META-INF/container.xml" in names
        members = xhtml_members(book)
        opf = members["OEBPS/content.opf"]
        ns = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
        assert opf.get("version") == "3.0"
        assert opf.findtext("opf:metadata/dc:title", namespaces=ns) == work.title
        assert opf.findtext("opf:metadata/dc:language", namespaces=ns) == "en"
        assert opf.findtext("opf:metadata/dc:identifier", namespaces=ns).startswith("urn:uuid:")
        modified = opf.find("opf:metadata/opf:meta[@property='dcterms:modified']", ns)
        assert modified is not None and modified.text == "1970-01-01T00:00:00Z"
        items = {i.get("id"): i for i in opf.iterfind("opf:manifest/opf:item", ns)}
        for item in items.values():
            assert f"OEBPS/{item.get('href')}" in names
        assert [i.get("id") for i in items.values() if i.get("properties") == "nav"] == ["nav"]
        spine = [r.get("idref") for r in opf.iterfind("opf:spine/opf:itemref", ns)]
        assert all(ref in items for ref in spine)
        assert len(spine) == len(work.chapters) + 1  # the title/contents page, then chapters
    # skip links resolve inside their own document; one notice per scene
    notices = 0
    for name, root in members.items():
        if not name.endswith(".xhtml"):
            continue
        ids = {el.get("id") for el in root.iter() if el.get("id")}
        for el in root.iter():
            href = el.get("href", "")
            if href.startswith("#"):
                assert href[1:] in ids, (name, href)
            elif el.tag.endswith("}a"):
                assert href.split("#")[0].endswith(".xhtml"), href
        notices += sum(1 for el in root.iter() if el.get("class") == "scene-note")
    assert notices == len(scenes)
    assert b"<script" not in book and b"onerror=\"" not in book


def test_epub_round_trips_through_the_projects_reader(hostile: Path, tmp_path: Path):
    work = read_path(hostile)
    scenes = flagged_scenes(work, scanner().scan_work(work))
    out = tmp_path / "copy.epub"
    out.write_bytes(render_epub(work, scenes))
    again = read_path(out)
    assert again.format == "epub"
    assert again.title == work.title and again.author == work.author
    assert [c.title for c in again.chapters] == [c.title for c in work.chapters]

    def story(w: Work) -> list[list[str]]:
        return [[p.text for p in c.paragraphs] for c in w.chapters]

    # the scene notices are forewarn's words, not the story's: not read (issue 14)
    assert story(again) == story(work)
    assert "Content note:" not in again.source_text
    assert again.coverage is not None and again.coverage.fully_read
    chapters = "".join(m.decode() for n, m in _members(out.read_bytes()).items()
                       if n.startswith("OEBPS/chapter-"))
    assert chapters.count('data-forewarn="notice"><b>Content note:</b>') == len(scenes)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_epub_stays_well_formed_with_control_characters_and_line_breaks():
    chapter = Chapter.from_paragraphs(
        1, "Odd \x0b title", ["Form\x0cfeed and \x00 nul.", "Line one\nline two & <three>"]
    )
    work = Work([chapter], title="Odd\x01", author='"Quoted" <author>')
    scene = Scene(1, 1, 1, (("Death & <dying>", "graphic"),), "scene-1")
    members = xhtml_members(render_epub(work, [scene]))
    root = members["OEBPS/chapter-001.xhtml"]
    xhtml = "{http://www.w3.org/1999/xhtml}"
    [broken] = [p for p in root.iter(f"{xhtml}p") if (p.text or "").startswith("Line one")]
    assert [child.tag for child in broken] == [f"{xhtml}br"]
    assert broken[0].tail == "line two & <three>"
    assert any("Death & <dying> (graphic)" in "".join(p.itertext()) for p in root.iter(f"{xhtml}p"))
    assert "Form\x0cfeed" not in "".join(root.itertext())
    page = render_html(work, [scene])
    assert "\x0c" not in page and "\x00" not in page
    assert "Line one<br>line two &amp; &lt;three&gt;" in page


# --- the command ------------------------------------------------------------------------------


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_read_writes_html_and_epub(capsys, hostile: Path, tmp_path: Path):
    out = tmp_path / "copy.html"
    code, stdout, err = run(capsys, "read", "--lexicon-only", str(hostile), "-o", str(out))
    assert code == 0, err
    assert stdout == "" and err == ""
    page = out.read_text(encoding="utf-8")
    assert_inert(page)
    assert page.count("<details") == 2
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # not the temp file's mode
    code, _, err = run(capsys, "read", "--lexicon-only", str(hostile), "-o",
                       str(tmp_path / "copy.epub"))
    assert code == 0, err
    assert len(read_path(tmp_path / "copy.epub").chapters) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.epub", "copy.html",
                                                         "hostile.txt"]


def test_read_without_output_prints_html(capsys, hostile: Path):
    code, stdout, err = run(capsys, "read", "--lexicon-only", str(hostile))
    assert code == 0, err
    assert stdout.startswith("<!DOCTYPE html>") and stdout.rstrip().endswith("</html>")


def test_read_with_a_profile(capsys, hostile: Path, tmp_path: Path):
    profile = tmp_path / "me.toml"
    profile.write_text('[avoid]\nblood = { severity = "depicted", alias = "the red thing" }\n',
                       encoding="utf-8")
    code, stdout, err = run(capsys, "read", "--lexicon-only", "--profile", str(profile),
                            str(hostile))
    assert code == 0, err
    assert stdout.count("<details") == 1
    assert "the red thing (depicted)" in stdout and "Blood and gore" not in stdout
    assert "1 scene collapsed for you" in stdout


@pytest.mark.parametrize("name", ["copy.pdf", "copy.txt", "copy", "copy.html.bak"])
def test_an_unknown_output_extension_is_a_usage_error(capsys, hostile: Path, tmp_path: Path,
                                                      name: str):
    code, stdout, err = run(capsys, "read", "--lexicon-only", str(hostile), "-o",
                            str(tmp_path / name))
    assert code == 2
    assert stdout == "" and err.count("\n") == 1 and err.startswith("forewarn: ")
    assert not (tmp_path / name).exists()


def test_missing_input_exits_3(capsys, tmp_path: Path):
    code, _stdout, err = run(capsys, "read", str(tmp_path / "nope.txt"), "-o",
                            str(tmp_path / "out.html"))
    assert code == 3
    assert err.count("\n") == 1 and "nope.txt" in err
    assert not (tmp_path / "out.html").exists()


def test_bad_profile_exits_2(capsys, hostile: Path, tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[avoid]\nnot-a-warning-at-all = 'mentioned'\n", encoding="utf-8")
    code, _, err = run(capsys, "read", "--profile", str(bad), str(hostile))
    assert code == 2 and err.count("\n") == 1


def test_refuses_to_overwrite_the_input(capsys, tmp_path: Path):
    source = tmp_path / "story.html"
    original = "<html><body><p>He fell and the blood poured out of the wound.</p></body></html>"
    source.write_text(original, encoding="utf-8")
    for target in (str(source), str(tmp_path / "." / "story.html")):
        code, _, err = run(capsys, "read", "--lexicon-only", str(source), "-o", target)
        assert code == 2 and "input" in err
    link = tmp_path / "link.html"
    link.symlink_to(source)
    code, _, _ = run(capsys, "read", "--lexicon-only", str(source), "-o", str(link))
    assert code == 2
    assert source.read_text(encoding="utf-8") == original


def test_unwritable_output_is_an_error_and_leaves_nothing(capsys, hostile: Path, tmp_path: Path):
    code, _, err = run(capsys, "read", "--lexicon-only", str(hostile), "-o",
                       str(tmp_path / "no" / "such" / "dir.html"))
    assert code == 2 and err.count("\n") == 1
    (tmp_path / "adir.html").mkdir()
    code, _, err = run(capsys, "read", "--lexicon-only", str(hostile), "-o",
                       str(tmp_path / "adir.html"))
    assert code == 2


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(
    capsys, hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    out = tmp_path / "copy.html"
    out.write_text("old copy", encoding="utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    code, _, err = run(capsys, "read", "--lexicon-only", str(hostile), "-o", str(out))
    assert code == 2 and "No space left" in err
    assert out.read_text(encoding="utf-8") == "old copy"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.html", "hostile.txt"]
    monkeypatch.undo()
    code, _, err = run(capsys, "read", "--lexicon-only", str(hostile), "-o", str(out))
    assert code == 0, err
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


EPUBCHECK = os.environ.get("FOREWARN_EPUBCHECK", "/usr/bin/epubcheck")


@pytest.mark.skipif(not (shutil.which("java") and os.path.isfile(EPUBCHECK)),
                    reason="EPUBCheck not installed (Debian: apt-get install epubcheck)")
def test_epubcheck_finds_no_errors_or_warnings(hostile: Path, tmp_path: Path):
    work = read_path(hostile)
    out = tmp_path / "copy.epub"
    report = scanner().scan_work(work)
    out.write_bytes(render_epub(work, flagged_scenes(work, report), strips=strips(report)))
    proc = subprocess.run(["java", "-jar", EPUBCHECK, str(out)], check=False, capture_output=True,
                          text=True, timeout=120)
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report
    assert "No errors or warnings detected" in report, report


def test_the_min_confidence_option_wins_over_the_profiles_floor(capsys, hostile: Path,
                                                                tmp_path: Path):
    """As in check: a scene check would call not safe at the option's floor is collapsed,
    whatever floor the profile sets."""
    profile = tmp_path / "me.toml"
    profile.write_text('[avoid]\nblood = "depicted"\n[settings]\nmin_confidence = 0.99\n',
                       encoding="utf-8")
    code, stdout, err = run(capsys, "read", "--lexicon-only", "--profile", str(profile),
                            str(hostile))
    assert code == 0, err
    assert stdout.count("<details") == 0  # the profile's own floor: nothing that sure
    code, stdout, err = run(capsys, "read", "--lexicon-only", "--profile", str(profile),
                            "--min-confidence", "0.5", str(hostile))
    assert code == 0, err
    assert stdout.count("<details") == 1 and "1 scene collapsed for you" in stdout


# --- a chapter title that is evidence ------------------------------------------------------

def read_copy(story: Path, out: Path) -> bytes:
    """``forewarn read story -o out``'s bytes; an EPUB's members joined."""
    assert main(["read", str(story), "-o", str(out)]) == 0
    data = out.read_bytes()
    if out.suffix == ".epub":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            data = b"".join(z.read(n) for n in z.namelist())
    return data


TITLED_STORY = ("Title: Shore\n\nChapter 1: Morning\n\nThe kettle sang on the stove.\n\n"
                "Chapter 2: The Autopsy of My Brother\n\nThe gulls stood on the harbour wall. "
                "Mara folded the letters and set them on the shelf.\n")


@pytest.mark.parametrize("suffix", [".html", ".epub"])
def test_a_flagged_chapter_title_is_not_shown_and_its_opening_is_collapsed(tmp_path: Path,
                                                                           suffix: str) -> None:
    from forewarn.scenes import without_flagged_titles

    story = tmp_path / "shore.txt"
    story.write_text(TITLED_STORY, encoding="utf-8")
    work = read_path(story)
    report = scanner().scan_work(work)
    assert any(e.title for w in report.warnings for e in w.evidence)  # dissection, in the title
    [scene] = flagged_scenes(work, report)
    assert (scene.chapter, scene.first_paragraph) == (2, 0)
    shown = without_flagged_titles(work, report)
    assert [c.title for c in shown.chapters] == ["Chapter 1: Morning", None]
    assert work.chapters[1].title == "Chapter 2: The Autopsy of My Brother"  # not changed
    # a profile that does not avoid it keeps the title
    other = Profile.from_dict({"avoid": {"sexual-content": "mentioned"}})
    assert without_flagged_titles(work, report, other) is work
    text = read_copy(story, tmp_path / f"copy{suffix}").decode("utf-8", "replace")
    assert "Autopsy" not in text and "Chapter 1: Morning" in text and "Chapter 2" in text


def test_a_work_title_taken_from_a_flagged_chapter_heading_is_not_shown(tmp_path: Path) -> None:
    # review 20: a Markdown story with one heading gives the work its title too; the
    # chapter's heading was hidden but the same words stayed in <title> and <h1>
    story = tmp_path / "one.md"
    story.write_text("## Chapter 1: The Autopsy of My Brother\n\nThe gulls stood on the "
                     "harbour wall. Mara folded the letters.\n", encoding="utf-8")
    for suffix in (".html", ".epub"):
        assert b"Autopsy" not in read_copy(story, tmp_path / f"copy{suffix}"), suffix
