"""The numpy alignment core on constructed embeddings with known answers.

Vectors are built so that each gold bead is the only consistent explanation: a 1-2 bead is
a source vector u+v against targets u and v (and twice as long), an insertion is a vector
unrelated to everything. A 2-2 bead crosses its halves (a+b, c+d against a+c, b+d); with
a margin measured against unrelated text each half-matching 1-1 is evidence too, so the
crossing is exactly ambiguous (two 1-1 beads explain it as well as one 2-2) and exact
recovery is asserted for the swap in test_swapped_neighbours_become_one_2_2_bead and for
real 2-2 beads in tests/test_quality.py instead.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.align import (
    AlignParams,
    band_around_path,
    bead_types,
    dp_band,
    full_band,
    insert_blank_lines,
)
from pipeline.align import align_embeddings as _align
from pipeline.align.params import averaged_overlaps, normalize_rows
from pipeline.records import Bead

Gold = list[tuple[list[int], list[int]]]



def build_case(
    pattern: list[str], dim: int = 96, seed: int = 0, noise: float = 0.15
) -> tuple[np.ndarray, np.ndarray, Gold]:
    """Source/target sentence vectors following a list of bead types, and the gold beads."""
    rng = np.random.default_rng(seed)

    def fresh() -> np.ndarray:
        return normalize_rows(rng.normal(size=dim))

    src: list[np.ndarray] = []
    tgt: list[np.ndarray] = []
    gold: Gold = []
    for kind in pattern:
        i, j = len(src), len(tgt)
        if kind == "1-1":
            u = fresh()
            src.append(u)
            tgt.append(u)
        elif kind == "1-0":
            src.append(fresh())
        elif kind == "0-1":
            tgt.append(fresh())
        elif kind in ("1-2", "1-3"):
            parts = [fresh() for _ in range(int(kind[-1]))]
            src.append(np.sum(parts, axis=0))
            tgt.extend(parts)
        elif kind in ("2-1", "3-1"):
            parts = [fresh() for _ in range(int(kind[0]))]
            src.extend(parts)
            tgt.append(np.sum(parts, axis=0))
        elif kind == "2-2":
            a, b, c, d = (fresh() for _ in range(4))
            src.extend([a + b, c + d])
            tgt.extend([a + c, b + d])
        else:  # pragma: no cover - test helper misuse
            raise ValueError(kind)
        gold.append((list(range(i, len(src))), list(range(j, len(tgt)))))
    s = normalize_rows(np.array(src))
    t = normalize_rows(np.array(tgt))
    s = normalize_rows(s + noise * rng.normal(size=s.shape) / np.sqrt(dim))
    t = normalize_rows(t + noise * rng.normal(size=t.shape) / np.sqrt(dim))
    return s, t, gold


def case_lengths(gold: Gold, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Character lengths that fit the construction: a sentence made of k parts is k times
    as long as one part (60), as a translator's merged sentence is."""
    src = np.full(n, 60.0)
    tgt = np.full(m, 60.0)
    for s, t in gold:
        if len(s) == 1 and len(t) > 1:
            src[s[0]] = 60.0 * len(t)
        if len(t) == 1 and len(s) > 1:
            tgt[t[0]] = 60.0 * len(s)
        if len(s) == 2 and len(t) == 2:
            src[s] = tgt[t] = 120.0
    return src, tgt


def align(
    src: np.ndarray,
    tgt: np.ndarray,
    params: AlignParams | None = None,
    gold: Gold | None = None,
    **kw,
):
    """Align constructed vectors; lengths from ``gold`` (case_lengths), else all 60."""
    params = params or AlignParams(**kw)
    k = params.max_overlap
    src_len, tgt_len = (
        case_lengths(gold, len(src), len(tgt))
        if gold is not None
        else (np.full(len(src), 60.0), np.full(len(tgt), 60.0))
    )
    return _align(averaged_overlaps(src, k), averaged_overlaps(tgt, k), src_len, tgt_len, params)


def pairs(beads: list[Bead]) -> Gold:
    return [(b.src, b.tgt) for b in beads]


def assert_covering(beads: list[Bead], n: int, m: int) -> None:
    """Every index of both sides exactly once, in increasing order."""
    src = [i for b in beads for i in b.src]
    tgt = [j for b in beads for j in b.tgt]
    assert src == list(range(n))
    assert tgt == list(range(m))
    assert all(b.src or b.tgt for b in beads)


