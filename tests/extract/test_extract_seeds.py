"""The four seed resolutions extract into exactly the paragraphs of the printed page.

Every table below was written by reading the seeds (data/raw/) as printed text, not by
dumping the extractor's output: a lost, merged or split paragraph changes a count, a
first or last word, a lead phrase or a footnote reference, and fails here.
"""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import SEEDS as RAW

from pipeline.extract import extract_file, extract_folder
from pipeline.records import Document

SEED_000 = "000_0efcbe69a8e200e4.txt"  # A/RES/78/43 en
SEED_001 = "001_3d9d53251f95c6e1.txt"  # A/RES/76/28 en
SEED_002 = "002_69ed3383ef6f2041.txt"  # A/RES/75/58 en
SEED_003 = "003_df19238bedd244e2.txt"  # A/RES/75/58 zh


@pytest.fixture(scope="module")
def docs() -> dict[str, Document]:
    return {name: extract_file(RAW / name) for name in (SEED_000, SEED_001, SEED_002, SEED_003)}


def kinds(doc: Document, kind: str) -> list:
    return [b for b in doc.blocks if b.kind == kind]


def first_last(text: str, n: int = 3) -> tuple[str, str]:
    words = text.split()
    return " ".join(words[:n]), " ".join(words[-n:])


AGENDA_TITLE = (
    "General and complete disarmament: measures to prevent terrorists from acquiring "
    "weapons of mass destruction"
)
TITLE_EN = "Measures to prevent terrorists from acquiring weapons of mass destruction"

# --- expectations per seed ------------------------------------------------------------

EXPECTED_META = {
    SEED_000: ("A/RES/78/43", "en", 78, "99 (s)", "2023-12-04", TITLE_EN, "A/78/409",
               "42nd plenary meeting"),
    SEED_001: ("A/RES/76/28", "en", 76, "100 (s)", "2021-12-06", TITLE_EN, "A/76/444",
               "45th plenary meeting"),
    SEED_002: ("A/RES/75/58", "en", 75, "103 (v)", "2020-12-07", TITLE_EN, "A/75/399",
               "37th plenary meeting"),
    SEED_003: ("A/RES/75/58", "zh", 75, "103 (v)", "2020-12-07",
               "防止恐怖分子获取大规模毁灭性武器的措施", "A/75/399", "第37次全体会议"),
}  # fmt: skip

EXPECTED_COUNTS = {
    SEED_000: {"heading": 7, "title": 1, "preamble": 18, "operative": 6, "footnote": 7,
               "closing": 2},
    SEED_001: {"heading": 6, "title": 1, "preamble": 18, "operative": 6, "footnote": 7,
               "closing": 2},
    SEED_002: {"heading": 7, "title": 1, "preamble": 18, "operative": 6, "footnote": 7,
               "closing": 2},
    SEED_003: {"heading": 7, "title": 1, "preamble": 17, "operative": 6, "footnote": 7,
               "closing": 2},
}  # fmt: skip

EXPECTED_HEADINGS = {
    SEED_000: ["General Assembly", "Seventy-eighth session", "Agenda item 99 (s)", AGENDA_TITLE,
               "Resolution adopted by the General Assembly on 4 December 2023",
               "[on the report of the First Committee (A/78/409, para. 89)]",
               "The General Assembly,"],
    SEED_001: ["Seventy-sixth session", "Agenda item 100 (s)", AGENDA_TITLE,
               "Resolution adopted by the General Assembly on 6 December 2021",
               "[on the report of the First Committee (A/76/444, para. 93)]",
               "The General Assembly,"],
    SEED_002: ["General Assembly", "Seventy-fifth session", "Agenda item 103 (v)", AGENDA_TITLE,
               "Resolution adopted by the General Assembly on 7 December 2020",
               "[on the report of the First Committee (A/75/399, para. 96)]",
               "The General Assembly,"],
    SEED_003: ["大会", "第七十五届会议", "议程项目 103(v)",
               "全面彻底裁军：防止恐怖分子获取大规模毁灭性武器的措施", "2020 年 12 月 7 日大会决议",
               "[根据第一委员会的报告(A/75/399，第 96 段)通过]", "大会，"],
}  # fmt: skip

