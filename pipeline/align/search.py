"""The search (Vecalign): halve both documents until the DP is small, solve it exhaustively,
then at each finer level search only a band around the projected path."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.align.anchors import Anchors, anchor_terms
from pipeline.align.band import Band, band_around_path, full_band
from pipeline.align.evidence import LexicalSupport, SentenceEvidence
from pipeline.align.kernels import dp_band_path
from pipeline.align.margins import (
    hub_k,
    knn_hubness,
)
from pipeline.align.params import (
    NEG_INF,
    AlignParams,
    AlignResult,
    Swap,
    averaged_overlaps,
    bead_types,
    normalize_rows,
)
from pipeline.align.scoring import band_similarities, cell_scores
from pipeline.blas import threadpool_limits
from pipeline.records import Bead


def dp_band(
    scores: np.ndarray, band: Band, types: Sequence[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    """Best monotone path through the band: list of (row, col, type index) bead ends, in order.

    The skip (0, 1) must be the last type (it is taken in-row, as a running maximum). The
    loop over cells is compiled (pipeline.align.kernels): in numpy it was a fancy-index per
    row, the largest part of the aligner's own time.
    """
    assert types[len(types) - 1] == (0, 1)
    return dp_band_path(scores, band.lo, band.width, band.offset, band.n, band.m, list(types))


def _touches_edge(path: Sequence[tuple[int, int, int]], band: Band) -> bool:
    for i, j, _ in path:
        lo = band.lo[i]
        hi = lo + band.width[i] - 1
        if (j == lo and lo > 0) or (j == hi and hi < band.m):
            return True
    return False


# ------------------------------------------------------------------- the aligner


@dataclass
class _Level:
    src_ov: np.ndarray
    tgt_ov: np.ndarray
    src_len: np.ndarray
    tgt_len: np.ndarray


def _halve(emb: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = emb.shape[0]
    pairs = n // 2
    summed = emb[: 2 * pairs : 2] + emb[1 : 2 * pairs : 2]
    lens = lengths[: 2 * pairs : 2] + lengths[1 : 2 * pairs : 2]
    if n % 2:
        summed = np.concatenate([summed, emb[-1:]])
        lens = np.concatenate([lens, lengths[-1:]])
    return normalize_rows(summed), lens


def _hubness_and_scale(
    sims: np.ndarray,
    band: Band,
    types: list[tuple[int, int]],
    K: int,
    params: AlignParams,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Hubness of each overlap, and the initial scale: the median over rows of the best
    1-1 margin (most rows have a true partner)."""
    src_hub, tgt_hub = knn_hubness(
        sims, band, types, K, hub_k(params), params.hub_window, float(params.hub_z)
    )
    rows = band.cell_rows()
    cols = band.cell_cols()
    sim11 = sims[types.index((1, 1))]
    ok = np.isfinite(sim11)
    marg11 = sim11[ok] - 0.5 * (
        np.nan_to_num(src_hub[0, rows[ok]]) + np.nan_to_num(tgt_hub[0, cols[ok]])
    )
    row_best = np.full(band.n + 1, NEG_INF)
    np.maximum.at(row_best, rows[ok], marg11)
    finite = row_best[np.isfinite(row_best)]
    scale = float(np.median(finite)) if len(finite) else 1.0
    return src_hub, tgt_hub, max(scale, 1e-3)


