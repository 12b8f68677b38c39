"""Extracted documents on storage from the read stage until their chunk is embedded.

Why: pairing is a barrier, it needs every document's symbol and language before the
first pair can go on. Holding the documents themselves there made the driver grow by
~0.18 MB a pair (550 MB at 2,000 pairs, measured); the spool keeps only stubs in memory
(symbol, language, file, metadata, the text digest duplicates are decided on; no
blocks), and the embed stage reads a chunk's documents back. The spool is a
``Location``: a local folder for the local engine, a URI every node reaches for Ray
(the engine decides where: ``pipeline.runner.engines``). Private to one build, deleted
after it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from pipeline.records import Document, DocumentPair
from pipeline.runner.storage import Location


@dataclass(frozen=True)
class DocumentSpool:
    """The spool folder of one build (see module docstring)."""

    location: Location

    def key(self, source_file: str, sha256: str) -> str:
        """File name of a document in the spool: a hash, so names of any bytes are safe."""
        return hashlib.sha256(f"{source_file}\0{sha256}".encode()).hexdigest() + ".json"

    def put(self, document: Document) -> Document:
        """Store ``document``; return its stub (what pairing and the manifest need)."""
        from pipeline.pair.duplicates import pairing_stub

        payload = json.dumps(document.to_dict(), ensure_ascii=False).encode("utf-8")
        # Written through a temporary and a rename (Location.write_bytes): a read task
        # Ray retries never leaves half a document.
        self.location.child(self.key(document.source_file, document.sha256)).write_bytes(payload)
        return pairing_stub(document)

    def get(self, stub: Document) -> Document:
        data = self.location.child(self.key(stub.source_file, stub.sha256)).read_bytes()
        return Document.from_dict(json.loads(data))

    def pair(self, pair: DocumentPair) -> DocumentPair:
        """A pair of stubs with its whole documents."""
        return DocumentPair(pair.symbol, self.get(pair.en), self.get(pair.zh), pair.placement)

    def delete(self) -> None:
        self.location.delete()
