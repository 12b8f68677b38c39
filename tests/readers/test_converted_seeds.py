"""The PDF reader, and every converted format of a seed through the extractor.

Split from test_readers.py (which builds the DOCX and HTML conversions used here): a PDF
rendered from the English seed is compared paragraph by paragraph with the seed, and
each converted file must extract to the same Document as the seed itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF
from test_readers import (
    EN_SEED,
    FONT_DIR,
    ZH_SEED,
    chinese_seed_as_html,
    english_seed_as_docx,
    english_seed_paragraphs,
    is_footnote,
    markdown,
    paragraphs_of,
)

from pipeline.readers import read_source

# --- PDF ------------------------------------------------------------------------------


class _UnLayoutPdf(FPDF):
    """Pages as the UN prints them: the symbol as running head from page 2 on, the job
    number and page number as running foot, all in small type."""

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font("DejaVu", "", 8)
            self.cell(0, 5, "A/RES/75/58", align="R")
            self.ln(10)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("DejaVu", "", 8)
        self.cell(0, 5, f"20-16421    {self.page_no()}/3")


def english_seed_as_pdf(*, running_heads: bool = False) -> tuple[bytes, list[str]]:
    """A PDF rendered with fpdf2 from the English seed, and the expected paragraphs.

    Body text is 10 pt, footnotes 8 pt; footnote marks are smaller raised digits
    (fpdf2's superscript: 70% size, above the baseline); emphasis uses the oblique
    font. The text runs over several pages, so paragraphs meet page breaks. With
    ``running_heads`` the pages also carry UN running heads and feet (and the expected
    paragraphs are not computed: the extractor has to remove those).
    """
    pdf = _UnLayoutPdf(format="A4") if running_heads else FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "I", str(FONT_DIR / "DejaVuSans-Oblique.ttf"))
    pdf.set_auto_page_break(True, margin=25 if running_heads else 20)
    pdf.add_page()
    expected = []
    for pieces in english_seed_paragraphs():
        size = 8 if is_footnote(pieces) else 10
        for kind, text in pieces:
            if kind == "sup":
                pdf.set_font("DejaVu", "", size)
                pdf.char_vpos = "SUP"
                pdf.write(size * 0.5, text)
                pdf.char_vpos = "LINE"
            else:
                pdf.set_font("DejaVu", "I" if kind == "em" else "", size)
                pdf.write(size * 0.5, text)
        pdf.ln(size * 0.5)
        pdf.ln(3)
        expected.append(markdown(pieces).strip())
    return bytes(pdf.output()), expected


@pytest.fixture(scope="module")
def seed_pdf() -> tuple[bytes, list[str]]:
    return english_seed_as_pdf()


def test_pdf_from_english_seed_gives_the_seed_paragraphs(
    tmp_path: Path, seed_pdf: tuple[bytes, list[str]]
) -> None:
    data, expected = seed_pdf
    path = tmp_path / "A_RES_75_58.pdf"
    path.write_bytes(data)
    source = read_source(path)
    assert (source.fmt, source.encoding) == ("pdf", "binary")
    assert paragraphs_of(source) == expected


def test_pdf_superscripts_are_footnote_marks_not_digits(
    tmp_path: Path, seed_pdf: tuple[bytes, list[str]]
) -> None:
    data, _ = seed_pdf
    path = tmp_path / "res.pdf"
    path.write_bytes(data)
    text = read_source(path).text
    assert "Suppression of Acts of Nuclear Terrorism,<sup>1</sup>" in text
    assert "Physical Protection of Nuclear Material<sup>2</sup> by the" in text
    assert "<sup>7</sup> A/75/171." in text
    assert "Terrorism,1" not in text and "Material2" not in text
    assert "*Calls upon* all Member States" in text


def test_pdf_with_large_heading_and_hyphenated_line_end(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "", 16)
    pdf.write(8, "General Assembly")
    pdf.ln(12)
    pdf.set_font("DejaVu", "", 10)
    pdf.write(5, "Recalling the non-")
    pdf.ln(5)
    pdf.write(5, "proliferation treaty and")
    pdf.ln(5)
    pdf.write(5, "its review conferences,")
    pdf.ln(5)
    path = tmp_path / "heading.pdf"
    path.write_bytes(bytes(pdf.output()))
    assert paragraphs_of(read_source(path)) == [
        "## General Assembly",
        "Recalling the non-proliferation treaty and its review conferences,",
    ]


def test_pdf_paragraph_cut_by_page_break_is_joined_but_a_finished_one_is_not(
    tmp_path: Path,
) -> None:
    long_paragraph = (
        "Noting the support expressed in the Final Document of the Eighteenth Summit of Heads "
        "of State or Government of Non-Aligned Countries, held in Baku on 25 and 26 October "
        "2019, for measures to prevent terrorists from acquiring weapons of mass destruction,"
    )
    pdf = FPDF()
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("DejaVu", "", 10)
    pdf.set_y(267)  # two lines fit before the break, the third goes to page 2
    pdf.write(5, long_paragraph)
    pdf.ln(8)
    pdf.write(5, "Mindful of the urgent need,")  # short last line of page 2
    pdf.add_page()
    pdf.write(5, "Emphasizing that progress is urgently needed,")
    path = tmp_path / "pages.pdf"
    path.write_bytes(bytes(pdf.output()))
    assert paragraphs_of(read_source(path)) == [
        long_paragraph,
        "Mindful of the urgent need,",
        "Emphasizing that progress is urgently needed,",
    ]


# --- through the extractor: the converted formats give the seed's Document -------------


def _blocks(document: object) -> list[tuple]:
    return [
        (b.kind, b.number, b.lead, b.text, b.footnote_refs)
        for b in document.blocks  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize("fmt", ["docx", "pdf", "html"])
def test_converted_seed_extracts_to_the_same_document_as_the_seed(
    tmp_path: Path, fmt: str, seed_pdf: tuple[bytes, list[str]]
) -> None:
    from pipeline.extract import extract_file

    if fmt == "docx":
        seed, data = EN_SEED, english_seed_as_docx()[0]
    elif fmt == "pdf":
        seed, data = EN_SEED, seed_pdf[0]
    else:
        seed, data = ZH_SEED, chinese_seed_as_html()[0].encode("utf-8")
    path = tmp_path / f"converted.{fmt}"
    path.write_bytes(data)
    converted, original = extract_file(path), extract_file(seed)
    assert (converted.symbol, converted.language) == (original.symbol, original.language)
    assert converted.metadata == original.metadata
    assert _blocks(converted) == _blocks(original)


def test_html_footnotes_as_pandoc_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "pandoc.html"
    path.write_text(
        "<p><em>Welcoming</em> the entry into force of the Convention,"
        '<a href="#fn1" class="footnote-ref" id="fnref1" role="doc-noteref"><sup>1</sup></a></p>'
        '<section id="footnotes" class="footnotes footnotes-end-of-document" role="doc-endnotes">'
        '<hr /><ol><li id="fn1"><p>United Nations, <em>Treaty Series</em>, vol. 2445.'
        '<a href="#fnref1" class="footnote-back" role="doc-backlink">↩︎</a></p></li>'
        '<li id="fn2"><p>Ibid., vol. 1456.<a href="#fnref2" class="footnote-back">↩︎</a></p></li>'
        "</ol></section>",
        encoding="utf-8",
    )
    assert paragraphs_of(read_source(path)) == [
        "*Welcoming* the entry into force of the Convention,<sup>1</sup>",
        "<sup>1</sup> United Nations, *Treaty Series*, vol. 2445.",
        "<sup>2</sup> Ibid., vol. 1456.",
    ]


def test_html_footnotes_as_word_saves_them(tmp_path: Path) -> None:
    path = tmp_path / "word.htm"
    path.write_text(
        "<html><body><p class=MsoNormal>held in Baku on 25 and 26 October 2019,"
        '<a href="#_ftn3" name="_ftnref3"><span class=MsoFootnoteReference>[3]</span></a>'
        " for measures</p><div id=ftn3><p class=MsoFootnoteText>"
        '<a href="#_ftnref3" name="_ftn3"><span class=MsoFootnoteReference>[3]</span></a>'
        " See A/74/548, annex.</p></div></body></html>",
        encoding="utf-8",
    )
    assert paragraphs_of(read_source(path)) == [
        "held in Baku on 25 and 26 October 2019,<sup>3</sup> for measures",
        "<sup>3</sup> See A/74/548, annex.",
    ]


def test_pdf_with_un_running_heads_extracts_to_the_seed_document(tmp_path: Path) -> None:
    from pipeline.extract import extract_file

    path = tmp_path / "un_layout.pdf"
    path.write_bytes(english_seed_as_pdf(running_heads=True)[0])
    paragraphs = paragraphs_of(read_source(path))
    # Running heads and feet stay separate paragraphs, never glued to body text...
    assert "20-16421 1/3" in paragraphs and "A/RES/75/58" in paragraphs
    cut = paragraphs.index("20-16421 1/3")
    assert paragraphs[cut - 1].endswith("with a focus on")
    assert paragraphs[cut + 2].startswith("strengthening the legal framework")
    # ...so the extractor drops them and joins the paragraph the page break cut.
    converted, original = extract_file(path), extract_file(EN_SEED)
    assert _blocks(converted) == _blocks(original)
    assert converted.metadata == original.metadata
