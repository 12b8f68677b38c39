"""One document per symbol and language when an archive holds several copies, and the
conflicts when the copies are not one document.

Users download a document in every format offered (PDF and DOCX of the same
resolution, a .txt and a .md conversion), or a revision beside the original. Rejecting
every copy would lose the pair, so one copy is kept and the others are reported as
duplicates of it. Which one: the latest revision ("Rev.2" over "Rev.1" over the
original); then the format whose structure the reader gets most reliably (DOCX states
paragraphs and footnotes explicitly; HTML nearly so; a PDF's structure is inferred from
geometry; Markdown and plain text from conversions are the least reliable); then the
file name, so the choice is deterministic.

That is only sound when the copies hold the same text. Two files of one symbol,
language and revision whose texts differ (a file mislabelled with another resolution's
symbol, an edited copy) are a *conflict*: nothing in them says which is the real
document, and pairing the wrong one puts a fluent, well-aligned, wrong translation into
the corpus, where no reader would notice it. So neither copy is paired; both are named
(manifest ``documents.conflicts``, stderr) and the user removes the wrong one.

"The same text" is decided on the text, not on how a converter laid it out: the letters
and digits of every block in order (:func:`text_digest`). Case, punctuation, quotes,
whitespace and block boundaries differ between a PDF, a DOCX and their conversions of
one document (curly or straight quotes, a hyphen lost at a line end, a paragraph torn at
a page break) and are left out; a word, a number or a paragraph more is a different text.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

from pipeline.records import Document

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


@dataclass
class Conflict:
    """Copies of one symbol, language and revision that hold different texts."""

    symbol: str
    language: str
    files: list[str]

    @property
    def reason(self) -> str:
        return (
            f"conflict: {self.symbol} ({self.language}) has different texts in "
            f"{', '.join(self.files)}; none of them is paired (remove the wrong file)"
        )


def text_digest(document: Document) -> str:
    """sha256 of the document's letters and digits, in order (see module docstring).

    A stub (blocks left on disk) carries the digest of its whole document."""
    if document.text_digest is not None:
        return document.text_digest
    digest = hashlib.sha256()
    for block in document.blocks:
        text = unicodedata.normalize("NFKC", block.text).casefold()
        digest.update("".join(ch for ch in text if ch.isalnum()).encode("utf-8"))
    return digest.hexdigest()


def pairing_stub(document: Document) -> Document:
    """What pairing needs of a document, without its blocks (the build spools those)."""
    return dataclasses.replace(document, blocks=[], text_digest=text_digest(document))


def _revision_number(document: Document) -> tuple[int, int]:
    """(revision, corrigendum): "Rev.2/Corr.1" -> (2, 1); the original is (0, 0)."""
    revision = document.metadata.revision or ""
    rev = re.search(r"Rev\.(\d+)", revision)
    corr = re.search(r"Corr\.(\d+)", revision)
    return (int(rev.group(1)) if rev else 0, int(corr.group(1)) if corr else 0)


def _format_rank(document: Document) -> int:
    suffix = PurePath(document.source_file).suffix.lower()
    return FORMAT_RANK.index(suffix) if suffix in FORMAT_RANK else len(FORMAT_RANK)


def choose(group: list[Document]) -> tuple[Document | None, list[Duplicate], Conflict | None]:
    """The copy to keep from ``group`` (one symbol and language) and the others as its
    duplicates; or no copy and the conflict, when the latest revision's copies differ."""
    ordered = sorted(
        group,
        key=lambda d: (*(-n for n in _revision_number(d)), _format_rank(d), d.source_file),
    )
    kept = ordered[0]
    latest = [d for d in ordered if _revision_number(d) == _revision_number(kept)]
    if len({text_digest(d) for d in latest}) > 1:
        files = sorted(d.source_file for d in group)
        return None, [], Conflict(kept.symbol, kept.language, files)
    duplicates = [
        Duplicate(
            source_file=other.source_file,
            kept_file=kept.source_file,
            symbol=kept.symbol,
            language=kept.language,
            identical=text_digest(other) == text_digest(kept),
        )
        for other in ordered[1:]
    ]
    return kept, duplicates, None
