"""The segment stage: a chunk of pair stubs -> its pairs whole, each with its sentences.

Why a stage of its own: reading a chunk's documents back from the spool, asking the work
cache which pairs are done, and splitting sentences are CPU work per chunk that needs
no model. In the embed stage they ran on the encoder's thread, where
every millisecond is added to the one cost a build cannot avoid; here they run on the
workers (``parallel``: a pool process, or a Ray task), ahead of the encoder, like the
read stage. Segmentation still happens once per document: the sentences travel on with
the pair to the encoder, the aligner and the rows.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.records import PairChunk, PairSentences, SegmentedChunk
from pipeline.runner.spool import DocumentSpool
from pipeline.runner.stage import Stage
from pipeline.runner.workcache import WorkCache


class SegmentStage(Stage[PairChunk, SegmentedChunk]):
    """Chunk of stubs -> the same pairs whole (from the spool), segmented unless the work
    cache holds their alignment; counts the work-cache entries that failed their checks
    (``bad_work_entries``: aligned again)."""

    name = "segment"
    item_independent = True
    parallel = True

    def __init__(self, spool: DocumentSpool, cache: WorkCache) -> None:
        super().__init__()
        self.spool = spool
        self.cache = cache

    @classmethod
    def warm_up(cls) -> None:
        import pipeline.text.segment  # noqa: F401 - imported once, before the fork

    def label(self, item: PairChunk) -> str:
        return f"chunk {item.index}"

    def process(self, item: PairChunk) -> Iterator[SegmentedChunk]:
        from pipeline.text.segment import split_document

        pairs = [self.spool.pair(p) for p in item.pairs]
        bad_before = self.cache.bad
        sentences: list[PairSentences | None] = [
            None if self.cache.has(p) else (split_document(p.en), split_document(p.zh))
            for p in pairs
        ]
        self.stats.counters["bad_work_entries"] += self.cache.bad - bad_before
        for message in self.cache.problems:
            self.warn(message)
        self.cache.problems.clear()
        yield SegmentedChunk(item.index, pairs, sentences)
