"""Read a raw source file into decoded, markdown-ish text.

Every format ends up in the shape the seed files already have (blank line between
paragraphs, ``## `` headings, ``**bold**``, ``*italic*``, ``<sup>n</sup>`` footnote
references, footnote bodies as paragraphs starting ``<sup>n</sup> ``), so the extractor
has one input language to understand, whatever converter produced the file.

Anything that cannot become text raises ``RejectedInput`` with one reason that names
the file; nothing falls back silently to a guess.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.data import RejectedInput

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
        html, encoding = decode_html(data, name)
        text = html_to_text(html)
        fmt = "html"
    elif suffix in DOCX_SUFFIXES:
        text, encoding = docx_to_text(data, name), "binary"
        fmt = "docx"
    else:
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
    than trusted, since the declaration is then demonstrably wrong.
    """
    boms = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    match = _META_CHARSET_RE.search(data[:4096])
    if match and not data.startswith(boms):
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


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


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
    han = [c for c in text if _is_cjk(c)]
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


# --- inline markup shared by the HTML, DOCX and PDF readers ---------------------------

_CJK_CLASS = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# A whitespace run that held a line break in the source: between two CJK characters it
# vanishes (Chinese has no spaces between words), elsewhere it becomes one space.
_SOFT_BREAK = "\x00"
_SOFT_BREAK_CJK_RE = re.compile(
    rf"(?<=[{_CJK_CLASS}]) *{_SOFT_BREAK}[ {_SOFT_BREAK}]*(?=[{_CJK_CLASS}])"
)
_FOOTNOTE_MARK_RE = re.compile(r"[0-9]{1,3}|[*†‡]")


@dataclass
class _Span:
    """A piece of paragraph text with one formatting; ``verbatim`` text (a line break)
    bypasses whitespace collapsing."""

    text: str
    bold: bool = False
    italic: bool = False
    sup: bool = False
    verbatim: bool = False


def _collapse_whitespace(text: str) -> str:
    return re.sub(r"\s+", lambda m: _SOFT_BREAK if "\n" in m.group() else " ", text)


