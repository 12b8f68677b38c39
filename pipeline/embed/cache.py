"""An on-disk embedding cache (SQLite) around any encoder, keyed by model and text.

Nothing read back from the cache is trusted: a stored vector is used only when it has the
model's size and is finite and of unit length (or zero), as the encoder made it; any other
is a miss, embedded again and stored over the bad one, and counted (``bad_vectors``).
A cache file SQLite reports as damaged (random bytes over its pages, a truncated copy) is
moved aside (``embeddings.sqlite3.damaged-<time>-<pid>``) and a new one started: the build
goes on, re-embedding what it needs, and says so; ``cache prune`` deletes the damaged copy.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.embed.base import Encoder, EncoderError, check_texts, encode_blocks

CACHE_FILE = "embeddings.sqlite3"
_SQL_CHUNK = 500  # host parameters per IN (...) query, well under SQLite's limit
#: SQLite's primary result codes for a damaged file: SQLITE_CORRUPT, SQLITE_NOTADB.
_DAMAGED_CODES = (11, 26)
#: How far a stored vector's squared norm may be from 1 (float32 rounding is ~1e-7).
_UNIT_TOLERANCE = 1e-3

log = logging.getLogger("pipeline.embed")


def text_key(text: str) -> bytes:
    """16-byte digest of a text: a fixed-size key keeps the index small for long texts."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def stored_vector(blob: bytes, dim: int) -> np.ndarray | None:
    """The vector in a cache row, or None when it is not one the encoder could have made:
    the wrong length, a NaN or infinity, or not of unit length (a zero row is allowed:
    ``l2_normalise`` leaves a text without signal at zero)."""
    if len(blob) != 4 * dim:
        return None
    vector = np.frombuffer(blob, dtype="<f4")
    if not np.isfinite(vector).all():
        return None
    norm = float(np.dot(vector.astype(np.float64), vector))
    return vector if norm == 0.0 or abs(norm - 1.0) <= _UNIT_TOLERANCE else None


