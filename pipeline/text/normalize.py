"""Inline cleanup of converted text: markup and layout debris out, footnote markers kept aside.

PDF-to-text and Word-to-text converters leave markdown emphasis, heading marks, empty
``[x](#)`` links, escaped brackets, ``<sup>n</sup>`` or superscript-digit footnote markers
and hard line breaks in the text. None of it is part of the translated sentence, and the
aligner compares sentences by meaning, so every trace must go, except the footnote
markers: they tell which footnote a paragraph cites, so they are returned separately.

Unicode is normalised with NFC, never NFKC: NFKC folds the full-width ``（`` to ``(`` and
``¹`` to ``1``, which changes Chinese typography and turns footnote markers into text.
Typographic quotes stay as they are.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pipeline.text.script import CJK_CLASS, CJK_PUNCTUATION_CLASS, is_cjk, is_cjk_punctuation

SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUPERSCRIPT_TO_ASCII = str.maketrans(SUPERSCRIPT_DIGITS, "0123456789")

# Invisible characters converters leave behind: soft hyphen, zero-width space/joiners,
# word joiner, BOM. They break word matching and are never part of the text.
_INVISIBLE_RE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
# Spaces of every width except the ideographic space, which is handled with CJK below.
_SPACE_RE = re.compile("[\t\u00a0\u2000-\u200a\u202f\u205f]")

_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~\"'])")
# A link's visible text may hold markup but no bracket: that keeps "[on the report of
# the First Committee ([A/78/409](#), para. 89)]" from being read as one link.
_LINK_RE = re.compile(r"\[([^\[\]]*)\]\([^()\s]*\)")
_SUP_RE = re.compile(r"<sup>\s*([^<]*?)\s*</sup>|([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", re.IGNORECASE)
_TAG_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_EMPHASIS_RE = re.compile(r"\*+|(?<![\w_])_+(?=\S)|(?<=\S)_+(?![\w_])")
_HEADING_MARK_RE = re.compile(r"^[ \t]{0,3}#{1,6}(?:[ \t]+|$)|[ \t]+#+[ \t]*$", re.MULTILINE)
_FOOTNOTE_NUMBER_RE = re.compile(r"^\d{1,3}$")
_LINE_BREAK_RE = re.compile(r"[ \t\u3000]*\n[ \t\u3000\n]*")
#: A run of spaces that is not already one plain space (those need no replacing).
_SPACES_RE = re.compile(r" [ \t\u3000]+|[\t\u3000][ \t\u3000]*")
_CJK_RE = re.compile(f"[{CJK_CLASS}]")
# A space between two non-spaces that Chinese typography does not have: between two CJK
# characters, or next to CJK punctuation. One pattern, so the text is scanned in C: a
# Python callback per space was a third of extraction's time.
_CJK_SPACE_RE = re.compile(
    rf"(?<=[{CJK_CLASS}])(?<=\S) (?=[{CJK_CLASS}])(?=\S)"
    rf"|(?<=[{CJK_PUNCTUATION_CLASS}])(?<=\S) (?=\S)"
    rf"|(?<=\S) (?=[{CJK_PUNCTUATION_CLASS}])(?=\S)"
)


def normalize_unicode(text: str) -> str:
    """NFC, ``\\n`` line ends, no BOM or invisible characters, exotic spaces as plain spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE_RE.sub("", text)
    return _SPACE_RE.sub(" ", text)


def unescape_markdown(text: str) -> str:
    r"""``\(2004\)`` -> ``(2004)``; a backslash that escapes nothing is dropped too.

    A UN resolution never contains a backslash, so one left over is a markdown hard
    line break or converter noise.
    """
    if "\\" not in text:
        return text  # the usual case, and a scan in C instead of a pattern
    text = _ESCAPE_RE.sub(r"\1", text)
    return text.replace("\\", "")


def strip_links(text: str) -> str:
    """``[A/74/548](#)`` -> ``A/74/548``: converters turn symbols into dead links."""
    previous = None
    while previous != text and "](" in text:  # nested "[[x](#)](#)": inside out
        previous = text
        text = _LINK_RE.sub(r"\1", text)
    return text


