"""Structure as evidence (pipeline.align.anchors, pipeline.align.document): the build's
aligner is align-text's, and structure only enters its score.

Table-driven over the real 75/58 pair with its numbering removed from either side (what a
converter that drops Word's automatic numbering gives), and over plain text without
structure, which must align exactly as align-text aligns it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from pipeline.align import align_texts
from pipeline.align.anchors import Anchors, anchor_terms
from pipeline.align.band import full_band
from pipeline.align.document import align_pair, block_labels
from pipeline.align.params import bead_types
from pipeline.embed import load_encoder
from pipeline.evaluate import read_beads, score_alignments
from pipeline.extract.document import parse_document
from pipeline.records import Block, Document, DocumentPair
from pipeline.text.segment import segment_document

REPO = Path(__file__).resolve().parents[2]
RAW = REPO / "data" / "raw"
GOLD = REPO / "tests" / "gold"
EN_TEXT = (RAW / "002_69ed3383ef6f2041.txt").read_text(encoding="utf-8")
ZH_TEXT = (RAW / "003_df19238bedd244e2.txt").read_text(encoding="utf-8")


def strip_numbers(text: str) -> str:
    """The operative paragraphs' "1. " .. "6. " removed (their lead stays marked)."""
    out = re.sub(r"(?m)^(\s*)\d{1,2}\.\s+(?=\*)", r"\1", text)
    assert out != text
    return out


@pytest.fixture(scope="module")
def encoder():
    return load_encoder("use-m")


def _pair(en_text: str, zh_text: str) -> DocumentPair:
    en = parse_document(en_text, "en.txt", "0" * 64)
    zh = parse_document(zh_text, "zh.txt", "1" * 64)
    return DocumentPair(en.symbol, en, zh)


def _beads(result) -> list[tuple[tuple[int, ...], tuple[int, ...], float, float]]:  # noqa: ANN001
    return [(tuple(b.src), tuple(b.tgt), b.score, b.margin) for b in result.beads]


@pytest.mark.parametrize(
    ("case", "en_text", "zh_text", "numbered"),
    [
        ("numbered", EN_TEXT, ZH_TEXT, (True, True)),
        ("zh unnumbered", EN_TEXT, strip_numbers(ZH_TEXT), (True, False)),
        ("en unnumbered", strip_numbers(EN_TEXT), ZH_TEXT, (False, True)),
        ("both unnumbered", strip_numbers(EN_TEXT), strip_numbers(ZH_TEXT), (False, False)),
    ],
)
def test_7558_without_numbers_is_read_and_aligned_by_content(
    encoder, case: str, en_text: str, zh_text: str, numbered: tuple[bool, bool]
) -> None:
    pair = _pair(en_text, zh_text)
    assert (pair.en.metadata.numbered, pair.zh.metadata.numbered) == numbered, case
    for doc in (pair.en, pair.zh):  # the operative part is found by its leads
        assert sum(b.kind == "operative" for b in doc.blocks) == 6, case
    result = align_pair(pair, encoder)
    gold = read_beads(GOLD / "A-RES-75-58" / "gold.txt")
    f1 = score_alignments([(b.src, b.tgt) for b in result.beads], gold)["f1_strict"]
    assert f1 >= 0.95, (case, f1)  # measured 1.000 in every case


def test_no_anchors_gives_exactly_the_beads_of_align_text(encoder) -> None:
    """A pair whose structure says nothing (blocks without numbers or section starts)
    is aligned as align-text aligns the same sentences: same beads, scores, margins."""
    en_lines = (GOLD / "general" / "en.txt").read_text(encoding="utf-8").splitlines()
    zh_lines = (GOLD / "general" / "zh.txt").read_text(encoding="utf-8").splitlines()
    en = Document("A/RES/1/1", "en", "e.txt", "0", blocks=[Block("heading", t) for t in en_lines])
    zh = Document("A/RES/1/1", "zh", "z.txt", "1", blocks=[Block("heading", t) for t in zh_lines])
    assert not any(block_labels(en)) and not any(block_labels(zh))
    sentences = segment_document(en), segment_document(zh)
    through_pair = align_pair(DocumentPair("A/RES/1/1", en, zh), encoder, sentences=sentences)
    plain = align_texts([s.text for s in sentences[0]], [s.text for s in sentences[1]], encoder)
    assert _beads(through_pair) == _beads(plain)
    assert len(through_pair.beads) > 30


