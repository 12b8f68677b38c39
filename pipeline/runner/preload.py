"""Imported once by the process pool's fork server, before it forks any worker, in a
build that will align every pair (``pipeline.runner.pool.worker_context``).

Why: a spawned worker starts as a bare interpreter and pays, on its first items, the
imports and one-time set-up of every stage it runs: about 1.5 s of CPU for the align
stage alone (its compiled kernels and jieba's dictionary). On a small machine that cost
lands where it hurts most, in workers that run below the encoder's priority and so wait
for the encoder to finish before they can even start (measured on 2 cores, 40 distinct
pairs: the first alignment returned 4.4 s after it was submitted, as encoding ended).
The fork server does it once, before the build needs a worker, and every worker forked
from it starts warm, sharing those pages copy-on-write: the cost no longer grows with
``--workers``.

What is warmed is each ``parallel`` stage's own ``Stage.warm_up``; a stage that cannot
warm up (a broken dictionary, say) is skipped here and reports its error on its first
item, as it would without this module. Importing this module anywhere else only warms
that process.
"""

from __future__ import annotations

from pipeline.runner.stage import Stage, warm_up_stage
from pipeline.runner.stages import align, decide, read, segment

#: The stage modules whose ``parallel`` stages the pool runs.
STAGE_MODULES = (read, segment, align, decide)


def parallel_stages() -> list[type[Stage]]:
    """Every ``parallel`` stage class defined in :data:`STAGE_MODULES`, in that order."""
    found: list[type[Stage]] = []
    for module in STAGE_MODULES:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Stage)
                and value.__module__ == module.__name__
                and value.parallel
            ):
                found.append(value)
    return found


def warm_up() -> list[str]:
    """Warm every parallel stage; returns the names of those that could not."""
    return [stage.name for stage in parallel_stages() if not warm_up_stage(stage)]


warm_up()
