"""Whole-document edge cases: page breaks, running heads, sub-paragraphs, rejections."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SEEDS

from pipeline.extract import extract_file, extract_folder, parse_document
from pipeline.records import RejectedInput

RAW = SEEDS
SEED_002 = RAW / "002_69ed3383ef6f2041.txt"
SEED_003 = RAW / "003_df19238bedd244e2.txt"

MINI = """General Assembly

Seventy-fifth session

Agenda item 12

Resolution adopted by the General Assembly on 1 March 2021

[without reference to a Main Committee (A/75/L.1)]

75/300. Test resolution

The General Assembly,

Recalling its resolution 74/1,

Noting with concern the situation in the
{page_break}
region of the Sahel,¹

1. *Decides* to act as follows:

(a) To do one thing;

(b) To do another thing;

2. *Requests* the Secretary-General to report to the Assembly.

¹ A/75/1.

*99th plenary meeting
1 March 2021*
"""

RUNNING_HEADS = "\nA/RES/75/300\n\n2/3\n\n21-01234 (E)\n\n*2101234*\n"


def mini(page_break: str = "") -> str:
    return MINI.replace("{page_break}", page_break)


def test_mini_document_structure() -> None:
    doc = parse_document(mini(), "mini.txt", "0" * 64)
    assert doc.symbol == "A/RES/75/300"
    assert [(b.kind, b.number) for b in doc.blocks if b.kind != "heading"] == [
        ("title", None),
        ("preamble", None),
        ("preamble", None),
        ("operative", "1"),
        ("subparagraph", "a"),
        ("subparagraph", "b"),
        ("operative", "2"),
        ("closing", None),
        ("closing", None),
        ("footnote", "1"),
    ]
    subs = [b.text for b in doc.blocks if b.kind == "subparagraph"]
    assert subs == ["To do one thing;", "To do another thing;"]
    assert doc.block_keys()[-6:] == ["op1a", "op1b", "op2", "close1", "close2", "fn1"]
    assert doc.metadata.report is None  # "without reference": no committee report
    assert doc.metadata.session == 75
    assert doc.metadata.meeting == "99th plenary meeting"


def test_paragraph_split_by_running_heads_is_joined() -> None:
    doc = parse_document(mini(RUNNING_HEADS), "mini.txt", "0" * 64)
    preamble = [b for b in doc.blocks if b.kind == "preamble"]
    assert len(preamble) == 2
    assert preamble[1].text == "Noting with concern the situation in the region of the Sahel,"
    assert preamble[1].lead == "Noting with concern"
    assert preamble[1].footnote_refs == ["1"]
    texts = " ".join(b.text for b in doc.blocks)
    assert "A/RES/75/300" not in texts and "21-01234" not in texts and "2/3" not in texts


def test_paragraph_split_by_footnotes_is_joined() -> None:
    doc = parse_document(mini("\n² A/75/2.\n\n³ A/75/3.\n"), "mini.txt", "0" * 64)
    preamble = [b for b in doc.blocks if b.kind == "preamble"]
    assert preamble[1].text == "Noting with concern the situation in the region of the Sahel,"
    assert [b.number for b in doc.blocks if b.kind == "footnote"] == ["2", "3", "1"]


def test_lowercase_continuation_after_closed_line_is_joined() -> None:
    text = mini().replace(
        "Recalling its resolution 74/1,", "Recalling its resolution 74/1,\n\nand its decision 74/2,"
    )
    doc = parse_document(text, "mini.txt", "0" * 64)
    preamble = [b.text for b in doc.blocks if b.kind == "preamble"]
    assert preamble[0] == "Recalling its resolution 74/1, and its decision 74/2,"


def test_unnumbered_paragraph_after_operatives_is_kept_apart() -> None:
    text = mini().replace(
        "2. *Requests*", "Flush text that belongs to the operative part.\n\n2. *Requests*"
    )
    doc = parse_document(text, "mini.txt", "0" * 64)
    flush = [b for b in doc.blocks if b.text.startswith("Flush text")]
    assert len(flush) == 1 and flush[0].kind == "subparagraph" and flush[0].number is None


def test_symbol_from_explicit_reference_without_title_line() -> None:
    text = "A/RES/75/300\n\n" + mini().replace("75/300. Test resolution", "Test resolution")
    doc = parse_document(text, "mini.txt", "0" * 64)
    assert doc.symbol == "A/RES/75/300"
    assert doc.metadata.title is None


# --- rejections -----------------------------------------------------------------------


def seed_text(path: Path = SEED_002) -> str:
    return path.read_text(encoding="utf-8")


def rejection(text: str) -> RejectedInput:
    with pytest.raises(RejectedInput) as info:
        parse_document(text, "bad.txt", "0" * 64)
    assert info.value.source_file == "bad.txt"
    assert str(info.value).startswith("bad.txt: ")
    return info.value


def test_reject_no_symbol() -> None:
    text = seed_text().replace("75/58. Measures", "Measures")
    assert "no recognisable symbol" in rejection(text).reason


def test_reject_conflicting_symbols() -> None:
    text = "A/RES/75/59\n\n" + seed_text()
    assert "conflicting symbols" in rejection(text).reason


def test_reject_unknown_language() -> None:
    text = (
        "Assemblée générale\n\nSoixante-quinzième session\n\n75/58. Mesures visant à empêcher "
        "les terroristes d'acquérir des armes de destruction massive\n\nL'Assemblée générale,\n\n"
        "Rappelant sa résolution 74/43 du 12 décembre 2019,\n\n1. *Demande* à tous les États "
        "Membres de soutenir les efforts internationaux visant à empêcher les terroristes.\n"
    )
    assert "language not recognised" in rejection(text).reason


def test_reject_truncated_in_preamble() -> None:
    """Cut after a preambular paragraph: it stops at a comma, with no closing lines."""
    text = seed_text()
    cut = text.index("Noting also that")
    reason = rejection(text[:cut]).reason
    assert "truncated" in reason and "stops without a full stop" in reason


def test_reject_truncated_between_operative_paragraphs() -> None:
    text = seed_text()
    cut = text.index("4. *Encourages*")
    reason = rejection(text[:cut]).reason
    assert "truncated" in reason and "no closing lines" in reason


def test_reject_truncated_mid_sentence() -> None:
    text = seed_text(SEED_003)
    cut = text.index("征求会员国的意见")
    assert "truncated" in rejection(text[:cut]).reason


def test_complete_text_without_closing_lines_is_accepted() -> None:
    """The last operative paragraph ends with a full stop: only the closing lines are gone."""
    text = seed_text()
    cut = text.index("*37th plenary meeting")
    doc = parse_document(text[:cut], "ok.txt", "0" * 64)
    assert [b.kind for b in doc.blocks].count("closing") == 0
    assert doc.metadata.meeting is None


# --- files and folders ----------------------------------------------------------------


def test_extract_file_reads_utf16_and_gb18030(tmp_path: Path) -> None:
    reference = extract_file(SEED_003)
    for encoding in ("utf-16", "gb18030"):
        path = tmp_path / f"zh-{encoding}.txt"
        path.write_bytes(seed_text(SEED_003).encode(encoding))
        doc = extract_file(path)
        assert doc.blocks == reference.blocks
        assert doc.source_file == path.name
        assert doc.sha256 != reference.sha256


def test_extract_folder_lists_bad_files_and_goes_on(tmp_path: Path) -> None:
    shutil.copy(SEED_002, tmp_path / "b_good.txt")
    (tmp_path / "a_empty.txt").write_bytes(b"")
    (tmp_path / "c_truncated.txt").write_text(seed_text()[:2000], encoding="utf-8")
    (tmp_path / "d_nosymbol.txt").write_text(
        seed_text().replace("75/58. Measures", "Measures"), encoding="utf-8"
    )
    (tmp_path / ".gitkeep").write_text("")
    result = extract_folder(tmp_path)
    assert [d.source_file for d in result.documents] == ["b_good.txt"]
    assert [r.source_file for r in result.rejected] == [
        "a_empty.txt",
        "c_truncated.txt",
        "d_nosymbol.txt",
    ]
    assert "empty" in result.rejected[0].reason
    assert "truncated" in result.rejected[1].reason
    assert "symbol" in result.rejected[2].reason


def test_extract_folder_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a folder"):
        extract_folder(tmp_path / "nope")


# --- other formats: the structure survives every reader -------------------------------


def seed_as_html(path: Path) -> str:
    """One <p> (or <h2> for "## ") per blank-line chunk, its lines joined by <br>."""
    parts = []
    for chunk in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line.strip() for line in chunk.split("\n") if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("## "):
            parts.append(f"<h2>{'<br>'.join(lines)[3:]}</h2>")
        else:
            parts.append(f"<p>{'<br>'.join(lines)}</p>")
    return "<html><head><meta charset='utf-8'></head><body>" + "\n".join(parts) + "</body></html>"


@pytest.mark.parametrize("seed", sorted(RAW.glob("*.txt")), ids=lambda p: p.name[:3])
def test_seed_as_html_extracts_to_the_same_blocks(tmp_path: Path, seed: Path) -> None:
    path = tmp_path / "seed.html"
    path.write_text(seed_as_html(seed), encoding="utf-8")
    assert extract_file(path).blocks == extract_file(seed).blocks


def test_seed_as_docx_extracts_to_the_same_blocks(tmp_path: Path) -> None:
    """Each seed line a Word paragraph (so 002's closing lines are two paragraphs)."""
    import docx

    document = docx.Document()
    for line in seed_text().split("\n"):
        if line.strip():
            document.add_paragraph(line)
    path = tmp_path / "seed.docx"
    document.save(str(path))
    doc = extract_file(path)
    assert doc.blocks == extract_file(SEED_002).blocks
    assert doc.symbol == "A/RES/75/58"


# --- layout variants ------------------------------------------------------------------


def test_number_and_label_alone_on_their_lines() -> None:
    text = mini().replace("1. *Decides* to act", "1.\n\n*Decides* to act")
    text = text.replace("(b) To do another", "(b)\nTo do another")
    doc = parse_document(text, "mini.txt", "0" * 64)
    ops = [(b.number, b.lead, b.text) for b in doc.blocks if b.kind == "operative"]
    assert ops[0] == ("1", "Decides", "Decides to act as follows:")
    subs = [(b.number, b.text) for b in doc.blocks if b.kind == "subparagraph"]
    assert subs == [("a", "To do one thing;"), ("b", "To do another thing;")]


@pytest.mark.parametrize(
    ("closing", "expected"),
    [
        ("99th plenary meeting 1 March 2021", ["99th plenary meeting", "1 March 2021"]),
        ("2021年3月1日 第99次全体会议", ["2021年3月1日", "第99次全体会议"]),
    ],
)
def test_closing_lines_on_one_line(closing: str, expected: list[str]) -> None:
    text = mini().replace("*99th plenary meeting\n1 March 2021*", closing)
    doc = parse_document(text, "mini.txt", "0" * 64)
    assert [b.text for b in doc.blocks if b.kind == "closing"] == expected


def test_text_after_closing_lines_keeps_its_place() -> None:
    text = mini() + "\nAnnex\n\nText of the annex.\n"
    doc = parse_document(text, "mini.txt", "0" * 64)
    kinds = [b.kind for b in doc.blocks]
    assert kinds[-5:] == ["closing", "closing", "subparagraph", "subparagraph", "footnote"]
    assert [b.text for b in doc.blocks][-3:-1] == ["Annex", "Text of the annex."]


def test_header_line_wrapped_over_a_blank_line_is_joined() -> None:
    text = mini().replace("Agenda item 12", "Agenda item 12\n\nGeneral and complete\n\ndisarmament")
    doc = parse_document(text, "mini.txt", "0" * 64)
    headings = [b.text for b in doc.blocks if b.kind == "heading"]
    assert "General and complete disarmament" in headings


def test_footnote_citing_a_symbol_is_not_a_running_head() -> None:
    text = mini().replace("¹ A/75/1.", "¹ A/RES/74/1")
    doc = parse_document(text, "mini.txt", "0" * 64)
    assert doc.symbol == "A/RES/75/300"
    assert [b.text for b in doc.blocks if b.kind == "footnote"] == ["A/RES/74/1"]


def test_intro_line_without_comma() -> None:
    doc = parse_document(mini().replace("The General Assembly,", "The General Assembly"), "m", "0")
    assert [b.kind for b in doc.blocks][:8] == ["heading"] * 5 + ["title", "heading", "preamble"]


def test_footnote_cut_by_a_page_break_is_joined_to_the_footnote() -> None:
    text = mini().replace(
        "¹ A/75/1.", "¹ United Nations, Treaty Series,\n\nA/RES/75/300\n\nvol. 2445."
    )
    doc = parse_document(text, "mini.txt", "0" * 64)
    footnotes = [b.text for b in doc.blocks if b.kind == "footnote"]
    assert footnotes == ["United Nations, Treaty Series, vol. 2445."]
    assert not any("vol. 2445" in b.text for b in doc.blocks if b.kind != "footnote")


def test_lead_mark_on_the_verb_only_takes_the_whole_phrase() -> None:
    text = mini().replace("Recalling its resolution 74/1,", "*Recalling* also its resolution 74/1,")
    doc = parse_document(text, "mini.txt", "0" * 64)
    assert [b.lead for b in doc.blocks if b.kind == "preamble"][0] == "Recalling also"
