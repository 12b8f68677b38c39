"""The driver of the streaming Ray Data build (``--engine ray``; workers: ``ray_engine``).

What the driver holds, and why it stays small: the list of raw file names, one stub per
document (symbol, language, file; pairing is a barrier and needs them all), the chunk
list (symbols and spool keys), and one chunk's summary at a time. Documents, vectors and
rows stay on the workers and in Ray's object store, where backpressure bounds them; the
Parquet shards are written by the workers; TMX, Moses and report.html are appended from
each chunk's parts (files the workers leave in ``_parts/``, read and deleted one at a
time) as the summaries stream in, in chunk order (``preserve_order``).

Output is built in a temporary location beside ``--out`` and swapped in at the end, as
the local engine does (atomic for local folders; on an object store it is a copy, and
``manifest.json``, the completion marker, is written last). Finished pairs stay in the
work cache, so a killed build resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.build.configs import StageConfigs, WriteConfig
from pipeline.build.engines.ray import (
    PARTS_FOLDER,
    TABLES,
    TASK_RETRIES,
    EmbedActor,
    align_chunk,
    part_name,
    spool_key,
)
from pipeline.build.engines.ray_start import configure_data, init_ray, read_documents
from pipeline.build.options import BuildContext, BuildOptions, BuildResult
from pipeline.build.output import BuildError, prepare_output, refuse_empty, swap_in
from pipeline.build.runner import StageStats, busy_overlap, run_stats
from pipeline.build.stages.read import PairStage, list_sources
from pipeline.build.stages.write import finalize_outputs, start_report
from pipeline.build.storage import Location, StorageError, location, move_tree
from pipeline.corpus.card import dataset_card
from pipeline.corpus.finalize import Finalized
from pipeline.corpus.manifest import build_manifest
from pipeline.corpus.records import FailedPair
from pipeline.corpus.report import PAGES_FOLDER, ReportWriter
from pipeline.corpus.splits import SPLITS, Placement
from pipeline.corpus.write import PAIR, MosesWriter, TmxWriter

log = logging.getLogger("pipeline.build")


class HashingSink(io.TextIOBase):
    """A text stream over a binary one that hashes what passes (the manifest's sha256
    of an assembled file, without reading it back from remote storage)."""

    def __init__(self, binary: Any) -> None:
        self.binary = binary
        self.digest = hashlib.sha256()

    def write(self, text: str) -> int:  # type: ignore[override]
        data = text.encode("utf-8")
        self.digest.update(data)
        self.binary.write(data)
        return len(text)

    def close(self) -> None:
        if not self.closed:
            self.binary.close()
        super().close()


def _output_locations(options: BuildOptions) -> tuple[Location, Location, Location]:
    """(raw, out, temporary output) with the checks the local engine makes."""
    raw, out = location(options.raw), location(options.out)
    if raw.local is not None and out.local is not None:
        if out.local == raw.local or raw.local.is_relative_to(out.local):
            raise BuildError(f"{out.local}: output folder must not contain the raw folder")
    if out.local is not None:
        return raw, out, Location(str(prepare_output(out.local)))
    tmp = out.sibling(f".{out.name}.tmp-{os.getpid()}")
    tmp.delete()
    return raw, out, tmp


def chunk_rows(
    pairs: list[Any], size: int, placements: dict[str, Placement]
) -> list[dict[str, Any]]:
    """Fixed chunk boundaries (n-th pair in symbol order in chunk n // size); each pair
    with the lineage and split the pairing barrier gave it."""
    rows = []
    for index, start in enumerate(range(0, len(pairs), size)):
        group = pairs[start : start + size]
        rows.append(
            {
                "chunk": index,
                "symbols": [p.symbol for p in group],
                "lineages": [placements[p.symbol].lineage for p in group],
                "splits": [placements[p.symbol].split for p in group],
                "en_keys": [spool_key(p.en.source_file, p.en.sha256) for p in group],
                "zh_keys": [spool_key(p.zh.source_file, p.zh.sha256) for p in group],
            }
        )
    return rows


class Assembler:
    """Appends each chunk's parts to the corpus files and keeps the manifest's totals."""

    def __init__(self, tmp: Location, context: BuildContext, config: WriteConfig) -> None:
        self.tmp = tmp
        self.context = context
        self.low_score = config.low_score
        self.sinks = {
            name: HashingSink(tmp.child(name).open_output())
            for name in (f"{PAIR}.tmx", f"{PAIR}.en", f"{PAIR}.zh", "report.html")
        }
        self.tmx = TmxWriter(Path(f"{PAIR}.tmx"), handle=self.sinks[f"{PAIR}.tmx"])
        self.moses = MosesWriter(
            Path(f"{PAIR}.en"),
            Path(f"{PAIR}.zh"),
            handles=(self.sinks[f"{PAIR}.en"], self.sinks[f"{PAIR}.zh"]),
        )
        self.report = ReportWriter(
            Path("report.html"), low_score=self.low_score, handle=self.sinks["report.html"]
        )
        start_report(self.report, context, config)
        self.tables: dict[str, dict[str, Any]] = {n: {"rows": 0, "files": []} for n, *_ in TABLES}
        self.beads_by_type: Counter[str] = Counter()
        self.score_sum = 0.0
        self.scored = 0
        self.not_exported = 0
        self.stages = {n: StageStats(n) for n in ("embed", "align", "decide", "write")}
        self.busy: dict[str, list[tuple[float, float]]] = {"embed": [], "align": []}
        #: Seconds the driver spent appending parts (its only per-pair work).
        self.driver_seconds = 0.0
        #: What the finalize pass wrote and found (set by ``finalize``).
        self.finalized: Finalized | None = None
        self.prepare_seconds = 0.0
        #: Damaged work-cache entries the embed actors met (the chunk stage's counter).
        self.bad_work_entries = 0

    def add(self, row: dict[str, Any]) -> None:
        """Fold in one chunk's summary (in chunk order)."""
        for name, shards in json.loads(row["files"]).items():
            for path, sha, rows in shards:
                self.tables[name]["rows"] += rows
                self.tables[name]["files"].append({"path": path, "sha256": sha, "rows": rows})
        totals = json.loads(row["totals"])
        self.beads_by_type.update(totals["beads_by_type"])
        self.score_sum += totals["score_sum"]
        self.scored += totals["scored"]
        self.not_exported += totals["not_exported"]
        part = self.tmp.child(PARTS_FOLDER, part_name(int(row["chunk"])))
        parts = json.loads(part.read_bytes())
        self.tmx.write_units(parts["tmx"], totals["scored"])
        self.moses.write_lines(parts["moses_en"], parts["moses_zh"], totals["scored"])
        self.report.add_rendered(parts["report"], int(row["documents"]))
        part.delete()
        records = json.loads(row["records"])
        self.context.failed.extend(FailedPair(s, r) for s, r in records["failed"])
        self.context.models.update(records["models"])
        for name, data in json.loads(row["stats"]).items():
            self.stages[name].merge(_stage_stats(name, data))
        embed = json.loads(str(row["embed_stats"]))
        stage = self.stages["embed"]
        stage.items_in += 1
        for key in ("texts_requested", "texts_from_cache", "texts_embedded", "chunks_embedded"):
            stage.counters[key] += embed[key]
        stage.counters["bad_cache_vectors"] += embed.get("bad_cache_vectors", 0)
        self.bad_work_entries += embed.get("bad_work_entries", 0)
        stage.add_time("load_encoder", embed["load_encoder"])
        busy = json.loads(row["busy"])
        if embed["busy"]:
            self.busy["embed"].append(tuple(embed["busy"]))
            stage.seconds += embed["busy"][1] - embed["busy"][0]
        self.busy["align"].append(tuple(busy["align"]))
        # The chunk stage's work (spool, work-cache check) runs in the embed actor.
        self.prepare_seconds += embed["prepare_s"]
        write = self.stages["write"]
        write.items_in += int(row["documents"])
        write.items_out += int(row["documents"])
        write.seconds += busy["write"][1] - busy["write"][0]

    def finalize(self, config: WriteConfig, chunks: int) -> None:
        """Every split of every table gets a file (an empty one where no chunk had rows
        of it), then the finalize pass the local build runs too (``finalize_outputs``)."""
        from pipeline.build.engines.ray import write_shard

        for name, folder, schema in TABLES:
            present = {
                f["path"].rsplit("/", 1)[1].split("-", 1)[0] for f in self.tables[name]["files"]
            }
            for split in SPLITS:
                if split not in present:
                    path, sha, rows = write_shard(
                        self.tmp.uri, folder, schema, [], split, 0, chunks
                    )
                    self.tables[name]["files"].append({"path": path, "sha256": sha, "rows": rows})
        shards = {name: sorted(f["path"] for f in t["files"]) for name, t in self.tables.items()}
        self.finalized = finalize_outputs(self.tmp, shards, self.context, config)

    def close(self) -> dict[str, Any]:
        """Finish the assembled files; the manifest's ``files`` section."""
        if self.finalized is None:
            raise BuildError("the Ray build's finalize pass has not run")
        self.tmx.close()
        self.moses.close()
        self.report.close(
            failed=[(r.symbol, r.reason) for r in self.context.failed],
            summary=self.finalized.summary,
        )
        files: dict[str, Any] = dict(self.finalized.files)
        digests = {name: sink.digest.hexdigest() for name, sink in self.sinks.items()}
        files["tmx"] = {
            "rows": self.tmx.units,
            "files": [{"path": f"{PAIR}.tmx", "sha256": digests[f"{PAIR}.tmx"]}],
        }
        files["moses"] = {
            "rows": self.moses.lines,
            "files": [{"path": n, "sha256": digests[n]} for n in (f"{PAIR}.en", f"{PAIR}.zh")],
        }
        files["report"] = {
            "rows": self.report.documents,
            "files": [{"path": "report.html", "sha256": digests["report.html"]}],
            "pages": f"{PAGES_FOLDER}/",
        }
        w = self.stages["write"]
        w.counters["sentence_rows"] = self.tables["sentences"]["rows"]
        w.counters["paragraph_rows"] = self.tables["paragraphs"]["rows"]
        return files


def _stage_stats(name: str, data: dict[str, Any]) -> StageStats:
    return StageStats(
        name=name,
        items_in=data["items_in"],
        items_out=data["items_out"],
        dropped=Counter(data["dropped"]),
        seconds=data["seconds"],
        counters=Counter(data["counters"]),
        timings=dict(data["timings"]),
    )


def run_pipeline(
    chunks: list[dict[str, Any]],
    options: BuildOptions,
    configs: StageConfigs,
    spool: Location,
    tmp: Location,
    assembler: Assembler,
) -> None:
    """embed (actor pool) -> align/decide/write, streamed into the assembler."""
    import ray

    if not chunks:
        return
    configure_data()
    ds = ray.data.from_items(chunks, override_num_blocks=len(chunks))
    ds = ds.map_batches(
        EmbedActor,
        fn_constructor_args=(configs.embed, configs.align, spool.uri),
        batch_size=1,
        # One chunk in flight per actor: with one actor, chunks meet the embedding cache
        # in order, so each finds what the local engine's would (same vectors).
        compute=ray.data.ActorPoolStrategy(
            size=max(1, options.embed_actors), max_tasks_in_flight_per_actor=1
        ),
        num_cpus=options.embed_cpus,
        num_gpus=options.num_gpus or None,
        batch_format="numpy",
    )
    ds = ds.map(
        align_chunk,
        fn_kwargs={
            "config": configs.align,
            "filters": configs.decide,
            "spool": spool.uri,
            "out": tmp.uri,
            "shards": len(chunks),
            "low_score": assembler.low_score,
        },
        num_cpus=1,
        max_retries=TASK_RETRIES,
    )
    expected = 0
    for row in ds.iter_rows():
        if int(row["chunk"]) != expected:  # preserve_order is what makes this hold
            raise BuildError(f"ray returned chunk {row['chunk']}, expected {expected}")
        began = time.perf_counter()
        assembler.add(row)
        assembler.driver_seconds += time.perf_counter() - began
        expected += 1


def build_with_ray(options: BuildOptions) -> BuildResult:
    """The whole build as one streaming Ray Data pipeline (see module docstring)."""
    started = time.perf_counter()
    raw, out, tmp = _output_locations(options)
    started_ray = False
    try:
        skipped = []
        try:
            if raw.local is not None:  # a local folder is listed as the local engine does
                listing = list_sources(raw.local, follow_symlinks=options.follow_symlinks)
                files, skipped = [Location(str(p)) for p in listing.files], listing.skipped
            else:
                files = raw.list_files()
        except StorageError as error:
            raise BuildError(str(error)) from error
        except OSError as error:  # e.g. an object store that cannot be reached
            raise BuildError(f"{raw.uri}: cannot list the raw folder ({error})") from error
        log.info("build (ray): %d files in %s -> %s", len(files), raw.uri, out.uri)
        started_ray = init_ray(options.ray_address)
        spool = tmp.child("_spool")
        reader, stubs = read_documents(files, spool)
        context = BuildContext(
            raw=Path(raw.path), files=[Path(f.path) for f in files], skipped=skipped
        )
        configs = StageConfigs.from_options(options)  # workers get only their stage's settings
        pairer = PairStage(context, reader, configs.splits)
        pairs = list(pairer.run(stubs))
        del stubs
        chunks = chunk_rows(pairs, configs.chunk_pairs, context.placements)
        chunker = StageStats("chunk", items_in=len(pairs), items_out=len(chunks))
        del pairs
        assembler = Assembler(tmp, context, configs.write)
        run_pipeline(chunks, options, configs, spool, tmp, assembler)
        assembler.finalize(configs.write, max(1, len(chunks)))
        files_section = assembler.close()
        refuse_empty(context, assembler.report.documents, out.uri, options.allow_empty)
        chunker.seconds = assembler.prepare_seconds
        chunker.counters["bad_work_entries"] = assembler.bad_work_entries
        stages = [reader.stats, pairer.stats, chunker, *assembler.stages.values()]
        assembler.stages["embed"].items_out = assembler.stages["align"].items_in
        manifest = build_manifest(options, context, assembler, stages, files_section)
        spool.delete()
        tmp.child(PARTS_FOLDER).delete()
        run_stats = _run_stats(options, stages, assembler, time.perf_counter() - started)
        tmp.child("stats.json").write_bytes(_json_bytes(run_stats))
        tmp.child("README.md").write_bytes(dataset_card(manifest).encode("utf-8"))
        tmp.child("manifest.json").write_bytes(_json_bytes(manifest))  # last: complete
        if out.local is not None and tmp.local is not None:
            for leftover in tmp.local.rglob(".*.tmp"):  # a killed worker's half file
                leftover.unlink()
            swap_in(tmp.local, out.local)
        else:
            move_tree(tmp, out)
    except BaseException:
        tmp.delete()
        raise
    finally:
        if started_ray:
            import ray

            ray.shutdown()
    log.info("build: done in %.2f s", run_stats["seconds"])
    return BuildResult(out=out.local or Path(out.path), manifest=manifest, stats=run_stats)


def _json_bytes(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _run_stats(
    options: BuildOptions, stages: list[StageStats], assembler: Assembler, seconds: float
) -> dict[str, Any]:
    common = run_stats(
        seconds=seconds,
        engine="ray",
        workers=None,
        align=assembler.stages["align"].counters,
        embed=assembler.stages["embed"].counters,
        stages=stages,
        overlap=busy_overlap(assembler.busy["embed"], assembler.busy["align"]),
    )
    return {**common, "driver_assemble_s": round(assembler.driver_seconds, 4)}
