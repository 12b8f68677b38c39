"""Table-driven cases for the cleanup and splitting functions, on small hand-written inputs."""

from __future__ import annotations

import pytest

from pipeline.extract.language import detect_language
from pipeline.extract.leads import match_lead
from pipeline.extract.lines import split_chunk_lines, split_run_together
from pipeline.extract.metadata import chinese_number, english_ordinal, normalize_agenda_item
from pipeline.text.normalize import clean_inline, join_lines, normalize_unicode

CLEAN_CASES = [
    # (id, raw, expected text, expected footnote refs)
    ("dead link", "See [A/74/548](#), annex.", "See A/74/548, annex.", []),
    ("escaped brackets in link", r"res. [1540 \(2004\)](#) of", "res. 1540 (2004) of", []),
    (
        "link inside brackets",
        "[on the report of the First Committee ([A/78/409](#), para. 89)]",
        "[on the report of the First Committee (A/78/409, para. 89)]",
        [],
    ),
    ("emphasis inside brackets", "[*on the report (A/75/399)*]", "[on the report (A/75/399)]", []),
    ("nested markup", "***[*A/74/548*](#)***", "A/74/548", []),
    ("bold lead zh", "**又注意到** 八国集团", "又注意到八国集团", []),
    ("superscript ref", "Terrorism,¹ for measures", "Terrorism, for measures", ["1"]),
    ("two-digit superscript", "the Strategy,¹² and", "the Strategy, and", ["12"]),
    ("two refs in order", "Outcome⁵ and Strategy,⁶", "Outcome and Strategy,", ["5", "6"]),
    ("sup tag zh", "《公约》<sup>1</sup> 于 2007 年", "《公约》于 2007 年", ["1"]),
    ("sup tag list", "Strategy,<sup>5, 6</sup>", "Strategy,", ["5", "6"]),
    ("sup ordinal is text", "42<sup>nd</sup> plenary meeting", "42nd plenary meeting", []),
    ("zh line break no space", "防止恐怖分子  \n获取大规模", "防止恐怖分子获取大规模", []),
    ("en line break space", "held in Baku\non 25 and 26", "held in Baku on 25 and 26", []),
    ("hyphen at line end", "the non-\nproliferation of", "the non-proliferation of", []),
    ("heading marks", "## 75/58. 防止恐怖分子", "75/58. 防止恐怖分子", []),
    ("spaced-out zh heading", "## 大 会", "大会", []),
    ("ideographic space heading", "大\u3000会", "大会", []),
    ("zh digits keep spaces", "2020 年 12 月 7 日大会决议", "2020 年 12 月 7 日大会决议", []),
    ("curly quotes kept", "entitled “General”.", "entitled “General”.", []),
    ("full-width brackets kept", "（a） 第 1 段", "（a）第 1 段", []),
    ("italic span", "Nations, *Treaty Series*, vol. 2", "Nations, Treaty Series, vol. 2", []),
    ("html tags", "<i>Ibid.</i>, vol. 1456", "Ibid., vol. 1456", []),
    ("stray backslash", "weapons \\\nof mass", "weapons of mass", []),
    ("double spaces", "a  b\t c", "a b c", []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "text", "refs"), [c[1:] for c in CLEAN_CASES], ids=[c[0] for c in CLEAN_CASES]
)
def test_clean_inline(raw: str, text: str, refs: list[str]) -> None:
    assert clean_inline(raw) == (text, refs)


def test_normalize_is_nfc_not_nfkc() -> None:
    decomposed = "Re\u0301solution（a）¹"
    assert normalize_unicode(decomposed) == "Résolution（a）¹"
    assert normalize_unicode("a\r\nb\u00a0c\u200bd") == "a\nb cd"


def test_join_lines_cjk_punctuation_next_to_latin() -> None:
    assert join_lines("第 96 段，\nA/75/399") == "第 96 段，A/75/399"


