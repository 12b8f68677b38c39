"""Which entries of a raw folder are read, and why each other one is not.

A raw folder is read flat (files are named by their base name everywhere, so two
``x.txt`` in sub-folders would clash). Every entry that is not read is *skipped with a
reason*, never silently: the build lists them in the manifest (``documents.skipped``) and
the log, ``extract`` on stderr. A symbolic link is followed only when its target is a file
inside the raw folder: one that leads out of it (``notes.txt -> /etc/shadow``) is read only
when the user asks for it (``--follow-symlinks``), and a dangling one is named.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.readers.names import shown_name


@dataclass
class Skipped:
    """An entry of the raw folder that is not read, and why."""

    entry: str  # the shown name (pipeline.readers.names)
    reason: str
    #: True for what a user should hear about (a dangling or outward link, a device);
    #: False for what is skipped by design (hidden files, sub-folders).
    notable: bool = True


@dataclass
class RawListing:
    files: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def list_raw(folder: Path, *, follow_symlinks: bool = False) -> RawListing:
    """Files to read directly in ``folder``, sorted by name, and every other entry with
    the reason it is skipped (see module docstring)."""
    listing = RawListing()
    root = folder.resolve()
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        reason, notable = _skip_reason(path, root, follow_symlinks)
        if reason is None:
            listing.files.append(path)
        else:
            listing.skipped.append(Skipped(shown_name(path.name), reason, notable))
    return listing


def _skip_reason(path: Path, root: Path, follow_symlinks: bool) -> tuple[str | None, bool]:
    if path.name.startswith("."):
        return "hidden file or folder", False
    if path.is_symlink():
        target = Path(os.path.realpath(path))
        shown = shown_name(os.fspath(target))
        if not target.exists():
            return f"dangling symbolic link (its target {shown} does not exist)", True
        if not target.is_relative_to(root) and not follow_symlinks:
            return (
                f"symbolic link to {shown}, outside the raw folder: not followed "
                "(--follow-symlinks reads it)",
                True,
            )
    try:
        mode = path.stat().st_mode
    except OSError as error:
        return f"cannot be read ({error.strerror})", True
    if stat.S_ISDIR(mode):
        return "a folder: the raw folder is read flat, not recursively", False
    if not stat.S_ISREG(mode):
        return "not a regular file (a pipe, socket or device)", True
    return None, False
