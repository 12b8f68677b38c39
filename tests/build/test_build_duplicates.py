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

from pipeline.build import BuildOptions, build_corpus

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
