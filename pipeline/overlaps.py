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
embedding calls (``pipeline.prefetch``) exactly as ``docalign`` makes it while aligning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

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
) -> np.ndarray:
    """(K, n, d) overlap vectors: embedded texts for open runs, the normalised sum of the
    sentence vectors for the rest (rows past the end stay zero, as elsewhere)."""
    from pipeline.align import averaged_overlaps

    out = averaged_overlaps(singles, len(starts))
    out[0] = singles
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
    asks beyond this is a straggler, see ``pipeline.prefetch``)."""
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


def first_pass_links(
    src_singles: np.ndarray,
    tgt_singles: np.ndarray,
    src_len: np.ndarray,
    tgt_len: np.ndarray,
    params,
) -> list[tuple[int, int]]:
    """Confident 1-1 beads of a first alignment over summed overlaps (no extra encoding):
    what ``align_texts`` closes boundaries with, having no document structure."""
    from pipeline.align import align_embeddings, averaged_overlaps

    K = params.max_overlap
    first = align_embeddings(
        averaged_overlaps(src_singles, K),
        averaged_overlaps(tgt_singles, K),
        src_len,
        tgt_len,
        params,
    )
    return [
        (b.src[0], b.tgt[0])
        for b in first.beads
        if len(b.src) == 1 and len(b.tgt) == 1 and b.score >= params.confident_score
    ]


def embed_open_overlaps(
    sides: Sequence[Sequence[str]], encoder, params
) -> tuple[list[np.ndarray], int, float]:
    """Overlap arrays (K, n, d) of two sides for ``align_texts``: sentences first (one
    encoder call), then only the runs a first pass leaves open (a second call). Returns
    the arrays, the number of distinct texts embedded and the first pass's seconds (aligner
    time, not encoder time)."""
    import time

    from pipeline.align import normalize_rows

    src, tgt = (list(s) for s in sides)
    unique = list(dict.fromkeys(src + tgt))
    vec = dict(zip(unique, normalize_rows(encoder.encode(unique)), strict=True)) if unique else {}
    dim = encoder.dim
    singles = [
        np.stack([vec[t] for t in s]) if s else np.zeros((0, dim), np.float32) for s in (src, tgt)
    ]
    lens = [np.array([len(t) for t in s], dtype=np.float64) for s in (src, tgt)]
    started = time.perf_counter()
    links = first_pass_links(singles[0], singles[1], lens[0], lens[1], params)
    first_pass_s = time.perf_counter() - started
    closed = closed_boundaries(links, len(src), len(tgt))
    K = params.max_overlap
    starts = [open_runs(c, len(s), K) for c, s in zip(closed, (src, tgt), strict=True)]
    wanted = [t for s, st in zip((src, tgt), starts, strict=True) for t in wanted_texts(s, st)]
    second = [t for t in dict.fromkeys(wanted) if t not in vec]
    if second:
        vec.update(zip(second, normalize_rows(encoder.encode(second)), strict=True))

    def lookup(texts: list[str]) -> np.ndarray:
        return np.stack([vec[t] for t in texts])

    arrays = [
        mixed_overlaps(single, s, st, lookup)
        for single, s, st in zip(singles, (src, tgt), starts, strict=True)
    ]
    return arrays, len(vec), first_pass_s
