"""Read a raw source file into decoded, markdown-ish text.

Every format ends up in the shape the seed files already have (blank line between
paragraphs, ``## `` headings, ``**bold**``, ``*italic*``, ``<sup>n</sup>`` footnote
references, footnote bodies as paragraphs starting ``<sup>n</sup> ``), so the extractor
has one input language to understand, whatever converter produced the file.

Anything that cannot become text raises ``RejectedInput`` with one reason that names
the file; nothing falls back silently to a guess.

This module reads bytes and decodes text formats; the converters live beside it
(``read_html``, ``read_docx``, ``read_pdf``, sharing ``inline_markup``) and are imported
only when a file of their kind arrives, so reading the seeds never loads lxml or
pdfplumber.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pipeline.data import RejectedInput
from pipeline.text.script import is_han

#: Raw files larger than this are refused before decoding: a resolution is tens of KB,
#: so anything past 64 MiB is not one and would only cost memory.
MAX_SOURCE_BYTES = 64 * 1024 * 1024

TEXT_SUFFIXES = (".txt", ".md")
HTML_SUFFIXES = (".html", ".htm")
DOCX_SUFFIXES = (".docx",)
PDF_SUFFIXES = (".pdf",)
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + DOCX_SUFFIXES + PDF_SUFFIXES

# Magic numbers of formats that sometimes arrive with a .txt name. Naming the real format
# in the reason tells the user what to do (rename it) instead of "undecodable".
_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (DOCX?)"),
    (b"\xd0\xcf\x11\xe0", "an OLE2 file (legacy .doc?)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "an executable"),
)

# Control characters that never occur in text documents (tab, LF, VT, FF, CR and ESC-free).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13))
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


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
    name = path.name
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

    if suffix in TEXT_SUFFIXES:
        text, encoding = decode_text(data, name)
        fmt = suffix.lstrip(".")
    elif suffix in HTML_SUFFIXES:
        from pipeline.read_html import html_to_text

        html, encoding = decode_html(data, name)
        text = html_to_text(html)
        fmt = "html"
    elif suffix in DOCX_SUFFIXES:
        from pipeline.read_docx import docx_to_text

        text, encoding = docx_to_text(data, name), "binary"
        fmt = "docx"
    else:
        from pipeline.read_pdf import pdf_to_text

        text, encoding = pdf_to_text(data, name), "binary"
        fmt = "pdf"

    if not text.strip():
        raise RejectedInput(name, f"no text in file (the {fmt} file holds only whitespace)")
    return SourceText(source_file=name, sha256=sha256, text=text, fmt=fmt, encoding=encoding)


def decode_text(data: bytes, name: str, *, reject_blank: bool = True) -> tuple[str, str]:
    """Decode text bytes, detecting the encoding; returns ``(text, encoding)``.

    Order matters: a BOM is certain; a regular NUL pattern means BOM-less UTF-16;
    any other NUL or control byte means binary; then strict UTF-8 (which random bytes
    almost never pass); and GB18030 last, accepted only when the result looks like
    Chinese text, because GB18030 decodes many byte strings that are not text at all.
    """
    encoding: str | None = None
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith(codecs.BOM_UTF16_LE):
        encoding = "utf-16-le"
        data = data[2:]
    elif data.startswith(codecs.BOM_UTF16_BE):
        encoding = "utf-16-be"
        data = data[2:]
    else:
        encoding = _utf16_without_bom(data)

    if encoding is None:
        magic = next((kind for prefix, kind in _MAGIC if data.startswith(prefix)), None)
        if magic:
            raise RejectedInput(name, f"binary file: the content is {magic}, not text")
        head = data[:65536]
        controls = sum(head.count(bytes([b])) for b in _CONTROL_BYTES)
        if b"\x00" in head or controls > max(2, len(head) // 200):
            raise RejectedInput(name, "binary file: contains NUL or control bytes, not text")
        try:
            text = data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError as utf8_error:
            text = _decode_gb18030(data)
            if text is None:
                raise RejectedInput(
                    name,
                    "undecodable text: not UTF-8 (invalid byte at offset "
                    f"{utf8_error.start}), not UTF-16, not GB18030/GBK Chinese",
                ) from utf8_error
            encoding = "gb18030"
    else:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise RejectedInput(
                name, f"undecodable text: invalid {encoding} at byte {exc.start}"
            ) from exc

    return _normalise_decoded(text, encoding, name, reject_blank=reject_blank), encoding


def _normalise_decoded(text: str, encoding: str, name: str, *, reject_blank: bool) -> str:
    """``\n`` line ends, no BOM; refuse control characters (binary) and blank text."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    # pdftotext marks page starts with a form feed; Unicode has its own separators.
    # All of them are line structure, which the extractor reads from "\n" alone.
    text = text.replace("\f", "\n").replace("\v", "\n").replace("\u2028", "\n")
    text = text.replace("\u2029", "\n\n").replace("\x85", "\n")
    if len(_CONTROL_RE.findall(text[:65536])) > max(2, min(len(text), 65536) // 200):
        raise RejectedInput(name, f"binary file: control characters after decoding as {encoding}")
    if reject_blank and not text.strip():
        raise RejectedInput(name, "empty file (only whitespace)")
    return text


_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)


