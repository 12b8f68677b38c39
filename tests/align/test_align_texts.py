"""align_texts with the real bundled encoder on real text: the seeds and the general gold."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.align import AlignParams, AlignResult, align_texts
from pipeline.embed import load_encoder
from pipeline.evaluate import read_beads, score_alignments
from pipeline.extract import extract_file
from pipeline.records import Bead
from pipeline.text.segment import segment_document

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT / "tests" / "gold" / "general"


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory):
    # cached: the reverse-direction test re-embeds the same texts
    return load_encoder("use-m", cache_dir=tmp_path_factory.mktemp("embeddings"))


@pytest.fixture(scope="module")
def seed_sentences() -> tuple[list[str], list[str]]:
    en = extract_file(ROOT / "data" / "raw" / "002_69ed3383ef6f2041.txt")
    zh = extract_file(ROOT / "data" / "raw" / "003_df19238bedd244e2.txt")
    return [s.text for s in segment_document(en)], [s.text for s in segment_document(zh)]


@pytest.fixture(scope="module")
def seed_result(seed_sentences, encoder) -> AlignResult:
    return align_texts(*seed_sentences, encoder)


def text_pairs(result: AlignResult, src: list[str], tgt: list[str]) -> set[tuple[str, str]]:
    return {
        (" ".join(src[i] for i in b.src), " ".join(tgt[j] for j in b.tgt)) for b in result.beads
    }


def test_seed_alignment_without_structure(seed_result: AlignResult, seed_sentences) -> None:
    en, zh = seed_sentences
    covered_en = [i for b in seed_result.beads for i in b.src]
    covered_zh = [j for b in seed_result.beads for j in b.tgt]
    assert covered_en == list(range(len(en)))
    assert covered_zh == list(range(len(zh)))
    found = text_pairs(seed_result, en, zh)
    assert (
        "Recalling its resolution 74/43 of 12 December 2019,",
        "回顾其 2019 年 12 月 12 日第 74/43 号决议，",
    ) in found
    merged = [b for b in seed_result.beads if b.type == "2-1"]
    assert any(en[b.src[0]].startswith("Welcoming the entry") for b in merged)
    ones = [b for b in seed_result.beads if b.type == "1-1"]
    assert len(ones) >= 30
    assert seed_result.timings["embed"] > 0 and seed_result.timings["align"] > 0
    assert seed_result.timings["length_ratio"] > 2  # English needs ~3x the characters


def test_reverse_direction_gives_the_transposed_alignment(
    seed_result: AlignResult, seed_sentences, encoder
) -> None:
    en, zh = seed_sentences
    reverse = align_texts(zh, en, encoder)
    forward = {(tuple(b.src), tuple(b.tgt)) for b in seed_result.beads if b.src and b.tgt}
    backward = {(tuple(b.tgt), tuple(b.src)) for b in reverse.beads if b.src and b.tgt}
    assert len(forward & backward) >= 0.9 * len(forward)


def test_general_gold_f1(encoder) -> None:
    """Literary and magazine prose (the project's hand-checked general gold): not UN text."""
    src = (GOLD / "en.txt").read_text(encoding="utf-8").splitlines()
    tgt = (GOLD / "zh.txt").read_text(encoding="utf-8").splitlines()
    result = align_texts(src, tgt, encoder)
    gold = read_beads(GOLD / "gold.txt")
    scores = score_alignments([(b.src, b.tgt) for b in result.beads], gold)
    assert scores["f1_strict"] >= 0.9, scores
    assert scores["f1_lax"] >= 0.97, scores


def test_blank_sentences_are_covered(encoder) -> None:
    src = ["", "The General Assembly,", "", "Recalling its resolution 74/43,", ""]
    tgt = ["大会，", "", "回顾其第 74/43 号决议，"]
    result = align_texts(src, tgt, encoder, AlignParams())
    assert [i for b in result.beads for i in b.src] == list(range(5))
    assert [j for b in result.beads for j in b.tgt] == list(range(3))
    pairs = [(b.src, b.tgt) for b in result.beads]
    assert ([1], [0]) in pairs and ([2], [1]) in pairs and ([3], [2]) in pairs
    assert all(isinstance(b, Bead) for b in result.beads)


# Written for this test (not from any corpus): Chinese sentences a translator split into
# two or three English ones, one of them with halves that carry little on their own
# ("'Too late." / "Tomorrow.'"), and one Chinese sentence from another text.
SPLIT_ZH = [
    "老人慢慢地走到市场。",
    "他买了三条鱼和一袋米，离开时天已经开始下雨了。",
    "他撑着借来的伞匆匆赶回家。",
    "妻子在门口等着他，问他饿不饿。",
    "“我不饿，你自己先吃吧。”他说。",
    "那天晚上，他们一起听着雨声。",
    "不知道山那边的村子是什么样子，总得去看一看才行。",
    "海伦摇摇头：“太晚了，明天再说吧。”",
    "第三季度物价急剧上涨。",
    "第二天早上，太阳又出来了。",
    "老人把伞还给了邻居。",
]
SPLIT_EN = [
    "The old man walked slowly to the market.",
    "He bought three fish and a bag of rice.",
    "It had started to rain by the time he left.",
    "He hurried home under a borrowed umbrella.",
    "His wife was waiting at the door and asked if he was hungry.",
    "'I'm not hungry,' he said.",
    "'Eat without me.'",
    "That night they listened to the rain together.",
    "I wonder what the village beyond the mountain looks like.",
    "I really must go and see.",
    "Helen shook her head.",
    "'Too late.",
    "Tomorrow.'",
    "The next morning the sun came out again.",
    "The old man returned the umbrella to his neighbour.",
]
SPLIT_GOLD = [
    ([0], [0]), ([1], [1, 2]), ([2], [3]), ([3], [4]), ([4], [5, 6]), ([5], [7]),
    ([6], [8, 9]), ([7], [10, 11, 12]), ([8], []), ([9], [13]), ([10], [14]),
]  # fmt: skip


def test_translator_splits_are_one_to_many_and_an_insertion_stays_out(encoder) -> None:
    """A one-to-many bead of a real translator wins over "1-1 plus a skip", and a
    sentence nothing on the other side carries is still left out (1-0)."""
    result = align_texts(SPLIT_ZH, SPLIT_EN, encoder)
    assert [(b.src, b.tgt) for b in result.beads] == SPLIT_GOLD
    # the same in the other direction: 2-1 / 3-1 beads and a 0-1
    back = align_texts(SPLIT_EN, SPLIT_ZH, encoder)
    assert [(b.tgt, b.src) for b in back.beads] == SPLIT_GOLD


def test_only_useful_overlaps_are_embedded(encoder) -> None:
    """Runs across a boundary between two confidently linked neighbours are not embedded
    (pipeline.align.overlaps); here that changes no bead. ``full``: no pair is confident
    enough to close a boundary and every open run is kept, so every run is embedded."""
    lean = align_texts(SPLIT_ZH, SPLIT_EN, encoder)
    everything = AlignParams(confident_score=1e9, overlap_groups=None)
    full = align_texts(SPLIT_ZH, SPLIT_EN, encoder, everything)
    assert [(b.src, b.tgt) for b in lean.beads] == [(b.src, b.tgt) for b in full.beads]
    n = len(SPLIT_ZH) + len(SPLIT_EN)
    assert full.timings["texts_embedded"] / n > 3.5  # runs of 1-4 sentences, both sides
    assert lean.timings["texts_embedded"] < 0.8 * full.timings["texts_embedded"]
