"""Pool workers die with their build in every case, and --workers is capped at the cores
this process may use (issue 18, defect 9)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, BuiltCorpus

from pipeline.cli import main


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:"))
        if int(ppid) == pid:
            found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[tuple[int, int]]:
    """Every process below ``pid``, with its depth (1: a child)."""
    found, todo = [], [(pid, 0)]
    while todo:
        parent, depth = todo.pop()
        for child in _children(parent):
            found.append((child, depth + 1))
            todo.append((child, depth + 1))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("mid_build", [False, True])
def test_workers_of_a_build_killed_in_its_first_second_exit(
    tmp_path: Path, seed_corpus: BuiltCorpus, mid_build: bool
) -> None:
    """The build is killed as soon as its first worker process exists: before that worker
    has run a line of its own (the old check then took the dead build's pid from the
    worker's new parent, and waited for a change that never came). The workers are
    forked by the pool's fork server, a child of the build: the server and every worker
    must go with the build, whether killed at once or mid-build (``mid_build``: a cold
    build, once a worker has spooled a document it read)."""
    cache = tmp_path / "cache"
    if not mid_build:
        shutil.copytree(seed_corpus.cache, cache)
    build = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "build", "--raw", str(seed_corpus.raw)]
        + ["--out", str(tmp_path / "out"), "--cache", str(cache), "--workers", "2"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seen: set[int] = set()
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not workers and time.monotonic() < deadline and build.poll() is None:
            below = _descendants(build.pid)
            seen.update(pid for pid, _ in below)
            workers = [pid for pid, depth in below if depth >= 2]  # forked by the server
            time.sleep(0.002)
        assert workers, "the build started no worker process"
        spool = cache / "spool" / str(build.pid)
        while mid_build and build.poll() is None and time.monotonic() < deadline:
            if spool.is_dir() and any(p.is_file() for p in spool.rglob("*")):
                break
            time.sleep(0.002)
        seen.update(pid for pid, _ in _descendants(build.pid))
        assert build.poll() is None, "the build ended before it could be killed"
        build.send_signal(signal.SIGKILL)
        build.wait(timeout=60)
        time.sleep(0.5)  # the pool may have started its second worker meanwhile
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in seen) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in seen if _alive(pid)], "workers outlived their build"
    finally:
        for pid in seen:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_workers_are_capped_at_the_cores_available(
    tmp_path: Path, seed_corpus: BuiltCorpus
) -> None:
    from pipeline.embed import available_cores

    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    out = tmp_path / "out"
    args = ["build", "--raw", str(seed_corpus.raw), "--out", str(out), "--cache", str(cache)]
    result = CliRunner().invoke(main, [*args, "--workers", "100000"])
    assert result.exit_code == 0, result.output
    cores = available_cores()
    assert f"--workers 100000: capped at {cores}, the cores this process may use" in result.output
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert stats["workers"] == cores
