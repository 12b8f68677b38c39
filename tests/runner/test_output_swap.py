"""The output swap leaves a readable corpus in --out at every instant (issue 18, low list:
a kill between the old swap's two renames left no corpus until the next build).

The swap runs in a forked child that an audit hook kills (``os._exit``) at its N-th audit
event (every file operation Python reports: open, rename, listdir, rmtree, ...), for every N
until the swap completes; after each kill --out must hold the old corpus or the new one,
whole, before any recovery runs."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from pipeline.corpus.write import TOOL_NAME
from pipeline.runner.output import recover_output, swap_in


def _corpus(folder: Path, label: str) -> dict[str, str]:
    files = {
        "manifest.json": json.dumps({"tool": TOOL_NAME, "label": label}),
        "en-zh/train-00000.parquet": f"{label} sentences",
        "en-zh-paragraphs/train-00000.parquet": f"{label} paragraphs",
        "report.html": f"{label} report",
    }
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return files


def _content(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in folder.rglob("*")
        if p.is_file()
    }


def _swap_killed_at(event: int, tmp: Path, out: Path) -> bool:
    """Run swap_in in a child killed at its ``event``-th audit event; True if it finished."""
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        seen = 0

        def hook(name: str, args: tuple) -> None:
            nonlocal seen
            seen += 1
            if seen == event:
                os._exit(9)

        sys.addaudithook(hook)
        try:
            swap_in(tmp, out)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def test_out_is_a_whole_corpus_at_every_instant_of_the_swap(tmp_path: Path) -> None:
    finished, event = False, 0
    while not finished:
        event += 1
        assert event < 10_000
        base = tmp_path / str(event)
        out, tmp = base / "aligned", base / ".aligned.tmp-99999999"
        out.mkdir(parents=True)
        tmp.mkdir()
        old, new = _corpus(out, "old"), _corpus(tmp, "new")
        finished = _swap_killed_at(event, tmp, out)
        assert out.is_dir() and not out.is_symlink()
        assert _content(out) in (old, new), f"killed at audit event {event}"
        if finished:
            assert _content(out) == new and not tmp.exists()
        recover_output(out)  # the next build's clean-up: the corpus is kept as it is
        assert _content(out) in (old, new)
        shutil.rmtree(base)
    assert event > 3  # the swap was killed at several points before it finished
