"""Real UN layouts by every route (issue 12), on the fixtures of tests/fixtures/un/.

The fixtures are hand-written resolutions laid out like UN documents (first-page footer
with job number, date code, barcode text and "Please recycle"; running heads and "2/3"
page numbers on later pages; paragraphs and footnotes across page breaks), converted by
LibreOffice, pdftotext, pandoc and a PyMuPDF-style converter
(tests/fixtures/make_un_fixtures.py). Expected paragraphs and footnotes come from the
written text (tests/fixtures/un_texts.py), not from the extractor's output.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from conftest import REPO, SEEDS

from pipeline.corpus.layout_debris import layout_debris
from pipeline.extract import extract_file, extract_folder, parse_document
from pipeline.pair import pair_documents
from pipeline.records import Document

FIXTURES = REPO / "tests" / "fixtures"
sys.path.insert(0, str(FIXTURES))
from un_texts import FixtureDoc, fixture_docs  # noqa: E402

UN = FIXTURES / "un"
RAW = SEEDS
#: Plain pdftotext (no -layout) prints a note's number apart from its text, before or
#: after it and across the page footer; ``pipeline.extract.pdftotext_notes`` puts them together.
ROUTES = ("docx", "html", "pdf", "layout.txt", "pdftotext.txt", "pandoc.md", "pymupdf.md")
DOCS = {doc.stem: doc for doc in fixture_docs()}
CASES = [(stem, route) for stem in DOCS for route in ROUTES]


def same(text: str) -> str:
    """Compare modulo spacing and hyphens: pdftotext joins "Secretary-" / "General"
    without its hyphen, which is the converter's loss, not furniture; pandoc turns curly
    quotes into straight ones."""
    text = text.translate(str.maketrans("“”‘’", "\"\"''"))  # pandoc writes ASCII quotes
    return re.sub(r"[\s\-]+", "", text)


@pytest.fixture(scope="module")
def extracted() -> dict[tuple[str, str], Document]:
    return {(stem, route): extract_file(UN / f"{stem}.{route}") for stem, route in CASES}


def _furniture(doc: FixtureDoc) -> list[str]:
    strings = [
        doc.job,
        doc.job.replace("-", ""),
        doc.date_code,
        "Distr",
        "recycle",
        "请回收",
        "[^",
        "record_id",
        "symbol:",
        "extract_version",
    ]
    return strings


@pytest.mark.parametrize(("stem", "route"), CASES)
def test_no_page_furniture_in_any_block(extracted, stem: str, route: str) -> None:
    fixture = DOCS[stem]
    document = extracted[(stem, route)]
    for block in document.blocks:
        for piece in _furniture(fixture):
            assert piece not in block.text, (block.kind, block.number, block.text)
        if fixture.short_title and block.kind != "title":
            assert block.text != fixture.short_title  # a running head as a paragraph
            assert f"{fixture.short_title} {fixture.symbol}" not in block.text
        assert layout_debris(block.text) is None, (block.kind, block.text)
        assert fixture.symbol not in block.text, (block.kind, block.text)
        assert block.text not in ("United Nations", "联合国", "---")
        assert not re.search(r"(?<![\w/])\d/\d(?![\w/])", block.text), block.text


@pytest.mark.parametrize(("stem", "route"), CASES)
def test_symbol_family_and_language(extracted, stem: str, route: str) -> None:
    fixture = DOCS[stem]
    document = extracted[(stem, route)]
    assert (document.symbol, document.language) == (fixture.symbol, fixture.lang)
    assert document.metadata.family == fixture.family
    assert document.metadata.body == ("Security Council" if "sc_" in stem else "General Assembly")


@pytest.mark.parametrize(("stem", "route"), CASES)
def test_every_footnote_found_with_its_number(extracted, stem: str, route: str) -> None:
    fixture = DOCS[stem]
    notes = [
        (b.number, same(b.text)) for b in extracted[(stem, route)].blocks if b.kind == "footnote"
    ]
    assert notes == [(str(n), same(text)) for n, text in enumerate(fixture.footnotes, 1)]


@pytest.mark.parametrize(("stem", "route"), CASES)
def test_preamble_and_operative_paragraphs_text_by_text(extracted, stem: str, route: str) -> None:
    """Paragraphs cut by a page break (footer + running head in between) come back whole."""
    fixture = DOCS[stem]
    document = extracted[(stem, route)]
    got = [same(b.text) for b in document.blocks if b.kind == "operative"]
    expected = [same(re.sub(r"\[\^\d+\]", "", t)) for t in fixture.operative_texts()]
    assert got == expected
    got = [same(b.text) for b in document.blocks if b.kind == "preamble"]
    joiner = " " if fixture.lang == "en" else ""
    expected = [
        same(re.sub(r"\[\^\d+\]", "", f"{lead}{joiner}{rest}")) for lead, rest in fixture.preamble
    ]
    assert got == expected
    refs = [
        r for b in document.blocks if b.kind in ("preamble", "operative") for r in b.footnote_refs
    ]
    assert refs == [str(n) for n in range(1, len(fixture.footnotes) + 1)]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("family", ["sc_res", "ga_draft", "ga_res"])
def test_pairs_with_its_chinese_counterpart(extracted, family: str, route: str) -> None:
    en, zh = extracted[(f"{family}_en", route)], extracted[(f"{family}_zh", route)]
    result = pair_documents([en, zh])
    assert [(p.symbol, p.en.language, p.zh.language) for p in result.pairs] == [
        (DOCS[f"{family}_en"].symbol, "en", "zh")
    ]


def test_sc_resolution_metadata(extracted) -> None:
    en, zh = extracted[("sc_res_en", "pdf")], extracted[("sc_res_zh", "pdf")]
    assert en.metadata.adopted_on == zh.metadata.adopted_on == "2024-02-12"
    assert (en.metadata.meeting, zh.metadata.meeting) == ("9551st meeting", "第9551次会议")
    assert en.blocks[-1].kind == "footnote"
    assert [b.text for b in en.blocks if b.kind == "operative"][-1] == (
        "Decides to remain seized of the matter."
    )


def test_draft_title_and_committee_draft_symbol(extracted) -> None:
    assert extracted[("ga_draft_en", "pdf")].metadata.title == (
        "Cooperation between the United Nations and regional organizations on water resilience"
    )
    text = (UN / "ga_draft_en.pandoc.md").read_text(encoding="utf-8")
    text = text.replace("A/78/L.5", "A/C.1/78/L.12")
    document = parse_document(text, "c1.md", "0")
    assert (document.symbol, document.metadata.body) == ("A/C.1/78/L.12", "First Committee")


DECISION_EN = """United Nations A/DEC/78/512

