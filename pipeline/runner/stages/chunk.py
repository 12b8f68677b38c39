"""The chunk stage: pairs -> chunks of consecutive pairs embedded together."""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.records import DocumentPair, PairChunk
from pipeline.runner.stage import Stage


def chunk_index(position: int, chunk_pairs: int) -> int:
    """Fixed chunk boundaries: the n-th pair in symbol order is in chunk n // size."""
    return position // chunk_pairs


class ChunkStage(Stage[DocumentPair, PairChunk]):
    """Pairs (of stubs) -> chunks of ``chunk_pairs`` with fixed boundaries, in symbol
    order: the embedding batch (pipeline.runner.stages.embed says why boundaries must
    not depend on workers or engines)."""

    name = "chunk"

    def __init__(self, chunk_pairs: int) -> None:
        super().__init__()
        self.size = max(1, chunk_pairs)
        self._position = 0
        self._pending: list[DocumentPair] = []

    def label(self, item: DocumentPair) -> str:
        return item.symbol

    def _flush(self) -> Iterator[PairChunk]:
        if self._pending:
            pairs, self._pending = self._pending, []
            yield PairChunk(chunk_index(self._position - 1, self.size), pairs)

    def process(self, item: DocumentPair) -> Iterator[PairChunk]:
        self._pending.append(item)
        self._position += 1
        if self._position % self.size == 0:
            yield from self._flush()

    def finish(self) -> Iterator[PairChunk]:
        yield from self._flush()
