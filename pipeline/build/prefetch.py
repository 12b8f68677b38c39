"""Embedding batched across documents, in an order that makes the corpus reproducible.

Why this exists: the bundled encoder's vectors depend on the batch a text is embedded
in (flat micro-batches through BLAS; differences around 2e-7, measured), and the shared
embedding cache keeps whichever vector was stored first. If workers embedded their own
documents, the batch a text landed in would depend on which worker got there first, and
two builds of the same archive would differ in the last digits of their scores. So the
build embeds in *chunks* of pairs with fixed boundaries (pair index // chunk size, in
symbol order), one chunk after another, and hands each pair its vectors; workers then
only align. The result is the same for 1 worker, N workers or Ray, and for a build that
was interrupted and resumed.

What a pair needs (:func:`prefetch_texts`) mirrors what ``docalign.align_pair`` asks
for: sentences, blocks, block overlaps inside the segments the paragraph DP searches,
and sentence overlaps inside each paragraph. A text outside that set (a "straggler": an
overlap across two paragraphs that the paragraph DP merged) is embedded alone, in a
batch of one, which is again independent of everything else; it is counted, never
hidden.

Segmentation runs once per document: the texts of a chunk are found inside
``remembered_segments`` (every step that asks for a document's sentences gets the same
ones), and each pair's sentences travel on with it (``PrefetchedPair.sentences``) to
``align_pair``, which then does not segment again.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.data import DocumentPair, Sentence

#: A pair's sentences, English then Chinese (``pipeline.text.segment.segment_document``).
PairSentences = tuple[list[Sentence], list[Sentence]]

#: Pairs whose texts go to the encoder in one call (the "embedding batch").
DEFAULT_CHUNK_PAIRS = 16


def single_texts(pair: DocumentPair) -> list[str]:
    """Every sentence and block of both sides: the first embedding call."""
    from pipeline.text.segment import segment_document

    texts: list[str] = []
    for doc in (pair.en, pair.zh):
        texts.extend(s.text for s in segment_document(doc))
        texts.extend(b.text for b in doc.blocks)
    return list(dict.fromkeys(texts))


def prefetch_texts(
    pair: DocumentPair, params: Any, vectors: Callable[[list[str]], np.ndarray]
) -> list[str]:
    """Distinct texts ``align_pair`` will embed for ``pair``, in a fixed order: the single
    texts, then the overlaps a bead can use (pipeline.align.overlaps.pair_overlap_texts: only
    runs that cross no boundary between two confidently linked neighbours, inside the
    pieces the structure fixes). ``vectors`` gives the normalised vectors of single texts
    (already embedded by the first call)."""
    from pipeline.align.overlaps import pair_overlap_texts

    return list(dict.fromkeys(single_texts(pair) + pair_overlap_texts(pair, vectors, params)))


@dataclass
class PrefetchedPair:
    """A pair whose texts are in the embedding cache (``texts`` None: in the work cache).

    Only the texts travel, not the vectors: a worker reads them back from the shared
    cache, so what is in flight between stages stays small (a few hundred kB a pair).
    """

    pair: DocumentPair
    texts: list[str] | None = None
    cache_file: str = ""
    fingerprint: str = ""
    dim: int = 0
    #: The pair's sentences as the embed stage segmented them (None: align_pair segments).
    sentences: PairSentences | None = None


def chunk_index(position: int, chunk_pairs: int) -> int:
    """Fixed chunk boundaries: the n-th pair in symbol order is in chunk n // size."""
    return position // chunk_pairs


def chunk_texts(
    pairs: Sequence[DocumentPair],
    needs_work: Sequence[bool],
    embed: Callable[[list[str]], np.ndarray],
    params: Any,
) -> tuple[list[list[str] | None], dict[str, np.ndarray], list[PairSentences | None]]:
    """The texts each pair of a chunk needs, found with TWO calls of ``embed``: every
    single sentence and block of the pairs that need work first, then the overlaps those
    vectors say a bead can use (:func:`prefetch_texts`). Both calls depend only on the
    chunk, so every engine embeds the same texts in the same batches and the corpus does
    not depend on workers or engines. Returns the texts per pair (None: no work), the
    normalised vector of every text embedded and each pair's sentences (None: no work),
    every document segmented once."""
    from pipeline.text.segment import remembered_segments, segment_document

    with remembered_segments():
        wanted, lookup = _chunk_texts(pairs, needs_work, embed, params)
        sentences: list[PairSentences | None] = [
            (segment_document(pair.en), segment_document(pair.zh)) if work else None
            for pair, work in zip(pairs, needs_work, strict=True)
        ]
    return wanted, lookup, sentences