General Assembly

Distr.: General
2 January 2024

Seventy-eighth session

Agenda item 19

Decision adopted by the General Assembly on 22 December 2023

[on the report of the Second Committee (A/78/462)]

78/512. Water resilience

At its 50th plenary meeting, on 22 December 2023, the General Assembly, on the
recommendation of the Second Committee, decided to include in the provisional agenda of
its seventy-ninth session the item entitled "Water resilience".
"""
DECISION_ZH = """联合国 A/DEC/78/512

大会

Distr.: General
2024年1月2日

第七十八届会议

议程项目19

2023年12月22日大会决定

[根据第二委员会的报告(A/78/462)通过]

78/512.　水复原力

大会2023年12月22日第50次全体会议根据第二委员会的建议，决定将题为“水复原力”的项目列入
第七十九届会议临时议程。
"""


def test_decision_is_recognised_and_pairs() -> None:
    en = parse_document(DECISION_EN, "dec_en.txt", "0")
    zh = parse_document(DECISION_ZH, "dec_zh.txt", "0")
    for document in (en, zh):
        assert (document.symbol, document.metadata.family) == ("A/DEC/78/512", "ga_decision")
        assert [b.kind for b in document.blocks if b.kind != "heading"] == ["title", "operative"]
    assert en.blocks[-1].text.startswith("At its 50th plenary meeting")
    assert [p.symbol for p in pair_documents([en, zh]).pairs] == ["A/DEC/78/512"]


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("A/RES/ES-10/21", "A/RES/ES-10/21"),
        ("A/RES/S-27/2", "A/RES/S-27/2"),
        ("A/RES/75/58/Rev.1", "A/RES/75/58"),
        ("A/RES/75/58/Corr.1", "A/RES/75/58"),
        ("A/78/L.5/Rev.1/Corr.1", "A/78/L.5"),
    ],
)
def test_special_sessions_and_revisions(symbol: str, expected: str) -> None:
    text = (RAW / "002_69ed3383ef6f2041.txt").read_text(encoding="utf-8")
    text = text.replace("75/58. Measures", "Measures")  # the symbol then comes from the head
    document = parse_document(f"United Nations {symbol}\n\n{text}", "x.txt", "0")
    assert document.symbol == expected
    revision = symbol[len(expected) + 1 :] or None
    assert document.metadata.revision == revision


def test_unsupported_family_is_rejected_with_that_reason() -> None:
    from pipeline.records import RejectedInput

    text = (RAW / "002_69ed3383ef6f2041.txt").read_text(encoding="utf-8")
    text = "United Nations E/RES/2023/4\n\n" + text.replace("75/58. Measures", "Measures")
    with pytest.raises(RejectedInput, match="unsupported document family: Economic and Social"):
        parse_document(text, "ecosoc.txt", "0")


def test_seeds_plus_copies_in_another_format_build_the_same_pairs(tmp_path: Path) -> None:
    """Every seed twice (.txt and a .md copy): the same documents and pairs as the seeds
    alone, and each copy listed as a duplicate of the file kept."""
    for seed in RAW.iterdir():
        shutil.copy(seed, tmp_path / seed.name)
        shutil.copy(seed, tmp_path / (seed.stem + ".md"))
    alone = pair_documents(extract_folder(RAW).documents)
    both = pair_documents(extract_folder(tmp_path).documents)
    assert [(p.symbol, p.en.blocks, p.zh.blocks) for p in both.pairs] == [
        (p.symbol, p.en.blocks, p.zh.blocks) for p in alone.pairs
    ]
    assert [(d.symbol, d.blocks) for d in both.unpaired] == [
        (d.symbol, d.blocks) for d in alone.unpaired
    ]
    assert sorted((d.source_file, d.kept_file) for d in both.duplicates) == sorted(
        (seed.name, seed.stem + ".md")
        for seed in RAW.iterdir()  # same text: .md ranks first
    )
