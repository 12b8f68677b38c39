"""Inline markup shared by the HTML, DOCX and PDF readers.

Each reader turns its format into spans of text with formatting (bold, italic,
superscript); this module renders a paragraph of spans into the seeds' markdown-ish
form, so all formats produce exactly the same markup for the same content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.text.script import CJK_CLASS

_CJK_CLASS = CJK_CLASS
# A whitespace run that held a line break in the source: between two CJK characters it
# vanishes (Chinese has no spaces between words), elsewhere it becomes one space.
SOFT_BREAK = "\x00"
_SOFT_BREAK_CJK_RE = re.compile(
    rf"(?<=[{_CJK_CLASS}]) *{SOFT_BREAK}[ {SOFT_BREAK}]*(?=[{_CJK_CLASS}])"
)
_FOOTNOTE_MARK_RE = re.compile(r"[0-9]{1,3}|[*†‡]")


@dataclass
class Span:
    """A piece of paragraph text with one formatting; ``verbatim`` text (a line break)
    bypasses whitespace collapsing."""

    text: str
    bold: bool = False
    italic: bool = False
    sup: bool = False
    verbatim: bool = False


def collapse_whitespace(text: str) -> str:
    return re.sub(r"\s+", lambda m: SOFT_BREAK if "\n" in m.group() else " ", text)


def render_spans(spans: list[Span]) -> str:
    """Markdown-ish text for one paragraph: ``**bold**``, ``*italic*``, ``<sup>n</sup>``.

    Adjacent spans with the same formatting are merged first, so a word split over
    several runs gets one pair of markers, and whitespace is moved outside markers
    (``**Recalling** its``, never ``**Recalling **its``), which is how the seeds look.
    Superscript that is not a footnote mark (``18<sup>th</sup>``) stays plain text.
    """
    merged: list[Span] = []
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
            merged.append(Span(span.text, span.bold, span.italic, span.sup, span.verbatim))

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
    text = re.sub(rf"[ \t{SOFT_BREAK}]+", " ", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


class ParagraphWriter:
    """Collects spans into paragraphs; ``flush`` ends the current paragraph."""

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self.spans: list[Span] = []
        self.prefix = ""

    def flush(self, prefix: str = "") -> None:
        text = render_spans(self.spans)
        self.spans = []
        if text:
            self.paragraphs.append(f"{prefix or self.prefix}{text}")
            self.prefix = ""

    def text(self) -> str:
        return "\n\n".join(self.paragraphs) + "\n"
