"""An empty result never replaces a corpus (issue 18, defect 2): a build that has no pair to
write exits non-zero, says why, and leaves the corpus in --out as it was; --allow-empty
writes the empty corpus when that is what the user wants."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CORPUS_BAD_FILES, BuiltCorpus
from test_build_scaleout import corpus_bytes

from pipeline.cli import main


def _corpus_copy(tmp_path: Path, seed_corpus: BuiltCorpus) -> tuple[Path, Path]:
    out, cache = tmp_path / "aligned", tmp_path / "cache"
    shutil.copytree(seed_corpus.out, out)
    shutil.copytree(seed_corpus.cache, cache)
    return out, cache


def _raw(tmp_path: Path, kind: str) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    if kind == "rejected":  # every file rejected
        for name, data in CORPUS_BAD_FILES.items():
            (raw / name).write_bytes(data)
    elif kind == "unpaired":  # documents read, none has its other language
        shutil.copy(Path("data/raw/000_0efcbe69a8e200e4.txt"), raw)
    return raw


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("empty", "0 files in"),
        ("rejected", "2 files in"),
        ("unpaired", "1 unpaired"),
    ],
)
def test_an_empty_result_keeps_the_old_corpus(
    tmp_path: Path, seed_corpus: BuiltCorpus, kind: str, reason: str
) -> None:
    out, cache = _corpus_copy(tmp_path, seed_corpus)
    before = corpus_bytes(out)
    raw = _raw(tmp_path, kind)
    args = ["build", "--raw", str(raw), "--out", str(out), "--cache", str(cache)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "no document pair to write" in result.output and reason in result.output
    assert f"{out} keeps its corpus" in result.output
    assert "corpus written" not in result.output
    assert corpus_bytes(out) == before
    assert not list(tmp_path.glob(".aligned.*-*"))  # no temporary folder left


def test_allow_empty_writes_an_empty_corpus(tmp_path: Path, seed_corpus: BuiltCorpus) -> None:
    out, cache = _corpus_copy(tmp_path, seed_corpus)
    raw = _raw(tmp_path, "empty")
    args = ["build", "--raw", str(raw), "--out", str(out), "--cache", str(cache)]
    result = CliRunner().invoke(main, [*args, "--allow-empty"])
    assert result.exit_code == 0, result.output
    assert "corpus written" in result.output
    import pandas as pd

    assert len(pd.read_parquet(out / "en-zh")) == 0
