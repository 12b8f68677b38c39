"""The aligner's settings and result types: AlignParams (every knob, with the reason for
its default), AlignResult and Swap, the bead shapes searched, and the averaged overlap
embeddings used where only sentence vectors exist."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pipeline.align.kernels import running_sum
from pipeline.records import Bead

NEG_INF = -np.inf


@dataclass(frozen=True)
class AlignParams:
    """Every setting of the aligner, with the reason for its default.

    Scores are in *calibrated units*: 1.0 is the typical score of a correct 1-1 bead in the
    document at hand (see ``scale`` in :func:`align_embeddings`), so the penalties below do not
    depend on the encoder.

    What users tune (``align-text``/``build`` options and notebooks): ``max_overlap``,
    ``max_bead_size``, ``skip_penalty`` (more or fewer unaligned sentences), the evidence
    weights ``length_weight``, ``support_weight``, ``lexical_weight``, ``link_weight`` and
    ``structure_weight`` (0 turns a term off), ``hub_z``. The rest are the search's
    internals (band, coarse cells, refinement, overlap choice, block size): they trade
    time and memory, and their defaults hold on every set we measured.
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
    #: Weight of the length term w * (log2(1 + rho) - 1), rho = min/max of the two character
    #: lengths after scaling by the document's length ratio; 0 for equal lengths, -w at worst.
    #: 0.6: chosen by leave-one-chapter-out on MAC-Dev from {0.3, 0.6} (docs/experiments);
    #: length is what tells a translator's split (the partial 1-1 is too short) from an
    #: insertion glued on (the merged side too long) when the embeddings cannot.
    length_weight: float = 0.6
    #: Weight of the support term: a merged bead loses support_weight * (support_floor -
    #: s) when its weakest sentence s (calibrated margin of that sentence alone against the
    #: other side's text) is below support_floor. Stops insertions being glued onto merges.
    #: With the "mean" margin, 0 is what an unrelated sentence scores, so the floor 0 asks
    #: each sentence of a merge to match the other side at least as well as unrelated text
    #: does; anything stricter leaves the short second halves of real splits unaligned
    #: ("Tomorrow.'" matches nothing on its own; tests/align/test_align_texts.py).
    support_weight: float = 0.5
    support_floor: float = 0.0
    #: Lexical support (pipeline.align.evidence): a sentence of a merged side that shares no
    #: translated word (CC-CEDICT, zh-en only), number or name with the other side of the
    #: bead counts lexical_weight (calibrated) weaker in the support term, i.e. it must
    #: match the other side by that much more than unrelated text does. Words are what
    #: tell a translator's split (its halves share words with the source) from a related
    #: insertion glued on (it shares none) when the embeddings cannot; the embedding can
    #: still carry a half the lexicon misses. Scaled per document by how reliable a
    #: missing link is there (evidence.reliability). 0.5: chosen by leave-one-chapter-out
    #: on MAC-Dev from {0, 0.5, 1} (docs/experiments); it takes tests/gold/general from
    #: 0.910 back to 0.963. 0 turns it off.
    lexical_weight: float = 0.5
    #: The other half of the lexical evidence (pipeline.align.evidence): a sentence of a merged
    #: side that shares a translated word, number or name with the other side of its bead
    #: counts link_weight x (1 - l_far / l_true) stronger in the support term, where l_true
    #: and l_far are the document's shares of linked confident pairs and of linked pairs two
    #: beads apart. So a translator's weak half that the embedding misses ("She got used to
    #: it after a while.") is not left out when its words are on the other side: a sentence
    #: is left unaligned only when neither embedding nor words find its meaning there. It
    #: only cancels a support shortfall, never adds a bonus. 2.0: chosen by leave-one-
    #: chapter-out on MAC-Dev from {0, 1, 2} (docs/experiments); 0 turns it off.
    link_weight: float = 2.0
    #: Weight of the structure term (pipeline.align.anchors): a bead that starts both
    #: sides at a block start both versions label alike (operative paragraph 5, footnote
    #: 3, the first operative paragraph) gains it, one that pairs such a start with
    #: another sentence or runs across one loses it. Half a typical bead: shared
    #: structure settles what the content leaves open, and content that disagrees with
    #: it (a shifted numbering) still wins. Only callers that pass anchors use it.
    structure_weight: float = 0.5
    #: A 2-2 bead whose crossed pairs both score above this counts as a swap and scores
    #: their mean (see _score_swaps); None turns swap scoring off.
    swap_floor: float | None = 0.3
    #: The kNN neighbourhood: sentences within this many positions of the expected
    #: position (band centre or diagonal); None = the whole band.
    hub_window: int | None = 20
    #: Standard deviations above the neighbourhood mean where the "mean" margin puts 0:
    #: the evidence a pair needs before it counts for a bead. Chosen by leave-one-chapter-
    #: out from {0, 0.5, 1}; higher values leave more sentences unaligned.
    hub_z: float = 0.5
    #: Overlaps embedded (pipeline.align.overlaps): runs of sentences that cross no boundary
    #: between two confidently linked neighbours, and of those a run of 3+ sentences only
    #: if it meets at most this many beads of the first pass (grouped_runs); None embeds
    #: every open run (1.6x the encoding for no measured gain).
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
        if self.band_width < 1:
            raise ValueError("band_width must be >= 1")
        if self.overlap_groups is not None and self.overlap_groups < 1:
            raise ValueError("overlap_groups must be >= 1 or None")
        if self.hub_window is not None and self.hub_window < 1:
            raise ValueError("hub_window must be >= 1 or None")
        weights = (
            self.support_weight, self.length_weight, self.lexical_weight, self.link_weight,
            self.structure_weight,
        )  # fmt: skip
        if min(weights) < 0:
            raise ValueError(
                "support_weight, length_weight, lexical_weight, link_weight and "
                "structure_weight must be >= 0"
            )
        # A NaN or infinite term makes every path score NaN/inf, and the DP then fails far
        # from the cause ("alignment band does not connect start and end").
        for name in (
            "skip_penalty", "length_weight", "support_weight",
            "support_floor", "swap_floor", "confident_score", "hub_z", "lexical_weight",
            "link_weight", "structure_weight",
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


@dataclass(frozen=True)
class Swap:
    """A 2-2 bead scored as two crossed 1-1 pairs (pipeline.align.scoring.score_swaps):
    ``bead`` its index in the result, ``scores`` and ``margins`` those of src first - tgt
    second and src second - tgt first."""

    bead: int
    scores: tuple[float, float]
    margins: tuple[float, float]


@dataclass
class AlignResult:
    beads: list[Bead]
    timings: dict[str, float] = field(default_factory=dict)
    swaps: list[Swap] = field(default_factory=list)


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
    """L2-normalise rows; zero rows stay zero (they then have cosine 0 with everything).

    For vectors made by summing or averaging unit rows (overlaps built from sentence
    vectors, halved levels): a sum is not a unit vector. An encoder's output is unit
    already (``pipeline.embed.base.Encoder``) and is not normalised again: that would
    only move the last float bits of some rows."""
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
    # the running sum with a zero row first (np.cumsum's sums, compiled: its strided
    # loop was most of this function's time)
    csum = running_sum(np.ascontiguousarray(emb, dtype=np.float32))
    for k in range(1, max_overlap + 1):
        if n - k + 1 > 0:
            # normalize_rows, written into ``out`` in place (no temporaries of n x d)
            dest = out[k - 1, : n - k + 1]
            np.subtract(csum[k:], csum[: n - k + 1], out=dest)
            norms = np.linalg.norm(dest, axis=-1, keepdims=True)
            np.divide(dest, np.where(norms > 0, norms, 1.0), out=dest)
    return out
