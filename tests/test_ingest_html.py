"""HTML reader: AO3 downloads and generic story HTML."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import FIXTURES, assert_offsets, paragraph_texts

from forewarn.errors import EmptyInput, UnsupportedFormat
from forewarn.ingest import read_bytes, read_path
from forewarn.ingest.ao3_html import parse_html
from forewarn.work import Work

AO3 = FIXTURES / "ao3_download.html"


@pytest.fixture(scope="module")
def ao3_work() -> Work:
    return read_path(AO3)


def test_ao3_metadata(ao3_work: Work) -> None:
    work = ao3_work
    assert work.format == "ao3-html"
    assert work.encoding == "utf-8"
    assert work.source == str(AO3)
    assert work.title == "The Tidewater Keeper"
    assert work.author == "quietwren"
    assert work.rating == "Mature"
    assert work.archive_warnings == ["Graphic Depictions Of Violence", "Major Character Death"]
    assert work.freeform_tags == ["Lighthouses", "Grief/Mourning", "Drowning", "Hurt/Comfort"]
    assert work.tags["category"] == ["F/F"]
    assert work.tags["fandom"] == ["Original Work"]
    assert work.tags["relationship"] == ["Maren/Ysolde"]
    assert work.tags["character"] == ["Maren", "Ysolde", "The Harbourmaster"]
    assert work.tags["language"] == ["English"]
    assert "stats" not in work.tags


def test_ao3_summary_notes_and_content_notes(ao3_work: Work) -> None:
    work = ao3_work
    assert work.summary == (
        "Maren keeps the light on the point. Ysolde keeps coming back.\n\n"
        "TW: drowning, blood, a funeral. Please mind the tags."
    )
    assert work.content_notes == ["drowning", "blood", "a funeral"]
    notes = work.notes or ""
    assert "lighthouses & the people who love them" in notes
    assert "Chapter Summary (Chapter 1: Low Water):\nThe storm arrives early." in notes
    assert "Thank you to my beta" in notes
    assert "Chapter End Notes (Chapter 1: Low Water):\nMore soon, I promise." in notes
    assert "End Notes:\nThank you for reading." in notes


def test_ao3_chapters(ao3_work: Work) -> None:
    work = ao3_work
    assert [ch.title for ch in work.chapters] == ["Chapter 1: Low Water", "Chapter 2: Slack Tide"]
    first, second = paragraph_texts(work)
    assert first[0].startswith("The lamp room smelled of paraffin and salt.")
    assert "she thought \u2014 and then" in first[1]  # &nbsp;&mdash; decoded
    assert (
        first[2]
        == "She ran the rope down the slipway until her palms burned.\nThe boat struck the rocks."
    )
    assert first[3].startswith("Ysolde came out of the water")  # <br/><br/> split
    assert len(first) == 4  # the "* * *" paragraph is a scene break
    assert second[2] == "\u201cWill you keep it lit?\u201d Ysolde asked."
    assert len(second) == 4


def test_ao3_story_text_excludes_everything_else(ao3_work: Work) -> None:
    text = ao3_work.source_text
    for outside in ("script", "Posted originally", "Summary", "beta", "More soon",
                    "Comments keep", "drop by the Archive", "Preface", "Rating", "font-family"):  # fmt: skip
        assert outside not in text
    assert_offsets(ao3_work)
    assert text == "\n\n".join(ch.text for ch in ao3_work.chapters)


def test_ao3_one_shot_has_no_chapter_titles() -> None:
    markup = """<html><body>
    <div id="preface"><div class="meta"><dl class="tags">
      <dt>Archive Warning:</dt><dd><a href="#">Underage Sex</a></dd>
      <dt>Additional Tags:</dt><dd><a href="#">Angst</a></dd></dl>
      <h1>Short One</h1><div class="byline">by <a href="#">a</a>, <a href="#">b</a></div>
    </div></div>
    <div id="chapters" class="userstuff">
      <div class="userstuff"><p>Only one chapter.</p><p>Two paragraphs.</p></div>
    </div></body></html>"""
    work = parse_html(markup, "one.html")
    assert work.format == "ao3-html"
    assert work.title == "Short One"
    assert work.author == "a, b"
    assert work.archive_warnings == ["Underage Sex"]
    assert [(ch.title, [p.text for p in ch.paragraphs]) for ch in work.chapters] == [
        (None, ["Only one chapter.", "Two paragraphs."])
    ]


def test_generic_html_fixture() -> None:
    work = read_path(FIXTURES / "generic_story.html")
    assert work.format == "html"
    assert work.title == "Ferry Crossing"
    # unmarked text before the first chapter is story, read as its opening: notes are
    # not scanned
    assert work.notes is None
    assert [ch.title for ch in work.chapters] == ["Chapter 1", "Chapter 2: Landfall"]
    first, second = paragraph_texts(work)
    assert first[0] == "A short story in two parts."
    assert first[2].startswith("He stood at the rail & watched the town shrink \u2014 the church")
    assert "mother\u2019s house" in first[2]
    assert second == [
        "The island had one road, one shop and one dog, who met every ferry.",
        "The dog looked at Joaquim for a long time.\nThen it went home.",
        "Nobody asked him why he had come.",
    ]
    for outside in ("document.write", "text-indent", "Home", "Stories"):
        assert outside not in work.source_text
    assert_offsets(work)


def test_generic_html_without_headings_is_one_chapter() -> None:
    work = parse_html("<p>One.</p><p>Two.</p><div>Three<br>and a half.</div>")
    assert paragraph_texts(work) == [["One.", "Two.", "Three\nand a half."]]
    assert work.chapters[0].title is None


def test_generic_html_h1_title_and_h1_chapters() -> None:
    markup = "<h1>The Title</h1><h1>Chapter 1</h1><p>A.</p><h1>Chapter 2</h1><p>B.</p>"
    work = parse_html(markup)
    assert work.title == "The Title"
    assert [ch.title for ch in work.chapters] == ["Chapter 1", "Chapter 2"]


def test_generic_html_h2_sections_split_when_no_chapter_headings() -> None:
    markup = "<title>T</title><h2>Arrival</h2><p>A.</p><h2>Departure</h2><p>B.</p>"
    work = parse_html(markup)
    assert [ch.title for ch in work.chapters] == ["Arrival", "Departure"]


def test_malformed_html_is_read_leniently() -> None:
    markup = b"<html><body><div><p>First paragraph<p>Second <b>bold <i>text</div><p>Third"
    work = read_bytes(markup, "broken.html")
    assert paragraph_texts(work) == [["First paragraph", "Second bold text", "Third"]]


def test_truncated_tag_at_end() -> None:
    work = read_bytes(b"<p>Some story text.</p><p>More text</p><p class=", "cut.html")
    assert paragraph_texts(work)[0][:2] == ["Some story text.", "More text"]


def test_deeply_nested_markup_does_not_overflow() -> None:
    markup = ("<div>" * 5000 + "<p>deep</p>" + "</div>" * 5000).encode()
    assert paragraph_texts(read_bytes(markup, "deep.html")) == [["deep"]]


def test_html_without_text_is_empty() -> None:
    with pytest.raises(EmptyInput, match=r"^empty\.html: no story text$"):
        read_bytes(b"<html><head><title>x</title><script>var a=1;</script></head><body>"
                   b"<img src='a.png'><p>&nbsp;</p></body></html>", "empty.html")  # fmt: skip


def test_binary_with_html_extension_is_unsupported() -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    with pytest.raises(UnsupportedFormat, match=r"^pic\.html: binary file, not a story$"):
        read_bytes(data, "pic.html")


def test_meta_charset_is_honoured() -> None:
    markup = (
        '<html><head><meta charset="windows-1252"></head><body><p>Caf\u00e9 \u2014 '
        "na\u00efve.</p></body></html>"
    ).encode("cp1252")
    work = read_bytes(markup, "legacy.html")
    assert paragraph_texts(work) == [["Caf\u00e9 \u2014 na\u00efve."]]
    assert work.encoding == "cp1252"


def test_html_is_sniffed_without_extension() -> None:
    work = read_bytes(b"<!DOCTYPE html><html><body><p>Hi there.</p></body></html>", "page")
    assert work.format == "html"
    assert paragraph_texts(work) == [["Hi there."]]


def test_xhtml_extension_reads_as_html(tmp_path: Path) -> None:
    path = tmp_path / "story.xhtml"
    path.write_text(
        '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>'
        "<p>Line<br/>break.</p></body></html>",
        encoding="utf-8",
    )
    assert paragraph_texts(read_path(path)) == [["Line\nbreak."]]


def test_scene_break_hr_and_symbols() -> None:
    work = parse_html("<p>A.</p><hr/><p>B.</p><p>~ ~ ~</p><p>C.</p><center>***</center>")
    assert paragraph_texts(work) == [["A.", "B.", "C."]]


AO3_PAGE = """<!DOCTYPE html><html><head><title>Night Ferry - Chapter 1 - inkpot</title></head>
<body><div id="header"><ul class="primary navigation"><li><a href="/">Fandoms</a></li></ul></div>
<div id="main" class="works-show region">
<div class="wrapper"><dl class="work meta group">
  <dt class="rating tags">Rating:</dt>
  <dd class="rating tags"><ul class="commas"><li><a class="tag" href="#">Explicit</a></li></ul></dd>
  <dt class="warning tags">Archive Warning:</dt>
  <dd class="warning tags"><ul class="commas"><li><a class="tag" href="#">Rape/Non-Con</a></li></ul></dd>
  <dt class="freeform tags">Additional Tags:</dt>
  <dd class="freeform tags"><ul class="commas"><li><a class="tag" href="#">Ferries</a></li>
  <li><a class="tag" href="#">Night Crossings</a></li></ul></dd>
  <dt class="stats">Stats:</dt><dd class="stats"><dl class="stats"><dt class="words">Words:</dt>
  <dd class="words">90</dd></dl></dd>
