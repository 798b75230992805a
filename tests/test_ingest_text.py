"""Plain-text reader: header, chapters, scene breaks, paragraphs, encodings, speed."""

from __future__ import annotations

import codecs
import random
import time
from pathlib import Path

import pytest
from ingest_helpers import FIXTURES, assert_offsets, paragraph_texts

from forewarn.errors import EmptyInput, MalformedInput
from forewarn.ingest import read_bytes, read_path, read_text
from forewarn.ingest.headings import prose_start
from forewarn.ingest.text import parse_text

STORY = "It was late.\n\nThe lamp was lit.\n"


def test_header_fixture_fields_and_chapters() -> None:
    work = read_path(FIXTURES / "header_story.txt")
    assert work.format == "text"
    assert work.encoding == "utf-8"
    assert work.source == str(FIXTURES / "header_story.txt")
    assert work.title == "The Orchard Ledger"
    assert work.author == "fennel_and_ash"
    assert work.rating == "Teen And Up Audiences"
    assert work.archive_warnings == ["Graphic Depictions Of Violence"]
    assert work.freeform_tags == ["Small Towns", "Apple Harvest", "Found Family", "Slow Burn"]
    assert work.content_notes == ["a barn fire", "animal injury"]
    assert work.tags["fandom"] == ["Original Work"]
    assert work.tags["character"] == ["Tamsin Hale", "Old Mr. Brisk"]
    assert work.tags["category"] == ["Gen"]
    assert work.summary == (
        "Tamsin inherits an orchard and a ledger full of debts\nnobody admits to owing."
    )
    assert work.notes == "Thanks to the writing group for the apples."
    titles = [ch.title for ch in work.chapters]
    assert titles == ["Prologue", "Chapter 1: Windfall", "Chapter Two - The Barn", "Epilogue"]
    assert "Title:" not in work.chapters[0].text
    assert all("Summary" not in ch.text for ch in work.chapters)
    assert_offsets(work)
    assert work.source_text == (FIXTURES / "header_story.txt").read_text(encoding="utf-8")


def test_header_fixture_scene_breaks_are_not_paragraphs() -> None:
    work = read_path(FIXTURES / "header_story.txt")
    chapter = work.chapters[1]
    assert len(chapter.paragraphs) == 3
    assert all(p.text != "* * *" for p in chapter.paragraphs)
    assert "* * *" in chapter.text  # still in the chapter's slice of the source
    assert [p.text[:9] for p in work.chapters[2].paragraphs] == ["The fire ", "In the mo"]


def test_plain_fixture_one_chapter_stripped_paragraphs() -> None:
    work = read_path(FIXTURES / "plain_story.txt")
    assert len(work.chapters) == 1
    chapter = work.chapters[0]
    assert chapter.title is None
    assert chapter.offset == 0
    assert [p.text[:12] for p in chapter.paragraphs] == [
        "The kettle h",
        "She turned o",
        "Her sister's",
        "By evening t",
    ]
    third = chapter.paragraphs[2]
    assert third.text == "Her sister's letter lay open on the table where she had left it."
    assert_offsets(work)


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ("TITLE: Lanterns", "title", "Lanterns"),
        ("author: someone", "author", "someone"),
        ("Rating: Explicit", "rating", "Explicit"),
        ("Archive Warning: Major Character Death", "archive_warnings", ["Major Character Death"]),
        ("Freeform: Angst, Fluff", "freeform_tags", ["Angst", "Fluff"]),
        ("Tags: Angst, Fluff", "freeform_tags", ["Angst", "Fluff"]),
        ("Additional Tags: Angst", "freeform_tags", ["Angst"]),
        ("Warnings: self-harm, blood", "content_notes", ["self-harm", "blood"]),
        ("TW: blood", "content_notes", ["blood"]),
        ("cw: needles; hospitals", "content_notes", ["needles", "hospitals"]),
        ("Content Warnings: fire", "content_notes", ["fire"]),
        ("Author's Notes: for K.", "notes", "for K."),
        ("Author\u2019s Note: for K.", "notes", "for K."),
        ("Summary: A short one.", "summary", "A short one."),
    ],
)
def test_header_keys(line: str, key: str, expected: object) -> None:
    work = read_text(f"{line}\n\n{STORY}")
    assert getattr(work, key) == expected
    assert paragraph_texts(work) == [["It was late.", "The lamp was lit."]]