def decode_html(data: bytes, name: str) -> tuple[str, str]:
    """Decode an HTML file: a BOM first, then the page's own ``<meta charset>``
    declaration (Word's "Save as HTML" writes windows-1252, which no detector can tell
    from other single-byte encodings), then the same detection as for text files.

    A declared charset that does not decode the bytes strictly is ignored rather
    than trusted, since the declaration is then demonstrably wrong. So is one on a page
    whose non-ASCII bytes are valid UTF-8: other encodings practically never form valid
    multi-byte UTF-8 sequences, while Latin-1 decodes every byte, so trusting a wrong
    single-byte label would turn a UTF-8 page into mojibake without any error.
    """
    boms = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    match = _META_CHARSET_RE.search(data[:4096])
    if match and not data.startswith(boms) and not _is_multibyte_utf8(data):
        declared = match.group(1).decode("ascii").lower()
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            codec = ""
        if codec in ("gb2312", "gbk", "cp936", "euc_cn"):
            codec = "gb18030"  # a superset; pages labelled GB2312 often use GBK characters
        if codec and not codec.startswith("utf-16") and codec != "utf-32":
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                pass
            else:
                return _normalise_decoded(text, codec, name, reject_blank=False), codec
    return decode_text(data, name, reject_blank=False)


def _is_multibyte_utf8(data: bytes) -> bool:
    """True when ``data`` has non-ASCII bytes and all of it is strict UTF-8."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when NULs sit on one byte parity only, else None.

    ASCII characters (spaces, digits, Latin words) in UTF-16 have a zero high byte; in
    little-endian it is the odd byte, in big-endian the even one. Real UN text, even
    Chinese, has enough of them (spaces, digits, symbols) to show the pattern clearly.
    """
    head = data[:8192]
    if len(head) < 4 or len(data) % 2:
        return None
    pairs = len(head) // 2
    even_nuls = head[0::2].count(0)
    odd_nuls = head[1::2].count(0)
    if odd_nuls >= 0.2 * pairs and even_nuls <= 0.01 * pairs:
        return "utf-16-le"
    if even_nuls >= 0.2 * pairs and odd_nuls <= 0.01 * pairs:
        return "utf-16-be"
    return None


def _decode_gb18030(data: bytes) -> str | None:
    """Strict GB18030 decode, kept only if the text is plausibly Chinese.

    Latin-1 or CP1252 text ("adopt\\xe9e") often decodes as GB18030 into rare
    characters from the GBK extension area. Genuine Chinese text is almost entirely
    GB2312 (the 6,763 common characters), so at least 90% of the Han characters must
    be in GB2312, and there must be no private-use or unassigned code points.
    Returns None when the bytes are not (plausible) GB18030 text.
    """
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(c) in ("Co", "Cn") for c in text):
        return None
    han = [c for c in text if is_han(c)]
    if not han:
        # Non-Chinese text in GB18030 (an English file with ¹ or – in it): its
        # non-ASCII characters are 4-byte sequences that stray bytes rarely form.
        return text
    common = 0
    for char in han:
        try:
            char.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    if common < 0.9 * len(han):
        return None
    return text
