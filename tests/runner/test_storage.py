"""Storage locations (issue 11): local paths, file:// URIs and fsspec URIs read and write
the same way; the embedding cache is never put on a network file system."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.runner import BuildError, BuildOptions, build_corpus
from pipeline.runner.storage import Location, StorageError, location, mount_type, on_network_fs

MOUNTS = """\
/dev/sda1 / ext4 rw 0 0
server:/export /mnt/shared nfs4 rw 0 0
/dev/sdb1 /mnt/shared/local ext4 rw 0 0
tmpfs /tmp tmpfs rw 0 0
"""


def test_paths_and_file_uris_are_the_same_local_location(tmp_path: Path) -> None:
    assert location(tmp_path).local == tmp_path
    assert location(f"file://{tmp_path}").local == tmp_path
    assert location(f"file://{tmp_path}").child("a", "b.txt").local == tmp_path / "a" / "b.txt"
    assert location(tmp_path / "out").sibling(".out.tmp-1").local == tmp_path / ".out.tmp-1"


def test_files_listed_by_name_hidden_and_folders_skipped(tmp_path: Path) -> None:
    for name in ("b.txt", "a.html", ".gitkeep"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    names = [f.name for f in location(f"file://{tmp_path}").list_files()]
    assert names == ["a.html", "b.txt"]
    with pytest.raises(StorageError, match="does not exist or is not a folder"):
        location(tmp_path / "missing").list_files()


def test_fsspec_uri_writes_reads_lists_and_deletes() -> None:
    """memory:// is an fsspec file system pyarrow does not know: the fallback path."""
    root = Location("memory://un-storage-test/out")
    root.child("en-zh", "train-00000-of-00001.parquet").write_bytes(b"shard")
    root.child("README.md").write_bytes(b"card")
    assert root.local is None and root.is_dir()
    assert root.child("en-zh", "train-00000-of-00001.parquet").read_bytes() == b"shard"
    assert [f.name for f in root.list_files()] == ["README.md"]
    with root.child("en-zh.tmx").open_output() as handle:
        handle.write(b"<tmx/>")
    assert root.child("en-zh.tmx").read_bytes() == b"<tmx/>"
    root.delete()
    assert not root.exists()


def test_local_engine_refuses_a_remote_out_with_one_clear_error(tmp_path: Path) -> None:
    options = BuildOptions(raw=tmp_path, out="memory://un-storage-test/corpus", workers=1)
    with pytest.raises(BuildError, match="--out is not a local folder; use --engine ray"):
        build_corpus(options)


def test_network_mounts_are_recognised_by_the_longest_mount_point() -> None:
    assert mount_type(Path("/mnt/shared/cache"), MOUNTS) == "nfs4"
    assert on_network_fs(Path("/mnt/shared/cache/embed"), MOUNTS)
    assert not on_network_fs(Path("/mnt/shared/local/embed"), MOUNTS)  # ext4 inside nfs
    assert not on_network_fs(Path("/tmp/cache"), MOUNTS)
    assert not on_network_fs(Path("/mnt/sharedx"), MOUNTS)  # a prefix, not a parent


def test_embedding_cache_on_a_network_mount_is_refused(tmp_path: Path) -> None:
    """The Ray actor's cache folder check, on this machine's real mount table: the
    test's own folder is local, so it is accepted; /proc/mounts lists an NFS mount
    only where one exists, so the refusal is checked through the table above."""
    from pipeline.runner.configs import StageConfigs
    from pipeline.runner.ray import embed_cache_dir

    options = BuildOptions(
        raw=tmp_path, out=tmp_path / "out", cache=tmp_path / "cache", engine="ray"
    )
    assert embed_cache_dir(StageConfigs.from_options(options).embed) == tmp_path / "cache" / "embed"
    options.embed_cache_dir = tmp_path / "node-local"
    assert embed_cache_dir(StageConfigs.from_options(options).embed) == tmp_path / "node-local"
    options.embed_cache = False
    assert embed_cache_dir(StageConfigs.from_options(options).embed) is None
