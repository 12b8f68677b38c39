"""Vecalign's algorithm, reimplemented for comparison only (no Vecalign package exists on
the registry); the shared DP and overlap embeddings are in :mod:`benchmarks.baselines`,
whose docstring describes both algorithms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.baselines import (
    OverlapEmbeddings,
    banded_dp,
    embed_overlaps,
    full_band,
    trivial_beads,
)
from pipeline.evaluate import BeadPair

# --- Vecalign -----------------------------------------------------------------------


@dataclass
class VecalignParams:
    """Vecalign's defaults (``vecalign.py`` command line)."""

    alignment_max_size: int = 4  # beads x + y <= 4
    del_percentile_frac: float = 0.2
    width_over2: int = 5  # search_buffer_size
    max_size_full_dp: int = 300
    costs_sample_size: int = 20000
    num_samps_for_norm: int = 100
    seed: int = 42


def _norms(v: np.ndarray, other: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    """n = 1 − mean cosine to random vectors of the other side, per overlap and position."""
    layers, size, _ = other.shape
    if size == 0 or samples == 0:
        return np.ones(v.shape[:2], dtype=np.float32)
    per_layer = math.ceil(samples / layers)
    pool = []
    for k in range(layers):
        valid = np.arange(k, size) if k < size else np.arange(size)
        pool.append(other[k, rng.choice(valid, size=per_layer, replace=True)])
    sample = np.concatenate(pool)
    return (1.0 - (v @ sample.T).mean(axis=2)).astype(np.float32)


def _downsample(v: np.ndarray) -> np.ndarray:
    """Sum neighbouring pairs, remove the mean, normalise (Vecalign's coarse level)."""
    n = v.shape[0] // 2
    half = v[0 : 2 * n : 2] + v[1 : 2 * n : 2]
    half = half - half.mean(axis=0, keepdims=True)
    return half / (np.linalg.norm(half, axis=1, keepdims=True) + 1e-5)


def _append_slant(path: list[tuple[int, int]], dx: int, dy: int) -> None:
    """Straight staircase from the path's end to (x + dx, y + dy), one step at a time."""
    total = dx + dy
    x0, y0 = path[-1]
    for k in range(1, total + 1):
        x = x0 + round(dx * k / total)
        y = y0 + round(dy * k / total)
        lx, ly = path[-1]
        delta = x + y - lx - ly
        if delta == 1:
            path.append((x, y))
        elif delta == 2:
            path.append((x - 1, y))
        elif delta == 0:
            path.append((x + 1, y))


def _search_path(beads: list[BeadPair]) -> list[tuple[int, int]]:
    path = [(0, 0)]
    dx = dy = 0
    for s, t in beads:
        if s and t:
            _append_slant(path, dx, dy)
            dx = dy = 0
            _append_slant(path, len(s), len(t))
        else:
            dx += len(s)
            dy += len(t)
    _append_slant(path, dx, dy)
    return path


def _band_from_path(
    path: list[tuple[int, int]], w: int, n_s: int, n_t: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cells within ±w of the path along anti-diagonals, as a band per row."""
    pts = np.array(path, dtype=np.int64)
    lo = np.full(n_s + 1, n_t + 1, dtype=np.int64)
    hi = np.full(n_s + 1, -1, dtype=np.int64)
    for d in range(-w, w + 1):
        rows = pts[:, 0] - d
        cols = pts[:, 1] + d
        ok = (rows >= 0) & (rows <= n_s) & (cols >= 0) & (cols <= n_t)
        np.minimum.at(lo, rows[ok], cols[ok])
        np.maximum.at(hi, rows[ok], cols[ok])
    empty = hi < 0
    lo[empty], hi[empty] = 0, n_t  # cannot happen on a connected path; stay safe
    lo[0], hi[n_s] = 0, n_t
    return lo, hi


def _upsample(beads: list[BeadPair], n_s: int, n_t: int) -> list[BeadPair]:
    def up(idx: list[int]) -> list[int]:
        return list(range(min(idx) * 2, (max(idx) + 1) * 2))

    out: list[BeadPair] = []
    for s, t in beads:
        if not s:
            out.extend(([], [j]) for j in up(t))
        elif not t:
            out.extend(([i], []) for i in up(s))
        else:
            out.append((up(s), up(t)))
    # Odd lengths drop a sentence when halving: give the leftovers to the last bead.
    max_s = max((i for s, _ in out for i in s), default=-1)
    max_t = max((j for _, t in out for j in t), default=-1)
    extra_s = list(range(max_s + 1, n_s))
    extra_t = list(range(max_t + 1, n_t))
    if extra_s and extra_t:
        out.append((extra_s, extra_t))
    else:
        out.extend(([i], []) for i in extra_s)
        out.extend(([], [j]) for j in extra_t)
    return out


def vecalign_from_embeddings(
    src: OverlapEmbeddings, tgt: OverlapEmbeddings, params: VecalignParams | None = None
) -> list[BeadPair]:
    """Vecalign's coarse-to-fine search over precomputed overlap embeddings."""
    p = params or VecalignParams()
    n_s, n_t = src.size, tgt.size
    trivial = trivial_beads(n_s, n_t)
    if trivial is not None:
        return trivial
    rng = np.random.default_rng(p.seed)
    types = [
        (x, y)
        for x in range(1, p.alignment_max_size)
        for y in range(1, p.alignment_max_size)
        if x + y <= p.alignment_max_size
    ]
    if max(x for x, _ in types) > src.vecs.shape[0] or max(y for _, y in types) > tgt.vecs.shape[0]:
        raise ValueError("not enough overlap layers for the bead sizes")
    # Levels: 0 is full size; coarse levels keep only single sentences (1-1 search).
    levels = [(src.vecs, tgt.vecs)]
    s0, s1 = n_s, n_t
    while s0 * s1 > p.max_size_full_dp**2 and min(s0, s1) >= 4:
        s0, s1 = s0 // 2, s1 // 2
        prev_s, prev_t = levels[-1]
        levels.append((_downsample(prev_s[0])[None], _downsample(prev_t[0])[None]))
    beads: list[BeadPair] = []
    for depth in range(len(levels) - 1, -1, -1):
        vs, vt = levels[depth]
        ls, lt = vs.shape[1], vt.shape[1]
        ns = _norms(vs, vt, p.num_samps_for_norm, rng)
        nt = _norms(vt, vs, p.num_samps_for_norm, rng)
        size = ls * lt
        if size <= p.costs_sample_size:
            xi, yi = np.divmod(np.arange(size), lt)
        else:
            xi = rng.integers(0, ls, p.costs_sample_size)
            yi = rng.integers(0, lt, p.costs_sample_size)
        random_costs = (
            2 * (1 - np.einsum("ij,ij->i", vs[0, xi], vt[0, yi])) / (ns[0, xi] + nt[0, yi])
        )
        del_penalty = float(np.quantile(random_costs, p.del_percentile_frac))
        depth_types = types if depth == 0 else [(1, 1)]

        def score(
            i: int, js: np.ndarray, a: int, b: int, vs=vs, vt=vt, ns=ns, nt=nt, dp=del_penalty
        ) -> np.ndarray:
            if a == 0 or b == 0:
                return np.full(len(js), -dp)
            cos = vt[b - 1, js - 1] @ vs[a - 1, i - 1]
            return -(2.0 * a * b * (1.0 - cos) / (1e-6 + ns[a - 1, i - 1] + nt[b - 1, js - 1]))

        if depth == len(levels) - 1:
            # Full 1-1 DP at the coarsest level.
            lo, hi = full_band(ls, lt)
            beads = banded_dp(ls, lt, lo, hi, [(1, 1), (1, 0)], score, -del_penalty)
            if depth > 0:
                continue
        else:
            beads = _upsample(beads, ls, lt)
        lo, hi = _band_from_path(_search_path(beads), p.width_over2, ls, lt)
        beads = banded_dp(ls, lt, lo, hi, [*depth_types, (1, 0)], score, -del_penalty)
    return beads


def vecalign_align(
    src: Sequence[str],
    tgt: Sequence[str],
    encoder,  # noqa: ANN001 - any Encoder
    params: VecalignParams | None = None,
) -> list[BeadPair]:
    """Align two sentence lists the way Vecalign does, with ``encoder``'s embeddings."""
    p = params or VecalignParams()
    n = p.alignment_max_size - 1
    return vecalign_from_embeddings(
        embed_overlaps(src, encoder, n), embed_overlaps(tgt, encoder, n), p
    )
