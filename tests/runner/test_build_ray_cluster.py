"""The Ray engine as a cluster: two Ray nodes on this machine (``ray.cluster_utils.
Cluster``), output given as a ``file://`` URI, and the corpus compared with the local
engine's: the same stage list placed elsewhere, and one writer, so every row of every
table, the Parquet files, TMX, Moses, report and card are byte for byte the same and so
is the manifest. A task worker killed mid-build is retried by Ray, an embedding actor
killed mid-build is restarted, and the build completes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import SEEDS, BuiltCorpus
from test_build_scaleout import kill_after_entries

from benchmarks.archive import write_archive
from pipeline.runner import BuildOptions, build_corpus

N_PAIRS = 6
CHUNK = 2
TABLES = ("en-zh", "en-zh-paragraphs", "rejects/en-zh", "rejects/en-zh-paragraphs")
SAME_BYTES = ("en-zh.tmx", "en-zh.en", "en-zh.zh", "report.html", "README.md")


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    """A head node and one worker node (1 + 2 logical CPUs: the embedding actor holds one)."""
    import ray
    from ray.cluster_utils import Cluster

    nodes = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False},
    )
    nodes.add_node(num_cpus=2)
    ray.init(address=nodes.address, log_to_driver=False)
    nodes.wait_for_nodes()
    yield nodes
    ray.shutdown()
    nodes.shutdown()


def assert_same_corpus(ours: Path, reference: Path) -> None:
    """Rows of every table equal, every file byte for byte, the manifest equal (but for
    the raw folder's name)."""
    for table in TABLES:
        mine = pd.read_parquet(ours / table)
        theirs = pd.read_parquet(reference / table)
        pd.testing.assert_frame_equal(mine, theirs, check_exact=True)
    for name in SAME_BYTES:
        assert (ours / name).read_bytes() == (reference / name).read_bytes(), name
    pages = sorted(p.name for p in (reference / "report").iterdir())
    assert pages and sorted(p.name for p in (ours / "report").iterdir()) == pages
    for name in pages:  # one report page per document, byte for byte
        assert (ours / "report" / name).read_bytes() == (reference / "report" / name).read_bytes()
    mine_m = json.loads((ours / "manifest.json").read_text(encoding="utf-8"))
    theirs_m = json.loads((reference / "manifest.json").read_text(encoding="utf-8"))
    parquet = sorted(p.relative_to(reference) for p in reference.rglob("*.parquet"))
    assert sorted(p.relative_to(ours) for p in ours.rglob("*.parquet")) == parquet
    for path in parquet:
        assert (ours / path).read_bytes() == (reference / path).read_bytes(), path
    mine_m["raw"] = theirs_m["raw"]
    assert mine_m == theirs_m


def test_seeds_on_two_nodes_with_a_uri_equal_the_local_build(
    cluster: object, seed_corpus: BuiltCorpus, tmp_path: Path
) -> None:
    import ray

    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    out = tmp_path / "out"
    result = build_corpus(
        BuildOptions(
            raw=seed_corpus.raw, out=f"file://{out}", cache=tmp_path / "cache", engine="ray"
        )
    )
    assert result.stats["engine"] == "ray" and result.out == out
    assert result.manifest["documents"]["paired_symbols"] >= 1
    assert len(result.manifest["documents"]["rejected"]) == 2  # the two bad files
    assert_same_corpus(out, seed_corpus.out)
    assert not list(tmp_path.glob(".out.tmp-*"))  # temporary output swapped in
    assert not (out / "_spool").exists()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("ray-archive") / "raw"
    write_archive(SEEDS, raw, N_PAIRS, seed=5)
    return raw


@pytest.fixture(scope="module")
def reference(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("ray-reference")
    build_corpus(
        BuildOptions(
            raw=archive, out=base / "out", cache=base / "cache", workers=1, chunk_pairs=CHUNK
        )
    )
    return base / "out"


def test_archive_on_two_nodes_equals_the_local_build(
    cluster: object, archive: Path, reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = build_corpus(
        BuildOptions(
            raw=f"file://{archive}",
            out=f"file://{out}",
            cache=tmp_path / "cache",
            engine="ray",
            chunk_pairs=CHUNK,
        )
    )
    assert result.stats["aligned_pairs"] == N_PAIRS
    shards = sorted(p.name for p in (out / "en-zh").iterdir())
    # the one writer's files: one per split (an empty one for a split without rows)
    assert shards == sorted(p.name for p in (reference / "en-zh").iterdir())
    files = result.manifest["files"]["sentences"]["files"]
    assert [f["path"] for f in files] == [f"en-zh/{name}" for name in shards]
    assert sum(f["rows"] for f in files) == result.manifest["files"]["sentences"]["rows"]
    overlap = result.stats["overlap"]
    assert overlap["embed_s"] > 0 and overlap["align_s"] > 0
    assert_same_corpus(out, reference)

    again = build_corpus(  # resume/rebuild: every pair from the work cache, same corpus
        BuildOptions(
            raw=archive, out=out, cache=tmp_path / "cache", engine="ray", chunk_pairs=CHUNK
        )
    )
    assert again.stats["cached_pairs"] == N_PAIRS and again.stats["aligned_pairs"] == 0
    assert again.stats["texts_embedded"] == 0
    assert_same_corpus(out, reference)


def _task_pids(title: str) -> list[int]:
    """Processes whose title (Ray sets ``ray::<task>`` while a task runs) starts so."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith(title):
            pids.append(int(entry.name))
    return pids


def build_killing_one(title: str, archive: Path, out: Path, cache: Path) -> tuple[Any, list[int]]:
    """A Ray build of ``archive`` during which the first process whose title starts with
    ``title`` is sent SIGKILL; returns the build's result and the pids killed."""
    killed: list[int] = []
    done = threading.Event()

    def kill_one() -> None:
        while not done.is_set() and not killed:
            for pid in _task_pids(title):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=kill_one, daemon=True)
    watcher.start()
    try:
        result = build_corpus(
            BuildOptions(raw=archive, out=out, cache=cache, engine="ray", chunk_pairs=CHUNK)
        )
    finally:
        done.set()
        watcher.join()
    return result, killed


def test_a_worker_killed_mid_build_is_retried_and_the_build_completes(
    cluster: object, archive: Path, reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    # a read, segment or align-and-decide task
    result, killed = build_killing_one("ray::_task", archive, out, tmp_path / "cache")
    assert killed, "no task was running to kill"
    assert result.stats["aligned_pairs"] + result.stats["cached_pairs"] == N_PAIRS
    assert_same_corpus(out, reference)


def test_an_embedding_actor_killed_mid_build_is_restarted_and_the_build_completes(
    cluster: object, archive: Path, reference: Path, tmp_path: Path
) -> None:
    """The actor holding the encoder dies while it embeds a chunk: Ray starts it again
    (the stage unpickled and prepared anew) and runs the lost call again, and the corpus
    is the local build's."""
    out = tmp_path / "out"
    # the actor while it runs a call (its title names the method)
    result, killed = build_killing_one("ray::_Actor.run", archive, out, tmp_path / "cache")
    assert killed, "no embedding call was running to kill"
    assert result.stats["aligned_pairs"] == N_PAIRS
    assert_same_corpus(out, reference)


def test_a_killed_ray_build_resumes_where_it_stopped(
    cluster: object, archive: Path, reference: Path, tmp_path: Path
) -> None:
    """The CLI, joined to the cluster, killed (SIGKILL) once pairs are finished: the
    corpus is untouched, and the same command again aligns only what was left."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    command = [sys.executable, "-m", "pipeline", "build", "--raw", str(archive)]
    command += ["--out", f"file://{out}", "--cache", str(cache), "--engine", "ray"]
    command += ["--address", cluster.address, "--chunk-pairs", str(CHUNK)]  # type: ignore[attr-defined]
    done = kill_after_entries(command, cache / "work", 2)
    assert 2 <= done and not out.exists()
    resumed = build_corpus(
        BuildOptions(raw=archive, out=out, cache=cache, engine="ray", chunk_pairs=CHUNK)
    )
    assert resumed.stats["cached_pairs"] >= done
    assert resumed.stats["aligned_pairs"] + resumed.stats["cached_pairs"] == N_PAIRS
    assert_same_corpus(out, reference)


def test_fsspec_uris_take_the_object_store_path(
    cluster: object, seed_corpus: BuiltCorpus, tmp_path: Path
) -> None:
    """``simplecache::file://`` is a URI pyarrow does not know, so fsspec serves it, as it
    would ``gs://`` or ``abfs://``, with object-store semantics (a file is published when
    its upload closes): raw files are copied to the workers, shards, pages and assembled
    files are written through streams, and the output is copied into place. All nodes
    see it, as they would see a bucket."""
    from pipeline.runner.storage import location

    out = tmp_path / "out"
    raw_uri = f"simplecache::file://{seed_corpus.raw}"
    out_uri = f"simplecache::file://{out}"
    assert location(raw_uri).local is None and location(out_uri).local is None
    build_corpus(BuildOptions(raw=raw_uri, out=out_uri, cache=tmp_path / "cache", engine="ray"))
    assert_same_corpus(out, seed_corpus.out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out"]  # no temporary


# --- issue 18: the same safety on Ray (shared code: pairing, refusal, cache checks) -----


def test_ray_reports_a_conflict_as_the_local_build_does(cluster: object, tmp_path: Path) -> None:
    from test_build_duplicates import _archive_with_impostor

    raw = _archive_with_impostor(tmp_path)
    local = build_corpus(BuildOptions(raw=raw, out=tmp_path / "local", cache=tmp_path / "c1"))
    on_ray = build_corpus(
        BuildOptions(raw=raw, out=f"file://{tmp_path / 'ray'}", cache=tmp_path / "c2", engine="ray")
    )
    for key in ("conflicts", "paired", "unpaired", "rejected", "skipped"):
        assert on_ray.manifest["documents"][key] == local.manifest["documents"][key], key
    assert on_ray.manifest["documents"]["conflicts"][0]["symbol"] == "A/RES/75/58"


def test_ray_refuses_an_empty_result_and_keeps_the_corpus(
    cluster: object, seed_corpus: BuiltCorpus, tmp_path: Path
) -> None:
    import shutil

    from test_build_scaleout import corpus_bytes

    from pipeline.runner import BuildError

    out = tmp_path / "out"
    shutil.copytree(seed_corpus.out, out)
    before = corpus_bytes(out)
    (tmp_path / "raw").mkdir()
    options = BuildOptions(raw=tmp_path / "raw", out=out, cache=tmp_path / "cache", engine="ray")
    with pytest.raises(BuildError, match="no document pair to write"):
        build_corpus(options)
    assert corpus_bytes(out) == before


def test_ray_checks_what_it_reads_back_from_both_caches(
    cluster: object, seed_corpus: BuiltCorpus, tmp_path: Path
) -> None:
    import shutil
    import sqlite3
    import struct
    from contextlib import closing

    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    nan = struct.pack("<f", float("nan")) * 512
    with closing(sqlite3.connect(cache / "embed" / "embeddings.sqlite3")) as db, db:
        db.execute("UPDATE embeddings SET vector = ?", (nan,))
    (entry,) = (cache / "work").glob("[!.]*.npy")
    entry.write_bytes(entry.read_bytes()[:100])
    out = tmp_path / "out"
    result = build_corpus(BuildOptions(raw=seed_corpus.raw, out=out, cache=cache, engine="ray"))
    stages = {s["name"]: s for s in result.stats["stages"]}
    assert stages["segment"]["counters"]["bad_work_entries"] == 1
    assert stages["embed"]["counters"]["bad_cache_vectors"] > 0
    assert (result.stats["aligned_pairs"], result.stats["cached_pairs"]) == (1, 0)
    for table in TABLES:
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / table), pd.read_parquet(seed_corpus.out / table)
        )


def test_a_multi_lineage_archive_on_two_nodes_equals_the_local_build(
    cluster: object, tmp_path: Path
) -> None:
    """Rows in all three splits, rows seen in train, chunks holding pairs of different
    splits and the dedup export: the Ray build's shards and finalize pass give the
    local build's corpus."""
    from test_build_splits import RATIOS, archive_raw

    raw = archive_raw(tmp_path / "raw", decision=True)
    outs = {}
    for engine in ("local", "ray"):
        out = tmp_path / f"out-{engine}"
        build_corpus(
            BuildOptions(
                raw=raw,
                out=out,
                cache=tmp_path / "cache",
                engine=engine,
                workers=1,
                chunk_pairs=CHUNK,
                split=RATIOS,
                export_dedup=True,
            )
        )
        outs[engine] = out
    assert_same_corpus(outs["ray"], outs["local"])
    sentences = pd.read_parquet(outs["ray"] / "en-zh")
    assert set(sentences["split"]) == {"train", "validation", "test"}
    assert sentences["seen_in_train"].any()
    for name in sorted(p.name for p in (outs["local"] / "dedup").iterdir()):
        mine, theirs = (outs[e] / "dedup" / name for e in ("ray", "local"))
        assert mine.read_bytes() == theirs.read_bytes(), name


def test_a_60_pair_archive_on_ray_equals_the_local_pool(
    cluster: object, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same stage classes under both engines: 60 pairs through the local pool (2
    workers, default chunks) and through Ray on two nodes give the same rows and files.
    The Ray run starts from the local run's embedding cache (vectors are the same either
    way; the vectors' own equality is the seeds test above) and aligns every pair."""
    base = tmp_path_factory.mktemp("ray-60")
    raw = base / "raw"
    write_archive(SEEDS, raw, 60, seed=11)
    local = build_corpus(
        BuildOptions(raw=raw, out=base / "local", cache=base / "local-cache", workers=2)
    )
    assert local.stats["aligned_pairs"] == 60
    (base / "ray-cache").mkdir()
    shutil.copytree(base / "local-cache" / "embed", base / "ray-cache" / "embed")
    on_ray = build_corpus(
        BuildOptions(raw=raw, out=base / "ray", cache=base / "ray-cache", engine="ray")
    )
    assert on_ray.stats["aligned_pairs"] == 60 and on_ray.stats["texts_embedded"] == 0
    assert_same_corpus(base / "ray", base / "local")
