"""Compact reimplementations of Bertalign's and Vecalign's algorithms, for comparison only.

This module holds the shared parts and Bertalign; Vecalign is in
:mod:`benchmarks.vecalign_reimpl`.

Issue 3 asks our aligner to beat both *given the same sentence embeddings*. Their
published numbers come with LaBSE or LASER, so to compare algorithms rather than
encoders we re-run their search and scoring here on whatever :class:`Encoder` we use.
Both work from "overlap" embeddings: every run of 1..n consecutive sentences is
concatenated and embedded, so a 2-1 bead compares one vector with one vector.

Bertalign (Liu & Zhu 2022, ``bertalign/aligner.py`` and ``corelib.py``):
  1. top-k (k=3) nearest targets of each source sentence; a DP that only allows 1-1,
     1-0, 0-1 and scores a 1-1 by its similarity when the target is in the top-k list
     (else 0), in a window of max(250, 6% of the length) around the diagonal;
  2. its 1-1 links become anchors; a second DP in a window of 5 sentences around them
     with all beads x+y <= 5: score = cosine of the overlap vectors minus the mean
     similarity to the neighbouring sentences (margin), times log2(1 + min/max) of the
     byte lengths (target scaled by the document's length ratio); skips score -0.1.
Vecalign (Thompson & Koehn 2019, ``dp_utils.py`` and ``dp_core.pyx``):
  cost of an x-y bead = 2·x·y·(1 − cos) / (n_x + n_y), where n = 1 − mean cosine to
  random sentences of the other side; insertions and deletions cost the 20th
  percentile of the cost of random 1-1 pairs; beads x+y <= 4. Coarse to fine: halve
  both documents (sum neighbours, remove the mean, normalise) until N·M <= 300², align
  1-1 there, then at each finer level search a band of ±5 around the upsampled path.

Both DPs run on :func:`banded_dp`, a row-banded dynamic programme vectorised along
each row with numpy (never a full N×M matrix once a band is known).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.evaluate import BeadPair


class MemoEncoder:
    """Wraps an encoder with an in-memory text -> vector cache.

    Ours and both baselines embed the same sentences and overlaps; the cache makes the
    comparison cost one embedding pass, and repeated copies in long stress documents
    cost nothing.
    """

    def __init__(self, encoder) -> None:  # noqa: ANN001 - any Encoder
        self.inner = encoder
        self.name = encoder.name
        self.dim = encoder.dim
        self._cache: dict[str, np.ndarray] = {}
        self.calls = 0
        self.encoded = 0
        #: Seconds spent in the inner encoder (the rest of a run is the aligner's), wall
        #: clock and CPU (all threads of the process).
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            started, cpu = time.perf_counter(), time.process_time()
            vectors = np.asarray(self.inner.encode(missing), dtype=np.float32)
            self.seconds += time.perf_counter() - started
            self.cpu_seconds += time.process_time() - cpu
            self.encoded += len(missing)
            for text, vec in zip(missing, vectors, strict=True):
                self._cache[text] = vec
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts]).astype(np.float32, copy=False)


# --- overlap embeddings -------------------------------------------------------------


def overlap_texts(sentences: Sequence[str], n_overlaps: int, joiner: str = " ") -> list[list[str]]:
    """Layer k (0-based) holds, at position i, sentences i-k..i joined (front-padded:
    positions i < k are empty strings and never used). Both tools index overlaps by
    the *last* sentence of the run."""
    layers: list[list[str]] = []
    for k in range(n_overlaps):
        layer = [""] * min(k, len(sentences))
        layer += [joiner.join(sentences[i - k : i + 1]) for i in range(k, len(sentences))]
        layers.append(layer)
    return layers


@dataclass
class OverlapEmbeddings:
    """``vecs[k, i]``: unit vector of sentences i-k..i; ``lens[k, i]``: their UTF-8 bytes."""

    vecs: np.ndarray  # (n_overlaps, n, dim) float32
    lens: np.ndarray  # (n_overlaps, n) float64

    @property
    def size(self) -> int:
        return int(self.vecs.shape[1])


def embed_overlaps(
    sentences: Sequence[str], encoder, n_overlaps: int = 4, joiner: str = " "
) -> OverlapEmbeddings:  # noqa: ANN001 - any Encoder
    """Embed every run of 1..n_overlaps consecutive sentences with ``encoder``."""
    layers = overlap_texts(sentences, n_overlaps, joiner)
    n = len(sentences)
    vecs = np.zeros((n_overlaps, n, encoder.dim), dtype=np.float32)
    lens = np.zeros((n_overlaps, n), dtype=np.float64)
    for k, layer in enumerate(layers):
        valid = list(range(k, n))
        if valid:
            vecs[k, valid] = encoder.encode([layer[i] for i in valid])
        lens[k] = [len(t.encode("utf-8")) for t in layer]
    return OverlapEmbeddings(vecs, lens)


# --- the DP engine ------------------------------------------------------------------

#: score(i, j, a, b) -> scores of the beads ending at source row i (sentences i-a..i-1)
#: and at each target position in j (sentences j-b..j-1); j is an int array.
MoveScore = Callable[[int, np.ndarray, int, int], np.ndarray]


def banded_dp(
    n_src: int,
    n_tgt: int,
    lo: np.ndarray,
    hi: np.ndarray,
    moves: Sequence[tuple[int, int]],
    score: MoveScore,
    insert_score: float,
    *,
    insertion_wins_ties: bool = True,
) -> list[BeadPair]:
    """Best-scoring monotone bead sequence from (0, 0) to (n_src, n_tgt).

    Row i (sentences consumed on the source side) may only visit target positions
    lo[i]..hi[i]. ``moves`` are the bead shapes (a, b) with a >= 1, (1, 0) included;
    the 0-1 insertion is handled along the row with a running maximum, so each row is a
    handful of numpy operations. Ties go to earlier moves, insertion first, as in
    Bertalign's loop order.
    """
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    if lo[0] != 0 or hi[n_src] != n_tgt:
        raise ValueError("band must contain (0, 0) and (n_src, n_tgt)")
    costs: list[np.ndarray] = []
    pointers: list[np.ndarray] = []
    for i in range(n_src + 1):
        js = np.arange(lo[i], hi[i] + 1)
        best = np.full(js.shape, -np.inf)
        ptr = np.full(js.shape, -2, dtype=np.int16)
        if i == 0:
            best[js == 0] = 0.0
        for m, (a, b) in enumerate(moves):
            pi = i - a
            if pi < 0:
                continue
            pj = js - b
            ok = (pj >= lo[pi]) & (pj <= hi[pi])
            if not ok.any():
                continue
            prev = np.full(js.shape, -np.inf)
            prev[ok] = costs[pi][pj[ok] - lo[pi]]
            ok &= np.isfinite(prev)
            if not ok.any():
                continue
            cand = np.full(js.shape, -np.inf)
            cand[ok] = prev[ok] + score(i, js[ok], a, b)
            better = cand > best
            best[better] = cand[better]
            ptr[better] = m
        # 0-1 insertions within the row: cost[t] = max(best[t], cost[t-1] + insert_score).
        t = np.arange(len(js), dtype=np.float64)
        shifted = best - t * insert_score
        running = np.maximum.accumulate(shifted)
        row = running + t * insert_score
        from_left = np.zeros(len(js), dtype=bool)
        if len(js) > 1:
            prev_run = running[:-1]
            here = shifted[1:]
            from_left[1:] = (prev_run >= here) if insertion_wins_ties else (prev_run > here)
            from_left[1:] &= np.isfinite(prev_run)
        ptr[from_left] = -1
        costs.append(row)
        pointers.append(ptr)
    if not np.isfinite(costs[n_src][n_tgt - lo[n_src]]):
        raise ValueError("no path through the band")
    beads: list[BeadPair] = []
    i, j = n_src, n_tgt
    while i > 0 or j > 0:
        m = int(pointers[i][j - lo[i]])
        a, b = (0, 1) if m == -1 else moves[m]
        if m == -2:
            raise RuntimeError(f"traceback reached an unreachable cell ({i}, {j})")
        beads.append((list(range(i - a, i)), list(range(j - b, j))))
        i, j = i - a, j - b
    beads.reverse()
    return beads


def full_band(n_src: int, n_tgt: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros(n_src + 1, dtype=np.int64), np.full(n_src + 1, n_tgt, dtype=np.int64)


def trivial_beads(n_src: int, n_tgt: int) -> list[BeadPair] | None:
    if n_src == 0 or n_tgt == 0:
        return [([i], []) for i in range(n_src)] + [([], [j]) for j in range(n_tgt)]
    return None


# --- Bertalign ----------------------------------------------------------------------


@dataclass
class BertalignParams:
    """Bertalign's defaults (``Bertalign.__init__``)."""

    max_align: int = 5  # beads x + y <= 5
    top_k: int = 3
    win: int = 5  # second-pass window around the first-pass anchors
    skip: float = -0.1
    margin: bool = True
    len_penalty: bool = True
    first_min_window: int = 250
    first_window_fraction: float = 0.06


