"""Sentence splitting on real seed sentences and hand-written hard cases, both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SEEDS

from pipeline.records import Block, Document
from pipeline.text.segment import (
    count_tokens,
    mask_abbreviations,
    segment_document,
    split_sentences,
)

RAW = SEEDS
EN_SEED = RAW / "002_69ed3383ef6f2041.txt"  # A/RES/75/58, English
ZH_SEED = RAW / "003_df19238bedd244e2.txt"  # A/RES/75/58, Chinese


def _clean(line: str) -> str:
    """Strip the seeds' markdown and footnote markers, as the extractor does."""
    line = re.sub(r"<sup>\d+</sup>", "", line)
    line = re.sub(r"[¹²³⁴⁵⁶⁷⁸⁹⁰]+", "", line)
    line = re.sub(r"\[([^\]]*)\]\(#\)", r"\1", line)
    return re.sub(r"\*+", "", line).strip()


def _seed_line(path: Path, prefix: str) -> str:
    """The one line of a seed that starts with ``prefix`` (after cleaning)."""
    hits = [
        _clean(line)
        for line in path.read_text(encoding="utf-8").splitlines()
        if _clean(line).startswith(prefix)
    ]
    assert len(hits) == 1, f"{path.name}: {len(hits)} lines start with {prefix!r}"
    return hits[0]


# (prefix of a real seed line, expected number of sentences)
EN_SEED_LINES = [
    ("United Nations, Treaty Series, vol. 2445", 1),
    ("Ibid., vol. 1456, No. 24631.", 1),
    ("Noting further the holding of the Nuclear Security Summit", 1),  # D.C., twice
    ("[on the report of the First Committee (A/75/399, para. 96)]", 1),
    ("See A/74/548, annex.", 1),
    ("75/58. Measures to prevent terrorists", 1),
    ("1. Calls upon all Member States", 1),  # ends with ';'
    ("Welcoming also the adoption, by consensus", 1),
    ("6. Decides to include in the provisional agenda", 1),  # closing ” before the dot
]

ZH_SEED_LINES = [
    ("联合国，《条约汇编》，第 2445 卷，第 44004 号。", 1),
    ("同上，第 1456 卷，第 24631 号。", 1),
    ("见 A/74/548，附件。", 1),
    ("欢迎《制止核恐怖主义行为国际公约》", 1),  # long, only commas
    ("2. 呼吁全体会员国考虑早日加入", 1),  # ends with ；
    ("5. 请秘书长编写一份报告", 1),
    ("6. 决定在大会第七十六届会议临时议程", 1),  # quotes inside, 。 at the end
    ("还注意到 2010年4月12日至13日在哥伦比亚特区华盛顿", 1),
]


@pytest.mark.parametrize(("prefix", "expected"), EN_SEED_LINES)
def test_english_seed_lines(prefix: str, expected: int) -> None:
    text = _seed_line(EN_SEED, prefix)
    sentences = split_sentences(text, "en")
    assert len(sentences) == expected, sentences
    assert " ".join(sentences) == text


@pytest.mark.parametrize(("prefix", "expected"), ZH_SEED_LINES)
def test_chinese_seed_lines(prefix: str, expected: int) -> None:
    text = _seed_line(ZH_SEED, prefix)
    sentences = split_sentences(text, "zh")
    assert len(sentences) == expected, sentences
    assert "".join(sentences) == text.replace("\u3000", "").strip()