EXPECTED_CLOSING = {
    SEED_000: ["42nd plenary meeting", "4 December 2023"],
    SEED_001: ["45th plenary meeting", "6 December 2021"],
    SEED_002: ["37th plenary meeting", "7 December 2020"],
    SEED_003: ["2020年12月7日", "第37次全体会议"],  # the Chinese layout puts the date first
}

# (lead, first three words, last three words, footnote refs) per preambular paragraph.
PREAMBLE_000 = [
    ("Recalling", "Recalling its resolution", "7 December 2022,", []),
    ("Recognizing", "Recognizing the determination", "Security Council resolutions,", []),
    ("Deeply concerned", "Deeply concerned by", "of mass destruction,", []),
    ("Cognizant", "Cognizant of the", "of mass destruction,", []),
    ("Recalling", "Recalling Security Council", "of mass destruction,", []),
    ("Recalling also", "Recalling also the", "of Nuclear Terrorism,", ["1"]),
    ("Recalling further", "Recalling further the", "8 May 2016,", ["2"]),
    ("Recalling", "Recalling the support", "of mass destruction,", ["3"]),
    ("Recalling also", "Recalling also that", "States of America,", []),
    ("Recalling further", "Recalling further the", "in Washington, D.C.,", []),
    ("Recalling", "Recalling the holding", "28 September 2012,", []),
    ("Acknowledging", "Acknowledging the consideration", "on Disarmament Matters,", ["4"]),
    ("Taking note", "Taking note of", "sixty-seventh regular session,", []),
    ("Recalling", "Recalling the Code", "11 September 2017,", []),
    ("Recalling also", "Recalling also the", "8 September 2006,", ["5", "6"]),
    ("Taking note", "Taking note of", "of resolution 77/75,", ["7"]),
    ("Mindful", "Mindful of the", "threat to humanity,", []),
    ("Emphasizing", "Emphasizing that progress", "efforts against terrorism,", []),
]

PREAMBLE_001 = [
    ("Recalling", "Recalling its resolution", "7 December 2020,", []),
    *PREAMBLE_000[1:12],
    ("Taking note", "Taking note of", "sixty-fifth regular session,", []),
    *PREAMBLE_000[13:15],
    ("Taking note", "Taking note of", "of resolution 75/58,", ["7"]),
    *PREAMBLE_000[16:],
]

PREAMBLE_002 = [
    ("Recalling", "Recalling its resolution", "12 December 2019,", []),
    ("Recognizing", "Recognizing the determination", "Security Council resolutions,", []),
    ("Deeply concerned", "Deeply concerned by", "of mass destruction,", []),
    ("Cognizant", "Cognizant of the", "of mass destruction,", []),
    ("Taking note", "Taking note of", "of mass destruction,", []),
    ("Welcoming", "Welcoming the entry", "of Nuclear Terrorism,", ["1"]),
    ("Welcoming also", "Welcoming also the", "8 May 2016,", ["2"]),
    ("Noting", "Noting the support", "of mass destruction,", ["3"]),
    ("Noting also", "Noting also that", "States of America,", []),
    ("Noting further", "Noting further the", "in Washington, D.C.,", []),
    ("Noting", "Noting the holding", "28 September 2012,", []),
    ("Acknowledging", "Acknowledging the consideration", "on Disarmament Matters,", ["4"]),
    ("Taking note", "Taking note of", "sixty-second regular session,", []),
    ("Taking note also", "Taking note also", "11 September 2017,", []),
    ("Taking note further", "Taking note further", "8 September 2006,", ["5", "6"]),
    ("Taking note", "Taking note of", "of resolution 74/43,", ["7"]),
    ("Mindful", "Mindful of the", "threat to humanity,", []),
    ("Emphasizing", "Emphasizing that progress", "efforts against terrorism,", []),
]

