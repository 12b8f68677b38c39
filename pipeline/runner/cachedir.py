"""The build's cache folder: a marker saying the tool made it, its layout, and its lock.

Why a marker: ``--cache`` is a folder the user names, and a user may name one that holds
their own files (``--cache ~/thesis``). The tool must delete only what it created, so a
build writes ``.un-parallel-pipeline-cache`` into the folder it uses, refuses a non-empty
folder that is neither marked nor an older cache of the tool, and ``cache prune`` removes
only the tool's own entries (``own_entries``), never anything else found there.

Why a lock: ``cache prune --all`` while a build runs would delete the build's spool and
work entries under it. Every build holds a shared ``flock`` on ``.lock`` in the folder for
as long as it runs; prune takes it exclusively and refuses while a build holds it (the
kernel releases both when the holder dies, even by SIGKILL).
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline import __version__
from pipeline.atomic import TMP_PREFIX, atomic_write_text
from pipeline.corpus.write import TOOL_NAME
from pipeline.runner.output import BuildError

#: The file that says "this folder is a cache of this tool".
MARKER = f".{TOOL_NAME}-cache"
LOCK = ".lock"
#: The cache's sub-folders (``work``: alignments, ``embed``: vectors, ``spool``: documents
#: of running builds).
PARTS = ("work", "embed", "spool")

_WORK_ENTRY_RE = re.compile(r"^[0-9a-f]{64}\.(json|npy)$")
_EMBED_FILE_RE = re.compile(r"^embeddings\.sqlite3(-wal|-shm|-journal|\.damaged-[\w.-]+)?$")


class CacheFolderError(BuildError):
    """A cache folder the tool must not use or clean (names the folder and the reason)."""


def is_marked(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def looks_like_cache(folder: Path) -> bool:
    """Marked, or an older cache of the tool (made before the marker): work/ or embed/."""
    return is_marked(folder) or (folder / "work").is_dir() or (folder / "embed").is_dir()


def prepare_cache(folder: Path) -> Path:
    """Check ``folder`` may serve as the build's cache, create its layout and mark it.

    A missing or empty folder is made a cache; a folder of the tool's (marked, or an older
    cache) is used; anything else (a file, a folder of the user's files) is refused, as
    ``--out`` refuses a folder that holds no corpus."""
    if folder.exists() and not folder.is_dir():
        raise CacheFolderError(f"{folder}: --cache exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not looks_like_cache(folder):
        raise CacheFolderError(
            f"{folder}: folder holds files and is not a cache of {TOOL_NAME}; refusing to "
            "use it as --cache (name an empty or new folder)"
        )
    for part in PARTS:
        path = folder / part
        if path.exists() and not path.is_dir():
            raise CacheFolderError(
                f"{path}: exists and is not a folder; the cache keeps its {part} entries "
                "there (move the file away or choose another --cache)"
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not is_marked(folder):
            marker = {"tool": TOOL_NAME, "version": __version__, "what": "build cache"}
            atomic_write_text(folder / MARKER, json.dumps(marker) + "\n")
    except OSError as error:
        raise CacheFolderError(f"{folder}: cannot create the cache ({error.strerror})") from None
    return folder


@contextmanager
def cache_in_use(folder: Path) -> Iterator[None]:
    """Hold a shared lock on the cache for a build (see module docstring)."""
    with _locked(folder, fcntl.LOCK_SH) as held:
        if not held:
            raise CacheFolderError(
                f"{folder}: the cache is being pruned by another process; try again"
            )
        yield


@contextmanager
def cache_exclusive(folder: Path) -> Iterator[None]:
    """Hold the cache alone (prune); refuse while a build uses it."""
    with _locked(folder, fcntl.LOCK_EX) as held:
        if not held:
            raise CacheFolderError(
                f"{folder}: a build is using this cache; prune it when the build has ended"
            )
        yield


@contextmanager
def _locked(folder: Path, mode: int) -> Iterator[bool]:
    try:
        handle = open(folder / LOCK, "a+", encoding="utf-8")  # noqa: SIM115 - held for the block
    except OSError as error:
        raise CacheFolderError(f"{folder}: cannot lock the cache ({error.strerror})") from None
    try:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        handle.close()


def own_entries(folder: Path) -> tuple[list[Path], list[Path]]:
    """(the tool's entries, everything else) in a cache folder, deepest first.

    The tool's: the marker and lock, work entries (``<sha256>.json|.npy``) and temporary
    files of its writers, the embedding cache's SQLite files (a moved-aside damaged copy
    included), spool folders (``spool/<pid>``), and the three sub-folders themselves when
    nothing else is left in them."""
    own: list[Path] = []
    foreign: list[Path] = []
    for part in PARTS:
        sub = folder / part
        if not sub.is_dir() or sub.is_symlink():
            if sub.exists() or sub.is_symlink():
                foreign.append(sub)
            continue
        kept_before = len(foreign)
        for entry in sorted(sub.iterdir()):
            if _is_own(part, entry):
                own.append(entry)
            else:
                foreign.append(entry)
        if len(foreign) == kept_before:
            own.append(sub)
    for entry in sorted(folder.iterdir()):
        if entry.name in PARTS:
            continue
        (own if entry.name in (MARKER, LOCK) else foreign).append(entry)
    return own, foreign


def _is_own(part: str, entry: Path) -> bool:
    if entry.is_symlink():
        return False
    name = entry.name
    if part == "work":
        return entry.is_file() and (bool(_WORK_ENTRY_RE.match(name)) or name.startswith(TMP_PREFIX))
    if part == "embed":
        return entry.is_file() and bool(_EMBED_FILE_RE.match(name))
    return entry.is_dir() and name.isdigit()  # spool/<pid>


def remove_entry(path: Path) -> None:
    """Delete one entry of ``own_entries`` (a spool folder with its documents)."""
    if path.is_dir() and not path.is_symlink():
        if path.name in PARTS:
            path.rmdir()  # empty by now: its entries were removed before it
        else:
            shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
