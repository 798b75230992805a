"""A "safe" verdict means every word was read: story text in every kind of container is
read (or the work is reported as not fully checked), and works forewarn cannot judge are
never called safe.

The trigger is an autopsy scene: forewarn's lexicon finds dissection in it at 0.99, and
dissection is a warning forewarn is measured to be good at (held-out recall 0.88), so a
profile that avoids it can get a plain "safe" when the scene is absent. Each case puts the
scene in one place a reader might skip; the verdict must never be "safe".
"""

from __future__ import annotations

import io
import zipfile
from html import escape
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forewarn.cli import main
from forewarn.ingest import read_bytes
from forewarn.profile import Profile
from forewarn.scanner import Scanner
from forewarn.verdict import NOT_CHECKED, NOT_SAFE, POSSIBLE_FLOOR, SAFE, Verdict

TRIGGER = "At the autopsy the pathologist cut the body open from throat to navel."
FILLER = [
    "The kettle sang on the stove while the rain went on against the window.",
    "Mara folded the letters back into their envelopes and set them on the shelf.",
    "In the morning the harbour was grey and the gulls stood on the wall.",
    "He read the paper twice and then went out to see about the fence.",
]
PROFILE = Profile.from_dict({"avoid": {"dissection": "mentioned"}})


def verdict_of(data: bytes, name: str) -> Verdict:
    scanner = Scanner(lexicon_only=True, min_confidence=POSSIBLE_FLOOR)
    return Verdict.of(scanner.scan_work(read_bytes(data, name)), PROFILE, 0.5)


# --- a raw EPUB, every part of it under the test's control ------------------------------


def xhtml(body: str, *, head: str = "", declaration: str = "utf-8") -> str:
    return (f'<?xml version="1.0" encoding="{declaration}"?>\n'
            '<html xmlns="http://www.w3.org/1999/xhtml" '
            'xmlns:epub="http://www.idpf.org/2007/ops">'
            f"<head><title>t</title>{head}</head><body>{body}</body></html>")


def epub(items: list[dict], *, missing: tuple[str, ...] = ()) -> bytes:
    """``items``: dicts with name, body (markup or bytes), and optionally media_type,
    properties, linear ("no"), in_spine (default True)."""
    manifest, spine = [], []
    for n, item in enumerate(items):
        media = item.get("media_type", "application/xhtml+xml")
        props = f' properties="{item["properties"]}"' if item.get("properties") else ""
        manifest.append(f'<item id="i{n}" href="{item["name"]}" media-type="{media}"{props}/>')
        if item.get("in_spine", True):
            linear = ' linear="no"' if item.get("linear") == "no" else ""
            spine.append(f'<itemref idref="i{n}"{linear}/>')
    opf = ('<?xml version="1.0" encoding="utf-8"?>'
           '<package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
           '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title>'
           '</metadata>'
           f'<manifest>{"".join(manifest)}</manifest><spine>{"".join(spine)}</spine></package>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("mimetype", "application/epub+zip")
        z.writestr("META-INF/container.xml",
                   '<?xml version="1.0"?><container version="1.0" '
                   'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                   '<rootfile full-path="OEBPS/content.opf" '
                   'media-type="application/oebps-package+xml"/></rootfiles></container>')
        z.writestr("OEBPS/content.opf", opf)
        for item in items:
            if item["name"] in missing:
                continue
            body = item["body"]
            z.writestr(f"OEBPS/{item['name']}",
                       body if isinstance(body, bytes) else xhtml(body))
    return buffer.getvalue()


def story(extra: str = "") -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in FILLER) + extra


P = f"<p>{TRIGGER}</p>"

