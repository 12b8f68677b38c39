"""DOCX files -> the seeds' markdown-ish text (see ``pipeline.readers``).

python-docx opens the package; numbering, styles and footnotes, which it does not
expose, are read from their XML parts with lxml.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.readers.markup import ParagraphWriter, Span, render_spans
from pipeline.records import RejectedInput

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
    writer = ParagraphWriter()
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
                writer.spans.append(Span(" "))
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
    writer: ParagraphWriter,
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
    if not render_spans(writer.spans):
        writer.spans = []
        return
    if heading:
        writer.flush(prefix="## ")
        return
    label = numbering.label(num_id, ilvl) if num_id not in (None, "0") else ""
    writer.flush(prefix=label)


def _docx_runs(
    paragraph: object, writer: ParagraphWriter, footnote_numbers: dict[str, int]
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
                writer.spans.append(Span(item.text or "", bold, italic, sup))
            elif tag in (_w("tab"), _w("ptab")):
                writer.spans.append(Span(" ", bold, italic, sup))
            elif tag in (_w("br"), _w("cr")):
                if item.get(_w("type")) in (None, "textWrapping"):
                    writer.spans.append(Span("\n", verbatim=True))
            elif tag == _w("noBreakHyphen"):
                writer.spans.append(Span("-", bold, italic, sup))
            elif tag == _w("footnoteReference"):
                note_id = item.get(_w("id"), "")
                number = footnote_numbers.setdefault(note_id, len(footnote_numbers) + 1)
                writer.spans.append(Span(str(number), sup=True))
