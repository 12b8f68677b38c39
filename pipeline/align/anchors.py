"""Document structure as evidence for the aligner: the block starts both versions agree on.

Why: a UN resolution numbers its operative paragraphs, sub-paragraphs and footnotes, and
its parts (title, preamble, operative part, closing lines, footnotes) come in the same
order in every language. Where both versions carry a label exactly once (operative
paragraph 5, footnote 3, the first operative paragraph), the two sentences that start
those blocks form an *anchor*. The aligner's score then says what the structure says:

* a bead that starts both of its sides at one anchor gains one ``structure_weight``;
* a bead that pairs an anchored start with anything else loses one;
* a bead that runs across an anchored start (merges the end of operative paragraph 4
  with the start of 5) loses one per start crossed, and half of one per numbered block
  start crossed that is no anchor (footnote 2 of the English, which the Chinese lacks:
  a numbered block is a unit of its own on its side, whatever the other side has).

Structure on one side only (a converter that dropped the numbering, a line that happens
to begin with a number) makes no anchor: it can only cost the beads that run across it,
so it changes at most the beads next to it. Structure that disagrees with the content
(numbering shifted by a paragraph) is outweighed by it, because each term is a fraction
of what a correct bead scores (1.0, calibrated). Nothing here ever forbids a bead:
structure is evidence, not a wall.

Pure functions of labels and arrays; the labels of a UN document pair come from
``pipeline.align.document`` (``block_start_labels``), any caller may make its own.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.align.band import Band

#: Labels by priority: a number says more than a position ("op:5" before "start:operative").
#: Labels with this prefix are numbers; all others are section starts.
NUMBERED_PREFIXES = ("op:", "sub:", "fn:")

#: What running across a numbered block start that is no anchor costs, in units of the
#: structure weight (an anchored start costs 1).
UNANCHORED_START = 0.5


@dataclass(frozen=True)
class Anchors:
    """Which sentence of the other side the structure pairs each sentence with.

    ``src[i]`` is the tgt sentence the anchor pairs src sentence i with, -1 when i is no
    anchored block start; ``tgt[j]`` likewise. Anchors are one-to-one and monotone.
    ``src_numbered`` / ``tgt_numbered``: the sentences that start a numbered block,
    anchored or not (what a merged side should not run across)."""

    src: np.ndarray
    tgt: np.ndarray
    src_numbered: np.ndarray
    tgt_numbered: np.ndarray

    @classmethod
    def none(cls, n: int, m: int) -> Anchors:
        return cls(
            np.full(n, -1, dtype=np.int64),
            np.full(m, -1, dtype=np.int64),
            np.zeros(n, dtype=bool),
            np.zeros(m, dtype=bool),
        )

    @classmethod
    def from_pairs(
        cls,
        pairs: Sequence[tuple[int, int]],
        n: int,
        m: int,
        numbered: tuple[Sequence[int], Sequence[int]] = ((), ()),
    ) -> Anchors:
        anchors = cls.none(n, m)
        for i, j in pairs:
            anchors.src[i] = j
            anchors.tgt[j] = i
        anchors.src_numbered[list(numbered[0])] = True
        anchors.tgt_numbered[list(numbered[1])] = True
        return anchors

    @classmethod
    def from_labels(
        cls, src_labels: Sequence[Sequence[str]], tgt_labels: Sequence[Sequence[str]]
    ) -> Anchors:
        """Anchors from the labels of each sentence (those of the block it starts; none
        for other sentences): a label on exactly one sentence of each side pairs the two.
        Numbered labels are taken first; a label whose pair conflicts with one taken
        already is dropped, and so are anchors that cross others (the longest monotone
        chain is kept): what remains is structure both sides agree on."""
        src_at, tgt_at = _unique_positions(src_labels), _unique_positions(tgt_labels)
        shared = [label for label in src_at if label in tgt_at]
        shared.sort(key=lambda label: not label.startswith(NUMBERED_PREFIXES))  # stable
        src_taken: dict[int, int] = {}
        tgt_taken: dict[int, int] = {}
        for label in shared:
            i, j = src_at[label], tgt_at[label]
            if src_taken.get(i, j) != j or tgt_taken.get(j, i) != i:
                continue  # the sentence is anchored elsewhere by a stronger label
            src_taken[i], tgt_taken[j] = j, i
        chain = _monotone_chain(sorted(src_taken.items()))
        numbered = (_numbered(src_labels), _numbered(tgt_labels))
        return cls.from_pairs(chain, len(src_labels), len(tgt_labels), numbered)

    @property
    def count(self) -> int:
        """Anchors and numbered starts: zero means the structure says nothing."""
        return int((self.src >= 0).sum() + self.src_numbered.sum() + self.tgt_numbered.sum())

    def pairs(self) -> list[tuple[int, int]]:
        return [(int(i), int(j)) for i, j in enumerate(self.src) if j >= 0]

    def kept(self, src_keep: Sequence[int], tgt_keep: Sequence[int]) -> Anchors:
        """The anchors between kept sentences, renumbered (``align_texts`` leaves blank
        lines out of the search)."""
        src_new = {int(old): new for new, old in enumerate(src_keep)}
        tgt_new = {int(old): new for new, old in enumerate(tgt_keep)}
        pairs = [
            (src_new[i], tgt_new[j])
            for i, j in self.pairs()
            if i in src_new and j in tgt_new
        ]
        numbered = (
            [src_new[i] for i in np.flatnonzero(self.src_numbered) if i in src_new],
            [tgt_new[j] for j in np.flatnonzero(self.tgt_numbered) if j in tgt_new],
        )
        return Anchors.from_pairs(pairs, len(src_keep), len(tgt_keep), numbered)

    def start_costs(self) -> tuple[np.ndarray, np.ndarray]:
        """What running across each sentence's start costs a merged side, per side: 1 at
        an anchor, UNANCHORED_START at a numbered start that is none, else 0."""
        return tuple(
            np.where(pair >= 0, 1.0, np.where(numbered, UNANCHORED_START, 0.0))
            for pair, numbered in ((self.src, self.src_numbered), (self.tgt, self.tgt_numbered))
        )


def _numbered(labels: Sequence[Sequence[str]]) -> list[int]:
    """The sentences that carry a numbered label (they start a numbered block)."""
    return [i for i, ls in enumerate(labels) if any(x.startswith(NUMBERED_PREFIXES) for x in ls)]


def _unique_positions(labels: Sequence[Sequence[str]]) -> dict[str, int]:
    """label -> the one sentence that carries it (labels seen twice are no anchor)."""
    seen: dict[str, int] = {}
    repeated: set[str] = set()
    for index, sentence_labels in enumerate(labels):
        for label in sentence_labels:
            if label in seen and seen[label] != index:
                repeated.add(label)
            seen.setdefault(label, index)
    return {label: index for label, index in seen.items() if label not in repeated}


def _monotone_chain(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest chain of (i, j) pairs (sorted by i) with j strictly increasing."""
    tails: list[int] = []  # tails[k]: smallest last j of a chain of length k+1
    tail_at: list[int] = []  # index in pairs of that last pair
    previous = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        pos = bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[pos] = j
            tail_at[pos] = k
        previous[k] = tail_at[pos - 1] if pos > 0 else -1
    chain: list[tuple[int, int]] = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        chain.append(pairs[k])
        k = previous[k]
    return chain[::-1]


