"""Small helpers every benchmark section shares."""

from __future__ import annotations

import resource
from collections.abc import Callable
from pathlib import Path

Echo = Callable[[str], None]


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
