"""Hierarchical alignment of one English-Chinese document pair: structure, paragraphs, sentences.

Why hierarchical: a UN resolution states much of its own alignment. Footnotes carry numbers,
operative paragraphs carry numbers, and headings, preamble, operative part and closing lines
come in the same order in every language version. Using that structure first means an
embedding error can only ever move a sentence inside its own paragraph group, and the
embedding DP (``pipeline.align``) only has to decide what the structure leaves open:

1. **Structure**: footnotes pair by number, operative paragraphs (with their sub-paragraphs)
   by number when both sides carry the same numbers, heading/title blocks among themselves,
   preambles among themselves, closing lines among themselves. Whatever finds no partner
   goes to a leftover segment aligned by the DP, so nothing is ever dropped.
2. **Paragraphs**: the DP over block embeddings inside each segment (1-1, 1-2, 2-1, 1-0, 0-1
   and up to 3 blocks a side), e.g. two English preambular paragraphs merged into one
   Chinese paragraph.
3. **Sentences**: the DP over sentence overlap embeddings inside each aligned paragraph group.

Small groups of short lines (the closing: "37th plenary meeting" / "7 December 2020" against
"2020年12月7日" / "第37次全体会议") are matched by the best *assignment*, which may cross, so
a locally swapped pair cannot derail what follows. Everywhere else alignment is monotone.

Margins, score scale and length ratio are estimated once over the whole document and passed
to every piece (``align.Calibration``): a two-sentence paragraph has no neighbourhood of its
own to estimate them from.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from pipeline.align import (
    AlignParams,
    Calibration,
    Encoder,
    align_embeddings,
    hub_k,
    hubness_against,
    length_term,
    normalize_rows,
    overlap_texts,
)
from pipeline.data import Bead, Document, DocumentPair, Sentence
from pipeline.overlaps import mixed_overlaps, open_runs, piece_closed, wanted_texts
from pipeline.segment import segment_document

#: Block kinds aligned among themselves, in document order.
HEAD_KINDS = ("heading", "title")
#: Closing groups up to this many sentences a side are matched by best assignment.
MAX_ASSIGN_SENTENCES = 6


@dataclass
class PairAlignment:
    """Sentence and paragraph beads of one pair (en = src, zh = tgt), with the embeddings."""

    en_sentences: list[Sentence]
    zh_sentences: list[Sentence]
    beads: list[Bead]
    paragraph_beads: list[Bead]
    en_embeddings: np.ndarray
    zh_embeddings: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class Segment:
    """Blocks of both sides that the structure says belong together.

    ``mode``: "dp" (paragraph DP inside), "fixed" (the blocks are one paragraph bead) or
    "assign" (best sentence assignment, crossings allowed).
    """

    mode: str
    en: list[int]
    zh: list[int]
    label: str = ""


# ------------------------------------------------------------------ structure


def _groups(doc: Document) -> dict[str, list[list[int]]]:
    """Blocks of a document by section; operative paragraphs grouped with their
    sub-paragraphs; sub-paragraphs elsewhere stay with the section they follow."""
    sections: dict[str, list[list[int]]] = {
        "head": [],
        "preamble": [],
        "operative": [],
        "closing": [],
        "footnote": [],
        "other": [],
    }
    current = "head"
    for index, block in enumerate(doc.blocks):
        kind = block.kind
        if kind in HEAD_KINDS:
            current = "head"
            sections["head"].append([index])
        elif kind == "preamble":
            current = "preamble"
            sections["preamble"].append([index])
        elif kind == "operative":
            current = "operative"
            sections["operative"].append([index])
        elif kind == "subparagraph":
            if current == "operative" and sections["operative"]:
                sections["operative"][-1].append(index)
            else:
                sections[current].append([index])
        elif kind == "closing":
            sections["closing"].append([index])
        elif kind == "footnote":
            sections["footnote"].append([index])
        else:
            sections["other"].append([index])
    return sections


def _flat(groups: list[list[int]]) -> list[int]:
    return [i for group in groups for i in group]


def _numbered(doc: Document, groups: list[list[int]]) -> dict[str, list[int]] | None:
    """Groups keyed by their first block's number; None if any is unnumbered or repeated."""
    out: dict[str, list[int]] = {}
    for group in groups:
        number = (doc.blocks[group[0]].number or "").strip().rstrip(".")
        if not number or number in out:
            return None
        out[number] = group
    return out


