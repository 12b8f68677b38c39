"""`python -m pipeline build`: raw documents in, a trustworthy corpus folder out.

The build is a chain of stages (see ``pipeline.build.runner``)::

    read -> pair -> chunk -> embed -> align -> decide -> write

* read: every file under ``--raw`` becomes a Document or a listed rejection (spooled
  to disk; pairing holds stubs).
* pair: English and Chinese documents matched by symbol (a barrier: needs them all).
* chunk, embed: the texts of every 16 pairs embedded in one encoder call into the
  shared embedding cache, in a fixed order (``pipeline.build.prefetch`` says why).
* align: sentence and paragraph alignment of each pair; the expensive part, so its
  result is kept in a work cache keyed by both source sha256s (and the documents as
  extracted), the model, the aligner parameters and the tool version.
  A rebuild after adding one document embeds and aligns only that document.
* decide: dataset rows are built and the filters applied (OpusFilter style: scores stay
  in the data, thresholds only decide where a row goes: corpus or rejects).
* write: Parquet, rejects, TMX, Moses and report.html, streamed one document at a time.

Atomic: everything is written into a temporary folder beside ``--out`` and swapped in
at the end, so a build killed midway leaves the previous corpus as it was; its finished
pairs stay in the work cache, so running it again resumes where it stopped.

Engines (``--engine``, ``--workers``): in this process, a local process pool, or Ray
Data; see ``make_engine``. The corpus is the same, byte for byte, from each.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import __version__
from pipeline.build.atomic import atomic_path, atomic_write_text
from pipeline.build.locking import OutputLocked, output_lock, remove_dead_spools
from pipeline.build.output import BuildError, prepare_output, recover_output, swap_in
from pipeline.build.prefetch import (
    DEFAULT_CHUNK_PAIRS,
    PrefetchedEncoder,
    PrefetchedPair,
    chunk_index,
    embed_chunk,
    read_vectors,
)
from pipeline.build.runner import (
    BarrierStage,
    Engine,
    LocalEngine,
    Stage,
    busy_overlap,
    run_stages,
)
from pipeline.corpus.filters import FilterOptions, length_ratio, reject_reason
from pipeline.corpus.manifest import build_manifest, local_output_files
from pipeline.corpus.report import (
    MAX_PICTURE_PX,
    ReportDocument,
    ReportRow,
    ReportWriter,
    block_mean,
    downsample_factors,
)
from pipeline.corpus.write import (
    PAIR,
    PARAGRAPH_REJECT_SCHEMA,
    PARAGRAPH_SCHEMA,
    SENTENCE_REJECT_SCHEMA,
    SENTENCE_SCHEMA,
    MosesWriter,
    ParquetTableWriter,
    TmxWriter,
    dataset_card,
    is_translation_pair,
    write_json,
)
from pipeline.data import Bead, Block, Document, DocumentPair, Rejected, RejectedInput, Sentence

log = logging.getLogger("pipeline.build")

__all__ = ["BuildError", "build_manifest", "prepare_output", "recover_output", "swap_in"]

#: Report rows with a score below this are highlighted when no --min-score is given.
#: Aligner scores are calibrated so a typical correct 1-1 bead scores about 1.0.
DEFAULT_REVIEW_SCORE = 0.5


@dataclass
class BuildOptions:
    """Everything a build depends on. ``cache`` defaults to ``.cache/`` beside ``out``."""

    #: A folder, or (Ray engine) any pyarrow/fsspec URI (``s3://``, ``gs://``, ``file://``).
    raw: Path | str
    out: Path | str
    model: str = "use-m"
    filters: FilterOptions = field(default_factory=FilterOptions)
    cache: Path | None = None
    #: ``pipeline.align.AlignParams``; None uses the aligner's defaults.
    align_params: Any | None = None
    #: None: bars on a terminal, log lines otherwise.
    show_progress: bool | None = None
    #: "local" (process pool on this machine) or "ray" (Ray Data, local or a cluster).
    engine: str = "local"
    #: Worker processes of the local engine; None = every core, 1 = all in this process.
    workers: int | None = None
    #: Pairs whose texts are embedded in one encoder call (see ``pipeline.build.prefetch``).
    chunk_pairs: int = DEFAULT_CHUNK_PAIRS
    #: Ray: cluster address (None: start Ray on this machine, or join the running one).
    ray_address: str | None = None
    #: Ray: embedding actors, and GPUs per actor (0: CPU).
    embed_actors: int = 1
    num_gpus: float = 0.0
    #: Ray: CPUs each embedding actor reserves (its model's threads).
    embed_cpus: float = 1.0
    #: Ray: keep an embedding cache (``cache_dir/embed``, SQLite: one file per node, on
    #: node-local disk). Off: vectors only travel in the dataset.
    embed_cache: bool = True
    #: Ray: the embedding cache's folder (default ``cache_dir/embed``); node-local disk.
    embed_cache_dir: Path | None = None
    #: Device for st: models ("cpu", "cuda"); None lets the encoder choose.
    device: str | None = None
    #: Texts per forward pass of st: models (a GPU wants 128-512; the bundled models
    #: batch internally and ignore it).
    batch_size: int = 64

    @property
    def cache_dir(self) -> Path:
        if self.cache is not None:
            return Path(self.cache)
        from pipeline.build.storage import location

        out = location(self.out).local
        # A remote --out has no local "beside": the cache is then this machine's.
        return out.parent / ".cache" if out is not None else Path(".cache").resolve()


@dataclass
class AlignedDocument:
    """One pair after alignment: what the work cache stores and the later stages use."""

    pair: DocumentPair
    en_sentences: list[Sentence]
    zh_sentences: list[Sentence]
    beads: list[Bead]
    paragraph_beads: list[Bead]
    similarity: np.ndarray  # sentence similarity, averaged down for the report picture
    shape: tuple[int, int]
    model: str
    from_cache: bool = False
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class DecidedDocument:
    """Rows of one pair, split by the decision step into corpus and rejects."""

    aligned: AlignedDocument
    sentences: list[dict[str, Any]]
    sentence_rejects: list[dict[str, Any]]
    paragraphs: list[dict[str, Any]]
    paragraph_rejects: list[dict[str, Any]]
    #: Every sentence row in bead order with its reject reason (None = kept): the report.
    decisions: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)


@dataclass
class BuildContext:
    """What stages learn along the way that is not an item: the manifest's lists."""

    raw: Path
    files: list[Path] = field(default_factory=list)
    documents: list[tuple[str, str, str]] = field(default_factory=list)  # symbol, lang, file
    rejected: list[Rejected] = field(default_factory=list)
    unpaired: list[Document] = field(default_factory=list)
    pairs: list[tuple[str, str, str]] = field(default_factory=list)  # symbol, en file, zh file
    failed: list[Rejected] = field(default_factory=list)
    models: set[str] = field(default_factory=set)


