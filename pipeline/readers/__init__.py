"""Read a raw source file into decoded, markdown-ish text.

Every format ends up in the shape the seed files already have (blank line between
paragraphs, ``## `` headings, ``**bold**``, ``*italic*``, ``<sup>n</sup>`` footnote
references, footnote bodies as paragraphs starting ``<sup>n</sup> ``), so the extractor
has one input language to understand, whatever converter produced the file.

Anything that cannot become text raises ``RejectedInput`` with one reason that names
the file; nothing falls back silently to a guess.

This package's entry point reads bytes and dispatches on the suffix: ``encoding``
decodes the text formats, and the converters (``html``, ``docx``, ``pdf``, sharing
``markup``) are imported only when a file of their kind arrives, so reading the seeds
never loads lxml or pdfplumber.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pipeline.readers.encoding import decode_html, decode_text
from pipeline.readers.limits import time_limit
from pipeline.readers.names import shown_name
from pipeline.records import RejectedInput

__all__ = [
    "SUPPORTED_SUFFIXES",
    "SourceText",
    "decode_html",
    "decode_text",
    "read_source",
    "shown_name",
]

#: Raw files larger than this are refused before decoding: a resolution is tens of KB,
#: so anything past 64 MiB is not one and would only cost memory.
MAX_SOURCE_BYTES = 64 * 1024 * 1024

TEXT_SUFFIXES = (".txt", ".md")
HTML_SUFFIXES = (".html", ".htm")
DOCX_SUFFIXES = (".docx",)
PDF_SUFFIXES = (".pdf",)
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + DOCX_SUFFIXES + PDF_SUFFIXES


@dataclass
class SourceText:
    """A decoded source file. ``text`` uses ``\\n`` line ends and has no BOM.

    ``sha256`` is of the raw bytes so provenance survives re-encoding; ``fmt`` is the
    reader that produced the text (``txt``, ``md``, ``html``, ``docx``, ``pdf``) and
    ``encoding`` the detected byte encoding (``utf-8``, ``utf-8-sig``, ``utf-16-le``,
    ``utf-16-be``, ``gb18030``; ``binary`` for DOCX/PDF, whose text is not byte-encoded).
    """

    source_file: str
    sha256: str
    text: str
    fmt: str
    encoding: str


def read_source(path: Path) -> SourceText:
    """Read ``path`` (.txt, .md, .html, .htm, .docx, .pdf) into markdown-ish text.

    Raises ``RejectedInput(path.name, reason)`` for an unsupported extension, an empty,
    binary, undecodable or oversized file, a DOCX that is not a zip or would expand
    past the limits, and a PDF without a text layer.
    """
    path = Path(path)
    name = shown_name(path.name)  # any bytes: the name as every output shows it
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise RejectedInput(
            name,
            f"unsupported file type {suffix or '(no extension)'!r}; "
            f"expected one of {', '.join(SUPPORTED_SUFFIXES)}",
        )
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise RejectedInput(
                name, f"file too large ({size} bytes; limit {MAX_SOURCE_BYTES} bytes)"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise RejectedInput(name, f"cannot read file: {exc.strerror or exc}") from exc
    if not data:
        raise RejectedInput(name, "empty file (0 bytes)")
    sha256 = hashlib.sha256(data).hexdigest()

    with time_limit(name):
        text, encoding, fmt = _convert(data, name, suffix)
    if not text.strip():
        raise RejectedInput(name, f"no text in file (the {fmt} file holds only whitespace)")
    return SourceText(source_file=name, sha256=sha256, text=text, fmt=fmt, encoding=encoding)


def _convert(data: bytes, name: str, suffix: str) -> tuple[str, str, str]:
    """(text, encoding, format) of a file's bytes, by the reader its suffix names."""
    if suffix in TEXT_SUFFIXES:
        text, encoding = decode_text(data, name)
        return text, encoding, suffix.lstrip(".")
    if suffix in HTML_SUFFIXES:
        from pipeline.readers.html import NestingTooDeep, html_to_text

        html, encoding = decode_html(data, name)
        try:
            return html_to_text(html), encoding, "html"
        except NestingTooDeep as error:
            raise RejectedInput(name, str(error)) from None
    if suffix in DOCX_SUFFIXES:
        from pipeline.readers.docx import docx_to_text

        return docx_to_text(data, name), "binary", "docx"
    from pipeline.readers.pdf import pdf_to_text

    return pdf_to_text(data, name), "binary", "pdf"
