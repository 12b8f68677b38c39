"""Lexical evidence both ways in the support term: a missing link weakens a merged
sentence, a shared word supports it.

Why (issue 9, "a sentence is left unaligned only when nothing on the other side carries its
meaning"): the support term asks each sentence of a merged side to match the other side of
its bead at least as well as unrelated text does. The weak half of a translator's split
often fails that on the embedding alone: "She got used to it after a while." scores below
unrelated text against the Chinese sentence it translates, so the DP kept the 1-1 and left
it out (a skip costs 0.25, the support shortfall more). On MAC-Dev 27 sentences were left
out wrongly (the gold has 13 insertions), and in 17 of them the sentence shares a
translated word with the bead it belongs to. pipeline.align.lexical already counted a
*missing* link against a merged sentence; this module lets a *present* link count for it,
so the lexicon can carry a half the embedding misses as the embedding can carry a half the
lexicon misses. The link only cancels a support shortfall (the support term is a penalty
below a floor, never a bonus), so a linked sentence is merged only when the merged bead
otherwise scores about as well as "1-1 plus a skip".

How much a link means is measured per document, as for a missing link
(:func:`link_reliability`): unrelated sentences of the same scene share a word too (names,
repeated nouns; 25-60% of the pairs two beads apart on MAC-Dev), so a link raises the odds
by 1 - l_far / l_true only.

Everything here is a pure function of the evidence and the band's flat cell arrays; the
flags are computed once per level and weighted once per DP pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.align.band import Band
from pipeline.align.lexical import (
    SentenceEvidence,
    Unlinked,
    band_flags,
    far_pairs,
    linked_share,
    reliability,
)


def link_reliability(evidence: SentenceEvidence, pairs: Sequence[tuple[int, int]]) -> float:
    """How much a shared word means in this document: 1 - l_far / l_true, in [0, 1].

    ``pairs``: confident 1-1 pairs (src, tgt sentence indices) of a first pass, in order.
    l_true is the share of them that link, l_far the share of the pairs two beads apart
    (the src of one with the tgt of the next but one: unrelated text of the same scene).
    All sentences count, linkable or not: a link of a short sentence is evidence too,
    only its absence is not. 0 (no evidence) with fewer than 3 pairs.
    """
    if len(pairs) < 3:
        return 0.0
    l_true, l_far = linked_share(evidence, pairs), linked_share(evidence, far_pairs(pairs))
    if l_true <= 0:
        return 0.0
    return float(min(1.0, max(0.0, 1.0 - l_far / l_true)))


def linked_flags(
    link: np.ndarray,
    band: Band,
    rows: np.ndarray,
    cols: np.ndarray,
    types: Sequence[tuple[int, int]],
) -> Unlinked:
    """For each merged bead type and band cell: which sentences of the merged side(s) share
    a translated word, number or name with some sentence of the other side of the bead.

    ``link``: ``SentenceEvidence.links`` of the band cells (src rows-1 with tgt cols-1).
    Same layout as :func:`lexical.band_flags`: flag q of a src side is sentence
    rows-1-q, flag k of a tgt side is cols-1-k; 1-1 beads and unmerged sides get none.
    Pairs outside the band count as not linked (no evidence for).
    """
    ok_src, ok_tgt = np.ones(band.n, dtype=np.bool_), np.ones(band.m, dtype=np.bool_)
    return band_flags(link, ok_src, ok_tgt, band, rows, cols, types, linked_mode=True)


@dataclass
class LexicalSupport:
    """The lexical flags of one level's band, weighted per DP pass into *deficits*: how
    much weaker (calibrated units; negative = stronger) each sentence of a merged side
    counts in the support term (pipeline.align.support)."""

    evidence: SentenceEvidence
    unlinked: Unlinked
    linked: Unlinked
    unlinked_weight: float
    link_weight: float

    @classmethod
    def prepare(
        cls,
        evidence: SentenceEvidence | None,
        band: Band,
        types: Sequence[tuple[int, int]],
        params,
    ) -> LexicalSupport | None:
        """Flags of the band (one ``evidence.links`` pass), or None when the lexical terms
        are off (no texts, or ``lexical_weight`` and ``link_weight`` both 0)."""
        weights = (params.lexical_weight, params.link_weight)
        if evidence is None or max(weights) <= 0:
            return None
        rows, cols = band.cell_rows(), band.cell_cols()
        link = evidence.links(rows, cols)
        cells = (band, rows, cols, types)
        unlinked = band_flags(link, *evidence.linkable(), *cells)
        return cls(evidence, unlinked, linked_flags(link, *cells), *weights)

    def deficits(self, pairs: Sequence[tuple[int, int]]) -> Unlinked:
        """unlinked_weight x reliability for a sentence without a link, minus link_weight x
        link_reliability for one with a link, each measured on the confident 1-1 ``pairs``
        (src, tgt indices) of the pass before."""
        weak = self.unlinked_weight * reliability(self.evidence, pairs)
        strong = self.link_weight * link_reliability(self.evidence, pairs)
        out: Unlinked = {}
        for t, (src_u, tgt_u) in self.unlinked.items():
            src_l, tgt_l = self.linked[t]
            out[t] = tuple(  # type: ignore[assignment]
                [(weak * u - strong * v).astype(np.float32) for u, v in zip(us, ls, strict=True)]
                for us, ls in ((src_u, src_l), (tgt_u, tgt_l))
            )
        return out