@pytest.mark.parametrize(
    ("line", "tag", "values"),
    [
        ("Fandom: Original Work", "fandom", ["Original Work"]),
        ("Relationship: A/B, C & D", "relationship", ["A/B", "C & D"]),
        ("Relationships: A/B", "relationship", ["A/B"]),
        ("Characters: A, B", "character", ["A", "B"]),
        ("Character: A", "character", ["A"]),
        ("Category: F/M, Gen", "category", ["F/M", "Gen"]),
    ],
)
def test_header_tag_fields(line: str, tag: str, values: list[str]) -> None:
    assert read_text(f"{line}\n{STORY}").tags[tag] == values


def test_first_line_with_colon_is_story() -> None:
    work = read_text("She said: no.\n\nThen she left.\n")
    assert work.title is None
    assert paragraph_texts(work) == [["She said: no.", "Then she left."]]


def test_unknown_key_is_story() -> None:
    work = read_text("Dear diary: today was long.\n\nTomorrow will be longer.\n")
    assert paragraph_texts(work)[0][0] == "Dear diary: today was long."


def test_summary_continues_until_blank_line() -> None:
    text = "Title: T\nSummary: line one\nline two\nRating: Mature\n\nStory starts.\n"
    work = read_text(text)
    assert work.summary == "line one\nline two"
    assert work.rating == "Mature"
    assert paragraph_texts(work) == [["Story starts."]]


def test_summary_on_following_lines_when_the_header_goes_on() -> None:
    work = read_text("Title: T\nSummary:\n\nThe summary text.\n\nRating: Teen\n\nStory starts.\n")
    assert work.summary == "The summary text."
    assert paragraph_texts(work) == [["Story starts."]]


def test_empty_notes_line_does_not_take_the_story() -> None:
    # the paragraph after an empty "Notes:" is story unless the header goes on after it
    work = read_text("Title: T\nNotes:\n\nShe swallowed every pill in the bottle.\n\nMorning came.\n")
    assert work.notes is None
    assert paragraph_texts(work) == [["She swallowed every pill in the bottle.", "Morning came."]]
    assert work.coverage is not None and work.coverage.fully_read


@pytest.mark.parametrize("gap", ["\n", "\n\n"])
def test_a_checklist_the_notes_announce_stays_in_the_notes(gap: str) -> None:
    # "Notes: content checklist:" then "- Suicide: no": the list is the notes', not a first
    # chapter that says suicide (review 17, finding 8)
    checklist = "- Death: no\n- Self-harm: no\n* Suicide: no\n1. Violence: no"
    text = f"Title: T\nNotes: Content checklist:{gap}{checklist}\n\nChapter 1\n\nThey picked apples.\n"
    work = read_text(text)
    assert work.notes is not None and "Suicide: no" in work.notes and "Violence: no" in work.notes
    assert paragraph_texts(work) == [["They picked apples."]]
    assert work.coverage is not None and work.coverage.fully_read
    assert_offsets(work)


def test_a_list_the_notes_do_not_announce_is_story() -> None:
    # only a list after a notes line ending in ":" is the notes'; a story may open with a list
    work = read_text("Title: T\nNotes: for K.\n\n- the razor\n- the pills\n\nChapter 1\n\nSnow.\n")
    assert work.notes == "for K."
    assert "the razor" in work.chapters[0].text


def test_summary_does_not_run_into_the_story() -> None:
    work = read_text("Title: T\nSummary: Two sisters.\nShe cut her arm again that night.\n")
    assert work.summary == "Two sisters."
    assert paragraph_texts(work) == [["She cut her arm again that night."]]


