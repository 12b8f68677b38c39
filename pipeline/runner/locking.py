"""One build at a time per output folder, and cleanup of what killed builds left.

Two builds into one ``--out`` used to race: the second one's recovery could rename the
first one's old corpus back while the first was swapping its new one in. A lock file
beside ``out`` (``flock``, released by the kernel when the holder dies, even by SIGKILL)
makes the second build refuse at once with the holder's pid, host and start time.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class OutputLocked(RuntimeError):
    """Another live build holds the output folder."""


def lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold the lock of ``out`` for the block; raise OutputLocked if it is held."""
    path = lock_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "an unknown process"
            raise OutputLocked(
                f"{out}: another build is writing this corpus ({holder}); "
                "wait for it to finish or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}, started {started}")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the flock


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (a permission error means it does)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_spools(spool_root: Path) -> list[Path]:
    """Delete spool folders (``<cache>/spool/<pid>``) of builds that are no longer running.

    A build deletes its own spool when it ends; a SIGKILL leaves it behind with every
    extracted document of that run. Folders of live builds (another ``--out`` sharing the
    cache) are kept."""
    removed: list[Path] = []
    if not spool_root.is_dir():
        return removed
    for folder in sorted(spool_root.iterdir()):
        if not folder.is_dir() or not folder.name.isdigit():
            continue
        pid = int(folder.name)
        if pid != os.getpid() and pid_alive(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed
