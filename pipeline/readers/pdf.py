"""Text-layer PDFs -> the seeds' markdown-ish text (see ``pipeline.readers``).

pdfplumber (MIT) gives every glyph with its font, size and position, which is what
telling a footnote mark from a digit needs; no AGPL library is used.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass

from pipeline.readers.markup import SOFT_BREAK, ParagraphWriter, Span
from pipeline.records import RejectedInput

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
    writer = ParagraphWriter()
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
                writer.spans.append(Span(SOFT_BREAK))
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


def _pdf_line_spans(line: _PdfLine, writer: ParagraphWriter) -> None:
    previous: dict[str, object] | None = None
    for char in line.chars:
        text = str(char["text"])
        font = str(char.get("fontname", "")).lower()
        if previous is not None and text.strip() and str(previous["text"]).strip():
            gap = float(char["x0"]) - float(previous["x1"])
            if gap > 0.2 * min(float(char["size"]), float(previous["size"])):
                writer.spans.append(Span(" "))
        writer.spans.append(
            Span(
                text,
                bold="bold" in font or "black" in font or "heavy" in font,
                italic="italic" in font or "oblique" in font,
                sup=bool(char.get("_sup")),
            )
        )
        previous = char