def structural_segments(en: Document, zh: Document) -> list[Segment]:
    """Split a pair into segments that align independently (see module docstring)."""
    ge, gz = _groups(en), _groups(zh)
    segments: list[Segment] = []
    leftover_en: list[int] = []
    leftover_zh: list[int] = []
    segments.append(Segment("dp", _flat(ge["head"]), _flat(gz["head"]), "head"))
    segments.append(Segment("dp", _flat(ge["preamble"]), _flat(gz["preamble"]), "preamble"))

    ops_en = _numbered(en, ge["operative"])
    ops_zh = _numbered(zh, gz["operative"])
    if ops_en is not None and ops_zh is not None and set(ops_en) == set(ops_zh) and ops_en:
        for number, group in ops_en.items():
            mode = "fixed" if len(group) == 1 and len(ops_zh[number]) == 1 else "dp"
            segments.append(Segment(mode, group, ops_zh[number], f"op{number}"))
    else:
        segments.append(Segment("dp", _flat(ge["operative"]), _flat(gz["operative"]), "operative"))

    segments.append(Segment("assign", _flat(ge["closing"]), _flat(gz["closing"]), "closing"))

    fn_en = {}
    for group in ge["footnote"]:
        number = (en.blocks[group[0]].number or "").strip()
        if number and number not in fn_en:
            fn_en[number] = group
        else:
            leftover_en.extend(group)
    fn_zh = {}
    for group in gz["footnote"]:
        number = (zh.blocks[group[0]].number or "").strip()
        if number and number not in fn_zh:
            fn_zh[number] = group
        else:
            leftover_zh.extend(group)
    for number, group in fn_en.items():
        if number in fn_zh:
            segments.append(Segment("fixed", group, fn_zh[number], f"fn{number}"))
        else:
            leftover_en.extend(group)
    leftover_zh.extend(i for number, g in fn_zh.items() if number not in fn_en for i in g)
    leftover_en.extend(_flat(ge["other"]))
    leftover_zh.extend(_flat(gz["other"]))
    segments.append(Segment("dp", sorted(leftover_en), sorted(leftover_zh), "leftover"))
    return [s for s in segments if s.en or s.zh]


# ------------------------------------------------------------------- embedding


class _Embedder:
    """Memoised access to the encoder: every text is encoded once per pair, in batches."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.vectors: dict[str, np.ndarray] = {}
        self.seconds = 0.0
        self.calls = 0

    def prefetch(self, texts: list[str]) -> None:
        new = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if not new:
            return
        start = time.perf_counter()
        vecs = normalize_rows(self.encoder.encode(new))
        self.seconds += time.perf_counter() - start
        self.calls += 1
        self.vectors.update(zip(new, vecs, strict=True))

    def matrix(self, texts: list[str]) -> np.ndarray:
        self.prefetch(texts)
        dim = self.encoder.dim
        if not texts:
            return np.zeros((0, dim), np.float32)
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)

    def overlaps(self, texts: list[str], max_overlap: int) -> np.ndarray:
        levels = overlap_texts(texts, max_overlap)
        out = np.zeros((max_overlap, len(texts), self.encoder.dim), np.float32)
        for k, level in enumerate(levels):
            if level:
                out[k, : len(level)] = self.matrix(level)
        return out


def _calibrate(
    en_vecs: np.ndarray,
    zh_vecs: np.ndarray,
    en_len: np.ndarray,
    zh_len: np.ndarray,
    k: int,
    window: int | None,
    z: float = 0.0,
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Document-wide scale (median best 1-1 margin), length ratio and single-item hubness.

    Neighbourhoods are taken around the diagonal (``window`` positions), as in the core:
    repeated boilerplate must not become its own nearest neighbour, and cost stays linear.
    """
    ratio = float(en_len.sum()) / float(zh_len.sum()) if zh_len.sum() > 0 else 1.0
    n, m = len(en_vecs), len(zh_vecs)
    en_centre = (np.arange(n) + 0.5) * (m / max(n, 1))
    zh_centre = (np.arange(m) + 0.5) * (n / max(m, 1))
    hub_en = hubness_against(en_vecs[None], zh_vecs, k, en_centre, window, z=z)[0, 1:]
    hub_zh = hubness_against(zh_vecs[None], en_vecs, k, zh_centre, window, z=z)[0, 1:]
    best = np.full(n, -np.inf)
    w = window if window is not None else max(n, m)
    for s0 in range(0, n, 256):
        s1 = min(n, s0 + 256)
        c0 = max(0, int(en_centre[s0]) - w)
        c1 = min(m, int(en_centre[s1 - 1]) + w + 1)
        if c1 <= c0:
            continue
        sims = en_vecs[s0:s1] @ zh_vecs[c0:c1].T
        margin = sims - 0.5 * (hub_en[s0:s1, None] + hub_zh[None, c0:c1])
        best[s0:s1] = margin.max(axis=1)
    finite = best[np.isfinite(best)]
    scale = float(np.median(finite)) if len(finite) else 1.0
    return max(scale, 1e-3), ratio if ratio > 0 else 1.0, hub_en, hub_zh


