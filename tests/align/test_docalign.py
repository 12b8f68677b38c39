"""The real 75/58 pair (English 002_, Chinese 003_) through align_pair: the one aligner
over its sentences, with its structure as evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.align import AlignParams
from pipeline.align.document import PairAlignment, align_pair, block_labels, plan_pair
from pipeline.embed import load_encoder
from pipeline.extract import extract_file
from pipeline.records import Block, Document, DocumentPair

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"


@pytest.fixture(scope="module")
def encoder():
    return load_encoder("use-m")


@pytest.fixture(scope="module")
def pair() -> DocumentPair:
    en = extract_file(RAW / "002_69ed3383ef6f2041.txt")
    zh = extract_file(RAW / "003_df19238bedd244e2.txt")
    assert en.symbol == zh.symbol == "A/RES/75/58"
    return DocumentPair(en.symbol, en, zh)


@pytest.fixture(scope="module")
def aligned(pair: DocumentPair, encoder) -> PairAlignment:
    return align_pair(pair, encoder)


def keys(doc: Document, indices: list[int]) -> list[str]:
    all_keys = doc.block_keys()
    return [all_keys[i] for i in indices]


def test_every_sentence_in_exactly_one_bead(aligned: PairAlignment) -> None:
    src = sorted(i for b in aligned.beads for i in b.src)
    tgt = sorted(j for b in aligned.beads for j in b.tgt)
    assert src == list(range(len(aligned.en_sentences)))
    assert tgt == list(range(len(aligned.zh_sentences)))
    assert aligned.en_embeddings.shape == (len(aligned.en_sentences), 512)
    assert aligned.zh_embeddings.shape == (len(aligned.zh_sentences), 512)
    assert np.allclose(np.linalg.norm(aligned.en_embeddings, axis=1), 1.0, atol=1e-3)


def test_paragraph_beads_cover_every_block_once(aligned: PairAlignment, pair) -> None:
    src = sorted(i for b in aligned.paragraph_beads for i in b.src)
    tgt = sorted(j for b in aligned.paragraph_beads for j in b.tgt)
    assert src == list(range(len(pair.en.blocks)))
    assert tgt == list(range(len(pair.zh.blocks)))


def test_merged_preamble_paragraph(aligned: PairAlignment, pair) -> None:
    """Two English "Welcoming" paragraphs are one Chinese paragraph ("欢迎…又欢迎…")."""
    found = [
        (keys(pair.en, b.src), keys(pair.zh, b.tgt))
        for b in aligned.paragraph_beads
        if len(b.src) == 2 and len(b.tgt) == 1
    ]
    assert len(found) == 1
    (en_keys, zh_keys) = found[0]
    en_texts = [pair.en.blocks[pair.en.block_keys().index(k)].text for k in en_keys]
    zh_text = pair.zh.blocks[pair.zh.block_keys().index(zh_keys[0])].text
    assert en_texts[0].startswith("Welcoming the entry into force")
    assert en_texts[1].startswith("Welcoming also")
    assert zh_text.startswith("欢迎") and "又欢迎" in zh_text


def test_preamble_after_merge_stays_in_step(aligned: PairAlignment, pair) -> None:
    """After the 2-1 merge the English preamble index runs one ahead of the Chinese one."""
    pre = [
        (keys(pair.en, b.src), keys(pair.zh, b.tgt))
        for b in aligned.paragraph_beads
        if b.type == "1-1" and pair.en.blocks[b.src[0]].kind == "preamble"
    ]
    assert (["pre8"], ["pre7"]) in pre
    assert (["pre18"], ["pre17"]) in pre
    assert len(pre) == 16


def test_footnotes_pair_by_number(aligned: PairAlignment, pair) -> None:
    en_fn = {i for i, b in enumerate(pair.en.blocks) if b.kind == "footnote"}
    fn_beads = [b for b in aligned.paragraph_beads if set(b.src) & en_fn]
    assert len(fn_beads) == 7
    for bead in fn_beads:
        assert bead.type == "1-1"
        assert pair.en.blocks[bead.src[0]].number == pair.zh.blocks[bead.tgt[0]].number


def test_operative_paragraphs_pair_by_number(aligned: PairAlignment, pair) -> None:
    ops = [
        (pair.en.blocks[b.src[0]].number, pair.zh.blocks[b.tgt[0]].number)
        for b in aligned.paragraph_beads
        if b.src and pair.en.blocks[b.src[0]].kind == "operative"
    ]
    assert ops == [(str(n), str(n)) for n in range(1, 7)]


def test_closing_lines_cross(aligned: PairAlignment) -> None:
    """zh puts the date first; the assignment crosses and nothing after it is derailed."""
    en, zh = aligned.en_sentences, aligned.zh_sentences
    text_pairs = {(en[b.src[0]].text, zh[b.tgt[0]].text) for b in aligned.beads if b.type == "1-1"}
    assert ("37th plenary meeting", "第37次全体会议") in text_pairs
    assert ("7 December 2020", "2020年12月7日") in text_pairs


def test_sentence_beads_follow_the_structure(aligned: PairAlignment) -> None:
    en, zh = aligned.en_sentences, aligned.zh_sentences
    by_id = {
        (tuple(en[i].id for i in b.src), tuple(zh[j].id for j in b.tgt)) for b in aligned.beads
    }
    assert (("fn1:s1",), ("fn1:s1",)) in by_id
    assert (("op5:s1",), ("op5:s1",)) in by_id
    assert (("pre6:s1", "pre7:s1"), ("pre6:s1",)) in by_id
    # beads are listed in English order
    firsts = [min(b.src) for b in aligned.beads if b.src]
    assert firsts == sorted(firsts)
    assert all(b.score > 0 for b in aligned.beads)


def test_few_encoder_calls(aligned: PairAlignment) -> None:
    assert aligned.timings["encoder_calls"] <= 2
    assert aligned.timings["embed"] > 0 and aligned.timings["align"] >= 0


def _doc(lang: str, blocks: list[Block]) -> Document:
    return Document("A/RES/1/1", lang, f"x.{lang}", "0" * 64, blocks=blocks)


def test_numbers_both_sides_share_are_anchors_the_others_are_not(encoder) -> None:
    """Operative numbers that differ, a footnote only in English: the shared labels anchor,
    the others change nothing, and nothing is dropped."""
    en = _doc(
        "en",
        [
            Block("preamble", "Recalling its earlier resolutions on the question of water,"),
            Block("operative", "Urges all States to protect rivers and lakes;", number="1"),
            Block("operative", "Decides to remain seized of the matter.", number="2"),
            Block("footnote", "See A/74/548, annex.", number="1"),
            Block("footnote", "Resolution 60/1.", number="2"),
        ],
    )
    zh = _doc(
        "zh",
        [
            Block("preamble", "回顾其以往关于水问题的各项决议，"),
            Block("operative", "敦促所有国家保护河流和湖泊；", number="1"),
            Block("operative", "决定继续处理此案。", number="3"),
            Block("footnote", "见 A/74/548，附件。", number="1"),
        ],
    )
    assert block_labels(en)[1] == ["op:1", "start:operative"]
    assert block_labels(zh)[2] == ["op:3"]
    pair = DocumentPair("A/RES/1/1", en, zh)
    result = align_pair(pair, encoder)
    sentences = result.en_sentences, result.zh_sentences
    vectors = {s.text: v for s, v in zip(result.en_sentences, result.en_embeddings, strict=True)}
    vectors |= {s.text: v for s, v in zip(result.zh_sentences, result.zh_embeddings, strict=True)}
    body, notes = plan_pair(pair, sentences, vectors, AlignParams()).streams
    # preamble start, op 1 (with the operative part's start); footnote 1; not op 2/3, fn 2
    assert body.plan.src == tuple(s.text for s in result.en_sentences[:3])
    assert notes.en == (3, 4) and notes.zh == (3,)
    src = sorted(i for b in result.beads for i in b.src)
    assert src == list(range(len(result.en_sentences)))
    ops = {(tuple(b.src), tuple(b.tgt)) for b in result.paragraph_beads}
    assert ((1,), (1,)) in ops and ((2,), (2,)) in ops
    assert ((4,), ()) in ops


def test_strict_f1_on_the_hand_checked_gold(aligned: PairAlignment) -> None:
    """tests/gold/A-RES-75-58 indexes the same sentence ids (id<TAB>text lines)."""
    from pipeline.evaluate import read_beads, score_alignments

    gold_dir = Path(__file__).resolve().parents[1] / "gold" / "A-RES-75-58"
    en_ids = [line.split("\t")[0] for line in (gold_dir / "en.txt").read_text("utf-8").split("\n")]
    zh_ids = [line.split("\t")[0] for line in (gold_dir / "zh.txt").read_text("utf-8").split("\n")]
    assert [s.id for s in aligned.en_sentences] == [i for i in en_ids if i]
    assert [s.id for s in aligned.zh_sentences] == [i for i in zh_ids if i]
    scores = score_alignments(
        [(b.src, b.tgt) for b in aligned.beads], read_beads(gold_dir / "gold.txt")
    )
    assert scores["f1_strict"] >= 0.98, scores
