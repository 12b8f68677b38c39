"""``build_corpus``: engine choice, the output lock, the stage chain and the manifest."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pipeline.build.cachedir import cache_in_use, prepare_cache
from pipeline.build.checks import check_folders, os_error_line
from pipeline.build.configs import StageConfigs
from pipeline.build.locking import OutputLocked, output_lock, remove_dead_spools
from pipeline.build.options import BuildContext, BuildOptions, BuildResult
from pipeline.build.output import BuildError, prepare_output, refuse_empty, swap_in
from pipeline.build.runner import (
    Engine,
    LocalEngine,
    Stage,
    busy_overlap,
    run_stages,
    run_stats,
)
from pipeline.build.stages.align import AlignStage
from pipeline.build.stages.read import ChunkStage, EmbedStage, PairStage, ReadStage, list_sources
from pipeline.build.stages.write import DecideStage, WriteStage
from pipeline.build.storage import StorageError
from pipeline.build.workcache import DocumentSpool
from pipeline.corpus.card import dataset_card
from pipeline.corpus.manifest import build_manifest, local_output_files
from pipeline.corpus.write import write_json
from pipeline.readers.names import shown_name

log = logging.getLogger("pipeline.build")


def local_folder(spec: Path | str, flag: str) -> Path:
    """A local path from a path or ``file://`` URI; the local engine reads and writes
    only local folders (other URIs need ``--engine ray``, whose workers use them)."""
    from pipeline.build.storage import location

    text = str(spec)
    folder = None if "://" in text and not text.startswith("file://") else location(spec).local
    if folder is None:
        raise BuildError(f"{spec}: {flag} is not a local folder; use --engine ray for URIs")
    return folder


def resolve_workers(options: BuildOptions, *, announce: bool = False) -> int:
    """The local engine's worker processes: ``--workers``, at most the cores this process
    may use (more only queue for the same cores, each holding a copy of the stages)."""
    from pipeline.embed import available_cores

    cores = available_cores()
    if options.workers is None:
        return cores
    if options.workers < 1:
        raise BuildError(f"--workers must be at least 1, got {options.workers}")
    if options.workers > cores:
        if announce:
            log.info(
                "--workers %d: capped at %d, the cores this process may use",
                options.workers,
                cores,
            )
        return cores
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

    check_folders(options)
    out = location(options.out).local
    cache = options.cache_dir.resolve()
    try:
        with ExitStack() as held:
            if out is not None:
                held.enter_context(output_lock(out.resolve()))
            held.enter_context(cache_in_use(prepare_cache(cache)))
            for folder in remove_dead_spools(cache / "spool"):
                log.info("removed %s, left by a build that was killed", folder)
            return _build_locked(options)
    except OutputLocked as error:
        raise BuildError(str(error)) from None
    except StorageError as error:
        raise BuildError(f"{error}; {shown_name(str(options.out))} is unchanged") from error
    except OSError as error:  # a full disk, a read-only folder, a file in the way
        shown = shown_name(str(options.out))
        line = os_error_line(error, f"writing the corpus beside {shown}")
        raise BuildError(f"{line}; {shown} is unchanged") from error


def _build_locked(options: BuildOptions) -> BuildResult:
    if options.engine not in ("local", "ray"):
        raise BuildError(f"engine {options.engine!r} is not available; use 'local' or 'ray'")
    if options.chunk_pairs < 1:
        raise BuildError(f"chunk size must be at least 1 pair, got {options.chunk_pairs}")
    if options.engine == "ray":
        from pipeline.build.engines.ray_build import build_with_ray

        return build_with_ray(options)
    resolve_workers(options, announce=True)
    started = time.perf_counter()
    raw = local_folder(options.raw, "--raw")
    out = local_folder(options.out, "--out")
    listing = list_sources(raw, follow_symlinks=options.follow_symlinks)
    files = listing.files
    tmp = prepare_output(out)
    engine: Engine | None = None
    spool = DocumentSpool(options.cache_dir.resolve() / "spool" / f"{os.getpid()}")
    try:
        context = BuildContext(raw=raw, files=files, skipped=listing.skipped)
        show_bar = sys.stderr.isatty() if options.show_progress is None else options.show_progress
        log.info("build: %d files in %s -> %s", len(files), raw, out)
        configs = StageConfigs.from_options(options)
        reader = ReadStage(spool)
        aligner = AlignStage(configs.align)
        embedder = EmbedStage(configs.embed)
        writer = WriteStage(
            tmp, context, configs.write, failed=lambda: aligner.records.get("failed", [])
        )
        stages: list[Stage[Any, Any]] = [
            reader,
            PairStage(context, reader, configs.splits),
            ChunkStage(configs.chunk_pairs, aligner.cache, spool),
            embedder,
            aligner,
            DecideStage(configs.decide, context.placements),
            writer,
        ]
        engine = make_engine(options, read=reader, embed=embedder, align=aligner)
        stats = run_stages(files, stages, engine=engine, show_bar=show_bar)
        context.failed.extend(aligner.records.get("failed", []))
        context.models.update(aligner.records.get("models", []))
        refuse_empty(context, writer.stats.items_out, str(out), options.allow_empty)
        manifest = build_manifest(options, context, writer, stats, local_output_files(writer))
        write_json(tmp / "manifest.json", manifest)
        (tmp / "README.md").write_text(dataset_card(manifest), encoding="utf-8")
        stats_json = run_stats(
            seconds=time.perf_counter() - started,
            engine=options.engine,
            workers=resolve_workers(options) if options.engine == "local" else None,
            align=aligner.stats.counters,
            embed=embedder.stats.counters,
            stages=stats,
            overlap=busy_overlap(
                embedder.records.get("busy", []), aligner.records.get("busy", [])
            ),
        )
        write_json(tmp / "stats.json", stats_json)
        swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        close = getattr(engine, "close", None)
        if close is not None:
            close()
        shutil.rmtree(spool.folder, ignore_errors=True)
    log.info("build: done in %.2f s", stats_json["seconds"])
    return BuildResult(out=out, manifest=manifest, stats=stats_json)