def _render_spans(spans: list[_Span]) -> str:
    """Markdown-ish text for one paragraph: ``**bold**``, ``*italic*``, ``<sup>n</sup>``.

    Adjacent spans with the same formatting are merged first, so a word split over
    several runs gets one pair of markers, and whitespace is moved outside markers
    (``**Recalling** its``, never ``**Recalling **its``), which is how the seeds look.
    Superscript that is not a footnote mark (``18<sup>th</sup>``) stays plain text.
    """
    merged: list[_Span] = []
    for span in spans:
        if not span.text:
            continue
        last = merged[-1] if merged else None
        if (
            last is not None
            and not span.verbatim
            and not last.verbatim
            and (last.bold, last.italic, last.sup) == (span.bold, span.italic, span.sup)
        ):
            last.text += span.text
        else:
            merged.append(_Span(span.text, span.bold, span.italic, span.sup, span.verbatim))

    out: list[str] = []
    for span in merged:
        if span.verbatim:
            out.append(span.text)
            continue
        text = span.text
        core = text.strip()
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :]
        if span.sup:
            # "1", "12", "1,2", and Word HTML's "[1]" are note marks; "th" in 18th is not.
            marks = re.split(r"[\s,]+", core.strip("[]()"))
            if all(_FOOTNOTE_MARK_RE.fullmatch(mark) for mark in marks):
                out.append(lead + "".join(f"<sup>{mark}</sup>" for mark in marks) + trail)
                continue
        if not core or not (span.bold or span.italic):
            out.append(text)
            continue
        marker = "***" if span.bold and span.italic else "**" if span.bold else "*"
        out.append(f"{lead}{marker}{core}{marker}{trail}")

    text = "".join(out)
    text = _SOFT_BREAK_CJK_RE.sub("", text)
    text = re.sub(rf"[ \t{_SOFT_BREAK}]+", " ", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


class _ParagraphWriter:
    """Collects spans into paragraphs; ``flush`` ends the current paragraph."""

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self.spans: list[_Span] = []
        self.prefix = ""

    def flush(self, prefix: str = "") -> None:
        text = _render_spans(self.spans)
        self.spans = []
        if text:
            self.paragraphs.append(f"{prefix or self.prefix}{text}")
            self.prefix = ""

    def text(self) -> str:
        return "\n\n".join(self.paragraphs) + "\n"


# --- HTML --------------------------------------------------------------------------------

_HTML_DROP = frozenset(
    {"head", "script", "style", "noscript", "template", "title", "meta", "link", "svg", "iframe"}
)
_HTML_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd",
        "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
        "form", "header", "hr", "html", "legend", "main", "nav", "p", "pre", "section",
        "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_HTML_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def html_to_text(html: str) -> str:
    """Convert an HTML page to the seeds' markdown-ish text.

    Block elements become paragraphs, ``h1``-``h6`` become ``## `` lines, ``b``/``strong``
    and ``i``/``em`` become ``**``/``*``, a numeric ``sup`` becomes ``<sup>n</sup>``,
    ``ol`` items get "1. " numbers (honouring ``start``), ``br`` is a line break inside
    the paragraph; head, scripts and styles are dropped; the parser decodes entities.
    Footnotes as pandoc and Word's "Save as HTML" write them are understood: a note
    reference (``class="footnote-ref"``, ``MsoFootnoteReference``, ``href="#_ftn1"``) is
    ``<sup>n</sup>``; an ``ol`` inside a footnotes section gives ``<sup>n</sup> text``
    paragraphs, not "n. " ones (which would read as operative paragraphs); back-links
    ("↩") are dropped.
    """
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    writer = _ParagraphWriter()
    if tree.root is not None:
        _walk_html(tree.root, writer, _HtmlContext(), [])
    writer.flush()
    return writer.text() if writer.paragraphs else ""


@dataclass(frozen=True)
class _HtmlContext:
    """Formatting inherited from ancestors while walking the HTML tree."""

    bold: bool = False
    italic: bool = False
    sup: bool = False
    in_footnotes: bool = False


def _html_marks(node: object) -> str:
    attributes = node.attributes  # type: ignore[attr-defined]
    return " ".join(
        (attributes.get(key) or "") for key in ("class", "id", "role", "href", "name")
    ).lower()


def _walk_html(
    node: object,
    writer: _ParagraphWriter,
    context: _HtmlContext,
    list_counters: list[int | None],
) -> None:
    from dataclasses import replace

    for child in node.iter(include_text=True):  # type: ignore[attr-defined]
        tag = child.tag
        if tag == "-text":
            text = _collapse_whitespace(child.text_content or "")
            writer.spans.append(_Span(text, context.bold, context.italic, context.sup))
            continue
        if tag in _HTML_DROP or tag.startswith("-"):
            continue
        marks = _html_marks(child)
        if "footnote-back" in marks or "doc-backlink" in marks:
            continue
        inner = context
        if not context.in_footnotes and re.search(r"footnotes|endnotes|doc-endnotes", marks):
            inner = replace(inner, in_footnotes=True)
        if tag == "br":
            writer.spans.append(_Span("\n", verbatim=True))
        elif tag in _HTML_HEADINGS:
            writer.flush()
            _walk_html(child, writer, replace(inner, bold=False), [])
            writer.flush(prefix="## ")
        elif tag in ("ol", "ul"):
            writer.flush()
            start = (child.attributes.get("start") or "1").strip()
            first = int(start) - 1 if start.lstrip("-").isdigit() else 0
            _walk_html(child, writer, inner, [*list_counters, first if tag == "ol" else None])
            writer.flush()
        elif tag == "li":
            writer.flush()
            if list_counters and list_counters[-1] is not None:
                list_counters[-1] += 1
                number = list_counters[-1]
                writer.prefix = f"<sup>{number}</sup> " if inner.in_footnotes else f"{number}. "
            _walk_html(child, writer, inner, list_counters)
            writer.flush()
        elif tag in _HTML_BLOCKS:
            writer.flush()
            _walk_html(child, writer, inner, list_counters)
            writer.flush()
        else:
            note_reference = tag == "sup" or bool(
                re.search(r"footnote-ref|footnotereference|noteref|#_ftn|#_edn", marks)
            )
            inner = replace(
                inner,
                bold=inner.bold or tag in ("b", "strong"),
                italic=inner.italic or tag in ("i", "em", "cite"),
                sup=inner.sup or note_reference,
            )
            _walk_html(child, writer, inner, list_counters)


# --- DOCX --------------------------------------------------------------------------------

#: Zip-bomb limits, checked on the central directory before anything is decompressed
#: and again while streaming each member (declared sizes can lie). A resolution's DOCX
#: is well under 1 MiB uncompressed; Word XML compresses about 5-20x.
MAX_DOCX_UNCOMPRESSED = 256 * 1024 * 1024
MAX_DOCX_RATIO = 100
#: Below this many uncompressed bytes a high ratio is harmless and not checked.
DOCX_RATIO_FLOOR = 16 * 1024 * 1024
MAX_DOCX_MEMBERS = 10_000

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_FALSE_VALUES = ("0", "false", "off", "none")


def _w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


def _check_docx_archive(data: bytes, name: str) -> None:
    """Refuse a non-zip, corrupt zip or zip bomb before python-docx extracts anything."""
    import io
    import zipfile

    if not data.startswith(b"PK"):
        raise RejectedInput(name, "not a DOCX file: the content is not a zip archive")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise RejectedInput(name, f"not a DOCX file: corrupt zip archive ({exc})") from exc
    with archive:
        members = archive.infolist()
        if len(members) > MAX_DOCX_MEMBERS:
            raise RejectedInput(
                name, f"zip bomb: {len(members)} archive members (limit {MAX_DOCX_MEMBERS})"
            )
        declared = sum(m.file_size for m in members)
        compressed = max(1, sum(m.compress_size for m in members))
        _check_expansion(name, declared, compressed, "declares")
        if "word/document.xml" not in archive.namelist():
            raise RejectedInput(name, "not a Word document: the zip has no word/document.xml")
        # Stream every member without keeping it, counting the real output.
        total = 0
        for member in members:
            try:
                with archive.open(member) as stream:
                    while chunk := stream.read(1024 * 1024):
                        total += len(chunk)
                        _check_expansion(name, total, compressed, "expands to")
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise RejectedInput(
                    name, f"corrupt DOCX: cannot decompress {member.filename} ({exc})"
                ) from exc
            except NotImplementedError as exc:
                raise RejectedInput(
                    name, f"corrupt DOCX: unsupported compression in {member.filename}"
                ) from exc


def _check_expansion(name: str, size: int, compressed: int, verb: str) -> None:
    if size > MAX_DOCX_UNCOMPRESSED:
        raise RejectedInput(
            name,
            f"zip bomb: archive {verb} {size} bytes uncompressed "
            f"(limit {MAX_DOCX_UNCOMPRESSED} bytes)",
        )
    if size > DOCX_RATIO_FLOOR and size / compressed > MAX_DOCX_RATIO:
        raise RejectedInput(
            name,
            f"zip bomb: archive {verb} {size} bytes from {compressed} compressed "
            f"(ratio {size / compressed:.0f}, limit {MAX_DOCX_RATIO})",
        )


def _on(element: object | None) -> bool:
    """A WordprocessingML toggle (``<w:b/>``, ``<w:b w:val="0"/>``) is on unless val says off."""
    if element is None:
        return False
    return (element.get(_w("val")) or "true").lower() not in _FALSE_VALUES  # type: ignore[attr-defined]


def _roman(number: int) -> str:
    values = (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    )  # fmt: skip
    out = ""
    for value, letters in values:
        while number >= value:
            out += letters
            number -= value
    return out


def _format_number(number: int, fmt: str) -> str:
    if fmt == "lowerLetter":
        return chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)
    if fmt == "upperLetter":
        return _format_number(number, "lowerLetter").upper()
    if fmt == "lowerRoman":
        return _roman(number)
    if fmt == "upperRoman":
        return _roman(number).upper()
    return str(number)


