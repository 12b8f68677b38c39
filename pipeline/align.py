"""Sentence alignment core: banded coarse-to-fine dynamic programming over embeddings.

Why this design (see README "Aligner" for the long form):

* **Overlap embeddings** (Vecalign, Bertalign): every run of 1..``max_overlap`` consecutive
  sentences is embedded as one text, so a bead that merges sentences is scored by comparing
  the meaning of the merged text with its counterpart, not by averaging vectors.
* **Margin against the neighbourhood** (pipeline.margins): plain cosine favours "hub"
  sentences that are similar to everything (short formulaic lines, numbers). Subtracting
  the mean similarity of each side's neighbours inside the search window (plus half a
  standard deviation) removes that bias and puts 0 where unrelated text scores.
* **Self-calibration**: margins of correct beads differ a lot between encoders (USE, E5,
  LaBSE). All scores are divided by the typical margin of the best 1-1 candidates, so the
  skip and merge penalties mean the same thing whatever encoder supplied the vectors. A second
  pass re-estimates that scale and the length ratio from the first pass's confident 1-1 beads.
* **Length term** on character lengths relative to the document's own length ratio, so
  zh-en, en-zh, de-fr and any other order work without a language table.
* **Merged beads must earn it**: each sentence of a merged side must match the other side
  at least as well as unrelated text (support), a mismatching merge costs in proportion to
  its size, and a 2-2 bead can be carried by its two crossed pairs (a swap), which the
  order-sensitive embedding of the concatenations sees poorly.
* **Only useful overlaps are embedded** (pipeline.overlaps): runs of sentences that cross
  no boundary between two confidently linked neighbours; the encoder is the cost.
* **Search** (Vecalign): halve both documents until the DP is small, solve it exhaustively,
  then at each finer level search only a band around the projected path, widening the band
  where the path touches its edge. Time and memory grow linearly with the number of
  sentences; no N x M matrix is ever built.

Everything here is pure numpy over explicit arguments; ``align_texts`` is the only function
that touches an encoder.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from pipeline.data import Bead
from pipeline.lexical import (
    SentenceEvidence,
    Unlinked,
    reliability,
    sentence_evidence,
    unlinked_flags,
)
from pipeline.margins import (  # noqa: F401  (re-exported: docalign and tests use them)
    MARGINS,
    adjacent_hub,
    hub_k,
    hub_z,
    hubness_against,
    knn_hubness,
)
from pipeline.overlaps import embed_open_overlaps
from pipeline.support import score_swaps, subtract_support_shortfall

NEG_INF = -np.inf


class Encoder(Protocol):
    """What ``align_texts`` needs from ``pipeline.embed`` (structural, so any object works)."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class AlignParams:
    """Every setting of the aligner, with the reason for its default.

    Scores are in *calibrated units*: 1.0 is the typical score of a correct 1-1 bead in the
    document at hand (see ``scale`` in :func:`align_embeddings`), so the penalties below do not
    depend on the encoder.
    """

    #: Longest run of sentences on one side of a bead. 4 covers the 1-4/4-1 splits that
    #: literary and legal translation produce (Bertalign uses 4 as well).
    max_overlap: int = 4
    #: Largest a+b of an a-b bead (Bertalign's x+y <= 5): allows 1-4, 2-3, 3-2, 4-1 but not
    #: 3-3, which is almost always two smaller beads.
    max_bead_size: int = 5
    #: Score of a 1-0 or 0-1 bead. Negative so that a sentence is left unaligned only when
    #: pairing or merging it costs more than this: a true deletion stays out of a merge
    #: unless the merge loses less than a quarter of a typical bead's score. -0.2..-0.3 is a
    #: plateau on our stress cases with both use-m and e5-small.
    skip_penalty: float = -0.25
    #: Penalty per sentence beyond two in a bead. 0: merges already score below the 1-1
    #: beads they replace when those are right, and the support term below keeps unrelated
    #: sentences out; a penalty only cost F1 (kept as a knob for noisier encoders).
    merge_penalty: float = 0.0
    #: Weight of the length term w * (log2(1 + rho) - 1), rho = min/max of the two character
    #: lengths after scaling by the document's length ratio; 0 for equal lengths, -w at worst.
    #: 0.6: chosen by leave-one-chapter-out on MAC-Dev from {0.3, 0.6} (docs/aligner.md);
    #: length is what tells a translator's split (the partial 1-1 is too short) from an
    #: insertion glued on (the merged side too long) when the embeddings cannot.
    length_weight: float = 0.6
    #: Weight of the support term: a merged bead loses support_weight * (support_floor -
    #: s) when its weakest sentence s (calibrated margin of that sentence alone against the
    #: other side's text) is below support_floor. Stops insertions being glued onto merges.
    #: With the "mean" margin, 0 is what an unrelated sentence scores, so the floor 0 asks
    #: each sentence of a merge to match the other side at least as well as unrelated text
    #: does; anything stricter leaves the short second halves of real splits unaligned
    #: ("Tomorrow.'" matches nothing on its own; tests/test_align_texts.py).
    support_weight: float = 0.5
    support_floor: float = 0.0
    #: Lexical support (pipeline.lexical): a sentence of a merged side that shares no
    #: translated word (CC-CEDICT, zh-en only), number or name with the other side of the
    #: bead counts lexical_weight (calibrated) weaker in the support term, i.e. it must
    #: match the other side by that much more than unrelated text does. Words are what
    #: tell a translator's split (its halves share words with the source) from a related
    #: insertion glued on (it shares none) when the embeddings cannot; the embedding can
    #: still carry a half the lexicon misses. Scaled per document by how reliable a
    #: missing link is there (lexical.reliability). 0.5: chosen by leave-one-chapter-out
    #: on MAC-Dev from {0, 0.5, 1} (docs/aligner.md); it takes tests/gold/general from
    #: 0.910 back to 0.963. Only ``align_texts`` has the texts; 0 turns it off.
    lexical_weight: float = 0.5
    #: Neighbours averaged for the margin="knn" (Artetxe & Schwenk use 4).
    knn: int = 4
    #: A bead that does not match (negative score) costs in proportion to its size,
    #: (a+b)/2 times, as skips do per sentence; otherwise one bad 3-1 bead is cheaper than
    #: the four skips it replaces and unrelated neighbours get glued together.
    scale_negative: bool = True
    #: A 2-2 bead whose crossed pairs both score above this counts as a swap and scores
    #: their mean (see _score_swaps); None turns swap scoring off.
    swap_floor: float | None = 0.3
    #: The kNN neighbourhood: sentences within this many positions of the expected
    #: position (band centre or diagonal); None = the whole band.
    hub_window: int | None = 20
    #: What the cosine is measured against (pipeline.margins): "mean" = the mean similarity
    #: of the neighbourhood (hub_window) plus ``hub_z`` standard deviations, i.e. how far
    #: above unrelated text a pair is; "knn" = the mean of the k best neighbours (Artetxe &
    #: Schwenk: the true partner is among them, so every partial match goes negative and
    #: one-to-many beads of real translators lose to "1-1 plus a skip": MAC-Dev 0.765 vs
    #: 0.890); "adjacent" = Bertalign's (the sentences next to the bead); "none".
    margin: str = "mean"
    #: Standard deviations above the neighbourhood mean where the "mean" margin puts 0:
    #: the evidence a pair needs before it counts for a bead. Chosen by leave-one-chapter-
    #: out from {0, 0.5, 1}; higher values leave more sentences unaligned.
    hub_z: float = 0.5
    #: ``align_texts``: embed every run of up to max_overlap sentences (True), or only
    #: runs that cross no boundary between two confidently linked neighbours (False,
    #: pipeline.overlaps; the rest are summed from sentence vectors).
    embed_all_overlaps: bool = False
    #: ``align_texts`` with embed_all_overlaps False: a run of 3+ sentences is embedded
    #: only if it meets at most this many beads of the first pass (pipeline.overlaps.
    #: grouped_runs); None embeds every open run (the earlier rule, 1.6x the encoding).
    overlap_groups: int | None = 2
    #: Half-width (in sentences) of the band searched around the projected coarse path.
    band_width: int = 8
    #: The band doubles where the path touches its edge, up to this half-width.
    max_band_width: int = 256
    #: Stop halving when the coarse DP has at most this many cells (Vecalign: 300^2).
    max_coarse_cells: int = 90_000
    #: Extra passes that re-estimate scale and length ratio from confident 1-1 beads.
    refine_passes: int = 1
    #: A 1-1 bead is "confident" for re-estimation when its calibrated score is above this.
    confident_score: float = 0.5
    #: Rows per block when computing band similarities (memory/speed trade-off only).
    block_rows: int = 64

    def __post_init__(self) -> None:
        if self.max_overlap < 1:
            raise ValueError("max_overlap must be >= 1")
        if self.max_bead_size < 2:
            raise ValueError("max_bead_size must be >= 2")
        if self.margin not in MARGINS:
            raise ValueError(f"margin must be one of {MARGINS}, not {self.margin!r}")
        if self.knn < 1 or self.band_width < 1:
            raise ValueError("knn and band_width must be >= 1")
        if self.overlap_groups is not None and self.overlap_groups < 1:
            raise ValueError("overlap_groups must be >= 1 or None")
        if self.hub_window is not None and self.hub_window < 1:
            raise ValueError("hub_window must be >= 1 or None")
        if self.support_weight < 0 or self.length_weight < 0 or self.lexical_weight < 0:
            raise ValueError("support_weight, length_weight and lexical_weight must be >= 0")
        # A NaN or infinite term makes every path score NaN/inf, and the DP then fails far
        # from the cause ("alignment band does not connect start and end").
        for name in (
            "skip_penalty", "merge_penalty", "length_weight", "support_weight",
            "support_floor", "swap_floor", "confident_score", "hub_z", "lexical_weight",
        ):  # fmt: skip
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, not {value!r}")
        # A positive "penalty" pays the DP for leaving sentences out: pairs that a 1-1
        # bead scores below 2 * skip_penalty are then split into 1-0 + 0-1, and at 0.5 or
        # more nothing aligns. It is always a sign flipped by mistake.
        if self.skip_penalty > 0:
            raise ValueError(
                f"skip_penalty must be <= 0 (a cost), not {self.skip_penalty!r}: a positive "
                "value rewards leaving sentences unaligned"
            )


