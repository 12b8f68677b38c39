"""Page furniture, front matter and Markdown footnotes out of converted text (issue 12).

Each case is a shape seen in real UN files (A/RES/73/7's PDF, a PyMuPDF converter's
Markdown of A/RES/80/6, the glued page break quoted in issue 12), written here around
the seeds' text so the expected blocks are known.
"""

from __future__ import annotations

import pytest
from conftest import SEEDS

from pipeline.extract import parse_document
from pipeline.extract.furniture import prepare_text, split_front_matter

RAW = SEEDS
EN = (RAW / "002_69ed3383ef6f2041.txt").read_text(encoding="utf-8")
ZH = (RAW / "003_df19238bedd244e2.txt").read_text(encoding="utf-8")
EN_PARA = (
    "Recognizing the determination of the international community to combat terrorism, "
    "as evidenced in relevant General Assembly and Security Council resolutions,"
)
ZH_PARA = "确认大会和安全理事会各项有关决议表明国际社会决心打击恐怖主义，"


def _block(text: str, start: str, lang_file: str = "x.txt") -> str:
    document = parse_document(text, lang_file, "0")
    return next(b.text for b in document.blocks if b.text.startswith(start))


@pytest.mark.parametrize(
    "furniture",
    [
        "20-16421 (E) 171220 Measures to prevent terrorists from acquiring weapons A/RES/75/58",
        "2/5 20-16421 A/RES/75/58 ",
        "20-16421 3/5 Measures A/RES/75/58",
        "20-16421 (E)",
        "Measures to prevent terrorists A/RES/75/58 20-16421 (E) 171220",
        "A/RES/75/58 20-16421 3/5",
    ],
)
def test_footer_and_running_head_inside_a_sentence(furniture: str) -> None:
    """ "...the international 20-16421 (E) 171220 <short title> A/RES/75/58 community...":
    the footer of one page and the head of the next, glued into a sentence."""
    glued = EN.replace("the international community", f"the international {furniture} community", 1)
    assert _block(glued, "Recognizing the determination") == EN_PARA


def test_footer_inside_a_chinese_sentence() -> None:
    glued = ZH.replace("表明国际社会", "表明国际 20-16421 (C) 171220 A/RES/75/58 社会", 1)
    assert _block(glued, "确认大会") == ZH_PARA


def test_footer_lines_between_paragraphs_are_not_paragraphs() -> None:
    text = EN.replace(
        EN_PARA, EN_PARA + "\n\n18-18142 (E) 021118\n\n*1818142*\n\nPlease recycle\n", 1
    )
    document = parse_document(text, "x.txt", "0")
    original = parse_document(EN, "x.txt", "0")
    assert [b.text for b in document.blocks] == [b.text for b in original.blocks]


FRONT = """---
symbol: A/RES/75/58
record_id: "4000001"
title: "Measures to prevent terrorists from acquiring weapons of mass destruction :"
language: EN
---
"""


def test_front_matter_is_metadata_not_text() -> None:
    front, rest = split_front_matter(FRONT + "\nUnited Nations\n")
    assert front["symbol"] == "A/RES/75/58" and front["record_id"] == "4000001"
    assert rest.strip() == "United Nations"
    with_front = parse_document(FRONT + EN, "x.md", "0")
    assert [b.text for b in with_front.blocks] == [
        b.text for b in parse_document(EN, "x.md", "0").blocks
    ]


def test_stamp_and_session_run_together_on_one_line() -> None:
    """The PyMuPDF converter prints "General Assembly Distr.: General 14 December 2020"
    and "Seventy-fifth session Agenda item 103 (v)" as one line each."""
    text = EN.replace(
        "General Assembly\n\nDistr.: General\n14 December 2020\n\nSeventy-fifth session\n\n"
        "Agenda item 103 (v)",
        "General Assembly Distr.: General 14 December 2020\n\n"
        "Seventy-fifth session Agenda item 103 (v)",
        1,
    )
    assert text != EN
    document = parse_document(text, "x.md", "0")
    headings = [b.text for b in document.blocks if b.kind == "heading"]
    assert headings[:3] == ["General Assembly", "Seventy-fifth session", "Agenda item 103 (v)"]
    assert document.metadata.agenda_item == "103 (v)"


MD_NOTES = """Recalling its resolution 74/43,[^1] and noting the report,[^2]

[^1]: See A/74/1.

[^2]: Official Records of the General Assembly, 1 August 2012–31 July

[^2013]: (S/INF/68).
"""