EPUB_CASES = {
    "linear-no": [{"name": "a.xhtml", "body": story()},
                  {"name": "b.xhtml", "body": P, "linear": "no"}],
    "nav-document-prose": [
        {"name": "a.xhtml", "body": story()},
        {"name": "nav.xhtml", "properties": "nav", "body":
         '<nav epub:type="toc"><ol><li><a href="a.xhtml">One</a></li>'
         '<li><a href="nav.xhtml">Two</a></li><li><a href="a.xhtml">Three</a></li></ol></nav>'
         + P}],
    "media-type-parameter": [{"name": "a.xhtml", "body": story(P),
                              "media_type": "application/xhtml+xml; charset=utf-8"}],
    "media-type-upper-case": [{"name": "a.xhtml", "body": story(P),
                               "media_type": "APPLICATION/XHTML+XML"}],
    "media-type-text-xml": [{"name": "a.xhtml", "body": story(P), "media_type": "text/xml"}],
    "paragraphs-in-links": [{"name": "a.xhtml", "body": "".join(
        f'<p><a href="b.xhtml">{escape(t)}</a></p>' for t in [*FILLER, TRIGGER])}],
    "cdata": [{"name": "a.xhtml", "body": story(f"<p><![CDATA[{TRIGGER}]]></p>")}],
    "svg-text": [{"name": "a.xhtml", "body": story(
        f'<svg xmlns="http://www.w3.org/2000/svg"><text x="0" y="10">{TRIGGER}</text></svg>')}],
    "key-value-first-page": [{"name": "a.xhtml", "body":
                              "<p>Title: T</p><p>Rating: Mature</p><p>Warnings: none</p>" + P},
                             {"name": "b.xhtml", "body": story()}],
    "wrong-declared-encoding": [{"name": "a.xhtml", "body": xhtml(
        story(f"<p>\u201c{TRIGGER}\u201d</p>"), declaration="utf-16").encode("utf-8")}],
}


@pytest.mark.parametrize("case", sorted(EPUB_CASES))
def test_story_text_in_every_epub_container_is_read(case: str) -> None:
    v = verdict_of(epub(EPUB_CASES[case]), "book.epub")
    assert v.answer == NOT_SAFE, (case, v.reasons())
    assert v.report.coverage is not None and v.report.coverage.fully_read


def test_a_missing_spine_document_is_not_fully_checked() -> None:
    items = [{"name": "a.xhtml", "body": story()}, {"name": "b.xhtml", "body": P}]
    v = verdict_of(epub(items, missing=("b.xhtml",)), "book.epub")
    assert v.answer == NOT_CHECKED and v.safe is None
    assert v.report.coverage is not None and v.report.coverage.missing_documents
    assert "missing" in (v.report.not_checked or ("", ""))[1]


def test_a_text_document_of_another_media_type_is_not_fully_checked() -> None:
    items = [{"name": "a.xhtml", "body": story()},
             {"name": "b.txt", "body": TRIGGER.encode(), "media_type": "text/plain"}]
    v = verdict_of(epub(items), "book.epub")
    assert v.answer == NOT_CHECKED
    assert "text/plain" in (v.report.not_checked or ("", ""))[1]


def test_a_textarea_is_accounted_as_text_not_read() -> None:
    html = f"<html><body>{story()}<textarea>{TRIGGER}</textarea></body></html>".encode()
    v = verdict_of(html, "story.html")
    assert v.answer == NOT_CHECKED
    assert "<textarea>" in (v.report.not_checked or ("", ""))[1]


@pytest.mark.usefixtures("measured_recall")
def test_a_clean_epub_with_a_table_of_contents_is_safe() -> None:
    items = [{"name": "a.xhtml", "body": story()},
             {"name": "nav.xhtml", "properties": "nav", "body":
              '<h1>Contents</h1><nav epub:type="toc"><ol><li><a href="a.xhtml">Chapter One: '
              'In Which the Harbour Is Grey and Nothing Much Happens</a></li></ol></nav>'}]
    v = verdict_of(epub(items), "book.epub")
    assert v.answer == SAFE, v.reasons()


@pytest.mark.parametrize("container", ["nav", "form", "button", "noscript"])
def test_story_text_in_html_interface_containers_is_read(container: str) -> None:
    html = f"<html><body>{story()}<{container}>{TRIGGER}</{container}></body></html>"
    v = verdict_of(html.encode(), "story.html")
    assert v.answer == NOT_SAFE, v.reasons()


@pytest.mark.usefixtures("measured_recall")
def test_a_menu_in_a_nav_is_navigation_and_the_story_is_safe() -> None:
    html = (f"<html><body><nav><a href='/'>Home</a> | <a href='/s'>Stories</a></nav>"
            f"{story()}</body></html>")
    v = verdict_of(html.encode(), "story.html")
    assert v.answer == SAFE, v.reasons()
    assert v.report.coverage is not None and v.report.coverage.navigation_words >= 2


