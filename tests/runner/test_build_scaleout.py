"""Scale-out: the synthetic archive, and the same corpus from every worker count (the Ray
engine: ``test_build_ray_cluster.py``) and from a build that was killed and resumed
(issue 5). Counted, never timed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, SEEDS

from benchmarks.archive import file_names, make_pair, write_archive
from pipeline.extract import extract_folder
from pipeline.pair import pair_documents
from pipeline.runner import BuildOptions, build_corpus

N_PAIRS = 10
CHUNK = 2  # small chunks: several embedding calls even on a small archive


def corpus_bytes(out: Path) -> dict[str, bytes]:
    """Every file of a corpus folder except stats.json (timings), by relative path."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "stats.json"
    }


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("archive") / "raw"
    write_archive(SEEDS, raw, N_PAIRS, seed=3)
    return raw


@pytest.fixture(scope="module")
def reference(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive built in this process (--workers 1), cold caches."""
    base = tmp_path_factory.mktemp("reference")
    options = BuildOptions(
        raw=archive, out=base / "out", cache=base / "cache", workers=1, chunk_pairs=CHUNK
    )
    result = build_corpus(options)
    assert result.stats["aligned_pairs"] == N_PAIRS
    return base / "out"


def test_archive_extracts_and_pairs_to_n_pairs(tmp_path: Path) -> None:
    symbols = write_archive(SEEDS, tmp_path, 27, seed=1)
    assert len(set(symbols)) == 27
    extracted = extract_folder(tmp_path)
    assert extracted.rejected == []
    pairing = pair_documents(extracted.documents)
    assert sorted(p.symbol for p in pairing.pairs) == sorted(symbols)
    assert pairing.unpaired == [] and pairing.rejected == []
    for doc in extracted.documents:  # header session agrees with the symbol
        assert doc.metadata.session == int(doc.symbol.split("/")[2])


def test_archive_symbol_survives_the_recalled_resolution(tmp_path: Path) -> None:
    """Pair 382 is A/RES/74/43, the number the seed recalls: renamed once, not twice."""
    en = (SEEDS / "002_69ed3383ef6f2041.txt").read_text(encoding="utf-8")
    zh = (SEEDS / "003_df19238bedd244e2.txt").read_text(encoding="utf-8")
    pair = make_pair(en, zh, 382)
    assert pair.symbol == "A/RES/74/43"
    for name, text in (("a.en.txt", pair.en), ("a.zh.txt", pair.zh)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert {d.symbol for d in extract_folder(tmp_path).documents} == {"A/RES/74/43"}


def test_archive_is_seeded_and_prefix_stable(tmp_path: Path) -> None:
    en = (SEEDS / "002_69ed3383ef6f2041.txt").read_text(encoding="utf-8")
    zh = (SEEDS / "003_df19238bedd244e2.txt").read_text(encoding="utf-8")
    assert make_pair(en, zh, 5, seed=2) == make_pair(en, zh, 5, seed=2)
    assert make_pair(en, zh, 5, seed=2) != make_pair(en, zh, 5, seed=3)
    small, large = tmp_path / "small", tmp_path / "large"
    write_archive(SEEDS, small, 4)
    write_archive(SEEDS, large, 9)
    for k in range(4):
        for name in file_names(k):
            assert (small / name).read_bytes() == (large / name).read_bytes()
    # perturbations really happen: footnotes dropped and added, an omission somewhere
    notes = [n for k in range(40) for n in make_pair(en, zh, k).notes]
    assert any("dropped" in n and "footnote" in n for n in notes)
    assert any("added" in n for n in notes)
    assert any("preambular paragraph dropped" in n for n in notes)


def _model_processes() -> set[int]:
    """This process's children that run the model (``pipeline.embed.process``)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if (
            int(fields[1]) == os.getpid()
            and fields[0] != "Z"
            and b"pipeline.embed.process" in cmdline
        ):
            found.add(int(entry))
    return found


