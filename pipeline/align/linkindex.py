"""The lexical link test of a whole band at once (``SentenceEvidence.links``).

Why: a link is "keys of x meet units of y", one Python set operation per band cell, and a
band has tens of thousands of cells; that loop was a fifth of the aligner's own time on
a 2,400-sentence chapter pair. Here each side's sets become rows of sorted integer ids,
once per document, and a compiled loop (pipeline.align.kernels.links_kernel) tests them.
A unit no key of the other side has can never make a link, so it is dropped (the
answers are unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from pipeline.align.kernels import links_kernel, sort_segments


def _csr(
    sets: Sequence[set[str]], shared: set[str], ids: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Row pointers and sorted ids of each set's tokens among ``shared`` (those in ids)."""
    rows = [sorted([ids[t] for t in s & shared]) for s in sets]
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    flat = [i for r in rows for i in r]
    return ptr, np.array(flat, dtype=np.int64)


def _hashed(sets: Sequence[set[str]], shared: set[str] | None) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`_csr` with each token's hash as its id (no lookup per token); all the
    tokens when ``shared`` is None."""
    rows = sets if shared is None else [s & shared for s in sets]
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    flat = np.fromiter(map(hash, chain.from_iterable(rows)), dtype=np.int64, count=int(ptr[-1]))
    sort_segments(flat, ptr)
    return ptr, flat


def _pair(keys: Sequence[set[str]], units: Sequence[set[str]]) -> tuple[np.ndarray, ...]:
    """CSR rows of ``keys`` and ``units`` over the tokens they can share.

    The ids are the tokens' hashes (cached in each string): the units keep only the
    tokens some key has, the keys keep all theirs (the bigger sets: an English sentence's
    translations), which is exact as long as no two keys hash alike. Where two do, the
    tokens are numbered from a table instead."""
    all_keys = set().union(*keys)
    shared = all_keys & set().union(*units)
    if len(set(map(hash, all_keys))) == len(all_keys):
        return (*_hashed(keys, None), *_hashed(units, shared))
    ids = {t: i for i, t in enumerate(sorted(shared))}
    return (*_csr(keys, shared, ids), *_csr(units, shared, ids))


@dataclass(frozen=True)
class LinkIndex:
    """src keys vs tgt units, and tgt keys vs src units, as CSR rows of token ids."""

    sk_ptr: np.ndarray
    sk_idx: np.ndarray
    tu_ptr: np.ndarray
    tu_idx: np.ndarray
    tk_ptr: np.ndarray
    tk_idx: np.ndarray
    su_ptr: np.ndarray
    su_idx: np.ndarray

    @classmethod
    def build(
        cls,
        src_keys: Sequence[set[str]],
        src_units: Sequence[set[str]],
        tgt_keys: Sequence[set[str]],
        tgt_units: Sequence[set[str]],
    ) -> LinkIndex:
        sk_ptr, sk_idx, tu_ptr, tu_idx = _pair(src_keys, tgt_units)
        tk_ptr, tk_idx, su_ptr, su_idx = _pair(tgt_keys, src_units)
        return cls(sk_ptr, sk_idx, tu_ptr, tu_idx, tk_ptr, tk_idx, su_ptr, su_idx)

    def links(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Boolean link of src sentence rows-1 with tgt sentence cols-1; False where
        either index is below 1 (the band's first row or column)."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        cols = np.ascontiguousarray(cols, dtype=np.int64)
        if len(rows) != len(cols):
            raise ValueError(f"rows and cols differ in length ({len(rows)} != {len(cols)})")
        n, m = len(self.sk_ptr) - 1, len(self.tk_ptr) - 1
        if len(rows) and (rows.max() > n or cols.max() > m):
            raise IndexError(f"cell beyond the {n} x {m} sentences of the evidence")
        return links_kernel(
            rows,
            cols,
            self.sk_ptr,
            self.sk_idx,
            self.tu_ptr,
            self.tu_idx,
            self.tk_ptr,
            self.tk_idx,
            self.su_ptr,
            self.su_idx,
        )
