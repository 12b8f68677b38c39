"""The score of a bead: calibrated margin, length term, structure, and the terms that look
at a bead's sentences one by one.

A bead's score is its calibrated margin (``pipeline.align.margins``) plus a length term,
minus penalties for merges that do not earn their size: the *support* term (each sentence
of a merged side must match the other side on its own at least as well as unrelated text,
helped or hurt by the lexical evidence of ``pipeline.align.evidence``), and the *swap*
score of 2-2 beads (two crossed 1-1 pairs, which the order-sensitive embedding of the
concatenations sees poorly). Pure functions over the band's flat cell arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.align.band import Band
from pipeline.align.evidence import (
    Unlinked,
)
from pipeline.align.kernels import gather_kernel, margin_inputs, weakest_kernel
from pipeline.align.params import (
    NEG_INF,
    AlignParams,
)

if TYPE_CHECKING:  # Band lives in pipeline.align, which imports this module
    from pipeline.align import Band
    from pipeline.align.evidence import Unlinked



def band_similarities(
    src_ov: np.ndarray,
    tgt_ov: np.ndarray,
    band: Band,
    types: Sequence[tuple[int, int]],
    block_rows: int = 64,
) -> np.ndarray:
    """Cosine of the two overlap embeddings of every bead (a, b) ending at every band cell.

    Returns (len(types), band.size) float32; NaN where the bead does not fit (runs past the
    start) and for skip types. Computed block by block with small matrix products, so the
    cost is O(cells * d) and no N x M matrix exists.
    """
    n, m = band.n, band.m
    K = src_ov.shape[0]
    sims = np.full((len(types), band.size), np.nan, dtype=np.float32)
    for i0 in range(0, n + 1, block_rows):
        i1 = min(n + 1, i0 + block_rows)
        start, stop = band.offset[i0], band.offset[i1]
        rows = np.repeat(np.arange(i0, i1), band.width[i0:i1])
        cols = band.lo[rows] + (np.arange(start, stop) - band.offset[rows])
        c0, c1 = int(band.lo[i0]), int(band.lo[i1 - 1] + band.width[i1 - 1])  # col range
        # one product per block for every (a, b): a few big BLAS calls beat many small ones
        s_lo, s_hi = max(0, i0 - K), min(n, i1)
        t_lo, t_hi = max(0, c0 - K), min(m, c1)
        if s_hi <= s_lo or t_hi <= t_lo:
            continue
        src_block = src_ov[:, s_lo:s_hi].reshape(-1, src_ov.shape[2])
        tgt_block = tgt_ov[:, t_lo:t_hi].reshape(-1, tgt_ov.shape[2])
        prod = (src_block @ tgt_block.T).reshape(K, s_hi - s_lo, tgt_ov.shape[0], t_hi - t_lo)
        for t, (a, b) in enumerate(types):
            if a == 0 or b == 0:
                continue
            # sims[t, cell] = prod[a-1, row-a, b-1, col-b] where the bead fits, else NaN
            gather_kernel(sims[t, start:stop], prod, rows, cols, a, b, n, m, s_lo, t_lo)
    return sims


def length_term(src_len: np.ndarray, tgt_len: np.ndarray, ratio: float) -> np.ndarray:
    """log2(1 + rho) - 1 with rho = min/max of src length and ratio * tgt length: 0 for a
    perfect length match, -1 when one side is empty. Bertalign's length penalty, shifted so
    it is a penalty rather than a factor (a factor would shrink negative margins)."""
    x = np.asarray(src_len, dtype=np.float32)
    y = np.asarray(tgt_len, dtype=np.float32) * np.float32(ratio)
    big = np.maximum(x, y)
    rho = np.where(big > 0, np.minimum(x, y) / np.where(big > 0, big, 1.0), 1.0)
    return np.log2(np.float32(1.0) + rho) - np.float32(1.0)


def cell_scores(
    sims: np.ndarray,
    band: Band,
    types: Sequence[tuple[int, int]],
    src_hub: np.ndarray,
    tgt_hub: np.ndarray,
    src_len: np.ndarray,
    tgt_len: np.ndarray,
    ratio: float,
    scale: float,
    params: AlignParams,
    unlinked: Unlinked | None = None,
    structure: dict[int, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated score of each bead type at each band cell, and its raw margin.

    score = margin / scale + length_weight * length_term,
    times (a+b)/2 where negative for merged beads, minus the support
    shortfall of merged beads (where a sentence counts weaker by its lexical deficit,
    ``unlinked``: pipeline.align.evidence), plus the structure term (``structure``: per
    type, the weighted pipeline.align.anchors.anchor_terms of the band cells), and for
    2-2 beads at least the crossed-pair (swap) score; skips score ``skip_penalty``.
    ``margin`` = cosine minus the mean of the two sides' hubness (pipeline.align.margins).
    """
    rows = band.cell_rows()
    cols = band.cell_cols()
    src_cum = np.concatenate([[0.0], np.cumsum(src_len, dtype=np.float64)])
    tgt_cum = np.concatenate([[0.0], np.cumsum(tgt_len, dtype=np.float64)])
    scores = np.full(sims.shape, NEG_INF, dtype=np.float32)
    margins = np.zeros(sims.shape, dtype=np.float32)
    src_hub32 = np.nan_to_num(src_hub).astype(np.float32)
    tgt_hub32 = np.nan_to_num(tgt_hub).astype(np.float32)
    for t, (a, b) in enumerate(types):
        if a == 0 or b == 0:
            scores[t] = params.skip_penalty
            continue
        # cells where the bead fits: margin and lengths (pipeline.align.kernels)
        ok, marg, lx, ly = margin_inputs(
            sims[t], rows, cols, src_hub32[a - 1], tgt_hub32[b - 1], src_cum, tgt_cum, a, b,
            True,
        )  # fmt: skip
        score = marg / np.float32(scale) + params.length_weight * length_term(lx, ly, ratio)
        if a + b > 2:
            score = np.where(score < 0, score * ((a + b) / 2), score)
        scores[t, ok] = score
        margins[t, ok] = marg
    if params.support_weight > 0:
        subtract_support_shortfall(
            scores, margins, sims, band, types, rows, cols, scale, params, unlinked
        )
    for t, term in (structure or {}).items():
        scores[t] += term
    if params.swap_floor is not None and (2, 2) in types and (1, 1) in types:
        score_swaps(scores, band, types, rows, cols, params.swap_floor)
    return scores, margins



