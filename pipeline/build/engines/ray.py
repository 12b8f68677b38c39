"""What runs on Ray workers in the streaming build (``--engine ray``; driver: ``ray_build``).

The build is one Ray Data pipeline over chunks of pairs (``pipeline.build.prefetch`` says why
chunks have fixed boundaries)::

    embed (actor pool) -> align + decide + write (task) -> driver

* :func:`read_files`: a batch of raw files (a plain Ray task, before the pairing
  barrier) -> each document spooled to storage and a stub row (symbol, language,
  metadata; no text) for the driver's pairing barrier.
* :class:`EmbedActor`: a chunk's documents back from the spool, which pairs the work
  cache already holds, and the plan and vectors of the rest (``plan_chunk``: two
  encoder calls); the model is loaded once per actor for the whole build (on a GPU with
  ``num_gpus``). Plans and vectors leave pickled in a dataset column: they travel in the
  dataset, which Ray sizes, spills and backpressures, never through a shared file.
* :func:`align_chunk`: align each pair with those vectors, decide its rows, write the
  chunk's Parquet shards, one per split with rows (``train-00007-of-00032.parquet``)
  straight to ``--out`` (the driver's finalize pass fills the corpus-wide columns), leave
  the chunk's TMX, Moses and report parts in ``_parts/`` there, and hand the driver only
  a small summary.

Everything a function needs arrives as arguments (its stage's config from
``pipeline.build.configs``, locations as URIs), so any
node can run it; outputs are deterministic, so a task Ray retries after its worker died
writes the same bytes again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.build.storage import Location

if TYPE_CHECKING:
    from pipeline.build.configs import AlignConfig, EmbedConfig
    from pipeline.corpus.filters import FilterOptions

#: Task retries after a worker or node dies (Ray re-runs the task elsewhere).
TASK_RETRIES = 3

#: Folder of the temporary output where each align task leaves its chunk's text parts
#: (TMX units, Moses lines, report-index lines) for the driver to append.
PARTS_FOLDER = "_parts"


def part_name(chunk: int) -> str:
    return f"{chunk:05d}.json"


def spool_key(source_file: str, sha256: str) -> str:
    """File name of an extracted document in the spool (same key as ``DocumentSpool``)."""
    return hashlib.sha256(f"{source_file}\0{sha256}".encode()).hexdigest() + ".json"


@contextlib.contextmanager
def _local_copy(source: Location) -> Iterator[Path]:
    """The file as a local path: itself when local, else a temporary copy under its own
    name (readers name documents by the file's base name)."""
    if source.local is not None:
        yield source.local
        return
    with tempfile.TemporaryDirectory(prefix="un-raw-") as folder:
        path = Path(folder) / source.name
        path.write_bytes(source.read_bytes())
        yield path


def read_file(row: dict[str, Any], *, spool: str) -> dict[str, Any]:
    """Extract one raw file; the document goes to the spool, its stub to the driver."""
    from pipeline.corpus.lineage import document_signature
    from pipeline.data import RejectedInput
    from pipeline.extract import extract_file
    from pipeline.pair.duplicates import pairing_stub
    from pipeline.readers.names import shown_name

    source = Location(str(row["uri"]))
    # Every row has every column (a block mixing rejected and read files keeps one schema).
    out: dict[str, Any] = {
        "name": shown_name(source.name),
        "kind": "document",
        "reason": "",
        "stub": "",
        "signature": "",
        "seconds": 0.0,
    }
    started = time.perf_counter()
    try:
        with _local_copy(source) as path:
            document = extract_file(path)
    except RejectedInput as error:
        return {**out, "kind": "rejected", "reason": error.reason}
    except Exception as error:  # noqa: BLE001 - a bad document must never stop the build
        reason = f"unexpected error while reading: {type(error).__name__}: {error}"
        return {**out, "kind": "error", "reason": reason}
    payload = json.dumps(document.to_dict(), ensure_ascii=False).encode("utf-8")
    Location(spool).child(spool_key(document.source_file, document.sha256)).write_bytes(payload)
    stub = pairing_stub(document)
    out["stub"] = json.dumps(stub.to_dict(), ensure_ascii=False)
    out["signature"] = json.dumps(document_signature(document).to_dict(), ensure_ascii=False)
    out["seconds"] = time.perf_counter() - started
    return out


def _load_pairs(row: dict[str, Any], spool: str) -> list[Any]:
    from pipeline.data import Document, DocumentPair

    folder = Location(spool)

    def load(key: str) -> Document:
        return Document.from_dict(json.loads(folder.child(key).read_bytes()))

    return [
        DocumentPair(str(symbol), load(str(en)), load(str(zh)))
        for symbol, en, zh in zip(row["symbols"], row["en_keys"], row["zh_keys"], strict=True)
    ]


def read_files(uris: list[str], spool: str) -> list[dict[str, Any]]:
    """:func:`read_file` for a batch of files: one Ray task per batch, so the per-task
    cost of Ray (scheduling, a result object) is paid once per batch, not per file."""
    return [read_file({"uri": uri}, spool=spool) for uri in uris]


def warm_up_worker() -> None:
    """A worker's one-off set-up for :func:`align_chunk`, run while the cores would idle
    (after the pairing barrier): the modules and the aligner's compiled kernels; about
    0.8 s that the first chunk would otherwise wait for. Not the CC-CEDICT lexicon (only
    ``align-text`` uses it) and not jieba's dictionary (0.46 s): the sentences, with
    their token counts, come segmented from the embedding actor, so align tasks never
    segment, and the warm-ups would only slow the actor's start, which they share the
    cores with."""
    from pipeline.align.document import align_pair  # noqa: F401
    from pipeline.align.search import load_kernels
    from pipeline.build.stages.align import AlignStage  # noqa: F401
    from pipeline.build.stages.write import DecideStage  # noqa: F401
    from pipeline.corpus import report, write  # noqa: F401

    load_kernels()


def needs_work(pairs: list[Any], config: AlignConfig) -> tuple[list[bool], int]:
    """Which pairs the work cache does not hold yet (the others are reused, not aligned),
    and how many of its entries were damaged (they are aligned again)."""
    from pipeline.build.stages.align import work_cache

    cache = work_cache(config)
    return [not cache.has(pair) for pair in pairs], cache.bad


def embed_cache_dir(config: EmbedConfig) -> Path | None:
    """The actor's embedding cache folder, or None (``--no-embed-cache``).

    SQLite on a network file system corrupts or deadlocks under several writers, and
    on a cluster every node's actors would write it: refused, with what to do instead.
    """
    if config.cache_dir is None:
        return None
    from pipeline.build.output import BuildError
    from pipeline.build.storage import mount_type, on_network_fs

    folder = Path(config.cache_dir)
    probe = folder if folder.exists() else folder.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if on_network_fs(probe):
        raise BuildError(
            f"{folder}: the embedding cache (SQLite) would be on a network file system "
            f"({mount_type(probe)}); give --embed-cache-dir a node-local folder "
            "or use --no-embed-cache"
        )
    return folder


class EmbedActor:
    """Ray Data callable class: the encoder loaded once, then one chunk per call."""

    def __init__(self, config: EmbedConfig, align: AlignConfig, spool: str) -> None:
        self.config = config
        #: The align stage's config: which pairs its work cache already holds.
        self.align = align
        self.spool = spool
        self.encoder: Any | None = None
        self.load_seconds = 0.0

    def _encoder(self) -> Any:
        if self.encoder is None:
            from pipeline.embed import load_encoder

            started = time.perf_counter()
            cache = embed_cache_dir(self.config)
            encoder = self.config.encoder
            self.encoder = load_encoder(
                encoder.model, cache_dir=cache, device=encoder.device, batch_size=encoder.batch_size
            )
            inner = getattr(self.encoder, "inner", self.encoder)
            if isinstance(getattr(inner, "threads", None), int):
                # As EmbedStage: use-m splits a call into 64-text pieces only with >= 2
                # threads, and the pieces change the last float bits.
                inner.threads = max(2, inner.threads)
            self.load_seconds = time.perf_counter() - started
        return self.encoder

    def _chunk(self, row: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
        """One chunk: each pair's plan and vectors, pickled (None: in the work cache), and
        the stats (:func:`pipeline.build.prefetch.plan_chunk` makes the two encoder calls
        and segments each document once)."""
        from pipeline.build.prefetch import plan_chunk

        started = time.time()
        load_before = self.load_seconds
        bad_before = getattr(self.encoder, "bad_vectors", 0)
        pairs = _load_pairs(row, self.spool)
        needs, bad_entries = needs_work(pairs, self.align)
        prepared = time.time()
        planned, counts = (
            plan_chunk(pairs, needs, self._encoder(), self.config.params)
            if any(needs)
            else ([None] * len(pairs), None)
        )
        work = [
            None if p is None or p.plan is None else (p.sentences, p.plan, p.texts, p.matrix)
            for p in planned
        ]
        stats = {
            "texts_requested": counts.requested if counts else 0,
            "texts_from_cache": counts.requested - counts.embedded if counts else 0,
            "texts_embedded": counts.embedded if counts else 0,
            "chunks_embedded": int(counts is not None),
            "bad_cache_vectors": int(getattr(self.encoder, "bad_vectors", 0) - bad_before),
            "bad_work_entries": bad_entries,
            "load_encoder": self.load_seconds - load_before,
            "prepare_s": prepared - started,
            "busy": [prepared, time.time()] if counts else None,
        }
        return pickle.dumps(work, protocol=pickle.HIGHEST_PROTOCOL), stats

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        planned, stats = [], []
        for k in range(len(batch["chunk"])):
            work, chunk_stats = self._chunk({key: batch[key][k] for key in batch})
            planned.append(work)
            stats.append(json.dumps(chunk_stats))
        column = np.empty(len(planned), dtype=object)
        column[:] = planned
        return {**batch, "planned": column, "embed_stats": np.array(stats, dtype=object)}


def shard_name(split: str, chunk: int, shards: int) -> str:
    return f"{split}-{chunk:05d}-of-{shards:05d}.parquet"


#: (manifest name, folder below --out, schema attribute in ``pipeline.corpus.write``).
TABLES = (
    ("sentences", "en-zh", "SENTENCE_SCHEMA"),
    ("paragraphs", "en-zh-paragraphs", "PARAGRAPH_SCHEMA"),
    ("sentence_rejects", "rejects/en-zh", "SENTENCE_REJECT_SCHEMA"),
    ("paragraph_rejects", "rejects/en-zh-paragraphs", "PARAGRAPH_REJECT_SCHEMA"),
)


def write_shards(decided: list[Any], out: str, chunk: int, shards: int) -> dict[str, list[Any]]:
    """The chunk's Parquet shards, one per table and split that has rows, written to
    ``out``; per table a list of [path, sha256, rows]."""
    from pipeline.corpus.write import rows_by_split

    columns = {
        "sentences": [r for d in decided for r in d.sentences],
        "paragraphs": [r for d in decided for r in d.paragraphs],
        "sentence_rejects": [r for d in decided for r in d.sentence_rejects],
        "paragraph_rejects": [r for d in decided for r in d.paragraph_rejects],
    }
    files: dict[str, list[Any]] = {}
    for name, folder, schema in TABLES:
        by_split = rows_by_split(columns[name]).items()
        files[name] = [write_shard(out, folder, schema, r, s, chunk, shards) for s, r in by_split]
    return files


def write_shard(
    out: str, folder: str, schema: str, rows: list[Any], split: str, chunk: int, shards: int
) -> list[Any]:
    """One shard (``rows`` may be empty: a split with no rows still gets a file)."""
    from pipeline.corpus import write

    data = write.parquet_bytes(rows, getattr(write, schema))
    path = f"{folder}/{shard_name(split, chunk, shards)}"
    Location(out).child(*path.split("/")).write_bytes(data)
    return [path, hashlib.sha256(data).hexdigest(), len(rows)]


def _align_all(row: dict[str, Any], pairs: list[Any], aligner: Any, decider: Any) -> list[Any]:
    from pipeline.build.prefetch import PlannedPair

    work = pickle.loads(row["planned"])
    decided = []
    for pair, planned in zip(pairs, work, strict=True):
        aligner.stats.items_in += 1
        item = PlannedPair(pair) if planned is None else PlannedPair(pair, *planned)
        outputs = list(aligner.process(item))
        aligner.stats.items_out += len(outputs)
        for aligned in outputs:
            started = time.perf_counter()
            decider.stats.items_in += 1
            decided.extend(decider.process(aligned))
            decider.stats.items_out += 1
            decider.stats.seconds += time.perf_counter() - started
    return decided


def align_chunk(
    row: dict[str, Any],
    *,
    config: AlignConfig,
    filters: FilterOptions,
    spool: str,
    out: str,
    shards: int,
    low_score: float,
) -> dict[str, Any]:
    """Align, decide and write one chunk; return its summary and text parts."""
    from threadpoolctl import threadpool_limits

    from pipeline.build.stages.align import AlignStage
    from pipeline.build.stages.write import DecideStage, report_document
    from pipeline.corpus.report import PAGES_FOLDER, page_name, render_index_row, render_page
    from pipeline.corpus.splits import chunk_placements
    from pipeline.corpus.write import is_translation_pair, moses_lines, tmx_units

    started = time.time()
    pairs = _load_pairs(row, spool)
    placements = chunk_placements(row["symbols"], row["lineages"], row["splits"])
    aligner, decider = AlignStage(config), DecideStage(filters, placements)
    # One BLAS thread, as everywhere: the corpus must not depend on the engine.
    with threadpool_limits(limits=1):
        decided = _align_all(row, pairs, aligner, decider)
        aligned_at = time.time()
        aligner.stats.seconds = aligned_at - started - decider.stats.seconds
        chunk = int(row["chunk"])
        files = write_shards(decided, out, chunk, shards)
    rows = [r for d in decided for r in d.sentences]
    exported = [r for r in rows if is_translation_pair(r)]
    en, zh = moses_lines(exported)
    totals = {
        "beads_by_type": dict(Counter(r.align_type for r in rows)),
        "score_sum": sum(r.score for r in exported),
        "scored": len(exported),
        "not_exported": len(rows) - len(exported),
    }
    records = {
        "failed": [[r.symbol, r.reason] for r in aligner.records.get("failed", [])],
        "models": sorted(set(aligner.records.get("models", []))),
    }
    report = []
    for document in decided:
        page = report_document(document)
        target = Location(out).child(PAGES_FOLDER, page_name(page.symbol))
        target.write_bytes(render_page(page, low_score=low_score).encode("utf-8"))
        report.append(render_index_row(page, low_score=low_score))
    # The text parts go through storage, not through Ray: a result the driver reads
    # from the object store stays mapped into its memory, which then grows with the
    # archive; a file it reads, appends and deletes does not.
    parts = {"tmx": tmx_units(exported), "moses_en": en, "moses_zh": zh, "report": "".join(report)}
    Location(out).child(PARTS_FOLDER, part_name(chunk)).write_bytes(
        json.dumps(parts, ensure_ascii=False).encode("utf-8")
    )
    return {
        "chunk": chunk,
        "files": json.dumps(files),
        "totals": json.dumps(totals),
        "records": json.dumps(records),
        "stats": json.dumps({"align": aligner.stats.to_dict(), "decide": decider.stats.to_dict()}),
        "embed_stats": str(row["embed_stats"]),
        "busy": json.dumps(
            {
                "align": [started, aligned_at],
                "write": [aligned_at, time.time()],
            }
        ),
        "documents": len(decided),
    }