def test_a_story_that_starts_with_note_is_read() -> None:
    work = read_text("note: he had hanged himself in the barn before the family woke.\n")
    assert "hanged himself" in work.chapters[0].text


def test_header_blocks_separated_by_blank_lines() -> None:
    work = read_text("Title: T\n\nRating: Mature\n\nNotes: hi\n\nStory.\n")
    assert (work.title, work.rating, work.notes) == ("T", "Mature", "hi")
    assert paragraph_texts(work) == [["Story."]]


def test_story_line_right_after_header_is_not_eaten() -> None:
    work = read_text("Rating: Mature\nIt was late.\n\nVery late.\n")
    assert work.rating == "Mature"
    assert paragraph_texts(work) == [["It was late.", "Very late."]]


def test_title_and_byline_above_header() -> None:
    work = read_text("The Long Road\nby Someone Else\n\nRating: Mature\n\nIt began.\n")
    assert (work.title, work.author, work.rating) == ("The Long Road", "Someone Else", "Mature")
    assert paragraph_texts(work) == [["It began."]]


def test_tw_in_summary_becomes_content_notes() -> None:
    work = read_text("Summary: Two sisters. TW: grief, fire. Happy ending.\n\nStory.\n")
    assert work.content_notes == ["grief", "fire"]


def test_header_only_is_empty() -> None:
    with pytest.raises(EmptyInput, match=r"^<text>: no story text after the header$"):
        read_text("Title: Nothing Here\nAuthor: nobody\n\n")


def test_headings_only_is_empty() -> None:
    with pytest.raises(EmptyInput):
        read_text("Chapter 1\n\n* * *\n\nChapter 2\n")


@pytest.mark.parametrize(
    ("heading", "title"),
    [
        ("Chapter 3", "Chapter 3"),
        ("Chapter 3: The Well", "Chapter 3: The Well"),
        ("CHAPTER III", "CHAPTER III"),
        ("Chapter Three", "Chapter Three"),
        ("Chapter Twenty-One", "Chapter Twenty-One"),
        ("Chapter 3 - The Well", "Chapter 3 - The Well"),
        ("Chapter 3 \u2014 The Well", "Chapter 3 \u2014 The Well"),
        ("  chapter 12.  ", "chapter 12."),
        ("Part 2", "Part 2"),
        ("Prologue", "Prologue"),
        ("EPILOGUE", "EPILOGUE"),
        ("Epilogue: Ten Years Later", "Epilogue: Ten Years Later"),
        ("**Chapter 4**", "Chapter 4"),
        ("=== Chapter Five: Ash ===", "Chapter Five: Ash"),
        ("# Prologue", "Prologue"),
    ],
)
def test_chapter_headings(heading: str, title: str) -> None:
    long_opening = "Before. " * 50
    work = read_text(f"{long_opening}\n\n{heading}\n\nAfter.\n")
    assert [ch.title for ch in work.chapters] == [None, title]
    assert paragraph_texts(work)[1] == ["After."]
    assert_offsets(work)


@pytest.mark.parametrize(
    "line",
    [
        "Chapter 3 was the worst part of the book.",
        "Part of me wanted to stay.",
        "Prologues are for cowards, she said.",
        "Chapters: 3/3 is not a heading either",
    ],
)
def test_not_chapter_headings(line: str) -> None:
    work = read_text(f"Once.\n\n{line}\n\nTwice.\n")
    assert len(work.chapters) == 1
    assert line in paragraph_texts(work)[0]


def test_heading_without_blank_lines_still_splits() -> None:
    work = read_text("Chapter 1\nOne.\nChapter 2\nTwo.\n")
    assert [(ch.title, [p.text for p in ch.paragraphs]) for ch in work.chapters] == [
        ("Chapter 1", ["One."]),
        ("Chapter 2", ["Two."]),
    ]


def test_title_line_before_first_heading_is_work_title() -> None:
    work = read_text("The Quiet Year\n\nChapter 1\n\nIt snowed.\n")
    assert work.title == "The Quiet Year"
    assert [ch.title for ch in work.chapters] == ["Chapter 1"]


