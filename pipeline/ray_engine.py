"""Ray Data engine (``--engine ray``): the build on a cluster, or on one machine.

Stages map onto Ray Data the way the build's cost is split:

* read and align are per-document **tasks** (``map`` with ``num_cpus``): stateless,
  any node, retried by Ray if a node dies;
* embed is a **stateful actor pool** (``map_batches`` with a class): each actor loads
  the encoder once, on a GPU when ``num_gpus`` > 0, and embeds one chunk of pairs per
  call (the embedding batch, see ``pipeline.prefetch``);
* pair, decide and write stay in the driver (a barrier and the sinks).

Items and results travel as pickled bytes in one column: the build's records are
dataclasses, not tables, and this keeps Ray's schema inference out of the way. Rows
come back in input order (``preserve_order``), so the corpus is the one the local
engine writes. With one embedding actor the vectors are too, bit for bit; with several,
chunks may be embedded concurrently and a text shared by two chunks may take its vector
from either (the shared cache keeps the first), a difference in the 7th decimal.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from typing import Any

from pipeline.runner import ItemResult, LocalEngine, Stage, process_item, run_remote_stage


class _StageActor:
    """Ray Data callable class: one stage copy per actor, its model loaded once."""

    def __init__(self, stage_blob: bytes) -> None:
        self.stage = pickle.loads(stage_blob)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        blobs = [
            pickle.dumps(process_item(self.stage, pickle.loads(bytes(item))))
            for item in batch["item"]
        ]
        return {"index": batch["index"], "result": blobs}


def _task(stage_blob: bytes) -> Any:
    """A per-row function for ``Dataset.map``: the stage is unpickled per task."""

    def run(row: dict[str, Any]) -> dict[str, Any]:
        from threadpoolctl import threadpool_limits

        stage = pickle.loads(stage_blob)
        with threadpool_limits(limits=1):
            result = process_item(stage, pickle.loads(bytes(row["item"])))
        return {"index": row["index"], "result": pickle.dumps(result)}

    return run


class RayEngine:
    """Runs ``tasks`` stages as Ray tasks and ``actors`` stages on a Ray actor pool."""

    name = "ray"

    def __init__(
        self,
        *,
        tasks: Iterable[Stage[Any, Any]],
        actors: Iterable[Stage[Any, Any]],
        address: str | None = None,
        num_actors: int = 1,
        num_gpus: float = 0.0,
        cpus_per_task: float = 1.0,
        window_items: int = 512,
    ) -> None:
        self.tasks = {s.name for s in tasks}
        self.actors = {s.name for s in actors}
        self.address = address
        self.num_actors = max(1, num_actors)
        self.num_gpus = num_gpus
        self.cpus_per_task = cpus_per_task
        #: Items per Ray dataset (see ``_results``); an actor pool starts once per window,
        #: so the embed stage's windows of chunks (16 pairs each) span 8,192 pairs.
        self.window_items = max(1, window_items)
        self._local = LocalEngine()
        self._started_ray = False

    def _ray(self) -> Any:
        try:
            import ray
        except ImportError as err:
            raise RuntimeError(
                "--engine ray needs Ray Data: pip install 'un-parallel-pipeline[ray]'"
            ) from err
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
            self._started_ray = True
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        return ray

    def run_stage(
        self, stage: Stage[Any, Any], items: Iterable[Any], *, show_bar: bool
    ) -> Iterator[Any]:
        if stage.name not in self.tasks and stage.name not in self.actors:
            return self._local.run_stage(stage, items, show_bar=show_bar)
        return run_remote_stage(stage, self._results(stage, items), show_bar=show_bar)

    def _results(self, stage: Stage[Any, Any], items: Iterable[Any]) -> Iterator[ItemResult]:
        """The stage's results in input order, one dataset per window of items.

        Windows bound the item lists the driver holds: a dataset is made from a list,
        and one list of every item would hold a whole archive's pickled documents. (They
        did not remove the growth of the Ray driver's peak RSS measured by the benchmark,
        366 MB at 200 pairs and 1,016 MB at 2,000, whose cause is still open.) Each
        window's dataset runs to completion before its results are handed on, so no
        dataset sits half-consumed holding CPUs (or an actor pool) that the next stage's
        dataset needs.
        """
        window: list[Any] = []
        start = 0
        for item in items:
            window.append(item)
            if len(window) >= self.window_items:
                yield from self._window(stage, window, start)
                start += len(window)
                window = []
        if window:
            yield from self._window(stage, window, start)

    def _window(self, stage: Stage[Any, Any], items: list[Any], start: int) -> list[ItemResult]:
        rows = [{"index": start + k, "item": pickle.dumps(item)} for k, item in enumerate(items)]
        ray = self._ray()
        blob = pickle.dumps(stage)
        ds = ray.data.from_items(rows, override_num_blocks=min(len(rows), 200))
        if stage.name in self.actors:
            ds = ds.map_batches(
                _StageActor,
                fn_constructor_args=(blob,),
                batch_size=1,
                # One chunk in flight per actor: chunks then reach the shared embedding
                # cache in order, so what each one finds already embedded is fixed.
                compute=ray.data.ActorPoolStrategy(
                    size=self.num_actors, max_tasks_in_flight_per_actor=1
                ),
                num_gpus=self.num_gpus or None,
                batch_format="numpy",
            )
        else:
            ds = ds.map(_task(blob), num_cpus=self.cpus_per_task)
        results = []
        for row in ds.iter_rows():
            expected = start + len(results)
            if int(row["index"]) != expected:  # preserve_order is what makes this hold
                raise RuntimeError(f"ray returned item {row['index']}, expected {expected}")
            results.append(pickle.loads(bytes(row["result"])))
        return results

    def close(self) -> None:
        if self._started_ray:
            import ray

            ray.shutdown()
            self._started_ray = False
