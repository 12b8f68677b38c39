"""align_texts with the real bundled encoder on real text: the seeds and the general gold."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.align import AlignParams, AlignResult, align_texts
from pipeline.data import Bead
from pipeline.embed import load_encoder
from pipeline.evaluate import read_beads, score_alignments
from pipeline.extract import extract_file
from pipeline.segment import segment_document

ROOT = Path(__file__).resolve().parent.parent
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
