"""``python -m pipeline cache info|prune``: what the build's caches hold, and cleanup.

A build's cache folder (``--cache``, default ``.cache`` beside ``--out``) holds
- ``embed/embeddings.sqlite3``: vectors keyed by (model fingerprint, text);
- ``work/<key>.json`` + ``.npy``: finished alignments, keyed by inputs, model, settings
  and the fingerprint of the aligning code;
- ``spool/<pid>/``: extracted documents of a running build.
Work entries made by other code can never be served again (their key differs), so they
are only disk space: ``prune`` removes them, with spools of dead builds and temporary
files that killed writers left behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.atomic import TMP_PREFIX
from pipeline.corpus.write import TOOL_NAME
from pipeline.embed import CACHE_FILE
from pipeline.embed.cache import move_aside, scan_cache
from pipeline.runner.cachedir import (
    LOCK,
    MARKER,
    CacheFolderError,
    cache_exclusive,
    looks_like_cache,
    own_entries,
    remove_entry,
)
from pipeline.runner.fingerprint import code_fingerprint
from pipeline.runner.locking import pid_alive, remove_dead_spools
from pipeline.runner.workcache import BadEntry, read_entry


@dataclass
class CacheReport:
    """Counts and sizes per part of the cache (what ``info`` prints, ``prune`` removed)."""

    folder: Path
    embeddings_by_model: dict[str, int] = field(default_factory=dict)
    embeddings_bytes: int = 0
    #: Stored vectors that fail the cache's checks (not finite, not unit, wrong size).
    embeddings_bad: int = 0
    #: Why SQLite cannot read the cache file (None: it can).
    embeddings_damaged: str | None = None
    #: Damaged cache files a build moved aside (``embeddings.sqlite3.damaged-*``).
    damaged_copies: int = 0
    work_current: int = 0
    work_stale: int = 0
    #: Entries that fail their checks (truncated, garbage): never served, aligned again.
    work_damaged: int = 0
    work_bytes: int = 0
    spools: int = 0
    leftovers: int = 0

    def lines(self) -> list[str]:
        out = [f"cache {self.folder}"]
        total = sum(self.embeddings_by_model.values())
        if self.embeddings_damaged is not None:
            out.append(
                f"embeddings  damaged ({self.embeddings_damaged}), {_mb(self.embeddings_bytes)}: "
                "the next build moves the file aside and starts a new one"
            )
        else:
            out.append(
                f"embeddings  {total} vectors ({self.embeddings_bad} damaged), "
                f"{_mb(self.embeddings_bytes)}"
            )
        for model, count in sorted(self.embeddings_by_model.items()):
            out.append(f"  {count:>8}  {model}")
        if self.damaged_copies:
            out.append(f"  {self.damaged_copies} damaged cache files moved aside by builds")
        out.append(
            f"work        {self.work_current} entries by the current code, "
            f"{self.work_stale} by other code, {self.work_damaged} damaged, "
            f"{_mb(self.work_bytes)}"
        )
        out.append(f"spool       {self.spools} folders of builds no longer running")
        out.append(f"leftovers   {self.leftovers} temporary files of killed writers")
        return out


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _damaged_copies(embed: Path) -> list[Path]:
    return sorted(embed.glob(f"{CACHE_FILE}.damaged-*")) if embed.is_dir() else []


def _entry_code(meta_path: Path) -> str | None:
    """The code fingerprint of a sound entry; None when the entry fails its checks."""
    try:
        meta, _ = read_entry(meta_path)
    except BadEntry:
        return None
    return meta.get("code")


def _dead_leftover(path: Path) -> bool:
    """A temporary file (``pipeline.atomic`` naming) whose writer on this host is gone."""
    parts = path.name.split(".")
    pid = parts[-2] if len(parts) >= 3 else ""
    return path.name.startswith(TMP_PREFIX) and pid.isdigit() and not pid_alive(int(pid))


def _work_entries(work: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """(current, stale, damaged) entry JSON files; an .npy without its JSON is damaged
    (a killed store leaves none: the JSON is written last, after the .npy)."""
    current_code = code_fingerprint()
    current: list[Path] = []
    stale: list[Path] = []
    damaged: list[Path] = []
    if not work.is_dir():
        return current, stale, damaged
    for meta in sorted(work.glob("[!.]*.json")):
        code = _entry_code(meta)
        (damaged if code is None else current if code == current_code else stale).append(meta)
    npys = sorted(work.glob("[!.]*.npy"))
    orphans = [npy for npy in npys if not npy.with_suffix(".json").exists()]
    return current, stale, damaged + orphans


def _size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths if p.exists())


def cache_info(folder: Path) -> CacheReport:
    """Describe ``folder`` without changing it."""
    report = CacheReport(folder=folder)
    scan = scan_cache(folder / "embed" / CACHE_FILE)
    report.embeddings_by_model, report.embeddings_bad = scan.by_model, scan.bad
    report.embeddings_damaged = scan.damaged
    report.damaged_copies = len(_damaged_copies(folder / "embed"))
    report.embeddings_bytes = _size(list((folder / "embed").glob(CACHE_FILE + "*")))
    current, stale, damaged = _work_entries(folder / "work")
    report.work_current, report.work_stale = len(current), len(stale)
    report.work_damaged = len(damaged)
    work_files = list((folder / "work").glob("*")) if (folder / "work").is_dir() else []
    report.work_bytes = _size(work_files)
    spool = folder / "spool"
    if spool.is_dir():
        report.spools = sum(
            1 for p in spool.iterdir() if p.name.isdigit() and not pid_alive(int(p.name))
        )
    report.leftovers = sum(1 for p in work_files if _dead_leftover(p))
    return report


def prune_cache(folder: Path) -> CacheReport:
    """Remove stale work entries, dead spools and leftovers; return what was removed.
    Refused for a folder that is not a cache, and while a build uses it."""
    check_cache_folder(folder)
    with cache_exclusive(folder):
        return _prune(folder)


def _prune(folder: Path) -> CacheReport:
    removed = CacheReport(folder=folder)
    work = folder / "work"
    _, stale, damaged = _work_entries(work)
    for path in stale + damaged:
        if path in stale:
            removed.work_stale += 1
        else:
            removed.work_damaged += 1
        removed.work_bytes += _size([path.with_suffix(".json"), path.with_suffix(".npy")])
        path.with_suffix(".json").unlink(missing_ok=True)
        path.with_suffix(".npy").unlink(missing_ok=True)
    if work.is_dir():
        for path in list(work.iterdir()):
            if _dead_leftover(path):
                removed.leftovers += 1
                path.unlink(missing_ok=True)
    removed.spools = len(remove_dead_spools(folder / "spool"))
    scan = scan_cache(folder / "embed" / CACHE_FILE, remove_bad=True)
    removed.embeddings_bad = scan.bad
    if scan.damaged is not None:  # unreadable: nothing in it can be served again
        move_aside(folder / "embed" / CACHE_FILE)
    for copy in _damaged_copies(folder / "embed"):
        removed.damaged_copies += 0 if copy.name.endswith(("-wal", "-shm")) else 1
        copy.unlink(missing_ok=True)
    return removed


@dataclass
class ClearReport:
    """What ``clear_cache`` removed and the entries it left because the tool did not make
    them (a user's files inside the cache folder)."""

    folder: Path
    removed: int = 0
    kept: list[Path] = field(default_factory=list)
    folder_removed: bool = False

    def line(self) -> str:
        if self.folder_removed:
            return f"removed {self.folder}"
        names = ", ".join(str(p.relative_to(self.folder)) for p in self.kept[:5])
        more = f" and {len(self.kept) - 5} more" if len(self.kept) > 5 else ""
        return (
            f"removed {self.removed} cache entries from {self.folder}; kept "
            f"{len(self.kept)} entries the tool did not create: {names}{more}"
        )


def check_cache_folder(folder: Path) -> None:
    """Refuse a folder that is not a cache of the tool (nothing in it is the tool's)."""
    if not looks_like_cache(folder):
        raise CacheFolderError(
            f"{folder}: not a cache of {TOOL_NAME} (no {MARKER} marker, no work/ or "
            "embed/); nothing removed"
        )


def clear_cache(folder: Path) -> ClearReport:
    """Delete the tool's entries in the cache folder, and the folder when nothing else is
    left in it (the next build embeds and aligns from scratch). Files the tool did not
    create stay, and are named. Refused while a build uses the cache."""
    check_cache_folder(folder)
    report = ClearReport(folder)
    with cache_exclusive(folder):
        own, report.kept = own_entries(folder)
        for path in own:
            remove_entry(path)
            report.removed += 1
    if not report.kept:
        (folder / LOCK).unlink(missing_ok=True)
        folder.rmdir()
        report.folder_removed = True
    return report
