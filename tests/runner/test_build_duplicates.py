"""An archive with every document twice builds the seeds' corpus (issue 12).

Users download each document in several formats; the build keeps one copy per symbol
and language, names the others as its duplicates in the manifest, and never loses the
pair.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from conftest import SEEDS, BuiltCorpus

from pipeline.runner import BuildOptions, build_corpus

#: Columns that name the file a row came from; with identical copies either may be kept.
SOURCE_COLUMNS = ["source_en", "source_zh"]


def test_seeds_twice_build_the_same_corpus(tmp_path: Path, seed_corpus: BuiltCorpus) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for seed in SEEDS.iterdir():
        shutil.copy(seed, raw / seed.name)
        shutil.copy(seed, raw / f"{seed.stem}.md")  # the same text in another format
    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    out = tmp_path / "out"
    result = build_corpus(BuildOptions(raw=raw, out=out, cache=cache))

    for table in ("en-zh", "en-zh-paragraphs"):
        alone = pd.read_parquet(seed_corpus.out / table)
        twice = pd.read_parquet(out / table)
        assert len(twice) == len(alone) > 0
        pd.testing.assert_frame_equal(
            twice.drop(columns=SOURCE_COLUMNS), alone.drop(columns=SOURCE_COLUMNS)
        )
        kept = set(twice["source_en"]) | set(twice["source_zh"])
        assert kept == {"002_69ed3383ef6f2041.md", "003_df19238bedd244e2.md"}

    documents = result.manifest["documents"]
    assert [p["symbol"] for p in documents["paired"]] == ["A/RES/75/58"]
    duplicates = {
        r["source_file"]: r["reason"]
        for r in documents["rejected"]
        if r["reason"].startswith("duplicate of ")
    }
    assert sorted(duplicates) == sorted(seed.name for seed in SEEDS.iterdir())
    for name, reason in duplicates.items():
        assert reason.startswith(f"duplicate of {Path(name).stem}.md: ")
        assert "(same text)" in reason


# --- copies that are not one document: a conflict (issue 18, defect 3) ---------------

IMPOSTOR = "001b_relabelled.txt"  # sorts before the real English 75/58


def _archive_with_impostor(tmp_path: Path) -> Path:
    """The seeds, a second pair from the synthetic archive (so the build has a pair left to
    write), and the 78/43 text relabelled as 75/58."""
    from benchmarks.archive import write_archive

    raw = tmp_path / "raw"
    shutil.copytree(SEEDS, raw)
    write_archive(SEEDS, raw, 1, seed=4)
    text = (SEEDS / "000_0efcbe69a8e200e4.txt").read_text(encoding="utf-8")
    assert "78/43. " in text
    (raw / IMPOSTOR).write_text(text.replace("78/43. ", "75/58. "), encoding="utf-8")
    return raw


def test_a_relabelled_document_is_a_conflict_not_a_duplicate(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from conftest import REPO

    raw = _archive_with_impostor(tmp_path)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "build", "--raw", str(raw), "--out", str(out)]
        + ["--cache", str(tmp_path / "cache")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    real = "002_69ed3383ef6f2041.txt"
    assert f"conflict: A/RES/75/58 (en) has different texts in {IMPOSTOR}, {real}" in done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    documents = manifest["documents"]
    assert documents["conflicts"] == [
        {
            "symbol": "A/RES/75/58",
            "language": "en",
            "files": [IMPOSTOR, real],
            "reason": documents["conflicts"][0]["reason"],
        }
    ]
    assert "A/RES/75/58" not in {p["symbol"] for p in documents["paired"]}
    assert len(documents["paired"]) == 1  # the archive's pair is still built
    zh = {d["source_file"]: d["reason"] for d in documents["unpaired"]}
    assert "conflict" in zh["003_df19238bedd244e2.txt"]
    rejected = {r["source_file"]: r["reason"] for r in documents["rejected"]}
    assert rejected[IMPOSTOR].startswith("conflict: ") and rejected[real].startswith("conflict: ")
    rows = pd.read_parquet(out / "en-zh")
    assert IMPOSTOR not in set(rows["source_en"]) and "A/RES/75/58" not in set(rows["symbol"])


def test_extract_reports_the_same_conflict(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from pipeline.cli import main

    raw = _archive_with_impostor(tmp_path)
    result = CliRunner().invoke(main, ["extract", "--raw", str(raw), "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert f"{IMPOSTOR}: conflict: A/RES/75/58 (en) has different texts" in result.output
    pairs = json.loads((tmp_path / "x" / "pairs.json").read_text(encoding="utf-8"))
    assert pairs["conflicts"][0]["files"] == [IMPOSTOR, "002_69ed3383ef6f2041.txt"]
    assert "A/RES/75/58" not in {p["symbol"] for p in pairs["pairs"]}
