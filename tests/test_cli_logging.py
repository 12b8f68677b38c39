"""-v/-q on every command: how much the build says on stderr (issue 10, item 7)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, BuiltCorpus

from pipeline.cli import main


def _build(
    tmp_path: Path, seed_corpus: BuiltCorpus, *flags: str, force: bool = False
) -> subprocess.CompletedProcess:
    cache = tmp_path / "cache"
    if not cache.exists():
        shutil.copytree(seed_corpus.cache, cache)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *flags, "build", "--raw", str(seed_corpus.raw)]
        + ["--out", str(tmp_path / "out"), "--cache", str(cache)]
        + (["--force"] if force else []),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_quiet_build_logs_no_progress_but_keeps_the_summary(
    tmp_path: Path, seed_corpus: BuiltCorpus
) -> None:
    normal = _build(tmp_path, seed_corpus)
    assert normal.returncode == 0, normal.stderr[-2000:]
    assert "[build] stage align: started" in normal.stderr
    quiet = _build(tmp_path, seed_corpus, "-q", force=True)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert "stage align: started" not in quiet.stderr
    # The summary table is output, not logging: the same lines (timings aside).
    assert [line.split()[0] for line in quiet.stdout.splitlines() if line.strip()] == [
        line.split()[0] for line in normal.stdout.splitlines() if line.strip()
    ]
    assert quiet.stdout.startswith("corpus written")
    verbose = _build(tmp_path, seed_corpus, "-v", force=True)
    assert verbose.returncode == 0 and "[build] stage align: started" in verbose.stderr


def test_verbose_and_quiet_together_are_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["-v", "-q", "eval", "a", "b"])
    assert result.exit_code == 2
    assert "exclude each other" in result.output


@pytest.mark.parametrize("command", ["extract", "build"])
def test_a_missing_raw_folder_is_the_same_usage_error_everywhere(
    tmp_path: Path, command: str
) -> None:
    args = [command, "--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert f"raw folder '{tmp_path / 'nope'}' does not exist" in result.output
