"""One way to write a file so that readers see the old version or the new, never half.

Every output that outlives a crash goes through here (extraction outputs, work-cache
entries, spooled documents): a temporary file in the same folder (same file system, so
the rename is atomic), flushed and fsynced, then ``os.replace``. The temporary name
carries host, pid and a random part, so two builds on hosts that share a folder (a
cluster's network file system) never write the same temporary file.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Prefix of every temporary name, so a cleanup can recognise leftovers of killed runs.
TMP_PREFIX = ".tmp-"


def temporary_name(path: Path) -> Path:
    """A unique hidden sibling of ``path`` (same folder, hence same file system)."""
    host = socket.gethostname().split(".")[0] or "host"
    return path.with_name(
        f"{TMP_PREFIX}{path.name}.{host}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    )


@contextmanager
def atomic_path(path: Path, *, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one rename.

    For writers that want a file name rather than bytes (``np.save``, Parquet). On an
    exception the temporary file is removed and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (mode as a plain ``open`` would give)."""
    with atomic_path(path, fsync=fsync) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str, *, fsync: bool = True) -> None:
    """Write ``text`` as UTF-8 with ``\\n`` line ends to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), fsync=fsync)
