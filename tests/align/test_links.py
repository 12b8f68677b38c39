"""A shared word supports a merged sentence (pipeline.align.evidence): the flags, the per-document
weight, and what it leaves alone in a real alignment (real bundled use-m encoder)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.align import AlignParams, align_texts, full_band
from pipeline.align.evidence import (
    LexicalSupport,
    link_reliability,
    linked_flags,
    sentence_evidence,
)
from pipeline.embed import load_encoder
from pipeline.evaluate import read_beads

GOLD = Path(__file__).resolve().parents[1] / "gold" / "general"

PLAIN = [
    "The old fisherman sold his wooden boat at the market.",
    "Heavy rain was falling on the harbour all night.",
    "His daughter wrote him a long letter from the city.",
    "The hungry dog slept by the warm fire.",
    "Nobody came to buy fresh fish that morning.",
]
CHINESE = [
    "老渔夫在市场上卖掉了他的木船。",
    "整夜大雨落在港口上。",
    "他的女儿从城里给他写了一封长信。",
    "饥饿的狗睡在温暖的火旁。",
    "那天早上没有人来买新鲜的鱼。",
]


def _cell(band, row: int, col: int) -> int:
    return int(band.offset[row] + col - band.lo[row])


def test_linked_flags_mark_the_merged_sentence_that_shares_a_word() -> None:
    # src: the fisherman sentence; tgt: the rain sentence, then its translation
    ev = sentence_evidence(PLAIN[:1], [CHINESE[1], CHINESE[0]])
    band = full_band(1, 2)
    types = [(1, 1), (1, 2)]
    rows, cols = band.cell_rows(), band.cell_cols()
    flags = linked_flags(ev.links(rows, cols), band, rows, cols, types)
    assert 0 not in flags  # a 1-1 bead is the embedding's business
    src_flags, tgt_flags = flags[1]
    assert src_flags == []  # only the merged side
    # flag k is tgt sentence cols-1-k: k=0 the translation (linked), k=1 the rain (not)
    assert [bool(f[_cell(band, 1, 2)]) for f in tgt_flags] == [True, False]


def test_link_reliability_says_how_much_a_shared_word_means() -> None:
    pairs = [(k, k) for k in range(5)]
    # every true pair shares a word, one of the three pairs two apart does too (the
    # daughter's "long letter" and "那天早上": CC-CEDICT glosses 早 as "long ago"):
    # a link is 1 - (1/3) / 1 of certain evidence here
    assert link_reliability(sentence_evidence(PLAIN, CHINESE), pairs) == pytest.approx(2 / 3)
    # every pair of the document shares "fisherman"/"渔夫": a link means nothing here
    en = [f"The fisherman sold boat number {k}." for k in range(8)]
    zh = [f"渔夫卖掉了第 {k} 号船。" for k in range(8)]
    assert link_reliability(sentence_evidence(en, zh), [(k, k) for k in range(8)]) == 0.0
    assert link_reliability(sentence_evidence(PLAIN, CHINESE), pairs[:2]) == 0.0  # too few


def test_deficits_weaken_an_unlinked_sentence_and_strengthen_a_linked_one() -> None:
    ev = sentence_evidence(PLAIN, CHINESE)
    band = full_band(5, 5)
    types = [(1, 1), (1, 2)]
    params = AlignParams(lexical_weight=0.5, link_weight=2.0)
    support = LexicalSupport.prepare(ev, band, types, params)
    assert support is not None
    deficits = support.deficits([(k, k) for k in range(5)])
    _, tgt = deficits[1]
    cell = _cell(band, 1, 2)  # fisherman sentence with its translation and the rain
    # k=0: the rain sentence, no shared word: 0.5 x 1 weaker (no true pair lacks a link);
    # k=1: the translation, 2.0 x 2/3 stronger (link_reliability above)
    assert [float(f[cell]) for f in tgt] == pytest.approx([0.5, -4 / 3])
    # no texts, or both weights 0: no lexical term at all
    assert LexicalSupport.prepare(None, band, types, params) is None
    off = replace(params, lexical_weight=0.0, link_weight=0.0)
    assert LexicalSupport.prepare(ev, band, types, off) is None


def test_link_weight_must_be_a_finite_non_negative_number() -> None:
    with pytest.raises(ValueError, match="link_weight"):
        AlignParams(link_weight=-1.0)
    with pytest.raises(ValueError, match="link_weight"):
        AlignParams(link_weight=float("nan"))


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory):
    return load_encoder("use-m", cache_dir=tmp_path_factory.mktemp("embeddings"))


def test_an_insertion_that_shares_a_word_stays_out(encoder) -> None:
    """The general gold's Chinese insertion 42 shares a translated word with the bead before
    it, yet nothing there carries its meaning: the link cancels part of its support
    shortfall, but the merge still scores below "1-1 plus a skip", so it stays 0-1 (as do
    the gold's other two insertions), at the default and at twice the default weight."""
    src = (GOLD / "en.txt").read_text(encoding="utf-8").splitlines()
    tgt = (GOLD / "zh.txt").read_text(encoding="utf-8").splitlines()
    ev = sentence_evidence(src, tgt)
    assert ev.links(np.array([42]), np.array([43])).tolist() == [True]  # en 41 - zh 42
    gold_nulls = {(tuple(s), tuple(t)) for s, t in read_beads(GOLD / "gold.txt") if not s or not t}
    assert gold_nulls == {((), (12,)), ((16,), ()), ((), (42,))}
    for weight in (AlignParams().link_weight, 2 * AlignParams().link_weight):
        beads = align_texts(src, tgt, encoder, AlignParams(link_weight=weight)).beads
        nulls = {(tuple(b.src), tuple(b.tgt)) for b in beads if not b.src or not b.tgt}
        assert nulls == gold_nulls, weight


def test_support_shortfall_takes_the_deficit_amounts_not_just_their_sign() -> None:
    """The support term subtracts each merged sentence's deficit in calibrated units: a
    linked sentence (negative deficit) is supported more, half a deficit costs half. (A
    merge once cast the deficits to bool there: -1 and 0.5 both counted as 1, and MAC-Dev
    fell from 0.891 to 0.775 with every test green.)"""
    from pipeline.align import bead_types
    from pipeline.align.scoring import subtract_support_shortfall

    params = AlignParams(support_floor=0.0, support_weight=1.0)
    types = bead_types(params.max_overlap, params.max_bead_size)
    band = full_band(3, 3)
    rows, cols = band.cell_rows(), band.cell_cols()
    margins = np.full((len(types), band.size), -0.2, dtype=np.float32)
    sims = np.zeros_like(margins)
    one_two = types.index((1, 2))
    cell = _cell(band, 1, 2)

    def score_with(deficit: float) -> float:
        scores = np.zeros_like(margins)
        flags = [np.full(band.size, deficit, dtype=np.float32) for _ in range(2)]
        unlinked = {one_two: ([], flags)}
        subtract_support_shortfall(
            scores, margins, sims, band, types, rows, cols, 1.0, params, unlinked
        )
        return float(scores[one_two, cell])

    # weakest margin -0.2 minus the deficit; shortfall = max(0, 0 - weakest)
    assert score_with(0.0) == pytest.approx(-0.2)
    assert score_with(0.5) == pytest.approx(-0.7)
    assert score_with(-1.0) == pytest.approx(0.0)


def _linked_flags_reference(link, band_lo, band_width, band_offset, rows, cols, types):
    """The numpy formulation linked_flags had before it became a compiled kernel."""
    n = len(band_lo) - 1

    def linked(r, c):
        rr = np.clip(r, 0, n)
        inside = (r >= 1) & (c >= 1) & (c >= band_lo[rr]) & (c < band_lo[rr] + band_width[rr])
        flat = band_offset[rr] + np.where(inside, c - band_lo[rr], 0)
        return inside & link[np.minimum(flat, len(link) - 1)]

    out = {}
    for t, (a, b) in enumerate(types):
        if a == 0 or b == 0 or (a == 1 and b == 1):
            continue
        tgt = [np.any([linked(rows - q, cols - k) for q in range(a)], axis=0) for k in range(b)]
        src = [np.any([linked(rows - q, cols - k) for k in range(b)], axis=0) for q in range(a)]
        out[t] = (src if a >= 2 else [], tgt if b >= 2 else [])
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_linked_flags_equal_the_numpy_formulation(seed: int) -> None:
    from pipeline.align import band_around_path, bead_types

    rng = np.random.default_rng(seed)
    n, m = 40, 47
    path = [(0, 0)] + [(min(n, i), min(m, round(i * m / n))) for i in range(1, n + 1)]
    band = band_around_path(path, n, m, 3) if seed else full_band(n, m)
    rows, cols = band.cell_rows(), band.cell_cols()
    link = rng.random(band.size) < 0.3
    types = bead_types(4, 5)
    got = linked_flags(link, band, rows, cols, types)
    want = _linked_flags_reference(link, band.lo, band.width, band.offset, rows, cols, types)
    assert got.keys() == want.keys()
    for t in want:
        for mine, theirs in zip(got[t], want[t], strict=True):
            assert len(mine) == len(theirs)
            for x, y in zip(mine, theirs, strict=True):
                np.testing.assert_array_equal(x, y)


def test_the_link_term_alone_gets_the_evidence(encoder, monkeypatch) -> None:  # noqa: ANN001
    """align_texts builds the words-and-anchors evidence whenever either lexical term is
    on: with lexical_weight 0 and link_weight 2 the link term still needs it (it was
    built only for lexical_weight > 0, so that setting silently had no link term)."""
    from pipeline.align import texts

    src = (GOLD / "en.txt").read_text(encoding="utf-8").splitlines()
    tgt = (GOLD / "zh.txt").read_text(encoding="utf-8").splitlines()
    built: list[int] = []
    real = texts.sentence_evidence

    def counted(*args):  # noqa: ANN002, ANN202
        built.append(1)
        return real(*args)

    monkeypatch.setattr(texts, "sentence_evidence", counted)
    for lexical, link, calls in ((0.0, 2.0, 1), (0.5, 0.0, 1), (0.0, 0.0, 0)):
        built.clear()
        align_texts(src, tgt, encoder, AlignParams(lexical_weight=lexical, link_weight=link))
        assert len(built) == calls, (lexical, link)
