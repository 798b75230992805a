"""Markdown reader: front matter, headings, markup, offsets."""

from __future__ import annotations

import pytest
from ingest_helpers import FIXTURES, assert_offsets, paragraph_texts

from forewarn.errors import EmptyInput
from forewarn.ingest import read_bytes, read_path
from forewarn.ingest.markdown import parse_markdown, strip_inline


def test_fixture_front_matter_and_chapters() -> None:
    work = read_path(FIXTURES / "story.md")
    assert work.format == "markdown"
    assert work.encoding == "utf-8"
    assert work.title == "Glasshouse"
    assert work.author == "M. Okonkwo-Reyes"
    assert work.rating == "General Audiences"
    assert work.summary == "A botanist and a thief share one greenhouse for one very long winter."
    assert work.freeform_tags == ["Winter", "Greenhouses", "Enemies to Friends"]
    assert work.content_notes == ["broken glass injury", "hypothermia"]
    assert [ch.title for ch in work.chapters] == ["Chapter 1: Frost", "Chapter 2: Thaw"]
    assert work.source_text == (FIXTURES / "story.md").read_text(encoding="utf-8")
    assert_offsets(work)


def test_fixture_markup_paragraphs() -> None:
    work = read_path(FIXTURES / "story.md")
    first, second = paragraph_texts(work)
    # Raw slices: inline markup is kept so offsets address the file.
    assert first[0] == "The *first* frost came in the night and drew ferns on every pane."
    assert first[1].startswith("Adaeze counted the cracked panes before breakfast: [eleven](")
    # The image, the comment and the *** rule give no paragraphs.
    assert len(first) == 3
    assert first[2].startswith("The thief was asleep")
    # A ### heading is a paragraph without its markers; comments and --- are dropped.
    assert second == [
        "The letter",
        "**Nobody** wrote to the greenhouse, so the letter was a surprise.",
        "She read it by the light of the stolen lantern.",
    ]


def test_chapters_from_h1_headings() -> None:
    text = "# One\n\nFirst.\n\n# Two\n\nSecond.\n"
    work = parse_markdown(text)
    assert [(ch.title, [p.text for p in ch.paragraphs]) for ch in work.chapters] == [
        ("One", ["First."]),
        ("Two", ["Second."]),
    ]
    assert work.title is None
    assert_offsets(work)


def test_title_h1_then_h2_chapters() -> None:
    work = parse_markdown("# The Book\n\n## Part *One*\n\nA.\n\n## Part Two\n\nB.\n")
    assert work.title == "The Book"
    assert [ch.title for ch in work.chapters] == ["Part One", "Part Two"]


def test_h1_title_straight_before_h1_chapters() -> None:
    work = parse_markdown("# The Book\n\n# Chapter 1\n\nA.\n\n# Chapter 2\n\nB.\n")
    assert work.title == "The Book"
    assert [ch.title for ch in work.chapters] == ["Chapter 1", "Chapter 2"]


def test_single_h1_on_top_is_work_title() -> None:
    work = parse_markdown("# Lantern\n\nIt was dark.\n\nThen light.\n")
    assert work.title == "Lantern"
    assert paragraph_texts(work) == [["It was dark.", "Then light."]]


def test_front_matter_title_wins() -> None:
    work = parse_markdown("---\ntitle: From YAML\n---\n# From Heading\n\n## C1\n\nText.\n")
    assert work.title == "From YAML"


def test_front_matter_variants() -> None:
    text = (
        "---\n"
        "title: 'Quoted Title'\n"
        "summary: |\n"
        "  Line one.\n"
        "  Line two.\n"
        "tags:\n"
        "  - alpha\n"
        "  - beta\n"
        "warnings: [blood, 'fire']\n"
        "archive_warnings: Major Character Death\n"
        "fandom: Original Work\n"
        "unknown_key: ignored  # comment\n"
        "---\n"
        "Story.\n"
    )
    work = parse_markdown(text)
    assert work.title == "Quoted Title"
    assert work.summary == "Line one.\nLine two."
    assert work.freeform_tags == ["alpha", "beta"]
    assert work.content_notes == ["blood", "fire"]
    assert work.archive_warnings == ["Major Character Death"]
    assert work.tags == {"fandom": ["Original Work"]}
    assert paragraph_texts(work) == [["Story."]]
    assert_offsets(work)