def test_fullwidth_and_mathematical_letters_are_read() -> None:
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in TRIGGER)
    bold = "".join(chr(0x1D41A + ord(c) - ord("a")) if "a" <= c <= "z" else c
                   for c in TRIGGER)
    for text in (fullwidth, bold):
        data = ("\n\n".join([*FILLER, text]) + "\n").encode()
        v = verdict_of(data, "story.txt")
        assert v.answer == NOT_SAFE, text
        (w,) = [w for w in v.report.warnings if w.id == "dissection"]
        ev = w.evidence[0]  # offsets still address the original characters
        assert v.report.warnings and text[:5] in ev.snippet


def test_invisible_format_characters_do_not_make_english_another_language() -> None:
    """A zero-width space after every letter (or soft hyphens, joiners) is invisible to a
    reader and dropped by the classifier's tokenizer: the story is still read as English,
    not reported as "not checked" in a language it is not in."""
    for mark in ("\u200b", "\u00ad", "\u2060", "\ufeff"):
        hidden = [" ".join(w[0] + mark.join(w[1:]) for w in p.split()) for p in FILLER]
        data = ("\n\n".join([*hidden, TRIGGER]) + "\n").encode()
        v = verdict_of(data, "story.txt")
        assert v.report.languages is not None and v.report.languages.main == "en", mark
        assert v.answer == NOT_SAFE, mark


FRENCH = ("Elle avait pris toutes les pilules du flacon. Le lendemain matin, sa soeur la "
          "trouva sans vie dans la chambre froide, et personne ne comprit pourquoi.\n\n"
          "Le médecin arriva trop tard. Il ferma les yeux de la jeune femme et resta "
          "longtemps silencieux devant la fenêtre, les mains dans les poches.\n")


def test_a_french_story_is_not_checked_language(tmp_path: Path, capsys) -> None:
    path = tmp_path / "histoire.txt"
    path.write_text(FRENCH, encoding="utf-8")
    profile = tmp_path / "p.toml"
    profile.write_text('[avoid]\ndissection = "mentioned"\n', encoding="utf-8")
    code = main(["check", "--lexicon-only", "--profile", str(profile), str(path)])
    out = capsys.readouterr().out
    assert code == 15 and "NOT CHECKED" in out and "French" in out
    code = main(["scan", "--lexicon-only", str(path)])
    assert "NOT CHECKED (language)" in capsys.readouterr().out


def test_a_mixed_language_story_is_judged_on_its_english_and_reports_the_rest() -> None:
    data = ("\n\n".join(FILLER * 3) + "\n\n" + FRENCH).encode()
    v = verdict_of(data, "story.txt")
    assert v.answer == NOT_CHECKED
    kind, reason = v.report.not_checked or ("", "")
    assert kind == "coverage" and "French" in reason
    assert v.report.languages is not None and v.report.languages.main == "en"


CHINESE = ("她那天晚上锁上了浴室的门，从柜子里拿出刀片。" * 4 + "\n\n") * 3


def test_a_chapter_in_chinese_is_not_three_words() -> None:
    """A script written without spaces counts a word per character: a Chinese chapter
    in an English story is text forewarn does not judge, not a rounding error."""
    data = ("Chapter 1\n\n" + "\n\n".join(FILLER * 3) + "\n\nChapter 2\n\n" + CHINESE)
    v = verdict_of(data.encode(), "story.txt")
    assert v.answer == NOT_CHECKED
    assert "Chinese" in (v.report.not_checked or ("", ""))[1]


def test_french_paragraphs_between_english_ones_are_not_judged_as_english() -> None:
    english = "The morning was bright and the market was full of people selling their bread."
    french = ("Cette nuit-là, elle a fermé la porte de la salle de bain et elle a attendu "
              "longtemps dans le noir sans rien dire à personne.")
    data = "\n\n".join([english, french] * 4)
    v = verdict_of(data.encode(), "story.txt")
    assert v.answer == NOT_CHECKED
    assert "French" in (v.report.not_checked or ("", ""))[1]


# --- the property: wherever the scene sits, "safe" is never the answer ---------------------

CONTAINERS = ["p", "div", "nav", "form", "button", "noscript", "svg", "cdata", "link",
              "blockquote", "table"]


def wrap(container: str, text: str) -> str:
    t = escape(text)
    return {
        "svg": f'<svg xmlns="http://www.w3.org/2000/svg"><text>{t}</text></svg>',
        "cdata": f"<p><![CDATA[{text}]]></p>",
        "link": f'<p><a href="x.xhtml">{t}</a></p>',
        "table": f"<table><tr><td>{t}</td></tr></table>",
    }.get(container, f"<{container}>{t}</{container}>")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(container=st.sampled_from(CONTAINERS),
       where=st.sampled_from(["html", "epub-linear", "epub-nonlinear", "epub-nav", "epub-first"]),
       before=st.integers(0, 4), after=st.integers(0, 4),
       documents=st.integers(1, 3))
