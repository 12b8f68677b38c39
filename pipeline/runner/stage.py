"""A small datatrove-style runner: stages are generators chained one after another.

Why a runner at all: every stage needs the same bookkeeping (items in and out, drops
by reason, time spent, a progress bar or log lines), and writing it once in a base
class keeps each stage down to the one method that does its work. The chain is
lazy, so a document flows from reading to writing without the whole archive ever
being held in memory (issue 5).

Why an ``Engine``: the build asks an engine to run each stage. ``LocalEngine`` runs
them in this process, one item after another. A process-pool or Ray engine slots in
by implementing ``run_stage`` for stages marked ``item_independent``: their
``process`` depends on nothing but the item and the stage's own settings, and it
reports everything besides its outputs through ``drop``, ``record``, ``stats.counters``
and ``stats.add_time`` (never through shared objects), so an engine that runs
``process`` in a worker ships those back and merges them into the stage here with
``StageStats.merge`` and ``Stage.merge_records``. Barrier stages (pairing) and sinks
(writers) keep running locally. Nothing else in the build changes.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sized
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from tqdm import tqdm

In = TypeVar("In")
Out = TypeVar("Out")

log = logging.getLogger("pipeline.build")

#: The records kind of warnings a worker sends to the driver (``Stage.warn``).
WARNINGS = "warnings"


@dataclass
class StageStats:
    """What one stage did: the numbers that end up in stats.json and the manifest."""

    name: str
    items_in: int = 0
    items_out: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    #: CPU seconds of the thread that ran the stage's code (``time.thread_time``): what
    #: the stage cost, where ``seconds`` (wall) also holds waits for a busy core. The
    #: embed stage's encoder works on threads of its own, not counted here.
    cpu_seconds: float = 0.0
    counters: Counter[str] = field(default_factory=Counter)
    #: Seconds spent in named parts of the stage (e.g. model loading, embedding).
    timings: dict[str, float] = field(default_factory=dict)

    def add_time(self, name: str, seconds: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + seconds

    def merge(self, other: StageStats) -> None:
        """Add a worker's numbers for the same stage (parallel engines)."""
        self.items_in += other.items_in
        self.items_out += other.items_out
        self.dropped.update(other.dropped)
        self.seconds += other.seconds
        self.cpu_seconds += other.cpu_seconds
        self.counters.update(other.counters)
        for name, seconds in other.timings.items():
            self.add_time(name, seconds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "items_in": self.items_in,
            "items_out": self.items_out,
            "dropped": dict(sorted(self.dropped.items())),
            "seconds": round(self.seconds, 4),
            "cpu_seconds": round(self.cpu_seconds, 4),
            "counters": dict(sorted(self.counters.items())),
            "timings": {k: round(v, 4) for k, v in sorted(self.timings.items())},
        }


class Progress:
    """A tqdm bar on a terminal, plain log lines otherwise (CI logs, pipes, tests).

    Log lines are what a person tailing a build log (or a test waiting for a stage to
    start) reads, so every stage announces its start and its end on a line of its own.
    """

    def __init__(self, stage: str, *, show_bar: bool, total: int | None = None) -> None:
        self.stage = stage
        self.show_bar = show_bar
        self._bar: tqdm | None = None
        if show_bar:
            self._bar = tqdm(total=total, desc=stage, unit="item", leave=True, file=sys.stderr)
        log.info("stage %s: started", stage)

    def begin(self, label: str) -> None:
        """An item starts: named on the bar, or on a log line of its own."""
        if self._bar is not None:
            self._bar.set_postfix_str(label[:40], refresh=False)
        else:
            log.info("stage %s: %s", self.stage, label)

    def step(self) -> None:
        """An item is done."""
        if self._bar is not None:
            self._bar.update(1)

    def close(self, stats: StageStats) -> None:
        if self._bar is not None:
            self._bar.close()
        drops = ", ".join(f"{k}={v}" for k, v in sorted(stats.dropped.items())) or "none"
        log.info(
            "stage %s: done, in=%d out=%d dropped: %s, %.2f s",
            self.stage,
            stats.items_in,
            stats.items_out,
            drops,
            stats.seconds,
        )