def anchor_terms(
    anchors: Anchors,
    band: Band,
    types: Sequence[tuple[int, int]],
    rows: np.ndarray,
    cols: np.ndarray,
) -> dict[int, np.ndarray]:
    """The structure term of every bead type at every band cell, in units of
    ``structure_weight`` (module docstring): +1 for a bead that starts both sides at one
    anchor, -1 for one that pairs an anchored start with another sentence, minus the
    ``start_costs`` of the starts inside a merged side. Only types with a non-zero term
    anywhere are returned; skips get none."""
    src_cost, tgt_cost = anchors.start_costs()
    src_on = np.concatenate([[0.0], np.cumsum(src_cost)])
    tgt_on = np.concatenate([[0.0], np.cumsum(tgt_cost)])
    out: dict[int, np.ndarray] = {}
    for t, (a, b) in enumerate(types):
        if a == 0 or b == 0:
            continue
        s0, t0 = rows - a, cols - b  # the first sentence of each side of the bead
        fits = (s0 >= 0) & (t0 >= 0)
        s0c, t0c = np.where(fits, s0, 0), np.where(fits, t0, 0)
        src_pair, tgt_pair = anchors.src[s0c], anchors.tgt[t0c]
        gain = src_pair == t0c
        contradicts = ((src_pair >= 0) & (src_pair != t0c)) | ((tgt_pair >= 0) & (tgt_pair != s0c))
        crossed = (src_on[np.maximum(rows, s0c + 1)] - src_on[s0c + 1]) + (
            tgt_on[np.maximum(cols, t0c + 1)] - tgt_on[t0c + 1]
        )
        term = gain.astype(np.float32) - contradicts - crossed.astype(np.float32)
        term = np.where(fits, term, 0).astype(np.float32)
        if term.any():
            out[t] = term
    return out
