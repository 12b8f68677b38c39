"""Nothing read back from the embedding cache is trusted (issue 18, defects 4 and 7): a
stored vector that is not finite, not of unit length or of the wrong size is a miss,
embedded again and counted; a cache file SQLite calls damaged is moved aside and the
build goes on with a new one. `cache info` reports both; `cache prune` removes them."""

from __future__ import annotations

import random
import shutil
import sqlite3
import struct
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import BuiltCorpus
from test_embed import HashEncoder

from pipeline.cli import main
from pipeline.embed import CACHE_FILE, CachedEncoder

TEXTS = [f"sentence {k}" for k in range(6)]


def _rows(path: Path) -> list[tuple[bytes, bytes]]:
    with closing(sqlite3.connect(path)) as db:
        return [(bytes(k), bytes(v)) for k, v in db.execute("SELECT key, vector FROM embeddings")]


def _set_vectors(path: Path, vectors: dict[bytes, bytes]) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.executemany(
            "UPDATE embeddings SET vector = ? WHERE key = ?", [(v, k) for k, v in vectors.items()]
        )


def test_bad_stored_vectors_are_misses_embedded_again(tmp_path: Path) -> None:
    expected = CachedEncoder(HashEncoder(), tmp_path).encode(TEXTS)
    keys = [key for key, _ in _rows(tmp_path / CACHE_FILE)][:4]
    nan = struct.pack("<8f", *([float("nan")] * 8))
    long = expected[0].astype("<f4").tobytes() * 2
    tiny = (expected[0] * 0.5).astype("<f4").tobytes()  # finite, right size, not a unit row
    inf = struct.pack("<8f", float("inf"), *([0.0] * 7))
    _set_vectors(tmp_path / CACHE_FILE, dict(zip(keys, [nan, long, tiny, inf], strict=True)))

    again = CachedEncoder(HashEncoder(), tmp_path)
    assert np.array_equal(again.encode(TEXTS), expected)
    assert (again.bad_vectors, again.texts_embedded) == (4, 4)
    repaired = CachedEncoder(HashEncoder(), tmp_path)
    assert np.array_equal(repaired.encode(TEXTS), expected)
    assert (repaired.bad_vectors, repaired.texts_embedded) == (0, 0)


def test_a_model_that_returns_nan_is_an_error(tmp_path: Path) -> None:
    from pipeline.embed import EncoderError

    class NanEncoder(HashEncoder):
        def encode(self, texts: list[str]) -> np.ndarray:
            return np.full((len(texts), 8), np.nan, dtype=np.float32)

    with pytest.raises(EncoderError, match="non-finite"):
        CachedEncoder(NanEncoder(), tmp_path).encode(TEXTS)
    assert _rows(tmp_path / CACHE_FILE) == []  # nothing stored


def _scribble(path: Path, *, from_page: int) -> None:
    """Random bytes over every page of an SQLite file from ``from_page`` (0: the header)."""
    data = bytearray(path.read_bytes())
    rng = random.Random(18)
    page = 4096
    for start in range(from_page * page, len(data), page):
        data[start : start + page] = rng.randbytes(min(page, len(data) - start))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("from_page", [0, 1])
def test_a_damaged_cache_file_is_moved_aside(tmp_path: Path, from_page: int) -> None:
    expected = CachedEncoder(HashEncoder(), tmp_path).encode(
        TEXTS * 50 + [f"t{k}" for k in range(400)]
    )
    _scribble(tmp_path / CACHE_FILE, from_page=from_page)
    encoder = CachedEncoder(HashEncoder(), tmp_path)
    vectors = encoder.encode(TEXTS * 50 + [f"t{k}" for k in range(400)])
    assert np.array_equal(vectors, expected)
    assert len(encoder.damaged) == 1 and encoder.damaged[0].name.startswith(
        f"{CACHE_FILE}.damaged-"
    )
    assert encoder.damaged[0].exists()
    fresh = CachedEncoder(HashEncoder(), tmp_path)
    fresh.encode(TEXTS)
    assert (fresh.texts_embedded, fresh.damaged) == (0, [])  # the new file serves


def _built_copy(tmp_path: Path, seed_corpus: BuiltCorpus) -> tuple[Path, Path]:
    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    shutil.rmtree(cache / "work")  # alignments must be made again, from the vectors
    return cache, tmp_path / "out"


def _build(raw: Path, out: Path, cache: Path):  # noqa: ANN202 - click's Result
    args = ["build", "--raw", str(raw), "--out", str(out), "--cache", str(cache), "--workers", "1"]
    return CliRunner().invoke(main, args)


def test_nan_vectors_in_the_cache_never_reach_the_corpus(
    tmp_path: Path, seed_corpus: BuiltCorpus
) -> None:
    cache, out = _built_copy(tmp_path, seed_corpus)
    sqlite_path = cache / "embed" / CACHE_FILE
    rows = _rows(sqlite_path)
    nan = struct.pack("<f", float("nan")) * 512  # the right size for use-m
    _set_vectors(sqlite_path, {key: nan for key, _ in rows})

    info = CliRunner().invoke(main, ["cache", "info", "--cache", str(cache)])
    assert info.exit_code == 0, info.output
    assert f"embeddings  {len(rows)} vectors ({len(rows)} damaged)" in info.output

    result = _build(seed_corpus.raw, out, cache)
    assert result.exit_code == 0, result.output
    assert "stored vectors were not finite unit vectors" in result.output
    import json

    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    embed = next(s for s in stats["stages"] if s["name"] == "embed")
    assert embed["counters"]["bad_cache_vectors"] > 0
    for table in ("en-zh", "en-zh-paragraphs"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / table), pd.read_parquet(seed_corpus.out / table)
        )


def test_a_damaged_sqlite_file_neither_stops_the_build_nor_cache_info(
    tmp_path: Path, seed_corpus: BuiltCorpus
) -> None:
    cache, out = _built_copy(tmp_path, seed_corpus)
    _scribble(cache / "embed" / CACHE_FILE, from_page=1)

    info = CliRunner().invoke(main, ["cache", "info", "--cache", str(cache)])
    assert info.exit_code == 0, info.output
    assert "embeddings  damaged (database disk image is malformed)" in info.output
    assert "Traceback" not in info.output

    result = _build(seed_corpus.raw, out, cache)
    assert result.exit_code == 0, result.output
    assert f"embedding cache {cache / 'embed' / CACHE_FILE} is damaged" in result.output
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "en-zh"), pd.read_parquet(seed_corpus.out / "en-zh")
    )
    info = CliRunner().invoke(main, ["cache", "info", "--cache", str(cache)])
    assert "1 damaged cache files moved aside by builds" in info.output
    pruned = CliRunner().invoke(main, ["cache", "prune", "--cache", str(cache)])
    assert pruned.exit_code == 0 and "1 damaged embedding caches" in pruned.output
    assert not list((cache / "embed").glob("*.damaged-*"))
