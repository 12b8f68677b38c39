"""One document per symbol and language when an archive holds several copies.

Users download a document in every format offered (PDF and DOCX of the same
resolution, a .txt and a .md conversion), or a revision beside the original. Rejecting
every copy would lose the pair, so one copy is kept and the others are reported as
duplicates of it. Which one: the latest revision ("Rev.2" over "Rev.1" over the
original); then, when the extracted texts differ, the format whose structure the reader
gets most reliably (DOCX states paragraphs and footnotes explicitly; HTML nearly so; a
PDF's structure is inferred from geometry; Markdown and plain text from conversions
are the least reliable); then the file name, so the choice is deterministic. When the
texts are identical any copy is equally good, and the same order picks it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from pipeline.data import Document

#: Formats by how reliably their structure is read, best first.
FORMAT_RANK = (".docx", ".html", ".htm", ".pdf", ".md", ".txt")


@dataclass
class Duplicate:
    """A copy that was not kept, with the file kept in its place."""

    source_file: str
    kept_file: str
    symbol: str
    language: str
    identical: bool

    @property
    def reason(self) -> str:
        same = "same text" if self.identical else "different text"
        return (
            f"duplicate of {self.kept_file}: {self.symbol} ({self.language}) in another "
            f"copy ({same}); {self.kept_file} is kept"
        )


def _revision_number(document: Document) -> tuple[int, int]:
    """(revision, corrigendum): "Rev.2/Corr.1" -> (2, 1); the original is (0, 0)."""
    revision = document.metadata.revision or ""
    rev = re.search(r"Rev\.(\d+)", revision)
    corr = re.search(r"Corr\.(\d+)", revision)
    return (int(rev.group(1)) if rev else 0, int(corr.group(1)) if corr else 0)


def _format_rank(document: Document) -> int:
    suffix = PurePath(document.source_file).suffix.lower()
    return FORMAT_RANK.index(suffix) if suffix in FORMAT_RANK else len(FORMAT_RANK)


def _text(document: Document) -> list[tuple[str, str | None, str]]:
    return [(b.kind, b.number, b.text) for b in document.blocks]


def choose(group: list[Document]) -> tuple[Document, list[Duplicate]]:
    """The copy to keep from ``group`` (one symbol and language) and the others."""
    ordered = sorted(
        group,
        key=lambda d: (*(-n for n in _revision_number(d)), _format_rank(d), d.source_file),
    )
    kept = ordered[0]
    duplicates = [
        Duplicate(
            source_file=other.source_file,
            kept_file=kept.source_file,
            symbol=kept.symbol,
            language=kept.language,
            identical=_text(other) == _text(kept),
        )
        for other in ordered[1:]
    ]
    return kept, duplicates
