"""A UN document pair through the one aligner: its sentences, with its structure as evidence.

Why one aligner: what the corpus holds must be what we measure, so a pair's sentences go
through the same function as ``align-text`` (pipeline.align.texts: the same overlap plan,
margins, calibration and lexical evidence). What a resolution adds is its structure, and
it enters the score, never the search space (pipeline.align.anchors): operative
paragraphs, sub-paragraphs and footnotes that both versions number alike, and the starts
of the title, preamble and operative part, are *anchors*; structure present on one side
only, or at odds with the content, is outweighed by the content. A pair whose structure
gives no anchors is aligned exactly as ``align-text`` aligns its sentences.

Footnotes are a stream of their own, aligned by the same function with their numbers as
anchors: converters place them differently (at the end, after the paragraph that cites
them, at a page foot), so their position says nothing about the body's alignment.

Two steps follow the alignment, both from the structure:

* **Closing lines cross**: the Chinese puts the date before the meeting ("2020年12月7日" /
  "第37次全体会议" against "37th plenary meeting" / "7 December 2020"). A monotone aligner
  sees that as a 2-2 bead carried by its two crossed pairs (a *swap*); inside the closing
  lines, where crossing is the rule, the swap is emitted as the two crossed 1-1 beads.
* **Paragraph beads** are the connected components of blocks linked by sentence beads:
  the paragraph table says which paragraphs translate one another, exactly as the
  sentence table does, never by a second alignment.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.align.anchors import Anchors
from pipeline.align.overlaps import (
    AlignPlan,
    plan_alignment,
    sentence_matrix,
    single_texts,
    vector_dim,
)
from pipeline.align.params import AlignParams, AlignResult
from pipeline.align.texts import align_planned
from pipeline.embed.base import Encoder
from pipeline.records import Bead, Document, DocumentPair, PairSentences, Sentence
from pipeline.text.segment import segment_document

#: Block kinds whose first block is a section start both versions share.
SECTION_STARTS = ("title", "preamble", "operative")

@dataclass
class PairAlignment:
    """Sentence and paragraph beads of one pair (en = src, zh = tgt), with the sentence
    vectors (the report's similarity picture)."""

    en_sentences: list[Sentence]
    zh_sentences: list[Sentence]
    beads: list[Bead]
    paragraph_beads: list[Bead]
    en_embeddings: np.ndarray
    zh_embeddings: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------- structure


def block_labels(doc: Document) -> list[list[str]]:
    """The structure labels of each block: ``op:5`` (operative paragraph 5), ``sub:5(a)``
    (its sub-paragraph a), ``fn:3`` (footnote 3), ``start:operative`` (the first
    operative paragraph; likewise the title and the preamble)."""
    out: list[list[str]] = []
    seen: set[str] = set()
    for block, (_, para_no) in zip(doc.blocks, doc.block_labels(), strict=True):
        labels = []
        number = (block.number or "").strip().rstrip(".")
        if block.kind in ("operative", "footnote") and number:
            labels.append(f"{'op' if block.kind == 'operative' else 'fn'}:{number}")
        elif block.kind == "subparagraph" and block.number and not para_no.startswith("("):
            labels.append(f"sub:{para_no}")
        if block.kind in SECTION_STARTS and block.kind not in seen:
            seen.add(block.kind)
            labels.append(f"start:{block.kind}")
        out.append(labels)
    return out


def sentence_labels(doc: Document, sentences: Sequence[Sentence]) -> list[list[str]]:
    """Each sentence's labels: its block's (``block_labels``) on the block's first sentence,
    none on the others."""
    by_block = block_labels(doc)
    out: list[list[str]] = []
    started: set[int] = set()
    for sentence in sentences:
        first = sentence.block not in started
        started.add(sentence.block)
        out.append(by_block[sentence.block] if first else [])
    return out


# ------------------------------------------------------------------- after alignment


def cross_closing_swaps(
    result: AlignResult, stream: Stream, sentences: PairSentences, pair: DocumentPair
) -> list[Bead]:
    """The stream's beads (its own indices), with each swap (a 2-2 bead carried by its
    crossed pairs) whose four sentences are closing lines on both sides emitted as the
    two crossed 1-1 beads."""
    en, zh = sentences
    beads = list(result.beads)
    crossed: dict[int, list[Bead]] = {}
    for swap in result.swaps:
        bead = beads[swap.bead]
        kinds = {pair.en.blocks[en[stream.en[i]].block].kind for i in bead.src}
        kinds |= {pair.zh.blocks[zh[stream.zh[j]].block].kind for j in bead.tgt}
        if kinds != {"closing"}:
            continue
        (s0, s1), (t0, t1) = bead.src, bead.tgt
        crossed[swap.bead] = [
            Bead([s0], [t1], swap.scores[0], swap.margins[0]),
            Bead([s1], [t0], swap.scores[1], swap.margins[1]),
        ]
    return [b for k, bead in enumerate(beads) for b in crossed.get(k, [bead])]


def paragraph_beads(
    beads: Sequence[Bead], en: Sequence[Sentence], zh: Sequence[Sentence], pair: DocumentPair
) -> list[Bead]:
    """Paragraph beads: connected components of the blocks that sentence beads link (a
    block no sentence reaches is a 1-0 or 0-1 bead of its own). Score and margin are
    the means of the two-sided sentence beads inside; one-sided components get the
    skip score 0. In English order, a Chinese-only bead after its Chinese predecessor."""
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(node: tuple[int, int]) -> tuple[int, int]:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for side, count in ((0, len(pair.en.blocks)), (1, len(pair.zh.blocks))):
        for block in range(count):
            find((side, block))
    scored: list[tuple[tuple[int, int], Bead]] = []
    for bead in beads:
        nodes = [(0, en[i].block) for i in bead.src] + [(1, zh[j].block) for j in bead.tgt]
        for node in nodes[1:]:
            parent[find(node)] = find(nodes[0])
        if bead.src and bead.tgt:
            scored.append((nodes[0], bead))
    members: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for node in list(parent):
        members.setdefault(find(node), []).append(node)
    values: dict[tuple[int, int], list[Bead]] = {}
    for node, bead in scored:
        values.setdefault(find(node), []).append(bead)
    out = []
    for root, nodes in members.items():
        src = sorted(b for side, b in nodes if side == 0)
        tgt = sorted(b for side, b in nodes if side == 1)
        inside = values.get(root, [])
        if src and tgt and inside:
            score = round(_mean([b.score for b in inside]), 4)
            margin = round(_mean([b.margin for b in inside]), 4)
            out.append(Bead(src, tgt, score, margin))
        else:
            out.append(Bead(src, tgt, 0.0, 0.0))
    return english_order(out)


def _mean(values: list[float]) -> float:
    """``np.mean`` of a short list, bit for bit (numpy's sum, then one division), without
    its per-call overhead: two calls per paragraph bead were a tenth of a pair's aligning."""
    return float(np.add.reduce(np.array(values, dtype=np.float64))) / len(values)


def english_order(beads: list[Bead]) -> list[Bead]:
    """Beads sorted by their first English index; a Chinese-only bead goes right after
    the bead holding the preceding Chinese index (so insertions stay where they are)."""
    with_src = sorted((b for b in beads if b.src), key=lambda b: min(b.src))
    zh_only = sorted((b for b in beads if not b.src), key=lambda b: min(b.tgt))
    out = list(with_src)
    for bead in zh_only:
        first = min(bead.tgt)
        place = 0
        for k, other in enumerate(out):
            if other.tgt and min(other.tgt) < first:
                place = k + 1
        out.insert(place, bead)
    return out


# ------------------------------------------------------------------- streams


@dataclass(frozen=True)
class Stream:
    """Sentences of a pair aligned together: indices into the pair's English and Chinese
    sentences, and their plan."""

    name: str
    en: tuple[int, ...]
    zh: tuple[int, ...]
    plan: AlignPlan


@dataclass(frozen=True)
class PairPlan:
    """The embedding plans of a pair's streams (the body, then the footnotes)."""

    streams: tuple[Stream, ...]

    def overlap_texts(self) -> list[str]:
        return list(dict.fromkeys(t for s in self.streams for t in s.plan.overlap_texts()))

    def texts(self) -> list[str]:
        return list(dict.fromkeys(t for s in self.streams for t in s.plan.texts()))


def stream_indices(
    pair: DocumentPair, sentences: PairSentences
) -> list[tuple[str, list[int], list[int]]]:
    """(name, English indices, Chinese indices) of each stream with sentences: "body"
    (every block but footnotes) and "notes" (footnotes)."""
    out = []
    for name, is_note in (("body", False), ("notes", True)):
        sides = [
            [k for k, s in enumerate(sents) if (doc.blocks[s.block].kind == "footnote") == is_note]
            for doc, sents in ((pair.en, sentences[0]), (pair.zh, sentences[1]))
        ]
        if sides[0] or sides[1]:
            out.append((name, sides[0], sides[1]))
    return out


def _stream_parts(
    pair: DocumentPair, sentences: PairSentences, en_idx: Sequence[int], zh_idx: Sequence[int]
) -> tuple[list[str], list[str], Anchors]:
    """A stream's texts and anchors (labels of its own sentences only)."""
    en, zh = sentences
    en_labels, zh_labels = sentence_labels(pair.en, en), sentence_labels(pair.zh, zh)
    anchors = Anchors.from_labels([en_labels[i] for i in en_idx], [zh_labels[j] for j in zh_idx])
    return [en[i].text for i in en_idx], [zh[j].text for j in zh_idx], anchors


def pair_single_texts(pair: DocumentPair, sentences: PairSentences) -> list[str]:
    """The first encoder call of a pair: every sentence, stream by stream."""
    texts: list[str] = []
    for _, en_idx, zh_idx in stream_indices(pair, sentences):
        en, zh, _ = _stream_parts(pair, sentences, en_idx, zh_idx)
        texts += single_texts(en, zh)
    return list(dict.fromkeys(texts))


def plan_pair(
    pair: DocumentPair,
    sentences: PairSentences,
    vectors: Mapping[str, np.ndarray],
    params: AlignParams,
) -> PairPlan:
    """The embedding plan of each of a pair's streams (pipeline.align.overlaps.
    plan_alignment) from the vectors of its sentences (``pair_single_texts``), with its
    anchors: ``align_pair`` and the build's embed stage call this between their two
    encoder calls."""
    streams = []
    for name, en_idx, zh_idx in stream_indices(pair, sentences):
        en, zh, anchors = _stream_parts(pair, sentences, en_idx, zh_idx)
        plan = plan_alignment(en, zh, vectors, params, anchors)
        streams.append(Stream(name, tuple(en_idx), tuple(zh_idx), plan))
    return PairPlan(tuple(streams))


def align_planned_pair(
    pair: DocumentPair,
    sentences: PairSentences,
    plan: PairPlan,
    vectors: Mapping[str, np.ndarray],
    params: AlignParams,
) -> PairAlignment:
    """The final pass of each stream of a pair's plan (``plan_pair``), from the vectors of
    every text of the plan: what the build's align stage runs."""
    started = time.perf_counter()
    beads: list[Bead] = []
    timings: dict[str, float] = {}
    for stream in plan.streams:
        _, _, anchors = _stream_parts(pair, sentences, stream.en, stream.zh)
        result = align_planned(stream.plan, vectors, params, anchors)
        local = cross_closing_swaps(result, stream, sentences, pair)
        beads += [
            Bead([stream.en[i] for i in b.src], [stream.zh[j] for j in b.tgt], b.score, b.margin)
            for b in local
        ]
        for key, value in result.timings.items():
            timings[key] = timings.get(key, 0.0) + float(value)
    beads = english_order(beads) if len(plan.streams) > 1 else beads
    en, zh = sentences
    dim = vector_dim(vectors)
    timings["total"] = time.perf_counter() - started
    return PairAlignment(
        en_sentences=list(en),
        zh_sentences=list(zh),
        beads=beads,
        paragraph_beads=paragraph_beads(beads, en, zh, pair),
        en_embeddings=sentence_matrix([s.text for s in en], vectors, dim),
        zh_embeddings=sentence_matrix([s.text for s in zh], vectors, dim),
        timings=timings,
    )


def align_pair(
    pair: DocumentPair,
    encoder: Encoder,
    params: AlignParams | None = None,
    *,
    sentences: PairSentences | None = None,
) -> PairAlignment:
    """Align an English-Chinese pair (module docstring); en = src, zh = tgt. Two encoder
    calls, as ``align-text``: the sentences, then the overlaps the plan calls for.
    ``sentences``: the pair's (en, zh) sentences when the caller segmented it already;
    else they are segmented here."""
    params = params or AlignParams()
    started = time.perf_counter()
    if sentences is None:
        sentences = segment_document(pair.en), segment_document(pair.zh)
    t_segment = time.perf_counter() - started
    first = pair_single_texts(pair, sentences)
    t0 = time.perf_counter()
    vectors = dict(zip(first, _encode(encoder, first), strict=True))
    t_embed = time.perf_counter() - t0
    plan = plan_pair(pair, sentences, vectors, params)
    second = [t for t in plan.overlap_texts() if t not in vectors]
    t0 = time.perf_counter()
    if second:
        vectors.update(zip(second, _encode(encoder, second), strict=True))
    t_embed += time.perf_counter() - t0
    aligned = align_planned_pair(pair, sentences, plan, vectors, params)
    aligned.timings.update(
        {
            "segment": t_segment,
            "embed": t_embed,
            "encoder_calls": float(1 + bool(second)),
            "texts_embedded": float(len(vectors)),
            "first_pass": sum(s.plan.first_pass_s for s in plan.streams),
            "total": time.perf_counter() - started,
        }
    )
    aligned.timings["align"] += aligned.timings["first_pass"]
    return aligned


def _encode(encoder: Encoder, texts: list[str]) -> np.ndarray:
    return np.asarray(encoder.encode(texts), dtype=np.float32)  # unit rows (Encoder)