@dataclass
class AlignResult:
    beads: list[Bead]
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Calibration:
    """Fixed scoring context for aligning a small piece of a larger document.

    A paragraph group of two sentences has no neighbourhood to estimate a margin or a scale
    from; the document-level aligner (docalign) computes them once over the whole document
    and passes them in. ``src_hub[a-1, i]`` is the hubness of the src overlap ending at i
    (sentences i-a..i-1), ``tgt_hub`` likewise; either may be None to estimate locally.
    """

    scale: float
    ratio: float
    src_hub: np.ndarray | None = None
    tgt_hub: np.ndarray | None = None


def bead_types(max_overlap: int, max_bead_size: int) -> list[tuple[int, int]]:
    """All (a, b) bead shapes searched: a, b in 1..max_overlap with a+b <= max_bead_size,
    then the skips (1, 0) and (0, 1). The skip (0, 1) must stay last (handled in-row)."""
    types = [
        (a, b)
        for a in range(1, max_overlap + 1)
        for b in range(1, max_overlap + 1)
        if a + b <= max_bead_size
    ]
    return [*types, (1, 0), (0, 1)]


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """L2-normalise rows; zero rows stay zero (they then have cosine 0 with everything)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def averaged_overlaps(emb: np.ndarray, max_overlap: int) -> np.ndarray:
    """Overlap embeddings made by summing sentence vectors: (max_overlap, n, d).

    Used on coarse levels and when only single-sentence vectors exist; ``align_texts`` embeds
    the concatenated texts instead, which is more faithful. Row s of slice k-1 covers
    sentences s..s+k-1; rows past the end are zero.
    """
    n, d = emb.shape
    out = np.zeros((max_overlap, n, d), dtype=np.float32)
    csum = np.concatenate([np.zeros((1, d), np.float32), np.cumsum(emb, axis=0, dtype=np.float32)])
    for k in range(1, max_overlap + 1):
        if n - k + 1 > 0:
            out[k - 1, : n - k + 1] = normalize_rows(csum[k:] - csum[: n - k + 1])
    return out


# --------------------------------------------------------------------------- band


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


# ---------------------------------------------------------------------- scoring


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
            src_idx = rows - a
            tgt_idx = cols - b
            ok = (src_idx >= 0) & (tgt_idx >= 0) & (src_idx + a <= n) & (tgt_idx + b <= m)
            vals = np.full(rows.shape, np.nan, dtype=np.float32)
            vals[ok] = prod[a - 1, src_idx[ok] - s_lo, b - 1, tgt_idx[ok] - t_lo]
            sims[t, start:stop] = vals
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
) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated score of each bead type at each band cell, and its raw margin.

    score = margin / scale + length_weight * length_term - merge_penalty * (a + b - 2),
    times (a+b)/2 where negative for merged beads (``scale_negative``), minus the support
    shortfall of merged beads (where a sentence without a lexical link to the other side,
    ``unlinked``, counts lexical_weight weaker), and for 2-2 beads at least the
    crossed-pair (swap) score;
    skips score ``skip_penalty``. ``margin`` = cosine minus the mean of the two sides'
    hubness (pipeline.margins; the cosine alone with margin="none").
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
        sim = sims[t]
        ok = np.isfinite(sim)
        r, c = rows[ok], cols[ok]
        if params.margin in ("knn", "mean"):
            hub = np.float32(0.5) * (src_hub32[a - 1, r] + tgt_hub32[b - 1, c])
            marg = sim[ok] - hub
        elif params.margin == "adjacent":
            marg = sim[ok] - adjacent_hub(sims, band, types, a, b, r, c)
        else:
            marg = sim[ok]
        lx = (src_cum[r] - src_cum[r - a]).astype(np.float32)
        ly = (tgt_cum[c] - tgt_cum[c - b]).astype(np.float32)
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
    if params.swap_floor is not None and (2, 2) in types and (1, 1) in types:
        score_swaps(scores, band, types, rows, cols, params.swap_floor)
    return scores, margins


# ---------------------------------------------------------------------------- DP


def dp_band(
    scores: np.ndarray, band: Band, types: Sequence[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    """Best monotone path through the band: list of (row, col, type index) bead ends, in order.

    Row by row; inside a row every bead type that comes from an earlier row is gathered at
    once (one fancy-index per row), and the in-row 0-1 skips are a running maximum, so the
    Python loop runs n+1 times whatever the number of bead types.
    """
    n, m = band.n, band.m
    n_types = len(types)
    skip01 = n_types - 1
    assert types[skip01] == (0, 1)
    skip_score = float(scores[skip01, 0]) if band.size else 0.0
    from_above = [t for t in range(n_types) if types[t][0] > 0]
    a_arr = np.array([types[t][0] for t in from_above], dtype=np.int64)
    b_arr = np.array([types[t][1] for t in from_above], dtype=np.int64)
    ta = np.array(from_above, dtype=np.int64)
    # one extra cell at the end holds -inf: out-of-band predecessors point there
    best = np.full(band.size + 1, NEG_INF, dtype=np.float64)
    sentinel = band.size
    back = np.full(band.size, -1, dtype=np.int8)
    lo, width, offset = band.lo, band.width, band.offset
    contiguous = from_above == list(range(len(from_above)))
    max_w = int(width.max())
    ar = np.arange(max_w)
    steps_all = ar * skip_score
    for i in range(n + 1):
        w = int(width[i])
        start = int(offset[i])
        if i == 0:
            cand = np.where(lo[0] + ar[:w] == 0, 0.0, NEG_INF)
            arg = np.full(w, -1, dtype=np.int64)
        else:
            prev = i - a_arr
            usable = prev >= 0
            pr = np.where(usable, prev, 0)
            pos = (lo[i] - lo[pr] - b_arr)[:, None] + ar[None, :w]
            valid = usable[:, None] & (pos >= 0) & (pos < width[pr][:, None])
            flat = np.where(valid, offset[pr][:, None] + pos, sentinel)
            if contiguous:
                cell = scores[: len(from_above), start : start + w]
            else:
                cell = scores[ta[:, None], start + ar[None, :w]]
            vals = best[flat] + cell
            k = np.argmax(vals, axis=0)
            cand = vals[k, ar[:w]]
            arg = ta[k]
        # in-row 0-1 skips: best[j] = max_{j' <= j} cand[j'] + (j - j') * skip
        steps = steps_all[:w]
        row_best = np.maximum.accumulate(cand - steps) + steps
        best[start : start + w] = row_best
        back[start : start + w] = np.where(row_best > cand + 1e-12, skip01, arg)
    # trace back from (n, m)
    path: list[tuple[int, int, int]] = []
    i, j = n, m
    if not np.isfinite(best[offset[n] + (m - lo[n])]):
        raise RuntimeError("alignment band does not connect start and end")
    while i > 0 or j > 0:
        t = int(back[offset[i] + (j - lo[i])])
        if t < 0:
            raise RuntimeError(f"broken back-pointer at ({i}, {j})")
        path.append((i, j, t))
        a, b = types[t]
        i, j = i - a, j - b
    path.reverse()
    return path


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
    calibration: Calibration | None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Hubness of each overlap (or the calibration's), and the initial scale: the median
    over rows of the best 1-1 margin (most rows have a true partner)."""
    if params.margin in ("knn", "mean"):
        src_hub, tgt_hub = knn_hubness(
            sims, band, types, K, hub_k(params), params.hub_window, hub_z(params)
        )
        if calibration is not None and calibration.src_hub is not None:
            src_hub = calibration.src_hub[:K]
        if calibration is not None and calibration.tgt_hub is not None:
            tgt_hub = calibration.tgt_hub[:K]
    else:
        src_hub = np.zeros((K, band.n + 1))
        tgt_hub = np.zeros((K, band.m + 1))
    rows = band.cell_rows()
    cols = band.cell_cols()
    sim11 = sims[types.index((1, 1))]
    ok = np.isfinite(sim11)
    marg11 = sim11[ok] - (
        0.5 * (np.nan_to_num(src_hub[0, rows[ok]]) + np.nan_to_num(tgt_hub[0, cols[ok]]))
        if params.margin in ("knn", "mean")
        else 0.0
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
    calibration: Calibration | None = None,
    evidence: SentenceEvidence | None = None,
) -> tuple[list[tuple[int, int, int]], np.ndarray, np.ndarray, float, float]:
    """DP on one level; returns path, cell scores, margins, and the scale and ratio used."""
    K = level.src_ov.shape[0]
    unlinked = None
    if evidence is not None and params.lexical_weight > 0:
        unlinked = unlinked_flags(
            evidence, band.lo, band.width, band.offset, band.cell_rows(), band.cell_cols(), types
        )
    sims = band_similarities(level.src_ov, level.tgt_ov, band, types, params.block_rows)
    src_hub, tgt_hub, scale = _hubness_and_scale(sims, band, types, K, params, calibration)
    t11 = types.index((1, 1))
    if calibration is not None:
        scale, ratio, passes = calibration.scale, calibration.ratio, 0
    path: list[tuple[int, int, int]] = []
    scores = margins = np.zeros((len(types), 0), np.float32)
    # the lexicon joins once a pass has shown how reliable it is here (lexical.reliability)
    pass_params = replace(params, lexical_weight=0.0) if unlinked is not None else params
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
            pass_params,
            unlinked,
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
        if evidence is not None and unlinked is not None:
            factor = reliability(evidence, [(i - 1, j - 1) for i, j in sel])
            pass_params = replace(params, lexical_weight=params.lexical_weight * factor)
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
    calibration: Calibration | None = None,
    evidence: SentenceEvidence | None = None,
) -> AlignResult:
    """Align two documents given their overlap embeddings.

    src_ov: (K, n, d) with src_ov[k-1, s] = L2-normalised embedding of sentences s..s+k-1
    (K >= 1; rows that run past the end are ignored). tgt_ov likewise (K, m, d).
    src_len / tgt_len: character length of each sentence. Returns beads covering every index
    of both sides exactly once, in order, with ``score`` (calibrated, about 1 for a typical
    correct bead) and ``margin`` (raw cosine minus neighbourhood mean). ``calibration``
    fixes scale, length ratio and hubness instead of estimating them from these sentences.
    ``evidence`` (pipeline.lexical.sentence_evidence of the texts) adds the lexical term.
    """
    # The products here are small and many: BLAS threads cost more in start-up and
    # contention than they give (3x slower with 2 threads on a busy 2-core machine).
    with threadpool_limits(limits=1, user_api="blas"):
        return _align_embeddings(src_ov, tgt_ov, src_len, tgt_len, params, calibration, evidence)


