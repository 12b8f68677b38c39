"""Finished alignments kept between builds (WorkCache), keyed so they cannot go stale,
and the on-disk spool of read documents (DocumentSpool)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import __version__
from pipeline.atomic import atomic_write_bytes, atomic_write_text
from pipeline.corpus.rows import AlignedDocument
from pipeline.records import Bead, Document, DocumentPair, Sentence

log = logging.getLogger("pipeline.build")


def document_digest(document: Document) -> str:
    """sha256 of a Document as extracted: what the aligner actually reads.

    Part of the work-cache key next to the raw file's sha256, so an extractor that
    now reads the same file differently (other blocks, other text) never meets an
    alignment cached for the old reading.
    """
    payload = json.dumps(document.to_dict(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _align_params_dict(params: Any | None) -> dict[str, Any]:
    from pipeline.align import AlignParams

    return dataclasses.asdict(params if params is not None else AlignParams())


class WorkCache:
    """Finished alignments on disk, one entry per pair, keyed by everything they depend on:
    both raw files' sha256, both extracted documents, the model and its fingerprint (the
    package release or model snapshot behind the name), the aligner parameters and a
    fingerprint of the code that segments and aligns (``pipeline.runner.fingerprint``), so an
    edit to that code re-aligns on the next build instead of serving stale work.

    An entry is ``<key>.json`` (sentences, beads, model name) plus ``<key>.npy`` (the
    averaged-down similarity matrix). The JSON is written last and atomically: it is
    the completion marker, so a build killed while storing leaves no half entry.

    Nothing read back is trusted: the JSON carries a checksum of its own content and the
    sha256 and size of the matrix file (:func:`read_entry`). An entry that fails any check
    (truncated, garbage, edited) is a miss: it is deleted, counted in ``bad`` with its
    reason in ``bad_entries``, and the pair is aligned again.
    """

    def __init__(self, folder: Path, *, model: str, params: dict[str, Any]) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        from pipeline.embed import spec_fingerprint
        from pipeline.runner.fingerprint import code_fingerprint

        self._base = {
            "model": model,
            "encoder": spec_fingerprint(model),
            "params": params,
            "code": code_fingerprint(),
            "version": __version__,
        }
        self.bad = 0
        #: The warning for each damaged entry met, not yet reported (``Stage.warn``).
        self.problems: list[str] = []
        #: (symbol, reason) of every damaged entry met, in order.
        self.bad_entries: list[tuple[str, str]] = []

    def key(self, pair: DocumentPair) -> str:
        material = {
            **self._base,
            "en": pair.en.sha256,
            "zh": pair.zh.sha256,
            "en_document": document_digest(pair.en),
            "zh_document": document_digest(pair.zh),
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def has(self, pair: DocumentPair) -> bool:
        """Whether a finished, sound entry exists (a damaged one is removed: a miss)."""
        return self.load(pair) is not None

    def load(self, pair: DocumentPair) -> AlignedDocument | None:
        key = self.key(pair)
        meta_path = self.folder / f"{key}.json"
        if not meta_path.exists():
            return None
        try:
            meta, matrix = read_entry(meta_path)
            return AlignedDocument(
                pair=pair,
                en_sentences=[Sentence(**s) for s in meta["en_sentences"]],
                zh_sentences=[Sentence(**s) for s in meta["zh_sentences"]],
                beads=[Bead(**b) for b in meta["beads"]],
                paragraph_beads=[Bead(**b) for b in meta["paragraph_beads"]],
                similarity=matrix.astype(np.float32),
                shape=(int(meta["shape"][0]), int(meta["shape"][1])),
                model=meta["model"],
                from_cache=True,
                timings=meta.get("timings", {}),
            )
        except (BadEntry, KeyError, TypeError, ValueError, IndexError) as error:
            reason = str(error) if isinstance(error, BadEntry) else f"unreadable ({error!r})"
            self._discard(pair, key, reason)
            return None

    def _discard(self, pair: DocumentPair, key: str, reason: str) -> None:
        """Count and remove a damaged entry; the message waits in ``problems`` for the
        stage that asked, which may run in a worker whose log the user never sees."""
        self.bad += 1
        self.bad_entries.append((pair.symbol, reason))
        self.problems.append(
            f"work cache: the entry of {pair.symbol} ({key[:12]}) is damaged: {reason}; "
            "aligning it again"
        )
        for suffix in (".json", ".npy"):
            (self.folder / f"{key}{suffix}").unlink(missing_ok=True)

    def store(self, aligned: AlignedDocument) -> None:
        key = self.key(aligned.pair)
        buffer = io.BytesIO()
        np.save(buffer, aligned.similarity.astype(np.float16))
        matrix = buffer.getvalue()
        atomic_write_bytes(self.folder / f"{key}.npy", matrix, fsync=False)
        meta = {
            "symbol": aligned.pair.symbol,
            "en_sentences": [_sentence_dict(s) for s in aligned.en_sentences],
            "zh_sentences": [_sentence_dict(s) for s in aligned.zh_sentences],
            "beads": [_bead_dict(b) for b in aligned.beads],
            "paragraph_beads": [_bead_dict(b) for b in aligned.paragraph_beads],
            "shape": list(aligned.shape),
            "model": aligned.model,
            "encoder": self._base["encoder"],
            "code": self._base["code"],
            "timings": aligned.timings,
            "matrix_sha256": hashlib.sha256(matrix).hexdigest(),
            "matrix_bytes": len(matrix),
        }
        meta[ENTRY_CHECK] = entry_checksum(meta)
        # The JSON is the completion marker: written last.
        atomic_write_text(self.folder / f"{key}.json", json.dumps(meta, ensure_ascii=False))


def _sentence_dict(s: Sentence) -> dict[str, Any]:
    """``dataclasses.asdict`` of a Sentence, written out: asdict copies recursively and
    cost a third of this stage's own time per pair; ``tests/runner/test_work_cache_checks.py``
    holds the two equal."""
    return {"id": s.id, "block": s.block, "text": s.text, "tokens": s.tokens}


def _bead_dict(b: Bead) -> dict[str, Any]:
    """``dataclasses.asdict`` of a Bead, written out (see :func:`_sentence_dict`)."""
    return {"src": list(b.src), "tgt": list(b.tgt), "score": b.score, "margin": b.margin}


#: The key of an entry's checksum of its own JSON content.
ENTRY_CHECK = "entry_sha256"


class BadEntry(ValueError):
    """A work-cache entry that fails its checks (the reason says which)."""


def entry_checksum(meta: dict[str, Any]) -> str:
    content = {k: v for k, v in meta.items() if k != ENTRY_CHECK}
    return hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def read_entry(meta_path: Path) -> tuple[dict[str, Any], np.ndarray]:
    """An entry's JSON and matrix, checked: the JSON parses and matches its checksum, the
    matrix file has the recorded size and sha256 and is a 2-D finite array. Raises
    BadEntry with the reason otherwise. Entries written before the checksums existed are
    checked for what they hold (parseable JSON, a loadable finite matrix)."""
    try:
        meta = json.loads(meta_path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise BadEntry(f"{meta_path.name} is not readable JSON ({error})") from None
    if not isinstance(meta, dict):
        raise BadEntry(f"{meta_path.name} holds no entry")
    if ENTRY_CHECK in meta and meta[ENTRY_CHECK] != entry_checksum(meta):
        raise BadEntry(f"{meta_path.name} does not match its checksum")
    matrix_path = meta_path.with_suffix(".npy")
    try:
        data = matrix_path.read_bytes()
    except OSError as error:
        raise BadEntry(f"{matrix_path.name} is missing ({error.strerror})") from None
    if "matrix_sha256" in meta and (
        len(data) != meta.get("matrix_bytes")
        or hashlib.sha256(data).hexdigest() != meta["matrix_sha256"]
    ):
        raise BadEntry(f"{matrix_path.name} does not match the size and sha256 recorded")
    try:
        matrix = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise BadEntry(f"{matrix_path.name} is not a readable array ({error})") from None
    if matrix.ndim != 2 or not np.isfinite(matrix).all():
        raise BadEntry(f"{matrix_path.name} is not a finite 2-D matrix")
    return meta, matrix
