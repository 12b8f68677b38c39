"""The compiled lexical evidence (pipeline.align.dictionary ids) gives the same links and the
same linkable sentences as the set-per-sentence formulation it replaced, kept here as the
reference: on the general gold, the seeds, both directions, and edge cases."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from pipeline.align.dictionary import EN_STOP, ZH_STOP, compiled_lexicon, en_to_zh, stem
from pipeline.align.evidence import (
    MIN_WORDS,
    SentenceEvidence,
    anchors,
    is_chinese,
    sentence_evidence,
)
from pipeline.extract import extract_file
from pipeline.text.script import HAN_CLASS
from pipeline.text.segment import segment_document

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT / "tests" / "gold" / "general"
_CJK = re.compile(f"[{HAN_CLASS}]")
_CJK_RUN = re.compile(f"[{HAN_CLASS}]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")


def reference_evidence(src: Sequence[str], tgt: Sequence[str]) -> SentenceEvidence:
    """One Python set of keys and one of units per sentence (the formulation before the
    lexicon was compiled to ids): English keys are the CC-CEDICT translations of its
    content words, Chinese units every substring of 1-4 Han characters but ZH_STOP."""
    src_zh, tgt_zh = is_chinese(src), is_chinese(tgt)
    lexicon = en_to_zh() if src_zh != tgt_zh else {}

    def side(sents: Sequence[str], zh: bool) -> tuple[list[set], list[set], np.ndarray]:
        keys, units, ok = [], [], []
        for s in sents:
            a = anchors(s)
            words = 0
            if lexicon and zh:
                subs = {
                    run[p : p + k]
                    for run in _CJK_RUN.findall(s)
                    for k in range(1, 5)
                    for p in range(len(run) - k + 1)
                }
                keys.append(a)
                units.append(a | (subs - ZH_STOP))
                words = sum(1 for ch in _CJK.findall(s) if ch not in ZH_STOP) // 2
            elif lexicon:
                translations: set[str] = set()
                for w in _WORD.findall(s):
                    found = () if w.lower() in EN_STOP else lexicon.get(stem(w), ())
                    words += bool(found)
                    translations.update(found)
                keys.append(a | translations)
                units.append(a)
            else:
                keys.append(a)
                units.append(a)
            ok.append(bool(a) or words >= MIN_WORDS)
        return keys, units, np.array(ok, dtype=bool)

    sk, su, s_ok = side(src, src_zh)
    tk, tu, t_ok = side(tgt, tgt_zh)
    return SentenceEvidence.from_sets(sk, su, tk, tu, s_ok, t_ok)


def every_cell(evidence: SentenceEvidence, n: int, m: int) -> np.ndarray:
    rows, cols = np.meshgrid(np.arange(n + 1), np.arange(m + 1), indexing="ij")
    return evidence.links(rows.ravel(), cols.ravel())


def seed_sentences() -> tuple[list[str], list[str]]:
    en = extract_file(ROOT / "data" / "raw" / "002_69ed3383ef6f2041.txt")
    zh = extract_file(ROOT / "data" / "raw" / "003_df19238bedd244e2.txt")
    return [s.text for s in segment_document(en)], [s.text for s in segment_document(zh)]


def gold_sentences() -> tuple[list[str], list[str]]:
    read = lambda name: (GOLD / name).read_text(encoding="utf-8").splitlines()  # noqa: E731
    return read("en.txt"), read("zh.txt")


EDGE_EN = [
    "",
    "Yes.",
    "She bought a T-shirt and karaoke tickets for 1,200 yuan in 2021.",
    "The Committee adopted resolution A/RES/75/58 on COVID-19 without a vote.",
    "Stop words: the, of, and, a, an, it, is.",
    "Runs, running, ran: the runner ran home through the rain and the snow.",
    "Rare forms \U0001f600 and \udcff survive.",
]
EDGE_ZH = [
    "她花了 1200 元买了一件T恤和卡拉OK的票。",
    "委员会未经表决通过了关于COVID-19的第A/RES/75/58号决议。",
    "的了是在我你他",
    "",
    "跑步的人冒着雨和雪跑回家。\U00020000\U0002a6d6𠀀",
    "罕见字\U0001f600和\udcff也在。",
]


@pytest.mark.parametrize(
    "pair",
    [gold_sentences, seed_sentences, lambda: (EDGE_EN, EDGE_ZH)],
    ids=["general-gold", "seeds-75-58", "edge-cases"],
)
@pytest.mark.parametrize("zh_first", [False, True], ids=["en-zh", "zh-en"])
def test_links_and_linkable_equal_the_set_formulation(pair, zh_first: bool) -> None:  # noqa: ANN001
    en, zh = pair()
    src, tgt = (zh, en) if zh_first else (en, zh)
    want, got = reference_evidence(src, tgt), sentence_evidence(src, tgt)
    expected = every_cell(want, len(src), len(tgt))
    assert expected.any() and not expected.all()  # the comparison has both answers
    assert every_cell(got, len(src), len(tgt)).tolist() == expected.tolist()
    for mine, theirs in zip(got.linkable(), want.linkable(), strict=True):
        assert mine.tolist() == theirs.tolist()


@pytest.mark.parametrize("zh_first", [False, True], ids=["en-zh", "zh-en"])
def test_a_side_without_sentences_has_no_links(zh_first: bool) -> None:
    sides = ([], EDGE_ZH[:2]) if not zh_first else (EDGE_ZH[:2], [])
    evidence = sentence_evidence(*sides)
    assert every_cell(evidence, len(sides[0]), len(sides[1])).tolist() == [False] * 3
    src_ok, tgt_ok = evidence.linkable()
    assert (len(src_ok), len(tgt_ok)) == (len(sides[0]), len(sides[1]))
    assert src_ok.dtype == tgt_ok.dtype == np.bool_


def test_same_language_pairs_use_anchors_only() -> None:
    de = ["Der Ausschuss nahm die Resolution 75/58 an.", "Es regnete den ganzen Tag."]
    fr = ["Le comité a adopté la résolution 75/58.", "Il a plu toute la journée."]
    assert (
        every_cell(sentence_evidence(de, fr), 2, 2).tolist()
        == every_cell(reference_evidence(de, fr), 2, 2).tolist()
    )


def test_compiled_lexicon_finds_headwords_and_translations() -> None:
    lexicon = compiled_lexicon()
    assert lexicon is compiled_lexicon()  # once per process
    sent, ids, words = lexicon.chinese(["渔夫卖了船。", "的了", ""])
    found = {(int(s), int(i)) for s, i in zip(sent, ids, strict=True)}
    present = np.zeros(lexicon.size, dtype=bool)
    present[ids] = True
    en_sent, en_ids, known = lexicon.english(["The fisherman sold the boat.", "the"], present)
    # fisherman -> 渔夫 and boat -> 船 are found in sentence 0 of both sides
    assert {(0, int(i)) for i in en_ids} <= {(0, i) for s, i in found if s == 0}
    assert set(en_sent.tolist()) == {0}
    assert known.tolist() == [3, 0]  # fisherman, sold, boat; "the" is a stop word
    assert {s for s, _ in found} == {0}  # 的 and 了 are stop words, too common to count
    assert words.tolist() == [2, 0, 0]  # 渔夫卖船 (了 is a stop word): 4 // 2