</dl></div>
<div id="workskin">
  <div class="preface group">
    <h2 class="title heading">Night Ferry</h2>
    <h3 class="byline heading"><a rel="author" href="#">inkpot</a></h3>
    <div class="summary module"><h3 class="heading">Summary:</h3>
      <blockquote class="userstuff"><p>The last boat out. Content warning: assault (offscreen).</p></blockquote></div>
  </div>
  <div id="chapters" role="article">
    <div class="chapter" id="chapter-1">
      <div class="chapter preface group"><h3 class="title"><a href="#">Chapter 1</a>: Departure</h3>
        <div id="notes" class="notes module"><h3 class="heading">Notes:</h3>
        <blockquote class="userstuff"><p>Chapter one note.</p></blockquote></div></div>
      <div class="userstuff module" role="article">
        <h3 class="landmark heading" id="work">Chapter Text</h3>
        <p>The ferry horn sounded over the black water.</p><p>Nobody else was aboard.</p>
      </div>
    </div>
    <div class="chapter" id="chapter-2">
      <div class="chapter preface group"><h3 class="title"><a href="#">Chapter 2</a></h3></div>
      <div class="userstuff module" role="article">
        <h3 class="landmark heading">Chapter Text</h3><p>Morning came grey.</p></div>
      <div class="chapter preface group"><div class="end notes module" id="chapter_2_endnotes">
        <h3 class="heading">Notes:</h3><blockquote class="userstuff"><p>Fin.</p></blockquote>
      </div></div>
    </div>
  </div>
