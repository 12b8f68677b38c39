"""Compiled loops of the aligner (numba): the banded DP, the lexical link test, and the
per-cell loops of the scoring (lexical flags, the weakest sentence of a merged bead, the
gather of band similarities, running sums of sentence vectors).

Why: each is a loop over band cells whose body is a handful of scalar operations. In
numpy they cost one fancy-indexing pass per row (the DP), one Python set operation per
cell (the links) or a dozen temporaries per bead type (the scoring), which made the
aligner's own time a large share of the encoder's on real text. Compiled, each is a few
milliseconds. Bertalign and Vecalign compile their DP too (numba and Cython).

The kernels reproduce the numpy formulation they replace operation for operation, in the
same floating-point order, so the alignments are bit-identical (tests/align/test_kernels.py
and tests/align/test_cellkernels.py check them against numpy references). Arithmetic that
depends on numpy's scalar typing (the scale may be a Python or a numpy float) stays in the
callers.

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
    CSR matrix of sorted token ids (pipeline.align.evidence); two merge walks a cell."""
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



# ------------------------------------------------------------------------------------------
# Compiled per-cell loops of the scoring (numba): lexical flags, the weakest sentence of
# a merged bead, the gather of band similarities, and running sums of sentence vectors.
#
# Why: each was numpy over the band's flat cell arrays, built of many passes of fancy
# indexing with temporaries (a dozen per bead type and sentence of the bead); together
# they were about a third of the aligner's own time on real text (issue 9's 5% target).
# Each loop here does the same comparisons, copies and float32 operations, in the same
# order, as the numpy code it replaces, so scores are bit-identical
# (tests/align/test_cellkernels.py keeps the numpy versions as the reference). The
# arithmetic that depends on numpy's scalar typing (the scale may be a Python or a numpy
# float) stays in numpy, in the callers.
# ------------------------------------------------------------------------------------------

@_compiled
def _cell_hits(
    hits: np.ndarray,
    link: np.ndarray,
    r: int,
    c: int,
    lo: np.ndarray,
    width: np.ndarray,
    offset: np.ndarray,
    n: int,
    linked_mode: bool,
) -> None:
    """hits[q, k]: src sentence r-1-q and tgt sentence c-1-k are linked (a pair outside
    the band: True, no evidence against; with ``linked_mode`` False, no evidence for)."""
    for q in range(hits.shape[0]):
        rq = r - q
        rr = min(max(rq, 0), n)
        for k in range(hits.shape[1]):
            ck = c - k
            inside = rq >= 1 and ck >= lo[rr] and ck < lo[rr] + width[rr]
            if linked_mode:
                hits[q, k] = inside and ck >= 1 and link[offset[rr] + ck - lo[rr]]
            else:
                hits[q, k] = link[offset[rr] + ck - lo[rr]] if inside else True


@_compiled
def _flag(hit: bool, linkable: bool, other_side_linkable: bool, linked_mode: bool) -> bool:
    """A sentence's flag: linked (linked_mode), or linkable, facing a linkable sentence
    and without a link (no evidence to miss otherwise)."""
    if linked_mode:
        return hit
    return linkable and other_side_linkable and not hit


