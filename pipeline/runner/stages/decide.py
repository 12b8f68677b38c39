"""The decide stage: an aligned pair -> its rows, each kept or rejected with its reason."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pipeline.corpus.filters import FilterOptions
from pipeline.corpus.rows import decide, paragraph_rows, sentence_rows, split_rows
from pipeline.corpus.splits import Placement
from pipeline.records import AlignedDocument, DecidedDocument
from pipeline.runner.output import BuildError
from pipeline.runner.stage import Stage


class DecideStage(Stage[AlignedDocument, DecidedDocument]):
    """Aligned pair -> dataset rows, split into corpus and rejects by the filters.

    ``placements`` (symbol -> lineage and split) is decided at the pairing barrier; the
    local build hands in the mapping the barrier fills, the Ray build a chunk's share."""

    name = "decide"
    item_independent = True

    def __init__(self, filters: FilterOptions, placements: Mapping[str, Placement]) -> None:
        super().__init__()
        self.filters = filters
        self.placements = placements

    def label(self, item: AlignedDocument) -> str:
        return item.pair.symbol

    def process(self, item: AlignedDocument) -> Iterator[DecidedDocument]:
        placement = self.placements.get(item.pair.symbol)
        if placement is None:  # a pair the barrier did not see: a bug, never a guess
            raise BuildError(f"{item.pair.symbol}: no lineage or split was assigned")
        rows = sentence_rows(item, placement)
        reasons = decide(rows, self.filters)
        sentences, sentence_rejects = split_rows(rows, reasons)
        para_rows = paragraph_rows(item, placement)
        paragraphs, paragraph_rejects = split_rows(para_rows, decide(para_rows, self.filters))
        for rejected in sentence_rejects:
            self.stats.counters["sentence_rejects." + rejected.reason_name] += 1
        for para_rejected in paragraph_rejects:
            self.stats.counters["paragraph_rejects." + para_rejected.reason_name] += 1
        yield DecidedDocument(
            item,
            sentences,
            sentence_rejects,
            paragraphs,
            paragraph_rejects,
            placement,
            decisions=list(zip(rows, reasons, strict=True)),
        )