def take_footnote_refs(text: str) -> tuple[str, list[str]]:
    """Remove footnote markers and return them in reading order.

    ``<sup>3</sup>`` and superscript digits (``¹²`` is footnote 12, as printed) are
    markers. A ``<sup>`` holding letters (``42<sup>nd</sup>``) is typography, not a
    marker: its content stays in the text.
    """
    refs: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(2) is not None:
            refs.append(match.group(2).translate(_SUPERSCRIPT_TO_ASCII))
            return ""
        inner = match.group(1).translate(_SUPERSCRIPT_TO_ASCII)
        parts = [p for p in re.split(r"[,\s]+", inner) if p]
        if parts and all(_FOOTNOTE_NUMBER_RE.match(p) for p in parts):
            refs.extend(parts)
            return ""
        return inner

    return _SUP_RE.sub(replace, text), refs


def strip_tags(text: str) -> str:
    """Drop any HTML tag left by a converter, keeping its content."""
    return _TAG_RE.sub("", text) if "<" in text else text


def strip_emphasis(text: str) -> str:
    """Drop markdown emphasis marks (``*``, ``**``, ``***``, ``_x_``)."""
    if "*" not in text and "_" not in text:
        return text  # nothing to drop: skip the pattern's three tries at every position
    return _EMPHASIS_RE.sub("", text)


def strip_heading_marks(text: str) -> str:
    """Drop ``## `` at the start of a line (and closing ``##``)."""
    return _HEADING_MARK_RE.sub("", text) if "#" in text else text


def join_lines(text: str) -> str:
    """Join the lines of one paragraph.

    English lines join with a space; a word hyphenated at the line end keeps its
    hyphen and no space ("non-\\nproliferation"). Chinese has no spaces between
    words, so when both sides of the break are CJK (or one is CJK punctuation) the
    lines join with nothing. The double-space markdown break ("  \\n") is just a break.
    """

    def joiner(match: re.Match[str]) -> str:
        before = text[match.start() - 1] if match.start() > 0 else ""
        after = text[match.end()] if match.end() < len(text) else ""
        if not before or not after:
            return ""
        if is_cjk(before) and is_cjk(after):
            return ""
        if is_cjk_punctuation(before) or is_cjk_punctuation(after):
            return ""
        if before == "-" and after.isalpha() and match.start() > 1:
            if text[match.start() - 2].isalpha():
                return ""
        return " "

    return _LINE_BREAK_RE.sub(joiner, text) if "\n" in text else text


def collapse_spaces(text: str) -> str:
    """One space between words; none between two CJK characters ("大 会" -> "大会").

    The ideographic space U+3000 counts as a space here: spaced-out headings use it.
    Spaces next to digits or Latin words in Chinese text ("2020 年") are the
    document's own typography and stay.
    """
    text = _SPACES_RE.sub(" ", text)
    if _CJK_RE.search(text):  # no CJK character, no space to drop (most English lines)
        text = _CJK_SPACE_RE.sub("", text)
    return text.strip()


def clean_inline(raw: str) -> tuple[str, list[str]]:
    """Clean one paragraph's raw text; returns ``(text, footnote_refs)``.

    The order matters: escapes first (so ``[1540 \\(2004\\)](#)`` is a plain link),
    links before tags and emphasis (their brackets hold markup), footnote markers
    before line joining (a marker at a line end must not glue the lines), heading
    marks per line before the lines are joined.
    """
    text, refs = _cleaned(raw)
    return text, list(refs)  # a new list: the caller may keep or change it


def plain(raw: str) -> str:
    """Clean text without its footnote references (for pattern matching)."""
    return _cleaned(raw)[0]


@lru_cache(maxsize=1 << 14)
def _cleaned(raw: str) -> tuple[str, tuple[str, ...]]:
    """``clean_inline``'s work, memoised (a pure function of an immutable string).

    Why: extraction cleans the same line or paragraph in several steps (running heads,
    line grouping, textless units, classification, lead phrases, the block itself), and
    the dozen substitutions here were most of its time. The cache holds one document's
    lines and paragraphs many times over; a long document only loses the reuse between
    steps far apart."""
    text = unescape_markdown(raw)
    text = strip_links(text)
    text, refs = take_footnote_refs(text)
    text = strip_tags(text)
    text = strip_heading_marks(text)
    text = strip_emphasis(text)
    text = join_lines(text.strip())
    return collapse_spaces(text), tuple(refs)


def clear_memo() -> None:
    """Forget every memoised cleaning (a benchmark's cold run; memory is bounded anyway)."""
    _cleaned.cache_clear()
