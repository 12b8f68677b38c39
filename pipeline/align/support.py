"""The parts of a bead's score that look at its sentences one by one (pipeline.align).

Pure functions over the band's flat cell arrays, kept out of align.py so that module does
not keep growing: the *support* term (each sentence of a merged side must match the other
side on its own, and, with pipeline.align.lexical, share a word, number or symbol with it) and
the *swap* score of 2-2 beads (two crossed 1-1 pairs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.align.cellkernels import weakest_kernel

if TYPE_CHECKING:  # Band lives in pipeline.align, which imports this module
    from pipeline.align import Band
    from pipeline.align.lexical import Unlinked


def score_swaps(
    scores: np.ndarray,
    band: Band,
    types: Sequence[tuple[int, int]],
    rows: np.ndarray,
    cols: np.ndarray,
    floor: float,
) -> None:
    """A 2-2 bead also scores as two *crossed* pairs (x1-y2, x2-y1) when both match.

    Translators reorder clauses across a sentence boundary; a monotone aligner can only
    express that as a 2-2 bead, and the embedding of the two concatenations is a weak
    witness (encoders are order-sensitive). The crossed 1-1 scores are the direct
    evidence: where both are above ``floor`` the 2-2 bead scores at least their mean.
    """
    t22, t11 = types.index((2, 2)), types.index((1, 1))
    lo, width, offset = band.lo, band.width, band.offset
    one = scores[t11]

    def score_at(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        rr = np.clip(r, 0, band.n)
        valid = (r >= 0) & (c >= lo[rr]) & (c < lo[rr] + width[rr])
        flat = offset[rr] + np.where(valid, c - lo[rr], 0)
        return np.where(valid, one[flat], -np.inf)

    first = score_at(rows - 1, cols)  # src i-2 with tgt j-1
    second = score_at(rows, cols - 1)  # src i-1 with tgt j-2
    crossed = np.where(np.minimum(first, second) > floor, 0.5 * (first + second), -np.inf)
    ok = np.isfinite(scores[t22])
    scores[t22] = np.where(ok, np.maximum(scores[t22], crossed), scores[t22])


def subtract_support_shortfall(
    scores: np.ndarray,
    margins: np.ndarray,
    sims: np.ndarray,
    band: Band,
    types: Sequence[tuple[int, int]],
    rows: np.ndarray,
    cols: np.ndarray,
    scale: float,
    params: Any,
    unlinked: Unlinked | None = None,
) -> None:
    """How far the weakest sentence of a merged bead falls below ``floor``.

    A merged bead is scored by one embedding of the concatenation, which hardly changes
    when an unrelated sentence (a translator's insertion) is glued on. Each sentence of the
    merged side must therefore also match the other side's whole text on its own: its
    calibrated margin against that text is read off the (a, 1) / (1, b) cells of the band.
    Subtracts support_weight * max(0, support_floor - weakest) from ``scores`` in place
    (nothing for 1-1 beads, skips and sentences outside the band). A sentence flagged in
    ``unlinked`` is the lexical deficit of each merged sentence in calibrated units
    (pipeline.align.links.LexicalSupport.deficits: positive without a shared word, number
    or name, negative with one); that sentence counts that much weaker.
    """
    shift = np.float32(scale)
    no_flags: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    index = {ty: t for t, ty in enumerate(types)}
    floor = params.support_floor
    lo, width, offset = band.lo, band.width, band.offset
    ints = [np.ascontiguousarray(x, dtype=np.int64) for x in (rows, cols, lo, width, offset)]
    seen: dict[int, np.ndarray] = {}

    def finite(t: int) -> np.ndarray:  # where type t has a similarity, once per type
        if t not in seen:
            seen[t] = np.isfinite(sims[t])
        return seen[t]

    for t, (a, b) in enumerate(types):
        if a == 0 or b == 0 or (a == 1 and b == 1):
            continue
        weakest = np.full(band.size, np.inf, dtype=np.float32)
        src_flags, tgt_flags = (unlinked or {}).get(t, no_flags)
        # the weakest single sentence of each merged side (pipeline.align.cellkernels)
        if b >= 2 and (a, 1) in index:
            part = margins[index[(a, 1)]]
            ok_part = finite(index[(a, 1)])
            flags = _stack(tgt_flags, b, band.size)
            weakest_kernel(weakest, part, ok_part, *ints, b, False, flags, shift)
        if a >= 2 and (1, b) in index:
            part = margins[index[(1, b)]]
            ok_part = finite(index[(1, b)])
            flags = _stack(src_flags, a, band.size)
            weakest_kernel(weakest, part, ok_part, *ints, a, True, flags, shift)
        shortfall = floor - weakest / scale
        shortfall = np.where(np.isfinite(shortfall), np.maximum(shortfall, 0.0), 0.0)
        scores[t] -= (params.support_weight * shortfall).astype(np.float32)


def _stack(flags: list[np.ndarray], count: int, cells: int) -> np.ndarray:
    """(count, cells) float32 array of a side's lexical deficits (pipeline.align.links;
    calibrated units, negative for a linked sentence); (0, cells) when there are none."""
    if not flags:
        return np.zeros((0, cells), dtype=np.float32)
    return np.ascontiguousarray(np.stack(flags[:count]), dtype=np.float32)