def _solve_level(
    level: _Level,
    band: Band,
    types: list[tuple[int, int]],
    ratio: float,
    params: AlignParams,
    passes: int,
    evidence: SentenceEvidence | None = None,
    anchors: Anchors | None = None,
) -> tuple[list[tuple[int, int, int]], np.ndarray, np.ndarray, float, float]:
    """DP on one level; returns path, cell scores, margins, and the scale and ratio used."""
    K = level.src_ov.shape[0]
    lexical = LexicalSupport.prepare(evidence, band, types, params)
    structure = None
    if anchors is not None and anchors.count and params.structure_weight > 0:
        terms = anchor_terms(anchors, band, types, band.cell_rows(), band.cell_cols())
        weight = np.float32(params.structure_weight)
        structure = {t: weight * term for t, term in terms.items()}
    sims = band_similarities(level.src_ov, level.tgt_ov, band, types, params.block_rows)
    src_hub, tgt_hub, scale = _hubness_and_scale(sims, band, types, K, params)
    t11 = types.index((1, 1))
    path: list[tuple[int, int, int]] = []
    scores = margins = np.zeros((len(types), 0), np.float32)
    # the lexicon joins once a pass has shown how reliable it is here (pipeline.align.evidence)
    deficits = None
    for p in range(passes + 1):
        del scores, margins  # free the previous pass's arrays before building new ones
        scores, margins = cell_scores(
            sims,
            band,
            types,
            src_hub,
            tgt_hub,
            level.src_len,
            level.tgt_len,
            ratio,
            scale,
            params,
            deficits,
            structure,
        )
        path = dp_band(scores, band, types)
        if p == passes:
            break
        # re-estimate scale and ratio from confident 1-1 beads of this pass
        sel = [
            (i, j)
            for i, j, t in path
            if t == t11 and scores[t11, band.offset[i] + j - band.lo[i]] > params.confident_score
        ]
        if len(sel) < 3:
            break
        if lexical is not None:
            deficits = lexical.deficits([(i - 1, j - 1) for i, j in sel])
        idx = np.array([band.offset[i] + j - band.lo[i] for i, j in sel])
        new_scale = float(np.median(margins[t11, idx]))
        si = np.array([i for i, _ in sel]) - 1
        tj = np.array([j for _, j in sel]) - 1
        ly = float(level.tgt_len[tj].sum())
        new_ratio = float(level.src_len[si].sum()) / ly if ly > 0 else ratio
        if new_scale > 1e-3:
            scale = new_scale
        if new_ratio > 0:
            ratio = new_ratio
    return path, scores, margins, scale, ratio


def align_embeddings(
    src_ov: np.ndarray,
    tgt_ov: np.ndarray,
    src_len: Sequence[float] | np.ndarray,
    tgt_len: Sequence[float] | np.ndarray,
    params: AlignParams | None = None,
    evidence: SentenceEvidence | None = None,
    coarse: CoarsePath | None = None,
    anchors: Anchors | None = None,
) -> AlignResult:
    """Align two documents given their overlap embeddings.

    src_ov: (K, n, d) with src_ov[k-1, s] = L2-normalised embedding of sentences s..s+k-1
    (K >= 1; rows that run past the end are ignored). tgt_ov likewise (K, m, d).
    src_len / tgt_len: character length of each sentence. Returns beads covering every index
    of both sides exactly once, in order, with ``score`` (calibrated, about 1 for a typical
    correct bead) and ``margin`` (raw cosine minus neighbourhood mean); ``swaps`` names
    the 2-2 beads scored as two crossed pairs. ``evidence``
    (pipeline.align.evidence.sentence_evidence of the texts) adds the lexical term.
    ``coarse`` (:func:`coarse_path` of the same single-sentence vectors, lengths and
    settings) is the path the finest level's band is drawn around; computed here when None.
    ``anchors`` (pipeline.align.anchors) adds the structure term at the finest level.
    """
    # The products here are small and many: BLAS threads cost more in start-up and
    # contention than they give (3x slower with 2 threads on a busy 2-core machine).
    with threadpool_limits(limits=1, user_api="blas"):
        return _align_embeddings(
            src_ov, tgt_ov, src_len, tgt_len, params, evidence, coarse, anchors
        )


