"""Process-pool engine: the heavy per-document stages run in worker processes.

Why processes: extraction and the alignment DP are Python and numpy code that holds
the GIL most of the time, so threads would not use a second core. Why not ``fork``: the
driver may already hold BLAS and encoder thread pools, which ``fork`` copies in an
undefined state. Workers are forked from a ``forkserver``: a fresh, single-threaded
interpreter started with the pool, which imports the stages and warms them once
(``pipeline.runner.preload``) so that no worker pays that start-up itself (``spawn``
where the platform has no fork server). Each worker unpickles the stage once and runs
``process`` on one item at a time.

Order and memory: results are yielded in input order, and at most ``2 x workers``
items are in flight, so the upstream stages (embedding in the driver) run only as far
ahead as the workers can absorb and the output is the same whatever the worker count.

The encoder's stage (``holds_model``) runs in the driver on a thread of its own, one
item ahead of the stages after it (:func:`read_ahead`): while the driver decides and
writes one chunk's rows, the encoder is already embedding the next, so the driver's
own work hides behind the one cost a build cannot avoid instead of adding to it. The
model itself runs in a child process of its own (``place_model``,
``pipeline.embed.process``): between its matrix products it needs the GIL, which the
driver's writer and plan would otherwise hold just then. The items and their order do
not change, only when they are made.

Priority: the workers run ``WORKER_NICENESS`` below the driver. The encoder is the
bound, and on a small machine it wants nearly every core; a worker competing with it
on equal terms slows it by as much as it gains, while a worker at lower priority takes
only what the encoder leaves and catches up when it is done (measured on 2 cores, 40
distinct pairs: the encoder's stage 10-17 s at equal priority, 7.8-8.4 s with the
workers niced; the whole build 1-2 s shorter). Before the first chunk, and in a build
that embeds nothing, nothing competes with them and the niceness changes nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from pipeline.runner.stage import ItemResult, LocalEngine, Stage, process_item, run_remote_stage

_WORKER_STAGES: dict[str, Stage[Any, Any]] = {}


#: How often a worker checks that the build that started it is still alive (seconds).
PARENT_CHECK_S = 1.0


#: How far below the driver the workers run (``os.nice``; module docstring).
WORKER_NICENESS = 10


#: prctl(2) option: a signal the kernel sends this process when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1


def _exit_with_parent(parent: int) -> None:
    """End this worker when its build dies. A worker waits for work on a queue whose
    writing end it holds itself, so a build killed with SIGKILL (or by the OOM killer)
    leaves its workers waiting forever, each holding a model; the parent's pid changing
    (the orphan is re-parented) is the one sign that always comes. ``parent`` is the
    build's pid as the build itself gave it: read here, it could already be the pid of
    whatever adopted the worker, and the loop would never end."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def _die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process the moment its parent dies (Linux
    ``PR_SET_PDEATHSIG``); elsewhere the watchdog's poll is the only guard."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl in this libc: the poll still guards
        return


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else (a reused pid)
        return True
    return True


def _exit_with_build(server: int, build: int) -> None:
    """:func:`_exit_with_parent` for a worker forked by the fork server (``server``,
    which exits when the build does): also ends when the build itself is gone."""
    while os.getppid() == server and _alive(build):
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def _init_worker(stages: dict[str, bytes], build: int) -> None:
    """Runs once per worker: death with the build (``build``: the build's pid, passed
    in; the worker's parent is the build itself or, under the fork server, the server,
    which ends with the build), one BLAS thread (the workers are the parallelism), a
    lower priority than the encoder's (module docstring)."""
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent or not _alive(build):  # died before the line above took effect
        os._exit(1)
    if parent == build:
        watchdog = threading.Thread(target=_exit_with_parent, args=(build,), daemon=True)
    else:
        watchdog = threading.Thread(target=_exit_with_build, args=(parent, build), daemon=True)
    watchdog.start()
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # a platform or sandbox without it: equal priority, same output
        pass
    for name, blob in stages.items():
        _WORKER_STAGES[name] = pickle.loads(blob)


#: What the fork server imports when the build will not need the warm-up (the stages).
STAGE_MODULES = [
    "pipeline.runner.stages.read",
    "pipeline.runner.stages.segment",
    "pipeline.runner.stages.align",
    "pipeline.runner.stages.decide",
]