def _chunk_texts(
    pairs: Sequence[DocumentPair],
    needs_work: Sequence[bool],
    embed: Callable[[list[str]], np.ndarray],
    params: Any,
) -> tuple[list[list[str] | None], dict[str, np.ndarray]]:
    todo = [pair for pair, work in zip(pairs, needs_work, strict=True) if work]
    singles = list(dict.fromkeys(t for pair in todo for t in single_texts(pair)))
    if not singles:
        return [None] * len(pairs), {}
    # ``embed`` is an encoder's: unit rows already (pipeline.embed.base.Encoder).
    lookup = dict(zip(singles, embed(singles), strict=True))

    def vectors(texts: list[str]) -> np.ndarray:
        return np.stack([lookup[t] for t in texts]) if texts else np.zeros((0, 1), np.float32)

    wanted: list[list[str] | None] = [
        prefetch_texts(pair, params, vectors) if work else None
        for pair, work in zip(pairs, needs_work, strict=True)
    ]
    second = list(dict.fromkeys(t for texts in wanted if texts for t in texts if t not in lookup))
    if second:
        lookup.update(zip(second, embed(second), strict=True))
    return wanted, lookup


def embed_chunk(
    pairs: Sequence[DocumentPair],
    needs_work: Sequence[bool],
    encoder: Any,
    params: Any,
) -> list[PrefetchedPair]:
    """Embed the texts of a chunk's pairs that still need aligning (:func:`chunk_texts`)
    into the embedding cache; pairs that need no work pass through without texts.

    ``encoder`` is the cached encoder (``pipeline.embed.CachedEncoder``): texts already
    in the cache cost a lookup, the rest go to the model together and are stored.
    ``params``: the AlignParams the pairs will be aligned with (an int is taken as
    max_overlap with default settings).
    """
    from pipeline.align import AlignParams

    if isinstance(params, int):
        params = AlignParams(max_overlap=params)
    wanted, _, sentences = chunk_texts(pairs, needs_work, encoder.encode, params)
    return [
        PrefetchedPair(pair)
        if texts is None
        else PrefetchedPair(
            pair,
            texts,
            str(encoder.path),
            str(encoder.fingerprint),
            int(encoder.dim),
            sentences=pair_sentences,
        )
        for pair, texts, pair_sentences in zip(pairs, wanted, sentences, strict=True)
    ]


def read_vectors(item: PrefetchedPair) -> np.ndarray:
    """The vectors of ``item.texts`` from the embedding cache, in order.

    Read-only and one clear error if any is missing: the embed stage stored them all,
    so a miss means the cache was changed under the build.
    """
    from pipeline.embed import text_key

    assert item.texts is not None
    keys = [text_key(t) for t in item.texts]
    found: dict[bytes, bytes] = {}
    with closing(sqlite3.connect(item.cache_file, timeout=60.0)) as db:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT key, vector FROM embeddings WHERE model = ? AND key IN ({marks})",
                [item.fingerprint, *chunk],
            )
            found.update((bytes(key), bytes(vector)) for key, vector in rows)
    missing = [t for t, k in zip(item.texts, keys, strict=True) if k not in found]
    if missing:
        raise RuntimeError(
            f"{item.pair.symbol}: {len(missing)} prefetched text(s) missing from the "
            f"embedding cache {item.cache_file} (first: {missing[0][:60]!r})"
        )
    out = np.empty((len(keys), item.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        out[row] = np.frombuffer(found[key], dtype="<f4")
    return out


@dataclass
class PrefetchedEncoder:
    """The encoder ``align_pair`` sees in a worker: the pair's vectors, looked up.

    A text outside the prefetched set is embedded alone by ``single`` (loaded only
    when first needed) so its vector never depends on other texts.
    """

    name: str
    dim: int
    texts: list[str]
    vectors: np.ndarray
    single: Callable[[], Any]
    stragglers: int = 0
    straggler_seconds: float = 0.0
    _rows: dict[str, int] = field(default_factory=dict)
    _extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rows = {t: k for k, t in enumerate(self.texts)}

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        for text in texts:
            if text not in self._rows and text not in self._extra:
                started = time.perf_counter()
                vector = np.asarray(self.single().encode([text]), dtype=np.float32)[0]
                self.straggler_seconds += time.perf_counter() - started
                self._extra[text] = vector
                self.stragglers += 1
        return np.stack(
            [self.vectors[self._rows[t]] if t in self._rows else self._extra[t] for t in texts]
        ).astype(np.float32, copy=False)
