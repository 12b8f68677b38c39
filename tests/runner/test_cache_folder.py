"""The cache folder is the tool's only where it says so: `cache prune --all` removes the
tool's own entries and never a user's file (issue 18, defect 1)."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import BuiltCorpus

from pipeline.cli import main


def _user_files(folder: Path) -> None:
    (folder / "notes.txt").write_text("my notes", encoding="utf-8")
    (folder / "thesis").mkdir()
    (folder / "thesis" / "chapter1.tex").write_text("chapter one", encoding="utf-8")


def test_prune_all_removes_only_the_tools_entries(tmp_path: Path, seed_corpus: BuiltCorpus) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    _user_files(cache)
    (cache / "work" / "mine.txt").write_text("a file of mine in work/", encoding="utf-8")

    result = CliRunner().invoke(main, ["cache", "prune", "--all", "--cache", str(cache)])

    assert result.exit_code == 0, result.output
    assert (cache / "notes.txt").read_text(encoding="utf-8") == "my notes"
    assert (cache / "thesis" / "chapter1.tex").read_text(encoding="utf-8") == "chapter one"
    assert (cache / "work" / "mine.txt").exists()
    assert not list((cache / "work").glob("*.json")) and not list((cache / "work").glob("*.npy"))
    assert not (cache / "embed").exists()
    assert "kept 3 entries the tool did not create" in result.output
    assert "notes.txt" in result.output


def test_prune_all_removes_a_pure_cache_folder_entirely(
    tmp_path: Path, seed_corpus: BuiltCorpus
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    result = CliRunner().invoke(main, ["cache", "prune", "--all", "--cache", str(cache)])
    assert result.exit_code == 0, result.output
    assert not cache.exists()
    assert f"removed {cache}" in result.output


def test_prune_refuses_a_folder_that_is_no_cache(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    _user_files(home)
    for args in (["--all"], []):
        result = CliRunner().invoke(main, ["cache", "prune", *args, "--cache", str(home)])
        assert result.exit_code == 1, result.output
        assert "not a cache of un-parallel-pipeline" in result.output
        assert result.output.count("\n") == 1  # one line
    assert (home / "notes.txt").exists() and (home / "thesis" / "chapter1.tex").exists()


def test_a_build_marks_its_cache_and_refuses_a_folder_of_user_files(
    tmp_path: Path, seed_corpus: BuiltCorpus
) -> None:
    from pipeline.runner.cachedir import MARKER

    assert (seed_corpus.cache / MARKER).is_file()
    home = tmp_path / "home"
    home.mkdir()
    _user_files(home)
    out = tmp_path / "out"
    args = ["build", "--raw", str(seed_corpus.raw), "--out", str(out), "--cache", str(home)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert f"{home}: folder holds files" in result.output
    assert sorted(p.name for p in home.iterdir()) == ["notes.txt", "thesis"]
    assert not out.exists()


def test_prune_during_a_build_is_refused(tmp_path: Path, seed_corpus: BuiltCorpus) -> None:
    """A build holds the cache (shared lock) for as long as it runs; prune would delete its
    spool and work entries under it, so it refuses, as a second build into one --out does."""
    from pipeline.runner.cachedir import cache_in_use

    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    before = sorted(p.relative_to(cache) for p in cache.rglob("*"))
    with cache_in_use(cache):  # as a running build holds it
        for args in (["--all"], []):
            result = CliRunner().invoke(main, ["cache", "prune", *args, "--cache", str(cache)])
            assert result.exit_code == 1, result.output
            assert "a build is using this cache" in result.output
    assert sorted(p.relative_to(cache) for p in cache.rglob("*")) == before