def is_damaged(error: sqlite3.DatabaseError) -> bool:
    """Whether SQLite says the file itself is damaged (not busy, locked or read-only)."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _DAMAGED_CODES
    text = str(error)
    return "malformed" in text or "not a database" in text


#: How long a process waits for another one holding the cache file.
_BUSY_TIMEOUT_S = 60.0


def _use_wal(db: sqlite3.Connection) -> None:
    """Put the cache file in WAL mode (several processes read and write it at once).

    Switching the mode needs the file to itself, and SQLite answers "database is locked"
    at once instead of waiting for it (seen when two workers open a new cache together),
    so this waits and retries. WAL is stored in the file: later opens find it set."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    while True:
        try:
            if str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def move_aside(path: Path) -> Path:
    """Rename a damaged cache file (and its WAL and shared-memory files) out of the way;
    returns the new name of the main file."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}-{os.getpid()}")
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            os.replace(source, target.with_name(target.name + suffix))
    return target


class CachedEncoder:
    """Wraps an encoder with an on-disk cache keyed by (model fingerprint, text).

    A rebuild after adding a few documents embeds only their new sentences. SQLite in WAL
    mode lets several processes read while one writes; vectors are stored as raw float32
    bytes. The key is the inner encoder's ``fingerprint`` (model name plus package version
    or snapshot), so two models never share vectors.

    ``calls`` counts calls to the inner encoder and ``texts_embedded`` the texts sent to
    it: a fully cached run leaves both unchanged. ``bad_vectors`` counts stored vectors
    that failed the checks (and were embedded again), ``damaged`` the cache files moved
    aside.

    ``write_behind``: new vectors are stored by a thread of their own while the caller
    goes on, and served from memory until they are; ``flush`` (or ``close``) waits for
    them, and a store that failed raises at the next call. Why: a build's encoder waits
    while its texts are looked up and stored, and storing is most of that (a cold build
    writes every vector); the caller that closes the cache when done (the build's embed
    stage under the local pool engine) asks for it.
    """

    def __init__(self, inner: Encoder, cache_dir: Path, *, write_behind: bool = False) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.fingerprint = str(getattr(inner, "fingerprint", inner.name))
        self.calls = 0
        self.texts_embedded = 0
        self.bad_vectors = 0
        self.damaged: list[Path] = []
        self.cache_dir = Path(cache_dir)
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EncoderError(
                self.name, f"cannot create cache folder {self.cache_dir}: {exc}"
            ) from exc
        self.path = self.cache_dir / CACHE_FILE
        self._lock = threading.Lock()
        #: Store new vectors on a thread of this object's own (``write_behind``):
        #: until written they are served from ``_pending``, so every later call sees
        #: them as before and embeds the same batches.
        self.write_behind = write_behind
        self._pending: dict[bytes, np.ndarray] = {}
        self._pending_lock = threading.Lock()
        self._writes: queue.Queue[tuple[list[tuple], set[bytes]] | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._write_error: sqlite3.DatabaseError | None = None
        self._guarded(self._create)

    def close(self) -> None:
        """Store what is still pending (``write_behind``), then release the inner
        encoder's model (its process or threads), if it holds one. A store that failed
        is a warning here: the vectors served this build; a later one embeds them again."""
        try:
            self.flush()
        except EncoderError as error:
            log.warning("%s; a later build embeds those texts again", error)
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()

    def flush(self) -> None:
        """Wait until every pending vector is stored; a failed store raises here."""
        writer, self._writer = self._writer, None
        if writer is not None:
            self._writes.put(None)
            writer.join()
        self._raise_write_error()

    def _raise_write_error(self) -> None:
        error, self._write_error = self._write_error, None
        if error is not None:
            with self._pending_lock:
                self._pending.clear()
            raise self._unusable(error) from error

    def _store_behind(self, rows: list[tuple], bad: set[bytes]) -> None:
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_loop, name="embedding-cache-writer", daemon=True
            )
            self._writer.start()
        self._writes.put((rows, bad))

    def _write_loop(self) -> None:
        while (job := self._writes.get()) is not None:
            rows, bad = job
            if self._write_error is None:
                try:
                    with closing(self._connect()) as db:
                        self._store(db, rows, bad)
                except sqlite3.DatabaseError as error:
                    self._write_error = error
            with self._pending_lock:
                for row in rows:
                    self._pending.pop(row[1], None)

    def _store(self, db: sqlite3.Connection, rows: list[tuple], bad: set[bytes]) -> None:
        with db:
            # A bad row is replaced; a new one is only added, so a vector stored
            # first by another process stays (see pipeline.runner.prefetch).
            db.executemany(
                "INSERT OR REPLACE INTO embeddings (model, key, dim, vector) VALUES (?, ?, ?, ?)",
                [row for row in rows if row[1] in bad],
            )
            db.executemany(
                "INSERT OR IGNORE INTO embeddings (model, key, dim, vector) VALUES (?, ?, ?, ?)",
                [row for row in rows if row[1] not in bad],
            )

    def _create(self) -> None:
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS embeddings ("
                " model TEXT NOT NULL, key BLOB NOT NULL, dim INTEGER NOT NULL,"
                " vector BLOB NOT NULL, PRIMARY KEY (model, key)) WITHOUT ROWID"
            )

    def _guarded(self, work):  # noqa: ANN001, ANN202 - any callable of no arguments
        """Run ``work``; when SQLite finds the file damaged, move it aside, start a new
        cache and run ``work`` once more. Any other database error is one clear error."""
        try:
            return work()
        except sqlite3.DatabaseError as exc:
            if not is_damaged(exc):
                raise self._unusable(exc) from exc
            moved = move_aside(self.path)
            self.damaged.append(moved)
            log.warning(
                "embedding cache %s is damaged (%s): moved to %s, starting a new one "
                "(its texts are embedded again; `cache prune` deletes the damaged copy)",
                self.path,
                exc,
                moved.name,
            )
        try:
            self._create()
            return work()
        except sqlite3.DatabaseError as exc:
            raise self._unusable(exc) from exc

    def _unusable(self, exc: sqlite3.DatabaseError) -> EncoderError:
        return EncoderError(self.name, f"embedding cache {self.path} unusable: {exc}")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S)
        try:
            _use_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            db.close()
            raise
        return db

    def _lookup(
        self, db: sqlite3.Connection, keys: list[bytes]
    ) -> tuple[dict[bytes, np.ndarray], set[bytes]]:
        """(good vectors by key, keys whose stored vector failed the checks)."""
        found: dict[bytes, np.ndarray] = {}
        bad: set[bytes] = set()
        for i in range(0, len(keys), _SQL_CHUNK):
            chunk = keys[i : i + _SQL_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT key, dim, vector FROM embeddings WHERE model = ? AND key IN ({marks})",
                [self.fingerprint, *chunk],
            )
            for key, dim, blob in rows:
                vector = stored_vector(bytes(blob), self.dim) if dim == self.dim else None
                if vector is None:
                    bad.add(bytes(key))
                else:
                    found[bytes(key)] = vector
        return found, bad

    def _fresh(self, texts: list[str]) -> Iterator[np.ndarray]:
        """The model's vectors of ``texts`` in one call, in the blocks it makes them
        (``encode_parts`` where the model has it), each checked."""
        made = 0
        for block in encode_blocks(self.inner, texts):
            vectors = np.asarray(block, np.float32)
            shaped = vectors.ndim == 2 and vectors.shape[1] == self.dim
            if not shaped or made + len(vectors) > len(texts) or not np.isfinite(vectors).all():
                raise self._bad_model_output(len(texts), vectors.shape)
            made += len(vectors)
            yield vectors
        if made != len(texts):
            raise self._bad_model_output(len(texts), (made, self.dim))

    def _bad_model_output(self, n: int, shape: tuple[int, ...]) -> EncoderError:
        return EncoderError(
            self.name,
            f"the model returned vectors of shape {shape} with non-finite values or the "
            f"wrong size (expected ({n}, {self.dim}) in all, finite)",
        )

    def _cached(self, keys: list[bytes]) -> tuple[dict[bytes, np.ndarray], set[bytes]]:
        """(vectors this cache holds by key, keys whose stored vector failed the checks):
        those still waiting to be written first, then the file's."""
        with self._pending_lock:
            pending = {k: self._pending[k] for k in keys if k in self._pending}
        with closing(self._connect()) as db:
            found, bad = self._lookup(db, [k for k in keys if k not in pending])
        found.update(pending)
        return found, bad

    def encode_parts(self, texts: list[str]) -> Iterator[dict[str, np.ndarray]]:
        """``encode``'s vectors by text as they become available: first those the cache
        holds, then the model's, block by block as it makes them (one model call for
        all the others, as ``encode`` makes it, so the same vectors bit for bit). Why:
        the build's embedding plan starts on a pair as soon as its sentences are there,
        while the model embeds the rest of the chunk (``pipeline.runner.stages.embed``)."""
        items = check_texts(self.name, texts)
        unique = list(dict.fromkeys(items))
        keys = [text_key(t) for t in unique]
        with self._lock:
            self._raise_write_error()
            found, bad = self._guarded(lambda: self._cached(keys))
            yield {t: found[k] for t, k in zip(unique, keys, strict=True) if k in found}
            missing = [i for i, k in enumerate(keys) if k not in found]
            if bad:
                self.bad_vectors += len(bad)
                log.warning(
                    "embedding cache %s: %d stored vectors were not finite unit vectors of "
                    "size %d; embedded again",
                    self.path,
                    len(bad),
                    self.dim,
                )
            if not missing:
                return
            self.calls += 1
            self.texts_embedded += len(missing)
            fresh: dict[bytes, np.ndarray] = {}  # by key, in the order of ``missing``
            for block in self._fresh([unique[i] for i in missing]):
                batch = missing[len(fresh) : len(fresh) + len(block)]
                yield {unique[i]: block[j] for j, i in enumerate(batch)}
                fresh.update((keys[i], block[j]) for j, i in enumerate(batch))
            # Unit rows already (the Encoder contract, kept by encode_unique): stored as
            # they come, so a cached vector equals a fresh one bit for bit.
            rows = [
                (self.fingerprint, key, self.dim, vector.astype("<f4").tobytes())
                for key, vector in fresh.items()
            ]
            if self.write_behind:
                with self._pending_lock:
                    self._pending.update(fresh)
                self._store_behind(rows, bad)
            else:
                self._guarded(lambda: self._store_now(rows, bad))

    def _store_now(self, rows: list[tuple], bad: set[bytes]) -> None:
        with closing(self._connect()) as db:
            self._store(db, rows, bad)

    def holds_vectors(self) -> bool:
        """Whether the cache holds any vector of this model (False: a cold cache)."""

        def query() -> bool:
            with closing(self._connect()) as db:
                found = db.execute(
                    "SELECT 1 FROM embeddings WHERE model = ? LIMIT 1", [self.fingerprint]
                ).fetchone()
            return found is not None

        return bool(self._guarded(query))

    def encode(self, texts: list[str]) -> np.ndarray:
        items = check_texts(self.name, texts)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        by_text: dict[str, np.ndarray] = {}
        for part in self.encode_parts(items):
            by_text.update(part)
        return np.stack([by_text[t] for t in items]).astype(np.float32, copy=False)


