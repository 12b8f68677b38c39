"""Atomic corpus output: a build writes into a temporary folder beside ``--out`` and swaps
it in at the end, so a build killed midway leaves the previous corpus as it was.

``pipeline.runner`` re-exports ``BuildError`` and ``recover_output`` (the CLI and tests use them).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.corpus.write import TOOL_NAME
from pipeline.runner.locking import pid_alive

if TYPE_CHECKING:
    from pipeline.runner.options import BuildContext

log = logging.getLogger("pipeline.build")


class BuildError(Exception):
    """A build that cannot start or finish (bad --raw/--out, unknown engine)."""


def refuse_empty(context: BuildContext, written: int, out: str, allow_empty: bool) -> None:
    """Stop a build that has no document pair to write, before anything is swapped in.

    An empty corpus replacing a good one (a wrong ``--raw``, a folder whose every file was
    rejected) loses the user's work and says "corpus written"; so an empty result is an
    error that names what was read, unless the user asks for it (``--allow-empty``).
    Both engines call this with the number of pairs they wrote."""
    if written or allow_empty:
        return
    kept = f"{out} keeps its corpus" if _is_corpus_folder(Path(out)) else "nothing written"
    raise BuildError(
        f"no document pair to write: {len(context.files)} files in {context.raw} "
        f"({len(context.documents)} read, {len(context.rejected)} rejected, "
        f"{len(context.unpaired)} unpaired, {len(context.failed)} failed pairs); "
        f"{kept} (--allow-empty writes an empty corpus)"
    )


def _is_corpus_folder(path: Path) -> bool:
    manifest = path / "manifest.json"
    if not manifest.exists():
        return False
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("tool") == TOOL_NAME
    except (OSError, ValueError):
        return False


def recover_output(out: Path) -> None:
    """Undo what a build killed at the worst moment may have left beside ``out``.

    A swap is two renames (out -> old, tmp -> out); a kill between them leaves no
    ``out`` but an ``old``: it is renamed back. Temporary folders of builds that are
    no longer running are deleted.
    """
    parent = out.parent
    if not parent.exists():
        return
    olds = sorted(parent.glob(f".{out.name}.old-*"))
    if not out.exists() and olds:
        os.rename(olds[-1], out)
        log.warning("restored %s from an interrupted swap", out)
        olds = olds[:-1]
    for leftover in olds + sorted(parent.glob(f".{out.name}.tmp-*")):
        pid_text = leftover.name.rsplit("-", 1)[-1]
        if pid_text.isdigit() and pid_alive(int(pid_text)) and int(pid_text) != os.getpid():
            continue
        shutil.rmtree(leftover, ignore_errors=True)


def prepare_output(out: Path) -> Path:
    """Check ``out`` may be replaced and return a fresh temporary folder beside it."""
    if out.exists() and not out.is_dir():
        raise BuildError(f"{out}: output path exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not _is_corpus_folder(out):
        raise BuildError(
            f"{out}: folder is not empty and holds no corpus built by {TOOL_NAME}; "
            "refusing to replace it"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    recover_output(out)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


#: renameat2(2) flag: swap two paths atomically (Linux 3.15+; ext4, xfs, btrfs, tmpfs,
#: overlayfs). ``AT_FDCWD``: paths are relative to the working directory.
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one atomic step (``renameat2(RENAME_EXCHANGE)``).

    False where the system or the file system cannot (not Linux, an old kernel or C
    library, NFS): the caller falls back to two renames."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    done = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if done == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(error, os.strerror(error), os.fspath(second))


def swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` by ``tmp`` so that ``out`` is a whole corpus at every instant.

    ``out`` stays a real folder (pandas, ``datasets.load_dataset``, ``cp -r`` and backups
    see what they always saw). The old and the new corpus are swapped in one atomic
    exchange; ``tmp`` then holds the old one and is deleted: a kill before the exchange
    leaves the old corpus in ``out``, after it the new one, and the next build deletes
    the temporary folder of the dead build either way. A first build is one rename.
    Where the file system cannot exchange, two renames, with ``recover_output`` undoing a
    kill between them at the next build (the only window without a corpus)."""
    if not out.exists():
        os.rename(tmp, out)
        return
    if exchange(tmp, out):
        _remove_old(tmp)
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    os.rename(out, old)
    os.rename(tmp, out)
    _remove_old(old)


def _remove_old(old: Path) -> None:
    """Delete the replaced corpus; the new one is in place, so a failure here is a
    warning (the next build removes what is left), never an error."""
    shutil.rmtree(old, ignore_errors=True)
    if old.exists():
        log.warning("could not remove the replaced corpus %s; the next build removes it", old)
