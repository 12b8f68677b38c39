"""A Ray worker is a bare interpreter (no fork server to inherit a warm-up from), so its
first task starts the build's task stages warming on a thread, in build order; a task
of a stage waits for that stage's own warm-up rather than paying it twice (issue 19)."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from pipeline.runner import ray as ray_engine
from pipeline.runner.stage import Stage


class Slow(Stage[int, int]):
    """Warms slowly, on whichever thread the engine chose; records what it saw."""

    name = "slow"
    item_independent = True
    seen: ClassVar[list[str]] = []
    release: ClassVar[threading.Event] = threading.Event()

    @classmethod
    def warm_up(cls) -> None:
        cls.seen.append(f"warm on {threading.current_thread().name}")
        cls.release.wait(5)
        cls.seen.append("warm done")

    def process(self, item: int) -> Iterator[int]:
        self.seen.append(f"process {item}")
        yield item * 2


class Broken(Stage[int, int]):
    name = "broken"
    item_independent = True

    @classmethod
    def warm_up(cls) -> None:
        raise OSError("dictionary unreadable")

    def process(self, item: int) -> Iterator[int]:
        yield item + 1


@pytest.fixture(autouse=True)
def fresh_worker() -> Iterator[None]:
    ray_engine._WARMED.clear()
    ray_engine._STAGES.clear()
    Slow.seen.clear()
    Slow.release.clear()
    yield
    Slow.release.set()
    ray_engine._WARMED.clear()
    ray_engine._STAGES.clear()


def _batch(*items: int) -> ray_engine.Batch:
    return list(items), []


def _outputs(result: ray_engine.Batch) -> list[Any]:
    outputs, _reports = result
    return outputs


def test_a_task_waits_for_its_stage_warm_up_which_runs_once_on_a_thread() -> None:
    blobs = (pickle.dumps(Slow()),)
    warm = (Slow,)
    done: list[ray_engine.Batch] = []
    first = threading.Thread(target=lambda: done.append(ray_engine._task(_batch(1), blobs, warm)))
    first.start()
    first.join(0.3)
    assert first.is_alive()  # the warm-up is holding it
    assert Slow.seen == ["warm on stage-warm-up"]
    Slow.release.set()
    first.join(5)
    assert _outputs(done[0]) == [2]
    second = ray_engine._task(_batch(3), blobs, warm)
    assert _outputs(second) == [6]
    assert Slow.seen == ["warm on stage-warm-up", "warm done", "process 1", "process 3"]


def test_a_failing_warm_up_is_only_a_lost_head_start() -> None:
    result = ray_engine._task(_batch(1, 2), (pickle.dumps(Broken()),), (Broken,))
    assert _outputs(result) == [2, 3]


class Model(Stage[int, int]):
    name = "model"
    item_independent = True
    holds_model = True


def test_a_build_warms_its_task_stages_and_a_rebuild_none() -> None:
    """What the tasks are told to warm: every task stage of the build (not the model
    stage, which its actor prepares), in build order; nothing on a likely rebuild."""
    from pipeline.runner.ray import Placement, RayEngine

    stages: list[Stage[Any, Any]] = [Slow(), Model(), Broken()]
    build = RayEngine(Placement())
    build.chain([], stages, show_bar=False)  # not iterated: nothing reaches Ray
    assert build._warm == (Slow, Broken)
    rebuild = RayEngine(Placement(), warm_up=False)
    rebuild.chain([], stages, show_bar=False)
    assert rebuild._warm == ()
