"""A rebuild with nothing changed writes nothing; any change builds again (uptodate)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, BuiltCorpus

from pipeline.cli import main
from pipeline.corpus.filters import FilterOptions
from pipeline.readers.listing import list_raw
from pipeline.runner import BuildOptions, build_corpus
from pipeline.runner.uptodate import (
    build_key,
    code_key,
    environment_key,
    outputs_digest,
    racy,
    settings_key,
)


def _file_states(folder: Path) -> dict[str, tuple[int, int, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture()
def built(tmp_path: Path, seed_corpus: BuiltCorpus) -> tuple[Path, Path, Path]:
    """raw, out, cache: the seeds built once into a folder of this test's own."""
    raw, cache, out = tmp_path / "raw", tmp_path / "cache", tmp_path / "aligned"
    shutil.copytree(seed_corpus.raw, raw)
    shutil.copytree(seed_corpus.cache, cache)
    time.sleep(0.1)  # the copies' change times a clock tick before the listing (racy)
    first = build_corpus(BuildOptions(raw=raw, out=out, cache=cache, show_progress=False))
    assert not first.up_to_date
    return raw, out, cache


def test_a_rebuild_with_nothing_changed_writes_nothing_and_says_so(
    built: tuple[Path, Path, Path],
) -> None:
    raw, out, cache = built
    before = _file_states(out)
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert stats["outputs_digest"] == outputs_digest(out)

    result = CliRunner().invoke(
        main, ["build", "--raw", str(raw), "--out", str(out), "--cache", str(cache)]
    )
    assert result.exit_code == 0, result.output
    assert f"{out} is up to date: nothing changed since it was built" in result.output
    assert "stage read: started" not in result.output  # no stage ran
    assert "sentence beads" in result.output and "time per stage" not in result.output
    assert _file_states(out) == before  # not one file written, moved or replaced


def _touch_raw(raw: Path, out: Path) -> None:
    path = raw / "000_0efcbe69a8e200e4.txt"
    path.write_bytes(path.read_bytes())  # the same bytes, written again


def _add_raw(raw: Path, out: Path) -> None:
    shutil.copy(raw / "000_0efcbe69a8e200e4.txt", raw / "999_copy.txt")


def _delete_output(raw: Path, out: Path) -> None:
    next((out / "en-zh").glob("train-*.parquet")).unlink()


def _edit_output(raw: Path, out: Path) -> None:
    with (out / "en-zh.en").open("a", encoding="utf-8") as handle:
        handle.write("a line of the user's\n")


def _add_output(raw: Path, out: Path) -> None:
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")


def _remove_stats(raw: Path, out: Path) -> None:
    (out / "stats.json").unlink()


CHANGES: dict[str, tuple[Callable[[Path, Path], None], dict]] = {
    "a raw file rewritten, same bytes": (_touch_raw, {}),
    "a raw file added": (_add_raw, {}),
    "a setting": (lambda raw, out: None, {"filters": FilterOptions(min_score=0.9)}),
    "a corpus file deleted": (_delete_output, {}),
    "a corpus file edited": (_edit_output, {}),
    "a file added to the corpus": (_add_output, {}),
    "stats.json gone": (_remove_stats, {}),
    "--force": (lambda raw, out: None, {"force": True}),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_change_builds_again(built: tuple[Path, Path, Path], change: str) -> None:
    raw, out, cache = built
    spoil, settings = CHANGES[change]
    time.sleep(0.01)  # a rewrite lands on a later clock tick on every file system here
    spoil(raw, out)
    time.sleep(0.1)  # and the listing a tick after it (else the build is racy: see below)
    result = build_corpus(
        BuildOptions(raw=raw, out=out, cache=cache, show_progress=False, **settings)
    )
    assert not result.up_to_date
    assert result.stats["cached_pairs"] == 1  # built through the stages (work cache hit)
    assert not (out / "notes.txt").exists()  # the folder is the build's, whole
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert stats["outputs_digest"] == outputs_digest(out)
    again = build_corpus(BuildOptions(raw=raw, out=out, cache=cache, show_progress=False))
    assert again.up_to_date == (change != "a setting")  # the default is another setting
    assert again.manifest == result.manifest or change == "a setting"


def test_a_raw_file_changed_within_a_tick_of_the_listing_is_never_trusted(
    tmp_path: Path,
) -> None:
    """Its stat cannot show a second change in the same tick, so its build's key is one
    that no later build reproduces; once the tick has passed, keys are stable."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text("A/RES/1/1\n", encoding="utf-8")
    options = BuildOptions(raw=raw, out=tmp_path / "o")
    assert build_key(options, list_raw(raw)) != build_key(options, list_raw(raw))
    time.sleep(0.1)
    assert build_key(options, list_raw(raw)) == build_key(options, list_raw(raw))
    whole_second = 1_700_000_000 * 10**9  # a FAT-like time: a tick is 2 s there
    entry = [["a.txt", 10, whole_second, whole_second]]
    assert racy(entry, whole_second + 1_500_000_000)
    assert not racy(entry, whole_second + 2_500_000_000)


def test_placement_settings_are_not_part_of_the_key(tmp_path: Path) -> None:
    listing = list_raw(REPO / "data" / "raw")
    base = BuildOptions(raw=REPO / "data" / "raw", out=tmp_path / "o")
    placed = BuildOptions(
        raw=REPO / "data" / "raw", out=tmp_path / "o", workers=1, engine="ray",
        show_progress=True, embed_actors=3, cache=tmp_path / "elsewhere", force=True,
    )
    assert build_key(base, listing) == build_key(placed, listing)
    for changed in (
        {"model": "e5-small"},
        {"chunk_pairs": 4},
        {"export_dedup": True},
        {"out": tmp_path / "other"},
        {"filters": FilterOptions(lang_check=False)},
    ):
        settings = {"raw": REPO / "data" / "raw", "out": tmp_path / "o", **changed}
        other = BuildOptions(**settings)
        assert settings_key(other) != settings_key(base), changed


def test_the_code_key_counts_every_byte_of_the_package(tmp_path: Path) -> None:
    copy = tmp_path / "pipeline"
    shutil.copytree(REPO / "pipeline", copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert code_key(copy) == code_key(REPO / "pipeline")
    with (copy / "corpus" / "write.py").open("a", encoding="utf-8") as handle:
        handle.write("# a comment\n")  # the corpus code has no cache of its own: all counts
    assert code_key(copy) != code_key(REPO / "pipeline")


def test_the_environment_key_names_every_installed_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = environment_key()
    assert any(name.startswith("pyarrow-") for name in before)
    (tmp_path / "jieba-9.9.dist-info").mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, os.fspath(tmp_path)])
    assert environment_key() == sorted_with(before, "jieba-9.9.dist-info")


def sorted_with(key: list[str], name: str) -> list[str]:
    return [key[0], *sorted([*key[1:], name])]
