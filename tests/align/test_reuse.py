"""The coarse-path memo (pipeline.align.reuse): reused only for equal inputs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pipeline.align import AlignParams, reuse
from pipeline.align.reuse import coarse_memo


def test_memo_returns_the_last_result_only_for_equal_inputs() -> None:
    rng = np.random.default_rng(0)
    src, tgt = rng.normal(size=(5, 4)).astype(np.float32), rng.normal(size=(6, 4))
    lens = (np.arange(5.0), np.arange(6.0))
    params = AlignParams()
    calls: list[int] = []

    def compute() -> list[int]:
        calls.append(1)
        return [len(calls)]

    first = coarse_memo(compute, (src, tgt), lens, 4, 1.5, params)
    # equal inputs (other objects, other refinement passes): the same result, not computed
    again = coarse_memo(
        compute, (src.copy(), tgt.copy()), lens, 4, 1.5, replace(params, refine_passes=3)
    )
    assert again is first and len(calls) == 1
    changed = src.copy()
    changed[2, 1] += 1e-6
    for args in (
        ((changed, tgt), lens, 4, 1.5, params),
        ((src, tgt), (lens[0], lens[1] + 1), 4, 1.5, params),
        ((src, tgt), lens, 3, 1.5, params),
        ((src, tgt), lens, 4, 1.25, params),
        ((src, tgt), lens, 4, 1.5, replace(params, band_width=4)),
        ((src, tgt.astype(np.float32)), lens, 4, 1.5, params),
    ):
        before = len(calls)
        coarse_memo(compute, *args)
        assert len(calls) == before + 1, args
    # the memo holds copies: changing the caller's array afterwards does not fool it
    src2 = src.copy()
    coarse_memo(compute, (src2, tgt), lens, 4, 1.5, params)
    src2[0, 0] += 1.0
    before = len(calls)
    coarse_memo(compute, (src2, tgt), lens, 4, 1.5, params)
    assert len(calls) == before + 1


def test_memo_keeps_nothing_for_big_inputs(monkeypatch) -> None:  # noqa: ANN001
    """Over MAX_KEPT_BYTES the inputs are not copied (peak memory of long documents)."""
    monkeypatch.setattr(reuse, "MAX_KEPT_BYTES", 100)
    vecs = (np.zeros((10, 4), np.float32), np.zeros((12, 4), np.float32))
    lens = (np.ones(10), np.ones(12))
    calls: list[int] = []
    for _ in range(2):
        coarse_memo(lambda: calls.append(1), vecs, lens, 4, 1.0, AlignParams())
    assert len(calls) == 2
