"""Synthetic sentence pairs with known beads and made-up embeddings, for the aligner's
speed and memory benchmark and the baselines' tests: embedding 50k real sentences would
take an hour here and measure the encoder, not the aligner.
"""

from __future__ import annotations

import re

import numpy as np

from benchmarks.synth import StressCase, Unit, case_from_units
from pipeline.evaluate import BeadPair

# --- synthetic embeddings for the benchmark ------------------------------------------


_TOKEN = re.compile(r"[st]\d+")


class SyntheticEncoder:
    """An :class:`~pipeline.embed.Encoder` over made-up sentences ``s17`` / ``t17``.

    Each sentence maps to a fixed unit vector; a concatenation of sentences (an
    aligner's overlap text, joined with or without spaces) maps to the normalised sum of
    its parts, as real encoders roughly do. Used to time the aligner alone on 50k
    sentences without spending an hour embedding them.
    """

    def __init__(self, vectors: dict[str, np.ndarray], name: str = "synthetic") -> None:
        self.name = name
        self._vectors = vectors
        self.dim = int(next(iter(vectors.values())).shape[0]) if vectors else 0

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for k, text in enumerate(texts):
            for token in _TOKEN.findall(text):
                out[k] += self._vectors[token]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def synthetic_pair(
    n_src: int, seed: int, *, dim: int = 512, noise: float = 0.6
) -> tuple[StressCase, SyntheticEncoder]:
    """A synthetic sentence pair of about ``n_src`` source sentences with known beads
    (mostly 1-1, some 1-2, 2-1, 1-0, 0-1) and an encoder whose vectors follow them:
    the sentences of one bead share a random meaning vector plus per-sentence noise."""
    rng = np.random.default_rng(seed)
    types = [(1, 1), (1, 2), (2, 1), (1, 0), (0, 1), (2, 2)]
    weights = np.array([0.86, 0.04, 0.04, 0.02, 0.02, 0.02])
    units: list[Unit] = []
    vectors: dict[str, np.ndarray] = {}
    n_s = n_t = 0
    while n_s < n_src:
        a, b = types[rng.choice(len(types), p=weights)]
        meaning = rng.standard_normal(dim).astype(np.float32)
        src_names = [f"s{n_s + k}" for k in range(a)]
        tgt_names = [f"t{n_t + k}" for k in range(b)]
        for name in src_names + tgt_names:
            vectors[name] = meaning / max(a, b, 1) + noise * rng.standard_normal(dim).astype(
                np.float32
            )
        n_s += a
        n_t += b
        units.append(Unit(tuple(src_names), tuple(tgt_names)))
    case = case_from_units(f"synthetic-{n_src}", units)
    return case, SyntheticEncoder(vectors)


def synthetic_overlap_arrays(
    n_src: int, seed: int, *, dim: int = 512, max_overlap: int = 4, noise: float = 0.6
) -> tuple[list[BeadPair], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Overlap embeddings with known beads, built with numpy alone (for 50k sentences).

    Returns (gold, src_ov, tgt_ov, src_len, tgt_len) in :func:`pipeline.align.align_embeddings`'s
    layout: ``ov[k - 1, s]`` is the unit vector of sentences s..s+k-1 (the normalised
    sum of their vectors; rows running past the end are zero). Beads are mostly 1-1
    with some 1-2, 2-1, 2-2, 1-0 and 0-1; a bead's sentences share a meaning vector plus
    per-sentence noise, and lengths follow a 2:1 character ratio (English : Chinese).
    """
    rng = np.random.default_rng(seed)
    types = np.array([(1, 1), (1, 2), (2, 1), (1, 0), (0, 1), (2, 2)])
    weights = np.array([0.86, 0.04, 0.04, 0.02, 0.02, 0.02])
    n_beads = int(n_src / 1.02) + 16
    shapes = types[rng.choice(len(types), size=n_beads, p=weights)]
    keep = np.cumsum(shapes[:, 0]) <= n_src
    shapes = shapes[keep]
    a, b = shapes[:, 0], shapes[:, 1]
    src_bead = np.repeat(np.arange(len(shapes)), a)
    tgt_bead = np.repeat(np.arange(len(shapes)), b)
    meaning = rng.standard_normal((len(shapes), dim), dtype=np.float32)
    scale = (1.0 / np.maximum(np.maximum(a, b), 1)).astype(np.float32)[:, None]
    meaning *= scale

    def overlaps(meaning: np.ndarray, bead_of: np.ndarray) -> np.ndarray:
        # Built in place, noise added in chunks: at 50k sentences the two outputs are
        # 800 MB and the benchmark measures the aligner's memory on top of them, so the
        # generator must not leave a larger peak of its own.
        n = len(bead_of)
        out = np.zeros((max_overlap, n, dim), dtype=np.float32)
        np.take(meaning, bead_of, axis=0, out=out[0])
        for start in range(0, n, 4096):
            stop = min(n, start + 4096)
            out[0, start:stop] += noise * rng.standard_normal((stop - start, dim), np.float32)
        for k in range(1, max_overlap):
            if n > k:
                np.add(out[k - 1, : n - k], out[0, k:], out=out[k, : n - k])
        for k in range(max_overlap):
            norms = np.linalg.norm(out[k], axis=1, keepdims=True)
            np.divide(out[k], np.maximum(norms, 1e-12), out=out[k])
        return out

    src_ov = overlaps(meaning, src_bead)
    tgt_ov = overlaps(meaning, tgt_bead)
    del meaning
    src_len = rng.integers(30, 240, size=len(src_bead)).astype(np.float64)
    bead_chars = np.bincount(src_bead, weights=src_len, minlength=len(shapes))
    tgt_len = np.maximum(4.0, bead_chars[tgt_bead] / np.maximum(b[tgt_bead], 1) / 2.0)
    tgt_len *= rng.uniform(0.8, 1.25, size=len(tgt_len))
    gold: list[BeadPair] = []
    i = j = 0
    for x, y in shapes.tolist():
        if x and y:
            gold.append((list(range(i, i + x)), list(range(j, j + y))))
        else:
            gold.extend(([k], []) for k in range(i, i + x))
            gold.extend(([], [k]) for k in range(j, j + y))
        i, j = i + x, j + y
    return gold, src_ov, tgt_ov, src_len, tgt_len
