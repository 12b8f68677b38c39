"""Text torn at a page break is rejoined (issue 18, defect 10).

A real UN PDF (A/RES/73/3) ends a page inside operative paragraph 6 with "...the heavy
burden of tuberculosis," and the next page goes on "HIV and AIDS, and other
co-morbidities...": the continuation starts with a capital, and a comma ends every
preambular paragraph, so the extractor made it an unnumbered sub-paragraph of its own.
The PDF here is made the same way (UN running head and foot, the page ending short after
the comma); the Chinese case is the seed with one operative paragraph cut after "，".
"""

from __future__ import annotations

from pathlib import Path

from conftest import SEEDS
from fpdf import FPDF

from pipeline.extract import extract_file

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
HEADER = [
    "General Assembly",
    "Distr.: General",
    "18 October 2018",
    "Seventy-third session",
    "Agenda item 119",
    "Resolution adopted by the General Assembly on 10 October 2018",
    "73/3. Political declaration of the high-level meeting of the General Assembly on the "
    "fight against tuberculosis",
    "The General Assembly,",
    "Recalling the 2030 Agenda for Sustainable Development and the End Tuberculosis "
    "Strategy adopted by the World Health Assembly in its resolution 67.1 of 21 May 2014,",
]
BEFORE = [
    "1. Reaffirm our commitment to end the global tuberculosis epidemic by 2030, as set out "
    "in the 2030 Agenda for Sustainable Development, and to the targets of the Strategy;",
    "2. Recognize that tuberculosis is the leading cause of death from a single infectious "
    "agent and the most common cause of death from antimicrobial resistance;",
]
TORN = (
    "3. Acknowledge that tuberculosis affects people of all ages and that the heavy burden of "
    "the disease on the poorest and most vulnerable, and the heavy burden of tuberculosis,",
    "HIV and AIDS, and other co-morbidities falls most heavily on the poorest and most "
    "marginalized people and communities, who face stigma and discrimination;",
)
AFTER = [
    "4. Commit to providing diagnosis and treatment with the aim of successfully treating "
    "forty million people with tuberculosis from 2018 to 2022, including children.",
    "15th plenary meeting",
    "10 October 2018",
]


class _UnPages(FPDF):
    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font("DejaVu", "", 8)
            self.cell(0, 5, "A/RES/73/3", align="R")
            self.ln(10)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("DejaVu", "", 8)
        self.cell(0, 5, f"18-17212    {self.page_no()}/2")


def torn_pdf() -> bytes:
    pdf = _UnPages(format="A4")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.set_auto_page_break(True, margin=25)
    pdf.add_page()
    pdf.set_font("DejaVu", "", 10)

    def paragraph(text: str) -> None:
        pdf.write(5, text)
        pdf.ln(9)

    for text in HEADER + BEFORE:
        paragraph(text)
    pdf.write(5, TORN[0])
    pdf.add_page()  # the page ends right after the comma
    paragraph(TORN[1])
    for text in AFTER:
        paragraph(text)
    return bytes(pdf.output())


def test_an_operative_paragraph_torn_after_a_comma_is_rejoined(tmp_path: Path) -> None:
    path = tmp_path / "A_RES_73_3.pdf"
    path.write_bytes(torn_pdf())
    document = extract_file(path)
    assert document.symbol == "A/RES/73/3"
    body = [(b.kind, b.number) for b in document.blocks if b.kind in ("operative", "subparagraph")]
    assert body == [("operative", "1"), ("operative", "2"), ("operative", "3"), ("operative", "4")]
    third = next(b for b in document.blocks if b.number == "3")
    assert third.text == f"{TORN[0][3:]} {TORN[1]}"
    preamble = [b.text for b in document.blocks if b.kind == "preamble"]
    assert preamble == [HEADER[-1]]  # a preambular paragraph's comma still ends it


def test_a_chinese_operative_paragraph_torn_after_a_comma_is_rejoined(tmp_path: Path) -> None:
    seed = SEEDS / "003_df19238bedd244e2.txt"
    text = seed.read_text(encoding="utf-8")
    cut = "5. **请**秘书长编写一份报告，"
    assert cut in text
    path = tmp_path / "torn.txt"
    path.write_text(text.replace(cut, cut + "\n\n"), encoding="utf-8")
    assert [b.text for b in extract_file(path).blocks] == [
        b.text for b in extract_file(seed).blocks
    ]
