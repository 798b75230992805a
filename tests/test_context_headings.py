"""Chapter headings known by their context: numbered sequences and a contents list."""

from __future__ import annotations

from forewarn.ingest.headings import context_headings
from forewarn.ingest.text import parse_text

_PARA = ("The kettle sang on the hob while the rain kept on at the window, and nobody in the "
         "kitchen said a word about the letter.")


def _book(headings: list[str], *, lead: str = "A QUIET HOUSE\n\nby Nobody\n\n") -> str:
    parts = [lead]
    for h in headings:
        parts.append(f"{h}\n\n{_PARA}\n\n{_PARA}\n\n")
    return "".join(parts)


def _titles(text: str) -> list[str | None]:
    return [c.title for c in parse_text(text).chapters]


def test_roman_numerals_alone_on_their_lines_head_chapters() -> None:
    assert _titles(_book(["I", "II", "III", "IV"]))[-4:] == ["I", "II", "III", "IV"]


def test_arabic_numbers_with_a_stop_and_capital_titles_head_chapters() -> None:
    titles = _titles(_book(["1.", "2.", "3. THE LETTER", "4. THE REPLY."]))
    assert titles[-4:] == ["1.", "2.", "3. THE LETTER", "4. THE REPLY."]


def test_numbering_may_start_again_for_a_new_part() -> None:
    assert len(_titles(_book(["I", "II", "III", "I", "II"]))) >= 5


def test_fewer_than_three_numerals_are_not_a_sequence() -> None:
    text = _book(["I", "II"])
    assert context_headings(text) == {}
    assert all(t not in ("I", "II") for t in _titles(text))


def test_a_sequence_must_start_at_one_and_mostly_count_up() -> None:
    assert context_headings(_book(["IV", "V", "VI"])) == {}
    assert context_headings(_book(["I", "VII", "III", "XX", "II"])) == {}


def test_a_numeral_inside_a_paragraph_is_not_a_heading() -> None:
    text = _book(["I", "II", "III", "IV", "V", "VI"]).replace(
        f"\nII\n\n{_PARA}", f"\nII\n{_PARA}", 1)
    assert sorted(context_headings(text).values()) == ["I", "III", "IV", "V", "VI"]


def test_a_lowercase_word_after_a_numeral_is_prose() -> None:
    text = _book(["I", "II", "III"]) + "I. am not a heading, said the note.\n\n" + _PARA
    assert "I. am not a heading, said the note." not in context_headings(text).values()


def test_chapter_words_mean_numerals_are_sections() -> None:
    text = _book(["CHAPTER I", "I", "II", "III", "CHAPTER II", "I", "II"])
    assert context_headings(text) == {}
    assert _titles(text)[-2:] == ["CHAPTER I", "CHAPTER II"]


def test_a_table_of_contents_names_the_stories() -> None:
    contents = ("Contents\n\nThe Mill Pond\n\nA Winter Fair ........ 12\n\n"
                "The Lamplighter\n\n\n\n\n")
    text = _book(["THE MILL POND", "A WINTER FAIR.", "THE LAMPLIGHTER"],
                 lead="TALES\n\n" + contents)
    assert _titles(text)[-3:] == ["THE MILL POND", "A WINTER FAIR.", "THE LAMPLIGHTER"]


def test_contents_titles_out_of_order_or_too_few_are_ignored() -> None:
    contents = "CONTENTS\n\nThe Mill Pond\n\nA Winter Fair\n\nThe Lamplighter\n\n\n\n"
    text = _book(["THE LAMPLIGHTER", "THE MILL POND"], lead="TALES\n\n" + contents)
    assert context_headings(text) == {}


def test_offsets_still_address_the_source() -> None:
    text = _book(["I", "II", "III"])
    work = parse_text(text)
    for chapter in work.chapters:
        assert work.source_text[chapter.offset:chapter.offset + len(chapter.text)] == chapter.text
    assert [c.title for c in work.chapters][-3:] == ["I", "II", "III"]
    assert all(c.text.startswith("The kettle") for c in work.chapters[-3:])
