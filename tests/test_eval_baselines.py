"""The Bertalign/Vecalign reimplementations: DP engine exactness and recovery of known beads."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest

from benchmarks import synthetic_embeddings
from benchmarks.baselines import (
    BertalignParams,
    MemoEncoder,
    banded_dp,
    bertalign_from_embeddings,
    embed_overlaps,
    overlap_texts,
)
from benchmarks.vecalign_reimpl import VecalignParams, vecalign_from_embeddings
from pipeline.evaluate import score_alignments

MOVES = [(1, 0), (1, 1), (1, 2), (2, 1), (2, 2)]


def _brute_force(n: int, m: int, table: dict, insert_score: float) -> float:
    """Best total score by plain recursion over all bead sequences (tiny sizes only)."""

    @cache
    def best(i: int, j: int) -> float:
        if i == 0 and j == 0:
            return 0.0
        options = []
        if j > 0:
            options.append(best(i, j - 1) + insert_score)
        for a, b in MOVES:
            if i >= a and j >= b:
                options.append(best(i - a, j - b) + table[(i, j, a, b)])
        return max(options)

    return best(n, m)


@pytest.mark.parametrize("seed", range(6))
def test_banded_dp_with_full_band_is_exhaustive(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    table = {
        (i, j, a, b): float(rng.normal())
        for i, j in itertools.product(range(n + 1), range(m + 1))
        for a, b in MOVES
    }
    skip = -0.3

    def score(i: int, js: np.ndarray, a: int, b: int) -> np.ndarray:
        return np.array([table[(i, int(j), a, b)] for j in js])

    lo, hi = np.zeros(n + 1, dtype=int), np.full(n + 1, m)
    beads = banded_dp(n, m, lo, hi, MOVES, score, skip)
    total = 0.0
    i = j = 0
    for s, t in beads:
        i, j = i + len(s), j + len(t)
        total += skip if not s else table[(i, j, len(s), len(t))]
    assert (i, j) == (n, m)
    assert total == pytest.approx(_brute_force(n, m, table, skip))


def test_banded_dp_rejects_a_band_without_the_corners() -> None:
    with pytest.raises(ValueError, match="band must contain"):
        banded_dp(2, 2, np.array([1, 1, 1]), np.array([2, 2, 2]), MOVES, None, 0.0)  # type: ignore[arg-type]


def test_overlap_texts_are_indexed_by_last_sentence() -> None:
    layers = overlap_texts(["a", "b", "c"], 3)
    assert layers == [["a", "b", "c"], ["", "a b", "b c"], ["", "", "a b c"]]


def _synthetic_embeddings(n: int, seed: int):
    case, encoder = synthetic_embeddings.synthetic_pair(n, seed=seed, dim=96, noise=0.5)
    src = embed_overlaps(case.src, encoder, 4)
    tgt = embed_overlaps(case.tgt, encoder, 4)
    return case, src, tgt


def _check_cover(beads, n: int, m: int) -> None:
    assert [i for s, _ in beads for i in s] == list(range(n))
    assert [j for _, t in beads for j in t] == list(range(m))


@pytest.mark.parametrize("n", [60, 700])
def test_bertalign_recovers_known_beads(n: int) -> None:
    case, src, tgt = _synthetic_embeddings(n, seed=n)
    beads = bertalign_from_embeddings(src, tgt, BertalignParams())
    _check_cover(beads, len(case.src), len(case.tgt))
    assert score_alignments(beads, case.gold)["f1_strict"] >= 0.85


@pytest.mark.parametrize("n", [60, 700])
def test_vecalign_recovers_known_beads(n: int) -> None:
    # 700 x ~700 exceeds 300², so this also runs the coarse-to-fine recursion.
    case, src, tgt = _synthetic_embeddings(n, seed=n + 1)
    beads = vecalign_from_embeddings(src, tgt, VecalignParams())
    _check_cover(beads, len(case.src), len(case.tgt))
    assert score_alignments(beads, case.gold)["f1_strict"] >= 0.85


def test_empty_sides() -> None:
    case, src, tgt = _synthetic_embeddings(5, seed=0)
    encoder = synthetic_embeddings.SyntheticEncoder({"s0": np.ones(96, np.float32)})
    empty = embed_overlaps([], encoder, 4)
    assert bertalign_from_embeddings(src, empty) == [([i], []) for i in range(len(case.src))]
    assert vecalign_from_embeddings(empty, tgt) == [([], [j]) for j in range(len(case.tgt))]


def test_memo_encoder_embeds_each_text_once() -> None:
    _, encoder = synthetic_embeddings.synthetic_pair(10, seed=0, dim=16)
    memo = MemoEncoder(encoder)
    a = memo.encode(["s0", "s1", "s0"])
    b = memo.encode(["s1", "s0 s1"])
    assert memo.encoded == 3
    assert np.array_equal(a[1], b[0])
    assert memo.encode([]).shape == (0, 16)