RUN_TOGETHER_EN = (
    "General and complete disarmament: measures**Resolution adopted by the General Assembly\n"
    "on 6 December 2021***[on the report of the First Committee (A/76/444, para. 93)]***"
    "76/28. Measures to prevent***The General Assembly,**Recalling* its resolution "
    "[75/58](#) of 7 December 2020,*Recognizing* the determination,*Recalling also* the "
    "entry into force of the Convention,¹*Recalling further* the adoption of amendments to "
    "the Convention on Nuclear Material² by the Agency,*Recalling* the support expressed, "
    "held in Baku on"
)

SPLIT_CASES = [
    # (id, raw, lang, expected parts after cleaning)
    (
        "001 long line",
        RUN_TOGETHER_EN,
        "en",
        [
            "General and complete disarmament: measures",
            "Resolution adopted by the General Assembly on 6 December 2021",
            "[on the report of the First Committee (A/76/444, para. 93)]",
            "76/28. Measures to prevent",
            "The General Assembly,",
            "Recalling its resolution 75/58 of 7 December 2020,",
            "Recognizing the determination,",
            "Recalling also the entry into force of the Convention,",
            "Recalling further the adoption of amendments to the Convention on Nuclear Material "
            "by the Agency,",
            "Recalling the support expressed, held in Baku on",
        ],
    ),
    (
        "operatives on one line",
        "1. *Calls upon* all States; 2. *Appeals* to all States;",
        "en",
        ["1. Calls upon all States;", "2. Appeals to all States;"],
    ),
    (
        "unmarked lead after comma",
        "Recalling its resolution 74/43, Recognizing the determination of the community,",
        "en",
        ["Recalling its resolution 74/43,", "Recognizing the determination of the community,"],
    ),
    (
        "operative verb after a comma is not a lead",
        "Taking note of the reports, Notes by the Secretariat and other documents,",
        "en",
        ["Taking note of the reports, Notes by the Secretariat and other documents,"],
    ),
    (
        "operative verb after a semicolon is a lead",
        "1. Decides to act; Requests the Secretary-General to report;",
        "en",
        ["1. Decides to act;", "Requests the Secretary-General to report;"],
    ),
    (
        "italic title is not a lead",
        "United Nations, *Treaty Series*, vol. 2445, No. 44004.",
        "en",
        ["United Nations, Treaty Series, vol. 2445, No. 44004."],
    ),
    (
        "number before its lead",
        "1. *Calls upon* all Member States to support efforts;",
        "en",
        ["1. Calls upon all Member States to support efforts;"],
    ),
    (
        "capitalised word mid-paragraph",
        "Noting the holding of the Summit in Washington, D.C., on 26 March, Seoul and The Hague,",
        "en",
        ["Noting the holding of the Summit in Washington, D.C., on 26 March, Seoul and The Hague,"],
    ),
    (
        "zh merged paragraph stays one",
        "欢迎《公约》于 2007 年生效，又欢迎修正案，并欢迎修正案于 2016 年生效，",
        "zh",
        ["欢迎《公约》于 2007 年生效，又欢迎修正案，并欢迎修正案于 2016 年生效，"],
    ),
    (
        "zh bold leads run together",
        "**注意到** 会议的文件，**又注意到** 八国集团的审议，",
        "zh",
        ["注意到会议的文件，", "又注意到八国集团的审议，"],
    ),
]


@pytest.mark.parametrize(
    ("raw", "lang", "parts"), [c[1:] for c in SPLIT_CASES], ids=[c[0] for c in SPLIT_CASES]
)
def test_split_run_together(raw: str, lang: str, parts: list[str]) -> None:
    assert [clean_inline(p)[0] for p in split_run_together(raw, lang)] == parts


CHUNK_CASES = [
    # (id, lines, lang, number of paragraphs)
    ("operatives without blank lines", ["1. *Calls upon* a;", "2. *Appeals* b;"], "en", 2),
    ("wrapped header line", ["Resolution adopted by the General Assembly", "on 6 December 2021"],
     "en", 1),
    ("closing lines", ["*42nd plenary meeting", "4 December 2023*"], "en", 2),
    ("zh closing, date first", ["2020年12月7日  ", "第37次全体会议"], "zh", 2),
    ("zh wrapped title", ["全面彻底裁军：防止恐怖分子  ", "获取大规模毁灭性武器的措施"], "zh", 1),
    ("distribution stamp", ["Distr.: General", "14 December 2020"], "en", 2),
    ("wrapped prose", ["Recalling the Code of Conduct on the", "Safety of Sources,"], "en", 1),
    ("preambles without blank line", ["Recalling its resolution 74/43,", "Noting the report,"],
     "en", 2),
    ("footnotes without blank line", ["¹ See A/59/361.", "² Resolution 60/1."], "en", 2),
]  # fmt: skip


