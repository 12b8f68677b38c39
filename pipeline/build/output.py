"""Atomic corpus output: a build writes into a temporary folder beside ``--out`` and swaps
it in at the end, so a build killed midway leaves the previous corpus as it was.

``pipeline.build`` re-exports ``BuildError`` and ``recover_output`` (the CLI and tests use them).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.build.locking import pid_alive
from pipeline.corpus.write import TOOL_NAME

if TYPE_CHECKING:
    from pipeline.build.options import BuildContext

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


def swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` by ``tmp`` with renames (atomic on one file system)."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.rename(out, old)
    os.rename(tmp, out)
    if old.exists():
        shutil.rmtree(old)