def load_kernels() -> None:
    """Load the aligner's compiled kernels (pipeline.align.kernels) and the
    CC-CEDICT lexicon compiled to ids (pipeline.align.dictionary) now.

    Why: numba loads a kernel from its cache on first call, about 0.5 s for all of them,
    which a process's first alignment would otherwise pay; a Ray build's align workers
    call this while the embedding actor starts. A small zh-en pair with coarse levels and
    lexical evidence calls every kernel a document alignment does
    (tests/align/test_coarse.py checks it against a real ``align_pair``)."""
    from pipeline.align.evidence import sentence_evidence

    rng = np.random.default_rng(0)
    overlaps = averaged_overlaps(rng.normal(size=(12, 8)).astype(np.float32), 2)
    lengths = np.full(12, 30.0)
    en = [f"Resolution {k} of the General Assembly on water and rivers." for k in range(12)]
    zh = [f"大会关于水和河流的第{k}号决议。" for k in range(12)]
    evidence = sentence_evidence(en, zh)
    params = AlignParams(max_coarse_cells=50)
    align_embeddings(overlaps, overlaps, lengths, lengths, params, evidence=evidence)


@dataclass(frozen=True)
class CoarsePath:
    """The path of the coarse levels (:func:`coarse_path`) and what it was computed for.

    Why a value of its own: it depends only on the single-sentence vectors (row 0 of the
    overlap arrays), the lengths, the number of overlap levels and the search settings,
    so ``align_texts``' first pass (summed overlaps) and final pass (embedded overlaps)
    share it; computing it once was a tenth of the aligner's own time on a
    2,400-sentence pair. ``path`` is None when the pair is small enough to search in
    full; ``cells`` is the largest band searched."""

    path: list[tuple[int, int, int]] | None
    cells: int
    shape: tuple[int, int]
    levels: int
    ratio: float

    def check(self, n: int, m: int, levels: int, ratio: float) -> None:
        """Fail fast when given for another pair or other overlap levels."""
        if self.shape != (n, m) or self.levels != levels or self.ratio != ratio:
            raise ValueError(
                f"coarse path of a {self.shape[0]} x {self.shape[1]} pair with {self.levels} "
                f"overlap levels and length ratio {self.ratio} given to align {n} x {m} with "
                f"{levels} levels and ratio {ratio}"
            )