# (lead, start, end, footnote refs): Chinese has no words to count, so prefixes/suffixes.
PREAMBLE_003 = [
    ("回顾", "回顾其 2019 年", "第 74/43 号决议，", []),
    ("确认", "确认大会和安全理事会", "决心打击恐怖主义，", []),
    ("深为关切", "深为关切恐怖主义", "获取大规模毁灭性武器，", []),
    ("认识到", "认识到各国为实施", "号决议所采取的措施，", []),
    ("表示注意到", "表示注意到安全理事会", "第 2325(2016)号决议，", []),
    ("欢迎", "欢迎《制止核恐怖主义行为国际公约》于 2007 年",
     "并欢迎修正案于 2016 年 5 月 8 日生效，", ["1", "2"]),
    ("注意到", "注意到 2019年10月25日", "防止恐怖分子获取大规模毁灭性武器，", ["3"]),
    ("又注意到", "又注意到八国集团", "打击核恐怖主义全球倡议，", []),
    ("还注意到", "还注意到 2010年4月12日", "分别举行了核安全峰会，", []),
    ("注意到", "注意到 2012年9月28日", "的高级别会议，", []),
    ("认识到", "认识到裁军事项咨询委员会", "所涉问题进行的审议，", ["4"]),
    ("表示注意到", "表示注意到国际原子能机构", "通过的相关决议，", []),
    ("又表示注意到", "又表示注意到国际原子能机构理事会", "《废弃放射源管理导则》，", []),
    ("还表示注意到", "还表示注意到 2005 年", "《联合国全球反恐战略》，", ["5", "6"]),
    ("表示注意到", "表示注意到秘书长", "提交的报告，", ["7"]),
    ("意识到", "意识到迫切需要", "这一威胁，", []),
    ("强调", "强调迫切需要", "打击恐怖主义的努力，", []),
]  # fmt: skip


def operative_en(session_word: str) -> list[tuple[str, str, str]]:
    return [
        ("Calls upon", "Calls upon all", "means of delivery;"),
        ("Appeals", "Appeals to all", "review its implementation;"),
        ("Urges", "Urges all Member", "to their manufacture;"),
        ("Encourages", "Encourages cooperation among", "in this regard;"),
        ("Requests", "Requests the Secretary-General", f"its {session_word} session;"),
        ("Decides", "Decides to include", "of mass destruction”."),
    ]


OPERATIVE_003 = [
    ("促请", "促请全体会员国", "的国际努力；"),
    ("呼吁", "呼吁全体会员国", "审查其执行情况；"),
    ("敦促", "敦促全体会员国", "材料和技术；"),
    ("鼓励", "鼓励会员国之间", "这方面的能力；"),
    ("请", "请秘书长编写一份报告", "第七十六届会议提出报告；"),
    ("决定", "决定在大会第七十六届会议", "的分项。"),
]

FOOTNOTES_EN = [
    "United Nations, Treaty Series, vol. 2445, No. 44004.",
    "Ibid., vol. 1456, No. 24631.",
    "See A/74/548, annex.",
    "See A/59/361.",
    "Resolution 60/1.",
    "Resolution 60/288.",
]
EXPECTED_FOOTNOTES = {
    SEED_000: [*FOOTNOTES_EN, "A/78/151."],
    SEED_001: [*FOOTNOTES_EN, "A/76/189."],
    SEED_002: [*FOOTNOTES_EN, "A/75/171."],
    SEED_003: [
        "联合国，《条约汇编》，第 2445 卷，第 44004 号。",
        "同上，第 1456 卷，第 24631 号。",
        "见 A/74/548，附件。",
        "见 A/59/361。",
        "第 60/1 号决议。",
        "第 60/288 号决议。",
        "A/75/171。",
    ],
}

SEEDS = [SEED_000, SEED_001, SEED_002, SEED_003]