PATTERN = (
    ["1-1"] * 4
    + ["2-1", "1-1", "1-2", "1-1", "1-1", "1-1", "1-3", "1-1", "3-1", "1-1"]
    + ["1-1", "1-0", "1-1", "1-1", "0-1", "1-1", "1-1"]
    + ["1-1"] * 6
)


@pytest.fixture(scope="module")
def mixed_case() -> tuple[np.ndarray, np.ndarray, Gold]:
    return build_case(PATTERN * 3, seed=1)


def test_every_bead_type_recovered_exactly(mixed_case) -> None:
    src, tgt, gold = mixed_case
    result = align(src, tgt, gold=gold)
    assert_covering(result.beads, len(src), len(tgt))
    assert pairs(result.beads) == gold
    produced = {b.type for b in result.beads}
    assert {"1-1", "2-1", "1-2", "1-3", "3-1", "1-0", "0-1"} <= produced


def test_scores_and_margins_are_reported(mixed_case) -> None:
    src, tgt, _ = mixed_case
    result = align(src, tgt)
    ones = [b.score for b in result.beads if b.type == "1-1"]
    skips = [b.score for b in result.beads if b.type in ("1-0", "0-1")]
    # calibrated: a typical correct bead scores about 1, skips score the skip penalty
    assert 0.7 < float(np.median(ones)) < 1.5
    assert skips and all(s == pytest.approx(AlignParams().skip_penalty) for s in skips)
    assert all(b.margin > 0 for b in result.beads if b.type == "1-1")
    assert result.timings["align"] > 0
    assert result.timings["length_ratio"] == pytest.approx(1.0, rel=0.1)


def test_max_overlap_limits_bead_shapes(mixed_case) -> None:
    src, tgt, _ = mixed_case
    result = align(src, tgt, max_overlap=2, max_bead_size=3)
    assert_covering(result.beads, len(src), len(tgt))
    assert all(len(b.src) <= 2 and len(b.tgt) <= 2 for b in result.beads)
    assert all(len(b.src) + len(b.tgt) <= 3 for b in result.beads)


def test_bead_types_listing() -> None:
    types = bead_types(4, 5)
    assert types[-1] == (0, 1) and (1, 0) in types
    assert (1, 4) in types and (4, 1) in types and (2, 3) in types
    assert (3, 3) not in types and (0, 0) not in types


def test_banded_search_equals_exhaustive() -> None:
    src, tgt, gold = build_case(PATTERN * 6, seed=2)
    exhaustive = align(src, tgt, gold=gold, max_coarse_cells=10**9)
    banded = align(src, tgt, gold=gold, max_coarse_cells=400)
    assert banded.timings["coarse_cells"] > 0  # the coarse-to-fine path was taken
    assert banded.timings["band_cells"] < exhaustive.timings["band_cells"] / 3
    assert pairs(banded.beads) == pairs(exhaustive.beads) == gold


def test_dp_band_matches_brute_force_on_tiny_grid() -> None:
    """The vectorised DP finds the same optimum as enumerating every monotone path."""
    rng = np.random.default_rng(5)
    n, m = 3, 3
    types = bead_types(2, 3)
    band = full_band(n, m)
    scores = rng.normal(size=(len(types), band.size)).astype(np.float32)
    skip = -0.3
    scores[types.index((1, 0))] = skip
    scores[types.index((0, 1))] = skip
    cols = band.cell_cols()
    rows = band.cell_rows()

    def cell(i: int, j: int) -> int:
        return int(np.flatnonzero((rows == i) & (cols == j))[0])

    def best(i: int, j: int) -> float:
        if i == 0 and j == 0:
            return 0.0
        out = -np.inf
        for t, (a, b) in enumerate(types):
            if i - a >= 0 and j - b >= 0:
                out = max(out, best(i - a, j - b) + float(scores[t, cell(i, j)]))
        return out

    path = dp_band(scores, band, types)
    total = sum(float(scores[t, cell(i, j)]) for i, j, t in path)
    assert total == pytest.approx(best(n, m), abs=1e-5)