EN_CASES = [
    # the abbreviation layer
    (
        "United Nations, Treaty Series, vol. 2445, No. 44004.",
        ["United Nations, Treaty Series, vol. 2445, No. 44004."],
    ),
    ("Ibid., vol. 1456, No. 24631.", ["Ibid., vol. 1456, No. 24631."]),
    (
        "Ibid., p. 12; pp. 14-16; paras. 3 and 4; Art. 5; Suppl. No. 7 (A/75/7).",
        ["Ibid., p. 12; pp. 14-16; paras. 3 and 4; Art. 5; Suppl. No. 7 (A/75/7)."],
    ),
    (
        "Held in Washington, D.C., on 26 and 27 March 2012 in Seoul.",
        ["Held in Washington, D.C., on 26 and 27 March 2012 in Seoul."],
    ),
    ("Adopted on 3 Sept. 2020 and 4 Oct. 2021.", ["Adopted on 3 Sept. 2020 and 4 Oct. 2021."]),
    (
        "Mr. Guterres and Ms. Nakamitsu met Dr. Grossi in the U.S. capital.",
        ["Mr. Guterres and Ms. Nakamitsu met Dr. Grossi in the U.S. capital."],
    ),
    (
        "Instruments, e.g. The Hague Convention, i.e. Conventions, etc. and more.",
        ["Instruments, e.g. The Hague Convention, i.e. Conventions, etc. and more."],
    ),
    # document symbols
    (
        "See E/CN.4/2005/L.10 and A/74/548/Add.1. The Assembly agrees.",
        ["See E/CN.4/2005/L.10 and A/74/548/Add.1.", "The Assembly agrees."],
    ),
    (
        "Documents A/75/399/Corr.1 and A/75/7/Rev.2 were issued.",
        ["Documents A/75/399/Corr.1 and A/75/7/Rev.2 were issued."],
    ),
    # real boundaries are still found, including after ambiguous abbreviations
    (
        "Held in Washington, D.C. The next summit was held in Seoul.",
        ["Held in Washington, D.C.", "The next summit was held in Seoul."],
    ),
    (
        "Mr. Smith arrived at 5 p.m. Then the meeting closed.",
        ["Mr. Smith arrived at 5 p.m.", "Then the meeting closed."],
    ),
    ("Ibid. See also A/74/548.", ["Ibid.", "See also A/74/548."]),
    ("Apples, pears, etc. The list ends here.", ["Apples, pears, etc.", "The list ends here."]),
    (
        "The Assembly met. It adopted resolution 74/43 of 12 December 2019. Then it closed.",
        [
            "The Assembly met.",
            "It adopted resolution 74/43 of 12 December 2019.",
            "Then it closed.",
        ],
    ),
    ("He said “Go home.” Then he left.", ["He said “Go home.”", "Then he left."]),
    ("Is it agreed? Yes! It is.", ["Is it agreed?", "Yes!", "It is."]),
    # never on ';'
    (
        "Calls upon all States to act; urges them to report; decides to continue.",
        ["Calls upon all States to act; urges them to report; decides to continue."],
    ),
    # a number with a dot is not a sentence of its own
    (
        "75/58. Measures to prevent terrorists from acquiring weapons",
        ["75/58. Measures to prevent terrorists from acquiring weapons"],
    ),
    (
        "A/RES/75/58. Measures to prevent terrorists from acquiring weapons",
        ["A/RES/75/58. Measures to prevent terrorists from acquiring weapons"],
    ),
    ("IV. Programme of work", ["IV. Programme of work"]),
    # sentencex starts a sentence at "(b)"; after ';' it must not
    (
        "(a) To strengthen cooperation; (b) To report thereon.",
        ["(a) To strengthen cooperation; (b) To report thereon."],
    ),
    (
        "Ms. Bachelet (Chile) and H.E. Mr. Bozkir spoke.",
        ["Ms. Bachelet (Chile) and H.E. Mr. Bozkir spoke."],
    ),
    (
        "See Official Records of the Economic and Social Council, 2005, Supplement No. 3"
        " (E/2005/23), chap. II, sect. A. See also resolution 60/1.",
        [
            "See Official Records of the Economic and Social Council, 2005, Supplement No. 3"
            " (E/2005/23), chap. II, sect. A.",
            "See also resolution 60/1.",
        ],
    ),
    ("The year was 2020. Then came 2021.", ["The year was 2020.", "Then came 2021."]),
    ("  Leading and trailing space.  ", ["Leading and trailing space."]),
    ("", []),
    ("   ", []),
]


@pytest.mark.parametrize(("text", "expected"), EN_CASES)
def test_english_cases(text: str, expected: list[str]) -> None:
    assert split_sentences(text, "en") == expected


