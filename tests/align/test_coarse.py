"""The coarse path as an explicit value (pipeline.align.search.CoarsePath): passing it gives
the same alignment, a path for other inputs is refused, and align_texts computes it once
for its two passes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.align import AlignParams, align_embeddings, align_texts, search
from pipeline.align.overlaps import plan_alignment, planned_overlaps, single_texts
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
    first = single_texts(en, zh)
    vectors = dict(zip(first, encoder.encode(first), strict=True))
    plan = plan_alignment(en, zh, vectors, params)
    overlaps = plan.overlap_texts()
    vectors.update(zip(overlaps, encoder.encode(overlaps), strict=True))
    (src_ov, tgt_ov), lengths = planned_overlaps(plan, vectors)
    assert plan.coarse is not None
    assert coarse_path(src_ov, tgt_ov, *lengths, params) == plan.coarse


_LOADED = """
import json, sys
import pipeline.align.kernels as c, pipeline.align.kernels as k
if sys.argv[1] == "warm-up":
    from pipeline.align.search import load_kernels
    load_kernels()
else:
    from pipeline.align.document import align_pair
    from pipeline.records import DocumentPair
    from pipeline.embed import load_encoder
    from pipeline.extract import extract_file
    en, zh = extract_file(sys.argv[2]), extract_file(sys.argv[3])
    align_pair(DocumentPair(en.symbol, en, zh), load_encoder("use-m"))
print(json.dumps(sorted(
    f"{m.__name__}.{n}" for m in (c, k) for n in dir(m)
    if getattr(getattr(m, n), "signatures", None)
)))
"""


def test_load_kernels_loads_every_kernel_a_document_alignment_calls() -> None:
    """A Ray align worker warms up with load_kernels; each fresh process below sees which
    compiled kernels have been called (loaded) afterwards."""
    import json
    import subprocess
    import sys

    raw = Path(__file__).resolve().parents[2] / "data" / "raw"

    def loaded(*args: str) -> set[str]:
        out = subprocess.run(
            [sys.executable, "-c", _LOADED, *args], capture_output=True, text=True, check=True
        ).stdout
        return set(json.loads(out.strip().splitlines()[-1]))

    real = loaded(
        "align", str(raw / "002_69ed3383ef6f2041.txt"), str(raw / "003_df19238bedd244e2.txt")
    )
    assert "pipeline.align.kernels._dp_band_kernel" in real
    assert real <= loaded("warm-up")