class Stage(Generic[In, Out]):
    """One step of the pipeline. Subclasses implement ``process`` and nothing else.

    ``process`` yields zero or more outputs per input; to discard an input it calls
    ``self.drop(reason)`` and yields nothing, so every loss is counted by reason.
    The base class owns the loop, the counting and the clock: time is measured only
    while this stage's own code runs, not while upstream produces or downstream
    consumes, so per-stage times add up even though the stages are interleaved.
    """

    name: str = "stage"
    #: True when ``process`` depends on nothing but its item: such a stage may be
    #: mapped over items by a parallel engine (process pool, Ray) in any order.
    item_independent: bool = False
    #: Worth worker processes on one machine (the local pool engine): CPU-heavy per item.
    parallel: bool = False
    #: Holds a model (the encoder): a Ray engine runs it on an actor pool, where the
    #: model loads once per actor; the local pool engine keeps it in the driver.
    holds_model: bool = False
    #: Set on the copy a worker runs (``process_item``): warnings travel to the driver.
    in_worker: bool = False
    #: Set by an engine on a stage that ``holds_model``: its model runs in a child process
    #: of its own (``pipeline.embed.process``) rather than in the stage's process.
    model_process: bool = False

    def __init__(self) -> None:
        self.stats = StageStats(self.name)
        #: Side results that are not items (rejected files, failures), by kind, in order.
        self.records: dict[str, list[Any]] = {}

    def process(self, item: In) -> Iterator[Out]:  # pragma: no cover - abstract
        raise NotImplementedError

    def prepare(self) -> None:
        """Called by the engine where the stage will run, before items reach it: a stage
        may start slow set-up here in the background (the embed stage, its model)."""

    def close(self) -> None:
        """Called by the engine that placed the stage once the build is over, whether it
        succeeded or not: release what ``prepare`` or ``process`` started (a model's
        process). Only for engines that keep the stage itself, not a copy."""

    @classmethod
    def warm_up(cls) -> None:
        """One-time, process-wide set-up that this stage's first item would otherwise pay
        in every process that runs it (imports, compiled kernels, dictionaries). Only a
        head start: ``process`` must work without it. The pool engine calls it once, in
        the process its workers are forked from (``pipeline.runner.preload``)."""

    def label(self, item: In) -> str:
        """Short name for an item in log lines and progress bars."""
        return type(item).__name__

    def drop(self, reason: str) -> None:
        self.stats.dropped[reason] += 1

    def record(self, kind: str, value: Any) -> None:
        """Keep a side result (e.g. a rejected file) for the manifest."""
        self.records.setdefault(kind, []).append(value)

    def warn(self, message: str) -> None:
        """Tell the user: logged here, or, in a worker (whose log nobody reads), sent to
        the driver with the item's result and logged there when it is merged."""
        if self.in_worker:
            self.record(WARNINGS, message)
        else:
            log.warning("%s", message)

    def merge_records(self, records: dict[str, list[Any]]) -> None:
        """Append a worker's side results (parallel engines; order is the caller's);
        its warnings are logged, in order, as the driver's own."""
        for kind, values in records.items():
            if kind == WARNINGS:
                for message in values:
                    log.warning("%s", message)
                continue
            self.records.setdefault(kind, []).extend(values)

    def run(self, items: Iterable[In], *, show_bar: bool = False) -> Iterator[Out]:
        total = len(items) if isinstance(items, Sized) else None
        progress: Progress | None = None
        for item in items:
            # Announced on the first item, not when the generator is created: the chain
            # is built back to front, and "started" must mean the work has begun.
            if progress is None:
                progress = Progress(self.name, show_bar=show_bar, total=total)
            self.stats.items_in += 1
            progress.begin(self.label(item))
            yield from self._timed(self.process(item))
            progress.step()
        if progress is None:
            progress = Progress(self.name, show_bar=False)
        yield from self._timed(self.finish())
        progress.close(self.stats)

    def finish(self) -> Iterator[Out]:
        """Called once after the last item (a sink closes its files here)."""
        return iter(())

    def _timed(self, outputs: Iterable[Out]) -> Iterator[Out]:
        started, cpu = time.perf_counter(), time.thread_time()
        iterator = iter(outputs)
        while True:
            try:
                out = next(iterator)
            except StopIteration:
                self.stats.seconds += time.perf_counter() - started
                self.stats.cpu_seconds += time.thread_time() - cpu
                return
            self.stats.seconds += time.perf_counter() - started
            self.stats.cpu_seconds += time.thread_time() - cpu
            self.stats.items_out += 1
            yield out
            started, cpu = time.perf_counter(), time.thread_time()


