"""Limits that end a hostile or broken file in a fast rejection with a reason.

Size limits (``MAX_SOURCE_BYTES``, the DOCX zip-bomb checks) bound what a reader is given;
these bound what it does with it:

* :data:`MAX_READ_SECONDS`: a wall-clock limit on converting one file (``time_limit``), so
  a file that sends a parser into a slow path is rejected instead of holding a build for
  minutes. Enforced with ``SIGALRM``, which only the main thread of a process receives:
  the CLI, each pool worker and each Ray task run readers there; a reader called from
  another thread runs without it (the depth limits below still hold).
* nesting depth: HTML is checked before parsing (``pipeline.readers.html``), because the
  HTML parser's time grows with the square of the depth (25,000 nested elements: 1.2 s;
  200,000: 240 s); DOCX XML stops at libxml2's depth limit of 256; a PDF whose objects
  nest past Python's recursion limit is rejected as corrupt.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from pipeline.records import RejectedInput

#: Seconds one file may take to convert (a resolution takes well under one).
MAX_READ_SECONDS = 60.0


class _OutOfTime(BaseException):
    """Raised by the timer; a BaseException, so that a reader's ``except Exception``
    (which turns a parser's failure into "corrupt PDF") cannot swallow it."""


def _expired(signum: int, frame: object) -> None:
    raise _OutOfTime


@contextmanager
def time_limit(name: str, seconds: float | None = None) -> Iterator[None]:
    """Raise ``RejectedInput(name, ...)`` when the block runs longer than ``seconds``
    (default :data:`MAX_READ_SECONDS`). A timer already armed in this process (a test
    runner's) is put back as it was, less the time spent here; when it would fire first,
    no limit of our own is set."""
    limit = MAX_READ_SECONDS if seconds is None else seconds
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    if outer_delay and outer_delay <= limit:
        yield
        return
    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    except _OutOfTime:
        raise RejectedInput(
            name, f"took longer than {limit:g} s to read (limit per file); not read"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:
            left = max(outer_delay - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)