def test_check_never_answers_safe_for_a_scene_in_any_container(container, where, before,
                                                              after, documents):
    scene = wrap(container, TRIGGER)
    body = (story()[: before * 90] + "".join(f"<p>{escape(p)}</p>" for p in FILLER[:before])
            + scene + "".join(f"<p>{escape(p)}</p>" for p in FILLER[:after]))
    if where == "html":
        data, name = f"<html><body>{body}</body></html>".encode(), "story.html"
    else:
        items = [{"name": f"c{n}.xhtml", "body": story()} for n in range(documents)]
        scene_doc = {"name": "scene.xhtml", "body": body}
        if where == "epub-nonlinear":
            scene_doc["linear"] = "no"
        if where == "epub-nav":
            scene_doc["properties"] = "nav"
        items = [scene_doc, *items] if where == "epub-first" else [*items, scene_doc]
        data, name = epub(items), "book.epub"
    v = verdict_of(data, name)
    assert v.answer != SAFE, (container, where, v.reasons())


def test_the_reading_copy_names_what_forewarn_did_not_read() -> None:
    from forewarn.render.epub import render_epub
    from forewarn.render.html import render_html

    items = [{"name": "a.xhtml", "body": story()}, {"name": "b.xhtml", "body": P}]
    work = read_bytes(epub(items, missing=("b.xhtml",)), "book.epub")
    page = render_html(work, [])
    assert 'class="not-checked"' in page and "OEBPS/b.xhtml" in page and "missing" in page
    book = render_epub(work, [])
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        assert b"not-checked" in z.read("OEBPS/nav.xhtml")
    clean = read_bytes(epub(items[:1]), "book.epub")
    assert "not-checked" not in render_html(clean, [])
    # forewarn's own notice is not taken for story when its reading copy is read again
    again = read_bytes(book, "copy.epub")
    assert all("did not check" not in c.text for c in again.chapters)


def test_an_ao3_download_is_audited_over_its_story_region() -> None:
    fixture = Path(__file__).parent / "fixtures" / "ingest" / "ao3_download.html"
    page = fixture.read_text(encoding="utf-8")
    clean = verdict_of(page.encode(), "work.html")
    assert clean.report.coverage is not None and clean.report.coverage.fully_read
    hidden = page.replace('<div id="chapters" class="userstuff">',
                          f'<div id="chapters" class="userstuff"><textarea>{TRIGGER}</textarea>', 1)
    v = verdict_of(hidden.encode(), "work.html")
    assert v.answer == NOT_CHECKED and "<textarea>" in (v.report.not_checked or ("", ""))[1]


def test_the_reason_names_the_text_not_read_not_the_navigation() -> None:
    """The one line saying why a work is not fully read names where the words went
    unread, never the menus that were rightly skipped."""
    from forewarn.coverage import Coverage, Skipped

    coverage = Coverage(100, 0, 26, 11, (Skipped("navigation", "menus and tables of contents", 11),
                                         Skipped("html", "text not read as story", 26)), ())
    reason = coverage.reason() or ""
    assert "menus" not in reason and "html: text not read as story" in reason


# --- a chapter's title is read too --------------------------------------------------------

TITLE = "The Autopsy of My Brother"  # 5 words: a title, not prose; dissection in it
QUIET = "\n\n".join(FILLER)
TITLED = {
    "text": (f"Title: Shore\n\nChapter 1: Morning\n\n{QUIET}\n\nChapter 2: {TITLE}\n\n{QUIET}\n",
             "story.txt"),
    "markdown": (f"# Shore\n\n## Morning\n\n{QUIET}\n\n## {TITLE}\n\n{QUIET}\n", "story.md"),
    "html": (f"<html><body><h2>Morning</h2>{story()}<h2>{escape(TITLE)}</h2>{story()}"
             "</body></html>", "story.html"),
    "epub": (None, "book.epub"),
}


