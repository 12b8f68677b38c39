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
from dataclasses import dataclass, field, replace

import numpy as np

from pipeline.align import AlignParams, Encoder
from pipeline.align.document.pieces import (  # noqa: F401  (re-exported for callers of docalign)
    Embedder,
    PairCalibration,
    align_piece,
    calibrate_pair,
    span_of,
)
from pipeline.align.document.structure import HEAD_KINDS, Segment, structural_segments  # noqa: F401
from pipeline.align.overlaps import open_runs, piece_closed, wanted_texts
from pipeline.align.scoring import length_term
from pipeline.data import Bead, DocumentPair, Sentence
from pipeline.text.segment import segment_document

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


# ------------------------------------------------------------------- embedding


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
class _Pair:
    """What every level of align_pair reads: sentences, embedder, calibration."""

    pair: DocumentPair
    params: AlignParams
    embedder: Embedder
    en_sents: list[Sentence]
    zh_sents: list[Sentence]
    cal: PairCalibration

    @property
    def blocks(self) -> tuple[list[str], list[str]]:
        return [b.text for b in self.pair.en.blocks], [b.text for b in self.pair.zh.blocks]


def _paragraph_level(
    ctx: _Pair, segments: list[Segment]
) -> tuple[list[Bead], list[tuple[str, list[int], list[int]]]]:
    """Paragraph beads and the groups (mode, en blocks, zh blocks) the sentence level
    aligns inside; embeds the block overlaps the paragraph DP can use (one call)."""
    params = ctx.params
    para_params = replace(
        params, max_overlap=min(3, params.max_overlap), max_bead_size=min(4, params.max_bead_size)
    )
    en_block_texts, zh_block_texts = ctx.blocks
    en_bvecs, zh_bvecs, en_bhub, zh_bhub, p_scale = ctx.cal.blocks
    block_closed = {
        k: piece_closed(seg.en, seg.zh, *ctx.cal.blocks, params.confident_score)
        for k, seg in enumerate(segments)
        if seg.mode == "dp"
    }
    ctx.embedder.prefetch(
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
    paragraph_beads: list[Bead] = []
    groups: list[tuple[str, list[int], list[int]]] = []
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
            local = align_piece(
                [en_block_texts[i] for i in seg.en],
                [zh_block_texts[j] for j in seg.zh],
                ctx.embedder,
                para_params,
                p_scale,
                ctx.cal.block_ratio,
                en_bvecs,
                zh_bvecs,
                span_of(seg.en),
                span_of(seg.zh),
                block_closed.get(k_seg),
            )
        for b in local:
            bead = Bead([seg.en[i] for i in b.src], [seg.zh[j] for j in b.tgt], b.score, b.margin)
            paragraph_beads.append(bead)
            groups.append(("dp", bead.src, bead.tgt))
    return paragraph_beads, groups


def _sentence_pieces(ctx: _Pair, groups: list[tuple[str, list[int], list[int]]]) -> list[tuple]:
    """(mode, en blocks, zh blocks, en sentences, zh sentences, closed boundaries) per
    group; embeds the sentence overlaps their DPs can use (one call)."""
    en_of_block: dict[int, list[int]] = {}
    zh_of_block: dict[int, list[int]] = {}
    for i, s in enumerate(ctx.en_sents):
        en_of_block.setdefault(s.block, []).append(i)
    for j, s in enumerate(ctx.zh_sents):
        zh_of_block.setdefault(s.block, []).append(j)
    pieces = []
    batch: list[str] = []
    threshold, K = ctx.params.confident_score, ctx.params.max_overlap
    for mode, eb, zb in groups:
        ei = [i for blk in eb for i in en_of_block.get(blk, [])]
        zj = [j for blk in zb for j in zh_of_block.get(blk, [])]
        closed = piece_closed(ei, zj, *ctx.cal.sentences, threshold) if ei and zj else None
        pieces.append((mode, eb, zb, ei, zj, closed))
        if mode == "dp" and closed is not None:
            for sents, idx, c in ((ctx.en_sents, ei, closed[0]), (ctx.zh_sents, zj, closed[1])):
                batch += wanted_texts([sents[k].text for k in idx], open_runs(c, len(idx), K))
    ctx.embedder.prefetch(batch)
    return pieces


def _sentence_level(ctx: _Pair, pieces: list[tuple], paragraph_beads: list[Bead]) -> list[Bead]:
    """Sentence beads of every piece; an "assign" piece adds its paragraph beads too."""
    params = ctx.params
    en_vecs, zh_vecs, en_hub, zh_hub, s_scale = ctx.cal.sentences
    en_len = np.array([len(s.text) for s in ctx.en_sents], dtype=np.float64)
    zh_len = np.array([len(s.text) for s in ctx.zh_sents], dtype=np.float64)
    en_block_of = [s.block for s in ctx.en_sents]
    zh_block_of = [s.block for s in ctx.zh_sents]
    beads: list[Bead] = []
    for mode, eb, zb, ei, zj, closed in pieces:
        if mode == "assign" and len(ei) <= MAX_ASSIGN_SENTENCES and len(zj) <= MAX_ASSIGN_SENTENCES:
            local = _assign(
                ei, zj, en_vecs, zh_vecs, en_hub, zh_hub, en_len, zh_len, s_scale, ctx.cal.ratio,
                params,
            )  # fmt: skip
        else:
            local = [
                Bead([ei[i] for i in b.src], [zj[j] for j in b.tgt], b.score, b.margin)
                for b in align_piece(
                    [ctx.en_sents[k].text for k in ei],
                    [ctx.zh_sents[k].text for k in zj],
                    ctx.embedder,
                    params,
                    s_scale,
                    ctx.cal.ratio,
                    en_vecs,
                    zh_vecs,
                    span_of(ei),
                    span_of(zj),
                    closed,
                )
            ]
        beads.extend(local)
        if mode == "assign":  # paragraph beads follow the sentence beads here
            paragraph_beads.extend(
                _paragraph_beads_from_sentences(
                    local, en_block_of, zh_block_of, eb, zb, params.skip_penalty
                )
            )
    return beads


def align_pair(
    pair: DocumentPair,
    encoder: Encoder,
    params: AlignParams | None = None,
    *,
    sentences: tuple[list[Sentence], list[Sentence]] | None = None,
) -> PairAlignment:
    """Align an English-Chinese pair hierarchically (module docstring). en = src, zh = tgt.

    At most three encoder calls: every sentence and block; the block overlaps the
    paragraph DP can use; the sentence overlaps the groups' DPs can use
    (pipeline.align.overlaps). ``sentences``: the pair's (en, zh) sentences when the
    caller segmented it already (the build's embed stage); else they are segmented here."""
    params = params or AlignParams()
    start = time.perf_counter()
    if sentences is None:
        sentences = segment_document(pair.en), segment_document(pair.zh)
    en_sents, zh_sents = sentences
    t_segment = time.perf_counter() - start
    embedder = Embedder(encoder)
    embedder.prefetch(
        [s.text for s in en_sents]
        + [s.text for s in zh_sents]
        + [b.text for b in pair.en.blocks]
        + [b.text for b in pair.zh.blocks]
    )
    cal = calibrate_pair(pair, en_sents, zh_sents, embedder.matrix, params)
    ctx = _Pair(pair, params, embedder, en_sents, zh_sents, cal)
    paragraph_beads, groups = _paragraph_level(ctx, structural_segments(pair.en, pair.zh))
    t_paragraphs = time.perf_counter() - start
    beads = _sentence_level(ctx, _sentence_pieces(ctx, groups), paragraph_beads)
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
        en_embeddings=cal.sentences[0],
        zh_embeddings=cal.sentences[1],
        timings=timings,
    )
