"""Which multi-sentence overlaps are worth embedding: the aligner's embedding plan.

Why: the encoder is most of a build's time, and embedding every run of 1-4 sentences
costs about four texts per sentence. A run is useful only to a bead that merges its
sentences, and two neighbours that each have their own clear partner are not merged by
any bead worth having. So a first DP pass over length-weighted sums of the sentence
vectors (no encoding) finds the *confident links* (1-1 beads scoring at least
``confident_score``), *closes* the boundary between two neighbouring sentences that are
both linked, and only runs that cross no closed boundary are embedded; the runs of 3-4
sentences that meet more than two beads of that pass are left out too
(``grouped_runs``: the encoder's cost grows with text length, so those long runs were
most of its time, and their beads are rare). The others keep the weighted sum, so every
bead shape stays searchable.

:func:`plan_alignment` makes that decision once, from the single-sentence vectors, and
returns it as a value (:class:`AlignPlan`): ``align-text`` and the build's embed stage
call it between their two encoder calls, and the final pass (``pipeline.align.texts.
align_planned``) reads the plan instead of deciding again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pipeline.align.anchors import Anchors
    from pipeline.align.search import CoarsePath

#: A link is confident when its calibrated score (margin / scale) is at least this: half
#: the score of a typical correct 1-1 bead (AlignParams.confident_score, which callers pass).
CONFIDENT_LINK = 0.5


def closed_boundaries(links: Iterable[tuple[int, int]], n: int, m: int) -> tuple[np.ndarray, ...]:
    """closed[i] is True when sentences i and i+1 of a side are both confidently linked
    (one array per side, lengths n-1 and m-1)."""
    src_linked = np.zeros(n, dtype=bool)
    tgt_linked = np.zeros(m, dtype=bool)
    for i, j in links:
        src_linked[i] = True
        tgt_linked[j] = True
    return src_linked[:-1] & src_linked[1:], tgt_linked[:-1] & tgt_linked[1:]


def open_runs(closed: np.ndarray, n: int, max_overlap: int) -> list[np.ndarray]:
    """starts[k-1]: the s whose run s..s+k-1 crosses no closed boundary (k = 1..K)."""
    crossed = np.concatenate([[0], np.cumsum(closed.astype(np.int64))])  # boundaries < s
    out = []
    for k in range(1, max_overlap + 1):
        s = np.arange(max(n - k + 1, 0))
        out.append(s[crossed[s + k - 1] - crossed[s] == 0])
    return out


def run_text(texts: Sequence[str], start: int, k: int, joiner: str = " ") -> str:
    return joiner.join(texts[start : start + k])


def wanted_texts(texts: Sequence[str], starts: list[np.ndarray]) -> list[str]:
    """The texts of the open runs of two or more sentences, in order."""
    return [run_text(texts, int(s), k) for k, level in enumerate(starts, 1) if k > 1 for s in level]


def embed_runs(
    out: np.ndarray,
    texts: Sequence[str],
    starts: list[np.ndarray],
    embed: Callable[[list[str]], np.ndarray],
) -> np.ndarray:
    """``out`` (K, n, d) with the rows of the open runs (``starts``, as ``open_runs``)
    replaced in place by the embeddings of their texts."""
    for k, level in enumerate(starts, 1):
        if k == 1 or len(level) == 0:
            continue
        out[k - 1, level] = embed([run_text(texts, int(s), k) for s in level])
    return out


def weighted_overlaps(singles: np.ndarray, lens: np.ndarray, max_overlap: int) -> np.ndarray:
    """(K, n, d): like ``align.averaged_overlaps``, but each sentence vector weighted by its
    length in characters. Why: the encoder pools over tokens, so the embedding of a
    concatenation lies nearer the length-weighted sum of its sentences' vectors (mean
    cosine to the real embedding on MAC-Dev chapters 001-003: 0.84 against 0.81 for runs
    of 4, 0.92 against 0.90 for runs of 2)."""
    from pipeline.align.params import averaged_overlaps

    out = averaged_overlaps(singles * np.asarray(lens, singles.dtype)[:, None], max_overlap)
    out[0] = singles
    return out


def first_pass(
    overlaps: Sequence[np.ndarray],
    lens: Sequence[np.ndarray],
    params: Any,
    anchors: Anchors | None = None,
) -> tuple[list, CoarsePath]:
    """Beads of a first alignment over length-weighted summed overlaps (``overlaps``, from
    ``weighted_overlaps``: no encoding), and its coarse path
    (pipeline.align.search.CoarsePath: the final pass over the embedded overlaps has the
    same single-sentence vectors, so it reuses it)."""
    from dataclasses import replace

    from pipeline.align.search import align_embeddings, coarse_path

    src, tgt = overlaps
    # no refinement passes: this path only decides which runs to embed (same F1, cheaper)
    first = replace(params, refine_passes=0)
    coarse = coarse_path(src, tgt, lens[0], lens[1], first)
    result = align_embeddings(src, tgt, lens[0], lens[1], first, coarse=coarse, anchors=anchors)
    return result.beads, coarse


def bead_spans(beads: Sequence) -> np.ndarray:
    """(B, 4) int array of beads in path order: src start, src end, tgt start, tgt end
    (ends exclusive); an empty side gets the empty span where it sits."""
    out = np.zeros((len(beads), 4), dtype=np.int64)
    i = j = 0
    for row, b in enumerate(beads):
        i0, j0 = (b.src[0] if b.src else i), (b.tgt[0] if b.tgt else j)
        i, j = i0 + len(b.src), j0 + len(b.tgt)
        out[row] = (i0, i, j0, j)
    return out


def groups_met(lo: np.ndarray, hi: np.ndarray, n: int, k: int) -> np.ndarray:
    """For each run s..s+k-1 of a side (s = 0..n-k), how many first-pass beads with
    sentences on this side (spans lo..hi, in path order) it meets; skips of the other side
    (empty spans) are not counted."""
    rank = np.full(n, -1, dtype=np.int64)
    filled = [(a, b) for a, b in zip(lo.tolist(), hi.tolist(), strict=True) if b > a]
    for r, (a, b) in enumerate(filled):
        rank[a:b] = r
    if n < k:
        return np.zeros(0, dtype=np.int64)
    window = np.stack([rank[i : n - k + 1 + i] for i in range(k)])
    top = window.max(axis=0)
    bottom = np.where(window >= 0, window, np.iinfo(np.int64).max).min(axis=0)
    return np.where(top >= 0, top - bottom + 1, 0)  # ranks are contiguous along a side


def grouped_runs(
    closed: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int, max_overlap: int, groups: int
) -> list[np.ndarray]:
    """starts[k-1] (as ``open_runs``): the open runs, except runs of three or more
    sentences that meet more than ``groups`` first-pass beads (``groups_met``).

    Why: each bead the run meets brings at least one partner sentence of the other side,
    so a bead that merges the run and keeps those pairings has k + groups sentences or
    more; a run of 3-4 across three groups is a 3-3 or bigger, beyond max_bead_size, and
    the rest is a re-pairing of two neighbouring groups at most. The long runs are where
    the encoder's time goes (its cost grows with text length); runs left out keep the
    length-weighted sum of their sentence vectors.
    """
    out = open_runs(closed, n, max_overlap)
    for k in range(3, max_overlap + 1):
        s = out[k - 1]
        out[k - 1] = s[groups_met(lo, hi, n, k)[s] <= groups]
    return out


def confident_pairs(beads: Sequence, confident: float) -> list[tuple[int, int]]:
    """The 1-1 beads scoring at least ``confident`` (AlignParams.confident_score)."""
    return [
        (b.src[0], b.tgt[0])
        for b in beads
        if len(b.src) == 1 and len(b.tgt) == 1 and b.score >= confident
    ]


def choose_runs(
    beads: Sequence, n: int, m: int, params
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Runs to embed on each side (``open_runs`` format), from the beads of a first pass
    over summed overlaps (n and m sentences): those that cross no boundary between two
    neighbours linked by confident 1-1 beads, less the long runs that meet more than
    ``params.overlap_groups`` beads (``grouped_runs``; None keeps every open run)."""
    K = params.max_overlap
    closed = closed_boundaries(confident_pairs(beads, params.confident_score), n, m)
    if params.overlap_groups is None:
        return open_runs(closed[0], n, K), open_runs(closed[1], m, K)
    spans = bead_spans(beads)
    g = params.overlap_groups
    return (
        grouped_runs(closed[0], spans[:, 0], spans[:, 1], n, K, g),
        grouped_runs(closed[1], spans[:, 2], spans[:, 3], m, K, g),
    )


