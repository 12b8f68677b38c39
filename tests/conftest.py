"""Fixtures shared by several test files (add-only: one section per owner)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "data" / "raw"


# --- corpus build (issue 4) ---------------------------------------------------------

#: Files added to a copy of the seeds so the build has something to reject: an empty
#: file, and the English 75/58 with its "75/58." title prefix (its only symbol) removed.
CORPUS_BAD_FILES: dict[str, bytes] = {
    "empty.txt": b"",
    "no-symbol.txt": (SEEDS / "002_69ed3383ef6f2041.txt")
    .read_text(encoding="utf-8")
    .replace("75/58. ", "")
    .encode("utf-8"),
}


@dataclass(frozen=True)
class BuiltCorpus:
    """A corpus built once per test session by the real CLI on the real seeds."""

    raw: Path  # copy of data/raw plus CORPUS_BAD_FILES
    out: Path
    cache: Path
    stdout: str
    stderr: str
    seconds: float


@pytest.fixture(scope="session")
def seed_corpus(tmp_path_factory: pytest.TempPathFactory) -> BuiltCorpus:
    """`python -m pipeline build` on the four seeds plus two bad files, cold cache,
    default model (use-m) and default filters. Read-only for tests: copy it to change it."""
    base = tmp_path_factory.mktemp("seed-corpus")
    raw = base / "raw"
    shutil.copytree(SEEDS, raw)
    for name, data in CORPUS_BAD_FILES.items():
        (raw / name).write_bytes(data)
    out = base / "aligned"
    cache = base / "cache"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "build"]
        + ["--raw", str(raw), "--out", str(out), "--cache", str(cache)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-3000:]
    return BuiltCorpus(raw, out, cache, done.stdout, done.stderr, seconds)
