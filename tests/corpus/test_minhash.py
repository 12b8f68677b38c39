"""pipeline.corpus.minhash gives datasketch's MinHash (affine32) and LSH candidates.

The lineage signatures and the manifest's "method" say datasketch's definitions; the
numpy code must keep giving its values, so every lineage and split stays as it was.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SEEDS
from datasketch import LeanMinHash, MinHash, MinHashLSH
from datasketch.lsh import _optimal_param

from pipeline.corpus.lineage import (
    LSH_BANDS,
    LSH_ROWS,
    LSH_WEIGHTS,
    MINHASH_SEED,
    NUM_PERM,
    TEXT_THRESHOLD,
    document_text,
    minhash_values,
    shingle_ids,
)
from pipeline.corpus.minhash import band_buckets, minhash, permutations
from pipeline.extract.document import extract_file


def _datasketch(ids: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    sketch = MinHash(num_perm=num_perm, seed=seed, hashfunc=lambda v: v, scheme="affine32")
    sketch.update_batch(ids)
    return sketch.hashvalues


@pytest.mark.parametrize("num_perm,seed", [(NUM_PERM, MINHASH_SEED), (128, 7), (16, 0)])
def test_permutations_are_datasketchs(num_perm: int, seed: int) -> None:
    a, b = permutations(num_perm, seed)
    drawn = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    assert np.array_equal(a, drawn[0]) and np.array_equal(b, drawn[1])


@pytest.mark.parametrize("size", [1, 10, 4095, 4096, 4097, 20_000])
def test_minhash_equals_datasketch(size: int) -> None:
    ids = np.random.RandomState(size).randint(0, 2**32, size, dtype=np.uint64).astype(np.uint32)
    assert np.array_equal(minhash(ids, NUM_PERM, MINHASH_SEED), _datasketch(ids, NUM_PERM, 1))


def test_the_seeds_signatures_equal_datasketchs() -> None:
    for path in sorted(SEEDS.iterdir()):
        document = extract_file(path)
        ids = shingle_ids(document_text(document), document.language)
        assert len(ids) > 100
        got = np.frombuffer(minhash_values(ids) or b"", dtype="<u4")
        assert np.array_equal(got, _datasketch(ids, NUM_PERM, MINHASH_SEED))


def test_bands_and_rows_are_what_datasketch_picks() -> None:
    assert _optimal_param(TEXT_THRESHOLD, NUM_PERM, *LSH_WEIGHTS) == (LSH_BANDS, LSH_ROWS)


def test_band_buckets_are_datasketchs_lsh_buckets() -> None:
    """Near-copies (a few values changed) and unrelated signatures: the same buckets, in
    the same order, as datasketch's index over the same bands."""
    rng = np.random.RandomState(0)
    base = rng.randint(0, 2**32, (6, NUM_PERM), dtype=np.uint64).astype(np.uint32)
    rows = []
    for k in range(60):
        row = base[k % 6].copy()
        changed = rng.choice(NUM_PERM, size=rng.randint(0, 40), replace=False)
        row[changed] = rng.randint(0, 2**32, len(changed), dtype=np.uint64)
        rows.append(row)
    values = np.stack(rows)
    index = MinHashLSH(threshold=TEXT_THRESHOLD, num_perm=NUM_PERM, weights=LSH_WEIGHTS)
    for k, row in enumerate(values):
        index.insert(k, LeanMinHash(seed=MINHASH_SEED, hashvalues=row, scheme="affine32"))
    expected = [
        sorted(table.get(key))
        for table in index.hashtables
        for key in table.keys()
        if len(table.get(key)) > 1
    ]
    assert expected  # the fixture makes collisions
    assert list(band_buckets(values, LSH_BANDS, LSH_ROWS)) == expected
