"""Steps 1-3 of extraction: raw lines -> paragraph units (see ``pipeline.extract``).

1. Lines: running heads (``A/RES/75/58``, page numbers ``2/5``, job numbers
   ``20-16421``), barcodes and footnote rules dropped; the text cut into chunks at
   blank lines.
2. Units: inside a chunk a line starts a new paragraph when it is a strong start or a
   lead phrase after a line that ended a paragraph; otherwise it continues one.
3. Run-together lines (001's long line) are split back at emphasis toggles that open a
   lead phrase or a header line, at an operative number after ";", and, without markup,
   in English at a lead phrase after "," or ";".
"""

from __future__ import annotations

import re

from pipeline.extract.furniture import is_footer_line
from pipeline.extract.leads import is_preambular_lead, match_lead
from pipeline.extract.patterns import (
    FOOTNOTE_START_RE,
    LEADING_MARKUP_RE,
    MARKED_LEAD_RE,
    STRONG_HEADER_RE,
    TERMINAL,
    TITLE_RE,
    is_open,
    is_strong_start,
    starts_with_lead,
)
from pipeline.text.normalize import SUPERSCRIPT_DIGITS, clean_inline, plain
from pipeline.text.script import is_han

_SYMBOL_RE = re.compile(r"\bA/RES/((?:ES-|S-)?\d{1,3})/(\d{1,4})(?: ?([A-Z]))?\b")
# The rule above a page's footnotes ("_____", "-----", "***" in markdown): no text.
_RULE_LINE_RE = re.compile(r"^\s*(?:[_\-\u2010-\u2015=*~\u00b7]\s*){3,}$")
_RUN_RE = re.compile(r"\*{1,3}")
_EN_UNMARKED_SPLIT_RE = re.compile(r"(?<=[,;])\s+(?=[A-Z])")
_NUMBER_SPLIT_RE = re.compile(r"(?<=[;:.；：。])\s*(?=\d{1,3}\.\s*\**\s*(?:[A-Z]|[\u4e00-\u9fff]))")
_LABEL_ONLY_RE = re.compile(r"(?:^|\n|[;:.；：。]\s*)[\s#*]*(?:\d{1,3}\.|\([a-z]{1,4}\))$")
_TRAILING_REFS_RE = re.compile(rf"(?:<sup>[^<]*</sup>|[{SUPERSCRIPT_DIGITS}\s*])+$")


def resolution_symbol(session: str, number: str, part: str | None) -> str:
    """``A/RES/75/58``, or ``A/RES/77/126 B`` for part B of a resolution in parts."""
    return f"A/RES/{session}/{number}" + (f" {part}" if part else "")


def title_hint(text: str) -> str | None:
    """The title as printed on the "75/58. Title" line, to recognise running heads."""
    for line in text.split("\n"):
        match = TITLE_RE.match(plain(line))
        if match:
            return match.group(4)
    return None