def _bertalign_types(max_align: int) -> list[tuple[int, int]]:
    """Bead shapes in Bertalign's order, 0-1 first (handled by the row insertion)."""
    types = [(1, 0)]
    types += [
        (x, y) for x in range(1, max_align) for y in range(1, max_align) if x + y <= max_align
    ]
    return types


def bertalign_from_embeddings(
    src: OverlapEmbeddings, tgt: OverlapEmbeddings, params: BertalignParams | None = None
) -> list[BeadPair]:
    """Bertalign's two-pass search over precomputed overlap embeddings."""
    p = params or BertalignParams()
    n_s, n_t = src.size, tgt.size
    trivial = trivial_beads(n_s, n_t)
    if trivial is not None:
        return trivial
    # Pass 1: top-k neighbours, 1-1 DP in a wide diagonal window.
    sims = src.vecs[0] @ tgt.vecs[0].T
    k = min(p.top_k, n_t)
    top_idx = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    top_sim = np.take_along_axis(sims, top_idx, axis=1)
    win = max(p.first_min_window, int(max(n_s, n_t) * p.first_window_fraction))
    ratio = n_t / n_s
    centers = (ratio * np.arange(n_s + 1)).astype(np.int64)
    lo1 = np.maximum(0, centers - win)
    hi1 = np.minimum(n_t, centers + win)
    lo1[0] = 0
    hi1[n_s] = n_t

    def first_score(i: int, js: np.ndarray, a: int, b: int) -> np.ndarray:
        if b == 0:
            return np.zeros(len(js))
        out = np.zeros(len(js))
        for kk in range(k):
            out += np.where(js - 1 == top_idx[i - 1, kk], top_sim[i - 1, kk], 0.0)
        return out

    first = banded_dp(n_s, n_t, lo1, hi1, [(1, 0), (1, 1)], first_score, 0.0)
    anchors = [(s[-1] + 1, t[-1] + 1) for s, t in first if len(s) == 1 and len(t) == 1]
    lo2, hi2 = _bertalign_second_band(anchors, p.win, n_s, n_t)

    char_ratio = src.lens[0].sum() / max(tgt.lens[0].sum(), 1.0)
    s0, t0 = src.vecs[0], tgt.vecs[0]

    def second_score(i: int, js: np.ndarray, a: int, b: int) -> np.ndarray:
        if a == 0 or b == 0:
            return np.full(len(js), p.skip)
        sv = src.vecs[a - 1, i - 1]
        tv = tgt.vecs[b - 1, js - 1]
        sim = tv @ sv
        if p.margin:
            # Target neighbours of the segment js-b..js-1 against the source vector.
            left = js - b - 1
            right = js
            left_sim = np.where(left >= 0, t0[np.clip(left, 0, n_t - 1)] @ sv, 0.0)
            right_sim = np.where(right < n_t, t0[np.clip(right, 0, n_t - 1)] @ sv, 0.0)
            tgt_nb = _neighbour_mean(left_sim, right_sim)
            # Source neighbours of the segment i-a..i-1 against each target vector.
            s_left, s_right = i - a - 1, i
            sl = tv @ s0[s_left] if s_left >= 0 else np.zeros(len(js))
            sr = tv @ s0[s_right] if s_right < n_s else np.zeros(len(js))
            src_nb = _neighbour_mean(sl, sr)
            sim = sim - (tgt_nb + src_nb) / 2
        if p.len_penalty:
            sl_ = src.lens[a - 1, i - 1]
            tl_ = tgt.lens[b - 1, js - 1] * char_ratio
            sim = sim * np.log2(1 + np.minimum(sl_, tl_) / np.maximum(np.maximum(sl_, tl_), 1e-9))
        return sim

    return banded_dp(n_s, n_t, lo2, hi2, _bertalign_types(p.max_align), second_score, p.skip)