def worker_context(warm_up: bool = True) -> multiprocessing.context.BaseContext:
    """The fork server where the platform has one (``spawn`` elsewhere), importing the
    stages and, with ``warm_up``, warming them (module docstring). ``warm_up`` False is
    for a build that will likely align nothing (a warm rebuild): the warm-up (about
    1.1 s of CPU) would only delay its reading. The server starts now, in the background
    (its work then overlaps the driver's own start: listing, the model's load), and is
    shared by every later pool of this process (the first pool's choice holds); it
    exits with the process."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipeline.runner.preload"] if warm_up else STAGE_MODULES)
    forkserver.ensure_running()
    return context


def _run_in_worker(name: str, item: Any) -> ItemResult:
    return process_item(_WORKER_STAGES[name], item)


#: Items a read-ahead thread may hold ready for the consumer: four chunks of pairs at
#: the default chunk size, so the encoder never waits for the aligner to drain a
#: chunk (the pairs carry their vectors: a few MB, whatever the archive's size).
READ_AHEAD = 64
_DONE = object()


def read_ahead(
    items: Iterable[Any], depth: int = READ_AHEAD, linger: threading.Event | None = None
) -> Iterator[Any]:
    """``items``, produced on a thread of their own at most ``depth`` ahead of the
    consumer; an exception raised by the producer is raised here, in order. When the
    consumer stops early (an error downstream), the producer stops at its next item.
    ``linger``: the thread, done, waits for it before it ends (see ``PoolEngine``)."""
    ready: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((True, _DONE))
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, re-raised
            put((False, err))
        if linger is not None:
            linger.wait()

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            ok, value = ready.get()
            if not ok:
                raise value
            if value is _DONE:
                return
            yield value
    finally:
        stop.set()
        if linger is None:
            thread.join(timeout=5.0)


class PoolEngine(LocalEngine):
    """Runs the ``parallel`` stages of the chain over a process pool, the rest
    in-process (the encoder's stage too; its model in a child process: ``place_model``)."""

    name = "local"

    def __init__(self, workers: int, *, warm_up: bool = True) -> None:
        if workers < 2:
            raise ValueError("a pool needs at least 2 workers; use LocalEngine for 1")
        self.workers = workers
        self.pooled: dict[str, Stage[Any, Any]] = {}
        self._executor: ProcessPoolExecutor | None = None
        self._linger = threading.Event()
        self._context = worker_context(warm_up)

    def chain(
        self, source: Iterable[Any], stages: list[Stage[Any, Any]], *, show_bar: bool
    ) -> Iterator[Any]:
        self.pooled = {
            s.name: s for s in stages if s.parallel and s.item_independent and not s.holds_model
        }
        return super().chain(source, stages, show_bar=show_bar)

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            blobs = {name: pickle.dumps(stage) for name, stage in self.pooled.items()}
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=self._context,
                initializer=_init_worker,
                initargs=(blobs, os.getpid()),
            )
        return self._executor

    def run_stage(
        self, stage: Stage[Any, Any], items: Iterable[Any], *, show_bar: bool
    ) -> Iterator[Any]:
        if stage.holds_model:
            return self._model_stage(stage, items, show_bar=show_bar)
        if stage.name not in self.pooled:
            return super().run_stage(stage, items, show_bar=show_bar)
        return run_remote_stage(stage, self._ordered(stage.name, items), show_bar=show_bar)

    def _model_stage(
        self, stage: Stage[Any, Any], items: Iterable[Any], *, show_bar: bool
    ) -> Iterator[Any]:
        """The encoder's stage one item ahead, on its own thread (module docstring), and
        with it the stages before it: the workers they start are that thread's children,
        and Linux sends PDEATHSIG when the *thread* that forked a worker ends, so the
        thread lingers until the pool has shut down (``close``)."""
        return read_ahead(super().run_stage(stage, items, show_bar=show_bar), linger=self._linger)

    def _ordered(self, name: str, items: Iterable[Any]) -> Iterator[ItemResult]:
        pool = self._pool()
        window: deque[Future[ItemResult]] = deque()
        limit = 2 * self.workers
        for item in items:
            window.append(pool.submit(_run_in_worker, name, item))
            if len(window) >= limit:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()

    def place_model(self, stage: Stage[Any, Any]) -> None:
        """The model runs in a process of its own (``pipeline.embed.process``): the
        driver's threads (the writer, the plan, the cache) would otherwise hold the GIL
        the encoder needs between its matrix products."""
        stage.model_process = os.name == "posix"  # the child's socket is passed as an fd

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._linger.set()
        super().close()
