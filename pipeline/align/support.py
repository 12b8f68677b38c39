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
    for t, (a, b) in enumerate(types):
        if a == 0 or b == 0 or (a == 1 and b == 1):
            continue
        weakest = np.full(band.size, np.inf, dtype=np.float32)
        src_flags, tgt_flags = (unlinked or {}).get(t, no_flags)
        if b >= 2 and (a, 1) in index:
            part = margins[index[(a, 1)]]
            ok_part = np.isfinite(sims[index[(a, 1)]])
            for k in range(b):
                c = cols - k
                valid = (c >= lo[rows]) & (c < lo[rows] + width[rows])
                flat = offset[rows] + np.where(valid, c - lo[rows], 0)
                use = valid & ok_part[flat]
                value = part[flat] - shift * tgt_flags[k] if tgt_flags else part[flat]
                weakest = np.where(use, np.minimum(weakest, value), weakest)
        if a >= 2 and (1, b) in index:
            part = margins[index[(1, b)]]
            ok_part = np.isfinite(sims[index[(1, b)]])
            for k in range(a):
                r = np.maximum(rows - k, 0)
                valid = (rows - k >= 0) & (cols >= lo[r]) & (cols < lo[r] + width[r])
                flat = offset[r] + np.where(valid, cols - lo[r], 0)
                use = valid & ok_part[flat]
                value = part[flat] - shift * src_flags[k] if src_flags else part[flat]
                weakest = np.where(use, np.minimum(weakest, value), weakest)
        shortfall = floor - weakest / scale
        shortfall = np.where(np.isfinite(shortfall), np.maximum(shortfall, 0.0), 0.0)
        scores[t] -= (params.support_weight * shortfall).astype(np.float32)
