"""The decide stage: an aligned pair -> its rows, each kept or rejected with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from pipeline.corpus.filters import FilterOptions
from pipeline.corpus.report import ReportDocument, ReportRow, report_page
from pipeline.corpus.rows import decide, paragraph_rows, sentence_rows, split_rows
from pipeline.records import AlignedDocument, DecidedDocument
from pipeline.runner.configs import review_score
from pipeline.runner.output import BuildError
from pipeline.runner.stage import Stage


class DecideStage(Stage[AlignedDocument, DecidedDocument]):
    """Aligned pair -> dataset rows, split into corpus and rejects by the filters.

    The pair's lineage and split (``DocumentPair.placement``) were decided at the pairing
    barrier and travel with it. The document's report page is rendered here too, from the
    same decisions. ``parallel``: the language filter, the rows and the page (its PNG)
    are CPU work per pair that would otherwise compete with the encoder in the driver,
    where the one writer then only writes."""

    name = "decide"
    item_independent = True
    parallel = True

    def __init__(self, filters: FilterOptions) -> None:
        super().__init__()
        self.filters = filters

    def label(self, item: AlignedDocument) -> str:
        return item.pair.symbol

    def process(self, item: AlignedDocument) -> Iterator[DecidedDocument]:
        placement = item.pair.placement
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
        decided = DecidedDocument(
            item,
            sentences,
            sentence_rejects,
            paragraphs,
            paragraph_rejects,
            placement,
            decisions=list(zip(rows, reasons, strict=True)),
        )
        page = report_page(report_document(decided), low_score=review_score(self.filters))
        yield replace(decided, report=page)


def report_document(item: DecidedDocument) -> ReportDocument:
    """The report's view of one document: every bead in order, rejects marked."""
    aligned = item.aligned
    return ReportDocument(
        symbol=aligned.pair.symbol,
        source_en=aligned.pair.en.source_file,
        source_zh=aligned.pair.zh.source_file,
        rows=[ReportRow.of(row, reason) for row, reason in item.decisions],
        similarity=aligned.similarity,
        shape=aligned.shape,
        path=[(list(b.src), list(b.tgt)) for b in aligned.beads],
        split=item.placement.split,
        lineage=item.placement.lineage,
    )