@dataclass(frozen=True)
class AlignPlan:
    """What the final pass over two sides needs, decided once (module docstring).

    ``src``/``tgt``: the sentences searched (blank lines left out, stripped) and
    ``src_keep``/``tgt_keep`` where they are in the input; ``runs``: for each side, the
    starts of the runs to embed (``open_runs`` format; runs of one sentence are the
    sentences themselves); ``coarse``: the first pass's coarse path, which the final
    pass shares (None: no first pass was needed); ``first_pass_s``: its seconds
    (aligner time, not encoder time)."""

    src: tuple[str, ...]
    tgt: tuple[str, ...]
    src_keep: tuple[int, ...]
    tgt_keep: tuple[int, ...]
    n_src: int
    n_tgt: int
    runs: tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]
    coarse: CoarsePath | None
    first_pass_s: float

    def overlap_texts(self) -> list[str]:
        """The distinct texts of the runs of two or more sentences to embed, in order."""
        texts = wanted_texts(self.src, list(self.runs[0]))
        texts += wanted_texts(self.tgt, list(self.runs[1]))
        return list(dict.fromkeys(texts))

    def texts(self) -> list[str]:
        """Every text the final pass reads: the sentences, then the overlaps."""
        return list(dict.fromkeys([*self.src, *self.tgt, *self.overlap_texts()]))