def test_long_insertion_found_through_a_narrow_band() -> None:
    """A 150-sentence insertion and a deliberately narrow band (1 sentence): the coarse
    levels locate the insertion, the result is still exact, in a band far smaller than the
    full matrix."""
    pattern = ["1-1"] * 300 + ["0-1"] * 150 + ["1-2", "1-1", "2-1"] * 100
    src, tgt, gold = build_case(pattern, dim=64, seed=3)
    default = align(src, tgt, gold=gold, max_coarse_cells=2_000)
    assert pairs(default.beads) == gold
    narrow = align(src, tgt, gold=gold, max_coarse_cells=2_000, band_width=1)
    assert pairs(narrow.beads) == gold
    assert narrow.timings["band_cells"] < 0.2 * (len(src) + 1) * (len(tgt) + 1)


def test_memory_stays_linear_on_long_input() -> None:
    """4000 x 4000 sentences: the band holds a few dozen cells per row, not N x M."""
    src, tgt, gold = build_case(["1-1", "1-1", "2-1", "1-1", "1-2"] * 800, dim=32, seed=4)
    result = align(src, tgt)
    n, m = len(src), len(tgt)
    assert result.timings["band_cells"] < 60 * (n + m)
    assert result.timings["coarse_cells"] <= AlignParams().max_coarse_cells
    correct = len(set(map(str, pairs(result.beads))) & set(map(str, gold)))
    assert correct / len(gold) > 0.99


def test_unrelated_input_is_still_covered_in_order() -> None:
    rng = np.random.default_rng(6)
    src = normalize_rows(rng.normal(size=(37, 32)))
    tgt = normalize_rows(rng.normal(size=(53, 32)))
    result = align(src, tgt)
    assert_covering(result.beads, 37, 53)


@pytest.mark.parametrize(("n", "m"), [(0, 3), (4, 0), (0, 0), (1, 1)])
def test_degenerate_sizes(n: int, m: int) -> None:
    rng = np.random.default_rng(7)
    src = normalize_rows(rng.normal(size=(n, 16)))
    tgt = normalize_rows(rng.normal(size=(m, 16)))
    result = align(src.reshape(n, 16), tgt.reshape(m, 16))
    assert_covering(result.beads, n, m)


def test_length_term_breaks_ties_by_length() -> None:
    """Two identical target vectors: the one whose length fits the source wins."""
    rng = np.random.default_rng(8)
    u = normalize_rows(rng.normal(size=(1, 32)))
    v = normalize_rows(rng.normal(size=(1, 32)))
    src = np.concatenate([u, v])
    tgt = np.concatenate([u, u, v])
    params = AlignParams(max_overlap=1)  # no merges: one of the twins must be skipped
    result = _align(src, tgt, [100.0, 50.0], [10.0, 100.0, 50.0], params)
    assert pairs(result.beads) == [([], [0]), ([0], [1]), ([1], [2])]
    swapped = _align(src, tgt, [100.0, 50.0], [100.0, 10.0, 50.0], params)
    assert pairs(swapped.beads) == [([0], [0]), ([], [1]), ([1], [2])]


def test_band_around_path_contains_path_and_ends() -> None:
    path = [(0, 0), (1, 1), (2, 1), (3, 3), (5, 4)]
    band = band_around_path(path, 10, 8, half_width=1, scale=2)
    assert band.lo[0] == 0 and band.lo[10] + band.width[10] - 1 == 8
    for i, j in path:
        fi, fj = min(2 * i, 10), min(2 * j, 8)
        assert band.lo[fi] <= fj < band.lo[fi] + band.width[fi]
    assert np.all(np.diff(band.lo) >= 0)


def test_invalid_params_rejected() -> None:
    with pytest.raises(ValueError, match="band_width"):
        AlignParams(band_width=0)
    with pytest.raises(ValueError, match="max_overlap"):
        AlignParams(max_overlap=0)


