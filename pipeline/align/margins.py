"""Margins: what a bead's cosine is measured against.

Why: plain cosine favours "hub" sentences that are similar to everything (short formulaic
lines, numbers, long texts), and its level differs between encoders and between literal and
free translation. A margin subtracts what the same text scores against its neighbourhood.

The margin is the mean similarity of each side's text to the other side's single
sentences inside the search window (``hub_window``), plus ``hub_z`` standard deviations.
Unrelated text scores about -hub_z * std, a correct pair well above 0, and a *partial*
match (one half of a sentence a translator split in two) stays positive, so the
one-to-many bead can win over "1-1 plus a skip". Two alternatives were measured and
dropped (docs/experiments/aligner-history.md): the kNN margin of Artetxe & Schwenk (built
for mining, where only the ranking matters: the true partner is among the k, so every
partial match goes negative; on MAC-Dev it left 168 sentences wrongly unaligned) and
Bertalign's margin against the adjacent sentences.

Everything is read off similarities the DP computes anyway, or from small block products
around the expected position, so the cost stays linear in the number of sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.align.kernels import column_ranks, scatter_finite

if TYPE_CHECKING:  # Band lives in pipeline.align, which imports this module
    from pipeline.align import Band

def hub_k(params: Any) -> int:
    """Neighbours averaged for the margin: the whole window around the expected position."""
    return 2 * params.hub_window + 1 if params.hub_window is not None else 1 << 20


def _topk_mean(
    groups: np.ndarray, values: np.ndarray, n_groups: int, k: int, z: float = 0.0
) -> np.ndarray:
    """Mean of the k largest finite values in each group (NaN where a group has none);
    with ``z``, plus z times their standard deviation."""
    ok = np.isfinite(values)
    groups, values = groups[ok], values[ok]
    out = np.full(n_groups, np.nan, dtype=np.float64)
    if len(values) == 0:
        return out
    order = np.lexsort((-values, groups))
    g = groups[order]
    v = values[order].astype(np.float64)
    first = np.searchsorted(g, g, side="left")
    rank = np.arange(len(g)) - first
    keep = rank < k
    total = np.bincount(g[keep], weights=v[keep], minlength=n_groups)
    count = np.bincount(g[keep], minlength=n_groups)
    has = count > 0
    out[has] = total[has] / count[has]
    if z:
        squares = np.bincount(g[keep], weights=v[keep] ** 2, minlength=n_groups)
        var = np.zeros(n_groups)
        var[has] = np.maximum(squares[has] / count[has] - out[has] ** 2, 0.0)
        out[has] += z * np.sqrt(var[has])
    return out


def knn_hubness(
    sims: np.ndarray,
    band: Band,
    types: Sequence[tuple[int, int]],
    max_overlap: int,
    k: int,
    window: int | None = None,
    z: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean similarity of each overlap embedding to its k nearest single sentences on the
    other side, inside the search window (the margin's "neighbourhood"); plus ``z`` times
    their standard deviation.

    Returns (src_hub (K, n+1), tgt_hub (K, m+1)) indexed by bead *end* position: src_hub[a-1, i]
    belongs to the src overlap covering sentences i-a..i-1. Read off the (a, 1) and (1, b)
    similarities already computed for the band, so it costs no extra products.

    ``window``: only cells within this many columns of the row's centre count (the band's
    middle, or the diagonal when the band is the full matrix). A document that repeats a
    sentence (boilerplate, a long text built of similar parts) would otherwise find its
    copies among the k nearest, and the margin of every correct pair would drop to zero.
    """
    rows = band.cell_rows()
    cols = band.cell_cols()
    if window is not None:
        if np.all(band.width == band.m + 1):
            centre = np.arange(band.n + 1) * (band.m / max(band.n, 1))
        else:
            centre = band.lo + (band.width - 1) / 2.0
        far = np.abs(cols - centre[rows]) > window
    else:
        far = np.zeros(0, dtype=bool)
    src_hub = np.full((max_overlap, band.n + 1), np.nan)
    tgt_hub = np.full((max_overlap, band.m + 1), np.nan)
    index = {ty: t for t, ty in enumerate(types)}
    # position of each cell inside its row and inside its column (the band is contiguous
    # in both directions), for the padded top-k below
    row_pos = np.arange(band.size) - band.offset[rows]
    col_pos = column_ranks(np.ascontiguousarray(cols, dtype=np.int64), band.m + 1)

    def near(t: int) -> np.ndarray:  # the similarities of one type, far cells NaN
        return np.where(far, np.nan, sims[t]) if far.any() else sims[t]

    for a in range(1, max_overlap + 1):
        if (a, 1) in index:
            src_hub[a - 1] = _padded_topk_mean(rows, row_pos, near(index[(a, 1)]), band.n + 1, k, z)
    for b in range(1, max_overlap + 1):
        if (1, b) in index:
            tgt_hub[b - 1] = _padded_topk_mean(cols, col_pos, near(index[(1, b)]), band.m + 1, k, z)
    return src_hub, tgt_hub