</div>
<div id="feedback"><p>Kudos and comments here.</p></div>
</div></body></html>"""


def test_ao3_saved_work_page() -> None:
    work = parse_html(AO3_PAGE, "page.html")
    assert work.format == "ao3-html"
    assert work.title == "Night Ferry"
    assert work.author == "inkpot"
    assert work.rating == "Explicit"
    assert work.archive_warnings == ["Rape/Non-Con"]
    assert work.freeform_tags == ["Ferries", "Night Crossings"]
    assert work.content_notes == ["assault (offscreen)"]
    assert [(ch.title, [p.text for p in ch.paragraphs]) for ch in work.chapters] == [
        ("Chapter 1: Departure", ["The ferry horn sounded over the black water.",
                                  "Nobody else was aboard."]),
        ("Chapter 2", ["Morning came grey."]),
    ]  # fmt: skip
    assert "Chapter one note." in (work.notes or "")
    assert "Chapter End Notes (Chapter 2):\nFin." in (work.notes or "")
    for outside in ("Fandoms", "Kudos", "Chapter Text", "Summary"):
        assert outside not in work.source_text
    assert_offsets(work)


# --- coverage: what a person sees is what the audit holds the reader to --------------------

_PROSE = ("She walked down to the harbour before dawn and watched the boats come in one by "
          "one, counting the gulls that followed them.")


def _coverage(markup: str) -> tuple[Work, bool]:
    work = read_bytes(markup.encode(), "story.html")
    assert work.coverage is not None
    return work, work.coverage.fully_read


def test_a_drop_cap_is_one_word_with_the_rest_of_it() -> None:
    work, full = _coverage(f'<p><span class="dropcap">T</span>he morning was grey. {_PROSE}</p>'
                           "<p>She went home.</p>")
    assert paragraph_texts(work)[0][0].startswith("The morning was grey.")
    assert full


def test_a_less_than_sign_in_the_story_is_text_not_a_cut_tag() -> None:
    for opening in ("I love you <3, she said.", "The level was < 3 that year."):
        work, full = _coverage(f"<p>{opening} {_PROSE}")  # no closing tags at all
        text = paragraph_texts(work)[0][0]
        assert text.startswith(opening) and text.endswith("followed them.")
        assert full


def test_ids_any_book_uses_do_not_make_an_ao3_download() -> None:
    work, full = _coverage(f'<div id="preface"><p>A word before.</p></div><p>{_PROSE}</p>'
                           f'<section id="afterword"><p>{_PROSE}</p></section>')
    assert work.format == "html"
    assert full


def test_story_outside_an_ao3_downloads_chapters_is_not_read() -> None:
    markup = (f'<div id="preface"><p>Posted on the archive.</p></div>'
              f'<div id="chapters" class="userstuff"><p>{_PROSE}</p></div>'
              f'<div id="epilogue"><p>{_PROSE} Then the storm came over the point.</p></div>'
              f'<div id="afterword"><p>Thanks for reading.</p></div>')
    work, full = _coverage(markup)
    assert work.format == "ao3-html"
    assert not full
    assert "storm" not in work.chapters[0].text
    assert work.coverage is not None and work.coverage.unread_words >= 20


@pytest.mark.parametrize("hidden, fully_read", [
    (f'<select><option>{_PROSE}</option></select>', False),
    ('<select><option>Chapter 1</option><option>Chapter 2: The Storm</option></select>', True),
    (f'<img src="a.png" alt="{_PROSE}">', True),  # read: an image's description
    ('<img src="cover.png" alt="cover">', True),
    (f'<input type="text" value="{_PROSE}">', False),
    (f'<input type="hidden" value="{_PROSE}">', True),
    (f'<iframe srcdoc="<p>{_PROSE}</p>"></iframe>', False),
])
def test_text_a_browser_shows_outside_the_text_nodes_is_audited(hidden: str,
                                                                  fully_read: bool) -> None:
    _, full = _coverage(f"<p>{_PROSE}</p>{hidden}<p>{_PROSE}</p>")
    assert full is fully_read


def test_a_declarative_shadow_root_is_read_as_story() -> None:
    work, full = _coverage(f'<div><template shadowrootmode="open"><p>{_PROSE}</p></template>'
                           "</div><p>The end of it.</p>")
    assert any("counting the gulls" in p for p in paragraph_texts(work)[0])
    assert full


def test_deep_nesting_is_read_and_audited_in_one_walk() -> None:
    depth = 30_000
    work, full = _coverage("<div>word " * depth + "</div>" * depth)
    assert len(work.chapters[0].text.split()) == depth
    assert full


def test_a_document_of_too_many_elements_is_refused() -> None:
    from forewarn.errors import InputTooLarge
    from forewarn.ingest._html import MAX_ELEMENTS

    with pytest.raises(InputTooLarge, match="too many HTML elements"):
        read_bytes(("<p>" + "<i>x</i> " * (MAX_ELEMENTS + 1) + "</p>").encode(), "tags.html")


def test_an_image_description_is_read_as_a_paragraph_and_a_label_is_not() -> None:
    work, full = _coverage(f'<p>{_PROSE}</p><img src="a.png" alt="A girl weeps at a grave '
                           'in the rain."><img src="b.png" alt="ornament"><p>The end.</p>')
    assert paragraph_texts(work)[0] == [_PROSE, "A girl weeps at a grave in the rain.",
                                        "The end."]
    assert full


# --- review 18: text a person sees that was neither read nor accounted for -----------------

_HIDDEN = ("That night she took the razor from the cabinet and cut deep lines into her "
           "wrists until the sink ran red, and she wanted to die.")


def _read_as_story(work: Work, text: str = _HIDDEN) -> bool:
    return any(text in chapter.text for chapter in work.chapters)


@pytest.mark.parametrize("markup", [
    # ids any HTML book uses: not an AO3 download
    f'<div id="chapters"><p>{_PROSE}</p></div>'
    f'<div id="afterword"><h2>Afterword</h2><p>{_HIDDEN}</p></div>',
    f'<div id="preface"><h1>Quiet</h1><p>{_HIDDEN}</p></div>'
    f'<div id="chapters" class="userstuff"><p>{_PROSE}</p></div>',
    # an AO3 download: text of its preface or afterword that is not metadata is story
    f'<div id="preface"><div class="meta"><dl class="tags"><dt>Rating:</dt><dd><a>Mature</a>'
    f'</dd></dl><h1>Quiet</h1><p>{_HIDDEN}</p></div></div>'
    f'<div id="chapters" class="userstuff"><p>{_PROSE}</p></div>',
    f'<div id="preface"><div class="meta"><dl class="tags"><dt>Rating:</dt><dd><a>Mature</a>'
    f'</dd></dl></div></div><div id="chapters" class="userstuff"><p>{_PROSE}</p></div>'
    f'<div id="afterword"><h2 class="toc-heading">Afterword</h2><p>{_HIDDEN}</p></div>',
    # a work page saved from the browser: all of #workskin
    f'<div id="workskin"><div id="chapters"><p>{_PROSE}</p></div>'
    f'<div class="afterword"><p>{_HIDDEN}</p></div></div>',
])
def test_text_around_ao3s_chapters_is_read(markup: str) -> None:
    work, full = _coverage(markup)
    assert _read_as_story(work)
    assert full


def test_a_sentence_loose_among_ao3_tag_links_is_not_lost(ao3_work: Work) -> None:
    markup = (f'<div id="preface"><div class="meta"><dl class="tags"><dt>Epigraph:</dt>'
              f'<dd>{_HIDDEN}</dd><dt>Rating:</dt><dd><a>Mature</a> and {_PROSE}</dd></dl>'
              f'</div></div><div id="chapters" class="userstuff"><p>{_PROSE}</p></div>')
    work, full = _coverage(markup)
    assert _read_as_story(work)  # a label forewarn does not know: its value is story
    assert work.rating is not None and "harbour" in work.rating  # the value as written
    assert full
    # AO3's own words (labels, stats, messages, "by") are accounted for, and read as no story
    assert ao3_work.coverage is not None and ao3_work.coverage.unread_words == 0
    assert [ch.title for ch in ao3_work.chapters] == ["Chapter 1: Low Water",
                                                      "Chapter 2: Slack Tide"]


def test_a_short_opening_before_the_first_chapter_is_story() -> None:
    opening = "She took the razor and cut deep lines into her wrists until the sink ran red."
    work, full = _coverage(f"<title>Quiet</title><p>A/N: thanks to my beta.</p><p>{opening}</p>"
                           f"<h2>Chapter 1</h2><p>{_PROSE}</p><h2>Chapter 2</h2><p>{_PROSE}</p>")
    assert work.chapters[0].title == "Chapter 1"
    assert paragraph_texts(work)[0] == [opening, _PROSE]
    assert work.notes == "A/N: thanks to my beta."  # a marked note stays one
    assert full


# shown as nothing a person reads: no document is missing for these
_NO_DOCUMENT = ('<iframe src="about:blank"></iframe><object data="map.png" type="image/png">'
                '</object><iframe srcdoc="<p>Fin.</p>" src="x.html"></iframe>')


@pytest.mark.parametrize("embed", [
    '<iframe src="data:text/html,<p>words</p>"></iframe>',
    '<iframe src="letter.html"></iframe>',
    '<object data="letter.html" type="text/html"></object>',
    '<embed src="data:text/html,<p>words</p>" type="text/html">',
    '<frameset><frame src="letter.html"></frameset>',
])
def test_a_document_shown_from_elsewhere_could_not_be_read(embed: str) -> None:
    work, full = _coverage(f"<p>{_PROSE}</p>{embed}{_NO_DOCUMENT}<p>{_PROSE}</p>")
    assert not full
    assert work.coverage is not None and len(work.coverage.missing_documents) == 1
    assert "words" not in work.coverage.missing_documents[0]  # a data: URL is not quoted


def test_an_objects_fallback_content_is_read() -> None:
    work, full = _coverage(f"<p>{_PROSE}</p><object><p>{_HIDDEN}</p></object>")
    assert _read_as_story(work)
    assert full


# rules that add no words: not counted
_NO_TEXT = ('<style>p::before { content: ""; } p::after { content: "\\201C" } '
            ".x { justify-content: space-between }</style>")


@pytest.mark.parametrize("style", [
    f'<style>p.end::after {{ content: "{_HIDDEN}" }}</style>',
    f"<style>/* x */ p.end:before{{content:'{_HIDDEN}';color:red}}</style>",
    f'<p style="list-style-type: \'{_HIDDEN}\'">x</p>',
    f'<style>p::after {{ content: attr(data-x) }}</style><p data-x="{_HIDDEN}">x</p>',
])
def test_text_a_stylesheet_adds_is_not_fully_read(style: str) -> None:
    work, full = _coverage(f'<p>{_PROSE}</p>{_NO_TEXT}{style}<p class="end">The end.</p>')
    assert not full
    assert work.coverage is not None and work.coverage.unread_words == len(_HIDDEN.split())


# labels: navigation
_LABELS = ('<input placeholder="Search"><p title="Next chapter">The end.</p>'
           '<abbr title="World Health Organization in Geneva">WHO</abbr>')


@pytest.mark.parametrize("field", [
    f'<input type="text" placeholder="{_HIDDEN}">',
    f'<textarea placeholder="{_HIDDEN}"></textarea>',
    f'<span title="{_HIDDEN}">The end.</span>',
])
def test_placeholders_and_tooltips_are_audited(field: str) -> None:
    work, full = _coverage(f"<p>{_PROSE}</p>{_LABELS}{field}")
    assert not full
    assert work.coverage is not None and work.coverage.unread_words == len(_HIDDEN.split())


@pytest.mark.parametrize("control", ["button", "label", "summary"])
def test_a_line_of_story_in_a_button_is_read_a_link_stays_a_menu_item(control: str) -> None:
    # up to 8 words in any control counted as navigation, so a choice of interactive
    # fiction ("I am going to kill myself tonight") was never scanned
    line = "I am going to kill myself tonight"
    menu = ('<nav><a href="#1">Chapter 1: The Long Night Begins</a> | '
            '<button>Post Comment</button></nav>')
    work, full = _coverage(f"{menu}<p>{_PROSE}</p><form><{control}>{line}</{control}></form>")
    assert paragraph_texts(work) == [[_PROSE, line]]
    assert full and work.coverage is not None and work.coverage.navigation_words == 8


@pytest.mark.parametrize("container", ["form", "nav", "noscript"])
def test_a_line_of_story_in_an_interface_element_is_read(container: str) -> None:
    line = "I am going to kill myself tonight"
    # a menu's links and its short heading stay navigation
    menu = '<nav><h2>Contents</h2><a href="#1">Chapter 1</a> | <a href="#2">Chapter 2</a></nav>'
    work, full = _coverage(f"{menu}<p>{_PROSE}</p><{container}><p>{line}</p></{container}>")
    assert paragraph_texts(work) == [[_PROSE, line]]
    assert full
