"""The lexical link test of a whole band at once (``SentenceEvidence.links``).

Why: a link is "keys of x meet units of y", one Python set operation per band cell, and a
band has tens of thousands of cells; that loop was a fifth of the aligner's own time on
a 2,400-sentence chapter pair. Here each side's keys and units are rows of sorted
integer ids, once per document, and a compiled loop (pipeline.align.kernels.links_kernel)
tests them. The zh-en evidence makes its ids from the compiled lexicon
(pipeline.align.lexical); :meth:`LinkIndex.build` numbers the tokens of any sets.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.align.kernels import links_kernel

Rows = tuple[np.ndarray, np.ndarray]  # CSR row pointers, then the sorted ids of each row


def csr_rows(n: int, width: int, *pairs: tuple[np.ndarray, np.ndarray]) -> Rows:
    """CSR rows of n sentences from (sentence, id) pairs (ids below ``width``), each row
    sorted and without duplicates."""
    sent = np.concatenate([p[0] for p in pairs])
    key = np.sort(sent * width + np.concatenate([p[1] for p in pairs]))
    if len(key):
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    ptr = np.searchsorted(key // width, np.arange(n + 1))
    return ptr.astype(np.int64), key % width


def numbered_pairs(
    sets: Sequence[set[Hashable]], ids: dict[Hashable, int], base: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(sentence, id) of every token of each sentence's set; a token's id is ``base`` +
    its number in ``ids`` (share ``ids`` between sides so a token has one id on both)."""
    sent = [s for s, tokens in enumerate(sets) for _ in tokens]
    tok = [ids.setdefault(t, base + len(ids)) for tokens in sets for t in tokens]
    return np.array(sent, dtype=np.int64), np.array(tok, dtype=np.int64)


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
        src_keys: Sequence[set[Hashable]],
        src_units: Sequence[set[Hashable]],
        tgt_keys: Sequence[set[Hashable]],
        tgt_units: Sequence[set[Hashable]],
    ) -> LinkIndex:
        """The index of per-sentence token sets (tokens of any hashable kind)."""
        ids: dict[Hashable, int] = {}
        sides = (src_keys, tgt_units, tgt_keys, src_units)
        pairs = [numbered_pairs(sets, ids) for sets in sides]
        width = max(1, len(ids))
        rows = [csr_rows(len(sets), width, p) for sets, p in zip(sides, pairs, strict=True)]
        return cls(*(x for row in rows for x in row))

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