def _span(indices: list[int]) -> tuple[int, int]:
    return (min(indices), max(indices) + 1) if indices else (0, 0)


def _span_centre(length: int, span: tuple[int, int]) -> np.ndarray:
    """Expected partner position of each item of a piece, spread evenly over ``span``."""
    lo, hi = span
    return lo + (np.arange(length) + 0.5) * ((hi - lo) / max(length, 1))


def _align_piece(
    en_texts: list[str],
    zh_texts: list[str],
    embedder: _Embedder,
    params: AlignParams,
    scale: float,
    ratio: float,
    en_all: np.ndarray,
    zh_all: np.ndarray,
    en_span: tuple[int, int],
    zh_span: tuple[int, int],
    closed: tuple[np.ndarray, ...] | None = None,
) -> list[Bead]:
    """Monotone DP over one piece with document-level calibration; local indices.

    ``en_span`` / ``zh_span``: where the piece lies in the whole document on each side
    (index range in ``en_all`` / ``zh_all``), the centre of each side's neighbourhood.
    ``closed``: boundaries between confidently linked neighbours (pipeline.overlaps);
    runs across them are not embedded but summed from their sentences."""
    if not en_texts or not zh_texts:
        return [Bead([i], [], params.skip_penalty) for i in range(len(en_texts))] + [
            Bead([], [j], params.skip_penalty) for j in range(len(zh_texts))
        ]
    K = params.max_overlap
    if closed is None:
        en_ov = embedder.overlaps(en_texts, K)
        zh_ov = embedder.overlaps(zh_texts, K)
    else:
        en_ov, zh_ov = (
            mixed_overlaps(
                embedder.matrix(texts), texts, open_runs(c, len(texts), K), embedder.matrix
            )
            for texts, c in ((en_texts, closed[0]), (zh_texts, closed[1]))
        )
    calibration = Calibration(
        scale=scale,
        ratio=ratio,
        src_hub=hubness_against(
            en_ov, zh_all, hub_k(params), _span_centre(len(en_texts), zh_span), params.hub_window,
            z=params.hub_z,
        ),
        tgt_hub=hubness_against(
            zh_ov, en_all, hub_k(params), _span_centre(len(zh_texts), en_span), params.hub_window,
            z=params.hub_z,
        ),
    )
    result = align_embeddings(
        en_ov,
        zh_ov,
        [len(t) for t in en_texts],
        [len(t) for t in zh_texts],
        params,
        calibration,
    )
    return result.beads


