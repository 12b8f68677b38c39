"""The write stage: every engine's one writer of the corpus files (Parquet per split,
TMX, Moses, the report), and the finalize pass over them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.corpus.finalize import Finalized, finalize_corpus
from pipeline.corpus.report import ReportWriter
from pipeline.corpus.write import (
    PAIR,
    PARAGRAPH_REJECT_SCHEMA,
    PARAGRAPH_SCHEMA,
    SENTENCE_REJECT_SCHEMA,
    SENTENCE_SCHEMA,
    MosesWriter,
    SplitTableWriter,
    TmxWriter,
    is_translation_pair,
)
from pipeline.records import DecidedDocument, FailedPair
from pipeline.runner.configs import WriteConfig
from pipeline.runner.options import BuildContext
from pipeline.runner.output import BuildError
from pipeline.runner.stage import (
    Stage,
)

if TYPE_CHECKING:
    from pipeline.runner.storage import Location


def start_report(report: ReportWriter, context: BuildContext, config: WriteConfig) -> None:
    """The report's header: what was read and paired, the model and the filters, and the
    unpaired and rejected files (complete once pairing, a barrier, has run). Both engines
    call this, so the header is the same from each."""
    report.start(
        "UN resolutions en-zh: alignment report",
        {
            "files read": len(context.files),
            "document pairs": len(context.pairs),
            "unpaired documents": len(context.unpaired),
            "rejected files": len(context.rejected),
            "model": config.model,
            "filters": json.dumps(config.filters.to_dict()),
            "highlighted": f"score below {report.low_score}",
        },
        [(d.symbol, d.language, d.source_file) for d in context.unpaired],
        [(r.source_file, r.reason) for r in context.rejected],
    )


class WriteStage(Stage[DecidedDocument, None]):
    """Sink: streams each document's rows to every output in the temporary folder."""

    name = "write"

    def __init__(
        self,
        folder: Path,
        context: BuildContext,
        config: WriteConfig,
        failed: Callable[[], Sequence[FailedPair]],
    ) -> None:
        """``failed``: the pairs the aligner gave up on, asked for when the stream ends
        (the report lists them)."""
        super().__init__()
        self.folder = folder
        self.context = context
        self.config = config
        self.failed = failed
        self.sentences = SplitTableWriter(folder / PAIR, SENTENCE_SCHEMA)
        self.paragraphs = SplitTableWriter(folder / f"{PAIR}-paragraphs", PARAGRAPH_SCHEMA)
        self.sentence_rejects = SplitTableWriter(folder / "rejects" / PAIR, SENTENCE_REJECT_SCHEMA)
        self.paragraph_rejects = SplitTableWriter(
            folder / "rejects" / f"{PAIR}-paragraphs", PARAGRAPH_REJECT_SCHEMA
        )
        #: What the finalize pass wrote and found (set in ``finish``).
        self.finalized: Finalized | None = None
        self.tmx = TmxWriter(folder / f"{PAIR}.tmx")
        self.moses = MosesWriter(folder / f"{PAIR}.en", folder / f"{PAIR}.zh")
        self.report = ReportWriter(folder / "report.html", low_score=config.low_score)
        self._report_started = False
        self.beads_by_type: Counter[str] = Counter()
        self.score_sum = 0.0
        self.scored = 0
        self.not_exported = 0

    def label(self, item: DecidedDocument) -> str:
        return item.aligned.pair.symbol

    def _start_report(self) -> None:
        # Called on the first document or at the end: by then pairing (a barrier) has
        # run, so the unpaired and rejected lists are complete.
        if self._report_started:
            return
        self._report_started = True
        start_report(self.report, self.context, self.config)

    def process(self, item: DecidedDocument) -> Iterator[None]:
        self._start_report()
        self.sentences.write_rows(item.sentences)
        self.paragraphs.write_rows(item.paragraphs)
        self.sentence_rejects.write_rows(item.sentence_rejects)
        self.paragraph_rejects.write_rows(item.paragraph_rejects)
        for row in item.sentences:
            self.beads_by_type[row.align_type] += 1
            if is_translation_pair(row):
                self.score_sum += row.score
                self.scored += 1
                self.tmx.write_row(row)
                self.moses.write_row(row)
            else:
                self.not_exported += 1
        if item.report is None:  # decided without a page: a bug, never a silent gap
            raise BuildError(f"{item.aligned.pair.symbol}: no report page was rendered")
        self.report.add_page(item.report)
        # A sink yields nothing, so the base class would report out=0: its output is
        # the documents it wrote, and the log and manifest should say so.
        self.stats.items_out += 1
        self.stats.counters["sentence_rows"] += len(item.sentences)
        self.stats.counters["paragraph_rows"] += len(item.paragraphs)
        yield from ()  # a generator, so the stage's clock runs while this writes

    def finish(self) -> Iterator[None]:
        from pipeline.runner.storage import Location

        self._start_report()
        tables = {
            "sentences": self.sentences,
            "paragraphs": self.paragraphs,
            "sentence_rejects": self.sentence_rejects,
            "paragraph_rejects": self.paragraph_rejects,
        }
        shards = {
            name: [p.relative_to(self.folder).as_posix() for p in table.close()]
            for name, table in tables.items()
        }
        self.tmx.close()
        self.moses.close()
        self.finalized = finalize_outputs(
            Location(str(self.folder)), shards, self.context, self.config
        )
        self.report.close(
            failed=[(r.symbol, r.reason) for r in self.failed()], summary=self.finalized.summary
        )
        return iter(())


def finalize_outputs(
    out: Location, shards: Mapping[str, Sequence[str]], context: BuildContext, config: WriteConfig
) -> Finalized:
    """The finalize pass over the written shards (``pipeline.corpus.finalize``): both
    engines call this once every row is written."""
    if context.assignment is None:
        raise BuildError("no lineages were assigned: the pairing barrier has not run")
    return finalize_corpus(
        out, shards, context.assignment.documents, export_dedup=config.export_dedup
    )
