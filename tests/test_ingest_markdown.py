"""Markdown reader: front matter, headings, markup, offsets."""

from __future__ import annotations

import pytest
from ingest_helpers import FIXTURES, assert_offsets, paragraph_texts

from forewarn.errors import EmptyInput, MalformedInput
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


# --- YAML front matter (PyYAML, safe loader; issue 14) ------------------------------------

_BODY = "# Chapter 1\n\nThe tide came in and the gulls stood on the wall.\n"


def _front(yaml_text: str) -> str:
    return f"---\n{yaml_text}---\n\n{_BODY}"


def test_front_matter_flow_and_block_lists_read_alike() -> None:
    flow = parse_markdown(_front("warnings: [blood, 'self-harm', \"fire\"]\ntags: [a, b]\n"))
    block = parse_markdown(_front(
        "warnings:\n  - blood\n  - 'self-harm'\n  - \"fire\"\ntags:\n- a\n- b\n"))
    assert flow.content_notes == block.content_notes == ["blood", "self-harm", "fire"]
    assert flow.freeform_tags == block.freeform_tags == ["a", "b"]
    # a flow list spread over lines, and an item holding a comma
    work = parse_markdown(_front('tags: [\n  "Hurt, Comfort",\n  Angst,\n]\n'))
    assert work.freeform_tags == ["Hurt, Comfort", "Angst"]


def test_front_matter_quoted_title_with_colons_and_unicode() -> None:
    work = parse_markdown(_front(
        "title: \"Glasshouse: A Winter's Tale: Part 2\"\n"
        "author: 'Zoë Ørsted-Núñez'\n"
        "summary: 雪の夜 — a story # not a comment inside? no: a comment\n"
        "warnings: [自傷, “mcd”]\n"))
    assert work.title == "Glasshouse: A Winter's Tale: Part 2"
    assert work.author == "Zoë Ørsted-Núñez"
    assert work.summary == "雪の夜 — a story"
    assert work.content_notes[:2] == ["自傷", "“mcd”"]
    assert_offsets(work)


def test_front_matter_scalars_stay_text() -> None:
    # YAML 1.1 would make these a number, a boolean and a date; a title is text
    work = parse_markdown(_front("title: 1984\nrating: yes\nauthor: 2001-01-01\nwarnings:\n"))
    assert (work.title, work.rating, work.author) == ("1984", "yes", "2001-01-01")
    assert work.content_notes == []


def test_front_matter_bad_types_are_ignored_and_the_story_read() -> None:
    work = parse_markdown(_front(
        "title: {nested: mapping}\nwarnings: {blood: yes}\ntags: [[nested], kept]\n"
        "author: [One, Two]\n"))
    assert work.title == "Chapter 1"  # the lone heading, not a mapping printed as a title
    assert work.content_notes == []
    assert work.freeform_tags == ["kept"]
    assert work.author == "One, Two"
    assert paragraph_texts(work) == [["The tide came in and the gulls stood on the wall."]]


def test_front_matter_not_a_mapping_is_story_text() -> None:
    # as before: a block with no "key:" line is a rule and story lines, not front matter
    work = parse_markdown("---\n- one\n- two\n---\n\nStory.\n")
    assert work.title is None
    assert paragraph_texts(work) == [["- one\n- two", "Story."]]
    work = parse_markdown("---\n\"just a string\"\n---\nStory.\n")
    assert paragraph_texts(work) == [['"just a string"', "Story."]]


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("title: Glasshouse: A Winter\n",
         r"^x\.md: front matter line 2, column 18 is not valid YAML: mapping values are not "
         r"allowed (?:here|in this context) \(put a value that holds ': ' in quotes\)$"),
        ("title: x\n\tauthor: y\n", r"^x\.md: front matter line 3, column 1 is not valid YAML: .*tabs\)$"),
        ("title: [a, b\n", r"^x\.md: front matter line \d+, column \d+ is not valid YAML: "),
        ("title: !!python/object/apply:os.system [echo hi]\n",
         r"^x\.md: front matter line 2, column 8 is not valid YAML: could not determine a "
         r"constructor"),
        ("title: x\nlist: " + "[" * 100 + "]" * 100 + "\n",
         r"^x\.md: front matter line 3: nested more than 32 levels deep$"),
    ],
)
def test_invalid_front_matter_is_one_clear_line(yaml_text: str, message: str) -> None:
    with pytest.raises(MalformedInput, match=message) as caught:
        read_bytes(_front(yaml_text).encode(), "x.md")
    assert "\n" not in str(caught.value)