@dataclass
class _Level:
    fmt: str = "decimal"
    text: str = "%1."
    start: int = 1


class _Numbering:
    """Word's automatic numbering: numId -> abstract definition -> per-level format,
    with one counter set per numId (a "list"); a deeper level resets when a shallower
    one advances, as Word does."""

    def __init__(self, numbering_xml: object | None) -> None:
        self.levels: dict[str, dict[int, _Level]] = {}
        self.counters: dict[str, list[int | None]] = {}
        if numbering_xml is None:
            return
        abstract: dict[str, dict[int, _Level]] = {}
        for node in numbering_xml.iter(_w("abstractNum")):  # type: ignore[attr-defined]
            levels: dict[int, _Level] = {}
            for lvl in node.iter(_w("lvl")):
                level = _Level()
                fmt = lvl.find(_w("numFmt"))
                text = lvl.find(_w("lvlText"))
                start = lvl.find(_w("start"))
                if fmt is not None:
                    level.fmt = fmt.get(_w("val"), "decimal")
                if text is not None:
                    level.text = text.get(_w("val"), "")
                if start is not None and (start.get(_w("val")) or "").isdigit():
                    level.start = int(start.get(_w("val")))
                levels[int(lvl.get(_w("ilvl"), "0"))] = level
            abstract[node.get(_w("abstractNumId"), "")] = levels
        for num in numbering_xml.iter(_w("num")):  # type: ignore[attr-defined]
            ref = num.find(_w("abstractNumId"))
            if ref is not None:
                self.levels[num.get(_w("numId"), "")] = abstract.get(ref.get(_w("val"), ""), {})

    def label(self, num_id: str, ilvl: int) -> str:
        """The rendered label ("1. ", "(a) ") for the next paragraph of list ``num_id``."""
        levels = self.levels.get(num_id) or {0: _Level()}
        level = levels.get(ilvl, _Level())
        if level.fmt in ("bullet", "none"):
            return ""
        counters = self.counters.setdefault(num_id, [None] * 10)
        ilvl = max(0, min(ilvl, 9))
        current = counters[ilvl]
        counters[ilvl] = level.start if current is None else current + 1
        for deeper in range(ilvl + 1, 10):
            counters[deeper] = None

        def substitute(match: re.Match[str]) -> str:
            index = int(match.group(1)) - 1
            lvl = levels.get(index, _Level())
            value = counters[index] if 0 <= index < 10 else None
            return _format_number(value if value is not None else lvl.start, lvl.fmt)

        label = re.sub(r"%([1-9])", substitute, level.text).strip()
        return f"{label} " if label else ""