ZH_CASES = [
    ("回顾其决议。确认大会的决心。", ["回顾其决议。", "确认大会的决心。"]),
    # never on ；or ，
    ("第一句。第二句；第三句，第四句。", ["第一句。", "第二句；第三句，第四句。"]),
    # a closing quote or bracket stays with its sentence
    ("他说：“走吧。”然后他离开了。", ["他说：“走吧。”", "然后他离开了。"]),
    ("这是结论（见A/74/548。）随后继续。", ["这是结论（见A/74/548。）", "随后继续。"]),
    ("《公约》已生效。」他补充说。", ["《公约》已生效。」", "他补充说。"]),
    # runs of terminators and the two-character ellipsis
    ("真的吗？！是的……好吧。", ["真的吗？！", "是的……", "好吧。"]),
    # half-width ? and ! only between CJK characters
    ("好吧!我们走?走吧。", ["好吧!", "我们走?", "走吧。"]),
    ("版本2.0!好的。", ["版本2.0!好的。"]),
    # full stop inside numbers or symbols is not a Chinese sentence end
    ("见 E/CN.4/2005/L.10 号文件。", ["见 E/CN.4/2005/L.10 号文件。"]),
    # a stray terminator joins its neighbour instead of becoming a sentence
    ("。开头的句子", ["。开头的句子"]),
    # English text inside a Chinese document follows the English rules
    (
        "United Nations, Treaty Series, vol. 2445, No. 44004. Ibid.",
        ["United Nations, Treaty Series, vol. 2445, No. 44004.", "Ibid."],
    ),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), ZH_CASES)
def test_chinese_cases(text: str, expected: list[str]) -> None:
    assert split_sentences(text, "zh") == expected


def test_language_variants_use_chinese_rules() -> None:
    for lang in ("zh", "zh-Hans", "zh_CN", "ZH"):
        assert split_sentences("第一句。第二句。", lang) == ["第一句。", "第二句。"]


def test_mask_keeps_length_and_real_full_stops() -> None:
    text = "See vol. 2445, No. 44004 and A/74/548/Add.1. Next."
    masked = mask_abbreviations(text)
    assert len(masked) == len(text)
    # only the sentence-final dots survive as "."
    assert [i for i, ch in enumerate(masked) if ch == "."] == [43, 49]


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("United Nations, Treaty Series, vol. 2445, No. 44004.", "en", 8),
        ("Calls upon all Member States ;", "en", 5),  # a lone ';' is not a word
        ("", "en", 0),
        ("联合国", "zh", 1),
        ("，。；", "zh", 0),
        ("大会，", "zh", 1),
    ],
)
def test_count_tokens(text: str, lang: str, expected: int) -> None:
    assert count_tokens(text, lang) == expected


def test_count_tokens_chinese_uses_words_not_characters() -> None:
    text = _seed_line(ZH_SEED, "4. 鼓励会员国之间")
    tokens = count_tokens(text, "zh")
    characters = len(re.findall(r"[\u4e00-\u9fff]", text))
    assert 10 < tokens < characters


def _document(language: str, blocks: list[Block]) -> Document:
    return Document(
        symbol="A/RES/75/58",
        language=language,
        source_file=f"hand_{language}.txt",
        sha256="0" * 64,
        blocks=blocks,
    )


RECALLING = "Recalling its resolution 74/43 of 12 December 2019,"


def test_segment_document_ids_blocks_and_tokens() -> None:
    doc = _document(
        "en",
        [
            Block("title", "Measures to prevent terrorists from acquiring weapons"),
            Block("preamble", RECALLING, lead="Recalling"),
            Block(
                "operative",
                "  Requests a report. Decides to continue, e.g. in vol. 2 of the series.  ",
                number="5",
                lead="Requests",
            ),
            Block("subparagraph", "to report on para. 3;", number="a"),
            Block("footnote", "Ibid., vol. 1456, No. 24631. See also A/74/548.", number="2"),
            Block("closing", "37th plenary meeting"),
        ],
    )
    sentences = segment_document(doc)
    assert [s.id for s in sentences] == [
        "title:s1",
        "pre1:s1",
        "op5:s1",
        "op5:s2",
        "op5a:s1",
        "fn2:s1",
        "fn2:s2",
        "close1:s1",
    ]
    assert [s.block for s in sentences] == [0, 1, 2, 2, 3, 4, 4, 5]
    assert sentences[2].text == "Requests a report."
    assert sentences[3].text == "Decides to continue, e.g. in vol. 2 of the series."
    assert sentences[5].text == "Ibid., vol. 1456, No. 24631."
    assert [s.tokens for s in sentences[:3]] == [7, 8, 3]
    assert all(s.text == s.text.strip() and s.text for s in sentences)


