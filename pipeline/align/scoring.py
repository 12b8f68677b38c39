"""Bead scores inside the band: margin-corrected similarities, the length term, and the
per-cell score of every bead shape."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.align.band import Band
from pipeline.align.cellkernels import gather_kernel, margin_inputs
from pipeline.align.lexical import (
    Unlinked,
)
from pipeline.align.margins import (
    adjacent_hub,
)
from pipeline.align.params import (
    NEG_INF,
    AlignParams,
)
from pipeline.align.support import score_swaps, subtract_support_shortfall


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

    score = margin / scale + length_weight * length_term - merge_penalty * (a + b - 2),
    times (a+b)/2 where negative for merged beads (``scale_negative``), minus the support
    shortfall of merged beads (where a sentence counts weaker by its lexical deficit,
    ``unlinked``: pipeline.align.links), plus the structure term (``structure``: per
    type, the weighted pipeline.align.anchors.anchor_terms of the band cells), and for
    2-2 beads at least the crossed-pair (swap) score; skips score ``skip_penalty``.
    ``margin`` = cosine minus the mean of the two sides' hubness (pipeline.align.margins;
    the cosine alone with margin="none").
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
        # cells where the bead fits: margin and lengths (pipeline.align.cellkernels)
        ok, marg, lx, ly = margin_inputs(
            sims[t], rows, cols, src_hub32[a - 1], tgt_hub32[b - 1], src_cum, tgt_cum, a, b,
            params.margin in ("knn", "mean"),
        )  # fmt: skip
        if params.margin == "adjacent":
            marg = marg - adjacent_hub(sims, band, types, a, b, rows[ok], cols[ok])
        score = (
            marg / np.float32(scale)
            + params.length_weight * length_term(lx, ly, ratio)
            - params.merge_penalty * max(0, a + b - 2)
        )
        if params.scale_negative and a + b > 2:
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