def docx_to_text(data: bytes, name: str) -> str:
    """Convert a DOCX to the seeds' markdown-ish text.

    Archive limits are enforced first (``_check_docx_archive``). Body paragraphs and
    table cells become paragraphs; run-level bold/italic/superscript become markup;
    automatic numbering (``w:numPr`` on the paragraph or its style) becomes "1. "
    labels; ``w:footnoteReference`` becomes ``<sup>n</sup>``, numbered in order of
    reference as Word displays them, and the footnote bodies from word/footnotes.xml
    follow the body as ``<sup>n</sup> text`` paragraphs. Heading styles become ``## ``.
    """
    import io
    import zipfile

    _check_docx_archive(data, name)
    import docx
    from lxml import etree

    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
    except Exception as exc:  # python-docx raises many types for broken packages
        raise RejectedInput(name, f"corrupt DOCX: {type(exc).__name__}: {exc}") from exc

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)

    def part(path: str) -> object | None:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if path not in archive.namelist():
                return None
            try:
                return etree.fromstring(archive.read(path), parser)
            except etree.XMLSyntaxError as exc:
                raise RejectedInput(name, f"corrupt DOCX: {path} is not XML ({exc})") from exc

    try:
        return _docx_markdown(body, part)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        raise RejectedInput(
            name, f"corrupt DOCX: malformed WordprocessingML ({type(exc).__name__}: {exc})"
        ) from exc


def _docx_markdown(body: object, part: Callable[[str], object | None]) -> str:
    """The markdown-ish text of a parsed DOCX body (see ``docx_to_text``)."""
    numbering = _Numbering(part("word/numbering.xml"))
    styles = _docx_styles(part("word/styles.xml"))
    footnote_numbers: dict[str, int] = {}
    writer = _ParagraphWriter()
    for element in _docx_paragraphs(body):
        _docx_paragraph(element, writer, numbering, styles, footnote_numbers)

    footnotes = part("word/footnotes.xml")
    if footnotes is not None and footnote_numbers:
        bodies = {
            note.get(_w("id")): note
            for note in footnotes.iter(_w("footnote"))  # type: ignore[attr-defined]
            if note.get(_w("type")) in (None, "normal")
        }
        for note_id, number in sorted(footnote_numbers.items(), key=lambda item: item[1]):
            note = bodies.get(note_id)
            if note is None:
                continue
            for paragraph in note.iter(_w("p")):
                writer.spans.append(_Span(" "))
                _docx_runs(paragraph, writer, footnote_numbers)
            writer.flush(prefix=f"<sup>{number}</sup> ")
    return writer.text() if writer.paragraphs else ""


