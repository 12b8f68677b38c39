"""The decide step's second line of defence against page furniture in corpus text.

Extraction removes page furniture (``pipeline.extract.furniture``); a layout it does not know
could still leave some inside a sentence. Such a row must not reach TMX or Moses
silently, so the decide step rejects it with reason ``layout_debris`` naming what was
found. The patterns are those of UN page furniture that never occur in resolution
text: a job number ("18-18142 (E)"), the distribution stamp ("Distr.:"), the barcode
text ("*1818142*"), "Please recycle", a page number "2/5" (page <= pages, pages small,
not cited as "resolution 2/5"), and a resolution symbol inside a sentence without the
word that cites it (a running head: "... economic A/RES/73/3 Political declaration").
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("job number", re.compile(r"(?<![\w/.-])\d{2}-\d{5}(?:\s*\([A-Z]\))?(?![\w-])")),
    ("distribution stamp", re.compile(r"\bDistr\.\s*:")),
    ("barcode", re.compile(r"\*\d{7}\*")),
    ("recycling note", re.compile(r"Please\s+recycle|请回收", re.IGNORECASE)),
)
_PAGE_RE = re.compile(r"(?<![\w/.])(\d{1,2})\s?/\s?(\d{1,2})(?![\w/])")
_CITED_BEFORE_RE = re.compile(r"(?:resolutions?|decisions?|第|and|or|和|、|,|，)\s*$", re.I)
_HEAD_SYMBOL_RE = re.compile(r"(?<![\w/])(?:A/RES/[\w.\-/]+|S/RES/\d{1,4}\s?\(\d{4}\))")
_CITES_SYMBOL_RE = re.compile(
    r"(?:\b(?:resolutions?|decisions?|documents?|see|in|of|and|or|to|by|under|with|contained)"
    r"|[(\[,;:、，；：]|决议|文件|见|载于|和|及)\s*$",
    re.IGNORECASE,
)


def layout_debris(text: str) -> str | None:
    """What page furniture ``text`` carries ("job number", "page number", ...), or None."""
    for name, pattern in _PATTERNS:
        if pattern.search(text):
            return name
    if "/" not in text:  # a page number and a resolution symbol both have one
        return None
    for match in _PAGE_RE.finditer(text):
        page, pages = int(match.group(1)), int(match.group(2))
        before = text[max(0, match.start() - 20) : match.start()]
        if 1 <= page <= pages <= 40 and not _CITED_BEFORE_RE.search(before):
            return "page number"
    for match in _HEAD_SYMBOL_RE.finditer(text):
        before = text[max(0, match.start() - 20) : match.start()]
        if not _CITES_SYMBOL_RE.search(before):
            return "running head"
    return None
