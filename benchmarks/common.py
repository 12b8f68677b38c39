"""Small helpers every benchmark section shares."""

from __future__ import annotations

import json
import resource
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Echo = Callable[[str], None]


class ChildFailed(Exception):
    """A benchmark subprocess that timed out or exited non-zero; the message is the
    row's ``error`` ("timed out after N s", "exit N: <its last stderr line>")."""


def run_child(cmd: Sequence[str], timeout_s: float) -> tuple[float, str]:
    """Run one benchmark subprocess: its wall seconds (start to exit) and its stdout.
    Each section measures in a process of its own so that peak memory and start-up are
    its own; this is the one place that runs such a process and words its failure."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise ChildFailed(f"timed out after {timeout_s:.0f} s") from None
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ChildFailed(f"exit {done.returncode}: {tail}")
    return seconds, done.stdout


def last_json(stdout: str) -> Any:
    """The figures a child printed: its last line, as JSON."""
    return json.loads(stdout.strip().splitlines()[-1])


def rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's ``VmHWM`` first: ``getrusage``'s ``ru_maxrss`` survives ``exec``, so a
    subprocess started by a parent that has loaded a 700 MB model would report the
    parent's peak, not its own. ``ru_maxrss`` (KiB on Linux) is the fallback.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