def _assign(
    en_idx: list[int],
    zh_idx: list[int],
    en_vecs: np.ndarray,
    zh_vecs: np.ndarray,
    en_hub: np.ndarray,
    zh_hub: np.ndarray,
    en_len: np.ndarray,
    zh_len: np.ndarray,
    scale: float,
    ratio: float,
    params: AlignParams,
) -> list[Bead]:
    """Best 1-1 assignment (crossings allowed) between two small sets of sentences.

    Exhaustive over permutations of the padded score matrix: a pair is kept only where it
    beats leaving both sentences unaligned (two skips)."""
    p, q = len(en_idx), len(zh_idx)
    if p == 0 or q == 0:
        return [Bead([i], [], params.skip_penalty) for i in en_idx] + [
            Bead([], [j], params.skip_penalty) for j in zh_idx
        ]
    cos = en_vecs[en_idx] @ zh_vecs[zh_idx].T
    margin = cos - 0.5 * (en_hub[en_idx][:, None] + zh_hub[zh_idx][None, :])
    lengths = length_term(en_len[en_idx][:, None], zh_len[zh_idx][None, :], ratio)
    score = margin / scale + params.length_weight * lengths
    size = max(p, q)
    value = np.full((size, size), params.skip_penalty, dtype=np.float64)
    value[:p, :q] = np.maximum(score, 2 * params.skip_penalty)
    perms = np.array(list(itertools.permutations(range(size))))
    totals = value[np.arange(size)[None, :], perms].sum(axis=1)
    best = perms[int(np.argmax(totals))]
    beads: list[Bead] = []
    used: set[int] = set()
    for r in range(p):
        c = int(best[r])
        if c < q and score[r, c] > 2 * params.skip_penalty:
            beads.append(
                Bead(
                    [en_idx[r]],
                    [zh_idx[c]],
                    round(float(score[r, c]), 4),
                    round(float(margin[r, c]), 4),
                )
            )
            used.add(c)
        else:
            beads.append(Bead([en_idx[r]], [], params.skip_penalty))
    beads.extend(Bead([], [zh_idx[c]], params.skip_penalty) for c in range(q) if c not in used)
    return beads


def _order(beads: list[Bead]) -> list[Bead]:
    """Beads in English order; a Chinese-only bead goes right after the bead holding the
    preceding Chinese index (so insertions stay where they are in the Chinese text)."""
    keyed: dict[int, tuple[float, int]] = {}
    with_src = [b for b in beads if b.src]
    for b in with_src:
        for j in b.tgt:
            keyed[j] = (min(b.src), 0)
    result_keys: list[tuple[float, int, int]] = []
    for b in with_src:
        result_keys.append((min(b.src), 0, min(b.tgt) if b.tgt else -1))
    for b in sorted((b for b in beads if not b.src), key=lambda b: min(b.tgt)):
        t = min(b.tgt)
        prev = max((j for j in keyed if j < t), default=None)
        if prev is None:
            anchor = -0.5
        else:
            anchor = keyed[prev][0] + (0.5 if keyed[prev][1] == 0 else 0.0)
        for j in b.tgt:
            keyed[j] = (anchor, 1)
        result_keys.append((anchor, 1, t))
    ordered_beads = with_src + sorted((b for b in beads if not b.src), key=lambda b: min(b.tgt))
    order = sorted(range(len(ordered_beads)), key=lambda k: result_keys[k])
    return [ordered_beads[k] for k in order]


