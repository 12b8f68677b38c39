"""The coarse path as an explicit value (pipeline.align.search.CoarsePath): passing it gives
the same alignment, a path for other inputs is refused, and align_texts computes it once
for its two passes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.align import AlignParams, align_embeddings, align_texts, search
from pipeline.align.overlaps import embed_open_overlaps
from pipeline.align.search import coarse_path
from pipeline.embed import load_encoder

GOLD = Path(__file__).resolve().parents[1] / "gold" / "general"


def _pair(n: int, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A synthetic pair long enough for the coarse levels: tgt is src with noise, one
    sentence dropped; overlap arrays of 2 levels."""
    rng = np.random.default_rng(seed)
    src1 = rng.normal(size=(n, 16)).astype(np.float32)
    tgt1 = np.delete(src1, n // 2, axis=0)[:m] + 0.3 * rng.normal(size=(m, 16)).astype(np.float32)
    src1 /= np.linalg.norm(src1, axis=1, keepdims=True)
    tgt1 /= np.linalg.norm(tgt1, axis=1, keepdims=True)

    def levels(x: np.ndarray) -> np.ndarray:
        two = x + np.roll(x, -1, axis=0)
        return np.stack([x, two / np.linalg.norm(two, axis=1, keepdims=True)])

    return levels(src1), levels(tgt1), rng.uniform(20, 80, n), rng.uniform(20, 80, m)


def test_a_given_coarse_path_gives_the_same_beads() -> None:
    params = AlignParams(max_coarse_cells=400)  # 60 x 59 needs two halvings
    src, tgt, ls, lt = _pair(60, 59)
    coarse = coarse_path(src, tgt, ls, lt, params)
    assert coarse.path is not None and coarse.cells > 0
    plain = align_embeddings(src, tgt, ls, lt, params)
    given = align_embeddings(src, tgt, ls, lt, params, coarse=coarse)
    assert [(b.src, b.tgt, b.score, b.margin) for b in given.beads] == [
        (b.src, b.tgt, b.score, b.margin) for b in plain.beads
    ]
    assert given.timings["coarse_cells"] == plain.timings["coarse_cells"] == coarse.cells


def test_a_coarse_path_for_other_inputs_is_refused() -> None:
    params = AlignParams(max_coarse_cells=400)
    src, tgt, ls, lt = _pair(60, 59)
    coarse = coarse_path(src, tgt, ls, lt, params)
    other_src, other_tgt, ols, olt = _pair(61, 59)
    with pytest.raises(ValueError, match="coarse path of a 60 x 59 pair"):
        align_embeddings(other_src, other_tgt, ols, olt, params, coarse=coarse)
    with pytest.raises(ValueError, match="2 overlap levels"):
        align_embeddings(src[:1], tgt[:1], ls, lt, params, coarse=coarse)
    with pytest.raises(ValueError, match="length ratio"):
        align_embeddings(src, tgt, ls * 2, lt, params, coarse=coarse)


def test_align_texts_computes_the_coarse_path_once(monkeypatch) -> None:  # noqa: ANN001
    """Its first pass (summed overlaps) and final pass (embedded overlaps) share the
    single-sentence vectors: one coarse search, and the same beads as two."""
    en = (GOLD / "en.txt").read_text(encoding="utf-8").splitlines()
    zh = (GOLD / "zh.txt").read_text(encoding="utf-8").splitlines()
    params = AlignParams(max_coarse_cells=200)  # the general gold is short: force levels
    encoder = load_encoder("use-m")
    calls: list[int] = []
    real = search._coarse_path

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(search, "_coarse_path", counted)
    assert align_texts(en, zh, encoder, params).timings["coarse_cells"] > 0
    assert len(calls) == 1
    # the final pass's own coarse search would find the first pass's path
    (src_ov, tgt_ov), _, _, coarse = embed_open_overlaps([en, zh], encoder, params)
    lengths = [len(s) for s in en], [len(s) for s in zh]
    assert coarse_path(src_ov, tgt_ov, *lengths, params) == coarse
