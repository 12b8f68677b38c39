"""Page layouts that PDF-to-text converters produce and the seeds do not show.

Written from a hand-made resolution (79/150, English HTML + Chinese GB18030 text): a
footnote separator rule and header lines on consecutive lines (no blank line between).
"""

from __future__ import annotations

import pytest

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