def _paragraph_beads_from_sentences(
    beads: list[Bead],
    en_block: list[int],
    zh_block: list[int],
    en_blocks: list[int],
    zh_blocks: list[int],
    skip_score: float,
) -> list[Bead]:
    """Connected components of blocks linked by sentence beads (for assign segments)."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(x: tuple[str, int]) -> tuple[str, int]:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    scores: dict[tuple[str, int], list[float]] = {}
    for b in beads:
        nodes = [("en", en_block[i]) for i in b.src] + [("zh", zh_block[j]) for j in b.tgt]
        for node in nodes[1:]:
            parent[find(node)] = find(nodes[0])
        if b.src and b.tgt:
            scores.setdefault(nodes[0], []).append(b.score)
    for blk in en_blocks:
        find(("en", blk))
    for blk in zh_blocks:
        find(("zh", blk))
    comps: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for node in list(parent):
        comps.setdefault(find(node), []).append(node)
    out = []
    for members in comps.values():
        src = sorted(i for side, i in members if side == "en")
        tgt = sorted(j for side, j in members if side == "zh")
        vals = [v for node in members for v in scores.get(node, [])]
        score = round(float(np.mean(vals)), 4) if (src and tgt and vals) else skip_score
        out.append(Bead(src, tgt, score if (src and tgt) else skip_score))
    return out


@dataclass
class PairCalibration:
    """Document-level scoring context: (en vecs, zh vecs, en hub, zh hub, scale) for
    sentences and for blocks, and the two length ratios."""

    sentences: tuple
    blocks: tuple
    ratio: float
    block_ratio: float


def calibrate_pair(
    pair: DocumentPair,
    en_sents: list[Sentence],
    zh_sents: list[Sentence],
    vectors: Callable[[list[str]], np.ndarray],
    params: AlignParams,
) -> PairCalibration:
    """Vectors (normalised, from ``vectors``), hubness and scale of sentences and blocks:
    what align_pair and the build's prefetch (pipeline.overlaps) both decide from."""
    k, w, z = hub_k(params), params.hub_window, params.hub_z
    out = []
    for en_texts, zh_texts in (
        ([s.text for s in en_sents], [s.text for s in zh_sents]),
        ([b.text for b in pair.en.blocks], [b.text for b in pair.zh.blocks]),
    ):
        en_v, zh_v = vectors(en_texts), vectors(zh_texts)
        en_l = np.array([len(t) for t in en_texts], dtype=np.float64)
        zh_l = np.array([len(t) for t in zh_texts], dtype=np.float64)
        scale, ratio, en_h, zh_h = _calibrate(en_v, zh_v, en_l, zh_l, k, w, z)
        out.append(((en_v, zh_v, en_h, zh_h, scale), ratio))
    return PairCalibration(out[0][0], out[1][0], out[0][1], out[1][1])


