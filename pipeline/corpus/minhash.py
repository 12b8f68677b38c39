"""MinHash signatures and LSH banding in numpy: datasketch's ``affine32`` scheme, value for
value, without its cost.

Why not datasketch itself: importing it pulls in scipy (0.85 s in every read worker and
again at the pairing barrier, the one stretch of a build nothing overlaps), and its
``update_batch`` calls the hash function once per shingle in Python. The definitions
below are datasketch's (2.x): permutations drawn from ``numpy.random.RandomState(seed)``,
each id pre-mixed with the MurmurHash3 32-bit finaliser, then ``a * h + b`` modulo 2^32
with odd ``a``; the minimum per permutation. An LSH index over ``bands`` bands of
``rows`` values proposes as candidates the documents that agree on every value of at
least one band. ``tests/corpus/test_minhash.py`` checks both against datasketch.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np

_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (a bijection), element-wise on uint32."""
    s1, m1, s2, m2, s3 = (np.uint32(v) for v in _FMIX32)
    h = values.astype(np.uint32, copy=True)
    h ^= h >> s1
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s3
    return h


@functools.lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` of ``num_perm`` affine permutations, as datasketch draws them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def minhash(ids: np.ndarray, num_perm: int, seed: int, block: int = 4096) -> np.ndarray:
    """The MinHash of a set of 32-bit ids: ``num_perm`` uint32 minima (all 2^32-1 for no
    ids). Blocks of ``block`` ids bound the temporary ``ids x num_perm`` matrix."""
    a, b = permutations(num_perm, seed)
    out = np.full(num_perm, np.uint32(0xFFFFFFFF), dtype=np.uint32)
    mixed = fmix32(np.asarray(ids, dtype=np.uint32))
    with np.errstate(over="ignore"):
        for start in range(0, len(mixed), block):
            part = mixed[start : start + block, None] * a + b
            np.minimum(out, part.min(axis=0), out=out)
    return out


def band_buckets(values: np.ndarray, bands: int, rows: int) -> Iterator[list[int]]:
    """The LSH buckets of the rows of ``values`` (one signature per row): per band in
    order, the row indices that share the band's values, in first-seen order of the
    band's keys, each bucket ascending; buckets of one row are left out."""
    for band in range(bands):
        keys = np.ascontiguousarray(values[:, band * rows : (band + 1) * rows])
        buckets: dict[bytes, list[int]] = {}
        for row, key in enumerate(keys):
            buckets.setdefault(key.tobytes(), []).append(row)
        yield from (bucket for bucket in buckets.values() if len(bucket) > 1)
