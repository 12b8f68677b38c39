"""Duplicate groups: rows whose English and Chinese read the same once folded.

Why: templated legal text repeats ("The General Assembly,", "Decides to remain seized
of the matter.", dates and meeting lines that differ only in numbers), and a renewed
resolution repeats most of its predecessor. Rows are kept and flagged, never dropped
by "first seen": ``dup_group`` names the group, the finalize pass
(``pipeline.corpus.finalize``) counts the group over the whole table (``dup_count``)
and flags validation and test rows whose group occurs in train (``seen_in_train``), as
OpusFilter's ``remove_duplicates`` with ``overlap`` does for test sets. An export keeps
the best-scoring row of each group.
"""

from __future__ import annotations

import hashlib

import numpy as np

from pipeline.text.fold import fold_text

#: Characters of ``dup_group``: 16 hex digits, a 64-bit hash (a collision among the
#: archive's ~4 million rows has odds of about 1 in 2 million).
GROUP_HEX = 16


def dup_group(en: str, zh: str) -> str:
    """The group of a row: sha256 of the folded English and Chinese (``fold_text``: case,
    width, accents, punctuation and digits folded), 16 hex digits."""
    key = f"{fold_text(en, 'en')}\x1f{fold_text(zh, 'zh')}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:GROUP_HEX]


def group_numbers(groups: list[str]) -> np.ndarray:
    """``dup_group`` strings as uint64 (the finalize pass counts numbers, not strings)."""
    if not groups:
        return np.zeros(0, dtype=np.uint64)
    return np.frombuffer(bytes.fromhex("".join(groups)), dtype=">u8").astype(np.uint64)