class BarrierStage(Stage[In, Out]):
    """A stage that needs every input before it can emit anything (e.g. pairing).

    Subclasses implement ``process_all``; the base collects the inputs (counting
    them) and times the call.
    """

    def process_all(self, items: list[In]) -> Iterator[Out]:  # pragma: no cover - abstract
        raise NotImplementedError

    def run(self, items: Iterable[In], *, show_bar: bool = False) -> Iterator[Out]:
        collected = list(items)
        self.stats.items_in += len(collected)
        progress = Progress(self.name, show_bar=False)
        yield from self._timed(self.process_all(collected))
        progress.close(self.stats)


class Engine(Protocol):
    """Runs a chain of stages over a stream of items: the seam between what a build does
    (the stage list, the same for every engine) and where it runs (this process, a
    process pool, a Ray cluster). An engine decides placement only."""

    name: str

    def chain(
        self, source: Iterable[Any], stages: list[Stage[Any, Any]], *, show_bar: bool
    ) -> Iterator[Any]: ...


class LocalEngine:
    """In-process, one item at a time, order preserved. The default engine."""

    name = "local"

    def run_stage(
        self, stage: Stage[Any, Any], items: Iterable[Any], *, show_bar: bool
    ) -> Iterator[Any]:
        return stage.run(items, show_bar=show_bar)

    def chain(
        self, source: Iterable[Any], stages: list[Stage[Any, Any]], *, show_bar: bool
    ) -> Iterator[Any]:
        self.held = [stage for stage in stages if stage.holds_model]
        for stage in self.held:  # it runs in this process (the pool keeps it here too)
            self.place_model(stage)
            stage.prepare()
        stream: Iterable[Any] = source
        for stage in stages:
            stream = self.run_stage(stage, stream, show_bar=show_bar)
        return iter(stream)

    def place_model(self, stage: Stage[Any, Any]) -> None:
        """Where a stage that ``holds_model`` keeps its model: here, in this process. With
        one process doing everything in turn, nothing competes with the model."""

    def close(self) -> None:
        """The build is over: the stages that hold a model release it."""
        for stage in getattr(self, "held", []):
            stage.close()


def warm_up_stage(stage: type[Stage[Any, Any]]) -> bool:
    """Run ``stage.warm_up`` in this process; False when it failed. A failure is only a
    lost head start (the stage reports the error on its first item), so it is logged at
    debug level and the caller goes on."""
    try:
        stage.warm_up()
    except Exception as error:  # noqa: BLE001 - only a head start
        log.debug("warm-up of stage %s failed: %s", stage.name, error)
        return False
    return True


def run_stages(
    source: Iterable[Any],
    stages: list[Stage[Any, Any]],
    *,
    engine: Engine | None = None,
    show_bar: bool = False,
) -> list[StageStats]:
    """Chain the stages over the source (placed by ``engine``) and drain the last one.

    The last stage is normally a sink (a writer) that yields nothing; anything it
    does yield is discarded. Returns every stage's stats, in chain order.
    """
    engine = engine or LocalEngine()
    for _ in engine.chain(source, stages, show_bar=show_bar):
        pass
    return [stage.stats for stage in stages]