BILLION_LAUGHS = (
    '---\ntitle: lol\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "---\n\nStory.\n"
)


def test_billion_laughs_is_refused_fast_in_bounded_memory() -> None:
    import time
    import tracemalloc

    tracemalloc.start()
    began = time.perf_counter()
    try:
        with pytest.raises(MalformedInput,
                           match=r"^x\.md: front matter line 4: YAML aliases \(\*a\) are not allowed$"):
            read_bytes(BILLION_LAUGHS.encode(), "x.md")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - began < 2
    assert peak < 8 * 1024 * 1024


def test_billion_laughs_on_standard_input_is_refused_by_the_cli() -> None:
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parent.parent / "src"
    done = subprocess.run(
        [sys.executable, "-m", "forewarn", "scan", "-"], input=BILLION_LAUGHS.encode(),
        capture_output=True, timeout=60, env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 6
    assert done.stdout == b""
    assert done.stderr.decode() == (
        "forewarn: <stdin>: front matter line 4: YAML aliases (*a) are not allowed\n")


def test_front_matter_over_the_size_limit_is_refused() -> None:
    from forewarn.ingest.markdown import MAX_FRONT_MATTER

    lines = "".join(f"key{i}: value number {i}\n" for i in range(MAX_FRONT_MATTER // 20))
    text = f"---\ntitle: Big\n{lines}---\n\nStory.\n"
    with pytest.raises(MalformedInput, match=r"^x\.md: front matter is over 64 KiB"):
        read_bytes(text.encode(), "x.md")
    with pytest.raises(MalformedInput, match=r"^<stdin>: front matter is over 64 KiB"):
        read_bytes(text.encode(), "<stdin>")  # sniffed as Markdown, then refused alike
    # just under the limit is read
    few = "".join(f"key{i}: value\n" for i in range(100))
    assert read_bytes(f"---\ntitle: Small\n{few}---\n\nStory.\n".encode(), "x.md").title == "Small"


def test_a_leading_rule_then_prose_with_a_late_rule_is_not_front_matter() -> None:
    prose = "She walked along the shore and did not look back at the house.\n\n" * 2000
    work = parse_markdown(f"---\nNote: this opens the story.\n\n{prose}---\n\nEnd.\n")
    assert paragraph_texts(work)[0][0] == "Note: this opens the story."


@pytest.mark.parametrize(
    "text",
    [
        _front('title: "Harbour: Night"\nwarnings:\n  - self-harm\n  - blood\ntags: [sea]\n'),
        _front("# a comment first\ntitle: Harbour\nwarnings: [self-harm]\n"),
        "\ufeff" + _front("title: Harbour\n"),
        _front("title: Harbour\r\nwarnings: [blood]\r\n").replace("\n", "\r\n"),
        _front("title: Ḧarbour\n"),
    ],
)
def test_standard_input_and_path_read_front_matter_alike(tmp_path, text: str) -> None:
    path = tmp_path / "harbour.md"
    path.write_bytes(text.encode("utf-8"))
    by_stdin, by_path = read_bytes(text.encode("utf-8"), "<stdin>"), read_path(path)
    assert by_stdin.format == by_path.format == "markdown"
    assert by_stdin.title == by_path.title
    assert by_stdin.title.endswith("arbour") or by_stdin.title.startswith("Harbour")
    assert by_stdin.content_notes == by_path.content_notes
    assert by_stdin.freeform_tags == by_path.freeform_tags
    assert paragraph_texts(by_stdin) == paragraph_texts(by_path)


def test_front_matter_scan_by_stdin_and_path_give_the_same_report(tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parent.parent / "src"
    env = {"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"}
    story = FIXTURES / "story.md"
    by_path = subprocess.run([sys.executable, "-m", "forewarn", "scan", "--json", str(story)],
                             capture_output=True, timeout=120, env=env, check=True)
    by_stdin = subprocess.run([sys.executable, "-m", "forewarn", "scan", "--json", "-"],
                              input=story.read_bytes(), capture_output=True, timeout=120,
                              env=env, check=True)
    import json

    a, b = json.loads(by_path.stdout), json.loads(by_stdin.stdout)
    for report in (a, b):
        report.pop("source", None)
        report.get("work", {}).pop("source", None)
    assert a == b


# --- what a reader sees is read: reference definitions, comments, headings, the opening ---

_DEED = "That night she cut her arm with the kitchen knife and watched it bleed."


@pytest.mark.parametrize(
    "line",
    [
        f"[Mara]: {_DEED}",  # a destination ("That"), then words that are no title
        '[Mara]: "I cut my arm again," she typed.',  # a "title" with text after it
        "[Mara]: see/this (and that) here",
        "[a]: foo(bar",  # unbalanced parentheses: no destination
        "[^1]: A footnote, which GFM shows.",
        "[ ]: /url",  # a blank label
        "[a\\]: /url",  # the bracket is escaped: no label
    ],
)
def test_lines_that_are_not_reference_definitions_are_paragraphs(line: str) -> None:
    work = parse_markdown(f"# Chat\n\nIt was late.\n\n{line}\n\nMorning came.\n")
    assert paragraph_texts(work) == [["It was late.", line, "Morning came."]]
    assert_offsets(work)


@pytest.mark.parametrize(
    "line",
    [
        "[a]: /url",
        "[a]:/url",
        '[Some Label]: https://example.invalid/x_y?z=1 "A title"',
        "   [a]: <a url with spaces> 'title'",
        "[a]: /url (title)",
        "[a]: foo(bar)",
        "[a]: <>",
    ],
)
def test_reference_definitions_are_dropped(line: str) -> None:
    work = parse_markdown(f"It was late.\n\n{line}\n\nMorning came.\n")
    assert paragraph_texts(work) == [["It was late.", "Morning came."]]


def test_a_definition_cannot_interrupt_a_paragraph() -> None:
    work = parse_markdown("She typed it out\n[a]: /url\n\nMorning came.\n")
    assert paragraph_texts(work) == [["She typed it out\n[a]: /url", "Morning came."]]


def test_text_after_the_end_of_a_multiline_comment_is_read() -> None:
    text = f"# Story\n\nIt was late.\n\n<!-- draft note\nstill a note\n--> {_DEED}\n\nMorning.\n"
    work = parse_markdown(text)
    assert paragraph_texts(work) == [["It was late.", _DEED, "Morning."]]
    assert "still a note" not in work.chapters[0].paragraphs[1].text
    assert_offsets(work)


def test_a_comment_closing_line_without_words_is_dropped() -> None:
    work = parse_markdown("Before.\n\n<!-- a\nb\n-->  \nAfter.\n\n<!--\nx\n--> *** \n\nEnd.\n")
    assert paragraph_texts(work) == [["Before.", "After.", "End."]]


_LONG_DEED = ("That night she locked the bathroom door, took the razor blade and cut deep into "
              "her wrists, and waited")


@pytest.mark.parametrize(
    ("heading", "title", "prose"),
    [
        (f"## {_LONG_DEED}", None, _LONG_DEED),  # more than 12 words
        ("## She cut her wrists and died.", None, "She cut her wrists and died."),  # a sentence
        (f"## Chapter 2: {_LONG_DEED}", "Chapter 2", _LONG_DEED),
        (f"## **Chapter 2:** {_LONG_DEED} ##", "Chapter 2", _LONG_DEED),
        (f"{_LONG_DEED}\n=====", None, _LONG_DEED),
    ],
)
def test_a_heading_that_is_prose_is_chapter_text(heading: str, title: str | None,
                                                 prose: str) -> None:
    text = f"# Book\n\n## Chapter 1\n\nIt was late.\n\n{heading}\n\nMorning came.\n"
    work = parse_markdown(text)
    assert work.chapters[-1].title == title
    assert paragraph_texts(work)[-1] == [prose, "Morning came."]
    assert_offsets(work)


@pytest.mark.parametrize("heading", ["Chapter 3: The Well", "The Day It Rained.", "Part Two"])
def test_short_headings_stay_titles(heading: str) -> None:
    work = parse_markdown(f"# Book\n\n## Chapter 1\n\nA.\n\n## {heading}\n\nB.\n")
    assert work.title == "Book"
    assert [(ch.title, [p.text for p in ch.paragraphs]) for ch in work.chapters] == [
        ("Chapter 1", ["A."]),
        (heading, ["B."]),
    ]


def test_a_prose_heading_on_top_is_not_the_work_title() -> None:
    work = parse_markdown(f"# {_DEED}\n\nMorning came.\n")
    assert work.title is None
    assert paragraph_texts(work) == [[_DEED, "Morning came."]]


def test_a_plain_chapter_line_with_prose_keeps_the_prose() -> None:
    text = "**Chapter 1**\n\nA.\n\n**Chapter 2: She cut her wrists and died.**\n\nB.\n"
    work = parse_markdown(text)
    assert [ch.title for ch in work.chapters] == ["Chapter 1", "Chapter 2"]
    assert paragraph_texts(work)[1] == ["She cut her wrists and died.", "B."]
    assert_offsets(work)


@pytest.mark.parametrize("opening", [_DEED, "Thanks for reading my story."])
def test_text_before_the_first_heading_opens_the_first_chapter(opening: str) -> None:
    work = parse_markdown(f"{opening}\n\n# Chapter 1\n\nA.\n\n# Chapter 2\n\nB.\n")
    assert work.notes is None
    assert [(ch.title, [p.text for p in ch.paragraphs]) for ch in work.chapters] == [
        ("Chapter 1", [opening, "A."]),
        ("Chapter 2", ["B."]),
    ]
    assert_offsets(work)


def test_marked_notes_and_header_lines_before_the_first_heading_are_metadata() -> None:
    text = ("*The Quiet Year*\n\nby Someone\n\n**A/N:** thanks for reading\n\n"
            "Rating: Mature\nWarnings: self-harm\n\n"
            f"{_DEED}\n\n# Chapter 1\n\nA.\n\n# Chapter 2\n\nB.\n")
    work = parse_markdown(text)
    assert (work.title, work.author, work.rating) == ("The Quiet Year", "Someone", "Mature")
    assert work.notes == "A/N: thanks for reading"
    assert work.content_notes == ["self-harm"]
    assert [(ch.title, [p.text for p in ch.paragraphs]) for ch in work.chapters] == [
        ("Chapter 1", [_DEED, "A."]),  # not marked: story, read with the first chapter
        ("Chapter 2", ["B."]),
    ]


# --- code is shown, comments hide only where CommonMark starts one (review 18) ------------

_HIDDEN = ("That night she took the razor from the cabinet and cut deep lines into her "
           "wrists until the sink ran red, and she wanted to die.")


@pytest.mark.parametrize(
    "code",
    [
        "~~~\n<!--\n~~~",  # a tilde fence
        "    <!--",  # an indented code block
        "```\nx\n```python\n<!--\n```",  # an info string does not close a fence
        "~~~~\n<!--\n~~~\n```\n~~~~",  # nor a shorter or other fence
        "- ~~~\n  <!--\n  ~~~",  # a fence inside a list item
    ],
)
def test_a_comment_opener_in_code_hides_nothing(code: str) -> None:
    work = parse_markdown(f"It was late.\n\n{code}\n\n{_HIDDEN}\n\nThe end.\n")
    texts = paragraph_texts(work)[0]
    assert texts[-2:] == [_HIDDEN, "The end."]
    assert work.coverage is not None and work.coverage.fully_read
    assert_offsets(work)


def test_code_is_read_as_written_and_a_real_comment_still_hides() -> None:
    work = parse_markdown(f"It was late.\n\n    <!-- {_HIDDEN} -->\n\n<!--\ndraft note\n-->\n\n"
                          "# not a heading in code\n\n```\n# Chapter 9\n```\n\nEnd.\n")
    assert paragraph_texts(work)[0][:2] == ["It was late.", f"<!-- {_HIDDEN} -->"]
    assert not any("draft note" in text for text in paragraph_texts(work)[0])
    assert "# Chapter 9" in work.chapters[-1].text


def test_front_matter_values_forewarn_does_not_keep_are_story() -> None:
    work = parse_markdown(f'---\ntitle: Quiet\nlayout: post\nstatus: Complete\n'
                          f'epigraph: "{_HIDDEN}"\n---\n\nThe garden was quiet.\n')
    assert work.title == "Quiet"
    assert paragraph_texts(work) == [[f'"{_HIDDEN}"', "The garden was quiet."]]
    assert work.coverage is not None and work.coverage.fully_read
    assert_offsets(work)


@pytest.mark.parametrize(
    "paragraph",
    [
        f"![{_HIDDEN}](missing.png)",
        f'<img src="missing.png" alt="{_HIDDEN}">',
        f"<input size='120' value='{_HIDDEN}'>",
    ],
)
def test_a_sentence_shown_only_through_markup_is_read(paragraph: str) -> None:
    work = parse_markdown(f"It was late.\n\n![cover](c.png)\n\n{paragraph}\n\nThe end.\n")
    # a short alternative text is a label (accounted, no paragraph); a sentence is story
    assert paragraph_texts(work) == [["It was late.", paragraph, "The end."]]
    assert work.coverage is not None and work.coverage.fully_read


@pytest.mark.parametrize(
    "text",
    [
        f"Rating: Mature\nStatus: {_HIDDEN}\n\n# Chapter 1\n\nA.\n\n# Chapter 2\n\nB.\n",
        f"# ![{_HIDDEN}](missing.png)\n\nA.\n",
    ],
)
def test_text_the_reader_cannot_read_as_story_leaves_the_work_not_fully_read(text: str) -> None:
    work = parse_markdown(text)
    assert work.coverage is not None and not work.coverage.fully_read
    assert work.coverage.unread_words >= 20


def test_an_ordinary_header_and_front_matter_are_fully_read() -> None:
    work = parse_markdown("---\ntitle: X\nlayout: post\ndate: 2020-01-01 10:00:00 +0100\n---\n\n"
                          "Rating: Mature\nWords: 1,204\nStatus: Complete\n\n# Chapter 1\n\nA.\n\n"
                          "# Chapter 2\n\n![cover](c.png) B.\n")
    assert work.coverage is not None and work.coverage.fully_read
    assert work.coverage.unread_words == 0


def test_a_heading_title_unlike_the_front_matters_is_kept_not_lost() -> None:
    """Front matter "title: Salt" and "# Salt and Iron: A Story of the Grey Sea" over the
    chapters: the work's title is the front matter's, the heading a note; none of its
    words is lost (which would leave a clean story "not checked")."""
    from forewarn.ingest import read_bytes

    md = ("---\ntitle: Salt\n---\n\n# Salt and Iron: A Story of the Grey Sea\n\n## Chapter 1\n\n"
          "The boats came in slowly, one after another, with gulls behind them.\n\n"
          "## Chapter 2\n\nShe walked home along the harbour wall and made tea.\n")
    work = read_bytes(md.encode(), "story.md")
    assert work.title == "Salt" and len(work.chapters) == 2
    assert "A Story of the Grey Sea" in (work.notes or "")
    assert work.coverage is not None and work.coverage.unread_words == 0


def test_a_checklist_the_notes_announce_is_metadata() -> None:
    # "**Notes:** content checklist:" then a list "- Suicide: no": the notes', not story
    text = ("# Apple Season\n\n**Notes:** Content checklist:\n\n- Death: no\n- Suicide: no\n"
            "- Self-harm: no\n\n## Chapter 1\n\nThey picked apples.\n")
    work = parse_markdown(text)
    assert work.notes is not None and "Suicide: no" in work.notes
    assert paragraph_texts(work) == [["They picked apples."]]
    assert work.coverage is not None and work.coverage.fully_read


def test_a_paragraph_that_is_only_a_titled_link_is_read() -> None:
    # the title shows as a tooltip; such a paragraph was dropped as wordless, never read and
    # never counted (review 18, left item)
    link = f'[](https://example.org "{_HIDDEN}")'
    work = parse_markdown(f"The garden was quiet.\n\n{link}\n\n![a rose](r.png 'a red rose')\n")
    texts = [p.text for ch in work.chapters for p in ch.paragraphs]
    assert link in texts
    assert work.coverage is not None and work.coverage.fully_read
    assert work.coverage.story_words >= len(_HIDDEN.split()) + 4