@dataclass
class BuildResult:
    out: Path
    manifest: dict[str, Any]
    stats: dict[str, Any]

    def summary_table(self) -> str:
        """The table printed at the end of a build."""
        m = self.manifest
        s = self.stats
        docs = m["documents"]
        lines = [
            f"corpus written to {self.out}",
            f"  documents read      {docs['read']:>8}",
            f"  rejected files      {len(docs['rejected']):>8}",
            f"  unpaired documents  {len(docs['unpaired']):>8}",
            f"  document pairs      {docs['paired_symbols']:>8}",
            f"  failed pairs        {len(docs['failed_pairs']):>8}",
            f"  sentence beads      {m['files']['sentences']['rows']:>8}",
            f"  paragraph beads     {m['files']['paragraphs']['rows']:>8}",
            f"  rejected beads      {m['files']['sentence_rejects']['rows']:>8}",
        ]
        for bead_type, count in m["beads_by_type"].items():
            lines.append(f"    {bead_type:<6}            {count:>8}")
        mean = m["mean_score"]
        lines.append(f"  mean score          {mean:>8.3f}" if mean is not None else "")
        lines.append(
            f"  pairs aligned/cached {s['aligned_pairs']:>7} / {s['cached_pairs']}"
            f"  (texts embedded: {s['texts_encoded']})"
        )
        lines.append("  time per stage (s)")
        for stage in s["stages"]:
            lines.append(f"    {stage['name']:<8}          {stage['seconds']:>8.2f}")
        lines.append(f"  total               {s['seconds']:>8.2f}")
        return "\n".join(line for line in lines if line)


# --------------------------------------------------------------------------- helpers


