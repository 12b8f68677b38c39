"""An on-disk embedding cache (SQLite) around any encoder, keyed by model and text."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import numpy as np

from pipeline.embed.base import Encoder, EncoderError, check_texts

CACHE_FILE = "embeddings.sqlite3"
_SQL_CHUNK = 500  # host parameters per IN (...) query, well under SQLite's limit


def text_key(text: str) -> bytes:
    """16-byte digest of a text: a fixed-size key keeps the index small for long texts."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


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
        db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S)
        try:
            _use_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
        except BaseException:
            db.close()
            raise
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
        items = check_texts(self.name, texts)
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
                # Unit rows already (the Encoder contract, kept by encode_unique): stored
                # as they come, so a cached vector equals a fresh one bit for bit.
                fresh = np.asarray(self.inner.encode([unique[i] for i in missing]), np.float32)
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