def test_blank_lines_pair_up_or_become_skips() -> None:
    beads = [Bead([0], [0], 1.0), Bead([2], [1], 1.0), Bead([3, 5], [3], 1.0)]
    # src 1 blank after bead 0; tgt 2 blank after bead 1; src 4 inside a merge is absorbed
    # by the caller, so here only the uncovered ones count: src 1, src 4, tgt 2
    out = insert_blank_lines(beads, 6, 4)
    assert_covering_loose = [i for b in out for i in b.src]
    assert sorted(assert_covering_loose) == list(range(6))
    assert ([1], []) in pairs(out)
    assert ([], [2]) in pairs(out)
    aligned = insert_blank_lines([Bead([0], [0]), Bead([2], [2])], 3, 3)
    assert pairs(aligned) == [([0], [0]), ([1], [1]), ([2], [2])]


def test_repeated_text_does_not_cancel_the_margin() -> None:
    """A document made of verbatim copies of one passage (boilerplate, or a long text built
    from repeated parts): with the kNN neighbourhood over the whole matrix every correct
    pair would have its copies as nearest neighbours and a margin of zero."""
    src1, tgt1, gold1 = build_case(PATTERN, seed=9)
    copies = 6
    src = np.concatenate([src1] * copies)
    tgt = np.concatenate([tgt1] * copies)
    gold = [
        ([i + c * len(src1) for i in s], [j + c * len(tgt1) for j in t])
        for c in range(copies)
        for s, t in gold1
    ]

    def correct(**kw) -> int:
        result = align(src, tgt, gold=gold, max_coarse_cells=10**9, **kw)
        assert result.timings["coarse_cells"] == 0  # one exhaustive DP over the whole matrix
        return len({str(p) for p in pairs(result.beads)} & {str(g) for g in gold})

    assert correct() / len(gold) > 0.97


def test_a_mismatch_costs_in_proportion_to_its_size() -> None:
    """Three deleted source sentences next to one inserted target sentence: one bad 3-1
    bead is cheaper than four skips unless a negative score is scaled by the bead's size;
    with that, no merged bead with a negative score is left."""
    pattern = ["1-1"] * 8 + ["1-0"] * 3 + ["0-1"] + ["1-1"] * 8
    src, tgt, gold = build_case(pattern, seed=14, dim=256)

    def bad_merges(params: AlignParams) -> list[Bead]:
        beads = align(src, tgt, params).beads
        assert_covering(beads, len(src), len(tgt))
        return [b for b in beads if len(b.src) + len(b.tgt) > 2 and b.score < 0]

    assert bad_merges(AlignParams()) == []
    assert bad_merges(AlignParams(skip_penalty=-0.6)) == []  # skips dearer: still no bad merge


def test_swapped_neighbours_become_one_2_2_bead() -> None:
    """Two target sentences in the opposite order: the crossed pairs both match, so the
    monotone answer is one 2-2 bead, not a 1-1 between two skips. Real encoders are
    order-sensitive, so the swapped concatenation is made a weak witness here; the
    crossed 1-1 evidence (``swap_floor``) must carry the bead."""
    src, tgt, _ = build_case(["1-1"] * 20, seed=11)
    tgt = tgt.copy()
    tgt[[9, 10]] = tgt[[10, 9]]
    src_ov, tgt_ov = averaged_overlaps(src, 4), averaged_overlaps(tgt, 4)
    rng = np.random.default_rng(12)
    tgt_ov[1, 9] = normalize_rows(tgt_ov[1, 9] + 2.0 * normalize_rows(rng.normal(size=96)))
    lengths = np.full(20, 60.0)

    def run(params: AlignParams) -> Gold:
        beads = _align(src_ov, tgt_ov, lengths, lengths, params).beads
        assert_covering(beads, 20, 20)
        return pairs(beads)

    assert ([9, 10], [9, 10]) in run(AlignParams())
    assert ([9, 10], [9, 10]) not in run(AlignParams(swap_floor=None))


@pytest.mark.parametrize(
    "field", ["skip_penalty", "length_weight", "support_floor", "swap_floor", "structure_weight"]
)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_params_rejected(field: str, value: float) -> None:
    """A NaN or infinite score term poisons the DP ("band does not connect" deep inside)."""
    with pytest.raises(ValueError, match=field):
        AlignParams(**{field: value})


def test_positive_skip_penalty_rejected() -> None:
    """A positive skip 'penalty' rewards unaligned sentences: a flipped sign, refused."""
    with pytest.raises(ValueError, match="skip_penalty must be <= 0"):
        AlignParams(skip_penalty=0.1)
    assert AlignParams(skip_penalty=0.0).skip_penalty == 0.0
