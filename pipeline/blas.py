"""``threadpool_limits`` as threadpoolctl's, with the scan for thread-pool libraries done
once per process instead of on every call.

Why: the aligner limits BLAS to one thread around each of its many small products (one
call per document piece, hundreds per document), and ``threadpoolctl.threadpool_limits``
finds the libraries anew each time by reading ``/proc/self/maps``. That file grows with
every shared library a process has loaded: about 0.6 ms a call in a pool worker, 2.4 ms
in a Ray worker (Ray, Arrow), which made the read alone about 40% of a Ray
align task's CPU time. The libraries that matter here (numpy's BLAS) are loaded when
numpy is imported, before the first call; one loaded later is not limited.
"""

from __future__ import annotations

from typing import Any

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None


def threadpool_controller() -> ThreadpoolController:
    """This process's controller, made on first use (the one scan of its libraries)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


def threadpool_limits(limits: int | None = None, user_api: str | None = None) -> Any:
    """Context manager (and object) that limits the thread pools as
    ``threadpoolctl.threadpool_limits(limits, user_api)`` does, restoring them on exit."""
    return threadpool_controller().limit(limits=limits, user_api=user_api)
