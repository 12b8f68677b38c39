"""Starting Ray, and the build's first phase on it: reading the raw files and pairing.

The read ends in the pairing barrier, so it is plain Ray tasks, a batch of files each,
not a Ray Data dataset: streaming would buy nothing before a barrier, and a second
dataset costs a start-up of its own. The pairing is a Ray task too, over the read
tasks' results: its chunk rows are an object that the pipeline dataset (``ray_build``)
is given before they exist, so the dataset, Ray Data's own actors and the embedding
actors (model loaded) start while the files are read, and after the barrier only the
first chunk's embedding is left before the first align task. The align workers warm up
meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.build.engines.ray import TASK_RETRIES, read_files, spool_key, warm_up_worker
from pipeline.build.options import BuildContext
from pipeline.build.output import BuildError
from pipeline.build.runner import StageStats
from pipeline.build.stages.read import PairStage, ReadStage
from pipeline.build.storage import Location
from pipeline.data import Document, Rejected

log = logging.getLogger("pipeline.build")


#: Ray starts its worker processes 15 nice levels below the driver (``worker_niceness``),
#: to keep the driver responsive. Here the workers do all the work and the driver only
#: waits, so they run at the driver's own priority, as the local engine's pool does; on a
#: shared machine the workers otherwise get a fraction of a core next to other jobs.
WORKER_NICENESS = "0"


def start_ray(address: str | None = None, **kwargs: Any) -> None:
    """``ray.init`` as the build wants it: no dashboard, worker logs kept on the nodes,
    and workers at the driver's priority when this call starts Ray (a cluster that
    ``ray start`` made keeps its own settings)."""
    import ray

    name = "RAY_worker_niceness"
    previous = os.environ.get(name)
    os.environ.setdefault(name, WORKER_NICENESS)  # read by the raylet this call starts
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, **kwargs)
    finally:
        if previous is None:
            os.environ.pop(name, None)


def init_ray(address: str | None) -> bool:
    """Connect to (or start) Ray; True when this call started it (the build stops it)."""
    try:
        import ray
    except ImportError as err:
        raise BuildError(
            "--engine ray needs Ray Data: pip install 'un-parallel-pipeline[ray]'"
        ) from err
    started = False
    if not ray.is_initialized():
        start_ray(address)
        started = True
    return started


def read_batches(count: int, cpus: int) -> int:
    """Files per read task: about eight tasks per CPU, so the cores finish together, but
    at most 64 files a task (a task per file spent more on Ray than on reading)."""
    return max(1, min(64, -(-count // (8 * max(1, cpus)))))


def chunk_slots(files: int, chunk_pairs: int) -> int:
    """How many chunks the build can have at most, known before a file is read: every
    pair takes two files. The pipeline dataset has one input row per slot, so that it can
    start (and its embedding actors load their model) while the files are read."""
    return -(-(files // 2) // max(1, chunk_pairs))


def chunk_rows(pairs: list[Any], size: int) -> list[dict[str, Any]]:
    """Fixed chunk boundaries (n-th pair in symbol order in chunk n // size)."""
    rows = []
    for index, start in enumerate(range(0, len(pairs), size)):
        group = pairs[start : start + size]
        rows.append(
            {
                "chunk": index,
                "symbols": [p.symbol for p in group],
                "en_keys": [spool_key(p.en.source_file, p.en.sha256) for p in group],
                "zh_keys": [spool_key(p.zh.source_file, p.zh.sha256) for p in group],
            }
        )
    return rows


@dataclass
class Pairing:
    """What the pairing barrier hands the driver: the read and pair stages' numbers and
    records, and the manifest's lists (``context``: documents, rejected, unpaired, pairs)."""

    reader: ReadStage
    pairer: StageStats
    context: BuildContext
    pairs: int
    chunks: int


def pair_read_rows(
    chunk_pairs: int, *batches: list[dict[str, Any]]
) -> tuple[Pairing, list[dict[str, Any]], int]:
    """The pairing barrier, as a Ray task over the read tasks' results: stubs -> pairs ->
    chunk rows. Returns (what the driver records, the chunk rows for the embedding
    actors, their count: the warm-up tasks wait on it). In a task, not in the driver, so
    that the chunk rows are an object the pipeline dataset can be given before they exist."""
    reader = ReadStage()
    stubs: list[Document] = []
    for rows in batches:  # in file order, as the local engine records them
        for row in rows:
            _read_row(row, reader, stubs)
    reader.stats.items_in = reader.stats.items_out + sum(reader.stats.dropped.values())
    context = BuildContext(raw=Path("."))
    pairer = PairStage(context, reader)
    pairs = list(pairer.run(stubs))
    chunks = chunk_rows(pairs, chunk_pairs)
    return Pairing(reader, pairer.stats, context, len(pairs), len(chunks)), chunks, len(chunks)


@dataclass
class Reading:
    """The read phase in flight: the pairing task's results, not yet computed."""

    pairing: Any  # ObjectRef[Pairing]
    chunks: Any  # ObjectRef[list[dict]]: the chunk rows
    slots: int  # chunk_slots(...): input rows of the pipeline dataset


def start_reading(files: list[Location], spool: Location, chunk_pairs: int) -> Reading:
    """Submit the read tasks (a batch of files each; only stubs come back), the pairing
    task over their results, and one align warm-up per CPU after it; returns at once.

    Plain tasks, not a Ray Data dataset: the read ends in the pairing barrier anyway, so
    streaming buys nothing here, and a second dataset cost a start-up of its own."""
    import ray

    if not files:
        empty = pair_read_rows(chunk_pairs)
        return Reading(ray.put(empty[0]), ray.put(empty[1]), 0)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    size = read_batches(len(files), cpus)
    task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(read_files)
    refs = [
        task.remote([f.uri for f in files[start : start + size]], spool.uri)
        for start in range(0, len(files), size)
    ]
    pair = ray.remote(num_cpus=1, max_retries=TASK_RETRIES, num_returns=3)(pair_read_rows)
    pairing, chunks, count = pair.remote(chunk_pairs, *refs)
    # The cores are idle while the first chunk is embedded: the align tasks' one-off
    # set-up (imports, jieba's and the lexicon's tables) is done meanwhile, on the
    # workers that run them. After the pairing (they wait on its count), not before: the
    # pairing is on the way to the first chunk, the set-up is not.
    warm = ray.remote(num_cpus=1, max_retries=0)(warm_up_worker)
    for _ in range(cpus):
        warm.remote(count)
    return Reading(pairing, chunks, chunk_slots(len(files), chunk_pairs))


def finish_pairing(reading: Reading, context: BuildContext) -> Pairing:
    """The pairing's result (waits for it), its lists added to ``context``; logs the
    rejected files, as the local read stage does."""
    import ray

    pairing: Pairing = ray.get(reading.pairing)
    for rejected in pairing.reader.records.get("rejected", []):
        log.warning("rejected %s: %s", rejected.source_file, rejected.reason)
    context.documents.extend(pairing.context.documents)
    context.rejected.extend(pairing.context.rejected)
    context.unpaired.extend(pairing.context.unpaired)
    context.pairs.extend(pairing.context.pairs)
    return pairing


def configure_data() -> None:
    """The Ray Data settings of the build (this driver's DataContext)."""
    import ray

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # parts are appended in chunk order
    ctx.enable_progress_bars = False


def _read_row(row: dict[str, Any], reader: ReadStage, stubs: list[Document]) -> None:
    """Record one file's outcome: a stub for pairing, or a rejected file."""
    name, kind = str(row["name"]), str(row["kind"])
    if kind != "document":
        reader.drop(kind)
        reader.record("rejected", Rejected(name, str(row["reason"])))
        return
    stub = Document.from_dict(json.loads(str(row["stub"])))
    reader.stats.items_out += 1
    reader.stats.seconds += float(row["seconds"])
    reader.record("documents", (stub.symbol, stub.language, name))
    stubs.append(stub)