def test_unmarked_short_text_before_first_heading_opens_the_first_chapter() -> None:
    # only text marked as notes is notes: notes are read but never scanned for warnings.
    # Short unmarked text is read as the first chapter's opening lines, so it is scanned and
    # the book's own chapter numbers stay as they are
    work = read_text("Thanks for reading my story.\n\nChapter 1\n\nIt snowed.\n")
    assert work.notes is None
    assert [(ch.title, [p.text for p in ch.paragraphs]) for ch in work.chapters] == [
        ("Chapter 1", ["Thanks for reading my story.", "It snowed."]),
    ]
    assert_offsets(work)


def test_story_before_first_heading_is_scanned() -> None:
    opening = ("She cut her wrists with a razor blade and swallowed the pills, and the suicide "
               "note lay on the sink.")
    work = read_text(f"{opening}\n\nChapter 1\n\nIt snowed.\n\nChapter 2\n\nIt thawed.\n")
    assert work.notes is None
    assert [ch.title for ch in work.chapters] == ["Chapter 1", "Chapter 2"]
    assert work.chapters[0].text.startswith(opening)
    assert work.coverage is not None and work.coverage.fully_read
    assert_offsets(work)


def test_a_long_opening_before_the_first_heading_is_a_chapter_of_its_own() -> None:
    opening = " ".join(["The harbour lay grey under the rain that whole first winter."] * 5)
    work = read_text(f"{opening}\n\nChapter 1\n\nIt snowed.\n")
    assert [ch.title for ch in work.chapters] == [None, "Chapter 1"]
    assert work.chapters[0].text == opening


@pytest.mark.parametrize(
    "note",
    [
        "Author's note - thanks for reading.",
        "A/N thanks for reading.",
        "(A/N: thanks for reading.)",
        "Notes: thanks for reading.",
        "**Author\u2019s Notes:** thanks for reading.",
    ],
)
def test_marked_notes_before_first_heading_go_to_notes(note: str) -> None:
    work = read_text(f"The Quiet Year\n\n{note}\n\nChapter 1\n\nIt snowed.\n")
    assert work.title == "The Quiet Year"
    assert work.notes is not None and "thanks for reading." in work.notes
    assert paragraph_texts(work) == [["It snowed."]]


def test_header_paragraph_after_story_text_before_first_heading() -> None:
    text = "Title: T\n\nShe left at dawn.\n\nRating: Mature\nTW: blood\n\nChapter 1\n\nSnow.\n"
    work = read_text(text)
    assert (work.title, work.rating, work.content_notes) == ("T", "Mature", ["blood"])
    assert [(ch.title, [p.text for p in ch.paragraphs]) for ch in work.chapters] == [
        ("Chapter 1", ["She left at dawn.", "Snow."]),
    ]


def test_a_prose_line_is_not_a_title_before_the_first_heading() -> None:
    # twelve words and no closing stop (title-like), but a finished sentence of ten words
    line = "She cut her wrists and then lay down to sleep. Nobody came"
    work = read_text(f"{line}\n\nChapter 1\n\nIt snowed.\n")
    assert work.title is None
    assert work.chapters[0].title == "Chapter 1"
    assert work.chapters[0].text.startswith(line)


_LONG_DEED = ("That night she locked the bathroom door, took the razor blade and cut deep into "
              "her wrists")


