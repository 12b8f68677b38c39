"""The Ray engine (``--engine ray``): the build's stages, placed on a Ray cluster.

It runs the same stage list as the local engines (pipeline.runner.driver) and only
decides where each stage runs:

* a stage that holds a model (the embed stage) runs on Ray actors, one model per actor
  (``--embed-actors``, ``--embed-cpus``, ``--num-gpus``);
* each run of the other item-independent stages (read; segment; align and decide) is
  one Ray task per batch, one CPU each; a batch goes through consecutive remote stages
  as a chain of calls on object references, so a chunk flows from the embedding actor
  to its align task without the driver;
* barriers and the sink (pair, chunk, write) run in the driver, which keeps a bounded
  window of batches in flight, receives each chunk's decided rows in order and writes
  every file itself, as the local engine does.

A batch carries items and the reports of the stages that handled them
(``pipeline.runner.stage.ItemResult`` without its outputs); the driver folds the
reports into its own copy of each stage, so stats, drops and records are those of a
local build.

Ray core rather than Ray Data: the build needs ordered batches, a bounded window and an
actor per model, which tasks and actors give directly. Ray Data added a streaming
executor, three internal actors and a polling loop, which cost a 240-pair build on 2
cores about 7 s (1.7x the local engine; with tasks and actors, about 1.05x).

The spool and the caches must be reachable from every node (a URI
``--out`` puts the spool beside it; the work and embedding caches are folders, which
is what a single machine or a shared file system gives).
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.runner.output import BuildError
from pipeline.runner.stage import ItemResult, Progress, Stage, process_item, warm_up_stage

if TYPE_CHECKING:
    from pipeline.runner.configs import EmbedConfig

log = logging.getLogger("pipeline.build")

#: Retries of a task whose worker died (outputs are deterministic: a retry writes the same).
TASK_RETRIES = 3

#: Ray starts its workers 15 nice levels below the driver (``worker_niceness``). Here
#: the workers do all the work and the driver mostly waits, so they run at the driver's
#: priority, as the local pool's do.
WORKER_NICENESS = "0"


@dataclass(frozen=True)
class Placement:
    """Where the Ray engine puts things: the cluster, and the embedding actors."""

    address: str | None = None
    embed_actors: int = 1
    embed_cpus: float = 1.0
    num_gpus: float = 0.0


def start_ray(address: str | None = None, **kwargs: Any) -> None:
    """``ray.init`` as the build wants it: no dashboard, worker logs kept on the nodes,
    workers at the driver's priority when this call starts Ray."""
    import ray

    name = "RAY_worker_niceness"
    previous = os.environ.get(name)
    os.environ.setdefault(name, WORKER_NICENESS)  # read by the raylet this call starts
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, **kwargs)
    finally:
        if previous is None:
            os.environ.pop(name, None)


_STAGES: dict[bytes, Stage[Any, Any]] = {}


def _stage(blob: bytes) -> Stage[Any, Any]:
    """The stage a blob holds, unpickled once per worker process (and kept: a stage
    loads its model or dictionaries lazily, once)."""
    stage = _STAGES.get(blob)
    if stage is None:
        if len(_STAGES) > 16:  # an earlier build's stages
            _STAGES.clear()
        stage = _STAGES[blob] = pickle.loads(blob)
    return stage


Batch = tuple[list[Any], list[tuple[str, ItemResult]]]


def _run(stage: Stage[Any, Any], batch: Batch) -> Batch:
    """One batch through ``stage``: each of its items, the reports appended."""
    items, reports = batch
    outputs: list[Any] = []
    for item in items:
        result = process_item(stage, item)
        result.stats.items_in, result.stats.items_out = 1, len(result.outputs)
        outputs += result.outputs
        reports.append((stage.name, ItemResult([], result.stats, result.records, result.label)))
    return outputs, reports


#: This worker's warm-ups: a stage class -> set once its ``warm_up`` has run.
_WARMED: dict[type[Stage[Any, Any]], threading.Event] = {}


def _warm_in_background(classes: tuple[type[Stage[Any, Any]], ...]) -> None:
    """Warm each of the build's task stages once per worker, on a daemon thread, in
    build order. Why a thread: a Ray worker is a bare interpreter (no fork server to
    inherit from), and the align stage alone costs it about 1.5 s of CPU on its first
    chunk, once the encoder is already feeding it. Started at the worker's first task
    (a read), the warm-up runs in the time the worker would otherwise idle: between
    short read tasks, and while the driver pairs the documents."""
    todo = [cls for cls in classes if cls not in _WARMED]
    if not todo:
        return
    for cls in todo:
        _WARMED[cls] = threading.Event()

    def warm() -> None:
        for cls in todo:
            try:
                warm_up_stage(cls)
            finally:
                _WARMED[cls].set()

    threading.Thread(target=warm, name="stage-warm-up", daemon=True).start()


def _task(
    batch: Batch, blobs: tuple[bytes, ...], warm: tuple[type[Stage[Any, Any]], ...] = ()
) -> Batch:
    """A Ray task: one batch through consecutive CPU stages (one hop, not one each)."""
    from pipeline.blas import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):  # the tasks are the parallelism
        _warm_in_background(warm)
        for blob in blobs:
            stage = _stage(blob)
            warmed = _WARMED.get(type(stage))
            if warmed is not None:
                warmed.wait()  # its own warm-up is under way: not run twice at once
            batch = _run(stage, batch)
        return batch


