"""The stages before alignment: read, pair, chunk, embed."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.build.configs import EmbedConfig
from pipeline.build.options import BuildContext
from pipeline.build.output import BuildError
from pipeline.build.prefetch import PlannedPair, chunk_index, plan_chunk
from pipeline.build.runner import (
    BarrierStage,
    Stage,
)
from pipeline.build.workcache import DocumentSpool, WorkCache
from pipeline.corpus.splits import SplitRatios
from pipeline.data import Document, DocumentPair, Rejected, RejectedInput
from pipeline.readers.listing import RawListing, list_raw
from pipeline.readers.names import shown_name

log = logging.getLogger("pipeline.build")


def list_sources(raw: Path, *, follow_symlinks: bool = False) -> RawListing:
    """Input files directly in ``raw``, sorted by name, and the entries skipped, each
    with its reason (``pipeline.readers.listing``: hidden files, sub-folders, symbolic
    links that dangle or lead out of ``raw``), logged here and listed in the manifest.
    """
    if not raw.is_dir():
        raise BuildError(f"{raw}: raw folder does not exist or is not a folder")
    try:
        listing = list_raw(raw, follow_symlinks=follow_symlinks)
    except OSError as error:
        raise BuildError(f"{raw}: cannot list the raw folder ({error.strerror})") from None
    for skipped in listing.skipped:
        level = logging.WARNING if skipped.notable else logging.DEBUG
        log.log(level, "skipped %s: %s", skipped.entry, skipped.reason)
    return listing


class ReadStage(Stage[Path, Document]):
    """Path -> Document (a stub when spooled). A file that cannot be read is listed
    with its reason. Each document's lineage signature (``pipeline.corpus.lineage``:
    its text is gone from the stub) is recorded here, where the document is whole."""

    name = "read"
    item_independent = True

    def __init__(self, spool: DocumentSpool | None = None) -> None:
        super().__init__()
        self.spool = spool

    def label(self, item: Path) -> str:
        return shown_name(item.name)

    def process(self, item: Path) -> Iterator[Document]:
        from pipeline.corpus.lineage import document_signature
        from pipeline.extract import extract_file

        name = shown_name(item.name)
        try:
            document = extract_file(item)
        except RejectedInput as error:
            self.drop("rejected")
            self.record("rejected", Rejected(name, error.reason))
            log.warning("rejected %s: %s", name, error.reason)
            return
        except Exception as error:  # a bad document must never stop the build
            self.drop("error")
            reason = f"unexpected error while reading: {type(error).__name__}: {error}"
            self.record("rejected", Rejected(name, reason))
            log.warning("rejected %s: %s", name, reason)
            return
        self.record(
            "documents", (document.symbol, document.language, name, document.metadata.numbered)
        )
        self.record("signatures", document_signature(document))
        yield self.spool.put(document) if self.spool is not None else document


class PairStage(BarrierStage[Document, DocumentPair]):
    """All documents -> en/zh pairs by symbol; unpaired and duplicates are listed.

    A barrier, so it runs locally once reading is over: the place where the reader's
    side results join the build's context, complete before any pair is aligned. The
    lineages and splits of every document read are decided here too (``context.assignment``).
    """

    name = "pair"

    def __init__(self, context: BuildContext, reader: ReadStage, ratios: SplitRatios) -> None:
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
        # The whole list first: the report's header counts pairs when the first document
        # reaches the writer, which (with a pool) may be before the last pair is yielded.
        for pair in pairs:
            self.context.pairs.append((pair.symbol, pair.en.source_file, pair.zh.source_file))
        yield from pairs


@dataclass
class PairChunk:
    """Consecutive pairs (fixed boundaries) embedded together; ``needs_work`` per pair."""

    index: int
    pairs: list[DocumentPair]
    needs_work: list[bool]


class ChunkStage(Stage[DocumentPair, PairChunk]):
    """Pairs -> chunks of ``chunk_pairs`` with fixed boundaries (see ``pipeline.build.prefetch``).

    A pair already in the work cache needs no embedding: that is what makes a resumed
    build skip what it finished before it was stopped.
    """

    name = "chunk"

    def __init__(
        self, chunk_pairs: int, cache: WorkCache, spool: DocumentSpool | None = None
    ) -> None:
        super().__init__()
        self.size = max(1, chunk_pairs)
        self.cache = cache
        self.spool = spool
        self._position = 0
        self._pending: list[DocumentPair] = []

    def label(self, item: DocumentPair) -> str:
        return item.symbol

    def _flush(self) -> Iterator[PairChunk]:
        if self._pending:
            pairs, self._pending = self._pending, []
            index = chunk_index(self._position - 1, self.size)
            yield PairChunk(index, pairs, [not self.cache.has(p) for p in pairs])
            self.stats.counters["bad_work_entries"] = self.cache.bad  # damaged: aligned again

    def process(self, item: DocumentPair) -> Iterator[PairChunk]:
        if self.spool is not None:  # the whole documents, back from disk
            item = DocumentPair(item.symbol, self.spool.get(item.en), self.spool.get(item.zh))
        self._pending.append(item)
        self._position += 1
        if self._position % self.size == 0:
            yield from self._flush()

    def finish(self) -> Iterator[PairChunk]:
        yield from self._flush()


class EmbedStage(Stage[PairChunk, PlannedPair]):
    """Chunk -> its pairs, each with its sentences, its plan and its vectors (two encoder
    calls per chunk: ``pipeline.build.prefetch``).

    The encoder (cached) is loaded on the first chunk with work, so a warm rebuild
    never pays for loading the model. Locally this runs in the driver; on Ray it is
    the actor pool (one model per actor, GPUs if asked for).
    """

    name = "embed"
    item_independent = True

    def __init__(self, config: EmbedConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder: Any | None = None

    def label(self, item: PairChunk) -> str:
        return f"chunk {item.index}"

    def _encoder(self) -> Any:
        if self.encoder is None:
            from pipeline.embed import load_encoder

            started = time.perf_counter()
            encoder = self.config.encoder
            self.encoder = load_encoder(
                encoder.model,
                cache_dir=self.config.cache_dir,
                device=encoder.device,
                batch_size=encoder.batch_size,
            )
            inner = getattr(self.encoder, "inner", None)
            if isinstance(getattr(inner, "threads", None), int):
                # use-m splits a call into 64-text pieces only with >= 2 threads, and the
                # pieces change the last float bits: a 1-CPU Ray actor must split too.
                inner.threads = max(2, inner.threads)
            self.stats.add_time("load_encoder", time.perf_counter() - started)
        return self.encoder

    def process(self, item: PairChunk) -> Iterator[PlannedPair]:
        if not any(item.needs_work):
            yield from (PlannedPair(p) for p in item.pairs)
            return
        encoder = self._encoder()  # a bad --model is the user's error: it stops the build
        bad_before = getattr(encoder, "bad_vectors", 0)
        started = time.perf_counter()
        wall = time.time()
        out, counts = plan_chunk(item.pairs, item.needs_work, encoder, self.config.params)
        self.record("busy", (wall, time.time()))
        self.stats.add_time("embed", time.perf_counter() - started)
        self.stats.counters["texts_requested"] += counts.requested
        self.stats.counters["texts_from_cache"] += counts.requested - counts.embedded
        self.stats.counters["texts_embedded"] += counts.embedded
        self.stats.counters["chunks_embedded"] += 1
        # Stored vectors that failed the embedding cache's checks (embedded again).
        self.stats.counters["bad_cache_vectors"] += getattr(encoder, "bad_vectors", 0) - bad_before
        yield from out


def _model_name(spec: str) -> str:
    """The name ``load_encoder(spec)`` gives its encoder (the ``model`` column)."""
    spec = spec.strip()
    if spec.startswith("st:"):
        return "st:" + spec[3:].strip()
    return spec