def _padded_topk_mean(
    groups: np.ndarray,
    pos: np.ndarray,
    values: np.ndarray,
    n_groups: int,
    k: int,
    z: float = 0.0,
) -> np.ndarray:
    """:func:`_topk_mean` via a padded (groups x widest) matrix and np.partition: much
    faster when groups are of similar size; falls back to sorting when one group is so wide
    that padding would cost more than 4x the cells. With ``z``, mean + z * std of the k."""
    width = int(pos.max()) + 1 if len(pos) else 0
    if width * n_groups > 4 * len(values) + 1024:
        return _topk_mean(groups, values, n_groups, k, z)
    k = max(1, min(k, width))
    pad = np.full((n_groups, max(width, k)), -np.inf, dtype=np.float32)
    scatter_finite(pad, groups, pos, values)  # pad[group, pos] = value where finite
    top = -np.partition(-pad, k - 1, axis=1)[:, :k]
    valid = np.isfinite(top)
    count = valid.sum(axis=1)
    total = np.where(valid, top, 0.0).sum(axis=1)
    mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    if z:
        dev = np.where(valid, top - np.nan_to_num(mean)[:, None], 0.0)
        std = np.sqrt((dev**2).sum(axis=1) / np.maximum(count, 1))
        mean = mean + z * std
    return mean


def hubness_against(
    overlaps: np.ndarray,
    other: np.ndarray,
    k: int,
    centre: np.ndarray | None = None,
    window: int | None = None,
    block_rows: int = 256,
    z: float = 0.0,
) -> np.ndarray:
    """kNN hubness of overlap embeddings against single sentences of a wider other side.

    overlaps: (K, n, d); other: (M, d). Returns (K, n+1) indexed by bead end position, like
    :func:`knn_hubness`. Used where the neighbourhood must be wider than the piece being
    aligned (a paragraph group inside a document). With ``centre`` (n,) — where on the other
    side each overlap's partner is expected — and ``window``, only other sentences within
    ``window`` positions count (see ``AlignParams.hub_window``) and the cost is
    O(n * (block_rows + window)); without, all M count.
    """
    K, n, _ = overlaps.shape
    out = np.full((K, n + 1), np.nan)
    m = len(other)
    if n == 0 or m == 0:
        return out
    for a in range(1, K + 1):
        for s0 in range(0, n - a + 1, block_rows):
            s1 = min(n - a + 1, s0 + block_rows)
            if centre is None or window is None:
                c0, c1 = 0, m
            else:
                c0 = max(0, int(np.floor(centre[s0:s1].min())) - window)
                c1 = min(m, int(np.ceil(centre[s0:s1].max())) + window + 1)
                c0 = min(c0, max(0, c1 - 1))
            sims = overlaps[a - 1, s0:s1] @ other[c0:c1].T
            if centre is not None and window is not None:
                cols = np.arange(c0, c1)[None, :]
                far = np.abs(cols - centre[s0:s1, None]) > window
                far[np.all(far, axis=1)] = False  # a row with no neighbour keeps them all
                sims = np.where(far, -np.inf, sims)
            kk = min(k, sims.shape[1])
            top = np.partition(sims, sims.shape[1] - kk, axis=1)[:, -kk:]
            valid = np.isfinite(top)
            count = np.maximum(valid.sum(axis=1), 1)
            mean = np.where(valid, top, 0.0).sum(axis=1) / count
            if z:
                dev = np.where(valid, top - mean[:, None], 0.0)
                mean = mean + z * np.sqrt((dev**2).sum(axis=1) / count)
            out[a - 1, s0 + a : s1 + a] = mean
    return out