@pytest.mark.parametrize(
    ("heading", "title", "prose"),
    [
        (f"Chapter 2: {_LONG_DEED}", "Chapter 2", _LONG_DEED),
        (f"Chapter 2 - {_LONG_DEED}", "Chapter 2", _LONG_DEED),
        (f"**Chapter 2: {_LONG_DEED}**", "Chapter 2", _LONG_DEED),
        ("Prologue: She cut her wrists and died.", "Prologue", "She cut her wrists and died."),
        ("CHAPTER II. She walked into the sea and drowned.", "CHAPTER II",
         "She walked into the sea and drowned."),
        ("CHAPTER II. SHE WALKED INTO THE SEA AND DROWNED, AND NOBODY KNEW WHY SHE DID.",
         "CHAPTER II", "SHE WALKED INTO THE SEA AND DROWNED, AND NOBODY KNEW WHY SHE DID."),
    ],
)
def test_a_chapter_line_with_prose_keeps_its_label_and_the_prose_is_text(
    heading: str, title: str, prose: str
) -> None:
    work = read_text(f"Chapter 1\n\nIt snowed.\n\n{heading}\n\nMorning came.\n")
    assert [ch.title for ch in work.chapters] == ["Chapter 1", title]
    assert paragraph_texts(work)[1] == [prose, "Morning came."]
    assert work.coverage is not None and work.coverage.fully_read
    assert_offsets(work)


_CAPS_DEED = "SHE WALKED INTO THE SEA AND DROWNED, AND NOBODY IN THE VILLAGE KNEW WHY."


def test_a_numbered_heading_with_prose_keeps_its_numeral() -> None:
    para = "The kettle sang on the hob while the rain kept on at the window."
    text = "".join(f"{h}\n\n{para}\n\n" for h in
                   ["I", "II", f"III. {_CAPS_DEED}"])
    work = read_text(text)
    assert [ch.title for ch in work.chapters] == ["I", "II", "III"]
    assert paragraph_texts(work)[2] == [_CAPS_DEED, para]


def test_a_short_title_in_capitals_stays_a_title() -> None:
    # old books set chapter titles in capitals, sentence and stop included
    work = read_text("CHAPTER I. WHAT JOHN RANCE HAD TO TELL.\n\nIt snowed.\n")
    assert [ch.title for ch in work.chapters] == ["CHAPTER I. WHAT JOHN RANCE HAD TO TELL."]
    assert_offsets(work)


@pytest.mark.parametrize(
    ("heading", "start"),
    [
        ("Chapter 3: The Well", None),
        ("Epilogue: Ten Years Later", None),
        ("4. THE REPLY.", None),
        ("Mr. Smith Goes to Washington", None),  # "Mr." ends no sentence of five words
        ("She cut her wrists.", None),  # a sentence of four words: a title may be that
        ("She cut her wrists and died.", 0),
        ("one two three four five six seven eight nine ten eleven twelve", None),
        ("one two three four five six seven eight nine ten eleven twelve thirteen", 0),
        ("Chapter 2: She cut her wrists and died.", 11),
        ("Prologues are for cowards, she said, and walked into the sea.", 0),
        ("**Chapter 2:** She cut her wrists and died!", 15),
    ],
)
def test_prose_start(heading: str, start: int | None) -> None:
    assert prose_start(heading) == start


def test_substantial_text_before_first_heading_is_a_chapter() -> None:
    opening = " ".join(["The harbour was quiet that year."] * 10)
    work = read_text(f"{opening}\n\nChapter 1\n\nIt snowed.\n")
    assert [ch.title for ch in work.chapters] == [None, "Chapter 1"]
    assert work.chapters[0].text == opening


def test_empty_chapter_is_dropped_and_numbers_are_consecutive() -> None:
    work = read_text("Chapter 1\n\nChapter 2\n\nTwo.\n\nChapter 3\n\nThree.\n")
    assert [(ch.number, ch.title) for ch in work.chapters] == [(1, "Chapter 2"), (2, "Chapter 3")]


@pytest.mark.parametrize(
    "rule",
    ["***", "* * *", "---", "~~~", "#", "o0o", "oOo", "<>", "\u2042", "- - -", "=====", "xXx"],
)
def test_scene_breaks_split_paragraphs(rule: str) -> None:
    work = read_text(f"Before the break.\n{rule}\nAfter the break.\n\nLast.\n")
    assert paragraph_texts(work) == [["Before the break.", "After the break.", "Last."]]
    assert_offsets(work)


def test_hard_wrapped_paragraph_is_one_paragraph() -> None:
    text = "one two three\nfour five six\nseven.\n\nNext paragraph\nwraps too.\n"
    work = read_text(text)
    assert paragraph_texts(work) == [
        ["one two three\nfour five six\nseven.", "Next paragraph\nwraps too."]
    ]