# ------------------------------------------------------------------------------------------
# The parts of a bead's score that look at its sentences one by one (pipeline.align).
#
# Pure functions over the band's flat cell arrays, kept out of align.py so that module does
# not keep growing: the *support* term (each sentence of a merged side must match the other
# side on its own, and, with pipeline.align.evidence, share a word, number or symbol with it) and
# the *swap* score of 2-2 beads (two crossed 1-1 pairs).
# ------------------------------------------------------------------------------------------

def score_swaps(
    scores: np.ndarray,
    band: Band,
    types: Sequence[tuple[int, int]],
    rows: np.ndarray,
    cols: np.ndarray,
    floor: float,
) -> None:
    """A 2-2 bead also scores as two *crossed* pairs (x1-y2, x2-y1) when both match.

    Translators reorder clauses across a sentence boundary; a monotone aligner can only
    express that as a 2-2 bead, and the embedding of the two concatenations is a weak
    witness (encoders are order-sensitive). The crossed 1-1 scores are the direct
    evidence: where both are above ``floor`` the 2-2 bead scores at least their mean.
    """
    t22, t11 = types.index((2, 2)), types.index((1, 1))
    lo, width, offset = band.lo, band.width, band.offset
    one = scores[t11]

    def score_at(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        rr = np.clip(r, 0, band.n)
        valid = (r >= 0) & (c >= lo[rr]) & (c < lo[rr] + width[rr])
        flat = offset[rr] + np.where(valid, c - lo[rr], 0)
        return np.where(valid, one[flat], -np.inf)

    first = score_at(rows - 1, cols)  # src i-2 with tgt j-1
    second = score_at(rows, cols - 1)  # src i-1 with tgt j-2
    crossed = np.where(np.minimum(first, second) > floor, 0.5 * (first + second), -np.inf)
    ok = np.isfinite(scores[t22])
    scores[t22] = np.where(ok, np.maximum(scores[t22], crossed), scores[t22])


def subtract_support_shortfall(
    scores: np.ndarray,
    margins: np.ndarray,
    sims: np.ndarray,
    band: Band,
    types: Sequence[tuple[int, int]],
    rows: np.ndarray,
    cols: np.ndarray,
    scale: float,
    params: Any,
    unlinked: Unlinked | None = None,
) -> None:
    """How far the weakest sentence of a merged bead falls below ``floor``.

    A merged bead is scored by one embedding of the concatenation, which hardly changes
    when an unrelated sentence (a translator's insertion) is glued on. Each sentence of the
    merged side must therefore also match the other side's whole text on its own: its
    calibrated margin against that text is read off the (a, 1) / (1, b) cells of the band.
    Subtracts support_weight * max(0, support_floor - weakest) from ``scores`` in place
    (nothing for 1-1 beads, skips and sentences outside the band). A sentence flagged in
    ``unlinked`` is the lexical deficit of each merged sentence in calibrated units
    (pipeline.align.evidence.LexicalSupport.deficits: positive without a shared word, number
    or name, negative with one); that sentence counts that much weaker.
    """
    shift = np.float32(scale)
    no_flags: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    index = {ty: t for t, ty in enumerate(types)}
    floor = params.support_floor
    lo, width, offset = band.lo, band.width, band.offset
    ints = [np.ascontiguousarray(x, dtype=np.int64) for x in (rows, cols, lo, width, offset)]
    seen: dict[int, np.ndarray] = {}

    def finite(t: int) -> np.ndarray:  # where type t has a similarity, once per type
        if t not in seen:
            seen[t] = np.isfinite(sims[t])
        return seen[t]

    for t, (a, b) in enumerate(types):
        if a == 0 or b == 0 or (a == 1 and b == 1):
            continue
        weakest = np.full(band.size, np.inf, dtype=np.float32)
        src_flags, tgt_flags = (unlinked or {}).get(t, no_flags)
        # the weakest single sentence of each merged side (pipeline.align.kernels)
        if b >= 2 and (a, 1) in index:
            part = margins[index[(a, 1)]]
            ok_part = finite(index[(a, 1)])
            flags = _stack(tgt_flags, b, band.size)
            weakest_kernel(weakest, part, ok_part, *ints, b, False, flags, shift)
        if a >= 2 and (1, b) in index:
            part = margins[index[(1, b)]]
            ok_part = finite(index[(1, b)])
            flags = _stack(src_flags, a, band.size)
            weakest_kernel(weakest, part, ok_part, *ints, a, True, flags, shift)
        shortfall = floor - weakest / scale
        shortfall = np.where(np.isfinite(shortfall), np.maximum(shortfall, 0.0), 0.0)
        scores[t] -= (params.support_weight * shortfall).astype(np.float32)


def _stack(flags: list[np.ndarray], count: int, cells: int) -> np.ndarray:
    """(count, cells) float32 array of a side's lexical deficits (pipeline.align.evidence;
    calibrated units, negative for a linked sentence); (0, cells) when there are none."""
    if not flags:
        return np.zeros((0, cells), dtype=np.float32)
    return np.ascontiguousarray(np.stack(flags[:count]), dtype=np.float32)