def test_two_workers_write_the_same_corpus_as_one(
    archive: Path, reference: Path, tmp_path: Path
) -> None:
    """The pool engine runs the model in a child process of its own (the reference ran
    it in this process): the same corpus byte for byte, and no model process left once
    the build returns."""
    import threading

    seen: set[int] = set()
    building = threading.Event()
    building.set()

    def watch() -> None:
        while building.is_set():
            seen.update(_model_processes())
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    options = BuildOptions(
        raw=archive, out=tmp_path / "out", cache=tmp_path / "cache", workers=2, chunk_pairs=CHUNK
    )
    try:
        result = build_corpus(options)
    finally:
        building.clear()
        watcher.join()
    assert result.stats["workers"] == 2 and result.stats["aligned_pairs"] == N_PAIRS
    assert corpus_bytes(tmp_path / "out") == corpus_bytes(reference)
    assert len(seen) == 1 and _model_processes() == set()


def test_spawned_workers_write_the_same_corpus(
    archive: Path, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the platform has no fork server the pool spawns its workers, each warming
    on its first items: same corpus."""
    import multiprocessing

    from pipeline.runner import pool

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert pool.worker_context().get_start_method() == "spawn"
    options = BuildOptions(
        raw=archive, out=tmp_path / "out", cache=tmp_path / "cache", workers=2, chunk_pairs=CHUNK
    )
    build_corpus(options)
    assert corpus_bytes(tmp_path / "out") == corpus_bytes(reference)


def finished_entries(work: Path) -> int:
    """Work-cache entries whose completion marker is in place. A pair being written when
    the build was killed leaves a hidden temporary (``.<key>.<pid>.json``), which
    pathlib's glob matches too; it is not a finished pair."""
    return sum(1 for p in work.glob("*.json") if not p.name.startswith("."))


def kill_after_entries(command: list[str], work: Path, entries: int) -> int:
    """Run a build ``command``, SIGKILL it once ``entries`` pairs are finished in its work
    cache ``work``; return how many were finished when it died."""
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    try:
        while finished_entries(work) < entries:
            assert proc.poll() is None, "the build ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    return finished_entries(work)


def test_killed_build_resumes_where_it_stopped(
    archive: Path, reference: Path, tmp_path: Path
) -> None:
    out, cache = tmp_path / "out", tmp_path / "cache"
    command = [sys.executable, "-m", "pipeline", "build", "--raw", str(archive)]
    command += ["--out", str(out), "--cache", str(cache), "--workers", "1"]
    command += ["--chunk-pairs", str(CHUNK)]
    done = kill_after_entries(command, cache / "work", 3)
    assert 3 <= done < N_PAIRS
    assert not out.exists()  # nothing half-written where the corpus goes

    resumed = build_corpus(
        BuildOptions(raw=archive, out=out, cache=cache, workers=2, chunk_pairs=CHUNK)
    )
    assert resumed.stats["cached_pairs"] == done
    assert resumed.stats["aligned_pairs"] == N_PAIRS - done
    assert corpus_bytes(out) == corpus_bytes(reference)


def test_a_streamed_plan_is_the_plan_after_the_call(archive: Path, tmp_path: Path) -> None:
    """The embed stage plans each pair as soon as its sentences' vectors arrive
    (``stream``, where the model has a process of its own): the same vectors, plans and
    matrices as planning after the whole call."""
    import numpy as np

    from pipeline.embed import load_encoder
    from pipeline.runner.configs import StageConfigs
    from pipeline.runner.stages.embed import plan_chunk

    pairs = pair_documents(extract_folder(archive).documents).pairs[:4]
    params = StageConfigs.from_options(BuildOptions(raw=archive, out=tmp_path)).embed.params
    results = []
    for stream, folder in ((False, "after"), (True, "streamed")):
        encoder = load_encoder("use-m", cache_dir=tmp_path / folder, process=stream)
        try:
            results.append(plan_chunk(pairs, [True] * 4, encoder, params, stream=stream))
        finally:
            encoder.close()  # type: ignore[attr-defined]
    (after, counts_after), (streamed, counts_streamed) = results
    assert counts_after == counts_streamed and counts_after.embedded > 128
    for a, b in zip(after, streamed, strict=True):
        assert a.plan is not None and b.plan is not None
        assert a.plan.overlap_texts() == b.plan.overlap_texts() and a.texts == b.texts
        assert np.array_equal(a.matrix, b.matrix)
