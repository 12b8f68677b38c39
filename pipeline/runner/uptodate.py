"""Up to date: a build whose inputs, settings, code and output are those of the corpus
already in ``--out`` does nothing (datatrove's completion markers, make's rule).

Why: ``make corpus`` is run again and again (after a ``git pull``, in a notebook's set-up
cell, in CI). Even when every alignment comes from the work cache, a rebuild still reads
and extracts every file and decides and writes every row: about a second for the seeds,
hours for the UN archive. When nothing it depends on changed, the corpus it would write
is the one already there, so it writes nothing and says so.

What "nothing changed" means, in two digests that every build writes into stats.json:

- ``build_key`` (:func:`build_key`): the raw files (each one's name, size, and
  modification and change times: a file rewritten, touched, replaced or renamed counts as
  changed, whatever its content) and the entries skipped; every setting of
  ``BuildOptions`` except those that only place work or show progress
  (:data:`PLACEMENT`: rows are the same under every engine and worker count, which the
  engine tests check); the code (the bytes of every file of the ``pipeline`` package);
  the environment (Python's version, and the name and version of every installed
  distribution, so an upgraded jieba or pyarrow builds again).
- ``outputs_digest`` (:func:`outputs_digest`): the corpus in ``--out`` as that build
  left it: every file's path, size and modification time (stats.json itself aside). A
  corpus edited, half deleted or with files added is built again.

A raw file whose time is within one clock tick of the listing (changed just before the
build) could change again in that same tick without its stat showing it (git's "racy"
files): such a build gets a key no later build matches, so the next one builds again
(once) instead of trusting the stat. A tick is 2 s where the file system keeps whole
seconds (FAT keeps 2 s), 50 ms elsewhere.

Only a local ``--out`` is checked (an object store's listing is slow and its times are
the upload's). What the key cannot see: a model's weights changing under the same name
(an ``st:`` model re-downloaded from a hub); ``--force`` builds in any case, and its
caches still serve what they hold.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pipeline

if TYPE_CHECKING:
    from pipeline.readers.listing import RawListing
    from pipeline.runner.options import BuildOptions, BuildResult

log = logging.getLogger("pipeline.build")

#: BuildOptions fields that decide where and how visibly the work runs, not what it
#: writes. Every other field, present or future, is part of the key.
PLACEMENT = frozenset(
    {
        "show_progress",
        "engine",
        "workers",
        "ray_address",
        "embed_actors",
        "num_gpus",
        "embed_cpus",
        "embed_cache",
        "embed_cache_dir",
        "cache",
        "force",
    }
)
#: The file a build writes last in ``--out``, holding both digests; not in the digest.
STATS_FILE = "stats.json"
#: One clock tick of file times (module docstring): whole seconds, or finer.
COARSE_TICK_NS = 2_000_000_000
FINE_TICK_NS = 50_000_000


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (Path, os.PathLike)):
        return os.fspath(value)
    raise TypeError(f"a build setting of type {type(value).__name__} has no key")


def settings_key(options: BuildOptions) -> str:
    """The settings that shape the corpus, as canonical JSON (folders made absolute)."""
    settings = {
        f.name: getattr(options, f.name)
        for f in dataclasses.fields(options)
        if f.name not in PLACEMENT
    }
    for name in ("raw", "out"):
        text = os.fspath(settings[name])
        settings[name] = text if "://" in text else os.path.abspath(text)
    return json.dumps(settings, sort_keys=True, default=_jsonable)


def inputs_key(listing: RawListing) -> list[Any]:
    """Each raw file's name, size, modification and change times; the skipped entries."""
    files: list[list[Any]] = []
    for path in listing.files:
        try:
            stat = os.stat(path)
        except OSError:  # gone or unreadable since the listing: the read stage says why
            files.append([os.fspath(path), None])
            continue
        files.append([os.fspath(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns])
    return [files, [[s.entry, s.reason] for s in listing.skipped]]


def racy(files: list[list[Any]], listed_ns: int) -> bool:
    """Whether any file's modification or change time (``inputs_key``'s entries) is
    within one clock tick of ``listed_ns``, when the files were listed."""
    for entry in files:
        if entry[1] is None:  # not statted: changed anyway
            continue
        newest = max(entry[2], entry[3])
        tick = COARSE_TICK_NS if newest % 1_000_000_000 == 0 else FINE_TICK_NS
        if newest > listed_ns - tick:
            return True
    return False


def code_key(package: Path = Path(pipeline.__file__).parent) -> str:
    """sha256 over every file of the package (its bytes: any edit counts, comments too).

    Not ``pipeline.runner.fingerprint.code_fingerprint``: that one keys the work cache on
    the syntax trees of the aligning code only, so that a comment does not re-align; here
    every file that writes the corpus counts, templates included, and reading bytes is
    cheaper than parsing them."""
    digest = hashlib.sha256()
    for folder, subfolders, names in os.walk(package):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(names):
            path = Path(folder, name)
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def environment_key() -> list[str]:
    """Python's version and every installed distribution's folder name (name-version),
    found by listing the import path's folders: no metadata is read, so it is quick."""
    found = set()
    for entry in sys.path:
        try:
            with os.scandir(entry or ".") as entries:
                found.update(
                    e.name for e in entries if e.name.endswith((".dist-info", ".egg-info"))
                )
        except OSError:  # a zip file, a hook's name, a folder gone: holds no distributions
            continue
    return [sys.version, *sorted(found)]


def build_key(options: BuildOptions, listing: RawListing) -> str:
    """What the corpus depends on, as one sha256 (module docstring)."""
    listed_ns = time.time_ns()
    inputs = inputs_key(listing)
    parts = [settings_key(options), inputs, code_key(), environment_key()]
    if racy(inputs[0], listed_ns):
        log.debug("a raw file changed just before the build: the next build builds again")
        parts.append(os.urandom(16).hex())
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def outputs_digest(folder: Path) -> str:
    """sha256 over the path, size and modification time of every file in ``folder``
    (stats.json aside): what a build leaves there, checked before it is trusted."""
    digest = hashlib.sha256()
    for parent, subfolders, names in os.walk(folder):
        subfolders.sort()
        for name in sorted(names):
            path = Path(parent, name)
            relative = path.relative_to(folder).as_posix()
            if relative == STATS_FILE:
                continue
            stat = path.stat()
            digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def up_to_date(out: Path, key: str) -> BuildResult | None:
    """The corpus in ``out`` when the build that wrote it had ``key`` and left it as it is
    now; None when it must be built (no corpus, another key, a file changed)."""
    from pipeline.runner.options import BuildResult

    try:
        stats = json.loads((out / STATS_FILE).read_text(encoding="utf-8"))
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # no corpus yet, or one that is not whole
        return None
    if not isinstance(stats, dict) or stats.get("build_key") != key:
        return None
    if stats.get("outputs_digest") != outputs_digest(out):
        log.info("%s changed since it was built: building it again", out)
        return None
    return BuildResult(out=out, manifest=manifest, stats=stats, up_to_date=True)