def _neighbour_mean(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Bertalign averages the two neighbours' similarities only when both are non-zero."""
    both = (left != 0) & (right != 0)
    return np.where(both, (left + right) / 2, left + right)


def _bertalign_second_band(
    anchors: list[tuple[int, int]], w: int, n_s: int, n_t: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows between consecutive anchors search from (previous anchor - w) to (anchor + w)."""
    align = list(anchors) or [(n_s, n_t)]
    last_s, last_t = align[-1]
    if last_s != n_s:
        if last_t == n_t:
            align.pop()
        align.append((n_s, n_t))
    elif last_t != n_t:
        align.pop()
        align.append((n_s, n_t))
    lo = np.zeros(n_s + 1, dtype=np.int64)
    hi = np.zeros(n_s + 1, dtype=np.int64)
    prev_s, prev_t = 0, 0
    for s, t in align:
        lo[prev_s + 1 : s + 1] = max(0, prev_t - w)
        hi[prev_s + 1 : s + 1] = min(n_t, t + w)
        prev_s, prev_t = s, t
    lo[0], hi[0] = lo[1], hi[1]
    lo[0] = 0
    return lo, hi


def bertalign_align(
    src: Sequence[str],
    tgt: Sequence[str],
    encoder,  # noqa: ANN001 - any Encoder
    params: BertalignParams | None = None,
) -> list[BeadPair]:
    """Align two sentence lists the way Bertalign does, with ``encoder``'s embeddings."""
    p = params or BertalignParams()
    n = p.max_align - 1
    return bertalign_from_embeddings(
        embed_overlaps(src, encoder, n), embed_overlaps(tgt, encoder, n), p
    )
