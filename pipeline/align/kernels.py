"""Compiled loops of the aligner (numba): the banded DP and the lexical link test.

Why: both are loops over band cells whose body is a handful of scalar operations. In
numpy they cost one fancy-indexing pass per row (the DP) or one Python set operation per
cell (the links), which made the aligner's own time about 12% of the encoder's on real
text (issue 9 asks for at most 5%). Compiled, each is a few milliseconds. Bertalign and
Vecalign compile their DP too (numba and Cython).

The kernels reproduce the numpy formulation they replace operation for operation, in
the same floating-point order, so the alignments are bit-identical
(tests/align/test_kernels.py checks them against the numpy reference).

Compilation (a few seconds) happens once per machine: ``cache=True`` keeps the machine
code next to this file (``__pycache__``), or in the user's cache folder when the package
folder is read-only (numba's own fallback; ``NUMBA_CACHE_DIR`` chooses another place).
Where neither can be written the kernels are compiled in each process instead.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numba
import numpy as np

log = logging.getLogger(__name__)


def _compiled(func: Callable[..., Any]) -> Any:
    """``numba.njit(cache=True)``, or without the on-disk cache when numba finds no
    writable place for it (the results are the same; only the start-up is slower)."""
    try:
        return numba.njit(cache=True)(func)
    except RuntimeError as err:  # numba: "cannot cache function ...: no locator available"
        log.warning("numba cannot cache %s (%s): compiling it in each process", func, err)
        return numba.njit(func)


@_compiled
def _dp_band_kernel(
    scores: np.ndarray,
    lo: np.ndarray,
    width: np.ndarray,
    offset: np.ndarray,
    n: int,
    a_arr: np.ndarray,
    b_arr: np.ndarray,
    ta: np.ndarray,
    skip01: int,
    skip_score: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Best score and back-pointer (bead type) of every band cell.

    Row by row: each cell takes the best of the bead types arriving from earlier rows
    (``ta``, shapes ``a_arr`` x ``b_arr``; ties go to the earliest type, NaN wins, as
    np.argmax), then the in-row 0-1 skips as a running maximum of cand - j * skip,
    as np.maximum.accumulate (NaN propagates). best has one extra -inf cell at the end.
    """
    size = offset[n + 1]
    best = np.full(size + 1, -np.inf)
    back = np.full(size, -1, dtype=np.int8)
    max_w = 0
    for i in range(n + 1):
        max_w = max(max_w, width[i])
    cand = np.empty(max_w)
    arg = np.empty(max_w, dtype=np.int64)
    n_from = len(ta)
    done = np.zeros(max_w, dtype=np.bool_)  # a NaN was met: np.argmax stops there
    for i in range(n + 1):
        w = width[i]
        start = offset[i]
        if i == 0:
            for j in range(w):
                cand[j] = 0.0 if lo[0] + j == 0 else -np.inf
                arg[j] = -1
        else:
            # type by type over the row's cells (sequential reads of scores and best);
            # a later type replaces only when strictly better, as np.argmax keeps the first
            for k in range(n_from):
                prev = i - a_arr[k]
                shift = 0
                p_w = 0
                p_off = 0
                if prev >= 0:
                    shift = lo[i] - lo[prev] - b_arr[k]
                    p_w = width[prev]
                    p_off = offset[prev]
                row = scores[ta[k]]
                for j in range(w):
                    flat = size  # the -inf sentinel
                    pos = shift + j
                    if prev >= 0 and pos >= 0 and pos < p_w:
                        flat = p_off + pos
                    v = best[flat] + np.float64(row[start + j])
                    if k == 0:
                        cand[j] = v
                        arg[j] = ta[0]
                        done[j] = math.isnan(v)
                    elif not done[j] and (v > cand[j] or math.isnan(v)):
                        cand[j] = v
                        arg[j] = ta[k]
                        done[j] = math.isnan(v)
        running = 0.0
        for j in range(w):
            step = np.float64(j) * skip_score
            x = cand[j] - step
            if j == 0:
                running = x
            elif not math.isnan(running) and (math.isnan(x) or x > running):
                running = x
            row_best = running + step
            best[start + j] = row_best
            back[start + j] = skip01 if row_best > cand[j] + 1e-12 else arg[j]
    return best, back


