"""The compiled scoring loops (pipeline.align.kernels, linkindex) against the numpy
and Python code they replaced, kept here as the reference: the same bits or booleans on
random bands, NaN, -inf and ties included."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.align import Band, bead_types, make_band
from pipeline.align.evidence import LinkIndex, SentenceEvidence
from pipeline.align.kernels import (
    flag_slots,
    gather_kernel,
    margin_inputs,
    running_sum,
    unlinked_kernel,
    weakest_kernel,
)


def random_band(rng: np.random.Generator, n: int, m: int) -> Band:
    centre = np.sort(rng.integers(0, m + 1, size=n + 1))
    half = rng.integers(0, 4, size=n + 1)
    return make_band(centre - half, centre + half + rng.integers(0, 3), n, m)


def reference_unlinked(link, band, rows, cols, src_ok, tgt_ok, a, b):  # noqa: ANN001, ANN201
    """The numpy body lexical.band_flags had (unlinked flags) for one bead type."""
    n, m, cells = len(src_ok), len(tgt_ok), len(rows)
    lo, width, offset = band.lo, band.width, band.offset

    def linked(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        rr = np.clip(r, 0, n)
        inside = (r >= 1) & (c >= lo[rr]) & (c < lo[rr] + width[rr])
        flat = offset[rr] + np.where(inside, c - lo[rr], 0)
        return np.where(inside, link[flat], True)

    def ok(mask: np.ndarray, idx: np.ndarray, size: int) -> np.ndarray:
        return (idx >= 0) & (idx < size) & mask[np.clip(idx, 0, size - 1)]

    src_any = np.zeros(cells, dtype=bool)
    for q in range(a):
        src_any |= ok(src_ok, rows - 1 - q, n)
    tgt_any = np.zeros(cells, dtype=bool)
    for k in range(b):
        tgt_any |= ok(tgt_ok, cols - 1 - k, m)
    src_flags, tgt_flags = [], []
    if b >= 2:
        for k in range(b):
            hit = np.zeros(cells, dtype=bool)
            for q in range(a):
                hit |= linked(rows - q, cols - k)
            tgt_flags.append(ok(tgt_ok, cols - 1 - k, m) & src_any & ~hit)
    if a >= 2:
        for q in range(a):
            hit = np.zeros(cells, dtype=bool)
            for k in range(b):
                hit |= linked(rows - q, cols - k)
            src_flags.append(ok(src_ok, rows - 1 - q, n) & tgt_any & ~hit)
    return src_flags, tgt_flags


def reference_weakest(weakest, part, ok_part, band, rows, cols, count, along_rows, flags, shift):  # noqa: ANN001, ANN201, E501
    """The numpy loop of support.subtract_support_shortfall for one side of one type."""
    lo, width, offset = band.lo, band.width, band.offset
    for k in range(count):
        if along_rows:
            r = np.maximum(rows - k, 0)
            valid = (rows - k >= 0) & (cols >= lo[r]) & (cols < lo[r] + width[r])
            flat = offset[r] + np.where(valid, cols - lo[r], 0)
        else:
            c = cols - k
            valid = (c >= lo[rows]) & (c < lo[rows] + width[rows])
            flat = offset[rows] + np.where(valid, c - lo[rows], 0)
        use = valid & ok_part[flat]
        value = part[flat] - shift * flags[k] if len(flags) else part[flat]
        weakest = np.where(use, np.minimum(weakest, value), weakest)
    return weakest


@pytest.mark.parametrize("seed", range(25))
def test_unlinked_and_weakest_kernels_match_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 30)), int(rng.integers(1, 30))
    band = random_band(rng, n, m)
    rows, cols = band.cell_rows(), band.cell_cols()
    link = rng.random(band.size) < 0.4
    src_ok, tgt_ok = rng.random(n) < 0.7, rng.random(m) < 0.7
    part = (rng.integers(-3, 4, size=band.size) / 4).astype(np.float32)
    part[rng.random(band.size) < 0.05] = np.nan
    ok_part = rng.random(band.size) < 0.9
    shift = np.float32(rng.choice([0.0, 0.37]))
    types = bead_types(4, 5)
    src_slot, tgt_slot = flag_slots(types)
    all_src, all_tgt = unlinked_kernel(
        link, rows, cols, band.lo, band.width, band.offset, src_ok, tgt_ok,
        np.array([a for a, _ in types]), np.array([b for _, b in types]), src_slot, tgt_slot, False,
    )  # fmt: skip
    assert len(all_src) == sum(a for a, b in types if a >= 2 and b >= 1)  # no unused rows
    for t, (a, b) in enumerate(types):
        if a == 0 or b == 0 or (a == 1 and b == 1):
            continue
        ref_src, ref_tgt = reference_unlinked(link, band, rows, cols, src_ok, tgt_ok, a, b)
        src_all = all_src[src_slot[t] : src_slot[t] + a]
        tgt_all = all_tgt[tgt_slot[t] : tgt_slot[t] + b]
        assert [x.tolist() for x in ref_src] == ([x.tolist() for x in src_all] if a >= 2 else [])
        assert [x.tolist() for x in ref_tgt] == ([x.tolist() for x in tgt_all] if b >= 2 else [])
        for count, along_rows, flags in ((b, False, tgt_all), (a, True, src_all)):
            for use_flags in (True, False):
                flags_in = flags if use_flags else np.zeros((0, band.size), np.bool_)
                start = np.full(band.size, np.inf, dtype=np.float32)
                start[: band.size // 3] = 0.25
                expected = reference_weakest(
                    start, part, ok_part, band, rows, cols, count, along_rows, flags_in, shift
                )
                got = start.copy()
                weakest_kernel(
                    got, part, ok_part, rows, cols, band.lo, band.width, band.offset,
                    count, along_rows, flags_in, shift,
                )  # fmt: skip
                np.testing.assert_array_equal(got, expected)


def test_gather_and_running_sum_match_numpy() -> None:
    rng = np.random.default_rng(3)
    n, m, d = 20, 17, 8
    band = random_band(rng, n, m)
    rows, cols = band.cell_rows(), band.cell_cols()
    prod = rng.normal(size=(3, n + 4, 3, m + 4)).astype(np.float32)
    for a in (1, 2, 3):
        for b in (1, 2, 3):
            ok = (rows - a >= 0) & (cols - b >= 0) & (rows <= n) & (cols <= m)
            expected = np.full(band.size, np.nan, dtype=np.float32)
            expected[ok] = prod[a - 1, rows[ok] - a, b - 1, cols[ok] - b]
            got = np.empty(band.size, dtype=np.float32)
            gather_kernel(got, prod, rows, cols, a, b, n, m, 0, 0)
            assert got.tobytes() == expected.tobytes()
    emb = rng.normal(size=(n, d)).astype(np.float32)
    emb[0, 0] = -0.0
    expected = np.concatenate([np.zeros((1, d), np.float32), np.cumsum(emb, axis=0)])
    assert running_sum(emb).tobytes() == expected.tobytes()
    assert running_sum(np.zeros((0, d), np.float32)).shape == (1, d)


def test_link_index_matches_set_intersections() -> None:
    """Keys of one side meet units of the other, as Python sets say, for every pair."""
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(30)]

    def sets(count: int, size: int) -> list[set[str]]:
        return [set(rng.choice(words, size=rng.integers(0, size))) for _ in range(count)]

    sk, su, tk, tu = sets(12, 3), sets(12, 8), sets(9, 6), sets(9, 2)
    evidence = SentenceEvidence.from_sets(sk, su, tk, tu, np.ones(12, bool), np.ones(9, bool))
    rows, cols = np.meshgrid(np.arange(-1, 13), np.arange(-1, 10), indexing="ij")
    rows, cols = rows.ravel(), cols.ravel()
    expected = [
        r >= 1 and c >= 1 and (bool(sk[r - 1] & tu[c - 1]) or bool(tk[c - 1] & su[r - 1]))
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
    ]
    assert evidence.links(rows, cols).tolist() == expected
    with pytest.raises(IndexError):
        LinkIndex.build(sk, su, tk, tu).links(np.array([13]), np.array([1]))


def test_margin_inputs_match_numpy() -> None:
    """Margins and lengths of the cells where a bead fits, as cell_scores computed them."""
    rng = np.random.default_rng(5)
    n, m = 25, 31
    band = random_band(rng, n, m)
    rows, cols = band.cell_rows(), band.cell_cols()
    src_cum = np.concatenate([[0.0], np.cumsum(rng.integers(1, 90, n).astype(np.float64))])
    tgt_cum = np.concatenate([[0.0], np.cumsum(rng.integers(1, 90, m).astype(np.float64))])
    src_hub = rng.normal(size=n + 1).astype(np.float32)
    tgt_hub = rng.normal(size=m + 1).astype(np.float32)
    for a, b in ((1, 1), (2, 1), (1, 3), (2, 3)):
        sim = rng.normal(size=band.size).astype(np.float32)
        sim[(rows < a) | (cols < b) | (rng.random(band.size) < 0.1)] = np.nan
        ok = np.isfinite(sim)
        r, c = rows[ok], cols[ok]
        for use_hub in (True, False):
            hub = np.float32(0.5) * (src_hub[r] + tgt_hub[c])
            marg = sim[ok] - hub if use_hub else sim[ok]
            idx, got, lx, ly = margin_inputs(
                sim, rows, cols, src_hub, tgt_hub, src_cum, tgt_cum, a, b, use_hub
            )
            assert idx.tolist() == np.flatnonzero(ok).tolist()
            assert got.tobytes() == marg.tobytes()
            assert lx.tobytes() == (src_cum[r] - src_cum[r - a]).astype(np.float32).tobytes()
            assert ly.tobytes() == (tgt_cum[c] - tgt_cum[c - b]).astype(np.float32).tobytes()


def reference_anchors(sentence: str) -> set[str]:
    """lexical.anchors without its fast path (what it returned before)."""
    from pipeline.align.evidence import _DIGIT, _LATIN_TOKEN, _NUMBER, _TWO_CAPITALS

    out = {"#" + n.rstrip(".,").replace(",", "") for n in _NUMBER.findall(sentence)}
    for tok in _LATIN_TOKEN.findall(sentence):
        if tok.isalpha() and (tok.islower() or tok.istitle()):
            continue
        if not tok.isdigit() and (_TWO_CAPITALS.search(tok) or _DIGIT.search(tok)):
            out.add("@" + tok.lower())
    return out


def test_anchors_fast_path_changes_nothing() -> None:
    from pathlib import Path

    from pipeline.align.evidence import anchors

    gold = Path(__file__).resolve().parents[1] / "gold" / "general"
    lines = [
        line
        for name in ("en.txt", "zh.txt")
        for line in (gold / name).read_text(encoding="utf-8").splitlines()
    ]
    lines += [
        "A/RES/75/58 and UNESCO met in 2020.", "COVID-19", "Mr. Li said OK.", "iPhone X",
        "US$ 1,234.50", "第７５／５８号决议", "A-B", "Ab-Cd", "x.Y.z", "e.g. UN-Women",
        "ΑΒ", "Ⅻ", "٣ apples", "NATO's", "",
    ]  # fmt: skip
    assert any(reference_anchors(line) for line in lines)
    for line in lines:
        assert anchors(line) == reference_anchors(line), line


def test_averaged_overlaps_match_the_numpy_formula() -> None:
    """Running sums and in-place normalisation: the bits of cumsum + normalize_rows."""
    from pipeline.align.params import averaged_overlaps, normalize_rows

    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        x = rng.normal(size=(60, 16)).astype(dtype)
        x[5:9] = 0  # zero windows stay zero
        n, d = x.shape
        csum = np.concatenate(
            [np.zeros((1, d), np.float32), np.cumsum(x, axis=0, dtype=np.float32)]
        )
        expected = np.zeros((4, n, d), dtype=np.float32)
        for k in range(1, 5):
            expected[k - 1, : n - k + 1] = normalize_rows(csum[k:] - csum[: n - k + 1])
        assert averaged_overlaps(x, 4).tobytes() == expected.tobytes()


class _Colliding(str):
    """A token whose hash every other token shares: only equality tells them apart."""

    def __hash__(self) -> int:
        return 7


def test_link_index_numbers_tokens_when_hashes_collide() -> None:
    """Tokens are numbered by equality, not identified by their hashes: two tokens with one
    hash do not meet each other's units (every token here has the same hash)."""
    a, b, c, q, x, y, z = (_Colliding(t) for t in "abcqxyz")
    assert len({a, b, c, q, x, y, z}) == 7 and len({hash(t) for t in (a, b, x)}) == 1
    sk, su = [{a}, {b}, set()], [{x}, {y}, {c}]
    tk, tu = [{x}, {z}], [{b}, {q}]
    index = LinkIndex.build(sk, su, tk, tu)
    rows, cols = np.array([1, 1, 2, 2, 3, 3]), np.array([1, 2, 1, 2, 1, 2])
    pairs = zip(rows.tolist(), cols.tolist(), strict=True)
    expected = [bool(sk[r - 1] & tu[c - 1] or tk[c - 1] & su[r - 1]) for r, c in pairs]
    assert expected == [True, False, True, False, False, False]
    assert index.links(rows, cols).tolist() == expected