def test_a_number_on_one_side_only_changes_nothing_far_from_it(encoder) -> None:
    """Both sides unnumbered, then a Chinese preambular paragraph that begins with "6.":
    extraction reads it as operative paragraph 6 and everything after it as its
    sub-paragraphs, but the number has no partner, so it anchors nothing: beads change
    at most next to it."""
    en_text, zh_text = strip_numbers(EN_TEXT), strip_numbers(ZH_TEXT)
    base = align_pair(_pair(en_text, zh_text), encoder)
    marked = zh_text.replace("**注意到** 2012", "6. **注意到** 2012", 1)
    pair = _pair(en_text, marked)
    assert [b.number for b in pair.zh.blocks if b.kind == "operative"] == ["6"]
    changed = align_pair(pair, encoder)
    before = {(tuple(b.src), tuple(b.tgt)) for b in base.beads}
    after = {(tuple(b.src), tuple(b.tgt)) for b in changed.beads}
    at = next(j for j, s in enumerate(changed.zh_sentences) if s.text.startswith("注意到 2012"))
    near = set(range(at - 1, at + 2))
    assert all(set(tgt) & near for _, tgt in before ^ after), before ^ after


# --- the anchors themselves ----------------------------------------------------------


def test_labels_make_anchors_only_where_both_sides_agree() -> None:
    """A label on one sentence of each side anchors; a label seen twice, one side only,
    or crossing a stronger anchor does not; numbers come before section starts."""
    src = [["start:preamble"], [], ["op:1", "start:operative"], ["op:2"], ["op:2"], ["fn:1"]]
    tgt = [["start:preamble"], ["op:1"], ["start:operative"], ["op:2"], ["fn:1"], ["op:3"]]
    anchors = Anchors.from_labels(src, tgt)
    # op:2 is twice in src (no anchor); start:operative pairs src 2 with tgt 2, which
    # op:1 (a number) already pairs with tgt 1: dropped
    assert anchors.pairs() == [(0, 0), (2, 1), (5, 4)]
    assert anchors.src_numbered.tolist() == [False, False, True, True, True, True]
    crossing = Anchors.from_labels([["a"], ["b"]], [["b"], ["a"]])
    assert len(crossing.pairs()) == 1  # the longest monotone chain


def test_anchor_terms_gain_contradict_and_cross() -> None:
    anchors = Anchors.from_pairs([(1, 1)], 3, 3, numbered=([2], []))
    types = bead_types(2, 4)
    band = full_band(3, 3)
    rows, cols = band.cell_rows(), band.cell_cols()
    terms = anchor_terms(anchors, band, types, rows, cols)

    def at(a: int, b: int, i: int, j: int) -> float:
        t = types.index((a, b))
        cell = int(band.offset[i] + j - band.lo[i])
        return float(terms.get(t, np.zeros(band.size))[cell])

    assert at(1, 1, 2, 2) == 1.0  # src 1 - tgt 1: both start at the anchor
    assert at(1, 1, 2, 3) == -1.0  # src 1 with tgt 2: the anchor says tgt 1
    assert at(1, 1, 1, 1) == 0.0  # src 0 - tgt 0: no structure there
    assert at(2, 1, 2, 1) == -1.0  # src 0+1 merged: runs across the anchored start
    assert at(2, 1, 3, 2) == 1.0 - 0.5  # src 1+2 - tgt 1: gain, across numbered src 2
