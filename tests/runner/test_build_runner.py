"""The stage runner: counting, drops by reason, timing, barriers and sinks."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from pipeline.runner.stage import BarrierStage, LocalEngine, Stage, run_stages


class Halve(Stage[int, int]):
    """Keeps even numbers (halved), drops odd ones; emits two items for 0."""

    name = "halve"

    def process(self, item: int) -> Iterator[int]:
        if item % 2:
            self.drop("odd")
            return
        yield item // 2
        if item == 0:
            yield 0


class Slow(Stage[int, int]):
    name = "slow"

    def process(self, item: int) -> Iterator[int]:
        time.sleep(0.02)
        yield item


class SortAll(BarrierStage[int, int]):
    name = "sort"

    def process_all(self, items: list[int]) -> Iterator[int]:
        yield from sorted(items)


class Collect(Stage[int, None]):
    name = "collect"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []
        self.finished = False

    def process(self, item: int) -> Iterator[None]:
        self.seen.append(item)
        return iter(())

    def finish(self) -> Iterator[None]:
        self.finished = True
        return iter(())


def test_counts_drops_and_order() -> None:
    halve, sort, sink = Halve(), SortAll(), Collect()
    stats = run_stages([6, 3, 0, 5, 4], [halve, sort, sink])
    assert [s.name for s in stats] == ["halve", "sort", "collect"]
    assert (halve.stats.items_in, halve.stats.items_out) == (5, 4)
    assert dict(halve.stats.dropped) == {"odd": 2}
    assert (sort.stats.items_in, sort.stats.items_out) == (4, 4)
    assert sink.seen == [0, 0, 2, 3]
    assert sink.finished
    assert sink.stats.items_out == 0
    assert stats[0].to_dict()["dropped"] == {"odd": 2}


def test_time_is_charged_to_the_stage_that_spends_it() -> None:
    slow, halve, sink = Slow(), Halve(), Collect()
    run_stages([2, 4, 6, 8, 10], [slow, halve, sink], engine=LocalEngine())
    assert slow.stats.seconds >= 0.09
    # halve pulls from slow, but slow's sleeping is not charged to halve
    assert halve.stats.seconds < 0.05


def test_log_lines_announce_each_stage_when_work_begins(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pipeline.build")
    run_stages([1, 2], [Slow(), SortAll(), Collect()])
    starts = [r.getMessage() for r in caplog.records if r.getMessage().endswith("started")]
    # in pipeline order, not in the back-to-front order the generators are created in
    assert starts == ["stage slow: started", "stage sort: started", "stage collect: started"]
    done = [r.getMessage() for r in caplog.records if "done" in r.getMessage()]
    assert any(m.startswith("stage slow: done, in=2 out=2") for m in done)


def test_empty_input_still_finishes_every_stage() -> None:
    sink = Collect()
    stats = run_stages([], [Halve(), SortAll(), sink])
    assert sink.finished
    assert all(s.items_in == 0 for s in stats)


class Remember(Stage[int, int]):
    """Records odd numbers as side results instead of passing them on."""

    name = "remember"
    item_independent = True

    def process(self, item: int) -> Iterator[int]:
        if item % 2:
            self.record("odd", item)
            self.stats.counters["odd_seen"] += 1
            return
        yield item


def test_side_results_and_worker_merge() -> None:
    """What a parallel engine does: run the stage in two 'workers', merge into one."""
    whole = Remember()
    run_stages([1, 2, 3, 4], [whole, Collect()])
    assert whole.records == {"odd": [1, 3]}
    left, right, merged = Remember(), Remember(), Remember()
    list(left.run([1, 2]))
    list(right.run([3, 4]))
    for worker in (left, right):
        merged.stats.merge(worker.stats)
        merged.merge_records(worker.records)
    assert merged.records == whole.records
    for field in ("items_in", "items_out", "counters"):
        assert getattr(merged.stats, field) == getattr(whole.stats, field)
