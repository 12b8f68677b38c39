"""The align stage: sentence and paragraph beads for a pair, from the work cache when
it holds them."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from pipeline.build.configs import AlignConfig
from pipeline.build.output import BuildError
from pipeline.build.prefetch import (
    PrefetchedEncoder,
    PrefetchedPair,
    read_vectors,
)
from pipeline.build.runner import (
    Stage,
)
from pipeline.build.stages.read import _model_name
from pipeline.build.workcache import WorkCache, _align_params_dict
from pipeline.corpus.records import FailedPair
from pipeline.corpus.report import (
    MAX_PICTURE_PX,
    block_mean,
    downsample_factors,
)
from pipeline.corpus.rows import AlignedDocument

log = logging.getLogger("pipeline.build")


class AlignStage(Stage[PrefetchedPair, AlignedDocument]):
    """Pair -> alignment, from the work cache when nothing it depends on changed.

    The vectors come from the embedding cache (the embed stage put them there); a
    text ``align_pair`` asks for beyond them is embedded alone (see
    ``pipeline.build.prefetch``), by a model loaded only if that ever happens.
    """

    name = "align"
    item_independent = True

    def __init__(self, config: AlignConfig) -> None:
        super().__init__()
        self.config = config
        self.cache = work_cache(config)
        self._single: Any | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_single"] = None  # a model never travels to a worker
        return state

    def label(self, item: PrefetchedPair) -> str:
        return item.pair.symbol

    def _single_encoder(self) -> Any:
        if self._single is None:
            from pipeline.embed import load_encoder

            started = time.perf_counter()
            encoder = self.config.encoder
            self._single = load_encoder(
                encoder.model, device=encoder.device, batch_size=encoder.batch_size
            )
            self.stats.add_time("load_encoder", time.perf_counter() - started)
        return self._single

    def process(self, item: PrefetchedPair) -> Iterator[AlignedDocument]:
        if item.texts is None:
            cached = self.cache.load(item.pair)
            if cached is None:
                raise BuildError(f"{item.pair.symbol}: work-cache entry vanished during the build")
            self.stats.counters["cached_pairs"] += 1
            self.record("models", cached.model)
            yield cached
            return
        yield from self.align_item(item)

    def align_item(
        self, item: PrefetchedPair, vectors: np.ndarray | None = None
    ) -> Iterator[AlignedDocument]:
        """Align one pair needing work; ``vectors`` (rows of ``item.texts``) when they
        travelled with it (Ray), else they are read from the embedding cache."""
        started = time.time()
        try:
            aligned = self._align(item, vectors)
        except Exception as error:  # one pair failing must not stop the build
            from pipeline.embed import EncoderError

            if isinstance(error, EncoderError):
                raise
            self.drop("align_error")
            reason = f"alignment failed: {type(error).__name__}: {error}"
            self.record("failed", FailedPair(item.pair.symbol, reason))
            log.warning("%s: %s", item.pair.symbol, reason)
            return
        self.cache.store(aligned)
        self.stats.counters["aligned_pairs"] += 1
        self.record("models", aligned.model)
        self.record("busy", (started, time.time()))
        yield aligned

    def _align(self, item: PrefetchedPair, vectors: np.ndarray | None = None) -> AlignedDocument:
        from pipeline.align.document import align_pair
        from pipeline.embed import EncoderError

        pair = item.pair
        started = time.perf_counter()
        if vectors is None:
            try:
                vectors = read_vectors(item)
            except RuntimeError as error:
                raise EncoderError(self.config.encoder.model, str(error)) from error
            self.stats.add_time("read_vectors", time.perf_counter() - started)
        model_name = _model_name(self.config.encoder.model)
        encoder = PrefetchedEncoder(
            name=model_name,
            dim=item.dim,
            texts=item.texts or [],
            vectors=vectors,
            single=self._single_encoder,
        )
        from pipeline.blas import threadpool_limits

        started = time.perf_counter()
        # One BLAS thread wherever it runs (driver, pool worker, Ray task): a matrix
        # product split over threads sums in another order, and the corpus must not
        # depend on the engine.
        with threadpool_limits(limits=1, user_api="blas"):
            result = align_pair(pair, encoder, self.config.params, sentences=item.sentences)
        self.stats.add_time("align_pair", time.perf_counter() - started)
        self.stats.counters["stragglers"] += encoder.stragglers
        self.stats.counters["sentences_en"] += len(result.en_sentences)
        self.stats.counters["sentences_zh"] += len(result.zh_sentences)
        for name, seconds in result.timings.items():
            self.stats.add_time(f"align_pair.{name}", float(seconds))
        en_emb = np.asarray(result.en_embeddings, dtype=np.float32)
        zh_emb = np.asarray(result.zh_embeddings, dtype=np.float32)
        with threadpool_limits(limits=1, user_api="blas"):  # the picture too (same reason)
            similarity = similarity_matrix(en_emb, zh_emb)
        return AlignedDocument(
            pair=pair,
            en_sentences=list(result.en_sentences),
            zh_sentences=list(result.zh_sentences),
            beads=list(result.beads),
            paragraph_beads=list(result.paragraph_beads),
            similarity=similarity,
            shape=(len(result.en_sentences), len(result.zh_sentences)),
            model=model_name,
            timings={k: float(v) for k, v in result.timings.items()},
        )


def work_cache(config: AlignConfig) -> WorkCache:
    """The work cache the align stage fills and the chunk stage consults."""
    return WorkCache(
        config.work_cache, model=config.encoder.model, params=_align_params_dict(config.params)
    )


def similarity_matrix(en: np.ndarray, zh: np.ndarray, max_side: int = MAX_PICTURE_PX) -> np.ndarray:
    """Cosine similarities of every en x zh sentence pair, averaged down so that neither
    side exceeds ``max_side`` (the report picture; the work cache stores this).

    Computed in row blocks, so a 10,000-sentence document never holds the full matrix.
    """
    n, m = en.shape[0], zh.shape[0]
    if n == 0 or m == 0:
        return np.zeros((0, 0), dtype=np.float32)
    row_step, col_step = downsample_factors(n, m, max_side)
    rows_per_block = row_step * max(1, 1024 // row_step)
    parts = [
        block_mean(en[start : start + rows_per_block] @ zh.T, row_step, col_step)
        for start in range(0, n, rows_per_block)
    ]
    # float16 precision is what the work cache stores: a fresh and a cached build then
    # draw the same picture, byte for byte.
    return np.concatenate(parts, axis=0).astype(np.float16).astype(np.float32)