def test_markdown_footnotes_references_and_a_broken_definition() -> None:
    text = prepare_text(MD_NOTES).text
    assert "[^" not in text, text
    assert "resolution 74/43,<sup>1</sup> and noting the report,<sup>2</sup>" in text
    assert "<sup>1</sup> See A/74/1." in text
    assert (
        "<sup>2</sup> Official Records of the General Assembly, 1 August 2012–31 July 2013 "
        "(S/INF/68)."
    ) in text


PLAIN_REFS = """Recalling Article 1 of the Charter and paragraphs 1, 2 and 3 of resolution 70/1,
Recalling that the Rome Statute of the Court 1 reaffirms the purposes, including
paragraph 3 of the resolution, and the Agreement,2 and the Agreement, 3 which provides

and treaties 4 and the Convention,5 and

[^1]: A/1.

[^2]: A/2.

[^3]: A/3.

[^4]: A/4.

[^5]: A/5.
"""


def test_plain_digit_references_in_citation_order() -> None:
    text = prepare_text(PLAIN_REFS).text
    assert "the Court<sup>1</sup> reaffirms" in text
    assert "paragraph 3 of the resolution" in text  # a number in the text stays
    assert "Recalling Article 1 of the Charter and paragraphs 1, 2 and 3 of" in text
    assert "Agreement,<sup>2</sup> and the Agreement,<sup>3</sup> which" in text
    assert "treaties 4 and the Convention,<sup>5</sup> and" in text  # 4 missed, 5 found


def test_page_numbers_and_barcodes_alone_on_a_line() -> None:
    prepared = prepare_text("text one\n2/5\n*1818142*\n021118\nPlease recycle\n请回收\ntext two")
    assert [line for line in prepared.text.split("\n") if line] == ["text one", "text two"]


ZH_PLAIN_REFS = """回顾《罗马规约》1 重申《宪章》的宗旨，并回顾第2次会议和2023年1月的决定，
又回顾关系协定，2 以及2 项建议，

[^1]: A/1。

[^2]: A/2。
"""


def test_chinese_plain_digit_references() -> None:
    text = prepare_text(ZH_PLAIN_REFS).text
    assert "《罗马规约》<sup>1</sup> 重申" in text or "《罗马规约》<sup>1</sup>重申" in text
    assert "第2次会议" in text and "2023年1月" in text
    assert "关系协定，<sup>2</sup> 以及2 项建议" in text


PDFTOTEXT_PAGE = """6.
Encourages further efforts by the United Nations;

__________________

A/70/1 and A/70/1/Add.1.
Articles 4 and 5 of the Agreement.
4
A/71/2.
5
United Nations, Treaty Series, vol. 1000, No. 100.
2
3

2/5

18-99999

A/RES/71/9

7.
Emphasizes the importance of cooperation;
"""


def test_pdftotext_note_numbers_printed_after_their_texts() -> None:
    """pdftotext (raw mode) prints a page's note numbers apart from the texts; the sorted
    numbers of the area belong to its texts in order (as on A/RES/73/7's page 2)."""
    lines = [line for line in prepare_text(PDFTOTEXT_PAGE).text.split("\n") if line.strip()]
    notes = [line for line in lines if line.startswith("<sup>")]
    assert notes == [
        "<sup>2</sup> A/70/1 and A/70/1/Add.1.",
        "<sup>3</sup> Articles 4 and 5 of the Agreement.",
        "<sup>4</sup> A/71/2.",
        "<sup>5</sup> United Nations, Treaty Series, vol. 1000, No. 100.",
    ]
    assert lines[-2:] == ["7.", "Emphasizes the importance of cooperation;"]
    assert not any(line.strip() in ("2/5", "18-99999", "A/RES/71/9") for line in lines)


PDFTOTEXT_NOTE_IN_FOOTER = """to that crime;

__________________
9

4/5

S/PRST/2013/2; see the statement of 12 February 2013, 1 August 2012–31 July
2013 (S/INF/68).
18-99999

A/RES/71/9

25. Acknowledges the report;
"""


def test_pdftotext_note_text_inside_the_page_footer() -> None:
    lines = [line for line in prepare_text(PDFTOTEXT_NOTE_IN_FOOTER).text.split("\n") if line]
    assert (
        "<sup>9</sup> S/PRST/2013/2; see the statement of 12 February 2013, 1 August "
        "2012–31 July" in lines
    )
    assert lines[-1] == "25. Acknowledges the report;"