def _align_embeddings(
    src_ov: np.ndarray,
    tgt_ov: np.ndarray,
    src_len: Sequence[float] | np.ndarray,
    tgt_len: Sequence[float] | np.ndarray,
    params: AlignParams | None,
    calibration: Calibration | None,
    evidence: SentenceEvidence | None = None,
) -> AlignResult:
    params = params or AlignParams()
    t_start = time.perf_counter()
    src_ov = np.asarray(src_ov, dtype=np.float32)
    tgt_ov = np.asarray(tgt_ov, dtype=np.float32)
    if src_ov.ndim == 2:
        src_ov = src_ov[None]
    if tgt_ov.ndim == 2:
        tgt_ov = tgt_ov[None]
    n, m = src_ov.shape[1], tgt_ov.shape[1]
    src_len = np.asarray(src_len, dtype=np.float64)
    tgt_len = np.asarray(tgt_len, dtype=np.float64)
    if len(src_len) != n or len(tgt_len) != m:
        raise ValueError("length arrays must match the number of sentences")
    if n == 0 or m == 0:
        beads = [Bead([i], [], params.skip_penalty) for i in range(n)]
        beads += [Bead([], [j], params.skip_penalty) for j in range(m)]
        return AlignResult(beads, {"align": time.perf_counter() - t_start})
    K = min(params.max_overlap, src_ov.shape[0], tgt_ov.shape[0])
    src_ov, tgt_ov = src_ov[:K], tgt_ov[:K]
    types = bead_types(K, params.max_bead_size)
    total_y = float(tgt_len.sum())
    ratio = float(src_len.sum()) / total_y if total_y > 0 else 1.0
    if ratio <= 0:
        ratio = 1.0

    # coarse levels: halve single-sentence vectors until the DP is small
    levels: list[_Level] = []
    x1, y1, lx, ly = src_ov[0], tgt_ov[0], src_len, tgt_len
    while (x1.shape[0] + 1) * (y1.shape[0] + 1) > params.max_coarse_cells and min(
        x1.shape[0], y1.shape[0]
    ) > 1:
        x1, lx = _halve(x1, lx)
        y1, ly = _halve(y1, ly)
        kc = min(2, K)
        levels.append(_Level(averaged_overlaps(x1, kc), averaged_overlaps(y1, kc), lx, ly))
    timings: dict[str, float] = {}
    path: list[tuple[int, int, int]] = []
    coarse_cells = 0
    prev_level: _Level | None = None
    for level in reversed(levels):
        ln, lm = level.src_ov.shape[1], level.tgt_ov.shape[1]
        ctypes = bead_types(level.src_ov.shape[0], params.max_bead_size)
        if prev_level is None:
            band = full_band(ln, lm)
        else:
            band = band_around_path([(i, j) for i, j, _ in path], ln, lm, params.band_width, 2)
        path, *_ = _solve_level(level, band, ctypes, ratio, params, passes=0)
        coarse_cells = max(coarse_cells, band.size)
        prev_level = level
    timings["coarse"] = time.perf_counter() - t_start

    # finest level, widening the band while the path hugs its edge
    fine = _Level(src_ov, tgt_ov, src_len, tgt_len)
    half = params.band_width
    while True:
        if prev_level is None:
            band = full_band(n, m)
        else:
            band = band_around_path([(0, 0)] + [(i, j) for i, j, _ in path], n, m, half, 2)
        fine_path, scores, margins, scale, ratio_used = _solve_level(
            fine, band, types, ratio, params, params.refine_passes, calibration, evidence
        )
        if prev_level is None or not _touches_edge(fine_path, band):
            break
        if half >= params.max_band_width:
            break
        half *= 2
        # re-project from the finer path itself: it already found where the edge is
        path = [(i // 2, j // 2, t) for i, j, t in fine_path]
    beads = _path_to_beads(fine_path, types, scores, margins, band)
    timings["align"] = time.perf_counter() - t_start
    timings["band_cells"] = float(band.size)
    timings["band_half_width"] = float(half)
    timings["coarse_cells"] = float(coarse_cells)
    timings["scale"] = scale
    timings["length_ratio"] = ratio_used
    return AlignResult(beads, timings)


def _path_to_beads(
    path: Sequence[tuple[int, int, int]],
    types: Sequence[tuple[int, int]],
    scores: np.ndarray,
    margins: np.ndarray,
    band: Band,
) -> list[Bead]:
    beads: list[Bead] = []
    for i, j, t in path:
        a, b = types[t]
        cell = int(band.offset[i] + j - band.lo[i])
        score = float(scores[t, cell])
        beads.append(
            Bead(
                src=list(range(i - a, i)),
                tgt=list(range(j - b, j)),
                score=round(score, 4),
                margin=round(float(margins[t, cell]), 4),
            )
        )
    return beads


# ------------------------------------------------------------------ with encoder


def overlap_texts(sentences: Sequence[str], max_overlap: int, joiner: str = " ") -> list[list[str]]:
    """texts[k-1][s] = sentences s..s+k-1 joined (Bertalign/Vecalign overlaps)."""
    return [
        [joiner.join(sentences[s : s + k]) for s in range(len(sentences) - k + 1)]
        for k in range(1, max_overlap + 1)
    ]


def embed_overlaps(
    sides: Sequence[Sequence[str]], encoder: Encoder, max_overlap: int
) -> list[np.ndarray]:
    """Overlap embeddings (K, n, d) for each side, with ONE encoder call over the distinct
    texts of all sides (the encoder is the cost; duplicates such as numbers are common)."""
    per_side = [overlap_texts(s, max_overlap) for s in sides]
    unique: dict[str, int] = {}
    for texts in per_side:
        for level in texts:
            for text in level:
                unique.setdefault(text, len(unique))
    vectors = (
        normalize_rows(encoder.encode(list(unique)))
        if unique
        else np.zeros((0, encoder.dim), np.float32)
    )
    out = []
    for sents, texts in zip(sides, per_side, strict=True):
        arr = np.zeros((max_overlap, len(sents), vectors.shape[1]), dtype=np.float32)
        for k, level in enumerate(texts):
            if level:
                arr[k, : len(level)] = vectors[[unique[t] for t in level]]
        out.append(arr)
    return out


def align_texts(
    src: Sequence[str],
    tgt: Sequence[str],
    encoder: Encoder,
    params: AlignParams | None = None,
) -> AlignResult:
    """Align two lists of sentences (any language order).

    Blank sentences carry no meaning to embed: they are aligned afterwards, blank to blank
    where both sides have blanks at the same place (paragraph breaks, as hunalign's <p>),
    otherwise as 1-0/0-1 beads right after the bead of the preceding sentence.
    """
    params = params or AlignParams()
    src_keep = [i for i, s in enumerate(src) if s.strip()]
    tgt_keep = [j for j, s in enumerate(tgt) if s.strip()]
    src_text = [src[i].strip() for i in src_keep]
    tgt_text = [tgt[j].strip() for j in tgt_keep]
    t0 = time.perf_counter()
    first_pass_s = 0.0
    if params.embed_all_overlaps or not src_text or not tgt_text:
        src_ov, tgt_ov = embed_overlaps([src_text, tgt_text], encoder, params.max_overlap)
        levels = [*overlap_texts(src_text, params.max_overlap)]
        levels += overlap_texts(tgt_text, params.max_overlap)
        n_texts = len({t for level in levels for t in level})
    else:
        (src_ov, tgt_ov), n_texts, first_pass_s = embed_open_overlaps(
            [src_text, tgt_text], encoder, params
        )
    t_embed = time.perf_counter() - t0 - first_pass_s
    result = align_embeddings(
        src_ov,
        tgt_ov,
        [len(s) for s in src_text],
        [len(s) for s in tgt_text],
        params,
        evidence=sentence_evidence(src_text, tgt_text) if params.lexical_weight > 0 else None,
    )
    beads = [
        Bead(
            _span([src_keep[i] for i in b.src]),
            _span([tgt_keep[j] for j in b.tgt]),
            b.score,
            b.margin,
        )
        for b in result.beads
    ]
    beads = insert_blank_lines(beads, len(src), len(tgt))
    timings = {"embed": t_embed, **result.timings, "texts_embedded": float(n_texts)}
    timings["first_pass"] = first_pass_s  # aligner time spent choosing the overlaps
    timings["align"] = timings.get("align", 0.0) + first_pass_s
    return AlignResult(beads, timings)


def _span(indices: list[int]) -> list[int]:
    """A merged bead that spans a blank line takes the blank in, keeping beads in order."""
    return list(range(indices[0], indices[-1] + 1)) if indices else []


def insert_blank_lines(beads: list[Bead], n_src: int, n_tgt: int) -> list[Bead]:
    """Put back the sentences left out of the DP (blank lines) so every index is covered.

    Each blank goes right after the bead holding the nearest preceding kept sentence of its
    side; where blanks of both sides land at the same place they pair up 1-1 (a paragraph
    break on both sides), the rest become 1-0 / 0-1 beads with score 0.
    """
    src_covered = {i for bead in beads for i in bead.src}
    tgt_covered = {j for bead in beads for j in bead.tgt}
    src_blank = sorted(set(range(n_src)) - src_covered)
    tgt_blank = sorted(set(range(n_tgt)) - tgt_covered)
    if not src_blank and not tgt_blank:
        return beads
    src_pos: dict[int, int] = {}
    tgt_pos: dict[int, int] = {}
    for k, bead in enumerate(beads):
        for i in bead.src:
            src_pos[i] = k
        for j in bead.tgt:
            tgt_pos[j] = k

    def slot(index: int, positions: dict[int, int]) -> int:
        # slot k+1 = after bead k; slot 0 = before everything
        best = 0
        for prev in range(index - 1, -1, -1):
            if prev in positions:
                best = positions[prev] + 1
                break
        return best

    by_slot_src: dict[int, list[int]] = {}
    by_slot_tgt: dict[int, list[int]] = {}
    for i in src_blank:
        by_slot_src.setdefault(slot(i, src_pos), []).append(i)
    for j in tgt_blank:
        by_slot_tgt.setdefault(slot(j, tgt_pos), []).append(j)
    out: list[Bead] = []
    for k in range(len(beads) + 1):
        s_list = by_slot_src.get(k, [])
        t_list = by_slot_tgt.get(k, [])
        paired = min(len(s_list), len(t_list))
        for p in range(paired):
            out.append(Bead([s_list[p]], [t_list[p]], 0.0, 0.0))
        out.extend(Bead([i], [], 0.0, 0.0) for i in s_list[paired:])
        out.extend(Bead([], [j], 0.0, 0.0) for j in t_list[paired:])
        if k < len(beads):
            out.append(beads[k])
    return out