@pytest.mark.parametrize("case", sorted(TITLED))
def test_check_never_answers_safe_for_a_trigger_in_a_chapter_title(case: str) -> None:
    # until the eighteenth session a title was counted as read but never scanned: "safe"
    data, name = TITLED[case]
    raw = (epub([{"name": "a.xhtml", "body": "<h1>Morning</h1>" + story()},
                 {"name": "b.xhtml", "body": f"<h1>{escape(TITLE)}</h1>" + story()}])
           if data is None else data.encode())
    v = verdict_of(raw, name)
    assert v.answer == NOT_SAFE, (case, v.reasons())
    [found] = [w for w in v.report.warnings if w.id == "dissection"]
    assert all(e.title and e.snippet.endswith(TITLE) for e in found.evidence), found.evidence
    assert [loc.describe() for loc in found.locations] == ["chapter 2, title"]


def test_the_same_story_with_a_quiet_title_is_safe_for_that_warning() -> None:
    v = verdict_of(TITLED["text"][0].replace(TITLE, "The Harbour Wall").encode(), "story.txt")
    assert not any(w.id == "dissection" for w in v.report.warnings)


def test_a_title_in_title_case_does_not_make_an_english_story_another_language() -> None:
    # review 20: read alone, "Bittersweet Symphony Played Under Winter Stars" was guessed
    # Luxembourgish and the work came out "not checked"; titles are not language evidence
    text = TITLED["text"][0].replace(TITLE, "Bittersweet Symphony Played Under Winter Stars")
    v = verdict_of(text.encode(), "story.txt")
    assert v.answer != NOT_CHECKED, v.reasons()
    assert v.report.languages is not None and v.report.languages.judgeable


def test_a_title_given_by_the_contents_over_a_bare_page_heading_is_read() -> None:
    # review 20: the nav said "Chapter 2: The Autopsy of My Brother", the page "Chapter 2";
    # the page's bare label won and the title was never read
    nav = ('<nav epub:type="toc"><ol><li><a href="a.xhtml">Chapter 1: Morning</a></li>'
           f'<li><a href="b.xhtml">Chapter 2: {escape(TITLE)}</a></li></ol></nav>')
    data = epub([{"name": "nav.xhtml", "properties": "nav", "body": nav, "in_spine": False},
                 {"name": "a.xhtml", "body": "<h1>Chapter 1</h1>" + story()},
                 {"name": "b.xhtml", "body": "<h1>Chapter 2</h1>" + story()}])
    v = verdict_of(data, "book.epub")
    assert v.answer == NOT_SAFE, v.reasons()
    [found] = [w for w in v.report.warnings if w.id == "dissection"]
    assert [loc.describe() for loc in found.locations] == ["chapter 2, title"]


def test_a_heading_broken_by_a_line_break_is_still_a_chapter_with_its_title() -> None:
    page = (f"<html><body><h2>Chapter 1: Morning</h2>{story()}"
            f"<h2>Chapter 2<br>{escape(TITLE)}</h2>{story()}"
            f"<h2>Chapter 3: Evening</h2>{story()}</body></html>")
    work = read_bytes(page.encode(), "story.html")
    assert [" ".join((c.title or "").split()) for c in work.chapters] == [
        "Chapter 1: Morning", f"Chapter 2 {TITLE}", "Chapter 3: Evening"]
    assert verdict_of(page.encode(), "story.html").answer == NOT_SAFE


@pytest.mark.parametrize("where", ["title", "text"])
def test_markdown_character_references_are_read_as_a_viewer_shows_them(where: str) -> None:
    # review 20, finding 9: "&#65;utopsy" shows as "Autopsy" in any Markdown viewer
    hidden = TITLE.replace("Autopsy", "&#65;utopsy")
    body = f"He went to the {hidden.lower()} alone." if where == "text" else QUIET
    text = f"# Shore\n\n## Morning\n\n{QUIET}\n\n## {hidden if where == 'title' else 'Noon'}" \
           f"\n\n{body}\n"
    v = verdict_of(text.encode(), "story.md")
    assert v.answer == NOT_SAFE, v.reasons()


def test_a_reference_is_decoded_in_place_and_only_where_it_decodes() -> None:
    from forewarn.normalize import decode_references

    for raw in ["The &#72;anged man", "a&shy;b &amp; c &#x48;i", "&bogus; &#xZZ; & ;"]:
        out = decode_references(raw)
        assert len(out) == len(raw)
        assert out.replace("\u200b", "") == {
            "The &#72;anged man": "The Hanged man", "a&shy;b &amp; c &#x48;i": "a\u00adb & c Hi",
            "&bogus; &#xZZ; & ;": "&bogus; &#xZZ; & ;"}[raw]
