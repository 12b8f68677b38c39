"""Aligning one piece of a document pair with document-level calibration.

Split out of pipeline.align.document: the memoised embedder, the document-wide calibration
(scale, length ratio, hubness of sentences and blocks) that both ``align_pair`` and the
build's prefetch (pipeline.align.overlaps) decide from, and the DP over one piece (a paragraph
segment or a paragraph group) with only the useful overlaps embedded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.align import AlignParams, Calibration, Encoder, align_embeddings, overlap_texts
from pipeline.align.margins import hub_k, hub_z, hubness_against
from pipeline.align.overlaps import mixed_overlaps, open_runs
from pipeline.data import Bead, DocumentPair, Sentence


class Embedder:
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
        vecs = np.asarray(self.encoder.encode(new), dtype=np.float32)  # unit rows (Encoder)
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


def span_of(indices: list[int]) -> tuple[int, int]:
    return (min(indices), max(indices) + 1) if indices else (0, 0)


def span_centre(length: int, span: tuple[int, int]) -> np.ndarray:
    """Expected partner position of each item of a piece, spread evenly over ``span``."""
    lo, hi = span
    return lo + (np.arange(length) + 0.5) * ((hi - lo) / max(length, 1))


def align_piece(
    en_texts: list[str],
    zh_texts: list[str],
    embedder: Embedder,
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
    ``closed``: boundaries between confidently linked neighbours (pipeline.align.overlaps);
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

    def hub(overlaps: np.ndarray, other: np.ndarray, n: int, other_span: tuple) -> np.ndarray:
        """Each side's neighbourhood on the other side, centred where the piece lies."""
        centre = span_centre(n, other_span)
        return hubness_against(
            overlaps, other, hub_k(params), centre, params.hub_window, z=hub_z(params)
        )

    calibration = Calibration(
        scale=scale,
        ratio=ratio,
        src_hub=hub(en_ov, zh_all, len(en_texts), zh_span),
        tgt_hub=hub(zh_ov, en_all, len(zh_texts), en_span),
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
    what align_pair and the build's prefetch (pipeline.align.overlaps) both decide from."""
    k, w, z = hub_k(params), params.hub_window, hub_z(params)
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