def align_pair(
    pair: DocumentPair, encoder: Encoder, params: AlignParams | None = None
) -> PairAlignment:
    """Align an English-Chinese pair hierarchically (module docstring). en = src, zh = tgt."""
    params = params or AlignParams()
    start = time.perf_counter()
    en_sents = segment_document(pair.en)
    zh_sents = segment_document(pair.zh)
    t_segment = time.perf_counter() - start
    embedder = _Embedder(encoder)
    en_block_texts = [b.text for b in pair.en.blocks]
    zh_block_texts = [b.text for b in pair.zh.blocks]
    segments = structural_segments(pair.en, pair.zh)
    para_params = replace(
        params, max_overlap=min(3, params.max_overlap), max_bead_size=min(4, params.max_bead_size)
    )
    # batch 1: every sentence and block; batch 2: block overlaps the paragraph DP can use
    embedder.prefetch(
        [s.text for s in en_sents] + [s.text for s in zh_sents] + en_block_texts + zh_block_texts
    )
    cal = calibrate_pair(pair, en_sents, zh_sents, embedder.matrix, params)
    en_vecs, zh_vecs, en_hub, zh_hub, s_scale = cal.sentences
    en_bvecs, zh_bvecs, en_bhub, zh_bhub, p_scale = cal.blocks
    ratio, p_ratio = cal.ratio, cal.block_ratio
    en_len = np.array([len(s.text) for s in en_sents], dtype=np.float64)
    zh_len = np.array([len(s.text) for s in zh_sents], dtype=np.float64)
    block_closed = {
        k: piece_closed(seg.en, seg.zh, *cal.blocks)
        for k, seg in enumerate(segments)
        if seg.mode == "dp"
    }
    embedder.prefetch(
        [
            text
            for k, closed in block_closed.items()
            for texts, idx, c in (
                (en_block_texts, segments[k].en, closed[0]),
                (zh_block_texts, segments[k].zh, closed[1]),
            )
            for text in wanted_texts(
                [texts[i] for i in idx], open_runs(c, len(idx), para_params.max_overlap)
            )
        ]
    )

    # paragraph level
    paragraph_beads: list[Bead] = []
    groups: list[tuple[str, list[int], list[int]]] = []  # (mode, en blocks, zh blocks)
    for k_seg, seg in enumerate(segments):
        if seg.mode == "assign":
            groups.append(("assign", seg.en, seg.zh))
            continue
        if seg.mode == "fixed":
            # numbered partners: one paragraph bead whatever the similarity, scored like
            # any other bead so filters can still drop a bad translation
            cos = float(np.mean(en_bvecs[seg.en] @ zh_bvecs[seg.zh].T))
            marg = cos - 0.5 * float(np.mean(en_bhub[seg.en]) + np.mean(zh_bhub[seg.zh]))
            local = [
                Bead(
                    list(range(len(seg.en))),
                    list(range(len(seg.zh))),
                    round(marg / p_scale, 4),
                    round(marg, 4),
                )
            ]
        else:
            local = _align_piece(
                [en_block_texts[i] for i in seg.en],
                [zh_block_texts[j] for j in seg.zh],
                embedder,
                para_params,
                p_scale,
                p_ratio,
                en_bvecs,
                zh_bvecs,
                _span(seg.en),
                _span(seg.zh),
                block_closed.get(k_seg),
            )
        for b in local:
            bead = Bead([seg.en[i] for i in b.src], [seg.zh[j] for j in b.tgt], b.score, b.margin)
            paragraph_beads.append(bead)
            groups.append(("dp", bead.src, bead.tgt))
    t_paragraphs = time.perf_counter() - start

    # sentence level: batch 2 = sentence overlaps of every paragraph group
    en_of_block: dict[int, list[int]] = {}
    zh_of_block: dict[int, list[int]] = {}
    for i, s in enumerate(en_sents):
        en_of_block.setdefault(s.block, []).append(i)
    for j, s in enumerate(zh_sents):
        zh_of_block.setdefault(s.block, []).append(j)
    pieces = []
    second_batch: list[str] = []
    for mode, eb, zb in groups:
        ei = [i for blk in eb for i in en_of_block.get(blk, [])]
        zj = [j for blk in zb for j in zh_of_block.get(blk, [])]
        closed = piece_closed(ei, zj, *cal.sentences) if ei and zj else None
        pieces.append((mode, eb, zb, ei, zj, closed))
        if mode == "dp" and closed is not None:
            for sents, idx, c in ((en_sents, ei, closed[0]), (zh_sents, zj, closed[1])):
                local = [sents[k].text for k in idx]
                second_batch += wanted_texts(local, open_runs(c, len(idx), params.max_overlap))
    embedder.prefetch(second_batch)

    beads: list[Bead] = []
    en_block_of = [s.block for s in en_sents]
    zh_block_of = [s.block for s in zh_sents]
    for mode, eb, zb, ei, zj, closed in pieces:
        if mode == "assign" and len(ei) <= MAX_ASSIGN_SENTENCES and len(zj) <= MAX_ASSIGN_SENTENCES:
            local_beads = _assign(
                ei, zj, en_vecs, zh_vecs, en_hub, zh_hub, en_len, zh_len, s_scale, ratio, params
            )
            beads.extend(local_beads)
            paragraph_beads.extend(
                _paragraph_beads_from_sentences(
                    local_beads, en_block_of, zh_block_of, eb, zb, params.skip_penalty
                )
            )
            continue
        local = _align_piece(
            [en_sents[k].text for k in ei],
            [zh_sents[k].text for k in zj],
            embedder,
            params,
            s_scale,
            ratio,
            en_vecs,
            zh_vecs,
            _span(ei),
            _span(zj),
            closed,
        )
        beads.extend(
            Bead([ei[i] for i in b.src], [zj[j] for j in b.tgt], b.score, b.margin) for b in local
        )
        if mode == "assign":  # too big to assign: DP, and its paragraph beads follow
            paragraph_beads.extend(
                _paragraph_beads_from_sentences(
                    beads[-len(local) :], en_block_of, zh_block_of, eb, zb, params.skip_penalty
                )
            )
    timings = {
        "segment": t_segment,
        "embed": embedder.seconds,
        "encoder_calls": float(embedder.calls),
        "paragraphs": t_paragraphs - t_segment,
        "total": time.perf_counter() - start,
    }
    timings["align"] = timings["total"] - timings["embed"] - t_segment
    return PairAlignment(
        en_sentences=en_sents,
        zh_sentences=zh_sents,
        beads=_order(beads),
        paragraph_beads=_order(paragraph_beads),
        en_embeddings=en_vecs,
        zh_embeddings=zh_vecs,
        timings=timings,
    )