def kept_sentences(sentences: Sequence[str]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Where the non-blank sentences are, and their stripped texts: a blank line carries
    no meaning to embed (``pipeline.align.texts.insert_blank_lines`` puts it back)."""
    keep = tuple(i for i, s in enumerate(sentences) if s.strip())
    return keep, tuple(sentences[i].strip() for i in keep)


def single_texts(src: Sequence[str], tgt: Sequence[str]) -> list[str]:
    """The distinct sentences of both sides: the first encoder call, before the plan."""
    return list(dict.fromkeys([*kept_sentences(src)[1], *kept_sentences(tgt)[1]]))


def sentence_matrix(
    texts: Sequence[str], vectors: Mapping[str, np.ndarray], dim: int
) -> np.ndarray:
    """(n, dim) float32 rows of ``texts`` from a text -> unit vector map; a text missing
    from the map is an error, never a zero row (a silent hole would align as noise)."""
    if not texts:
        return np.zeros((0, dim), np.float32)
    missing = [t for t in texts if t not in vectors]
    if missing:
        raise KeyError(f"{len(missing)} text(s) have no vector, first: {missing[0][:60]!r}")
    return np.stack([vectors[t] for t in texts]).astype(np.float32, copy=False)


def vector_dim(vectors: Mapping[str, np.ndarray]) -> int:
    return int(len(next(iter(vectors.values())))) if vectors else 0


def plan_alignment(
    src: Sequence[str],
    tgt: Sequence[str],
    vectors: Mapping[str, np.ndarray],
    params: Any,
    anchors: Anchors | None = None,
) -> AlignPlan:
    """The embedding plan of two sides (module docstring) from the vectors of their
    sentences (``vectors``: text -> unit vector, at least every :func:`single_texts`).
    ``anchors`` (pipeline.align.anchors, over the input sentences) join the first pass
    as they join the final one."""
    src_keep, src_text = kept_sentences(src)
    tgt_keep, tgt_text = kept_sentences(tgt)
    n, m, K = len(src_text), len(tgt_text), params.max_overlap
    if not n or not m:  # a side is empty: no run is needed, every bead is a skip
        none = tuple(open_runs(np.zeros(0, bool), 0, K))
        return AlignPlan(
            src_text, tgt_text, src_keep, tgt_keep, len(src), len(tgt), (none, none), None, 0.0
        )
    dim = vector_dim(vectors)
    singles = [sentence_matrix(side, vectors, dim) for side in (src_text, tgt_text)]
    lens = [np.array([len(t) for t in side], dtype=np.float64) for side in (src_text, tgt_text)]
    started = time.perf_counter()
    summed = [weighted_overlaps(v, ln, K) for v, ln in zip(singles, lens, strict=True)]
    kept = anchors.kept(src_keep, tgt_keep) if anchors is not None else None
    beads, coarse = first_pass(summed, lens, params, kept)
    src_runs, tgt_runs = choose_runs(beads, n, m, params)
    return AlignPlan(
        src_text,
        tgt_text,
        src_keep,
        tgt_keep,
        len(src),
        len(tgt),
        (tuple(src_runs), tuple(tgt_runs)),
        coarse,
        time.perf_counter() - started,
    )


def planned_overlaps(
    plan: AlignPlan, vectors: Mapping[str, np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The final pass's (K, n, d) overlap arrays of both sides, and the sentence lengths:
    the embedded vectors of the planned runs, the length-weighted sums elsewhere."""
    dim = vector_dim(vectors)
    out, lens = [], []
    for texts, runs in ((plan.src, plan.runs[0]), (plan.tgt, plan.runs[1])):
        singles = sentence_matrix(texts, vectors, dim)
        ln = np.array([len(t) for t in texts], dtype=np.float64)
        summed = weighted_overlaps(singles, ln, len(runs)) if len(texts) else np.zeros(
            (len(runs), 0, dim), np.float32
        )

        def lookup(batch: list[str]) -> np.ndarray:
            return sentence_matrix(batch, vectors, dim)

        out.append(embed_runs(summed, texts, list(runs), lookup))
        lens.append(ln)
    return out, lens


def load_plan_kernels() -> None:
    """Load the compiled kernels :func:`plan_alignment` calls (numba loads each from its
    cache on first call), and only those: the embed stage plans between its two encoder
    calls and never scores lexical evidence, so the aligner's full set
    (``pipeline.align.search.load_kernels``, with the CC-CEDICT lexicon) would be wasted
    there. A small pair with coarse levels calls every planning kernel."""
    from pipeline.align.params import AlignParams

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(24, 8)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    en = [f"Resolution {k} of the General Assembly on water and rivers." for k in range(12)]
    zh = [f"大会关于水和河流的第{k}号决议。" for k in range(12)]
    vectors = dict(zip(en + zh, rows, strict=True))
    plan_alignment(en, zh, vectors, AlignParams(max_coarse_cells=50))
