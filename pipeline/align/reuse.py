"""The coarse path of the last document aligned, kept for the next call on the same one.

Why: ``align_texts`` aligns each document twice, a first pass over summed overlaps that
chooses which runs to embed (pipeline.align.overlaps) and the final one. The coarse
levels of both are built from the single-sentence vectors alone, which the two passes
share, so the second computation was the first one again (about a tenth of the aligner's
own time on a 2,400-sentence pair). The memo compares its inputs in full, so it returns
only what the computation would: any other document, shape, length or setting computes
afresh. One entry per thread (the build's worker threads align different documents),
and none for inputs over MAX_KEPT_BYTES.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
_LOCAL = threading.local()
#: Inputs bigger than this (bytes of vectors and lengths) are not kept: the copies would
#: add to the peak memory of a long document (issue 9: a 50k-sentence pair < 2 GB), where
#: the coarse levels are a small part of the time anyway.
MAX_KEPT_BYTES = 32 << 20


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not (
                isinstance(x, np.ndarray)
                and isinstance(y, np.ndarray)
                and x.dtype == y.dtype
                and x.shape == y.shape
                and np.array_equal(x, y)
            ):
                return False
        elif x != y:
            return False
    return True


def coarse_memo(
    compute: Callable[[], T],
    singles: tuple[np.ndarray, np.ndarray],
    lengths: tuple[np.ndarray, np.ndarray],
    max_overlap: int,
    ratio: float,
    params: Any,
) -> T:
    """``compute()``, or its result from the last call of this thread when every input
    is equal: the single-sentence vectors of both sides, their lengths, the number of
    overlap levels, the length ratio and the settings (the refinement passes aside, which
    the coarse levels do not use)."""
    key = (
        *singles,
        *lengths,
        max_overlap,
        float(ratio),
        replace(params, refine_passes=0),
    )
    last = getattr(_LOCAL, "last", None)
    if last is not None and _same(last[0], key):
        return last[1]
    _LOCAL.last = None  # the previous entry's copies go before this computation
    result = compute()
    if sum(x.nbytes for x in key if isinstance(x, np.ndarray)) > MAX_KEPT_BYTES:
        return result
    copies = tuple(x.copy() if isinstance(x, np.ndarray) else x for x in key)
    _LOCAL.last = (copies, result)
    return result
