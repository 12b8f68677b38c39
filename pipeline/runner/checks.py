"""What a build checks before it touches anything, and how a failing file system is told.

Every expected failure ends in one line naming the path and the reason, with the corpus
in ``--out`` as it was (everything is written beside it and swapped in at the end):

* :func:`check_folders`: how ``--raw``, ``--out`` and ``--cache`` lie. ``--out`` under a
  file cannot be made; ``--cache`` inside ``--out`` would be deleted with the old corpus
  at every swap (never incremental), and ``--raw`` inside ``--out`` likewise: refused as
  usage errors (:class:`FolderConflict`, exit 2).
* :func:`os_error_line`: a full disk, a read-only or immutable folder, a file where a
  folder should be, an object store that cannot be reached: the one line the CLI prints.
"""

from __future__ import annotations

import errno
import re
from pathlib import Path

from pipeline.readers.names import shown_name
from pipeline.runner.options import BuildOptions
from pipeline.runner.output import BuildError


class FolderConflict(BuildError):
    """Options whose folders cannot go together (a usage error: exit 2)."""


def _file_above(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` when it is not a folder."""
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def check_folders(options: BuildOptions) -> None:
    """Refuse folder options that cannot work (see module docstring); URIs of object
    stores are checked by their engine."""
    from pipeline.runner.storage import location

    if options.engine not in ("local", "ray"):
        raise BuildError(f"engine {options.engine!r} is not available; use 'local' or 'ray'")
    for spec, flag in ((options.raw, "--raw"), (options.out, "--out")):
        remote = "://" in str(spec) and not str(spec).startswith("file://")
        if remote and options.engine == "local":
            raise BuildError(f"{spec}: {flag} is not a local folder; use --engine ray for URIs")
    if "://" in str(options.out) and not str(options.out).startswith("file://"):
        return
    out = location(options.out).local
    assert out is not None
    above = _file_above(out)
    if above is not None:
        raise BuildError(f"{shown_name(str(out))}: --out is under {shown_name(str(above))}, a file")
    cache = options.cache_dir.resolve()
    if cache == out or cache.is_relative_to(out):
        raise FolderConflict(
            f"{shown_name(str(cache))}: --cache is inside --out {shown_name(str(out))}, which "
            "every build replaces (the cache would go with it); choose a --cache outside it"
        )
    raw = str(options.raw)
    if "://" not in raw or raw.startswith("file://"):
        raw_path = location(raw).local
        if raw_path is not None and (raw_path == out or raw_path.is_relative_to(out)):
            raise FolderConflict(
                f"{shown_name(str(out))}: output folder must not contain the raw folder "
                f"{shown_name(str(raw_path))}"
            )


_HINTS = {
    errno.ENOSPC: "free some space, or put --out and --cache on another disk",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "a file grew past the size this process may write",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "an immutable or protected folder or file",
    errno.ENOTDIR: "a file stands where a folder is needed",
    errno.EEXIST: "a file stands where a folder is needed",
}


def os_error_line(error: OSError, where: str) -> str:
    """One line for a failing file system call: the path (``where`` when the error names
    none, as a write to an open file does), the reason and what it means."""
    reason = error.strerror or " ".join(str(error).split())
    code = error.errno or _errno_in(str(error))
    hint = _HINTS.get(code)
    path = shown_name(str(error.filename)) if error.filename else where
    return f"{path}: {reason} ({hint})" if hint else f"{path}: {reason}"


def _errno_in(text: str) -> int:
    """The errno a library quoted in its message ("... [errno 28] ...": pyarrow's)."""
    match = re.search(r"\[errno (\d+)\]", text, re.IGNORECASE)
    return int(match.group(1)) if match else 0
