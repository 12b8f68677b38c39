"""``build_corpus``: the output lock, the stage list every engine runs, the engine that
places it, and the manifest."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pipeline.corpus.card import dataset_card
from pipeline.corpus.manifest import build_manifest, local_output_files
from pipeline.corpus.write import write_json
from pipeline.readers.names import shown_name
from pipeline.runner.cachedir import cache_in_use, prepare_cache
from pipeline.runner.checks import check_folders, os_error_line
from pipeline.runner.configs import StageConfigs
from pipeline.runner.locking import OutputLocked, output_lock, remove_dead_spools
from pipeline.runner.options import BuildContext, BuildOptions, BuildResult
from pipeline.runner.output import BuildError, prepare_output, refuse_empty, swap_in
from pipeline.runner.spool import DocumentSpool
from pipeline.runner.stage import (
    Engine,
    LocalEngine,
    Stage,
    busy_overlap,
    run_stages,
    run_stats,
)
from pipeline.runner.stages.align import AlignStage
from pipeline.runner.stages.chunk import ChunkStage
from pipeline.runner.stages.decide import DecideStage
from pipeline.runner.stages.embed import EmbedStage
from pipeline.runner.stages.pair import PairStage
from pipeline.runner.stages.read import ReadStage, list_sources
from pipeline.runner.stages.segment import SegmentStage
from pipeline.runner.stages.write import WriteStage
from pipeline.runner.storage import Location, StorageError
from pipeline.runner.uptodate import STATS_FILE, build_key, outputs_digest, up_to_date

log = logging.getLogger("pipeline.build")


def local_folder(spec: Path | str, flag: str) -> Path:
    """A local path from a path or ``file://`` URI; the local engine reads and writes
    only local folders (other URIs need ``--engine ray``, whose workers use them)."""
    from pipeline.runner.storage import location

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


def make_engine(options: BuildOptions) -> Engine:
    """The engine the options ask for. Every engine runs the same stage list
    (``_stages``); each only decides where a stage runs: in this process, on a process
    pool (``parallel`` stages), or on Ray (``pipeline.runner.ray``)."""
    if options.engine == "ray":
        from pipeline.runner.ray import Placement, RayEngine

        return RayEngine(
            Placement(
                address=options.ray_address,
                embed_actors=options.embed_actors,
                embed_cpus=options.embed_cpus,
                num_gpus=options.num_gpus,
            ),
            warm_up=_aligns_everything(options),
        )
    if options.engine == "local":
        workers = resolve_workers(options)
        if workers == 1:
            return LocalEngine()
        from pipeline.runner.pool import PoolEngine

        return PoolEngine(workers, warm_up=_aligns_everything(options))
    raise BuildError(f"engine {options.engine!r} is not available; use 'local' or 'ray'")


def _aligns_everything(options: BuildOptions) -> bool:
    """No finished alignment in the work cache: every pair will be aligned, so the
    workers of the pool (and of Ray) should start warm. A rebuild with entries is likely
    to align few pairs or none; its workers warm on their first."""
    try:
        with os.scandir(Path(options.cache_dir) / "work") as entries:
            return not any(e.name.endswith(".json") for e in entries)
    except OSError:  # no work cache yet (or none readable): a cold build
        return True


def build_corpus(options: BuildOptions) -> BuildResult:
    """Run the whole build; the corpus appears at ``options.out`` only if it succeeds.

    One build at a time per local output folder: a second one refuses with a clear
    message (``pipeline.runner.locking``; an object store has no lock to take). Spools of
    killed builds are removed first."""
    from pipeline.runner.storage import location

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
    started = time.perf_counter()
    raw, out = _locations(options)
    listing = list_sources(raw, follow_symlinks=options.follow_symlinks)
    out_folder = out.local
    local = raw.local is not None and out_folder is not None
    key = build_key(options, listing) if local else None
    if key is not None and out_folder is not None and not options.force:
        done = up_to_date(out_folder, key)
        if done is not None:
            log.info("build: up to date, nothing to do")
            return done
    files = [str(p) for p in listing.files]
    tmp = prepare_output(out_folder) if out_folder is not None else _remote_staging(options)
    engine = make_engine(options)
    spool = DocumentSpool(_spool_location(options, out))
    try:
        if options.engine == "local":
            resolve_workers(options, announce=True)
        else:
            from pipeline.runner.ray import embed_cache_dir

            embed_cache_dir(StageConfigs.from_options(options).embed)  # node-local or none
            engine.start()  # type: ignore[attr-defined]
        context = BuildContext(raw=Path(raw.path), files=[Path(f) for f in files])
        context.skipped.extend(listing.skipped)
        show_bar = sys.stderr.isatty() if options.show_progress is None else options.show_progress
        log.info("build (%s): %d files in %s -> %s", engine.name, len(files), raw.uri, out.uri)
        configs = StageConfigs.from_options(options)
        stages = _stages(tmp, context, configs, spool)
        stats = run_stages(files, stages, engine=engine, show_bar=show_bar)
        reader, _, _, _, embedder, aligner, _, writer = stages
        context.failed.extend(aligner.records.get("failed", []))
        context.models.update(aligner.records.get("models", []))
        refuse_empty(context, writer.stats.items_out, out.uri, options.allow_empty)
        manifest = build_manifest(options, context, writer, stats, local_output_files(writer))
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
        (tmp / "README.md").write_text(dataset_card(manifest), encoding="utf-8")
        write_json(tmp / "manifest.json", manifest)  # an object store's completion marker
        # last, over every other file: what a rebuild checks (pipeline.runner.uptodate)
        stats_json["build_key"] = key
        stats_json["outputs_digest"] = outputs_digest(tmp) if key is not None else None
        write_json(tmp / STATS_FILE, stats_json)
        publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        close = getattr(engine, "close", None)
        if close is not None:
            close()
        spool.delete()
    log.info("build: done in %.2f s", stats_json["seconds"])
    return BuildResult(out=out.local or Path(out.path), manifest=manifest, stats=stats_json)


def _stages(
    tmp: Path, context: BuildContext, configs: StageConfigs, spool: DocumentSpool
) -> list[Stage[Any, Any]]:
    """The build, for every engine: read -> pair -> chunk -> segment -> embed -> align ->
    decide -> write."""
    reader = ReadStage(spool)
    aligner = AlignStage(configs.align)
    return [
        reader,
        PairStage(context, reader, configs.splits),
        ChunkStage(configs.chunk_pairs),
        SegmentStage(spool, aligner.cache),
        EmbedStage(configs.embed),
        aligner,
        DecideStage(configs.decide),
        WriteStage(tmp, context, configs.write, failed=lambda: aligner.records.get("failed", [])),
    ]


def _locations(options: BuildOptions) -> tuple[Location, Location]:
    """--raw and --out; the local engine reads and writes local folders only."""
    from pipeline.runner.storage import location

    raw = location(options.raw)
    out = location(options.out)
    if options.engine == "local":
        local_folder(options.raw, "--raw")
        local_folder(options.out, "--out")
    if raw.local is not None and out.local is not None:
        if out.local == raw.local or raw.local.is_relative_to(out.local):
            raise BuildError(
                f"{out.local}: output folder must not contain the raw folder {raw.local}"
            )
    return raw, out


def _spool_location(options: BuildOptions, out: Location) -> Location:
    """The spool: in the cache for a local --out (its dead spools are removed at the next
    build); beside a URI --out, on the storage every node reaches."""
    if out.local is not None:
        return Location(str(options.cache_dir.resolve() / "spool" / str(os.getpid())))
    return out.sibling(f".{out.name}.spool-{os.getpid()}")


def _remote_staging(options: BuildOptions) -> Path:
    """Where the corpus for a URI --out is written before it is published."""
    folder = options.cache_dir.resolve() / "out" / str(os.getpid())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def publish(tmp: Path, out: Location) -> None:
    """The written corpus becomes ``out``: swapped in atomically for a local folder;
    copied to an object store with ``manifest.json`` (the completion marker) last."""
    if out.local is not None:
        swap_in(tmp, out.local)
        return
    from pipeline.runner.storage import copy_tree

    copy_tree(tmp, out)
    shutil.rmtree(tmp, ignore_errors=True)