def _prepared(
    src_ov: np.ndarray,
    tgt_ov: np.ndarray,
    src_len: Sequence[float] | np.ndarray,
    tgt_len: Sequence[float] | np.ndarray,
    params: AlignParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Inputs as the search uses them: float32 (K, n, d) overlap arrays cut to the levels
    both sides have (and params.max_overlap), float64 lengths, the length ratio."""
    src_ov = np.asarray(src_ov, dtype=np.float32)
    tgt_ov = np.asarray(tgt_ov, dtype=np.float32)
    if src_ov.ndim == 2:
        src_ov = src_ov[None]
    if tgt_ov.ndim == 2:
        tgt_ov = tgt_ov[None]
    src_len = np.asarray(src_len, dtype=np.float64)
    tgt_len = np.asarray(tgt_len, dtype=np.float64)
    if len(src_len) != src_ov.shape[1] or len(tgt_len) != tgt_ov.shape[1]:
        raise ValueError("length arrays must match the number of sentences")
    K = min(params.max_overlap, src_ov.shape[0], tgt_ov.shape[0])
    total_y = float(tgt_len.sum())
    ratio = float(src_len.sum()) / total_y if total_y > 0 else 1.0
    return src_ov[:K], tgt_ov[:K], src_len, tgt_len, ratio if ratio > 0 else 1.0


def coarse_path(
    src_ov: np.ndarray,
    tgt_ov: np.ndarray,
    src_len: Sequence[float] | np.ndarray,
    tgt_len: Sequence[float] | np.ndarray,
    params: AlignParams | None = None,
) -> CoarsePath:
    """The coarse-to-fine path :func:`align_embeddings` would compute for these inputs
    (same arguments), to pass to it, and to another call over the same sentences."""
    params = params or AlignParams()
    src_ov, tgt_ov, src_len, tgt_len, ratio = _prepared(src_ov, tgt_ov, src_len, tgt_len, params)
    with threadpool_limits(limits=1, user_api="blas"):
        return _coarse(src_ov, tgt_ov, src_len, tgt_len, ratio, params)


def _coarse(
    src_ov: np.ndarray,
    tgt_ov: np.ndarray,
    src_len: np.ndarray,
    tgt_len: np.ndarray,
    ratio: float,
    params: AlignParams,
) -> CoarsePath:
    shape, levels = (src_ov.shape[1], tgt_ov.shape[1]), src_ov.shape[0]
    if min(shape) == 0:
        return CoarsePath(None, 0, shape, levels, ratio)
    path, cells = _coarse_path(src_ov, tgt_ov, src_len, tgt_len, ratio, params)
    return CoarsePath(path, cells, shape, levels, ratio)


def _align_embeddings(
    src_ov: np.ndarray,
    tgt_ov: np.ndarray,
    src_len: Sequence[float] | np.ndarray,
    tgt_len: Sequence[float] | np.ndarray,
    params: AlignParams | None,
    evidence: SentenceEvidence | None = None,
    coarse: CoarsePath | None = None,
    anchors: Anchors | None = None,
) -> AlignResult:
    params = params or AlignParams()
    t_start = time.perf_counter()
    src_ov, tgt_ov, src_len, tgt_len, ratio = _prepared(src_ov, tgt_ov, src_len, tgt_len, params)
    n, m = src_ov.shape[1], tgt_ov.shape[1]
    if coarse is not None:
        coarse.check(n, m, src_ov.shape[0], ratio)
    if n == 0 or m == 0:
        beads = [Bead([i], [], params.skip_penalty) for i in range(n)]
        beads += [Bead([], [j], params.skip_penalty) for j in range(m)]
        return AlignResult(beads, {"align": time.perf_counter() - t_start})
    types = bead_types(src_ov.shape[0], params.max_bead_size)

    timings: dict[str, float] = {}
    if coarse is None:
        coarse = _coarse(src_ov, tgt_ov, src_len, tgt_len, ratio, params)
    path, coarse_cells = coarse.path, coarse.cells
    timings["coarse"] = time.perf_counter() - t_start
    fine = _Level(src_ov, tgt_ov, src_len, tgt_len)
    beads, swaps, band, half, scale, ratio_used = _refine(
        fine, path, types, ratio, params, evidence, anchors
    )
    timings["align"] = time.perf_counter() - t_start
    timings["band_cells"] = float(band.size)
    timings["band_half_width"] = float(half)
    timings["coarse_cells"] = float(coarse_cells)
    timings["scale"] = scale
    timings["length_ratio"] = ratio_used
    return AlignResult(beads, timings, swaps)


def _coarse_path(
    src_ov: np.ndarray,
    tgt_ov: np.ndarray,
    src_len: np.ndarray,
    tgt_len: np.ndarray,
    ratio: float,
    params: AlignParams,
) -> tuple[list[tuple[int, int, int]] | None, int]:
    """The path on the coarsest-to-finest halved levels, and the largest band searched.

    Halves single-sentence vectors until the DP is small, solves that exhaustively, then
    each finer coarse level in a band around the projected path. None when the document
    is small enough to search in full at the finest level."""
    K = src_ov.shape[0]
    levels: list[_Level] = []
    x1, y1, lx, ly = src_ov[0], tgt_ov[0], src_len, tgt_len
    while (x1.shape[0] + 1) * (y1.shape[0] + 1) > params.max_coarse_cells and min(
        x1.shape[0], y1.shape[0]
    ) > 1:
        x1, lx = _halve(x1, lx)
        y1, ly = _halve(y1, ly)
        kc = min(2, K)
        levels.append(_Level(averaged_overlaps(x1, kc), averaged_overlaps(y1, kc), lx, ly))
    path: list[tuple[int, int, int]] = []
    coarse_cells = 0
    for index, level in enumerate(reversed(levels)):
        ln, lm = level.src_ov.shape[1], level.tgt_ov.shape[1]
        ctypes = bead_types(level.src_ov.shape[0], params.max_bead_size)
        if index == 0:
            band = full_band(ln, lm)
        else:
            band = band_around_path([(i, j) for i, j, _ in path], ln, lm, params.band_width, 2)
        path, *_ = _solve_level(level, band, ctypes, ratio, params, passes=0)
        coarse_cells = max(coarse_cells, band.size)
    return (path if levels else None), coarse_cells


def _refine(
    fine: _Level,
    path: list[tuple[int, int, int]] | None,
    types: list[tuple[int, int]],
    ratio: float,
    params: AlignParams,
    evidence: SentenceEvidence | None,
    anchors: Anchors | None,
) -> tuple[list[Bead], list[Swap], Band, int, float, float]:
    """The finest level in a band around the coarse ``path`` (in full when None), widening
    the band while the path hugs its edge. Returns (beads, swaps, band, half width,
    scale, ratio)."""
    n, m = fine.src_ov.shape[1], fine.tgt_ov.shape[1]
    half = params.band_width
    while True:
        if path is None:
            band = full_band(n, m)
        else:
            band = band_around_path([(0, 0)] + [(i, j) for i, j, _ in path], n, m, half, 2)
        fine_path, scores, margins, scale, ratio_used = _solve_level(
            fine, band, types, ratio, params, params.refine_passes, evidence, anchors
        )
        if path is None or not _touches_edge(fine_path, band):
            break
        if half >= params.max_band_width:
            break
        half *= 2
        # re-project from the finer path itself: it already found where the edge is
        path = [(i // 2, j // 2, t) for i, j, t in fine_path]
    beads = _path_to_beads(fine_path, types, scores, margins, band)
    swaps = _swaps(fine_path, beads, types, scores, margins, band, params.swap_floor)
    return beads, swaps, band, half, scale, ratio_used


def _path_to_beads(
    path: Sequence[tuple[int, int, int]],
    types: Sequence[tuple[int, int]],
    scores: np.ndarray,
    margins: np.ndarray,
    band: Band,
) -> list[Bead]:
    beads: list[Bead] = []
    if not path:
        return beads
    ends = np.array(path, dtype=np.int64)  # (i, j, t) rows; one gather, not one per bead
    cells = band.offset[ends[:, 0]] + ends[:, 1] - band.lo[ends[:, 0]]
    bead_scores = scores[ends[:, 2], cells].tolist()
    bead_margins = margins[ends[:, 2], cells].tolist()
    for (i, j, t), score, margin in zip(path, bead_scores, bead_margins, strict=True):
        a, b = types[t]
        beads.append(
            Bead(
                src=list(range(i - a, i)),
                tgt=list(range(j - b, j)),
                score=round(score, 4),
                margin=round(margin, 4),
            )
        )
    return beads


def _swaps(
    path: Sequence[tuple[int, int, int]],
    beads: Sequence[Bead],
    types: Sequence[tuple[int, int]],
    scores: np.ndarray,
    margins: np.ndarray,
    band: Band,
    floor: float | None,
) -> list[Swap]:
    """The 2-2 beads whose score is that of their crossed pairs (pipeline.align.scoring.
    score_swaps): each with the 1-1 scores and margins of src first - tgt second and src
    second - tgt first, so a caller that knows crossings are the rule there (the closing
    lines of a resolution: date and meeting swap places between languages) can emit them."""
    if floor is None or (2, 2) not in types:
        return []
    t22, t11 = types.index((2, 2)), types.index((1, 1))
    out: list[Swap] = []
    for k, (i, j, t) in enumerate(path):
        if t != t22:
            continue
        cells = []
        for r, c in ((i - 1, j), (i, j - 1)):  # (src i-2, tgt j-1), (src i-1, tgt j-2)
            lo = band.lo[r]
            cells.append(band.offset[r] + c - lo if lo <= c < lo + band.width[r] else -1)
        if min(cells) < 0:
            continue
        crossed = [float(scores[t11, cell]) for cell in cells]
        if min(crossed) <= floor or 0.5 * sum(crossed) < beads[k].score - 1e-4:
            continue
        out.append(
            Swap(
                k,
                (round(crossed[0], 4), round(crossed[1], 4)),
                tuple(round(float(margins[t11, cell]), 4) for cell in cells),
            )
        )
    return out