@_compiled
def unlinked_kernel(
    link: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    lo: np.ndarray,
    width: np.ndarray,
    offset: np.ndarray,
    src_ok: np.ndarray,
    tgt_ok: np.ndarray,
    type_a: np.ndarray,
    type_b: np.ndarray,
    src_slot: np.ndarray,
    tgt_slot: np.ndarray,
    linked_mode: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Flags of every merged bead type (type_a[t], type_b[t]) at every cell, in one pass
    (pipeline.align.evidence.band_flags): row src_slot[t] + q of src_flags (a >= 2)
    for src sentence rows-1-q, row tgt_slot[t] + k of tgt_flags (b >= 2) for tgt
    sentence cols-1-k (slots -1 where a side is not merged: no rows). A pair outside the
    band, or with a row < 1, counts as linked (no evidence against).

    With ``linked_mode`` the flags say the opposite, for pipeline.align.evidence: a sentence
    shares a link with some sentence of the bead's other side; pairs outside the band
    (or with a row or column < 1) count as not linked (no evidence for), and
    ``src_ok``/``tgt_ok`` are not consulted."""
    n, m = len(src_ok), len(tgt_ok)
    cells, n_types = len(rows), len(type_a)
    big_a, big_b = max(1, type_a.max()), max(1, type_b.max())
    n_src, n_tgt = 0, 0
    for t in range(n_types):
        if src_slot[t] >= 0:
            n_src = max(n_src, src_slot[t] + type_a[t])
        if tgt_slot[t] >= 0:
            n_tgt = max(n_tgt, tgt_slot[t] + type_b[t])
    src_flags = np.zeros((n_src, cells), dtype=np.bool_)
    tgt_flags = np.zeros((n_tgt, cells), dtype=np.bool_)
    hits = np.zeros((big_a, big_b), dtype=np.bool_)
    src_at = np.zeros(big_a, dtype=np.bool_)
    tgt_at = np.zeros(big_b, dtype=np.bool_)
    for x in range(cells):
        r, c = rows[x], cols[x]
        for q in range(big_a):
            i = r - 1 - q
            src_at[q] = i >= 0 and i < n and src_ok[i]
        for k in range(big_b):
            j = c - 1 - k
            tgt_at[k] = j >= 0 and j < m and tgt_ok[j]
        _cell_hits(hits, link, r, c, lo, width, offset, n, linked_mode)
        for t in range(n_types):
            a, b = type_a[t], type_b[t]
            if a == 0 or b == 0 or (a == 1 and b == 1):
                continue
            src_any = False
            for q in range(a):
                src_any = src_any or src_at[q]
            tgt_any = False
            for k in range(b):
                tgt_any = tgt_any or tgt_at[k]
            if tgt_slot[t] >= 0:
                for k in range(b):
                    hit = False
                    for q in range(a):
                        hit = hit or hits[q, k]
                    tgt_flags[tgt_slot[t] + k, x] = _flag(hit, tgt_at[k], src_any, linked_mode)
            if src_slot[t] >= 0:
                for q in range(a):
                    hit = False
                    for k in range(b):
                        hit = hit or hits[q, k]
                    src_flags[src_slot[t] + q, x] = _flag(hit, src_at[q], tgt_any, linked_mode)
    return src_flags, tgt_flags


@_compiled
def weakest_kernel(
    weakest: np.ndarray,
    part: np.ndarray,
    ok_part: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    lo: np.ndarray,
    width: np.ndarray,
    offset: np.ndarray,
    count: int,
    along_rows: bool,
    flags: np.ndarray,
    shift: np.float32,
) -> None:
    """weakest = min(weakest, part at the cell of each single sentence of the merged side)
    in place (pipeline.align.scoring.subtract_support_shortfall): the k-th tgt sentence
    is the cell (row, col - k), or with ``along_rows`` the k-th src sentence is
    (row - k, col); cells outside the band or where ``ok_part`` is False are skipped.
    With ``flags`` (count x cells, else 0 rows) a flagged sentence counts ``shift``
    weaker. float32 throughout; np.minimum's NaN rule."""
    use_flags = flags.shape[0] > 0
    for x in range(len(rows)):
        w = weakest[x]
        for k in range(count):
            r, c = rows[x], cols[x]
            if along_rows:
                r = r - k
                if r < 0:
                    continue
            else:
                c = c - k
            if c < lo[r] or c >= lo[r] + width[r]:
                continue
            flat = offset[r] + c - lo[r]
            if not ok_part[flat]:
                continue
            value = part[flat]
            if use_flags:
                value = value - shift * np.float32(flags[k, x])
            if math.isnan(w) or math.isnan(value):
                w = np.float32(np.nan)
            elif value < w:
                w = value
        weakest[x] = w


@_compiled
def gather_kernel(
    out: np.ndarray,
    prod: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    a: int,
    b: int,
    n: int,
    m: int,
    s_lo: int,
    t_lo: int,
) -> None:
    """out[x] = prod[a-1, rows-a-s_lo, b-1, cols-b-t_lo] where the bead fits the
    documents, NaN elsewhere (pipeline.align.scoring.band_similarities)."""
    for x in range(len(rows)):
        si = rows[x] - a
        ti = cols[x] - b
        if si >= 0 and ti >= 0 and si + a <= n and ti + b <= m:
            out[x] = prod[a - 1, si - s_lo, b - 1, ti - t_lo]
        else:
            out[x] = np.float32(np.nan)


@_compiled
def running_sum(emb: np.ndarray) -> np.ndarray:
    """Row-wise running sum with a zero row first, in float32, adding row by row (what
    np.cumsum(emb, axis=0, dtype=float32) does, without its per-element stride cost)."""
    n, d = emb.shape
    out = np.zeros((n + 1, d), dtype=np.float32)
    if n:
        out[1] = emb[0]
    for i in range(1, n):
        for j in range(d):
            out[i + 1, j] = out[i, j] + emb[i, j]
    return out


@_compiled
def column_ranks(cols: np.ndarray, n_cols: int) -> np.ndarray:
    """Position of each band cell inside its column, counted down the rows (cells are
    stored row by row), i.e. the rank np.lexsort((rows, cols)) gives within a column."""
    seen = np.zeros(n_cols, dtype=np.int64)
    out = np.empty(len(cols), dtype=np.int64)
    for x in range(len(cols)):
        out[x] = seen[cols[x]]
        seen[cols[x]] += 1
    return out


@_compiled
def margin_inputs(
    sim: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    src_hub: np.ndarray,
    tgt_hub: np.ndarray,
    src_cum: np.ndarray,
    tgt_cum: np.ndarray,
    a: int,
    b: int,
    use_hub: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For the cells where bead (a, b) has a similarity (finite ``sim``): their indices,
    the margin (sim minus the mean of the two float32 hubness rows, with ``use_hub``,
    else sim) and the character lengths of both sides as float32
    (pipeline.align.scoring.cell_scores)."""
    count = 0
    for x in range(len(sim)):
        if math.isfinite(sim[x]):
            count += 1
    idx = np.empty(count, dtype=np.int64)
    marg = np.empty(count, dtype=np.float32)
    lx = np.empty(count, dtype=np.float32)
    ly = np.empty(count, dtype=np.float32)
    half = np.float32(0.5)
    out = 0
    for x in range(len(sim)):
        if not math.isfinite(sim[x]):
            continue
        r, c = rows[x], cols[x]
        idx[out] = x
        if use_hub:
            marg[out] = sim[x] - half * (src_hub[r] + tgt_hub[c])
        else:
            marg[out] = sim[x]
        lx[out] = np.float32(src_cum[r] - src_cum[r - a])
        ly[out] = np.float32(tgt_cum[c] - tgt_cum[c - b])
        out += 1
    return idx, marg, lx, ly


def flag_slots(types: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """First row of each type's flags in unlinked_kernel's outputs, per side: a merged side
    (two sentences or more) of a merged type gets one row per sentence, else -1."""
    src_slot = np.full(len(types), -1, dtype=np.int64)
    tgt_slot = np.full(len(types), -1, dtype=np.int64)
    n_src = n_tgt = 0
    for t, (a, b) in enumerate(types):
        if a == 0 or b == 0 or (a == 1 and b == 1):
            continue
        if a >= 2:
            src_slot[t], n_src = n_src, n_src + a
        if b >= 2:
            tgt_slot[t], n_tgt = n_tgt, n_tgt + b
    return src_slot, tgt_slot


@_compiled
def scatter_finite(
    pad: np.ndarray, groups: np.ndarray, pos: np.ndarray, values: np.ndarray
) -> None:
    """pad[groups[x], pos[x]] = values[x] for every finite value (the padded matrix of
    pipeline.align.margins._padded_topk_mean); the (group, pos) pairs are distinct."""
    for x in range(len(values)):
        if math.isfinite(values[x]):
            pad[groups[x], pos[x]] = values[x]
