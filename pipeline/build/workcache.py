"""Finished alignments kept between builds (WorkCache), keyed so they cannot go stale,
and the on-disk spool of read documents (DocumentSpool)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import __version__
from pipeline.atomic import atomic_path, atomic_write_text
from pipeline.corpus.rows import AlignedDocument
from pipeline.data import Bead, Document, DocumentPair, Sentence
from pipeline.pair.duplicates import pairing_stub


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
    fingerprint of the code that segments and aligns (``pipeline.build.fingerprint``), so an
    edit to that code re-aligns on the next build instead of serving stale work.

    An entry is ``<key>.json`` (sentences, beads, model name) plus ``<key>.npy`` (the
    averaged-down similarity matrix). The JSON is written last and atomically: it is
    the completion marker, so a build killed while storing leaves no half entry.
    """

    def __init__(self, folder: Path, *, model: str, params: dict[str, Any]) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        from pipeline.build.fingerprint import code_fingerprint
        from pipeline.embed import spec_fingerprint

        self._base = {
            "model": model,
            "encoder": spec_fingerprint(model),
            "params": params,
            "code": code_fingerprint(),
            "version": __version__,
        }

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
        """Whether a finished entry exists (its JSON, the completion marker, is written last)."""
        key = self.key(pair)
        return (self.folder / f"{key}.json").exists() and (self.folder / f"{key}.npy").exists()

    def load(self, pair: DocumentPair) -> AlignedDocument | None:
        key = self.key(pair)
        meta_path = self.folder / f"{key}.json"
        matrix_path = self.folder / f"{key}.npy"
        if not meta_path.exists() or not matrix_path.exists():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return AlignedDocument(
            pair=pair,
            en_sentences=[Sentence(**s) for s in meta["en_sentences"]],
            zh_sentences=[Sentence(**s) for s in meta["zh_sentences"]],
            beads=[Bead(**b) for b in meta["beads"]],
            paragraph_beads=[Bead(**b) for b in meta["paragraph_beads"]],
            similarity=np.load(matrix_path).astype(np.float32),
            shape=(int(meta["shape"][0]), int(meta["shape"][1])),
            model=meta["model"],
            from_cache=True,
            timings=meta.get("timings", {}),
        )

    def store(self, aligned: AlignedDocument) -> None:
        key = self.key(aligned.pair)
        with atomic_path(self.folder / f"{key}.npy", fsync=False) as matrix_tmp:
            with open(matrix_tmp, "wb") as handle:
                np.save(handle, aligned.similarity.astype(np.float16))
        meta = {
            "symbol": aligned.pair.symbol,
            "en_sentences": [dataclasses.asdict(s) for s in aligned.en_sentences],
            "zh_sentences": [dataclasses.asdict(s) for s in aligned.zh_sentences],
            "beads": [dataclasses.asdict(b) for b in aligned.beads],
            "paragraph_beads": [dataclasses.asdict(b) for b in aligned.paragraph_beads],
            "shape": list(aligned.shape),
            "model": aligned.model,
            "encoder": self._base["encoder"],
            "code": self._base["code"],
            "timings": aligned.timings,
        }
        # The JSON is the completion marker: written last.
        atomic_write_text(self.folder / f"{key}.json", json.dumps(meta, ensure_ascii=False))


class DocumentSpool:
    """Extracted documents on disk until their pair is aligned; stubs in memory.

    Pairing is a barrier: it needs every document's symbol and language before the
    first pair can go on. Holding the documents themselves there made the driver grow
    by ~0.18 MB a pair (550 MB at 2,000 pairs, measured); the spool keeps only stubs
    (symbol, language, file, metadata, no blocks), and a pair's documents are read back
    when its chunk is formed. The folder is private to one build and deleted after it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, source_file: str, sha256: str) -> Path:
        key = hashlib.sha256(f"{source_file}\0{sha256}".encode()).hexdigest()
        return self.folder / f"{key}.json"

    def put(self, document: Document) -> Document:
        """Store ``document``; return its stub (what pairing and the manifest need)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(document.source_file, document.sha256)
        # No fsync: the spool lives only as long as this build.
        atomic_write_text(path, json.dumps(document.to_dict(), ensure_ascii=False), fsync=False)
        return pairing_stub(document)

    def get(self, stub: Document) -> Document:
        path = self._path(stub.source_file, stub.sha256)
        return Document.from_dict(json.loads(path.read_text(encoding="utf-8")))
