"""Starting Ray, and the build's first phase on it: reading the raw files.

The read ends in the pairing barrier (``ray_build``), so it is plain Ray tasks, a batch
of files each, not a Ray Data dataset: streaming would buy nothing before a barrier, and
a second dataset costs a start-up of its own. While the read tasks run, Ray Data is
imported and warmed up; after them, the align workers are, so that little of Ray's
start-up is left between the barrier and the first aligned chunk.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from pipeline.build.engines.ray import TASK_RETRIES, read_files, warm_up_worker
from pipeline.build.output import BuildError
from pipeline.build.stages.read import ReadStage
from pipeline.build.storage import Location
from pipeline.corpus.lineage import LineageSignature
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


def read_documents(files: list[Location], spool: Location) -> tuple[ReadStage, list[Document]]:
    """Read every file in plain Ray tasks (a batch of files each); only stubs come back.
    The returned ReadStage holds the records and numbers the local read stage would have.

    Plain tasks, not a Ray Data dataset: the read ends in the pairing barrier anyway, so
    streaming buys nothing here, and a second dataset cost a start-up of its own."""
    import ray

    reader = ReadStage()
    reader.stats.items_in = len(files)
    stubs: list[Document] = []
    if not files:
        return reader, stubs
    size = read_batches(len(files), int(ray.cluster_resources().get("CPU", 1)))
    task = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(read_files)
    refs = [
        task.remote([f.uri for f in files[start : start + size]], spool.uri)
        for start in range(0, len(files), size)
    ]
    warm_up_ray_data()  # while the read tasks run
    for ref in refs:  # in file order, as the local engine records them
        for row in ray.get(ref):
            _read_row(row, reader, stubs)
    # The cores are idle until the first chunk is embedded: the align tasks' one-off
    # set-up (imports, the aligner's compiled kernels) is done meanwhile, on the
    # workers that run them.
    warm = ray.remote(num_cpus=1, max_retries=0)(warm_up_worker)
    for _ in range(int(ray.cluster_resources().get("CPU", 1))):
        warm.remote()
    return reader, stubs


def configure_data() -> None:
    """The Ray Data settings of the build (this driver's DataContext)."""
    import ray

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # parts are appended in chunk order
    ctx.enable_progress_bars = False


def warm_up_ray_data() -> None:
    """Set up Ray Data and run a one-row dataset, so that its first execution in this
    driver (importing it, starting its own actors: about 2 s on 2 cores) overlaps the
    read tasks instead of following the pairing barrier.

    The dataset has no map: its first execution is what starts Ray Data's actors, and a
    task would take a CPU from the read (a read worker waited about 0.7 s for it)."""
    import ray

    configure_data()
    for _ in ray.data.from_items([{"n": 0}]).iter_rows():
        pass


def _read_row(row: dict[str, Any], reader: ReadStage, stubs: list[Document]) -> None:
    """Record one file's outcome: a stub for pairing, or a rejected file."""
    name, kind = str(row["name"]), str(row["kind"])
    if kind != "document":
        reader.drop(kind)
        reader.record("rejected", Rejected(name, str(row["reason"])))
        log.warning("rejected %s: %s", name, row["reason"])
        return
    stub = Document.from_dict(json.loads(str(row["stub"])))
    reader.stats.items_out += 1
    reader.stats.seconds += float(row["seconds"])
    reader.record(
        "documents", (stub.symbol, stub.language, name, stub.metadata.numbered)
    )
    reader.record("signatures", LineageSignature.from_dict(json.loads(str(row["signature"]))))
    stubs.append(stub)
