"""Sentence alignment core: banded coarse-to-fine dynamic programming over embeddings.

Why this design (see README "Aligner" for the long form):

* **Overlap embeddings** (Vecalign, Bertalign): every run of 1..``max_overlap`` consecutive
  sentences is embedded as one text, so a bead that merges sentences is scored by comparing
  the meaning of the merged text with its counterpart, not by averaging vectors.
* **Margin against the neighbourhood** (pipeline.align.margins): plain cosine favours "hub"
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
* **Only useful overlaps are embedded** (pipeline.align.overlaps): runs of sentences that cross
  no boundary between two confidently linked neighbours; the encoder is the cost.
* **Search** (Vecalign): halve both documents until the DP is small, solve it exhaustively,
  then at each finer level search only a band around the projected path, widening the band
  where the path touches its edge. Time and memory grow linearly with the number of
  sentences; no N x M matrix is ever built.

Everything here is pure numpy over explicit arguments; ``align_texts`` is the only function
that touches an encoder.
"""

from __future__ import annotations

from pipeline.align.band import Band, band_around_path, full_band, make_band
from pipeline.align.params import AlignParams, AlignResult, Swap, bead_types
from pipeline.align.search import align_embeddings, dp_band
from pipeline.align.texts import (
    Encoder,
    align_planned,
    align_texts,
    embed_overlaps,
    insert_blank_lines,
    overlap_texts,
)

#: The core's entry points and records. Scoring parts (margins, support, lexical terms,
#: kernels) are imported from their modules by what uses them.
__all__ = [
    "AlignParams",
    "AlignResult",
    "Band",
    "Encoder",
    "Swap",
    "align_embeddings",
    "align_planned",
    "align_texts",
    "band_around_path",
    "bead_types",
    "dp_band",
    "embed_overlaps",
    "full_band",
    "insert_blank_lines",
    "make_band",
    "overlap_texts",
]