def test_no_blank_lines_means_one_paragraph_per_line() -> None:
    work = read_text("First line.\nSecond line.\n   Third line.   \nFourth.\n")
    assert paragraph_texts(work) == [["First line.", "Second line.", "Third line.", "Fourth."]]
    assert_offsets(work)


def test_two_lines_without_blank_line_stay_one_paragraph() -> None:
    assert paragraph_texts(read_text("A line\nwrapped.\n")) == [["A line\nwrapped."]]


def test_block_with_very_long_lines_is_split_per_line() -> None:
    long_line = "word " * 60
    text = f"{long_line}\n{long_line}\n{long_line}\n\nShort.\n"
    work = read_text(text)
    assert len(work.chapters[0].paragraphs) == 4


def test_crlf_and_cr_are_normalised_before_offsets() -> None:
    raw = "Title: T\r\n\r\nFirst line.\r\n\r\nSecond,\rcontinued.\r\n"
    work = read_bytes(raw.encode(), "crlf.txt")
    assert "\r" not in work.source_text
    assert work.source_text == "Title: T\n\nFirst line.\n\nSecond,\ncontinued.\n"
    assert paragraph_texts(work) == [["First line.", "Second,\ncontinued."]]
    assert_offsets(work)


def test_offsets_point_into_source_text_after_header() -> None:
    work = read_text("Title: T\n\n  Indented start.\n\nEnd.  \n")
    paragraph = work.chapters[0].paragraphs[0]
    begin = work.chapters[0].offset + paragraph.start
    assert work.source_text[begin : begin + len(paragraph.text)] == "Indented start."
    assert_offsets(work)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (codecs.BOM_UTF8 + "Caf\u00e9 story.\n".encode(), "utf-8"),
        (codecs.BOM_UTF16_LE + "Caf\u00e9 story.\n".encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + "Caf\u00e9 story.\n".encode("utf-16-be"), "utf-16-be"),
        ("Caf\u00e9 story.\n".encode("utf-16-le"), "utf-16-le"),
        ("Caf\u00e9 story.\n".encode(), "utf-8"),
    ],
)
def test_unicode_encodings(data: bytes, encoding: str) -> None:
    work = read_bytes(data, "story.txt", fmt="text")
    assert work.encoding == encoding
    assert work.source_text == "Caf\u00e9 story.\n"
    assert paragraph_texts(work) == [["Caf\u00e9 story."]]


def test_cp1252_file_is_detected(tmp_path: Path) -> None:
    text = (
        "\u201cIt\u2019s cold,\u201d said Ren\u00e9e, na\u00efve as ever \u2014 and the caf\u00e9 "
        "was closed.\n\nShe walked home through the rain.\n"
    )
    path = tmp_path / "legacy.txt"
    path.write_bytes(text.encode("cp1252"))
    work = read_path(path)
    assert work.encoding == "cp1252"
    assert work.source_text == text
    assert_offsets(work)


def test_latin1_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Stra\u00dfe und Gr\u00f6\u00dfe, sagte sie.\n".encode("latin-1"))
    work = read_path(path)
    assert work.source_text == "Stra\u00dfe und Gr\u00f6\u00dfe, sagte sie.\n"


def test_cyrillic_legacy_file_uses_charset_normalizer() -> None:
    text = (
        "\u041f\u0440\u0438\u0432\u0435\u0442, \u043a\u0430\u043a \u0434\u0435\u043b\u0430? " * 20
    )
    work = read_bytes(text.encode("cp1251"), "ru.txt")
    assert work.source_text == text
    assert work.encoding is not None


def test_explicit_encoding_is_used() -> None:
    data = "Caf\u00e9 au lait.\n".encode("latin-1")
    work = read_bytes(data, "x.txt", encoding="latin-1")
    assert work.encoding == "latin-1"
    assert work.source_text == "Caf\u00e9 au lait.\n"


