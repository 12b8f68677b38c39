"""Bytes -> text for the text formats: encoding detection, and refusal of binary data.

A raw file arrives without a declared encoding (or, for HTML, with one that may be
wrong). The detection order and the evidence each step needs are documented on
``decode_text`` and ``decode_html``; anything that is not text raises ``RejectedInput``
naming the file and the reason (a PDF or zip under a .txt name is named as such).
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from pipeline.records import RejectedInput
from pipeline.text.script import is_han

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
