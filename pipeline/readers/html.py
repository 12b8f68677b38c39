"""HTML pages -> the seeds' markdown-ish text (see ``pipeline.readers``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pipeline.readers.markup import ParagraphWriter, Span, collapse_whitespace

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


#: Deepest element nesting read. Real pages nest a few dozen levels; the walk below recurses
#: once per level, and the parser's time grows with the square of the depth.
MAX_HTML_DEPTH = 400
#: The same limit counted on the raw markup before parsing (open tags minus closed ones,
#: tags a parser closes by itself left out), generous because unclosed tags count too.
MAX_MARKUP_DEPTH = 4000
_VOID_OR_SELF_CLOSING = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "param", "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th",
        "thead", "tbody", "tfoot", "option", "optgroup", "rb", "rt", "rp", "colgroup",
        "caption", "html", "head", "body",
    }
)  # fmt: skip
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:_-]*)[^>]*?(/?)>")


class NestingTooDeep(ValueError):
    """An HTML page nested past the limits (the message says how deep)."""


def markup_depth(html: str, stop: int = MAX_MARKUP_DEPTH) -> int:
    """Deepest nesting of elements counted on the raw markup, up to ``stop``: a linear
    scan that keeps a pathological page from ever reaching the parser."""
    depth = deepest = 0
    for match in _TAG_RE.finditer(html):
        closing, tag, self_closing = match.groups()
        if self_closing or tag.lower() in _VOID_OR_SELF_CLOSING:
            continue
        if closing:
            depth = max(0, depth - 1)
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest >= stop:
                break
    return deepest


def html_to_text(html: str) -> str:
    """Convert an HTML page to the seeds' markdown-ish text.

    Block elements become paragraphs, ``h1``-``h6`` become ``## `` lines, ``b``/``strong``
    and ``i``/``em`` become ``**``/``*``, a numeric ``sup`` becomes ``<sup>n</sup>``,
    ``ol`` items get "1. " numbers (honouring ``start``), ``br`` is a line break inside
    the paragraph; head, scripts and styles are dropped; the parser decodes entities.
    Footnotes as pandoc, Word's "Save as HTML" and LibreOffice write them are
    understood: a note reference (``class="footnote-ref"``, ``MsoFootnoteReference``,
    ``href="#_ftn1"``) and LibreOffice's note number (``sdfootnotesym``) are
    ``<sup>n</sup>``; an ``ol`` inside a footnotes section gives ``<sup>n</sup> text``
    paragraphs, not "n. " ones (which would read as operative paragraphs); back-links
    ("↩") are dropped.
    """
    from selectolax.lexbor import LexborHTMLParser

    if markup_depth(html) >= MAX_MARKUP_DEPTH:
        raise NestingTooDeep(
            f"HTML nested too deeply (at least {MAX_MARKUP_DEPTH} unclosed elements); not read"
        )
    tree = LexborHTMLParser(html)
    writer = ParagraphWriter()
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
    depth: int = 0


def _html_marks(node: object) -> str:
    attributes = node.attributes  # type: ignore[attr-defined]
    return " ".join(
        (attributes.get(key) or "") for key in ("class", "id", "role", "href", "name")
    ).lower()


def _walk_html(
    node: object,
    writer: ParagraphWriter,
    context: _HtmlContext,
    list_counters: list[int | None],
) -> None:
    for child in node.iter(include_text=True):  # type: ignore[attr-defined]
        tag = child.tag
        if tag == "-text":
            text = collapse_whitespace(child.text_content or "")
            writer.spans.append(Span(text, context.bold, context.italic, context.sup))
            continue
        if tag in _HTML_DROP or tag.startswith("-"):
            continue
        marks = _html_marks(child)
        if "footnote-back" in marks or "doc-backlink" in marks:
            continue
        if context.depth >= MAX_HTML_DEPTH:
            raise NestingTooDeep(
                f"HTML nested too deeply (more than {MAX_HTML_DEPTH} elements); not read"
            )
        inner = replace(context, depth=context.depth + 1)
        if not context.in_footnotes and re.search(r"footnotes|endnotes|doc-endnotes", marks):
            inner = replace(inner, in_footnotes=True)
        if tag == "br":
            writer.spans.append(Span("\n", verbatim=True))
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
                re.search(
                    r"footnote-ref|footnotereference|noteref|#_ftn|#_edn|sd(?:foot|end)notesym",
                    marks,
                )
            )
            inner = replace(
                inner,
                bold=inner.bold or tag in ("b", "strong"),
                italic=inner.italic or tag in ("i", "em", "cite"),
                sup=inner.sup or note_reference,
            )
            _walk_html(child, writer, inner, list_counters)
