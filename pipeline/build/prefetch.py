"""The embedding plan of a chunk of pairs: which texts to embed, in which batches.

Why chunks: the bundled encoder's vectors depend on the batch a text is embedded in
(flat micro-batches through BLAS; differences around 2e-7, measured), and the shared
embedding cache keeps whichever vector was stored first. If workers embedded their own
documents, the batch a text landed in would depend on which worker got there first, and
two builds of the same archive would differ in the last digits of their scores. So the
build embeds in *chunks* of pairs with fixed boundaries (pair index // chunk size, in
symbol order), one chunk after another, and hands each pair its plan and its vectors;
workers then only align. The result is the same for 1 worker, N workers or Ray, and for
a build that was interrupted and resumed.

A chunk costs two encoder calls, as ``align-text`` costs two: every sentence of its
pairs first, then the overlaps each pair's plan calls for (``pipeline.align.document.
plan_pair``: the aligner's first pass decides, once, which runs of sentences a bead can
use). Each pair then travels with its sentences (segmented once, here), its plan and the
vectors of every text the plan reads, in memory: the on-disk embedding cache serves
later builds, never this one's stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.align.document import PairPlan
from pipeline.data import DocumentPair, Sentence

#: A pair's sentences, English then Chinese (``pipeline.text.segment.segment_document``).
PairSentences = tuple[list[Sentence], list[Sentence]]

#: Pairs whose texts go to the encoder in one call (the "embedding batch").
DEFAULT_CHUNK_PAIRS = 16


@dataclass
class PlannedPair:
    """A pair on its way to the aligner. ``plan`` None: its alignment is in the work cache.

    ``texts`` and ``matrix`` hold the vector of every text the plan reads (one row per
    text): a matrix pickles to a pool worker in one piece, where a dict of arrays would
    not."""

    pair: DocumentPair
    sentences: PairSentences | None = None
    plan: PairPlan | None = None
    texts: list[str] | None = None
    matrix: np.ndarray | None = None

    def vectors(self) -> dict[str, np.ndarray]:
        """text -> unit vector for every text of the plan."""
        assert self.texts is not None and self.matrix is not None
        return dict(zip(self.texts, self.matrix, strict=True))


def chunk_index(position: int, chunk_pairs: int) -> int:
    """Fixed chunk boundaries: the n-th pair in symbol order is in chunk n // size."""
    return position // chunk_pairs


@dataclass
class ChunkCounts:
    """What a chunk asked of the encoder: distinct texts requested, and how many of them
    the model embedded (the rest came from the embedding cache)."""

    requested: int = 0
    embedded: int = 0


def plan_chunk(
    pairs: Sequence[DocumentPair],
    needs_work: Sequence[bool],
    encoder: Any,
    params: Any,
) -> tuple[list[PlannedPair], ChunkCounts]:
    """Segment, embed and plan a chunk's pairs that still need aligning (module docstring);
    pairs that need none pass through without a plan. ``encoder``: an Encoder, usually
    the cached one (``pipeline.embed.CachedEncoder``: texts already in the cache cost a
    lookup). Both calls depend only on the chunk, so every engine embeds the same texts
    in the same batches and the corpus does not depend on workers or engines."""
    from pipeline.align.document import pair_single_texts, plan_pair
    from pipeline.text.segment import segment_document

    counts = ChunkCounts()
    todo = [k for k, work in enumerate(needs_work) if work]
    sentences = {k: (segment_document(pairs[k].en), segment_document(pairs[k].zh)) for k in todo}
    first = list(dict.fromkeys(t for k in todo for t in pair_single_texts(pairs[k], sentences[k])))
    vectors: dict[str, np.ndarray] = {}
    _embed(encoder, first, vectors, counts)
    plans = {k: plan_pair(pairs[k], sentences[k], vectors, params) for k in todo}
    second = [t for k in todo for t in plans[k].overlap_texts() if t not in vectors]
    _embed(encoder, list(dict.fromkeys(second)), vectors, counts)
    out = []
    for k, pair in enumerate(pairs):
        if k not in plans:
            out.append(PlannedPair(pair))
            continue
        texts = plans[k].texts()
        matrix = np.stack([vectors[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)
        out.append(PlannedPair(pair, sentences[k], plans[k], texts, matrix))
    return out, counts


def _embed(
    encoder: Any, texts: list[str], vectors: dict[str, np.ndarray], counts: ChunkCounts
) -> None:
    """One encoder call over ``texts`` into ``vectors``, counted."""
    if not texts:
        return
    before = getattr(encoder, "texts_embedded", None)
    rows = np.asarray(encoder.encode(texts), dtype=np.float32)  # unit rows (Encoder)
    vectors.update(zip(texts, rows, strict=True))
    counts.requested += len(texts)
    counts.embedded += len(texts) if before is None else encoder.texts_embedded - before