@pytest.mark.parametrize(
    ("lines", "lang", "count"), [c[1:] for c in CHUNK_CASES], ids=[c[0] for c in CHUNK_CASES]
)
def test_split_chunk_lines(lines: list[str], lang: str, count: int) -> None:
    assert len(split_chunk_lines(lines, lang)) == count


LEAD_CASES = [
    ("Recalling its resolution 74/43,", "en", "Recalling"),
    ("Recalling also the entry", "en", "Recalling also"),
    ("Taking note further of the 2005", "en", "Taking note further"),
    ("Deeply concerned by the growing risk", "en", "Deeply concerned"),
    ("Bearing in mind that", "en", "Bearing in mind"),
    ("Expressing concern at", "en", "Expressing concern"),
    ("Noting with appreciation the work", "en", "Noting with appreciation"),
    ("Guided by the Charter", "en", "Guided by"),
    ("Further requests the Secretary-General", "en", "Further requests"),
    ("Calls upon all Member States", "en", "Calls upon"),
    ("Takes note with satisfaction of", "en", "Takes note with satisfaction"),
    ("Strongly condemns all acts", "en", "Strongly condemns"),
    ("recalling its resolution", "en", None),
    ("General and complete disarmament", "en", None),
    ("Notebooks are", "en", None),
    ("还表示注意到 2005 年", "zh", "还表示注意到"),
    ("又注意到八国集团", "zh", "又注意到"),
    ("深为关切恐怖主义", "zh", "深为关切"),
    ("请秘书长编写", "zh", "请"),
    ("再次呼吁各国", "zh", "再次呼吁"),
    ("全面彻底裁军", "zh", None),
]


@pytest.mark.parametrize(("text", "lang", "lead"), LEAD_CASES)
def test_match_lead(text: str, lang: str, lead: str | None) -> None:
    assert match_lead(text, lang) == lead


@pytest.mark.parametrize(
    ("words", "number"),
    [("Seventy-fifth", 75), ("Seventy-eighth", 78), ("Fifth", 5), ("Twentieth", 20),
     ("Sixty-first", 61), ("Tenth emergency", None), ("Blue", None)],
)  # fmt: skip
def test_english_ordinal(words: str, number: int | None) -> None:
    assert english_ordinal(words) == number


@pytest.mark.parametrize(
    ("text", "number"),
    [("七十五", 75), ("七十八", 78), ("十", 10), ("十五", 15), ("五", 5), ("一百零二", 102),
     ("会议", None)],
)  # fmt: skip
def test_chinese_number(text: str, number: int | None) -> None:
    assert chinese_number(text) == number


@pytest.mark.parametrize(
    ("item", "normal"),
    [("103(v)", "103 (v)"), ("103 (v)", "103 (v)"), ("99  ( s )", "99 (s)"), ("12", "12")],
)
def test_normalize_agenda_item(item: str, normal: str) -> None:
    assert normalize_agenda_item(item) == normal


LANG_CASES = [
    ("en", "The General Assembly, Recalling its resolution of the year and the report " * 3),
    ("zh", "大会，回顾其 2019 年 12 月 12 日第 74/43 号决议，确认大会和安全理事会各项有关决议"),
    (None, "L'Assemblée générale, Rappelant sa résolution sur les mesures visant à empêcher " * 3),
    (None, "総会は、決議を想起し、テロリストによる大量破壊兵器の取得を防止するための措置について"),
    (None, "Генеральная Ассамблея, ссылаясь на свою резолюцию о мерах по предотвращению " * 3),
    (None, "12345 67/89 ..."),
]


@pytest.mark.parametrize(("lang", "text"), LANG_CASES)
def test_detect_language(lang: str | None, text: str) -> None:
    assert detect_language(text) == lang