def test_leading_rule_without_keys_is_not_front_matter() -> None:
    work = parse_markdown("---\nJust a story line.\n---\nMore.\n")
    assert paragraph_texts(work) == [["Just a story line.", "More."]]


def test_only_front_matter_is_empty() -> None:
    with pytest.raises(EmptyInput):
        read_bytes(b"---\ntitle: Nothing\n---\n\n<!-- draft -->\n", "x.md")


def test_scene_breaks_in_body() -> None:
    work = parse_markdown("One.\n\n***\n\nTwo.\n\n---\n\nThree.\n\n* * *\n\nFour.\n")
    assert paragraph_texts(work) == [["One.", "Two.", "Three.", "Four."]]


def test_image_and_comment_only_paragraphs_have_no_entry() -> None:
    text = "![cover](c.png)\n\n<!-- hidden -->\n\nText with ![inline](i.png) image.\n\n<br>\n"
    work = parse_markdown(text)
    assert paragraph_texts(work) == [["Text with ![inline](i.png) image."]]


def test_multiline_comment_is_dropped() -> None:
    work = parse_markdown("Before.\n\n<!--\nChapter 9\n# Not a heading\n-->\n\nAfter.\n")
    assert paragraph_texts(work) == [["Before.", "After."]]
    assert len(work.chapters) == 1


def test_setext_heading() -> None:
    work = parse_markdown("Intro words here.\n\nChapter One\n===========\n\nText.\n")
    assert [ch.title for ch in work.chapters][-1] == "Chapter One"


def test_fenced_code_is_not_parsed_for_headings() -> None:
    work = parse_markdown("Story.\n\n```\n# not a heading\n```\n\nMore.\n")
    assert len(work.chapters) == 1
    assert "# not a heading" in paragraph_texts(work)[0]


def test_plain_chapter_lines_when_no_markdown_headings() -> None:
    work = parse_markdown("**Chapter 1**\n\nOne.\n\n**Chapter 2: Rain**\n\nTwo.\n")
    assert [ch.title for ch in work.chapters] == ["Chapter 1", "Chapter 2: Rain"]


def test_hash_without_space_is_text() -> None:
    work = parse_markdown("#hashtag life\n\nMore.\n")
    assert paragraph_texts(work) == [["#hashtag life", "More."]]


def test_crlf_markdown() -> None:
    work = read_bytes(b"# T\r\n\r\n## C\r\n\r\nText.\r\n", "x.md")
    assert work.source_text == "# T\n\n## C\n\nText.\n"
    assert_offsets(work)


def test_strip_inline() -> None:
    assert strip_inline("*a* _b_ [c](http://x) ![d](e.png) <!-- f --> <i>g</i>") == "a b c   g"


def test_markdown_sniffed_as_text_without_extension() -> None:
    work = read_bytes(b"# Heading\n\nText.\n", "noext")
    assert work.format == "text"


def test_front_matter_on_standard_input_is_read_as_by_path(tmp_path) -> None:
    from forewarn.ingest import read_bytes, read_path, sniff_format

    text = ('---\ntitle: "Harbour"\nwarnings: [self-harm]\n---\n\n# Chapter 1\n\n'
            "The tide came in and the gulls stood on the wall.\n")
    path = tmp_path / "harbour.md"
    path.write_text(text, encoding="utf-8")
    assert sniff_format(text.encode()) == "markdown"
    by_stdin, by_path = read_bytes(text.encode(), "<stdin>"), read_path(path)
    assert by_stdin.title == by_path.title == "Harbour"
    # a scene break is not front matter
    assert sniff_format(b"---\n\nShe ran.\n\n---\n\nHe followed.\n") == "text"
