"""The pair stage: every document's stub -> English-Chinese pairs by symbol (a barrier)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

from pipeline.corpus.splits import SplitRatios
from pipeline.records import Document, DocumentPair
from pipeline.runner.options import BuildContext
from pipeline.runner.stage import BarrierStage, Stage

log = logging.getLogger("pipeline.build")


class PairStage(BarrierStage[Document, DocumentPair]):
    """All documents -> en/zh pairs by symbol; unpaired, duplicates and conflicts listed.

    A barrier, so it runs in the driver once reading is over: the place where the
    reader's side results join the build's context, complete before any pair is aligned.
    The lineages and splits of every document read are decided here too
    (``context.assignment``)."""

    name = "pair"

    def __init__(self, context: BuildContext, reader: Stage, ratios: SplitRatios) -> None:
        super().__init__()
        self.context = context
        self.reader = reader
        self.ratios = ratios

    def process_all(self, items: list[Document]) -> Iterator[DocumentPair]:
        from pipeline.corpus.documents import assign_documents
        from pipeline.pair import pair_documents

        self.context.documents.extend(self.reader.records.get("documents", []))
        self.context.rejected.extend(self.reader.records.get("rejected", []))
        result = pair_documents(items)
        self.context.rejected.extend(result.rejected)
        self.context.unpaired.extend(result.unpaired)
        self.context.conflicts.extend(result.conflicts)
        for conflict in result.conflicts:
            self.drop("conflict")
            log.warning("%s", conflict.reason)
        for _ in result.unpaired:
            self.drop("unpaired")
        for _ in result.duplicates:
            self.drop("duplicate")
        pairs = sorted(result.pairs, key=lambda p: p.symbol)
        paired = {d.source_file for p in pairs for d in (p.en, p.zh)}
        signatures = self.reader.records.get("signatures", [])
        self.context.assignment = assign_documents(signatures, paired, self.ratios)
        self.context.placements.update(self.context.assignment.placements)
        placements = self.context.placements
        pairs = [replace(p, placement=placements.get(p.symbol)) for p in pairs]
        # The whole list first: the report's header counts pairs when the first document
        # reaches the writer, which (with a pool) may be before the last pair is yielded.
        for pair in pairs:
            self.context.pairs.append((pair.symbol, pair.en.source_file, pair.zh.source_file))
        yield from pairs
