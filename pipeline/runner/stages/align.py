"""The align stage: sentence and paragraph beads for a pair, from the work cache when
it holds them."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import numpy as np

from pipeline.corpus.report import (
    MAX_PICTURE_PX,
    block_mean,
    downsample_factors,
)
from pipeline.records import AlignedDocument, FailedPair, PlannedPair
from pipeline.runner.configs import AlignConfig
from pipeline.runner.output import BuildError
from pipeline.runner.stage import (
    Stage,
)
from pipeline.runner.workcache import WorkCache, _align_params_dict

log = logging.getLogger("pipeline.build")


class AlignStage(Stage[PlannedPair, AlignedDocument]):
    """Pair -> alignment, from the work cache when nothing it depends on changed.

    A pair needing work arrives with its sentences, its plan and its vectors (the embed
    stage: ``pipeline.runner.stages.embed``); this stage runs the plan's final pass
    (``pipeline.align.document.align_planned_pair``) and never meets an encoder.
    """

    name = "align"
    item_independent = True
    parallel = True

    def __init__(self, config: AlignConfig) -> None:
        super().__init__()
        self.config = config
        self.cache = work_cache(config)

    @classmethod
    def warm_up(cls) -> None:
        """The aligner's compiled kernels (about 0.8 s to load) and jieba's dictionary
        for the token counts (about 0.6 s): per worker, the largest start-up cost."""
        from pipeline.align.search import load_kernels
        from pipeline.text.segment import count_tokens

        load_kernels()
        count_tokens("大会", "zh")

    def label(self, item: PlannedPair) -> str:
        return item.pair.symbol

    def process(self, item: PlannedPair) -> Iterator[AlignedDocument]:
        if item.plan is None:
            cached = self.cache.load(item.pair)
            if cached is None:
                raise BuildError(f"{item.pair.symbol}: work-cache entry vanished during the build")
            self.stats.counters["cached_pairs"] += 1
            self.record("models", cached.model)
            yield cached
            return
        started = time.time()
        try:
            aligned = self._align(item)
        except Exception as error:  # one pair failing must not stop the build
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

    def _align(self, item: PlannedPair) -> AlignedDocument:
        from pipeline.align.document import align_planned_pair
        from pipeline.blas import threadpool_limits
        from pipeline.text.segment import counted

        assert item.sentences is not None and item.plan is not None
        pair = item.pair
        model_name = self.config.encoder.name
        started = time.perf_counter()
        # One BLAS thread wherever it runs (driver, pool worker, Ray task): a matrix
        # product split over threads sums in another order, and the corpus must not
        # depend on the engine.
        with threadpool_limits(limits=1, user_api="blas"):
            result = align_planned_pair(
                pair, item.sentences, item.plan, item.vectors(), self.config.params
            )
            en_emb = np.asarray(result.en_embeddings, dtype=np.float32)
            zh_emb = np.asarray(result.zh_embeddings, dtype=np.float32)
            similarity = similarity_matrix(en_emb, zh_emb)  # the picture too (same reason)
        self.stats.add_time("align_pair", time.perf_counter() - started)
        self.stats.counters["sentences_en"] += len(result.en_sentences)
        self.stats.counters["sentences_zh"] += len(result.zh_sentences)
        for name, seconds in result.timings.items():
            self.stats.add_time(f"align_pair.{name}", float(seconds))
        # Counted here, beside the encoder, not in the segment stage before it.
        return AlignedDocument(
            pair=pair,
            en_sentences=counted(list(result.en_sentences), pair.en.language),
            zh_sentences=counted(list(result.zh_sentences), pair.zh.language),
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
