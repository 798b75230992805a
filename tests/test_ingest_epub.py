"""EPUB reader: EPUB 2 and 3 books built in memory, AO3 prefaces, broken and hostile files."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import (
    AO3_PREFACE,
    EpubSpec,
    assert_offsets,
    build_epub,
    container_xml,
    document,
    opf_xml,
    paragraph_texts,
    zip_bytes,
)

from forewarn.errors import EmptyInput, InputTooLarge, MalformedInput
from forewarn.ingest import read_bytes, read_path
from forewarn.ingest.epub import parse_epub

CHAPTERS = [
    ("ch1.xhtml", "<h1>Chapter 1: Fog</h1><p>The foghorn sounded twice.</p><p>Orla woke.</p>"),
    ("ch2.xhtml", "<h2>Chapter 2: Clear</h2><p>By noon the fog had burned off.</p>"),
]


def _spec(version: int, **kwargs: Any) -> EpubSpec:
    return EpubSpec(documents=list(CHAPTERS), version=version, **kwargs)


@pytest.mark.parametrize("version", [2, 3])
def test_epub_chapters_and_metadata(version: int, tmp_path: Path) -> None:
    spec = _spec(
        version,
        description="<p>A lighthouse.</p><p>Two <i>keepers</i>.</p>",
        subjects=["Lighthouses", "Fog"],
        toc={"ch1.xhtml": "One", "ch2.xhtml": "Two"},
    )
    path = tmp_path / "book.epub"
    path.write_bytes(build_epub(spec))
    work = read_path(path)
    assert work.format == "epub"
    assert work.source == str(path)
    assert work.title == "Salt and Lamplight"
    assert work.author == "A. Writer"
    assert work.summary == "A lighthouse.\n\nTwo keepers."
    assert work.freeform_tags == ["Lighthouses", "Fog"]
    assert [ch.title for ch in work.chapters] == ["Chapter 1: Fog", "Chapter 2: Clear"]
    assert paragraph_texts(work) == [
        ["The foghorn sounded twice.", "Orla woke."],
        ["By noon the fog had burned off."],
    ]
    assert work.source_text == "\n\n".join(ch.text for ch in work.chapters)
    assert_offsets(work)


def test_epub2_titles_from_ncx_labels() -> None:
    spec = EpubSpec(
        documents=[("a.xhtml", "<p>First.</p>"), ("b.xhtml", "<p>Second.</p>")],
        version=2,
        toc={"a.xhtml": "The Beginning", "b.xhtml": "The End"},
    )
    work = parse_epub(build_epub(spec), "b.epub")
    assert [ch.title for ch in work.chapters] == ["The Beginning", "The End"]


def test_epub3_titles_from_nav_labels_and_nav_is_not_a_chapter() -> None:
    spec = EpubSpec(
        documents=[("a.xhtml", "<p>First.</p>"), ("b.xhtml", "<p>Second.</p>")],
        version=3,
        toc={"a.xhtml": "Uno", "b.xhtml": "Dos"},
    )
    work = parse_epub(build_epub(spec), "b.epub")
    assert [ch.title for ch in work.chapters] == ["Uno", "Dos"]
    assert "Contents" not in work.source_text


def test_spine_order_not_manifest_order() -> None:
    spec = EpubSpec(
        documents=[("z.xhtml", "<p>Comes first.</p>"), ("a.xhtml", "<p>Comes second.</p>")],
        manifest_order=["a.xhtml", "z.xhtml"],
    )
    assert paragraph_texts(parse_epub(build_epub(spec))) == [["Comes first."], ["Comes second."]]


def test_non_linear_items_are_read() -> None:
    # linear="no" marks notes, appendices and extra scenes: still the book, still read
    spec = EpubSpec(
        documents=[("a.xhtml", "<p>Story.</p>"), ("notes.xhtml", "<p>Footnotes.</p>")],
        non_linear={"notes.xhtml"},
    )
    work = parse_epub(build_epub(spec))
    assert paragraph_texts(work) == [["Story."], ["Footnotes."]]
    assert work.coverage is not None and work.coverage.fully_read


def test_ao3_preface_page_gives_tags_not_a_chapter() -> None:
    spec = EpubSpec(
        documents=[("preface.xhtml", AO3_PREFACE), *CHAPTERS],
        subjects=["Fanworks", "Teen And Up Audiences", "Orla", "Found Family", "Original Work"],
    )
    work = parse_epub(build_epub(spec), "ao3.epub")
    assert work.rating == "Teen And Up Audiences"
    assert work.archive_warnings == ["No Archive Warnings Apply"]
    assert work.tags["fandom"] == ["Original Work"]
    assert work.tags["character"] == ["Orla", "Benedek"]
    assert work.freeform_tags == ["Found Family", "Shipwrecks"]  # filed subjects dropped
    assert work.summary == "Two keepers, one lamp. CW: injury."
    assert work.content_notes == ["injury"]
    assert [ch.title for ch in work.chapters] == ["Chapter 1: Fog", "Chapter 2: Clear"]
    assert "Preface" not in work.source_text
    assert "Teen And Up" not in work.source_text
    assert_offsets(work)


def test_ao3_epub_chapter_documents_and_split_continuation() -> None:
    chapter_one = (
        '<div id="chapters" class="userstuff"><div class="meta group">'
        '<h2 class="heading">Chapter 1: Harbour</h2><p>Chapter Notes</p>'
        '<blockquote class="userstuff"><p>Beta thanks.</p></blockquote></div>'
        '<div class="userstuff"><p>Start of one.</p></div></div>'
    )
    continuation = '<div id="chapters"><div class="userstuff"><p>Rest of one.</p></div></div>'
    chapter_two = (
        '<div id="chapters"><div class="meta group"><h2 class="heading">Chapter 2</h2></div>'
        '<div class="userstuff"><p>Two.</p></div></div>'
    )
    afterword = (
        '<div id="afterword"><div id="endnotes"><p>End Notes</p>'
        "<blockquote><p>Thanks for reading.</p></blockquote></div></div>"
    )
    spec = EpubSpec(
        documents=[
            ("p.xhtml", AO3_PREFACE),
            ("c1.xhtml", chapter_one),
            ("c1b.xhtml", continuation),
            ("c2.xhtml", chapter_two),
            ("after.xhtml", afterword),
        ]
    )
    work = parse_epub(build_epub(spec))
    assert [(ch.title, [p.text for p in ch.paragraphs]) for ch in work.chapters] == [
        ("Chapter 1: Harbour", ["Start of one.", "Rest of one."]),
        ("Chapter 2", ["Two."]),
    ]
    assert "Beta thanks." in (work.notes or "")
    assert "Thanks for reading." in (work.notes or "")
    assert work.coverage is not None and work.coverage.fully_read, work.coverage


def test_title_page_of_key_value_lines_is_metadata() -> None:
    title_page = (
        "<h3>The Orchard by fennel</h3><div><b>Rating:</b> Mature<br/>"
        "<b>Warnings:</b> fire, injury<br/><b>Summary:</b> Apples.<br/>"
        "<b>Status:</b> Complete<br/></div>"
    )
    spec = EpubSpec(documents=[("title_page.xhtml", title_page), *CHAPTERS], title="The Orchard")
    work = parse_epub(build_epub(spec))
    assert work.rating == "Mature"
    assert work.content_notes == ["fire", "injury"]
    assert work.summary == "Apples."
    assert len(work.chapters) == 2


def test_document_with_several_chapter_headings_is_split() -> None:
    body = "<h2>Chapter 1</h2><p>One.</p><h2>Chapter 2</h2><p>Two.</p><h2>Chapter 3</h2><p>3.</p>"
    work = parse_epub(build_epub(EpubSpec(documents=[("all.xhtml", body)])))
    assert [ch.title for ch in work.chapters] == ["Chapter 1", "Chapter 2", "Chapter 3"]


def test_table_of_contents_page_is_skipped() -> None:
    toc = '<h1>Contents</h1><p><a href="a.xhtml">One</a></p><p><a href="b.xhtml">Two</a></p>'
    toc += '<p><a href="c.xhtml">Three</a></p>'
    spec = EpubSpec(documents=[("toc.xhtml", toc), ("a.xhtml", "<p>Story.</p>")])
    assert paragraph_texts(parse_epub(build_epub(spec))) == [["Story."]]


def test_broken_xhtml_is_read_leniently() -> None:
    raw = zip_bytes(
        {
            "mimetype": "application/epub+zip",
            "META-INF/container.xml": container_xml("content.opf"),
            "content.opf": opf_xml(EpubSpec(documents=[("c.xhtml", "")], opf_dir="")),
            "c.xhtml": "<html><body><p>Unclosed <b>bold<p>Second & more</body>",
        }
    )
    assert paragraph_texts(parse_epub(raw)) == [["Unclosed bold", "Second & more"]]


def test_epub_sniffed_without_extension(tmp_path: Path) -> None:
    path = tmp_path / "download"
    path.write_bytes(build_epub(_spec(3)))
    assert read_path(path).format == "epub"


def test_epub_without_text_is_empty() -> None:
    spec = EpubSpec(documents=[("cover.xhtml", '<div><img src="cover.jpg" alt=""/></div>')])
    with pytest.raises(EmptyInput, match=r"^e\.epub: no story text$"):
        parse_epub(build_epub(spec), "e.epub")


# --- broken books --------------------------------------------------------------------------------


def _opf(documents: list[tuple[str, str]]) -> str:
    return opf_xml(EpubSpec(documents=documents, opf_dir=""))


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ({"mimetype": "application/epub+zip"}, "no META-INF/container.xml"),
        (
            {"META-INF/container.xml": "<container><rootfiles/></container>"},
            "no rootfile in META-INF/container.xml",
        ),
        ({"META-INF/container.xml": container_xml("missing.opf")}, "no OPF file missing.opf"),
        ({"META-INF/container.xml": "<container"}, "container.xml: "),
        (
            {"META-INF/container.xml": container_xml("c.opf"), "c.opf": "<package><spine>"},
            "c.opf: ",
        ),
        (
            {"META-INF/container.xml": container_xml("c.opf"), "c.opf": "<package/>"},
            "no spine",
        ),
        (
            {
                "META-INF/container.xml": container_xml("c.opf"),
                "c.opf": "<package><manifest/><spine></spine></package>",
            },
            "empty spine",
        ),
        (
            {
                "META-INF/container.xml": container_xml("c.opf"),
                "c.opf": _opf([("gone.xhtml", "")]),
            },
            "no readable documents in the spine",
        ),
        (
            {"META-INF/container.xml": container_xml("../evil.opf"), "../evil.opf": "<package/>"},
            "no OPF file ../evil.opf",
        ),
    ],
)
def test_broken_epub_is_malformed(members: dict[str, str], reason: str) -> None:
    with pytest.raises(MalformedInput) as caught:
        parse_epub(zip_bytes(members), "story.epub")
    message = str(caught.value)
    assert message.startswith(f"story.epub: not a valid EPUB ({reason}")
    assert "\n" not in message


def test_not_a_zip_is_malformed() -> None:
    with pytest.raises(
        MalformedInput, match=r"^story\.epub: not a valid EPUB \(not a zip archive\)$"
    ):
        read_bytes(b"just some text, not a zip", "story.epub")


def test_truncated_zip_is_malformed() -> None:
    data = build_epub(_spec(3))
    with pytest.raises(MalformedInput, match="not a valid EPUB"):
        read_bytes(data[: len(data) // 2], "cut.epub")


def test_entity_bomb_in_opf_is_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE package [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><package>&b;</package>'
    )
    members = {"META-INF/container.xml": container_xml("c.opf"), "c.opf": bomb}
    with pytest.raises(MalformedInput, match=r"forbidden XML entities"):
        parse_epub(zip_bytes(members), "bomb.epub")


def test_entities_in_content_documents_are_not_expanded() -> None:
    hostile = (
        '<!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/passwd"><!ENTITY y "YYYYYYYY">]>'
        "<html><body><p>Safe &x; &y; text.</p></body></html>"
    )
    raw = zip_bytes(
        {
            "META-INF/container.xml": container_xml("content.opf"),
            "content.opf": _opf([("c.xhtml", "")]),
            "c.xhtml": hostile,
        }
    )
    work = parse_epub(raw)
    assert "root:" not in work.source_text
    assert "YYYYYYYY" not in work.source_text
    # what the document shows depends on entities forewarn never expands: not fully read
    assert work.coverage is not None and not work.coverage.fully_read


def test_total_size_zip_bomb_is_refused() -> None:
    data = build_epub(EpubSpec(documents=[("a.xhtml", "<p>" + "story " * 5000 + "</p>")]))
    with pytest.raises(MalformedInput, match=r"possible zip bomb"):
        read_bytes(data, "big.epub", max_bytes=2000)


def test_high_ratio_member_is_refused() -> None:
    members = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": container_xml("content.opf"),
        "content.opf": _opf([("c.xhtml", "")]),
        "c.xhtml": "<p>" + " " * (11 * 1024 * 1024) + "</p>",
    }
    data = zip_bytes(members)
    assert len(data) < 1024 * 1024
    with pytest.raises(MalformedInput, match=r"compression ratio over 100; possible zip bomb"):
        read_bytes(data, "ratio.epub")


def test_member_names_with_dotdot_or_absolute_are_ignored() -> None:
    opf = _opf([("../escape.xhtml", ""), ("ok.xhtml", "")])
    members = {
        "META-INF/container.xml": container_xml("OEBPS/content.opf"),
        "OEBPS/content.opf": opf,
        "escape.xhtml": document("x", "<p>Outside.</p>"),
        "OEBPS/../escape.xhtml": document("x", "<p>Sneaky.</p>"),
        "/abs.xhtml": document("x", "<p>Absolute.</p>"),
        "OEBPS/ok.xhtml": document("x", "<p>Inside.</p>"),
    }
    work = parse_epub(zip_bytes(members))
    assert "Sneaky" not in work.source_text
    assert "Absolute" not in work.source_text
    assert "Inside." in work.source_text


def test_nothing_is_extracted_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("extract called")

    monkeypatch.setattr(zipfile.ZipFile, "extract", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", refuse)
    parse_epub(build_epub(_spec(2)))
    assert list(tmp_path.iterdir()) == []


# --- bombs: bounded work and memory ---------------------------------------------------------------


def _bomb(documents: dict[str, str], spine: list[str]) -> bytes:
    """An EPUB whose spine may repeat documents (built from explicit members)."""
    manifest = "".join(
        f'<item id="{n}" href="{n}" media-type="application/xhtml+xml"/>' for n in documents
    )
    refs = "".join(f'<itemref idref="{n}"/>' for n in spine)
    opf = (
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
        f"<metadata/><manifest>{manifest}</manifest><spine>{refs}</spine></package>"
    )
    members = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": container_xml("content.opf"),
        "content.opf": opf,
    }
    members.update({n: document(n, body) for n, body in documents.items()})
    return zip_bytes(members)


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from forewarn.ingest.epub import Archive

    reads: list[str] = []
    original = Archive.read

    def read(self: Archive, name: str) -> bytes:
        reads.append(name)
        return original(self, name)

    monkeypatch.setattr(Archive, "read", read)
    return reads


def test_document_repeated_in_the_spine_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    body = "<p>" + "The tide came in over the stones. " * 60 + "</p>"
    data = _bomb({"c.xhtml": body, "d.xhtml": "<p>The end.</p>"},
                 ["c.xhtml"] * 2000 + ["d.xhtml", "c.xhtml"])
    assert len(data) < 30_000
    reads = _count_reads(monkeypatch)
    work = parse_epub(data, "repeat.epub")
    assert reads.count("c.xhtml") == 1
    assert [c.paragraphs[0].text[:13] for c in work.chapters] == ["The tide came", "The end."]


def test_text_over_the_limit_is_too_large_and_reading_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ten documents of 5,000 characters: their markup is under the zip-bomb limit
    # (8 x max_bytes) but their text is over max_bytes; reading stops at the 5th.
    documents = {f"c{i}.xhtml": "<p>" + f"Wave {i:04d}. " * 454 + "</p>" for i in range(10)}
    data = _bomb(documents, list(documents))
    reads = _count_reads(monkeypatch)
    with pytest.raises(InputTooLarge) as caught:
        read_bytes(data, "many.epub", max_bytes=20_000)
    assert str(caught.value) == (
        "many.epub: the book's text is too large (more than 20000 bytes; "
        "the limit is 20000 bytes)"
    )
    assert InputTooLarge.exit_code == 7
    assert len([r for r in reads if r.endswith(".xhtml")]) == 5


def test_member_over_the_limit_is_too_large() -> None:
    data = _bomb({"c.xhtml": "<p>" + "Wave. " * 5000 + "</p>"}, ["c.xhtml"])
    with pytest.raises(InputTooLarge, match=r"^big\.epub: 'c\.xhtml' in the EPUB is too large "):
        read_bytes(data, "big.epub", max_bytes=20_000)


def test_text_at_the_limit_is_read() -> None:
    documents = {f"c{i}.xhtml": "<p>" + "Wave. " * 500 + "</p>" for i in range(6)}
    work = read_bytes(_bomb(documents, list(documents)), "ok.epub", max_bytes=20_000)
    assert len(work.chapters) == 6


# --- every document audited, every gap recorded ---------------------------------------------------

STORY = "<p>The kettle sang on the stove while the rain went on against the window.</p>"
HIDDEN = "Somewhere below the harbour wall a second story waited to be read."


def _item(ident: str, href: str, media: str = "application/xhtml+xml", extra: str = "") -> str:
    return f'<item id="{ident}" href="{href}" media-type="{media}"{extra}/>'


def _package(items: list[str], spine: list[str], members: dict[str, str | bytes],
             after_spine: str = "") -> bytes:
    """An EPUB whose package (``OEBPS/content.opf``) has exactly these manifest items and
    spine idrefs (then ``after_spine``, such as a ``<guide>``); ``members`` are the other
    archive members, by full path."""
    refs = "".join(f'<itemref idref="{i}"/>' for i in spine)
    opf = (
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata/>'
        f'<manifest>{"".join(items)}</manifest><spine>{refs}</spine>{after_spine}</package>'
    )
    return zip_bytes(
        {
            "mimetype": "application/epub+zip",
            "META-INF/container.xml": container_xml("OEBPS/content.opf"),
            "OEBPS/content.opf": opf,
            **members,
        }
    )


def _read_or_not_fully_read(data: bytes) -> None:
    """The hidden sentence is story text, or the work is not called fully read."""
    work = parse_epub(data, "book.epub")
    assert work.coverage is not None
    assert HIDDEN in work.source_text or not work.coverage.fully_read, work.coverage


def test_ao3_epub_documents_are_fully_read() -> None:
    spec = EpubSpec(documents=[("preface.xhtml", AO3_PREFACE), *CHAPTERS])
    work = parse_epub(build_epub(spec), "ao3.epub")
    assert work.coverage is not None and work.coverage.fully_read, work.coverage


@pytest.mark.parametrize(
    "chapters",
    [
        # a child of #chapters led by an <h2> is taken for a chapter's heading block
        f'<div class="meta group"><h2 class="heading">Chapter 1</h2></div>'
        f'<div class="userstuff">{STORY}</div><div><h2>Chapter 2</h2><p>{HIDDEN}</p></div>',
        # paragraphs straight inside #chapters, beside its chapter parts
        f'<div class="meta group"><h2 class="heading">Chapter 1</h2></div>'
        f'<div class="userstuff">{STORY}</div><p>{HIDDEN}</p>',
    ],
    ids=["heading-div", "direct-paragraph"],
)
def test_ao3_epub_text_outside_the_chapter_parts_is_audited(chapters: str) -> None:
    spec = EpubSpec(
        documents=[
            ("preface.xhtml", AO3_PREFACE),
            ("c1.xhtml", f'<div id="chapters" class="userstuff">{chapters}</div>'),
        ]
    )
    work = parse_epub(build_epub(spec), "ao3.epub")
    assert work.coverage is not None
    if HIDDEN not in work.source_text:
        assert not work.coverage.fully_read
        assert any(s.where == "OEBPS/c1.xhtml" and s.words > 3 for s in work.coverage.skipped)


def test_ao3_epub_text_after_the_chapters_is_audited() -> None:
    body = f'<div id="chapters" class="userstuff"><div class="userstuff">{STORY}</div></div>'
    after = body + f"<p>{HIDDEN}</p>"
    spec = EpubSpec(documents=[("preface.xhtml", AO3_PREFACE), ("c1.xhtml", after)])
    _read_or_not_fully_read(build_epub(spec))


def test_a_preface_div_that_is_not_ao3s_is_read() -> None:
    spec = EpubSpec(documents=[("a.xhtml", f'<div id="preface"><p>{HIDDEN}</p></div>' + STORY)])
    _read_or_not_fully_read(build_epub(spec))


def test_svg_document_in_the_spine_is_read() -> None:
    svg = (
        '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="600" height="80">'
        f'<title>figure</title><text x="0" y="20">{HIDDEN}</text></svg>'
    )
    data = _package(
        [_item("c1", "c1.xhtml"), _item("c2", "c2.svg", "image/svg+xml")],
        ["c1", "c2"],
        {"OEBPS/c1.xhtml": document("c1", STORY), "OEBPS/c2.svg": svg},
    )
    work = parse_epub(data)
    assert paragraph_texts(work)[-1] == [HIDDEN]
    assert work.coverage is not None and work.coverage.fully_read


@pytest.mark.parametrize(
    ("items", "members", "recorded"),
    [
        (  # a media type no reader reads
            [_item("c2", "c2.xhtml", "application/octet-stream")],
            {"OEBPS/c2.xhtml": document("c2", f"<p>{HIDDEN}</p>")},
            "OEBPS/c2.xhtml (media type application/octet-stream, not read)",
        ),
        (  # an image standing as a page, with no fallback to a content document
            [_item("c2", "c2.png", "image/png")],
            {"OEBPS/c2.png": b"\x89PNG\r\n\x1a\n"},
            "OEBPS/c2.png (media type image/png, not read)",
        ),
        (  # no media type, and not named like a document
            [_item("c2", "c2.bin", "")],
            {"OEBPS/c2.bin": document("c2", f"<p>{HIDDEN}</p>")},
            "OEBPS/c2.bin (no media type, not read)",
        ),
        (  # a spine idref with no manifest item
            [],
            {"OEBPS/c2.xhtml": document("c2", f"<p>{HIDDEN}</p>")},
            "c2 (in the spine, not in the manifest)",
        ),
        (  # an absolute href naming no member
            [_item("c2", "/OEBPS/gone.xhtml")],
            {},
            "OEBPS/gone.xhtml (missing from the archive)",
        ),
        (  # an href that climbs out of the book
            [_item("c2", "../../c2.xhtml")],
            {"c2.xhtml": document("c2", f"<p>{HIDDEN}</p>")},
            "../../c2.xhtml (outside the book, not read)",
        ),
        (  # a remote document
            [_item("c2", "https://example.org/c2.xhtml")],
            {},
            "https://example.org/c2.xhtml (a remote resource, not read)",
        ),
        (  # a text document of another type, missing from the archive
            [_item("c2", "c2.txt", "text/plain")],
            {},
            "OEBPS/c2.txt (missing from the archive)",
        ),
    ],
    ids=["octet-stream", "image", "no-media-type", "not-in-manifest", "absolute-missing",
         "outside", "remote", "missing-text"],
)
def test_spine_items_that_cannot_be_read_are_recorded(
    items: list[str], members: dict[str, str | bytes], recorded: str
) -> None:
    data = _package(
        [_item("c1", "c1.xhtml"), *items],
        ["c1", "c2", "c2"],  # recorded once however often the spine names it
        {"OEBPS/c1.xhtml": document("c1", STORY), **members},
    )
    work = parse_epub(data, "book.epub")
    assert HIDDEN not in work.source_text
    assert work.coverage is not None and not work.coverage.fully_read
    assert work.coverage.missing_documents == (recorded,)


def test_absolute_href_is_resolved_from_the_container_root() -> None:
    data = _package(
        [_item("c1", "c1.xhtml"), _item("c2", "/OEBPS/c2.xhtml")],
        ["c1", "c2"],
        {"OEBPS/c1.xhtml": document("c1", STORY),
         "OEBPS/c2.xhtml": document("c2", f"<p>{HIDDEN}</p>")},
    )
    work = parse_epub(data)
    assert HIDDEN in work.source_text
    assert work.coverage is not None and work.coverage.fully_read


def test_fallback_chain_to_a_content_document_is_followed() -> None:
    data = _package(
        [_item("c1", "c1.xhtml"),
         _item("c2", "c2.png", "image/png", ' fallback="c2-vector"'),
         _item("c2-vector", "c2.dat", "application/x-unknown", ' fallback="c2-text"'),
         _item("c2-text", "c2.xhtml")],
        ["c1", "c2"],
        {"OEBPS/c1.xhtml": document("c1", STORY), "OEBPS/c2.png": b"\x89PNG\r\n\x1a\n",
         "OEBPS/c2.xhtml": document("c2", f"<p>{HIDDEN}</p>")},
    )
    work = parse_epub(data)
    assert HIDDEN in work.source_text
    assert work.coverage is not None and work.coverage.fully_read


def _nav(links: str) -> str:
    return document("nav", f'<nav epub:type="toc"><ol>{links}</ol></nav>')


@pytest.mark.parametrize("via", ["nav", "ncx", "page"])
def test_document_linked_but_not_in_the_spine_is_read(via: str) -> None:
    items = [_item("c1", "c1.xhtml"), _item("c2", "c2.xhtml")]
    members: dict[str, str | bytes] = {"OEBPS/c2.xhtml": document("c2", f"<p>{HIDDEN}</p>")}
    chapter = STORY
    if via == "nav":
        items.append(_item("nav", "nav.xhtml", extra=' properties="nav"'))
        members["OEBPS/nav.xhtml"] = _nav(
            '<li><a href="c1.xhtml">Chapter 1</a></li><li><a href="c2.xhtml#top">Chapter 2</a></li>'
        )
    elif via == "ncx":
        items.append(_item("ncx", "toc.ncx", "application/x-dtbncx+xml"))
        members["OEBPS/toc.ncx"] = (
            '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/"><navMap>'
            '<navPoint><navLabel><text>Two</text></navLabel><content src="c2.xhtml"/></navPoint>'
            "</navMap></ncx>"
        )
    else:
        chapter += '<p>See the <a href="c2.xhtml#n1">note</a>.</p>'
    members["OEBPS/c1.xhtml"] = document("c1", chapter)
    work = parse_epub(_package(items, ["c1"], members))
    assert HIDDEN in work.source_text
    assert work.coverage is not None and work.coverage.fully_read


def test_linked_document_missing_from_the_archive_is_recorded() -> None:
    items = [_item("c1", "c1.xhtml"), _item("c2", "c2.xhtml"), _item("img", "map.png", "image/png"),
             _item("nav", "nav.xhtml", extra=' properties="nav"')]
    nav = _nav('<li><a href="c1.xhtml">One</a></li><li><a href="c2.xhtml">Two</a></li>'
               '<li><a href="map.png">Map</a></li><li><a href="nowhere.xhtml">Three</a></li>')
    work = parse_epub(_package(items, ["c1"], {"OEBPS/c1.xhtml": document("c1", STORY),
                                              "OEBPS/nav.xhtml": nav}))
    # the manifest's document is missing; an image and a link to nothing are no text
    assert work.coverage is not None and work.coverage.missing_documents == (
        "OEBPS/c2.xhtml (missing from the archive)",)


def test_document_declaring_entities_is_not_fully_read() -> None:
    declared = (
        f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY scene "{HIDDEN}">]>'
        "<html><body><h1>Chapter 2</h1><p>&scene;</p></body></html>"
    )
    data = _package(
        [_item("c1", "c1.xhtml"), _item("c2", "c2.xhtml")],
        ["c1", "c2"],
        {"OEBPS/c1.xhtml": document("c1", STORY), "OEBPS/c2.xhtml": declared},
    )
    work = parse_epub(data, "book.epub")
    assert HIDDEN not in work.source_text  # never expanded
    assert work.coverage is not None and not work.coverage.fully_read
    assert work.coverage.missing_documents == (
        "OEBPS/c2.xhtml (declares XML entities, which forewarn does not expand)",
    )


def test_deeply_nested_metadata_is_read() -> None:
    # one walk (bench, not this test, times it: reading each element's text again for
    # every element took hours at this depth)
    depth = 200_000
    subject = "<x>" * depth + "Lighthouses" + "</x>" * depth
    opf = (
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title>'
        f"<dc:subject>{subject}</dc:subject></metadata>"
        f'<manifest>{_item("c1", "c1.xhtml")}</manifest><spine><itemref idref="c1"/></spine>'
        "</package>"
    )
    data = zip_bytes({"META-INF/container.xml": container_xml("content.opf"),
                      "content.opf": opf, "c1.xhtml": document("c1", STORY)})
    work = parse_epub(data)
    assert work.freeform_tags == ["Lighthouses"]


def _mark_encrypted(data: bytes, name: str) -> bytes:
    """Set the "encrypted" flag of member ``name`` (zipfile cannot write encrypted members)."""
    out, encoded = bytearray(data), name.encode()
    for signature, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        at = out.find(signature)
        while at != -1:
            if out[at + name_at : at + name_at + len(encoded)] == encoded:
                out[at + flag_at] |= 0x1
            at = out.find(signature, at + 4)
    return bytes(out)


def test_encrypted_member_is_named_in_the_error() -> None:
    data = _mark_encrypted(build_epub(_spec(3)), "OEBPS/ch2.xhtml")
    with pytest.raises(MalformedInput) as caught:
        parse_epub(data, "enc.epub")
    assert str(caught.value) == (
        "enc.epub: not a valid EPUB (cannot read OEBPS/ch2.xhtml: the member is encrypted)"
    )


def test_links_nested_thousands_deep_are_read() -> None:
    depth = 10_000  # one walk: each link's text read again for every link took minutes
    body = '<a href="a.xhtml">tide ' * depth + "</a>" * depth + STORY
    data = build_epub(EpubSpec(documents=[("a.xhtml", body)], toc={"a.xhtml": "One"}))
    work = parse_epub(data)
    assert work.source_text.count("tide") == depth


def test_ao3_epub_form_control_text_is_not_read() -> None:
    chapters = f'<div id="chapters" class="userstuff"><div class="userstuff">{STORY}</div>'
    chapters += f"<textarea>{HIDDEN}</textarea></div>"
    spec = EpubSpec(documents=[("preface.xhtml", AO3_PREFACE), ("c1.xhtml", chapters)])
    work = parse_epub(build_epub(spec), "ao3.epub")
    assert HIDDEN not in work.source_text
    assert work.coverage is not None and not work.coverage.fully_read
    assert any(s.where == "OEBPS/c1.xhtml<textarea>" for s in work.coverage.skipped)


def test_document_with_too_many_elements_is_named() -> None:
    from forewarn.ingest._html import MAX_ELEMENTS

    body = "<p>" + "<i>a</i>" * (MAX_ELEMENTS + 1) + "</p>"
    data = build_epub(EpubSpec(documents=[("c.xhtml", body)]))
    with pytest.raises(InputTooLarge, match=r"^big\.epub: OEBPS/c\.xhtml: too many HTML elements"):
        parse_epub(data, "big.epub")


# --- what a page shows, navigation that is not short, title page values, odd packages ------------

_SVG_NOTE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="40">'
    f'<text x="0" y="20">{HIDDEN}</text></svg>'
)


@pytest.mark.parametrize(
    ("shown", "target"),
    [
        ('<iframe src="letter.xhtml" width="600" height="200"></iframe>', "letter.xhtml"),
        ('<object data="letter.xhtml" type="application/xhtml+xml"></object>', "letter.xhtml"),
        ('<embed src="letter.xhtml" type="application/xhtml+xml"/>', "letter.xhtml"),
        ('<p><img src="note.svg" alt="note"/></p>', "note.svg"),
        ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
         '<image xlink:href="note.svg" width="800" height="40"/></svg>', "note.svg"),
    ],
    ids=["iframe", "object", "embed", "svg-img", "svg-image"],
)
def test_document_shown_inside_a_page_is_read(shown: str, target: str) -> None:
    # reading systems render a document or SVG drawing a page shows, spine or not
    items = [_item("c1", "c1.xhtml"), _item("letter", "letter.xhtml"),
             _item("note", "note.svg", "image/svg+xml"), _item("photo", "photo.png", "image/png")]
    members: dict[str, str | bytes] = {
        "OEBPS/c1.xhtml": document("c1", STORY + shown + '<p><img src="photo.png" alt=""/></p>'),
        "OEBPS/photo.png": b"\x89PNG\r\n\x1a\n",
        "OEBPS/letter.xhtml": document("letter", f"<p>{HIDDEN}</p>"),
        "OEBPS/note.svg": _SVG_NOTE,
    }
    work = parse_epub(_package(items, ["c1"], members))
    assert [HIDDEN] in paragraph_texts(work)
    assert work.coverage is not None and work.coverage.fully_read, work.coverage


@pytest.mark.parametrize(
    ("shown", "recorded"),
    [
        ('<iframe src="gone.xhtml"></iframe>', "OEBPS/gone.xhtml (missing from the archive)"),
        ('<img src="gone.svg" alt="note"/>', "OEBPS/gone.svg (missing from the archive)"),
        ('<object data="https://example.org/letter.html"></object>',
         "https://example.org/letter.html (shown by <object>, outside the book, not read)"),
        ('<iframe src="data:text/html,&lt;p&gt;Hi&lt;/p&gt;"></iframe>',
         "data:text/html,<p>Hi</p> (shown by <iframe>, outside the book, not read)"),
        ('<object data="letter.pdf" type="application/pdf"></object>',
         "OEBPS/letter.pdf (media type application/pdf, not read)"),
    ],
    ids=["missing-document", "missing-svg", "remote", "data-uri", "pdf"],
)
def test_document_shown_inside_a_page_that_cannot_be_read_is_recorded(
    shown: str, recorded: str
) -> None:
    items = [_item("c1", "c1.xhtml"), _item("gone", "gone.xhtml"),
             _item("pdf", "letter.pdf", "application/pdf")]
    members: dict[str, str | bytes] = {
        "OEBPS/c1.xhtml": document("c1", STORY + shown), "OEBPS/letter.pdf": b"%PDF-1.4",
    }
    work = parse_epub(_package(items, ["c1"], members))
    assert work.coverage is not None and work.coverage.missing_documents == (recorded,)


def test_long_heading_in_the_navigation_document_is_read() -> None:
    nav = document("nav", f'<nav epub:type="toc"><h1>Contents</h1><h2>{HIDDEN}</h2><ol>'
                          '<li><a href="c1.xhtml">Chapter 1</a></li></ol></nav>')
    items = [_item("nav", "nav.xhtml", extra=' properties="nav"'), _item("c1", "c1.xhtml")]
    members: dict[str, str | bytes] = {"OEBPS/nav.xhtml": nav,
                                       "OEBPS/c1.xhtml": document("c1", STORY)}
    work = parse_epub(_package(items, ["nav", "c1"], members))
    assert [HIDDEN] in paragraph_texts(work)
    assert "Contents" not in work.source_text  # a short heading is still navigation
    assert work.coverage is not None and work.coverage.fully_read, work.coverage


def test_long_heading_on_a_contents_page_is_read_as_text() -> None:
    toc = f"<h1>Contents</h1><h2>{HIDDEN}</h2>" + "".join(
        f'<p><a href="c1.xhtml#p{n}">Chapter {n}</a></p>' for n in range(1, 5))
    spec = EpubSpec(documents=[("toc.xhtml", toc), ("c1.xhtml", STORY)])
    work = parse_epub(build_epub(spec))
    assert [HIDDEN] in paragraph_texts(work)  # a paragraph (scanned), not a chapter title
    assert "Chapter 1" not in work.source_text and "Contents" not in work.source_text
    assert work.coverage is not None and work.coverage.fully_read, work.coverage


def test_title_page_value_of_an_ignored_key_is_read_unless_short() -> None:
    title_page = (
        "<h3>The Orchard by fennel</h3><p>Rating: Mature<br/>Fandom: Original Work<br/>"
        f"Status: {HIDDEN}<br/>Words: 12,034<br/>Updated: 2024-03-01</p>"
    )
    spec = EpubSpec(documents=[("title.xhtml", title_page), *CHAPTERS], title="The Orchard",
                    creator="fennel")
    work = parse_epub(build_epub(spec))
    assert work.rating == "Mature"
    assert paragraph_texts(work)[0] == [f"Status: {HIDDEN}"]
    assert "12,034" not in work.source_text and "Mature" not in work.source_text
    assert work.coverage is not None and work.coverage.fully_read, work.coverage


def test_title_page_value_left_out_of_the_metadata_is_not_fully_read() -> None:
    # the book's own title wins over the page's: a long page "title" is read nowhere
    title_page = (f"<p>Title: {HIDDEN}<br/>Rating: Mature<br/>Fandom: Original Work<br/>"
                  "Status: Complete</p>")
    spec = EpubSpec(documents=[("title.xhtml", title_page), *CHAPTERS])
    _read_or_not_fully_read(build_epub(spec))


@pytest.mark.parametrize("first", ["dark", "quiet"])
def test_every_manifest_item_of_a_duplicated_id_is_read(first: str) -> None:
    # invalid, but a reading system may show either item: read both
    dark, quiet = _item("c1", "dark.xhtml"), _item("c1", "c1.xhtml")
    items = [dark, quiet] if first == "dark" else [quiet, dark]
    members: dict[str, str | bytes] = {"OEBPS/c1.xhtml": document("c1", STORY),
                                       "OEBPS/dark.xhtml": document("dark", f"<p>{HIDDEN}</p>")}
    work = parse_epub(_package(items, ["c1"], members))
    assert HIDDEN in work.source_text and "kettle" in work.source_text
    assert work.coverage is not None and work.coverage.fully_read, work.coverage


def test_duplicated_id_with_an_unreadable_item_is_recorded() -> None:
    items = [_item("c1", "https://example.org/c1.xhtml"), _item("c1", "c1.xhtml")]
    work = parse_epub(_package(items, ["c1"], {"OEBPS/c1.xhtml": document("c1", STORY)}))
    assert work.coverage is not None and work.coverage.missing_documents == (
        "https://example.org/c1.xhtml (a remote resource, not read)",)


def test_page_reached_only_from_the_guide_is_read() -> None:
    guide = ('<guide><reference type="text" title="Start" href="c1.xhtml"/>'
             '<reference type="dedication" title="Dedication" href="ded.xhtml"/></guide>')
    items = [_item("c1", "c1.xhtml"), _item("ded", "ded.xhtml")]
    members: dict[str, str | bytes] = {"OEBPS/c1.xhtml": document("c1", STORY),
                                       "OEBPS/ded.xhtml": document("ded", f"<p>{HIDDEN}</p>")}
    work = parse_epub(_package(items, ["c1"], members, guide))
    assert HIDDEN in work.source_text
    assert work.coverage is not None and work.coverage.fully_read, work.coverage


@pytest.mark.parametrize("where", ["css file", "style element"])
def test_text_a_stylesheet_adds_to_a_page_is_not_read_silently(where: str) -> None:
    """``::before { content: "..." }`` shows text on the page that forewarn never reads:
    its words count as not read, in a stylesheet of the book or a page's own <style>;
    a stylesheet that adds only quote marks or a counter leaves the book fully read."""
    rule = 'p.first::before { content: "' + HIDDEN + '"; }'
    quiet = 'q::before { content: "\\201C"; } li::marker { content: counter(item) ". "; }'
    for sheet, fully in ((rule, False), (quiet, True)):
        head = f"<style>{sheet}</style>" if where == "style element" else ""
        page = (f'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>1</title>{head}'
                f'<link rel="stylesheet" href="s.css"/></head><body><p class="first">{STORY}'
                "</p></body></html>")
        members = {"OEBPS/c1.xhtml": page}
        items = ['<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>']
        if where == "css file":
            members["OEBPS/s.css"] = sheet
            items.append('<item id="css" href="s.css" media-type="text/css"/>')
        work = parse_epub(_package(items, ["c1"], members), "book.epub")
        assert work.coverage is not None and work.coverage.fully_read is fully, (where, sheet)