@dataclass
class CacheScan:
    """What ``scan_cache`` found in a cache file: vectors per model, the bad ones, and the
    reason the file cannot be read, if it cannot."""

    by_model: dict[str, int] = field(default_factory=dict)
    bad: int = 0
    damaged: str | None = None


def _bad_keys(db: sqlite3.Connection) -> list[tuple[str, bytes]]:
    bad = []
    for model, key, dim, blob in db.execute("SELECT model, key, dim, vector FROM embeddings"):
        if stored_vector(bytes(blob), int(dim)) is None:
            bad.append((str(model), bytes(key)))
    return bad


def scan_cache(path: Path, *, remove_bad: bool = False) -> CacheScan:
    """Count the vectors in a cache file by model and check every one (``cache info``);
    with ``remove_bad``, delete the bad rows (``cache prune``). A damaged file is
    reported, never raised: the next build moves it aside."""
    scan = CacheScan()
    if not path.exists():
        return scan
    mode = "rw" if remove_bad else "ro"
    try:
        with closing(sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=60.0)) as db:
            rows = db.execute("SELECT model, COUNT(*) FROM embeddings GROUP BY model").fetchall()
            scan.by_model = {str(model): int(count) for model, count in rows}
            bad = _bad_keys(db)
            scan.bad = len(bad)
            if remove_bad and bad:
                with db:
                    db.executemany("DELETE FROM embeddings WHERE model = ? AND key = ?", bad)
    except sqlite3.DatabaseError as exc:
        scan.damaged = str(exc)
    return scan
