"""The aligner with an encoder: ``align_texts`` (what ``align-text`` runs, and what the
build runs over each document pair's sentences) and its final pass ``align_planned``."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from pipeline.align.anchors import Anchors
from pipeline.align.evidence import sentence_evidence
from pipeline.align.overlaps import AlignPlan, plan_alignment, planned_overlaps, single_texts
from pipeline.align.params import AlignParams, AlignResult
from pipeline.align.search import align_embeddings
from pipeline.embed.base import Encoder
from pipeline.records import Bead


def overlap_texts(sentences: Sequence[str], max_overlap: int, joiner: str = " ") -> list[list[str]]:
    """texts[k-1][s] = sentences s..s+k-1 joined (Bertalign/Vecalign overlaps)."""
    return [
        [joiner.join(sentences[s : s + k]) for s in range(len(sentences) - k + 1)]
        for k in range(1, max_overlap + 1)
    ]


def embed_overlaps(
    sides: Sequence[Sequence[str]], encoder: Encoder, max_overlap: int
) -> list[np.ndarray]:
    """Overlap embeddings (K, n, d) for each side, with ONE encoder call over the distinct
    texts of all sides (the encoder is the cost; duplicates such as numbers are common)."""
    per_side = [overlap_texts(s, max_overlap) for s in sides]
    unique: dict[str, int] = {}
    for texts in per_side:
        for level in texts:
            for text in level:
                unique.setdefault(text, len(unique))
    vectors = (
        np.asarray(encoder.encode(list(unique)), dtype=np.float32)  # unit rows (Encoder)
        if unique
        else np.zeros((0, encoder.dim), np.float32)
    )
    out = []
    for sents, texts in zip(sides, per_side, strict=True):
        arr = np.zeros((max_overlap, len(sents), vectors.shape[1]), dtype=np.float32)
        for k, level in enumerate(texts):
            if level:
                arr[k, : len(level)] = vectors[[unique[t] for t in level]]
        out.append(arr)
    return out


def align_texts(
    src: Sequence[str],
    tgt: Sequence[str],
    encoder: Encoder,
    params: AlignParams | None = None,
    anchors: Anchors | None = None,
) -> AlignResult:
    """Align two lists of sentences (any language order): what ``align-text`` runs, and
    ``pipeline.align.document.align_pair`` over a document pair's sentences.

    Two encoder calls: the sentences, then the overlaps the plan calls for
    (pipeline.align.overlaps.plan_alignment); then :func:`align_planned`. ``anchors``
    (pipeline.align.anchors, over these sentences) add the structure term.
    """
    params = params or AlignParams()
    t0 = time.perf_counter()
    first = single_texts(src, tgt)
    vectors = dict(zip(first, _encode(encoder, first), strict=True))
    plan = plan_alignment(src, tgt, vectors, params, anchors)
    second = [t for t in plan.overlap_texts() if t not in vectors]
    if second:
        vectors.update(zip(second, _encode(encoder, second), strict=True))
    t_embed = time.perf_counter() - t0 - plan.first_pass_s
    result = align_planned(plan, vectors, params, anchors)
    result.timings["embed"] = t_embed
    result.timings["texts_embedded"] = float(len(vectors))
    return result


def _encode(encoder: Encoder, texts: list[str]) -> np.ndarray:
    """The encoder's unit rows (pipeline.embed.base.Encoder), float32."""
    return np.asarray(encoder.encode(texts), dtype=np.float32)