@_compiled
def _trace_back(
    back: np.ndarray,
    lo: np.ndarray,
    offset: np.ndarray,
    n: int,
    m: int,
    type_a: np.ndarray,
    type_b: np.ndarray,
) -> tuple[np.ndarray, int, int]:
    """The path from (n, m) back to (0, 0) as rows (i, j, type), in order; on a broken
    back-pointer, the path so far and the cell where it broke (else -1, -1)."""
    path = np.empty((n + m, 3), dtype=np.int64)
    count = 0
    i, j = n, m
    while i > 0 or j > 0:
        t = back[offset[i] + (j - lo[i])]
        if t < 0:
            return path[:count][::-1].copy(), i, j
        path[count, 0] = i
        path[count, 1] = j
        path[count, 2] = t
        count += 1
        i -= type_a[t]
        j -= type_b[t]
    return path[:count][::-1].copy(), -1, -1


def dp_band_path(
    scores: np.ndarray,
    lo: np.ndarray,
    width: np.ndarray,
    offset: np.ndarray,
    n: int,
    m: int,
    types: list[tuple[int, int]],
) -> list[tuple[int, int, int]]:
    """The best monotone path through a band (see ``pipeline.align.search.dp_band``)."""
    n_types = len(types)
    skip01 = n_types - 1
    size = int(offset[n + 1])
    skip_score = float(scores[skip01, 0]) if size else 0.0
    from_above = [t for t in range(n_types) if types[t][0] > 0]
    a_arr = np.array([types[t][0] for t in from_above], dtype=np.int64)
    b_arr = np.array([types[t][1] for t in from_above], dtype=np.int64)
    ta = np.array(from_above, dtype=np.int64)
    lo = np.ascontiguousarray(lo, dtype=np.int64)
    width = np.ascontiguousarray(width, dtype=np.int64)
    offset = np.ascontiguousarray(offset, dtype=np.int64)
    best, back = _dp_band_kernel(scores, lo, width, offset, n, a_arr, b_arr, ta, skip01, skip_score)
    if not np.isfinite(best[offset[n] + (m - lo[n])]):
        raise RuntimeError("alignment band does not connect start and end")
    type_a = np.array([a for a, _ in types], dtype=np.int64)
    type_b = np.array([b for _, b in types], dtype=np.int64)
    path, bad_i, bad_j = _trace_back(back, lo, offset, n, m, type_a, type_b)
    if bad_i >= 0:
        raise RuntimeError(f"broken back-pointer at ({bad_i}, {bad_j})")
    return [(int(i), int(j), int(t)) for i, j, t in path.tolist()]


@_compiled
def links_kernel(
    rows: np.ndarray,
    cols: np.ndarray,
    sk_ptr: np.ndarray,
    sk_idx: np.ndarray,
    tu_ptr: np.ndarray,
    tu_idx: np.ndarray,
    tk_ptr: np.ndarray,
    tk_idx: np.ndarray,
    su_ptr: np.ndarray,
    su_idx: np.ndarray,
) -> np.ndarray:
    """Link of src sentence rows-1 with tgt sentence cols-1 (False where either is < 1):
    src keys meet tgt units, or tgt keys meet src units. Each side's sets are rows of a
    CSR matrix of sorted token ids (pipeline.align.linkindex); two merge walks a cell."""
    out = np.zeros(len(rows), dtype=np.bool_)
    for x in range(len(rows)):
        r, c = rows[x], cols[x]
        if r < 1 or c < 1:
            continue
        i, j = r - 1, c - 1
        found = False
        for direction in range(2):
            if direction == 0:  # src keys vs tgt units
                p, p1, q, q1 = sk_ptr[i], sk_ptr[i + 1], tu_ptr[j], tu_ptr[j + 1]
                keys, units = sk_idx, tu_idx
            else:  # tgt keys vs src units
                p, p1, q, q1 = tk_ptr[j], tk_ptr[j + 1], su_ptr[i], su_ptr[i + 1]
                keys, units = tk_idx, su_idx
            while p < p1 and q < q1 and not found:
                if keys[p] == units[q]:
                    found = True
                elif keys[p] < units[q]:
                    p += 1
                else:
                    q += 1
            if found:
                break
        out[x] = found
    return out