def list_sources(raw: Path) -> list[Path]:
    """Input files directly in ``raw``, sorted by name; hidden files are skipped.

    Files are named by their base name everywhere (as the readers do), so the folder
    is not searched recursively: two ``x.txt`` in different subfolders would clash.
    """
    if not raw.is_dir():
        raise BuildError(f"{raw}: raw folder does not exist or is not a folder")
    return sorted(
        (p for p in raw.iterdir() if p.is_file() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )


def document_digest(document: Document) -> str:
    """sha256 of a Document as extracted: what the aligner actually reads.

    Part of the work-cache key next to the raw file's sha256, so an extractor that
    now reads the same file differently (other blocks, other text) never meets an
    alignment cached for the old reading.
    """
    payload = json.dumps(document.to_dict(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _align_params_dict(params: Any | None) -> dict[str, Any]:
    from pipeline.align import AlignParams

    return dataclasses.asdict(params if params is not None else AlignParams())


def _join(texts: list[str], lang: str) -> str:
    """Chinese is written without spaces between sentences; English with one."""
    parts = [t.strip() for t in texts if t.strip()]
    return ("" if lang == "zh" else " ").join(parts)


def _bead_row(
    aligned: AlignedDocument,
    bead: Bead,
    *,
    key: str,
    block: Block,
    para_no: int | None,
    en_text: str,
    zh_text: str,
    ids: dict[str, list[str]],
    en_tokens: int,
    zh_tokens: int,
) -> dict[str, Any]:
    """The columns a sentence row and a paragraph row share; ``ids`` holds the
    granularity's own id-list columns (en_sent_ids/zh_sent_ids or en_para_ids/...)."""
    pair = aligned.pair
    return {
        "id": f"{pair.symbol}:{key}",
        "symbol": pair.symbol,
        "session": pair.en.metadata.session or pair.zh.metadata.session,
        "family": pair.en.metadata.family or pair.zh.metadata.family,
        "pair": PAIR,
        "kind": block.kind,
        "para_no": para_no,
        "en": en_text,
        "zh": zh_text,
        "translation": {"en": en_text, "zh": zh_text},
        **ids,
        "align_type": bead.type,
        "score": float(bead.score),
        "margin": float(bead.margin),
        "len_ratio": length_ratio(en_tokens, zh_tokens),
        "en_tokens": en_tokens,
        "zh_tokens": zh_tokens,
        "source_en": pair.en.source_file,
        "source_zh": pair.zh.source_file,
        "sha256_en": pair.en.sha256,
        "sha256_zh": pair.zh.sha256,
        "model": aligned.model,
        "version": __version__,
    }


def sentence_rows(aligned: AlignedDocument) -> list[dict[str, Any]]:
    """One dataset row per sentence bead, in bead (document) order.

    ``id`` is the symbol plus the first English sentence id ("A/RES/75/58:op5:s1");
    a bead without English takes its first Chinese id, marked ``zh:`` so it can never
    collide with an English-derived id of the same block ("A/RES/75/58:zh:op5:s2").
    """
    pair = aligned.pair
    en_labels = pair.en.block_labels()
    zh_labels = pair.zh.block_labels()
    rows = []
    for bead in aligned.beads:
        en_sents = [aligned.en_sentences[i] for i in bead.src]
        zh_sents = [aligned.zh_sentences[i] for i in bead.tgt]
        if en_sents:
            first_id = en_sents[0].id
            block = pair.en.blocks[en_sents[0].block]
            para_no = en_labels[en_sents[0].block][1]
        else:
            first_id = "zh:" + zh_sents[0].id
            block = pair.zh.blocks[zh_sents[0].block]
            para_no = zh_labels[zh_sents[0].block][1]
        en_text = _join([s.text for s in en_sents], "en")
        zh_text = _join([s.text for s in zh_sents], "zh")
        row = _bead_row(
            aligned,
            bead,
            key=first_id,
            block=block,
            para_no=para_no,
            en_text=en_text,
            zh_text=zh_text,
            ids={
                "en_sent_ids": [s.id for s in en_sents],
                "zh_sent_ids": [s.id for s in zh_sents],
            },
            en_tokens=sum(s.tokens for s in en_sents),
            zh_tokens=sum(s.tokens for s in zh_sents),
        )
        rows.append(row)
    return rows


def paragraph_rows(aligned: AlignedDocument) -> list[dict[str, Any]]:
    """One dataset row per paragraph bead (blocks of the two documents), in order."""
    pair = aligned.pair
    en_labels = pair.en.block_labels()
    zh_labels = pair.zh.block_labels()
    en_tokens_per_block: Counter[int] = Counter()
    zh_tokens_per_block: Counter[int] = Counter()
    for s in aligned.en_sentences:
        en_tokens_per_block[s.block] += s.tokens
    for s in aligned.zh_sentences:
        zh_tokens_per_block[s.block] += s.tokens
    rows = []
    for bead in aligned.paragraph_beads:
        if bead.src:
            first = bead.src[0]
            key, para_no = en_labels[first]
            block = pair.en.blocks[first]
        else:
            first = bead.tgt[0]
            key, para_no = zh_labels[first]
            key = "zh:" + key
            block = pair.zh.blocks[first]
        en_text = _join([pair.en.blocks[i].text for i in bead.src], "en")
        zh_text = _join([pair.zh.blocks[i].text for i in bead.tgt], "zh")
        row = _bead_row(
            aligned,
            bead,
            key=key,
            block=block,
            para_no=para_no,
            en_text=en_text,
            zh_text=zh_text,
            ids={
                "en_para_ids": [en_labels[i][0] for i in bead.src],
                "zh_para_ids": [zh_labels[i][0] for i in bead.tgt],
            },
            en_tokens=sum(en_tokens_per_block[i] for i in bead.src),
            zh_tokens=sum(zh_tokens_per_block[i] for i in bead.tgt),
        )
        rows.append(row)
    return rows


def decide(rows: list[dict[str, Any]], options: FilterOptions) -> list[str | None]:
    """The reject reason of each row (None = keep), in row order."""
    return [
        reject_reason(
            en=row["en"],
            zh=row["zh"],
            score=row["score"],
            len_ratio=row["len_ratio"],
            options=options,
        )
        for row in rows
    ]


def split_rows(
    rows: list[dict[str, Any]], reasons: list[str | None]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(kept, rejected); a rejected row gets its ``reject_reason`` column."""
    kept = [row for row, reason in zip(rows, reasons, strict=True) if reason is None]
    rejected = [
        {**row, "reject_reason": reason}
        for row, reason in zip(rows, reasons, strict=True)
        if reason is not None
    ]
    return kept, rejected


# --------------------------------------------------------------------------- work cache


class WorkCache:
    """Finished alignments on disk, one entry per pair, keyed by everything they depend on:
    both raw files' sha256, both extracted documents, the model and its fingerprint (the
    package release or model snapshot behind the name), the aligner parameters and a
    fingerprint of the code that segments and aligns (``pipeline.build.fingerprint``), so an
    edit to that code re-aligns on the next build instead of serving stale work.

    An entry is ``<key>.json`` (sentences, beads, model name) plus ``<key>.npy`` (the
    averaged-down similarity matrix). The JSON is written last and atomically: it is
    the completion marker, so a build killed while storing leaves no half entry.
    """

    def __init__(self, folder: Path, *, model: str, params: dict[str, Any]) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        from pipeline.build.fingerprint import code_fingerprint
        from pipeline.embed import spec_fingerprint

        self._base = {
            "model": model,
            "encoder": spec_fingerprint(model),
            "params": params,
            "code": code_fingerprint(),
            "version": __version__,
        }

    def key(self, pair: DocumentPair) -> str:
        material = {
            **self._base,
            "en": pair.en.sha256,
            "zh": pair.zh.sha256,
            "en_document": document_digest(pair.en),
            "zh_document": document_digest(pair.zh),
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def has(self, pair: DocumentPair) -> bool:
        """Whether a finished entry exists (its JSON, the completion marker, is written last)."""
        key = self.key(pair)
        return (self.folder / f"{key}.json").exists() and (self.folder / f"{key}.npy").exists()

    def load(self, pair: DocumentPair) -> AlignedDocument | None:
        key = self.key(pair)
        meta_path = self.folder / f"{key}.json"
        matrix_path = self.folder / f"{key}.npy"
        if not meta_path.exists() or not matrix_path.exists():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return AlignedDocument(
            pair=pair,
            en_sentences=[Sentence(**s) for s in meta["en_sentences"]],
            zh_sentences=[Sentence(**s) for s in meta["zh_sentences"]],
            beads=[Bead(**b) for b in meta["beads"]],
            paragraph_beads=[Bead(**b) for b in meta["paragraph_beads"]],
            similarity=np.load(matrix_path).astype(np.float32),
            shape=(int(meta["shape"][0]), int(meta["shape"][1])),
            model=meta["model"],
            from_cache=True,
            timings=meta.get("timings", {}),
        )

    def store(self, aligned: AlignedDocument) -> None:
        key = self.key(aligned.pair)
        with atomic_path(self.folder / f"{key}.npy", fsync=False) as matrix_tmp:
            with open(matrix_tmp, "wb") as handle:
                np.save(handle, aligned.similarity.astype(np.float16))
        meta = {
            "symbol": aligned.pair.symbol,
            "en_sentences": [dataclasses.asdict(s) for s in aligned.en_sentences],
            "zh_sentences": [dataclasses.asdict(s) for s in aligned.zh_sentences],
            "beads": [dataclasses.asdict(b) for b in aligned.beads],
            "paragraph_beads": [dataclasses.asdict(b) for b in aligned.paragraph_beads],
            "shape": list(aligned.shape),
            "model": aligned.model,
            "encoder": self._base["encoder"],
            "code": self._base["code"],
            "timings": aligned.timings,
        }
        # The JSON is the completion marker: written last.
        atomic_write_text(self.folder / f"{key}.json", json.dumps(meta, ensure_ascii=False))


# --------------------------------------------------------------------------- stages


class DocumentSpool:
    """Extracted documents on disk until their pair is aligned; stubs in memory.

    Pairing is a barrier: it needs every document's symbol and language before the
    first pair can go on. Holding the documents themselves there made the driver grow
    by ~0.18 MB a pair (550 MB at 2,000 pairs, measured); the spool keeps only stubs
    (symbol, language, file, metadata, no blocks), and a pair's documents are read back
    when its chunk is formed. The folder is private to one build and deleted after it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, source_file: str, sha256: str) -> Path:
        key = hashlib.sha256(f"{source_file}\0{sha256}".encode()).hexdigest()
        return self.folder / f"{key}.json"

    def put(self, document: Document) -> Document:
        """Store ``document``; return its stub (what pairing and the manifest need)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(document.source_file, document.sha256)
        # No fsync: the spool lives only as long as this build.
        atomic_write_text(path, json.dumps(document.to_dict(), ensure_ascii=False), fsync=False)
        return dataclasses.replace(document, blocks=[])

    def get(self, stub: Document) -> Document:
        path = self._path(stub.source_file, stub.sha256)
        return Document.from_dict(json.loads(path.read_text(encoding="utf-8")))


class ReadStage(Stage[Path, Document]):
    """Path -> Document (a stub when spooled). A file that cannot be read is listed
    with its reason."""

    name = "read"
    item_independent = True

    def __init__(self, spool: DocumentSpool | None = None) -> None:
        super().__init__()
        self.spool = spool

    def label(self, item: Path) -> str:
        return item.name

    def process(self, item: Path) -> Iterator[Document]:
        from pipeline.extract import extract_file

        name = item.name
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
        self.record("documents", (document.symbol, document.language, name))
        yield self.spool.put(document) if self.spool is not None else document


class PairStage(BarrierStage[Document, DocumentPair]):
    """All documents -> en/zh pairs by symbol; unpaired and duplicates are listed.

    A barrier, so it runs locally once reading is over: the place where the reader's
    side results join the build's context, complete before any pair is aligned.
    """

    name = "pair"

    def __init__(self, context: BuildContext, reader: ReadStage) -> None:
        super().__init__()
        self.context = context
        self.reader = reader

    def process_all(self, items: list[Document]) -> Iterator[DocumentPair]:
        from pipeline.pair import pair_documents

        self.context.documents.extend(self.reader.records.get("documents", []))
        self.context.rejected.extend(self.reader.records.get("rejected", []))
        result = pair_documents(items)
        self.context.rejected.extend(result.rejected)
        self.context.unpaired.extend(result.unpaired)
        for _ in result.unpaired:
            self.drop("unpaired")
        for _ in result.rejected:
            self.drop("duplicate")
        pairs = sorted(result.pairs, key=lambda p: p.symbol)
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
        self, options: BuildOptions, cache: WorkCache, spool: DocumentSpool | None = None
    ) -> None:
        super().__init__()
        self.size = max(1, options.chunk_pairs)
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

    def process(self, item: DocumentPair) -> Iterator[PairChunk]:
        if self.spool is not None:  # the whole documents, back from disk
            item = DocumentPair(item.symbol, self.spool.get(item.en), self.spool.get(item.zh))
        self._pending.append(item)
        self._position += 1
        if self._position % self.size == 0:
            yield from self._flush()

    def finish(self) -> Iterator[PairChunk]:
        yield from self._flush()


class EmbedStage(Stage[PairChunk, PrefetchedPair]):
    """Chunk -> its pairs, their texts embedded into the shared cache in one call.

    The encoder (cached) is loaded on the first chunk with work, so a warm rebuild
    never pays for loading the model. Locally this runs in the driver; on Ray it is
    the actor pool (one model per actor, GPUs if asked for).
    """

    name = "embed"
    item_independent = True

    def __init__(self, options: BuildOptions) -> None:
        super().__init__()
        self.options = options
        self.align_params = _align_params(options)
        self.encoder: Any | None = None

    def label(self, item: PairChunk) -> str:
        return f"chunk {item.index}"

    def _encoder(self) -> Any:
        if self.encoder is None:
            from pipeline.embed import load_encoder

            started = time.perf_counter()
            self.encoder = load_encoder(
                self.options.model,
                cache_dir=self.options.cache_dir / "embed",
                device=self.options.device,
                batch_size=self.options.batch_size,
            )
            inner = getattr(self.encoder, "inner", None)
            if isinstance(getattr(inner, "threads", None), int):
                # use-m splits a call into 64-text pieces only with >= 2 threads, and the
                # pieces change the last float bits: a 1-CPU Ray actor must split too.
                inner.threads = max(2, inner.threads)
            self.stats.add_time("load_encoder", time.perf_counter() - started)
        return self.encoder

    def process(self, item: PairChunk) -> Iterator[PrefetchedPair]:
        if not any(item.needs_work):
            yield from (PrefetchedPair(p) for p in item.pairs)
            return
        encoder = self._encoder()  # a bad --model is the user's error: it stops the build
        before = encoder.texts_embedded
        started = time.perf_counter()
        wall = time.time()
        out = embed_chunk(item.pairs, item.needs_work, encoder, self.align_params)
        self.record("busy", (wall, time.time()))
        self.stats.add_time("embed", time.perf_counter() - started)
        self.stats.counters["texts_encoded"] += sum(len(p.texts or ()) for p in out)
        self.stats.counters["texts_embedded_by_model"] += encoder.texts_embedded - before
        self.stats.counters["chunks_embedded"] += 1
        yield from out


def _model_name(spec: str) -> str:
    """The name ``load_encoder(spec)`` gives its encoder (the ``model`` column)."""
    spec = spec.strip()
    if spec.startswith("st:"):
        return "st:" + spec[3:].strip()
    return spec


def _align_params(options: BuildOptions) -> Any:
    from pipeline.align import AlignParams

    return options.align_params if options.align_params is not None else AlignParams()


class AlignStage(Stage[PrefetchedPair, AlignedDocument]):
    """Pair -> alignment, from the work cache when nothing it depends on changed.

    The vectors come from the embedding cache (the embed stage put them there); a
    text ``align_pair`` asks for beyond them is embedded alone (see
    ``pipeline.build.prefetch``), by a model loaded only if that ever happens.
    """

    name = "align"
    item_independent = True

    def __init__(self, options: BuildOptions) -> None:
        super().__init__()
        self.options = options
        self.params = options.align_params
        self.cache = WorkCache(
            options.cache_dir / "work",
            model=options.model,
            params=_align_params_dict(options.align_params),
        )
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
            self._single = load_encoder(
                self.options.model, device=self.options.device, batch_size=self.options.batch_size
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
            self.record("failed", Rejected(item.pair.symbol, reason))
            log.warning("%s: %s", item.pair.symbol, reason)
            return
        self.cache.store(aligned)
        self.stats.counters["aligned_pairs"] += 1
        self.record("models", aligned.model)
        self.record("busy", (started, time.time()))
        yield aligned

    def _align(self, item: PrefetchedPair, vectors: np.ndarray | None = None) -> AlignedDocument:
        from pipeline.docalign import align_pair
        from pipeline.embed import EncoderError

        pair = item.pair
        started = time.perf_counter()
        if vectors is None:
            try:
                vectors = read_vectors(item)
            except RuntimeError as error:
                raise EncoderError(self.options.model, str(error)) from error
            self.stats.add_time("read_vectors", time.perf_counter() - started)
        model_name = _model_name(self.options.model)
        encoder = PrefetchedEncoder(
            name=model_name,
            dim=item.dim,
            texts=item.texts or [],
            vectors=vectors,
            single=self._single_encoder,
        )
        from threadpoolctl import threadpool_limits

        started = time.perf_counter()
        # One BLAS thread wherever it runs (driver, pool worker, Ray task): a matrix
        # product split over threads sums in another order, and the corpus must not
        # depend on the engine.
        with threadpool_limits(limits=1, user_api="blas"):
            result = align_pair(pair, encoder, self.params)
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


class DecideStage(Stage[AlignedDocument, DecidedDocument]):
    """Aligned pair -> dataset rows, split into corpus and rejects by the filters."""

    name = "decide"
    item_independent = True

    def __init__(self, options: FilterOptions) -> None:
        super().__init__()
        self.options = options

    def label(self, item: AlignedDocument) -> str:
        return item.pair.symbol

    def process(self, item: AlignedDocument) -> Iterator[DecidedDocument]:
        rows = sentence_rows(item)
        reasons = decide(rows, self.options)
        sentences, sentence_rejects = split_rows(rows, reasons)
        para_rows = paragraph_rows(item)
        paragraphs, paragraph_rejects = split_rows(para_rows, decide(para_rows, self.options))
        for row in sentence_rejects:
            self.stats.counters["sentence_rejects." + row["reject_reason"].split(":")[0]] += 1
        for row in paragraph_rejects:
            self.stats.counters["paragraph_rejects." + row["reject_reason"].split(":")[0]] += 1
        yield DecidedDocument(
            item,
            sentences,
            sentence_rejects,
            paragraphs,
            paragraph_rejects,
            decisions=list(zip(rows, reasons, strict=True)),
        )


class WriteStage(Stage[DecidedDocument, None]):
    """Sink: streams each document's rows to every output in the temporary folder."""

    name = "write"

    def __init__(
        self, folder: Path, context: BuildContext, options: BuildOptions, aligner: AlignStage
    ) -> None:
        super().__init__()
        self.folder = folder
        self.context = context
        self.options = options
        self.aligner = aligner
        self.sentences = ParquetTableWriter(folder / PAIR, SENTENCE_SCHEMA)
        self.paragraphs = ParquetTableWriter(folder / f"{PAIR}-paragraphs", PARAGRAPH_SCHEMA)
        self.sentence_rejects = ParquetTableWriter(
            folder / "rejects" / PAIR, SENTENCE_REJECT_SCHEMA
        )
        self.paragraph_rejects = ParquetTableWriter(
            folder / "rejects" / f"{PAIR}-paragraphs", PARAGRAPH_REJECT_SCHEMA
        )
        self.tmx = TmxWriter(folder / f"{PAIR}.tmx")
        self.moses = MosesWriter(folder / f"{PAIR}.en", folder / f"{PAIR}.zh")
        low = options.filters.min_score
        self.report = ReportWriter(
            folder / "report.html", low_score=low if low is not None else DEFAULT_REVIEW_SCORE
        )
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
        ctx = self.context
        self.report.start(
            "UN resolutions en-zh: alignment report",
            {
                "files read": len(ctx.files),
                "document pairs": len(ctx.pairs),
                "unpaired documents": len(ctx.unpaired),
                "rejected files": len(ctx.rejected),
                "model": self.options.model,
                "filters": json.dumps(self.options.filters.to_dict()),
                "highlighted": f"score below {self.report.low_score}",
            },
            [(d.symbol, d.language, d.source_file) for d in ctx.unpaired],
            [(r.source_file, r.reason) for r in ctx.rejected],
        )

    def process(self, item: DecidedDocument) -> Iterator[None]:
        self._start_report()
        self.sentences.write_rows(item.sentences)
        self.paragraphs.write_rows(item.paragraphs)
        self.sentence_rejects.write_rows(item.sentence_rejects)
        self.paragraph_rejects.write_rows(item.paragraph_rejects)
        for row in item.sentences:
            self.beads_by_type[row["align_type"]] += 1
            if is_translation_pair(row):
                self.score_sum += row["score"]
                self.scored += 1
                self.tmx.write_row(row)
                self.moses.write_row(row)
            else:
                self.not_exported += 1
        self.report.add_document(report_document(item))
        # A sink yields nothing, so the base class would report out=0: its output is
        # the documents it wrote, and the log and manifest should say so.
        self.stats.items_out += 1
        self.stats.counters["sentence_rows"] += len(item.sentences)
        self.stats.counters["paragraph_rows"] += len(item.paragraphs)
        yield from ()  # a generator, so the stage's clock runs while this writes

    def finish(self) -> Iterator[None]:
        self._start_report()
        self.sentences.close()
        self.paragraphs.close()
        self.sentence_rejects.close()
        self.paragraph_rejects.close()
        self.tmx.close()
        self.moses.close()
        failed = self.aligner.records.get("failed", [])
        self.report.close(failed=[(r.source_file, r.reason) for r in failed])
        return iter(())


def report_document(item: DecidedDocument) -> ReportDocument:
    """The report's view of one document: every bead in order, rejects marked."""
    aligned = item.aligned
    return ReportDocument(
        symbol=aligned.pair.symbol,
        source_en=aligned.pair.en.source_file,
        source_zh=aligned.pair.zh.source_file,
        rows=[
            ReportRow(
                id=row["id"],
                kind=row["kind"],
                align_type=row["align_type"],
                en=row["en"],
                zh=row["zh"],
                score=row["score"],
                reject_reason=reason,
            )
            for row, reason in item.decisions
        ],
        similarity=aligned.similarity,
        shape=aligned.shape,
        path=[(list(b.src), list(b.tgt)) for b in aligned.beads],
    )


# --------------------------------------------------------------------------- build


def local_folder(spec: Path | str, flag: str) -> Path:
    """A local path from a path or ``file://`` URI; the local engine reads and writes
    only local folders (other URIs need ``--engine ray``, whose workers use them)."""
    from pipeline.build.storage import location

    folder = location(spec).local
    if folder is None:
        raise BuildError(f"{spec}: {flag} is not a local folder; use --engine ray for URIs")
    return folder


def resolve_workers(options: BuildOptions) -> int:
    from pipeline.embed import available_cores

    if options.workers is None:
        return available_cores()
    if options.workers < 1:
        raise BuildError(f"--workers must be at least 1, got {options.workers}")
    return options.workers


def make_engine(
    options: BuildOptions, *, read: Stage[Any, Any], embed: Stage[Any, Any], align: Stage[Any, Any]
) -> Engine:
    """The local engine the options ask for: in-process, or read and align on a process
    pool with embedding in the driver. (``--engine ray`` is its own streaming build:
    ``pipeline.build.engines.ray_build``.)"""
    if options.engine == "local":
        workers = resolve_workers(options)
        if workers == 1:
            return LocalEngine()
        from pipeline.build.engines.pool import PoolEngine

        return PoolEngine(workers, [read, align])
    raise BuildError(f"engine {options.engine!r} is not available; use 'local' or 'ray'")


def build_corpus(options: BuildOptions) -> BuildResult:
    """Run the whole build; the corpus appears at ``options.out`` only if it succeeds.

    One build at a time per local output folder: a second one refuses with a clear
    message (``pipeline.build.locking``; an object store has no lock to take). Spools of
    killed builds are removed first."""
    from pipeline.build.storage import location

    out = location(options.out).local
    if out is None:
        return _build_locked(options)
    try:
        with output_lock(out.resolve()):
            for folder in remove_dead_spools(options.cache_dir.resolve() / "spool"):
                log.info("removed %s, left by a build that was killed", folder)
            return _build_locked(options)
    except OutputLocked as error:
        raise BuildError(str(error)) from None


def _build_locked(options: BuildOptions) -> BuildResult:
    if options.engine not in ("local", "ray"):
        raise BuildError(f"engine {options.engine!r} is not available; use 'local' or 'ray'")
    if options.chunk_pairs < 1:
        raise BuildError(f"chunk size must be at least 1 pair, got {options.chunk_pairs}")
    if options.engine == "ray":
        from pipeline.build.engines.ray_build import build_with_ray

        return build_with_ray(options)
    resolve_workers(options)
    started = time.perf_counter()
    raw = local_folder(options.raw, "--raw")
    out = local_folder(options.out, "--out")
    if out == raw or raw.is_relative_to(out):
        raise BuildError(f"{out}: output folder must not contain the raw folder {raw}")
    files = list_sources(raw)
    tmp = prepare_output(out)
    engine: Engine | None = None
    spool = DocumentSpool(options.cache_dir.resolve() / "spool" / f"{os.getpid()}")
    try:
        context = BuildContext(raw=raw, files=files)
        show_bar = sys.stderr.isatty() if options.show_progress is None else options.show_progress
        log.info("build: %d files in %s -> %s", len(files), raw, out)
        reader = ReadStage(spool)
        aligner = AlignStage(options)
        embedder = EmbedStage(options)
        writer = WriteStage(tmp, context, options, aligner)
        stages: list[Stage[Any, Any]] = [
            reader,
            PairStage(context, reader),
            ChunkStage(options, aligner.cache, spool),
            embedder,
            aligner,
            DecideStage(options.filters),
            writer,
        ]
        engine = make_engine(options, read=reader, embed=embedder, align=aligner)
        stats = run_stages(files, stages, engine=engine, show_bar=show_bar)
        context.failed.extend(aligner.records.get("failed", []))
        context.models.update(aligner.records.get("models", []))
        manifest = build_manifest(options, context, writer, stats, local_output_files(writer))
        write_json(tmp / "manifest.json", manifest)
        (tmp / "README.md").write_text(dataset_card(manifest), encoding="utf-8")
        align_counters = aligner.stats.counters
        embed_counters = embedder.stats.counters
        run_stats = {
            "seconds": round(time.perf_counter() - started, 4),
            "engine": options.engine,
            "workers": resolve_workers(options) if options.engine == "local" else None,
            "aligned_pairs": align_counters["aligned_pairs"],
            "cached_pairs": align_counters["cached_pairs"],
            "texts_encoded": embed_counters["texts_encoded"],
            "texts_embedded_by_model": embed_counters["texts_embedded_by_model"],
            "stragglers": align_counters["stragglers"],
            "sentences": align_counters["sentences_en"] + align_counters["sentences_zh"],
            "stages": [s.to_dict() for s in stats],
            "overlap": busy_overlap(
                embedder.records.get("busy", []), aligner.records.get("busy", [])
            ),
        }
        write_json(tmp / "stats.json", run_stats)
        swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        close = getattr(engine, "close", None)
        if close is not None:
            close()
        shutil.rmtree(spool.folder, ignore_errors=True)
    log.info("build: done in %.2f s", run_stats["seconds"])
    return BuildResult(out=out, manifest=manifest, stats=run_stats)
