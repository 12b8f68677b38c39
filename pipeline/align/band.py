"""The search band: for each source row, the target columns the DP may visit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class Band:
    """Cells searched by the DP: for each row i (0..n) the columns lo[i] .. lo[i]+width[i]-1.

    Stored ragged (flat arrays with row offsets) so memory is proportional to the number of
    cells, even where one row is wide (a long insertion on the target side).
    """

    lo: np.ndarray  # (n+1,) int64
    width: np.ndarray  # (n+1,) int64
    offset: np.ndarray  # (n+2,) int64, offset[i] = start of row i in flat arrays
    n: int
    m: int

    @property
    def size(self) -> int:
        return int(self.offset[-1])

    def cell_rows(self) -> np.ndarray:
        return np.repeat(np.arange(self.n + 1), self.width)

    def cell_cols(self) -> np.ndarray:
        rows = self.cell_rows()
        return self.lo[rows] + (np.arange(self.size) - self.offset[rows])


def make_band(lo: np.ndarray, hi: np.ndarray, n: int, m: int) -> Band:
    """Band from inclusive column bounds per row (clipped to 0..m, start and end included)."""
    lo = np.clip(np.asarray(lo, dtype=np.int64), 0, m)
    hi = np.clip(np.asarray(hi, dtype=np.int64), 0, m)
    lo[0] = 0
    hi[n] = m
    hi = np.maximum(hi, lo)
    width = hi - lo + 1
    offset = np.concatenate([[0], np.cumsum(width)]).astype(np.int64)
    return Band(lo=lo, width=width, offset=offset, n=n, m=m)


def full_band(n: int, m: int) -> Band:
    return make_band(np.zeros(n + 1, np.int64), np.full(n + 1, m, np.int64), n, m)


def band_around_path(
    path: Sequence[tuple[int, int]], n: int, m: int, half_width: int, scale: int = 1
) -> Band:
    """Band of +-half_width sentences around a monotone path of (row, col) DP points.

    ``scale`` projects a coarse path onto a finer grid (2 for one halving). For each row the
    path's column span is taken over rows i-w..i+w and widened by w on both sides.
    """
    rows = np.array([p[0] for p in path], dtype=np.int64) * scale
    cols = np.array([p[1] for p in path], dtype=np.int64) * scale
    rows = np.minimum(rows, n)
    cols = np.minimum(cols, m)
    # column span of the path at each row: min col of points at or after the row, max col of
    # points at or before it (the path is monotone, so these are exact for a staircase).
    grid = np.arange(n + 1)
    first_after = np.searchsorted(rows, grid, side="left")
    last_before = np.searchsorted(rows, grid, side="right") - 1
    col_lo = cols[np.clip(first_after, 0, len(cols) - 1)]
    col_lo = np.where(first_after < len(cols), col_lo, m)
    col_hi = cols[np.clip(last_before, 0, len(cols) - 1)]
    col_hi = np.where(last_before >= 0, col_hi, 0)
    # the previous point's col bounds the low side too (staircase between path points)
    col_lo = np.minimum(col_lo, np.where(last_before >= 0, cols[np.clip(last_before, 0, None)], 0))
    col_hi = np.maximum(col_hi, col_lo)
    w = half_width
    lo = col_lo[np.clip(grid - w, 0, n)] - w - scale
    hi = col_hi[np.clip(grid + w, 0, n)] + w + scale
    return make_band(lo, hi, n, m)