def drop_running_heads(
    lines: list[str], title: str | None
) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Remove page furniture lines; return the lines and the A/RES symbols they named.

    A running head is a line holding only the symbol (optionally with the title), a
    page number "2/5", a job number "20-16421 (E)" or both, or a barcode. A real
    paragraph never consists of just these. The rule line above a page's footnotes
    goes too: left in, it became a block without text, which segmentation refuses.
    """
    kept: list[str] = []
    symbols: list[tuple[str, str, str]] = []
    for line in lines:
        if _RULE_LINE_RE.match(line):
            kept.append("")  # a footnote separator rule separates like a blank line
            continue
        clean = plain(line)
        is_footnote = FOOTNOTE_START_RE.match(LEADING_MARKUP_RE.sub("", line)) is not None
        if clean and not is_footnote and _is_running_head(clean, title):
            symbols.extend(_SYMBOL_RE.findall(clean))
            kept.append("")  # a page break separates like a blank line
            continue
        kept.append(line)
    return kept, symbols


def _is_running_head(clean: str, title: str | None) -> bool:
    if is_footer_line(clean):
        return True
    symbol = _SYMBOL_RE.search(clean)
    if symbol:
        rest = (clean[: symbol.start()] + clean[symbol.end() :]).strip()
        return not rest or (title is not None and rest == title)
    return False


def drop_textless_units(units: list[str]) -> list[str]:
    """Drop paragraphs without visible text; a lone footnote marker joins the one before.

    Converters leave markup with nothing inside ("#", "[](#)") and put superscripts on a
    line of their own; as paragraphs they would be blocks without text, which no later
    stage can segment or align. The marker's reference is kept on the paragraph it
    follows, where the printed page has it.
    """
    kept: list[str] = []
    for unit in units:
        if plain(unit):  # memoised: classification asks for it again
            kept.append(unit)
        elif clean_inline(unit)[1] and kept:
            kept[-1] += "\n" + unit
    return kept


def chunks(lines: list[str]) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            chunks[-1].append(line)
        elif chunks[-1]:
            chunks.append([])
    return [c for c in chunks if c]


def split_chunk_lines(lines: list[str], lang: str) -> list[str]:
    """Group the lines of one blank-line-separated chunk into paragraphs.

    Returns raw paragraph texts whose lines are still joined by ``\\n`` (the cleanup
    decides between space and nothing). A line starts a new paragraph if it is a
    strong start, or a lead phrase right after a line that ended a paragraph.
    """
    units: list[str] = []
    previous_closed = False
    for line in lines:
        clean = plain(line)
        if not units:
            units.append(line)
            previous_closed = not is_open(clean)
            continue
        stripped = LEADING_MARKUP_RE.sub("", line)
        if is_strong_start(stripped, clean, lang) or (
            previous_closed and starts_with_lead(line, lang)
        ):
            units.append(line)
        else:
            units[-1] += "\n" + line
        previous_closed = not is_open(clean)  # the unit now ends with this line
    return units


def split_run_together(raw: str, lang: str) -> list[str]:
    """Split a paragraph that holds several printed paragraphs (001's long line).

    Split points: an emphasis toggle (``*``/``**``/``***``) followed by a header line
    ("Resolution adopted by", "[on the report", "76/28.", "The General Assembly,"), or
    followed by a lead phrase when the text before it ends a paragraph (``,`` ``;``
    ``:`` ``.``, footnote markers aside); an operative number after ``;``/``.``; and in
    English without markup, ", Recalling ..." (a capitalised lead phrase after a comma
    or semicolon, followed by a lower-case word). The toggle goes with the second
    part, where it opens that paragraph's emphasis.
    """
    cuts: set[int] = set()
    for match in _RUN_RE.finditer(raw):
        start = match.start()
        if start == 0 or not raw[:start].strip(" *"):
            continue
        after = raw[match.end() :]
        # A bounded look-back keeps this linear on a huge run-together paragraph.
        before = _TRAILING_REFS_RE.sub("", raw[max(0, start - 200) : start])
        if _LABEL_ONLY_RE.search(before):
            continue  # "1. *Calls upon*": the number belongs to the lead that follows
        if STRONG_HEADER_RE.match(after.lstrip()):
            cuts.add(start)
        elif before and before[-1] in TERMINAL and _opens_lead(raw[start:], lang):
            cuts.add(start)
    for match in _NUMBER_SPLIT_RE.finditer(raw):
        if match.start() > 0:
            cuts.add(match.start())
    if lang == "en":
        for match in _EN_UNMARKED_SPLIT_RE.finditer(raw):
            rest = raw[match.end() :]
            lead = match_lead(rest, "en")
            if not lead or not re.match(r"\s+[a-z]", rest[len(lead) :]):
                continue
            # A preambular paragraph ends with ",", an operative one with ";": an
            # operative verb after a comma ("the reports, Notes by ...") is not a lead.
            if raw[match.start() - 1] == ";" or is_preambular_lead(lead):
                cuts.add(match.start())
    # A cut inside a "[text](#)" link or right after a "(" would break markup apart.
    parts: list[str] = []
    last = 0
    for cut in sorted(cuts):
        piece = raw[last:cut]
        if piece.strip(" *\n"):
            parts.append(piece.strip())
            last = cut
    parts.append(raw[last:].strip())
    return [p for p in parts if p.strip(" *\n")]


def _opens_lead(text: str, lang: str) -> bool:
    """``text`` starts with an emphasised lead phrase (or a known one, ``leads``) of ``lang``."""
    marked = MARKED_LEAD_RE.match(text)
    if marked:
        inner = plain(marked.group(1))
        if lang == "zh":
            return bool(inner) and all(is_han(c) for c in inner) and len(inner) <= 8
        if match_lead(inner, "en") == inner:
            return True
        rest = text[marked.end() :]
        return bool(re.fullmatch(r"[A-Z][a-z]+(?: [a-z]+){0,3}", inner)) and bool(
            re.match(r"\s+[a-z]", rest)
        )
    return match_lead(plain(text), lang) is not None