# --- tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", SEEDS)
def test_symbol_language_and_metadata(docs: dict[str, Document], name: str) -> None:
    doc = docs[name]
    symbol, lang, session, agenda, adopted, title, report, meeting = EXPECTED_META[name]
    assert (doc.symbol, doc.language) == (symbol, lang)
    meta = doc.metadata
    assert meta.session == session
    assert meta.agenda_item == agenda
    assert meta.adopted_on == adopted
    assert meta.title == title
    assert meta.report == report
    assert meta.meeting == meeting
    assert doc.source_file == name
    assert len(doc.sha256) == 64


@pytest.mark.parametrize("name", SEEDS)
def test_block_counts_per_kind(docs: dict[str, Document], name: str) -> None:
    assert Counter(b.kind for b in docs[name].blocks) == EXPECTED_COUNTS[name]


@pytest.mark.parametrize("name", SEEDS)
def test_block_order(docs: dict[str, Document], name: str) -> None:
    """Header, title, intro, preamble, operative, closing, then the footnotes."""
    counts = EXPECTED_COUNTS[name]
    expected = (
        ["heading"] * (counts["heading"] - 1)
        + ["title", "heading"]
        + ["preamble"] * counts["preamble"]
        + ["operative"] * counts["operative"]
        + ["closing"] * 2
        + ["footnote"] * 7
    )
    assert [b.kind for b in docs[name].blocks] == expected


@pytest.mark.parametrize("name", SEEDS)
def test_headings_title_and_closing(docs: dict[str, Document], name: str) -> None:
    doc = docs[name]
    assert [b.text for b in kinds(doc, "heading")] == EXPECTED_HEADINGS[name]
    assert [b.text for b in kinds(doc, "title")] == [EXPECTED_META[name][5]]
    assert [b.text for b in kinds(doc, "closing")] == EXPECTED_CLOSING[name]


@pytest.mark.parametrize(
    ("name", "table"),
    [(SEED_000, PREAMBLE_000), (SEED_001, PREAMBLE_001), (SEED_002, PREAMBLE_002)],
)
def test_english_preamble(docs: dict[str, Document], name: str, table: list) -> None:
    blocks = kinds(docs[name], "preamble")
    assert len(blocks) == len(table)
    for i, (block, (lead, first, last, refs)) in enumerate(zip(blocks, table, strict=True)):
        assert block.lead == lead, i
        assert first_last(block.text) == (first, last), i
        assert block.footnote_refs == refs, i


def test_chinese_preamble(docs: dict[str, Document]) -> None:
    blocks = kinds(docs[SEED_003], "preamble")
    assert len(blocks) == len(PREAMBLE_003)
    for i, (block, (lead, start, end, refs)) in enumerate(zip(blocks, PREAMBLE_003, strict=True)):
        assert block.lead == lead, i
        assert block.text.startswith(start), (i, block.text)
        assert block.text.endswith(end), (i, block.text)
        assert block.footnote_refs == refs, i


@pytest.mark.parametrize(
    ("name", "table"),
    [
        (SEED_000, operative_en("seventy-ninth")),
        (SEED_001, operative_en("seventy-seventh")),
        (SEED_002, operative_en("seventy-sixth")),
    ],
)
def test_english_operative(docs: dict[str, Document], name: str, table: list) -> None:
    blocks = kinds(docs[name], "operative")
    assert [b.number for b in blocks] == ["1", "2", "3", "4", "5", "6"]
    for i, (block, (lead, first, last)) in enumerate(zip(blocks, table, strict=True)):
        assert block.lead == lead, i
        assert first_last(block.text) == (first, last), i
        assert block.footnote_refs == []


def test_chinese_operative(docs: dict[str, Document]) -> None:
    blocks = kinds(docs[SEED_003], "operative")
    assert [b.number for b in blocks] == ["1", "2", "3", "4", "5", "6"]
    for i, (block, (lead, start, end)) in enumerate(zip(blocks, OPERATIVE_003, strict=True)):
        assert block.lead == lead, i
        assert block.text.startswith(start), (i, block.text)
        assert block.text.endswith(end), (i, block.text)