def align_planned(
    plan: AlignPlan,
    vectors: Mapping[str, np.ndarray],
    params: AlignParams | None = None,
    anchors: Anchors | None = None,
) -> AlignResult:
    """The final pass of a plan: beads over the plan's input sentences (blank lines put
    back), from ``vectors`` (text -> unit vector for every text of ``plan.texts()``),
    with the lexical evidence and the structure term (``anchors`` as given to the plan).

    Blank sentences carry no meaning to embed: they are aligned afterwards, blank to blank
    where both sides have blanks at the same place (paragraph breaks, as hunalign's <p>),
    otherwise as 1-0/0-1 beads right after the bead of the preceding sentence.
    """
    params = params or AlignParams()
    (src_ov, tgt_ov), (src_len, tgt_len) = planned_overlaps(plan, vectors)
    # the words and anchors serve both lexical terms (pipeline.align.evidence.LexicalSupport)
    lexical_terms = max(params.lexical_weight, params.link_weight) > 0
    result = align_embeddings(
        src_ov,
        tgt_ov,
        src_len,
        tgt_len,
        params,
        evidence=sentence_evidence(plan.src, plan.tgt) if lexical_terms else None,
        coarse=plan.coarse,
        anchors=anchors.kept(plan.src_keep, plan.tgt_keep) if anchors is not None else None,
    )
    src_keep, tgt_keep = plan.src_keep, plan.tgt_keep
    beads = [
        Bead(
            _span([src_keep[i] for i in b.src]),
            _span([tgt_keep[j] for j in b.tgt]),
            b.score,
            b.margin,
        )
        for b in result.beads
    ]
    swapped = {id(beads[swap.bead]): swap for swap in result.swaps}
    beads = insert_blank_lines(beads, plan.n_src, plan.n_tgt)
    swaps = [replace(swapped[id(b)], bead=k) for k, b in enumerate(beads) if id(b) in swapped]
    timings = dict(result.timings)
    timings["first_pass"] = plan.first_pass_s  # aligner time spent choosing the overlaps
    timings["align"] = timings.get("align", 0.0) + plan.first_pass_s
    return AlignResult(beads, timings, swaps)


def _span(indices: list[int]) -> list[int]:
    """A merged bead that spans a blank line takes the blank in, keeping beads in order."""
    return list(range(indices[0], indices[-1] + 1)) if indices else []


def insert_blank_lines(beads: list[Bead], n_src: int, n_tgt: int) -> list[Bead]:
    """Put back the sentences left out of the DP (blank lines) so every index is covered.

    Each blank goes right after the bead holding the nearest preceding kept sentence of its
    side; where blanks of both sides land at the same place they pair up 1-1 (a paragraph
    break on both sides), the rest become 1-0 / 0-1 beads with score 0.
    """
    src_covered = {i for bead in beads for i in bead.src}
    tgt_covered = {j for bead in beads for j in bead.tgt}
    src_blank = sorted(set(range(n_src)) - src_covered)
    tgt_blank = sorted(set(range(n_tgt)) - tgt_covered)
    if not src_blank and not tgt_blank:
        return beads
    src_pos: dict[int, int] = {}
    tgt_pos: dict[int, int] = {}
    for k, bead in enumerate(beads):
        for i in bead.src:
            src_pos[i] = k
        for j in bead.tgt:
            tgt_pos[j] = k

    def slot(index: int, positions: dict[int, int]) -> int:
        # slot k+1 = after bead k; slot 0 = before everything
        best = 0
        for prev in range(index - 1, -1, -1):
            if prev in positions:
                best = positions[prev] + 1
                break
        return best

    by_slot_src: dict[int, list[int]] = {}
    by_slot_tgt: dict[int, list[int]] = {}
    for i in src_blank:
        by_slot_src.setdefault(slot(i, src_pos), []).append(i)
    for j in tgt_blank:
        by_slot_tgt.setdefault(slot(j, tgt_pos), []).append(j)
    out: list[Bead] = []
    for k in range(len(beads) + 1):
        s_list = by_slot_src.get(k, [])
        t_list = by_slot_tgt.get(k, [])
        paired = min(len(s_list), len(t_list))
        for p in range(paired):
            out.append(Bead([s_list[p]], [t_list[p]], 0.0, 0.0))
        out.extend(Bead([i], [], 0.0, 0.0) for i in s_list[paired:])
        out.extend(Bead([], [j], 0.0, 0.0) for j in t_list[paired:])
        if k < len(beads):
            out.append(beads[k])
    return out