def test_segment_document_chinese() -> None:
    doc = _document(
        "zh",
        [
            Block("preamble", "回顾其 2019 年 12 月 12 日第 74/43 号决议，", lead="回顾"),
            Block("operative", "请秘书长编写一份报告。并向大会提出报告；", number="5"),
            Block("footnote", "同上，第 1456 卷，第 24631 号。", number="2"),
        ],
    )
    sentences = segment_document(doc)
    assert [s.id for s in sentences] == ["pre1:s1", "op5:s1", "op5:s2", "fn2:s1"]
    assert [s.block for s in sentences] == [0, 1, 1, 2]
    assert sentences[2].text == "并向大会提出报告；"
    assert all(s.tokens > 0 for s in sentences)


def test_segment_document_every_block_yields_a_sentence() -> None:
    """A block the splitter finds no boundary in is still one sentence."""
    doc = _document("en", [Block("heading", "General Assembly"), Block("closing", "4 December")])
    assert [(s.id, s.text) for s in segment_document(doc)] == [
        ("head1:s1", "General Assembly"),
        ("close1:s1", "4 December"),
    ]


def test_segment_document_rejects_empty_block() -> None:
    doc = _document("en", [Block("preamble", "Recalling,"), Block("operative", "  ", number="2")])
    with pytest.raises(ValueError, match=r"hand_en\.txt: block op2 \(operative\)"):
        segment_document(doc)


@pytest.fixture(scope="module")
def parsed_seeds() -> list[Document]:
    from pipeline.extract import extract_folder

    result = extract_folder(RAW)
    assert result.documents, result.rejected
    return result.documents


def test_segment_real_seeds(parsed_seeds: list[Document]) -> None:
    """Every block of the four seeds is a single sentence (read by hand): any extra split
    is an abbreviation or symbol the splitter got wrong."""
    for doc in parsed_seeds:
        sentences = segment_document(doc)
        keys = doc.block_keys()
        assert [s.id for s in sentences] == [f"{key}:s1" for key in keys], doc.source_file
        assert [s.block for s in sentences] == list(range(len(doc.blocks)))
        assert all(s.text and s.text == s.text.strip() and s.tokens > 0 for s in sentences)
        by_id = {s.id: s.text for s in sentences}
        if doc.language == "en":
            assert by_id["fn1:s1"] == "United Nations, Treaty Series, vol. 2445, No. 44004."
            assert by_id["fn2:s1"] == "Ibid., vol. 1456, No. 24631."
        else:
            assert by_id["fn1:s1"] == "联合国，《条约汇编》，第 2445 卷，第 44004 号。"
            assert by_id["op6:s1"].endswith("的分项。")


_JIEBA_CHECK = """
import json, sys
import jieba
from pipeline.text import segment
fast = segment._load_jieba_cache(jieba)
segment._jieba()
own = jieba.Tokenizer()
own.initialize()
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().splitlines() if l.strip()]
print(json.dumps({
    "fast": fast,
    "same_dictionary": own.FREQ == jieba.dt.FREQ and own.total == jieba.dt.total,
    "entries": len(jieba.dt.FREQ),
    "same_cuts": all(own.lcut(l) == jieba.lcut(l) for l in lines),
    "lines": len(lines),
}))
"""


def _jieba_check(tmp: Path) -> dict:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "TMPDIR": str(tmp)}
    done = subprocess.run(
        [sys.executable, "-c", _JIEBA_CHECK, str(ZH_SEED)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_jieba_loads_its_own_cache_in_one_read_and_cuts_the_same(tmp_path: Path) -> None:
    """The first process finds no cache file, so jieba builds its dictionary and writes the
    file; the next reads that file in one piece (``_load_jieba_cache``) and holds the very
    dictionary jieba's own ``initialize`` loads, so every cut of the Chinese seed is the
    same."""
    first = _jieba_check(tmp_path)
    assert not first["fast"]  # nothing to read yet: jieba initialised itself
    assert (tmp_path / "jieba.cache").is_file()
    second = _jieba_check(tmp_path)
    assert second["fast"]
    for run in (first, second):
        assert run["same_dictionary"] and run["same_cuts"]
        assert run["entries"] > 400_000 and run["lines"] > 30


def test_a_broken_jieba_cache_is_left_to_jieba(tmp_path: Path) -> None:
    (tmp_path / "jieba.cache").write_bytes(b"not marshal data")
    run = _jieba_check(tmp_path)
    assert not run["fast"] and run["same_dictionary"] and run["same_cuts"]
