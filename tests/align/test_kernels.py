"""The compiled kernels (pipeline.align.kernels) against the numpy code they replaced.

The numpy formulations below are the reference: the aligner's results were produced by
them, and the kernels must give the same bits (best score and back-pointer of every cell,
so the same path), ties and -inf cells included.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from pipeline.align import Band, bead_types, dp_band, make_band
from pipeline.align.kernels import _dp_band_kernel

NEG_INF = -np.inf


def reference_dp(
    scores: np.ndarray, band: Band, types: Sequence[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """The numpy dp_band (row by row, one fancy-index per row): best and back of every cell."""
    n = band.n
    n_types = len(types)
    skip01 = n_types - 1
    skip_score = float(scores[skip01, 0]) if band.size else 0.0
    from_above = [t for t in range(n_types) if types[t][0] > 0]
    a_arr = np.array([types[t][0] for t in from_above], dtype=np.int64)
    b_arr = np.array([types[t][1] for t in from_above], dtype=np.int64)
    ta = np.array(from_above, dtype=np.int64)
    best = np.full(band.size + 1, NEG_INF, dtype=np.float64)
    sentinel = band.size
    back = np.full(band.size, -1, dtype=np.int8)
    lo, width, offset = band.lo, band.width, band.offset
    ar = np.arange(int(width.max()))
    steps_all = ar * skip_score
    for i in range(n + 1):
        w = int(width[i])
        start = int(offset[i])
        if i == 0:
            cand = np.where(lo[0] + ar[:w] == 0, 0.0, NEG_INF)
            arg = np.full(w, -1, dtype=np.int64)
        else:
            prev = i - a_arr
            usable = prev >= 0
            pr = np.where(usable, prev, 0)
            pos = (lo[i] - lo[pr] - b_arr)[:, None] + ar[None, :w]
            valid = usable[:, None] & (pos >= 0) & (pos < width[pr][:, None])
            flat = np.where(valid, offset[pr][:, None] + pos, sentinel)
            vals = best[flat] + scores[ta[:, None], start + ar[None, :w]]
            k = np.argmax(vals, axis=0)
            cand = vals[k, ar[:w]]
            arg = ta[k]
        steps = steps_all[:w]
        row_best = np.maximum.accumulate(cand - steps) + steps
        best[start : start + w] = row_best
        back[start : start + w] = np.where(row_best > cand + 1e-12, skip01, arg)
    return best, back


def reference_path(
    scores: np.ndarray, band: Band, types: Sequence[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    best, back = reference_dp(scores, band, types)
    i, j = band.n, band.m
    if not np.isfinite(best[band.offset[i] + (j - band.lo[i])]):
        raise RuntimeError("alignment band does not connect start and end")
    path = []
    while i > 0 or j > 0:
        t = int(back[band.offset[i] + (j - band.lo[i])])
        path.append((i, j, t))
        a, b = types[t]
        i, j = i - a, j - b
    return path[::-1]


def random_band(rng: np.random.Generator, n: int, m: int) -> Band:
    """A monotone band of random width around a random staircase."""
    centre = np.sort(rng.integers(0, m + 1, size=n + 1))
    half = rng.integers(0, 4, size=n + 1)
    return make_band(centre - half, centre + half + rng.integers(0, 3), n, m)


def random_scores(
    rng: np.random.Generator, band: Band, types: list[tuple[int, int]], dtype: type
) -> np.ndarray:
    """Coarse values (many exact ties), some -inf cells, skips constant as in cell_scores."""
    scores = (rng.integers(-4, 5, size=(len(types), band.size)) / 4).astype(dtype)
    scores[rng.random(scores.shape) < 0.15] = -np.inf
    skip = -0.25 if rng.random() < 0.8 else 0.0
    scores[types.index((1, 0))] = skip
    scores[types.index((0, 1))] = skip
    return scores


@pytest.mark.parametrize("seed", range(40))
def test_dp_kernel_gives_the_numpy_bits(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    types = bead_types(int(rng.integers(1, 5)), int(rng.integers(2, 6)))
    band = random_band(rng, n, m)
    dtype = np.float32 if seed % 4 else np.float64
    scores = random_scores(rng, band, types, dtype)
    best, back = reference_dp(scores, band, types)
    from_above = [t for t in range(len(types)) if types[t][0] > 0]
    k_best, k_back = _dp_band_kernel(
        scores,
        band.lo,
        band.width,
        band.offset,
        n,
        np.array([types[t][0] for t in from_above], dtype=np.int64),
        np.array([types[t][1] for t in from_above], dtype=np.int64),
        np.array(from_above, dtype=np.int64),
        len(types) - 1,
        float(scores[-1, 0]),
    )
    np.testing.assert_array_equal(k_back, back)
    assert k_best.tobytes() == best.tobytes()
    try:
        expected = reference_path(scores, band, types)
    except RuntimeError as err:
        with pytest.raises(RuntimeError, match=str(err)):
            dp_band(scores, band, types)
    else:
        assert dp_band(scores, band, types) == expected


def test_dp_kernel_on_real_scores_of_a_full_band() -> None:
    """Continuous scores (no ties) on the full matrix: the same path as numpy."""
    rng = np.random.default_rng(11)
    types = bead_types(4, 5)
    band = make_band(np.zeros(31, np.int64), np.full(31, 25, np.int64), 30, 25)
    scores = rng.normal(size=(len(types), band.size)).astype(np.float32)
    scores[-2:] = -0.25
    assert dp_band(scores, band, types) == reference_path(scores, band, types)


SCRIPT = (
    "import time, numpy as np\n"
    "t = time.perf_counter()\n"
    "from pipeline.align import bead_types, dp_band, full_band\n"
    "types = bead_types(2, 3); band = full_band(3, 3)\n"
    "scores = np.zeros((len(types), band.size), np.float32); scores[-2:] = -0.25\n"
    "print(dp_band(scores, band, types)[-1], round(time.perf_counter() - t, 3))\n"
)


def test_kernels_load_from_the_cache_in_a_fresh_process() -> None:
    """After one process compiled them, a new one loads the machine code instead of
    compiling again (seconds), so a build's workers do not each pay the compilation."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    run = [sys.executable, "-c", SCRIPT]
    subprocess.run(run, env=env, check=True, capture_output=True)  # compiles if needed
    out = subprocess.run(run, env=env, check=True, capture_output=True, text=True).stdout
    last, seconds = out.rsplit(" ", 1)
    assert last == "(3, 3, 0)"
    assert float(seconds) < 2.0  # import and load; compiling alone takes several seconds


def test_kernels_work_where_no_cache_can_be_written(tmp_path: Path) -> None:
    """A read-only install (no __pycache__ next to the module, no user cache folder):
    the kernels are compiled in the process, with a warning, and give the same path."""
    root = Path(__file__).resolve().parents[2]
    copy = tmp_path / "site"
    skip = shutil.ignore_patterns("__pycache__")
    shutil.copytree(root / "pipeline", copy / "pipeline", ignore=skip)
    (copy / "pipeline" / "align" / "__pycache__").write_text("")  # a file: no folder there
    blocker = tmp_path / "blocker"
    blocker.write_text("")  # every cache folder below a plain file cannot be created
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=str(copy), XDG_CACHE_HOME=str(blocker / "c"), HOME=str(blocker / "h"))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=tmp_path,  # python -c puts the working folder first on the path
        check=True,
        capture_output=True,
        text=True,
    )
    assert done.stdout.startswith("(3, 3, 0) ")
    assert "compiling it in each process" in done.stderr
