"""Page layouts that PDF-to-text converters produce and the seeds do not show.

Written from a hand-made resolution (79/150, English HTML + Chinese GB18030 text): a
footnote separator rule and header lines on consecutive lines (no blank line between).
"""

from __future__ import annotations

import pytest
from conftest import SEEDS

from pipeline.extract import parse_document

ZH = """大会

第七十九届会议
议程项目27(b)

2024年12月17日大会决议

79/150.　扫盲促进生活

大会，

回顾其第77/195号决议，

铭记《2030年可持续发展议程》，¹ 特别是

__________________
¹ 第70/1号决议。

目标4，

1.	注意到总干事的报告；²

2.	决定将该分项目列入第八十一届会议临时议程。

2024年12月17日
第52次全体会议

__________________
² A/79/188。
"""

EN = """General Assembly

Seventy-ninth session
Agenda item 27 (b)

Resolution adopted by the General Assembly on 17 December 2024

79/150. Literacy for life

The General Assembly,

Recalling its resolution 77/195,

1. Takes note of the report;¹

2. Decides to include the sub-item in the provisional agenda.

52nd plenary meeting
17 December 2024

_______________
¹ A/79/188.
"""


@pytest.mark.parametrize("text", [ZH, EN], ids=["zh", "en"])
def test_footnote_rule_line_is_not_a_block(text: str) -> None:
    """A line of underscores separates footnotes on the printed page; it has no text."""
    doc = parse_document(text, "new.txt", "0")
    assert all(block.text for block in doc.blocks), [
        (b.kind, b.number) for b in doc.blocks if not b.text
    ]
    assert [b.kind for b in doc.blocks if b.kind in ("operative", "subparagraph")] == [
        "operative",
        "operative",
    ]
    assert [b.number for b in doc.blocks if b.kind == "footnote"] == (
        ["1", "2"] if text is ZH else ["1"]
    )


@pytest.mark.parametrize(
    ("text", "session_line", "agenda_line"),
    [(ZH, "第七十九届会议", "议程项目27(b)"), (EN, "Seventy-ninth session", "Agenda item 27 (b)")],
    ids=["zh", "en"],
)
def test_session_and_agenda_on_consecutive_lines(
    text: str, session_line: str, agenda_line: str
) -> None:
    """Session and agenda item are two header lines even without a blank line between."""
    doc = parse_document(text, "new.txt", "0")
    headings = [b.text for b in doc.blocks if b.kind == "heading"]
    assert session_line in headings
    assert agenda_line in headings
    assert doc.metadata.session == 79
    assert doc.metadata.agenda_item == "27 (b)"


def _seed_with(line: str) -> str:
    """Seed 002 (75/58 en) with ``line`` as a paragraph of its own before "Cognizant"."""

    from pipeline.readers import read_source

    text = read_source(SEEDS / "002_69ed3383ef6f2041.txt").text
    at = text.index("Cognizant of")
    return text[:at] + line + "\n\n" + text[at:]


@pytest.mark.parametrize("line", ["#", "[](#)", "## ", "<sup></sup>"])
def test_markup_only_line_is_not_a_block(line: str) -> None:
    """Converter debris with no visible text (an empty heading or link) is no paragraph."""
    reference = parse_document(_seed_with(""), "002.txt", "0")
    doc = parse_document(_seed_with(line), "002.txt", "0")
    assert all(block.text for block in doc.blocks)
    assert [b.text for b in doc.blocks] == [b.text for b in reference.blocks]


@pytest.mark.parametrize(("line", "ref"), [("¹", "1"), ("<sup>2</sup>", "2")])
def test_lone_footnote_marker_joins_the_paragraph_before(line: str, ref: str) -> None:
    """A superscript the converter put on its own line keeps its reference, not a block."""
    reference = parse_document(_seed_with(""), "002.txt", "0")
    doc = parse_document(_seed_with(line), "002.txt", "0")
    assert [b.text for b in doc.blocks] == [b.text for b in reference.blocks]
    before = next(i for i, b in enumerate(doc.blocks) if b.text.startswith("Cognizant")) - 1
    assert doc.blocks[before].footnote_refs[-1] == ref


def test_numbered_paragraph_without_text_is_rejected() -> None:
    """A "(a)" with nothing after it (a cut-off file) is refused, naming the paragraph."""
    from pipeline.records import RejectedInput

    text = EN.replace("52nd plenary meeting", "(a)\n\n52nd plenary meeting")
    with pytest.raises(RejectedInput, match=r"new\.txt: .*subparagraph \(a\).*no text"):
        parse_document(text, "new.txt", "0")


@pytest.mark.parametrize("part", ["A", "B"])
def test_multi_part_resolution_keeps_its_part_letter(part: str) -> None:
    """GA resolutions in parts ("77/126 A", "77/126 B") are separate documents: the
    letter is part of the symbol, so parts A and B do not collide as duplicates."""
    text = EN.replace("79/150. Literacy", f"79/150 {part}. Literacy")
    doc = parse_document(f"A/RES/79/150 {part}\n\n{text}", "new.txt", "0")
    assert doc.symbol == f"A/RES/79/150 {part}"
    assert doc.metadata.title == "Literacy for life"
    assert doc.metadata.session == 79
    assert "A/RES/79/150" not in " ".join(b.text for b in doc.blocks)  # running head gone
    zh = ZH.replace("79/150.", f"79/150 {part}.")
    assert parse_document(zh, "new.txt", "0").symbol == f"A/RES/79/150 {part}"