@dataclass
class _Style:
    name: str = ""
    based_on: str | None = None
    num_id: str | None = None
    ilvl: int = 0
    outline_level: int | None = None


def _docx_styles(styles_xml: object | None) -> dict[str, _Style]:
    styles: dict[str, _Style] = {}
    if styles_xml is None:
        return styles
    for node in styles_xml.iter(_w("style")):  # type: ignore[attr-defined]
        style = _Style()
        name = node.find(_w("name"))
        style.name = (name.get(_w("val"), "") if name is not None else "").lower()
        based = node.find(_w("basedOn"))
        style.based_on = based.get(_w("val")) if based is not None else None
        ppr = node.find(_w("pPr"))
        if ppr is not None:
            style.num_id, style.ilvl = _num_pr(ppr)
            outline = ppr.find(_w("outlineLvl"))
            if outline is not None and (outline.get(_w("val")) or "").isdigit():
                style.outline_level = int(outline.get(_w("val")))
        styles[node.get(_w("styleId"), "")] = style
    return styles


def _num_pr(ppr: object) -> tuple[str | None, int]:
    num_pr = ppr.find(_w("numPr"))  # type: ignore[attr-defined]
    if num_pr is None:
        return None, 0
    num_id = num_pr.find(_w("numId"))
    ilvl = num_pr.find(_w("ilvl"))
    level = ilvl.get(_w("val"), "0") if ilvl is not None else "0"
    return (
        num_id.get(_w("val")) if num_id is not None else None,
        int(level) if level.isdigit() else 0,
    )


def _docx_paragraphs(container: object) -> list[object]:
    """Body-level paragraphs in reading order, descending into tables and content controls."""
    out: list[object] = []
    for child in container:  # type: ignore[attr-defined]
        if child.tag == _w("p"):
            out.append(child)
        elif child.tag in (_w("tbl"), _w("tr"), _w("tc"), _w("sdt"), _w("sdtContent")):
            out.extend(_docx_paragraphs(child))
    return out


def _docx_paragraph(
    paragraph: object,
    writer: _ParagraphWriter,
    numbering: _Numbering,
    styles: dict[str, _Style],
    footnote_numbers: dict[str, int],
) -> None:
    ppr = paragraph.find(_w("pPr"))  # type: ignore[attr-defined]
    num_id, ilvl = (None, 0) if ppr is None else _num_pr(ppr)
    style_id = None
    if ppr is not None and ppr.find(_w("pStyle")) is not None:
        style_id = ppr.find(_w("pStyle")).get(_w("val"))
    heading = ppr is not None and ppr.find(_w("outlineLvl")) is not None
    seen: set[str] = set()
    while style_id and style_id in styles and style_id not in seen:
        seen.add(style_id)
        style = styles[style_id]
        if num_id is None and style.num_id is not None:
            num_id, ilvl = style.num_id, style.ilvl
        if re.fullmatch(r"heading \d|title", style.name) or style.outline_level is not None:
            heading = True
        style_id = style.based_on

    _docx_runs(paragraph, writer, footnote_numbers)
    if not _render_spans(writer.spans):
        writer.spans = []
        return
    if heading:
        writer.flush(prefix="## ")
        return
    label = numbering.label(num_id, ilvl) if num_id not in (None, "0") else ""
    writer.flush(prefix=label)


def _docx_runs(
    paragraph: object, writer: _ParagraphWriter, footnote_numbers: dict[str, int]
) -> None:
    for run in paragraph.iter(_w("r")):  # type: ignore[attr-defined]
        rpr = run.find(_w("rPr"))
        bold = italic = sup = False
        if rpr is not None:
            bold = _on(rpr.find(_w("b")))
            italic = _on(rpr.find(_w("i")))
            align = rpr.find(_w("vertAlign"))
            sup = align is not None and align.get(_w("val")) == "superscript"
        for item in run:
            tag = item.tag
            if tag == _w("t"):
                writer.spans.append(_Span(item.text or "", bold, italic, sup))
            elif tag in (_w("tab"), _w("ptab")):
                writer.spans.append(_Span(" ", bold, italic, sup))
            elif tag in (_w("br"), _w("cr")):
                if item.get(_w("type")) in (None, "textWrapping"):
                    writer.spans.append(_Span("\n", verbatim=True))
            elif tag == _w("noBreakHyphen"):
                writer.spans.append(_Span("-", bold, italic, sup))
            elif tag == _w("footnoteReference"):
                note_id = item.get(_w("id"), "")
                number = footnote_numbers.setdefault(note_id, len(footnote_numbers) + 1)
                writer.spans.append(_Span(str(number), sup=True))