def test_explicit_encoding_failure_is_malformed() -> None:
    with pytest.raises(MalformedInput, match=r"^x\.txt: cannot decode as utf-8 at byte 3"):
        read_bytes(b"Caf\xe9 au lait.\n", "x.txt", encoding="utf-8")


def test_read_text_and_parse_text() -> None:
    work = read_text("Hello.\n\nWorld.\n", source="inline")
    assert work.source == "inline"
    assert work.format == "text"
    assert paragraph_texts(parse_text("\ufeffHello.\n")) == [["Hello."]]


def test_form_feed_and_tab_are_allowed() -> None:
    work = read_text("One\tthing.\n\x0c\nAnother.\n")
    assert paragraph_texts(work) == [["One\tthing.", "Another."]]


def _novel(words: int) -> str:
    rng = random.Random(7)
    vocabulary = [
        "the",
        "sea",
        "was",
        "loud",
        "and",
        "she",
        "ran",
        "down",
        "to",
        "the",
        "water",
        "where",
        "a",
        "boat",
        "struck",
        "rocks",
    ]
    paragraphs: list[str] = []
    count = 0
    while count < words:
        size = rng.randint(20, 120)
        paragraphs.append(" ".join(rng.choice(vocabulary) for _ in range(size)) + ".")
        count += size
    chapters = [
        f"Chapter {i // 80 + 1}\n\n" + "\n\n".join(paragraphs[i : i + 80])
        for i in range(0, len(paragraphs), 80)
    ]
    return "Title: Long\nRating: Mature\n\n" + "\n\n".join(chapters)


def test_100k_words_is_fast() -> None:
    data = _novel(100_000).encode()
    start = time.perf_counter()
    work = read_bytes(data, "novel.txt")
    elapsed = time.perf_counter() - start
    assert work.word_count >= 100_000
    assert elapsed < 0.5, elapsed
    assert_offsets(work)


def test_30mb_single_line_parses_in_seconds() -> None:
    data = b"word " * (6 * 1024 * 1024)
    start = time.perf_counter()
    work = read_bytes(data, "line.txt", max_bytes=40 * 1024 * 1024)
    assert time.perf_counter() - start < 10
    assert len(work.chapters[0].paragraphs) == 1


@pytest.mark.parametrize(
    "line",
    [
        "Title" + " " * 200_000 + "x",
        "Chapter " * 50_000,
        "*" * 200_000 + "a",
        "* " * 100_000 + "a",
        "TW" + ":" * 100_000,
        "Summary: " + "TW: a, " * 30_000,
    ],
)
def test_pathological_lines_do_not_hang(line: str) -> None:
    start = time.perf_counter()
    read_text(line + "\n\nEnd.\n")
    assert time.perf_counter() - start < 2


def test_a_sentence_under_an_ignored_header_key_is_not_read_silently() -> None:
    """Keys forewarn ignores (Status:, Words:, Published:) hold dates and counts; a
    sentence there is text a reader sees and forewarn does not read: not fully read."""
    from forewarn.ingest import read_text

    story = ("The garden was quiet in the morning. Mara walked between the rows of beans and "
             "counted the pods, as her grandmother had taught her.\n")
    for header in ("Status: Completed\nWords: 12,345\nChapters: 3/3\n",
                   "Published: 2021-03-04\nUpdated: 4 March 2021\n",
                   "Stats: Published: 2019-01-02 Completed: 2019-02-03 Words: 4,210 "
                   "Chapters: 2/2 Comments: 12 Kudos: 345 Bookmarks: 6 Hits: 7,890\n"):
        work = read_text(f"Title: Quiet\n{header}\n{story}")
        assert work.coverage is not None and work.coverage.fully_read, header
    work = read_text("Title: Quiet\nStatus: That night she took the razor from the cabinet "
                     f"and cut deep lines into her wrists.\nWords: 81\n\n{story}")
    assert work.coverage is not None and not work.coverage.fully_read
    assert "header value" in (work.coverage.reason() or "")
