"""Compiled per-cell loops of the scoring (numba): lexical flags, the weakest sentence of
a merged bead, the gather of band similarities, and running sums of sentence vectors.

Why: each was numpy over the band's flat cell arrays, built of many passes of fancy
indexing with temporaries (a dozen per bead type and sentence of the bead); together
they were about a third of the aligner's own time on real text (issue 9's 5% target).
Each loop here does the same comparisons, copies and float32 operations, in the same
order, as the numpy code it replaces, so scores are bit-identical
(tests/align/test_cellkernels.py keeps the numpy versions as the reference). The
arithmetic that depends on numpy's scalar typing (the scale may be a Python or a numpy
float) stays in numpy, in the callers.
"""

from __future__ import annotations

import math

import numpy as np

from pipeline.align.kernels import _compiled


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
    (pipeline.align.lexical.band_flags): row src_slot[t] + q of src_flags (a >= 2)
    for src sentence rows-1-q, row tgt_slot[t] + k of tgt_flags (b >= 2) for tgt
    sentence cols-1-k (slots -1 where a side is not merged: no rows). A pair outside the
    band, or with a row < 1, counts as linked (no evidence against).

    With ``linked_mode`` the flags say the opposite, for pipeline.align.links: a sentence
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
    in place (pipeline.align.support.subtract_support_shortfall): the k-th tgt sentence
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
