"""Dataset rows from hand-made aligned records: ids, kinds, para_no, one-sided beads."""

from __future__ import annotations

import numpy as np

from pipeline.corpus.dedup import dup_group
from pipeline.corpus.filters import FilterOptions
from pipeline.corpus.rows import AlignedDocument, decide, paragraph_rows, sentence_rows, split_rows
from pipeline.corpus.splits import Placement
from pipeline.records import Bead, Block, Document, DocumentPair, Metadata, Sentence


def make_pair() -> AlignedDocument:
    en = Document(
        symbol="A/RES/9/9",
        language="en",
        source_file="en.txt",
        sha256="e" * 64,
        metadata=Metadata(session=9),
        blocks=[
            Block("preamble", "Recalling its resolution. Noting the report,"),
            Block("operative", "Decides to act:", number="1"),
            Block("subparagraph", "to act fast;", number="a"),
            Block("footnote", "A/9/1.", number="1"),
        ],
    )
    zh = Document(
        symbol="A/RES/9/9",
        language="zh",
        source_file="zh.txt",
        sha256="f" * 64,
        metadata=Metadata(session=9),
        blocks=[
            Block("preamble", "回顾其决议，注意到报告，"),
            Block("operative", "决定采取行动：", number="1"),
            Block("subparagraph", "迅速行动；", number="a"),
            Block("footnote", "A/9/1。", number="1"),
            Block("footnote", "多出的脚注。", number="2"),
        ],
    )
    en_s = [
        Sentence("pre1:s1", 0, "Recalling its resolution.", 3),
        Sentence("pre1:s2", 0, "Noting the report,", 3),
        Sentence("op1:s1", 1, "Decides to act:", 3),
        Sentence("op1a:s1", 2, "to act fast;", 3),
        Sentence("fn1:s1", 3, "A/9/1.", 1),
    ]
    zh_s = [
        Sentence("pre1:s1", 0, "回顾其决议，注意到报告，", 6),
        Sentence("op1:s1", 1, "决定采取行动：", 3),
        Sentence("op1a:s1", 2, "迅速行动；", 2),
        Sentence("fn1:s1", 3, "A/9/1。", 1),
        Sentence("fn2:s1", 4, "多出的脚注。", 3),
    ]
    beads = [
        Bead([0, 1], [0], 0.9, 0.2),
        Bead([2], [1], 1.1, 0.3),
        Bead([3], [], -0.2, 0.0),
        Bead([], [2], -0.2, 0.0),
        Bead([4], [3], 1.0, 0.3),
        Bead([], [4], -0.2, 0.0),
    ]
    paragraph_beads = [
        Bead([0], [0], 0.9),
        Bead([1, 2], [1, 2], 1.0),
        Bead([3], [3], 1.0),
        Bead([], [4], -0.2),
    ]
    return AlignedDocument(
        pair=DocumentPair("A/RES/9/9", en, zh),
        en_sentences=en_s,
        zh_sentences=zh_s,
        beads=beads,
        paragraph_beads=paragraph_beads,
        similarity=np.zeros((5, 5), dtype=np.float32),
        shape=(5, 5),
        model="m",
    )


def test_block_labels() -> None:
    aligned = make_pair()
    assert aligned.pair.zh.block_labels() == [
        ("pre1", "1"),
        ("op1", "1"),
        ("op1a", "1(a)"),
        ("fn1", "1"),
        ("fn2", "2"),
    ]


PLACED = Placement(lineage="feedfacecafebeef", split="validation")


def test_sentence_rows() -> None:
    rows = sentence_rows(make_pair(), PLACED)
    assert [r.id for r in rows] == [
        "A/RES/9/9:pre1:s1",
        "A/RES/9/9:op1:s1",
        "A/RES/9/9:op1a:s1",
        "A/RES/9/9:zh:op1a:s1",  # Chinese-only bead: marked, cannot clash with the en id
        "A/RES/9/9:fn1:s1",
        "A/RES/9/9:zh:fn2:s1",
    ]
    first = rows[0]
    assert first.en == "Recalling its resolution. Noting the report,"
    assert first.align_type == "2-1"
    assert first.en_ids == ("pre1:s1", "pre1:s2")
    assert (first.en_tokens, first.zh_tokens, first.len_ratio) == (6, 6, 1.0)
    assert first.session == 9 and first.pair == "en-zh"
    assert rows[2].kind == "subparagraph" and rows[2].para_no == "1(a)"
    assert rows[2].zh == "" and rows[2].len_ratio is None
    assert rows[3].en == "" and rows[3].zh_ids == ("op1a:s1",)
    assert rows[5].kind == "footnote" and rows[5].para_no == "2"
    # the pair's placement on every row; the group from the folded text of both sides
    assert {(r.split, r.lineage) for r in rows} == {("validation", "feedfacecafebeef")}
    assert first.dup_group == dup_group(first.en, first.zh)
    assert rows[2].dup_group == dup_group(rows[2].en, "") != rows[3].dup_group
    # corpus-wide columns wait for the finalize pass
    assert {(r.dup_count, r.seen_in_train) for r in rows} == {(0, False)}


def test_paragraph_rows() -> None:
    rows = paragraph_rows(make_pair(), PLACED)
    assert [r.id for r in rows] == [
        "A/RES/9/9:pre1",
        "A/RES/9/9:op1",
        "A/RES/9/9:fn1",
        "A/RES/9/9:zh:fn2",
    ]
    op = rows[1]
    assert op.en == "Decides to act: to act fast;"
    assert op.zh == "决定采取行动：迅速行动；"  # no space between Chinese blocks
    assert op.en_ids == ("op1", "op1a") and op.align_type == "2-2"
    assert (op.en_tokens, op.zh_tokens) == (6, 5)


def test_decide_and_split_keep_order_and_reasons() -> None:
    rows = sentence_rows(make_pair(), PLACED)
    reasons = decide(rows, FilterOptions(min_score=1.0))
    assert reasons == ["score_below_min: 0.900 < 1.0", None, None, None, None, None]
    kept, rejected = split_rows(rows, reasons)
    assert len(kept) == 5 and rejected[0].row.id == "A/RES/9/9:pre1:s1"
    assert rejected[0].reject_reason.startswith("score_below_min")
    assert rejected[0].reason_name == "score_below_min"
    assert kept[0].id == "A/RES/9/9:op1:s1"