# --------------------------------------------------------------------------- remote items


@dataclass
class ItemResult:
    """What running ``process`` on one item in a worker gives back to the driver.

    Everything a stage reports besides its outputs travels here, so the driver's copy
    of the stage ends up with the same numbers as if it had processed the item itself.
    """

    outputs: list[Any]
    stats: StageStats
    records: dict[str, list[Any]]
    #: ``stage.label(item)``: the driver logs it as ``Stage.run`` does.
    label: str = ""


def process_item(stage: Stage[Any, Any], item: Any) -> ItemResult:
    """Run ``stage.process`` on one item with fresh stats (in a worker, pool or Ray).

    The stage object lives on in the worker (its lazily loaded model with it); only
    its per-item numbers are reset, so nothing is counted twice when merged.
    """
    stage.stats = StageStats(stage.name)
    stage.records = {}
    stage.in_worker = True
    started, cpu = time.perf_counter(), time.thread_time()
    outputs = list(stage.process(item))
    stage.stats.seconds += time.perf_counter() - started
    stage.stats.cpu_seconds += time.thread_time() - cpu
    return ItemResult(outputs, stage.stats, stage.records, stage.label(item))


def merge_item_result(stage: Stage[Any, Any], result: ItemResult) -> None:
    """Fold a worker's result for one item into the driver's copy of the stage."""
    result.stats.items_in = 1
    result.stats.items_out = len(result.outputs)
    stage.stats.merge(result.stats)
    stage.merge_records(result.records)


def run_remote_stage(
    stage: Stage[Any, Any],
    results: Iterable[ItemResult],
    *,
    show_bar: bool = False,
) -> Iterator[Any]:
    """Drive a stage whose items are processed elsewhere: merge results in input order,
    announce the stage like ``Stage.run`` does, and flush ``finish`` at the end."""
    progress: Progress | None = None
    for result in results:
        if progress is None:
            progress = Progress(stage.name, show_bar=show_bar)
        progress.begin(result.label)  # logged when the item is done, not when it starts
        merge_item_result(stage, result)
        progress.step()
        yield from result.outputs
    if progress is None:
        progress = Progress(stage.name, show_bar=False)
    yield from stage._timed(stage.finish())
    progress.close(stage.stats)


# --------------------------------------------------------------------------- stage overlap


def _union(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def busy_overlap(
    embed: Iterable[tuple[float, float]], align: Iterable[tuple[float, float]]
) -> dict[str, float]:
    """Wall-clock seconds the embed stage was busy, the align stage was busy, and both
    at once (``embed_and_align_s``): how much a streaming engine overlaps its stages.

    Intervals are (start, end) of ``time.time()`` from any process of one machine or a
    cluster with synchronised clocks; each stage's intervals are merged first, so
    parallel workers are not counted twice.
    """
    a, b = _union(embed), _union(align)
    both, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):
        low, high = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        both += max(0.0, high - low)
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return {
        "embed_s": round(sum(e - s for s, e in a), 3),
        "align_s": round(sum(e - s for s, e in b), 3),
        "embed_and_align_s": round(both, 3),
    }


def run_stats(
    *,
    seconds: float,
    engine: str,
    workers: int | None,
    align: Mapping[str, Any],
    embed: Mapping[str, Any],
    stages: Iterable[StageStats],
    overlap: dict[str, float],
) -> dict[str, Any]:
    """stats.json's common part, the same keys from every engine (``align`` and ``embed``
    are those stages' counters)."""
    return {
        "seconds": round(seconds, 4),
        "engine": engine,
        "workers": workers,
        "aligned_pairs": align["aligned_pairs"],
        "cached_pairs": align["cached_pairs"],
        "texts_requested": embed["texts_requested"],
        "texts_from_cache": embed["texts_from_cache"],
        "texts_embedded": embed["texts_embedded"],
        "sentences": align["sentences_en"] + align["sentences_zh"],
        "stages": [s.to_dict() for s in stages],
        "overlap": overlap,
    }
