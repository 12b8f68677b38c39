"""A damaged work-cache entry is a miss, never a traceback (issue 18, defect 6): the build
aligns the pair again and says so, `cache info` counts the damaged entry and `cache prune`
removes it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import BuiltCorpus

from pipeline.cli import main


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(bytes((b * 7 + 3) % 256 for b in path.read_bytes()))  # same length


def _edit_bead(path: Path) -> None:
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta["beads"][0]["score"] = 99.0  # valid JSON, wrong content
    path.write_text(json.dumps(meta), encoding="utf-8")


DAMAGE: dict[str, tuple[str, Callable[[Path], None]]] = {
    "truncated npy": (".npy", _truncate),
    "garbage npy": (".npy", _garbage),
    "missing npy": (".npy", Path.unlink),
    "truncated json": (".json", _truncate),
    "garbage json": (".json", _garbage),
    "edited json": (".json", _edit_bead),
}


def _cli(*args: str):  # noqa: ANN202 - click's Result
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_work_entry_is_aligned_again(
    tmp_path: Path, seed_corpus: BuiltCorpus, damage: str
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    (entry,) = (cache / "work").glob("[!.]*.json")
    suffix, spoil = DAMAGE[damage]
    spoil(entry.with_suffix(suffix))

    info = _cli("cache", "info", "--cache", str(cache))
    assert info.exit_code == 0, info.output
    assert "0 entries by the current code, 0 by other code, 1 damaged" in info.output

    out = tmp_path / "out"
    build = ["build", "--raw", str(seed_corpus.raw), "--out", str(out), "--cache", str(cache)]
    result = _cli(*build)
    assert result.exit_code == 0, result.output
    assert "work cache: the entry of A/RES/75/58" in result.output
    assert "is damaged" in result.output and "aligning it again" in result.output
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert (stats["aligned_pairs"], stats["cached_pairs"]) == (1, 0)
    segment = next(s for s in stats["stages"] if s["name"] == "segment")
    assert segment["counters"]["bad_work_entries"] == 1
    for table in ("en-zh", "en-zh-paragraphs"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / table), pd.read_parquet(seed_corpus.out / table)
        )

    again = _cli(*build, "--force")  # the entry was written anew: served from the cache
    assert again.exit_code == 0, again.output
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert (stats["aligned_pairs"], stats["cached_pairs"]) == (0, 1)


def test_prune_removes_damaged_work_entries(tmp_path: Path, seed_corpus: BuiltCorpus) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    (entry,) = (cache / "work").glob("[!.]*.json")
    _truncate(entry.with_suffix(".npy"))
    pruned = _cli("cache", "prune", "--cache", str(cache))
    assert pruned.exit_code == 0, pruned.output
    assert "and 1 damaged ones" in pruned.output
    assert not entry.exists() and not entry.with_suffix(".npy").exists()


def test_entry_dicts_are_the_records_asdict() -> None:
    """The work cache writes sentences and beads field by field (speed); every field of
    the records must be there, as ``dataclasses.asdict`` gives it."""
    import dataclasses

    from pipeline.records import Bead, Sentence
    from pipeline.runner.workcache import _bead_dict, _sentence_dict

    sentence = Sentence(id="op5:s1", block=3, text="大会，", tokens=2)
    bead = Bead([1, 2], [], 0.75, -0.25)
    assert _sentence_dict(sentence) == dataclasses.asdict(sentence)
    assert _bead_dict(bead) == dataclasses.asdict(bead)