class _Actor:
    """A Ray actor: the stage (and the model it loads) lives as long as the actor."""

    def __init__(self, blob: bytes) -> None:
        self.stage = pickle.loads(blob)
        self.stage.prepare()

    def run(self, batch: Batch) -> Batch:
        return _run(self.stage, batch)


def embed_cache_dir(config: EmbedConfig) -> Path | None:
    """The actors' embedding cache folder, or None (``--no-embed-cache``).

    SQLite on a network file system corrupts or deadlocks under several writers, and
    on a cluster every node's actors would write it: refused, with what to do instead.
    """
    if config.cache_dir is None:
        return None
    from pipeline.runner.storage import mount_type, on_network_fs

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


class RayEngine:
    """Runs a stage list on Ray (module docstring)."""

    name = "ray"

    def __init__(self, placement: Placement, *, warm_up: bool = True) -> None:
        self.placement = placement
        #: Warm the task stages in each worker (``_warm_in_background``); False for a
        #: rebuild that will likely align nothing, as for the pool engine.
        self.warm_up = warm_up
        self._started = False
        self._warm: tuple[type[Stage[Any, Any]], ...] = ()

    def start(self) -> None:
        try:
            import ray
        except ImportError as err:
            raise BuildError(
                "--engine ray needs Ray: pip install 'un-parallel-pipeline[ray]'"
            ) from err
        if not ray.is_initialized():
            start_ray(self.placement.address)
            self._started = True

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False

    def chain(
        self, source: Iterable[Any], stages: list[Stage[Any, Any]], *, show_bar: bool
    ) -> Iterator[Any]:
        stream: Iterable[Any] = source
        if self.warm_up:
            self._warm = tuple(type(s) for s in stages if s.item_independent and not s.holds_model)
        remote: list[Stage[Any, Any]] = []
        for stage in [*stages, None]:
            if stage is not None and stage.item_independent:
                remote.append(stage)
                continue
            if remote:
                stream = self._remote(remote, stream, show_bar)
                remote = []
            if stage is not None:
                stream = stage.run(stream, show_bar=show_bar)
        return iter(stream)

    def _remote(
        self, stages: list[Stage[Any, Any]], items: Iterable[Any], show_bar: bool
    ) -> Iterator[Any]:
        """Consecutive item-independent stages, each batch through all of them as a
        chain of Ray calls (tasks, and the actors for a model); yields the last stage's
        outputs in order, folding every report into the driver's stages."""
        import ray

        todo = list(items)  # the upstream is a barrier, or the list of raw files
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        # a task per file spends more on Ray than on reading: about eight batches per CPU
        per_batch = max(1, min(64, -(-len(todo) // (8 * cpus))))
        if any(s.holds_model for s in stages):
            per_batch = 1  # a chunk per batch: chunks meet the embedding cache one by one
        by_name = {stage.name: stage for stage in stages}
        progress = {stage.name: Progress(stage.name, show_bar=show_bar) for stage in stages}
        # now, after the barriers before them have run; no actor for nothing to do
        calls = self._calls(stages) if todo else []
        window = max(8, 4 * cpus)  # batches in flight: the cluster busy, memory bounded
        pending: deque[Any] = deque()

        def finished() -> Iterator[Any]:
            outputs, reports = _get(pending.popleft())
            for name, report in reports:
                stage = by_name[name]
                progress[name].begin(report.label)
                stage.stats.merge(report.stats)
                stage.merge_records(report.records)
                progress[name].step()
            yield from outputs

        for n, k in enumerate(range(0, len(todo), per_batch)):
            ref: Any = (todo[k : k + per_batch], [])
            for call in calls:
                ref = call(n, ref)
            pending.append(ref)
            if len(pending) >= window:
                yield from finished()
        while pending:
            yield from finished()
        for stage in stages:  # their finish runs here (none of the remote stages has one)
            yield from stage._timed(stage.finish())
            progress[stage.name].close(stage.stats)

    def _calls(self, stages: list[Stage[Any, Any]]) -> list[Any]:
        """One call per run of CPU stages (a task) and per model stage (its actors,
        batch ``n`` to actor ``n`` modulo their number: each actor's chunks in order)."""
        import ray

        calls: list[Any] = []
        run: list[bytes] = []
        for stage in [*stages, None]:
            if stage is not None and not stage.holds_model:
                run.append(pickle.dumps(stage))
                continue
            if run:
                task = ray.remote(_task).options(num_cpus=1, max_retries=TASK_RETRIES)
                blobs = ray.put(tuple(run))
                calls.append(
                    lambda n, ref, task=task, blobs=blobs, warm=self._warm: task.remote(
                        ref, blobs, warm
                    )
                )
                run = []
            if stage is not None:
                p = self.placement
                actor = ray.remote(_Actor).options(
                    num_cpus=p.embed_cpus,
                    num_gpus=p.num_gpus or None,
                    max_restarts=TASK_RETRIES,
                    max_task_retries=TASK_RETRIES,
                )
                blob = pickle.dumps(stage)
                pool = [actor.remote(blob) for _ in range(max(1, p.embed_actors))]
                calls.append(lambda n, ref, pool=pool: pool[n % len(pool)].run.remote(ref))
        return calls


def _get(ref: Any) -> Batch:
    """A finished batch; a stage's own error is raised as itself, not wrapped by Ray."""
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        raise error.as_instanceof_cause() from None