@pytest.mark.parametrize("name", SEEDS)
def test_footnotes(docs: dict[str, Document], name: str) -> None:
    blocks = kinds(docs[name], "footnote")
    assert [b.number for b in blocks] == ["1", "2", "3", "4", "5", "6", "7"]
    assert [b.text for b in blocks] == EXPECTED_FOOTNOTES[name]
    assert all(b.footnote_refs == [] and b.lead is None for b in blocks)


def test_page_break_paragraph_joined_001(docs: dict[str, Document]) -> None:
    """001: "held in Baku on" + two footnotes + "25 and 26 October 2019,³ ..." is one paragraph."""
    baku = kinds(docs[SEED_001], "preamble")[7]
    assert baku.text == (
        "Recalling the support expressed in the Final Document of the Eighteenth Summit of "
        "Heads of State or Government of Non-Aligned Countries, held in Baku on 25 and 26 "
        "October 2019, for measures to prevent terrorists from acquiring weapons of mass "
        "destruction,"
    )
    assert baku.footnote_refs == ["3"]


def test_run_together_line_split_001(docs: dict[str, Document]) -> None:
    """001's long line: title block + eight preambular paragraphs, each its own block."""
    doc = docs[SEED_001]
    preamble = kinds(doc, "preamble")
    assert [b.text.split()[0] for b in preamble[:8]] == [
        "Recalling", "Recognizing", "Deeply", "Cognizant", "Recalling", "Recalling",
        "Recalling", "Recalling",
    ]  # fmt: skip
    assert preamble[0].text == "Recalling its resolution 75/58 of 7 December 2020,"
    assert preamble[6].text.startswith("Recalling further the adoption, by consensus, of")
    assert "Nuclear Material by the International Atomic Energy Agency" in preamble[6].text


def test_merged_chinese_paragraph_stays_one_003(docs: dict[str, Document]) -> None:
    """Two English paragraphs (Welcoming / Welcoming also) are one Chinese paragraph."""
    merged = kinds(docs[SEED_003], "preamble")[5]
    assert merged.text.count("欢迎") == 3
    assert "，又欢迎 2005 年 7 月 8 日" in merged.text
    assert "，并欢迎修正案" in merged.text


@pytest.mark.parametrize("name", SEEDS)
def test_no_debris_in_any_text(docs: dict[str, Document], name: str) -> None:
    for block in docs[name].blocks:
        text = block.text
        for debris in ("*", "#", "<sup>", "</sup>", "](#)", "\\", "\n", "  ", "Distr."):
            assert debris not in text, (debris, text)
        assert not any(ch in "⁰¹²³⁴⁵⁶⁷⁸⁹" for ch in text), text
        assert text == text.strip() and text


def test_typography_kept(docs: dict[str, Document]) -> None:
    """Curly quotes stay; Chinese full-width punctuation is not folded to ASCII."""
    op6_en = kinds(docs[SEED_002], "operative")[5].text
    assert "“General and complete disarmament”" in op6_en
    op6_zh = kinds(docs[SEED_003], "operative")[5].text
    assert "“全面彻底裁军”" in op6_zh
    heading = kinds(docs[SEED_003], "heading")[5].text
    assert "，第 96 段" in heading


def test_block_keys_are_unique_and_stable(docs: dict[str, Document]) -> None:
    keys = docs[SEED_003].block_keys()
    assert len(keys) == len(set(keys))
    assert keys[:8] == ["head1", "head2", "head3", "head4", "head5", "head6", "title", "head7"]
    assert "op6" in keys and "fn7" in keys and "pre17" in keys and "pre18" not in keys


def test_extract_folder_reads_all_seeds_sorted() -> None:
    result = extract_folder(RAW)
    assert result.rejected == []
    assert [d.source_file for d in result.documents] == SEEDS
    assert [d.symbol for d in result.documents] == [
        "A/RES/78/43", "A/RES/76/28", "A/RES/75/58", "A/RES/75/58",
    ]  # fmt: skip