# --- PDF ---------------------------------------------------------------------------------

#: Documents with more pages than this are refused: a resolution has a handful.
MAX_PDF_PAGES = 2000
#: A character at most this fraction of its line's font size, set above the baseline,
#: is a superscript (footnote reference); UN documents use about 0.6-0.7.
SUPERSCRIPT_MAX_SIZE_RATIO = 0.85
#: A line at least this many times the body font size is a heading.
HEADING_MIN_SIZE_RATIO = 1.15
#: A gap between lines larger than this many times the usual line pitch ends a paragraph.
PARAGRAPH_GAP_RATIO = 1.3


@dataclass
class _PdfLine:
    chars: list[dict[str, object]]
    size: float = 0.0
    top: float = 0.0
    bottom: float = 0.0
    page: int = 0


def pdf_to_text(data: bytes, name: str) -> str:
    """Convert a PDF's text layer to the seeds' markdown-ish text.

    Works on pdfplumber's characters (geometry and font per glyph): characters become
    lines by baseline; a smaller character raised above its line's baseline is a
    footnote reference (``<sup>n</sup>``); a gap wider than the usual line pitch, a
    change of font size, a page end, or a line opening with a footnote mark starts a
    new paragraph; bold/italic fonts give ``**``/``*``; lines set clearly larger than
    the body text are ``## `` headings. A PDF whose pages hold no characters at all is
    a scan or an image: rejected, since OCR is out of scope.
    """
    import io

    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    if not data.startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        raise RejectedInput(name, "not a PDF file: no %PDF- header")
    lines: list[_PdfLine] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PDF_PAGES:
                raise RejectedInput(name, f"PDF has {len(pdf.pages)} pages (limit {MAX_PDF_PAGES})")
            for number, page in enumerate(pdf.pages):
                chars = [c for c in page.chars if c.get("upright", True) and c.get("text")]
                lines.extend(_pdf_lines(chars, number))
    except RejectedInput:
        raise
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise RejectedInput(name, "encrypted PDF: cannot read its text") from exc
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError) as exc:
        raise RejectedInput(name, f"corrupt PDF: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # pdfminer raises bare Exception subclasses on broken files
        raise RejectedInput(name, f"corrupt PDF: {type(exc).__name__}: {exc}") from exc

    if not any(str(c["text"]).strip() for line in lines for c in line.chars):
        raise RejectedInput(
            name, "PDF has no text layer (scanned or image-only pages); OCR it first"
        )
    return _pdf_paragraphs(lines)


def _pdf_lines(chars: list[dict[str, object]], page: int) -> list[_PdfLine]:
    """Group one page's characters into lines, folding raised small characters
    (superscripts, set on their own baseline) into the line they belong to."""
    clusters: list[_PdfLine] = []
    for char in sorted(chars, key=lambda c: (float(c["bottom"]), float(c["x0"]))):
        bottom, size = float(char["bottom"]), float(char["size"])
        if clusters and bottom - clusters[-1].bottom <= max(1.0, 0.15 * size):
            clusters[-1].chars.append(char)
            clusters[-1].bottom = max(clusters[-1].bottom, bottom)
        else:
            clusters.append(_PdfLine(chars=[char], bottom=bottom, page=page))
    for line in clusters:
        _measure(line)

    merged: list[_PdfLine] = []
    for index, line in enumerate(clusters):
        below = clusters[index + 1] if index + 1 < len(clusters) else None
        if (
            below is not None
            and line.size <= SUPERSCRIPT_MAX_SIZE_RATIO * below.size
            and line.bottom > below.top
        ):
            for char in line.chars:
                char["_sup"] = True
            below.chars.extend(line.chars)
        else:
            merged.append(line)
    for line in merged:
        non_sup = [c for c in line.chars if not c.get("_sup")]
        baseline = max(float(c["bottom"]) for c in non_sup) if non_sup else line.bottom
        for char in line.chars:
            small = float(char["size"]) <= SUPERSCRIPT_MAX_SIZE_RATIO * line.size
            if small and float(char["bottom"]) < baseline - 0.15 * line.size:
                char["_sup"] = True
        line.chars.sort(key=lambda c: float(c["x0"]))
        _measure(line)
    merged.sort(key=lambda line: line.top)
    return merged


def _measure(line: _PdfLine) -> None:
    """Size, top and bottom of a line from its normal (non-superscript) characters."""
    body = [c for c in line.chars if not c.get("_sup") and str(c["text"]).strip()]
    body = body or line.chars
    line.size = max(float(c["size"]) for c in body)
    line.top = min(float(c["top"]) for c in body)
    line.bottom = max(float(c["bottom"]) for c in body)


def _pdf_paragraphs(lines: list[_PdfLine]) -> str:
    from collections import Counter

    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[round(line.size * 2) / 2] += len(line.chars)
    body_size = sizes.most_common(1)[0][0]
    pitches = [
        b.top - a.top
        for a, b in zip(lines, lines[1:], strict=False)
        if a.page == b.page and abs(a.size - b.size) < 0.5 and b.top > a.top
    ]
    pitches.sort()
    # The lower quartile: the usual pitch inside a paragraph, even when many
    # paragraphs are a single line (their pitch includes the paragraph gap).
    line_pitch = pitches[len(pitches) // 4] if pitches else body_size * 1.2

    gap_limit = PARAGRAPH_GAP_RATIO * line_pitch
    writer = _ParagraphWriter()
    previous: _PdfLine | None = None
    heading = False
    for line in lines:
        is_heading = line.size >= HEADING_MIN_SIZE_RATIO * body_size
        first = next((c for c in line.chars if str(c["text"]).strip()), None)
        starts_with_mark = first is not None and bool(first.get("_sup"))
        if previous is not None:
            if line.page != previous.page:
                new_paragraph = not _continues_on_next_page(previous, line, lines, body_size)
            else:
                new_paragraph = line.top <= previous.top or line.top - previous.top > gap_limit
            new_paragraph = (
                new_paragraph
                or abs(line.size - previous.size) > 0.1 * body_size
                or is_heading != heading
                or starts_with_mark
            )
            if new_paragraph:
                writer.flush(prefix="## " if heading else "")
            elif not _ends_with_hyphenated_word(previous):
                writer.spans.append(_Span(_SOFT_BREAK))
        _pdf_line_spans(line, writer)
        previous, heading = line, is_heading
    writer.flush(prefix="## " if heading else "")
    return writer.text() if writer.paragraphs else ""


def _ends_with_hyphenated_word(line: _PdfLine) -> bool:
    """ "non-" at a line end joins "proliferation" with no space: UN texts hyphenate
    compounds, and a kept hyphen is right for those."""
    text = "".join(str(c["text"]) for c in line.chars).rstrip()
    return len(text) >= 2 and text[-1] == "-" and text[-2].isalnum()


def _continues_on_next_page(
    last: _PdfLine, first: _PdfLine, lines: list[_PdfLine], body_size: float
) -> bool:
    """A paragraph runs on over a page break when the page's last line is body text
    filled to the right margin and the next page starts with body text. A last line
    that ends short, a footnote or a footer (smaller type, or a few characters such
    as "20-16421 2/5") ends the paragraph instead; the extractor re-joins what this
    rule leaves cut."""
    if abs(last.size - body_size) > 0.5 or abs(first.size - body_size) > 0.5:
        return False
    if sum(1 for c in last.chars if str(c["text"]).strip()) < 30:
        return False
    right_margin = max(
        float(c["x1"])
        for line in lines
        if line.page == last.page and abs(line.size - body_size) <= 0.5
        for c in line.chars
    )
    last_right = max(float(c["x1"]) for c in last.chars)
    return last_right >= right_margin - 2 * last.size


def _pdf_line_spans(line: _PdfLine, writer: _ParagraphWriter) -> None:
    previous: dict[str, object] | None = None
    for char in line.chars:
        text = str(char["text"])
        font = str(char.get("fontname", "")).lower()
        if previous is not None and text.strip() and str(previous["text"]).strip():
            gap = float(char["x0"]) - float(previous["x1"])
            if gap > 0.2 * min(float(char["size"]), float(previous["size"])):
                writer.spans.append(_Span(" "))
        writer.spans.append(
            _Span(
                text,
                bold="bold" in font or "black" in font or "heavy" in font,
                italic="italic" in font or "oblique" in font,
                sup=bool(char.get("_sup")),
            )
        )
        previous = char
