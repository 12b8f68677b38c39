"""Which multi-sentence overlaps are worth embedding.

Why: the encoder is 92-95% of a build's time, and embedding every run of 1-4 sentences
costs about four texts per sentence. A run is useful only to a bead that merges its
sentences, and two neighbours that each have their own clear partner are not merged by
any bead worth having. So: find the *confident links* (1-1 pairs that are each other's
best match and score at least a typical correct bead), *close* the boundary between two
neighbouring sentences that are both linked, and embed only runs that cross no closed
boundary. The others get the normalised sum of their sentence vectors (what the coarse
levels of the DP use), so every bead shape stays searchable.

The decision uses single-text vectors only, so the build can make it between its two
embedding calls (``pipeline.build.prefetch``) exactly as ``pipeline.align.document`` makes
it while aligning.

``align_texts`` (no document structure) takes the links from a first DP pass over
length-weighted sums, and also leaves out the runs of 3-4 sentences that meet more than
two beads of that pass (``grouped_runs``): the encoder's cost grows with text length, so
those long runs were most of its time, and their beads are rare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pipeline.align.search import CoarsePath

#: A link is confident when its calibrated score (margin / scale) is at least this: half
#: the score of a typical correct 1-1 bead (AlignParams.confident_score, which callers pass).
CONFIDENT_LINK = 0.5


def confident_links(
    src: np.ndarray,
    tgt: np.ndarray,
    src_hub: np.ndarray,
    tgt_hub: np.ndarray,
    scale: float,
    threshold: float = CONFIDENT_LINK,
) -> list[tuple[int, int]]:
    """(i, j) pairs that are each other's best margin in the piece, with margin / scale
    >= threshold. src (n, d), tgt (m, d) normalised; hubs (n,), (m,) as in the margin."""
    if len(src) == 0 or len(tgt) == 0:
        return []
    margin = src @ tgt.T - 0.5 * (src_hub[:, None] + tgt_hub[None, :])
    best_j = np.argmax(margin, axis=1)
    best_i = np.argmax(margin, axis=0)
    return [
        (i, int(j))
        for i, j in enumerate(best_j)
        if best_i[j] == i and margin[i, j] / scale >= threshold
    ]


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


def mixed_overlaps(
    singles: np.ndarray,
    texts: Sequence[str],
    starts: list[np.ndarray],
    embed: Callable[[list[str]], np.ndarray],
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """(K, n, d) overlap vectors: embedded texts for open runs, the normalised sum of the
    sentence vectors for the rest (each weighted by ``weights``, e.g. its length, when
    given; rows past the end stay zero, as elsewhere)."""
    lens = np.ones(len(singles)) if weights is None else weights  # x 1.0 is exact
    return embed_runs(weighted_overlaps(singles, lens, len(starts)), texts, starts, embed)


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


def piece_closed(
    src_idx: Sequence[int],
    tgt_idx: Sequence[int],
    src_vecs: np.ndarray,
    tgt_vecs: np.ndarray,
    src_hub: np.ndarray,
    tgt_hub: np.ndarray,
    scale: float,
    threshold: float = CONFIDENT_LINK,
) -> tuple[np.ndarray, ...]:
    """Closed boundaries of a piece (items src_idx, tgt_idx of the whole document), from
    document-level vectors, hubness and scale; ``threshold`` as in confident_links."""
    s, t = list(src_idx), list(tgt_idx)
    links = confident_links(src_vecs[s], tgt_vecs[t], src_hub[s], tgt_hub[t], scale, threshold)
    return closed_boundaries(links, len(s), len(t))


def pair_overlap_texts(pair, vectors: Callable[[list[str]], np.ndarray], params) -> list[str]:
    """The overlap texts ``docalign.align_pair`` will embed for ``pair`` once its single
    sentences and blocks are embedded (``vectors`` looks those up), as far as the
    structure alone fixes its pieces: block overlaps of the paragraph DP, sentence overlaps
    of numbered paragraphs and footnotes (one block a side: the piece is known), and every
    within-paragraph run elsewhere (the paragraph DP decides those pieces later; what it
    asks beyond this is a straggler, see ``pipeline.build.prefetch``)."""
    from pipeline.align.document.pieces import calibrate_pair
    from pipeline.align.document.structure import structural_segments
    from pipeline.text.segment import segment_document

    K = params.max_overlap
    en_sents, zh_sents = segment_document(pair.en), segment_document(pair.zh)
    cal = calibrate_pair(pair, en_sents, zh_sents, vectors, params)
    en_blocks = [b.text for b in pair.en.blocks]
    zh_blocks = [b.text for b in pair.zh.blocks]
    en_of: dict[int, list[int]] = {}
    zh_of: dict[int, list[int]] = {}
    for i, s in enumerate(en_sents):
        en_of.setdefault(s.block, []).append(i)
    for j, s in enumerate(zh_sents):
        zh_of.setdefault(s.block, []).append(j)
    out: list[str] = []
    for seg in structural_segments(pair.en, pair.zh):
        if seg.mode == "dp":
            closed = piece_closed(seg.en, seg.zh, *cal.blocks, params.confident_score)
            for texts, idx, c in ((en_blocks, seg.en, closed[0]), (zh_blocks, seg.zh, closed[1])):
                local = [texts[i] for i in idx]
                out += wanted_texts(local, open_runs(c, len(local), min(3, K)))
        ei = [i for b in seg.en for i in en_of.get(b, [])]
        zj = [j for b in seg.zh for j in zh_of.get(b, [])]
        if seg.mode == "fixed":
            closed = piece_closed(ei, zj, *cal.sentences, params.confident_score)
            out += wanted_texts([en_sents[i].text for i in ei], open_runs(closed[0], len(ei), K))
            out += wanted_texts([zh_sents[j].text for j in zj], open_runs(closed[1], len(zj), K))
            continue
        for sents, of, blocks in ((en_sents, en_of, seg.en), (zh_sents, zh_of, seg.zh)):
            for b in blocks:
                local = [sents[i].text for i in of.get(b, [])]
                none_closed = np.zeros(max(len(local) - 1, 0), dtype=bool)
                out += wanted_texts(local, open_runs(none_closed, len(local), K))
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
    overlaps: Sequence[np.ndarray], lens: Sequence[np.ndarray], params
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
    return align_embeddings(src, tgt, lens[0], lens[1], first, coarse=coarse).beads, coarse


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


def embed_open_overlaps(
    sides: Sequence[Sequence[str]], encoder, params
) -> tuple[list[np.ndarray], int, float, CoarsePath]:
    """Overlap arrays (K, n, d) of two sides for ``align_texts``: sentences first (one
    encoder call), then only the runs a first pass calls for (``choose_runs``, a second
    call); the other runs get length-weighted sums. Returns the arrays, the number of
    distinct texts embedded, the first pass's seconds (aligner time, not encoder time)
    and its coarse path (for the final pass: pipeline.align.search.CoarsePath)."""
    import time

    src, tgt = (list(s) for s in sides)
    unique = list(dict.fromkeys(src + tgt))
    # the encoder returns unit rows (pipeline.embed.base): no second normalisation
    vec = dict(zip(unique, encoder.encode(unique), strict=True)) if unique else {}
    dim = encoder.dim
    singles = [
        np.stack([vec[t] for t in s]) if s else np.zeros((0, dim), np.float32) for s in (src, tgt)
    ]
    lens = [np.array([len(t) for t in s], dtype=np.float64) for s in (src, tgt)]
    started = time.perf_counter()
    K = params.max_overlap
    summed = [weighted_overlaps(v, ln, K) for v, ln in zip(singles, lens, strict=True)]
    beads, coarse = first_pass(summed, lens, params)
    starts = choose_runs(beads, len(src), len(tgt), params)
    first_pass_s = time.perf_counter() - started
    wanted = [t for s, st in zip((src, tgt), starts, strict=True) for t in wanted_texts(s, st)]
    second = [t for t in dict.fromkeys(wanted) if t not in vec]
    if second:
        vec.update(zip(second, encoder.encode(second), strict=True))

    def lookup(texts: list[str]) -> np.ndarray:
        return np.stack([vec[t] for t in texts])

    # the runs not embedded keep the first pass's length-weighted sums
    arrays = [
        embed_runs(ov, s, st, lookup) for ov, s, st in zip(summed, (src, tgt), starts, strict=True)
    ]
    return arrays, len(vec), first_pass_s, coarse
