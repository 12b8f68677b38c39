"""Structure extraction: raw resolution text -> ``Document`` with typed, clean blocks.

A GA resolution has a fixed shape: header lines, a title line ("75/58. Measures ..."),
"The General Assembly,", preambular paragraphs (each opening with a lead phrase),
numbered operative paragraphs (with (a), (b) sub-paragraphs), closing lines (plenary
meeting, date) and footnotes. Converters break that shape in known ways (see the seeds
in data/raw/ and REFERENCE.md), and this module puts it back:

1. Lines. NFC, running heads (``A/RES/75/58``, page numbers ``2/5``, job numbers
   ``20-16421``) dropped, text cut into chunks at blank lines.
2. Units. Inside a chunk a line starts a new paragraph when it is a strong start
   (operative number, "(a)", footnote marker, closing line, header line) or a lead
   phrase after a line that ended a paragraph; otherwise it continues the paragraph
   (000's operative paragraphs on consecutive lines are split, 003's wrapped agenda
   title is joined).
3. Run-together lines are split back (001's long line) at emphasis toggles that open a
   lead phrase or a header line, at an operative number after ";", and, without markup,
   in English at a preambular lead after "," ("..., Recognizing the") or any lead
   phrase after ";".
4. Classification, in reading order: header (headings, title) until "The General
   Assembly," / "大会，"; then preamble, operative, sub-paragraph, closing; footnotes
   anywhere. A paragraph cut by a page break or by footnote blocks (001: "held in Baku
   on" ... "25 and 26 October 2019,³ ...") is joined back: a unit that is not a
   paragraph start continues the last paragraph when that paragraph is still open
   (ends without , ; : . or their Chinese forms), or whenever it starts in lower case.
   A footnote without its final full stop takes the text after it the same way.

Choices (tested in tests/test_extract_*.py):

- The distribution stamp ("Distr.: General" and the date under it, "Original: ...") is
  dropped: it is filing data, not translated text (the Chinese seed carries it in English).
- Footnote blocks are collected and placed at the end of the document, after the body
  and closing lines, in the order they appear (their number order): footnotes sit at
  page bottoms at different places in each language, and keeping them together leaves
  the body's paragraph order identical in both languages. The paragraphs that cite them
  keep the numbers in ``footnote_refs``. Closing lines stay where they are printed
  (each document's own order: the Chinese layout puts the date first); two on one line
  ("37th plenary meeting 7 December 2020") become two blocks.
- An operative number or "(a)" alone on its line takes the paragraph that follows.
- An unnumbered paragraph after the first operative paragraph that does not continue
  an open paragraph is a ``subparagraph`` with ``number=None`` (flush text belonging to
  the operative part); it is never merged silently.
- Block text keeps the lead phrase ("Calls upon all Member States ..."), drops the
  operative number and the "(a)" label (they are in ``number``).
- Truncated (rejected): no operative paragraph at all, or no closing lines and the last
  body paragraph does not end with a full stop (``.`` / ``。``, possibly before a
  closing quote or bracket), i.e. the text stops inside or between paragraphs.
- Language: ``zh`` when Han characters are at least 30% of letters (Han + Latin) and
  there is almost no kana; ``en`` when Latin letters dominate and English function words
  ("the", "of", "and", "to", "in") are at least 8% of the words. Anything else is
  rejected as unrecognised rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.data import Block, Document, Metadata, Rejected, RejectedInput
from pipeline.families import resolve_symbol, title_line_symbol
from pipeline.family_shape import decision_body, describe_family
from pipeline.furniture import prepare_text
from pipeline.lexicon import is_preambular_lead, match_lead
from pipeline.text.normalize import SUPERSCRIPT_DIGITS, clean_inline, normalize_unicode, plain
from pipeline.text.script import is_han

__all__ = [
    "ExtractResult",
    "detect_language",
    "extract_file",
    "extract_folder",
    "parse_document",
    "split_run_together",
    "split_chunk_lines",
]

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        "january february march april may june july august september october november "
        "december".split()
    )
}
_MONTH_ALT = "|".join(m.capitalize() for m in MONTHS)

# --- patterns over clean text -------------------------------------------------------

_EN_DATE_RE = re.compile(rf"^(\d{{1,2}})\s+({_MONTH_ALT})\s+(\d{{4}})$")
_ZH_DATE_RE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")
_EN_MEETING_RE = re.compile(r"^(\d{1,4})(?:st|nd|rd|th)\s+plenary\s+meeting$", re.IGNORECASE)
_ZH_MEETING_RE = re.compile(r"^第\s*(\d{1,4})\s*次全体会议$")
# A resolution adopted in parts carries a part letter: "77/126 A. Title", "A/RES/77/126 B".
_TITLE_RE = re.compile(r"^((?:ES-|S-)?\d{1,3})/(\d{1,4})(?: ?([A-Z]))?\s*\.\s*(\S.*)$")
_SYMBOL_RE = re.compile(r"\bA/RES/((?:ES-|S-)?\d{1,3})/(\d{1,4})(?: ?([A-Z]))?\b")
_INTRO_RE = re.compile(
    r"^(?:The\s+(?:General\s+Assembly|Security\s+Council)\s*,?|(?:大会|安全理事会)\s*[，,])$"
)
_DISTR_RE = re.compile(r"^(?:Distr\.?\s*:|Original\s*:|Distribution\s*:)", re.IGNORECASE)
_EN_SESSION_RE = re.compile(r"^([A-Z][a-z]+(?:[- ][a-z]+)?)\s+session$")
_ZH_SESSION_RE = re.compile(r"^第([零〇一二三四五六七八九十百]+)届会议$")
_EN_AGENDA_RE = re.compile(r"^Agenda\s+items?\s+(.+)$")
_ZH_AGENDA_RE = re.compile(r"^议程项目\s*(.+)$")
_EN_ADOPTED_RE = re.compile(
    rf"^Resolution\s+adopted\s+by\s+the\s+General\s+Assembly\s+on\s+"
    rf"(\d{{1,2}})\s+({_MONTH_ALT})\s+(\d{{4}})$"
)
_ZH_ADOPTED_RE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日大会决议$")
_REPORT_LINE_RE = re.compile(r"^\[.*(?:report|报告).*\]$")
_REPORT_SYMBOL_RE = re.compile(r"\bA/\d{1,3}/\d{1,5}(?:/Add\.\d+)?(?:/Rev\.\d+)?")

# --- patterns over raw text (markup still in) ----------------------------------------

_LEADING_MARKUP_RE = re.compile(r"^(?:\s|#|\*|_)+")
_FOOTNOTE_START_RE = re.compile(
    rf"^(?:<sup>\s*(\d{{1,3}})\s*</sup>|([{SUPERSCRIPT_DIGITS}]{{1,3}}))[ \t\u3000]*(?=\S)"
)
_OPERATIVE_RE = re.compile(r"^(\d{1,3})\s*\.(?:\s+|(?=\*)|$)")
_SUBPARA_RE = re.compile(r"^\(([a-z]{1,4})\)(?:\s+|$)")
_MARKED_LEAD_RE = re.compile(r"^\*{1,3}([^*\n]{1,60}?)\*{1,3}")
# Header lines that may follow anything on a run-together line: no paragraph ends
# before them in the printed layout (001: "...destruction**Resolution adopted ...").
_STRONG_HEADER_RE = re.compile(
    r"^(?:Resolution\s+adopted\s+by|\[\s*\**\s*on\s+the\s+report|\[\s*\**\s*without\s+"
    r"reference|(?:ES-|S-)?\d{1,3}/\d{1,4}(?: ?[A-Z])?\.\s|The\s+General\s+Assembly,"
    r"|Agenda\s+items?\s"
    r"|\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日大会决议|\[根据|大会[，,]\s*$|议程项目)"
)
_PAGE_NUMBER_RE = re.compile(r"^(\d{1,3})\s*/\s*(\d{1,3})$")
_JOB_NUMBER_RE = re.compile(
    r"^(?:(\d{1,3})\s*/\s*(\d{1,3})\s+)?\d{2}-\d{5}(?:\s*\([A-Z]\))?"
    r"(?:\s+(\d{1,3})\s*/\s*(\d{1,3}))?$"
)
_BARCODE_RE = re.compile(r"^\d{7}$|^Please\s+recycle$", re.IGNORECASE)
# The rule above a page's footnotes ("_____", "-----", "***" in markdown): no text.
_RULE_LINE_RE = re.compile(r"^\s*(?:[_\-\u2010-\u2015=*~\u00b7]\s*){3,}$")

_TERMINAL = set(",;:.!?，；：。！？")
_FULL_STOP = set(".。!?！？")
_CLOSERS = "”’\"')）]】》」』"


@dataclass
class ExtractResult:
    """What a folder gave: the documents read, and each file that could not be read."""

    documents: list[Document] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


@dataclass
class _Para:
    """A paragraph being built: its kind, number and raw (markup-bearing) text parts."""

    kind: str
    raw: str
    number: str | None = None


# --- public API -----------------------------------------------------------------------


def extract_file(path: Path) -> Document:
    """Read one raw file (any supported format) and parse it into a Document."""
    from pipeline.readers import read_source

    source = read_source(Path(path))
    return parse_document(source.text, source.source_file, source.sha256)


def extract_folder(folder: Path) -> ExtractResult:
    """Extract every file in ``folder`` (sorted by name); a bad file is listed, not fatal.

    Hidden files (``.gitkeep``) and sub-folders are not documents and are skipped.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder of raw documents")
    result = ExtractResult()
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            result.documents.append(extract_file(path))
        except RejectedInput as err:
            result.rejected.append(Rejected(source_file=err.source_file, reason=err.reason))
    return result


def parse_document(text: str, source_file: str, sha256: str) -> Document:
    """Parse decoded resolution text into a Document.

    Raises ``RejectedInput(source_file, reason)`` when the language is not English or
    Chinese, no symbol can be found, or the document is truncated (see module doc).
    """
    text = normalize_unicode(text)
    prepared = prepare_text(text)
    text = prepared.text
    language = detect_language(text)
    if language is None:
        raise RejectedInput(
            source_file, "language not recognised (neither English nor Chinese text)"
        )
    title_hint = _title_hint(text)
    lines, head_symbols = _drop_running_heads(text.split("\n"), title_hint)
    units: list[str] = []
    for chunk in _chunks(lines):
        for unit in split_chunk_lines(chunk, language):
            units.extend(split_run_together(unit, language))
    header, body, footnotes = _classify(_drop_textless_units(units), language)
    header, body = decision_body(header, body, lambda raw: _Para("operative", raw))

    blocks: list[Block] = []
    title_symbol: str | None = None
    meta = Metadata()
    for para in header:
        block = _make_block(para, language)
        if para.kind == "title":
            match = _TITLE_RE.match(plain(para.raw))
            if match and title_symbol is None:
                title_symbol = title_line_symbol(match.group(1), match.group(2), match.group(3))
                meta.title = block.text
        _read_header_metadata(block.text, language, meta)
        blocks.append(block)
    body_blocks = [_make_block(para, language) for para in body]
    footnote_blocks = [_make_block(para, language) for para in footnotes]
    blocks += body_blocks + footnote_blocks
    closing_blocks = [b for b in body_blocks if b.kind == "closing"]
    body_blocks = [b for b in body_blocks if b.kind != "closing"]

    printed = prepared.symbols + [_resolution_symbol(*found) for found in head_symbols]
    headings = [b.text for b in blocks if b.kind == "heading"]
    info, problem = resolve_symbol(title_symbol, printed, headings)
    if info is None:
        raise RejectedInput(
            source_file,
            problem or "no recognisable symbol: no 'NN/NN. Title' line and no A/RES/... reference",
        )
    symbol = info.symbol
    describe_family(meta, info, headings, prepared.front_matter)

    _check_complete(body_blocks, closing_blocks, source_file)
    for block in blocks:
        if not block.text:
            what = f"{block.kind} ({block.number})" if block.number else block.kind
            raise RejectedInput(source_file, f"truncated document: {what} has no text")
    for block in closing_blocks:
        _read_closing_metadata(block.text, meta)
    if meta.session is None:
        session = symbol.split("/")[2]
        meta.session = int(session) if session.isdigit() else None
    return Document(
        symbol=symbol,
        language=language,
        source_file=source_file,
        sha256=sha256,
        metadata=meta,
        blocks=blocks,
    )


# --- language -------------------------------------------------------------------------

_EN_FUNCTION_WORDS = {"the", "of", "and", "to", "in"}


def detect_language(text: str) -> str | None:
    """``"zh"``, ``"en"`` or None, from the share of Han characters and English words.

    Markup and symbols are ASCII, so the Han share is taken over letters only; an
    English file must also read as English (function words), so French or Spanish
    UN text is refused instead of being called English.
    """
    han = sum(1 for c in text if is_han(c))
    kana = sum(1 for c in text if 0x3040 <= ord(c) <= 0x30FF)
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    if han >= 10 and han >= 0.3 * (han + latin) and kana <= 0.05 * han:
        return "zh"
    words = re.findall(r"[A-Za-z]+", text)
    if latin >= 50 and han <= 0.05 * latin and words:
        share = sum(1 for w in words if w.lower() in _EN_FUNCTION_WORDS) / len(words)
        if share >= 0.08:
            return "en"
    return None


# --- lines and units ------------------------------------------------------------------


def _resolution_symbol(session: str, number: str, part: str | None) -> str:
    """``A/RES/75/58``, or ``A/RES/77/126 B`` for part B of a resolution in parts."""
    return f"A/RES/{session}/{number}" + (f" {part}" if part else "")


def _title_hint(text: str) -> str | None:
    """The title as printed on the "75/58. Title" line, to recognise running heads."""
    for line in text.split("\n"):
        match = _TITLE_RE.match(plain(line))
        if match:
            return match.group(4)
    return None


def _drop_running_heads(lines: list[str], title: str | None) -> tuple[list[str], list]:
    """Remove page furniture lines; return the lines and the A/RES symbols they named.

    A running head is a line holding only the symbol (optionally with the title), a
    page number "2/5", a job number "20-16421 (E)" or both, or a barcode. A real
    paragraph never consists of just these. The rule line above a page's footnotes
    goes too: left in, it became a block without text, which segmentation refuses.
    """
    kept: list[str] = []
    symbols: list[tuple[str, str]] = []
    for line in lines:
        if _RULE_LINE_RE.match(line):
            kept.append("")  # a footnote separator rule separates like a blank line
            continue
        clean = plain(line)
        is_footnote = _FOOTNOTE_START_RE.match(_LEADING_MARKUP_RE.sub("", line)) is not None
        if clean and not is_footnote and _is_running_head(clean, title):
            symbols.extend(_SYMBOL_RE.findall(clean))
            kept.append("")  # a page break separates like a blank line
            continue
        kept.append(line)
    return kept, symbols


def _is_running_head(clean: str, title: str | None) -> bool:
    if _BARCODE_RE.match(clean):
        return True
    symbol = _SYMBOL_RE.search(clean)
    if symbol:
        rest = (clean[: symbol.start()] + clean[symbol.end() :]).strip()
        return not rest or (title is not None and rest == title)
    for match in (_PAGE_NUMBER_RE.match(clean), _JOB_NUMBER_RE.match(clean)):
        if match:
            numbers = [int(n) if n else 0 for n in match.groups()]
            pairs = list(zip(numbers[::2], numbers[1::2], strict=True))
            return all(page <= total for page, total in pairs)
    return False


def _drop_textless_units(units: list[str]) -> list[str]:
    """Drop paragraphs without visible text; a lone footnote marker joins the one before.

    Converters leave markup with nothing inside ("#", "[](#)") and put superscripts on a
    line of their own; as paragraphs they would be blocks without text, which no later
    stage can segment or align. The marker's reference is kept on the paragraph it
    follows, where the printed page has it.
    """
    kept: list[str] = []
    for unit in units:
        text, refs = clean_inline(unit)
        if text:
            kept.append(unit)
        elif refs and kept:
            kept[-1] += "\n" + unit
    return kept


def _chunks(lines: list[str]) -> list[list[str]]:
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
            previous_closed = not _is_open(clean)
            continue
        stripped = _LEADING_MARKUP_RE.sub("", line)
        if _is_strong_start(stripped, clean, lang) or (
            previous_closed and _starts_with_lead(line, lang)
        ):
            units.append(line)
        else:
            units[-1] += "\n" + line
        previous_closed = not _is_open(clean)  # the unit now ends with this line
    return units


def _is_strong_start(stripped: str, clean: str, lang: str) -> bool:
    """A line that always begins a paragraph, whatever the previous line was."""
    return bool(
        _OPERATIVE_RE.match(stripped)
        or _SUBPARA_RE.match(stripped)
        or _FOOTNOTE_START_RE.match(stripped)
        or _is_closing(clean)
        or _STRONG_HEADER_RE.match(stripped)
        or _DISTR_RE.match(clean)
        or _EN_SESSION_RE.match(clean)
        or _ZH_SESSION_RE.match(clean)
        or clean in ("General Assembly", "大会")
    )


def _starts_with_lead(raw: str, lang: str) -> bool:
    stripped = raw.lstrip(" #")
    marked = _MARKED_LEAD_RE.match(stripped)
    if marked and lang == "en" and marked.group(1)[:1].isupper():
        return True
    if marked and lang == "zh" and marked.group(1)[:1] and is_han(marked.group(1)[0]):
        return True
    return match_lead(plain(raw), lang) is not None


def _is_open(clean: str) -> bool:
    """True when a paragraph's clean text does not end with paragraph-final punctuation."""
    tail = clean.rstrip(_CLOSERS + " ")
    return not tail or tail[-1] not in _TERMINAL


def _ends_with_full_stop(clean: str) -> bool:
    tail = clean.rstrip(_CLOSERS + " ")
    return bool(tail) and tail[-1] in _FULL_STOP


def _is_closing(clean: str) -> bool:
    return bool(
        _EN_DATE_RE.match(clean)
        or _ZH_DATE_RE.match(clean)
        or _EN_MEETING_RE.match(clean)
        or _ZH_MEETING_RE.match(clean)
    )


_RUN_RE = re.compile(r"\*{1,3}")
_EN_UNMARKED_SPLIT_RE = re.compile(r"(?<=[,;])\s+(?=[A-Z])")
_NUMBER_SPLIT_RE = re.compile(r"(?<=[;:.；：。])\s*(?=\d{1,3}\.\s*\**\s*(?:[A-Z]|[\u4e00-\u9fff]))")
_LABEL_ONLY_RE = re.compile(r"(?:^|\n|[;:.；：。]\s*)[\s#*]*(?:\d{1,3}\.|\([a-z]{1,4}\))$")
_TRAILING_REFS_RE = re.compile(rf"(?:<sup>[^<]*</sup>|[{SUPERSCRIPT_DIGITS}\s*])+$")


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
        if _STRONG_HEADER_RE.match(after.lstrip()):
            cuts.add(start)
        elif before and before[-1] in _TERMINAL and _opens_lead(raw[start:], lang):
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
    """``text`` starts with an emphasised lead phrase (or a lexicon one) of ``lang``."""
    marked = _MARKED_LEAD_RE.match(text)
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


# --- classification -------------------------------------------------------------------


def _footnote_number(raw: str) -> tuple[str, str] | None:
    stripped = _LEADING_MARKUP_RE.sub("", raw)
    match = _FOOTNOTE_START_RE.match(stripped)
    if not match:
        return None
    number = match.group(1) or match.group(2)
    number = number.translate(str.maketrans(SUPERSCRIPT_DIGITS, "0123456789"))
    return number, stripped[match.end() :]


def _classify(units: list[str], lang: str) -> tuple[list[_Para], list[_Para], list[_Para]]:
    """Sort units into header, body (closing lines included) and footnote paragraphs.

    Reading order is kept within each list; the closing lines stay where they occur in
    the body so anything printed after them (an annex) is not moved before them.
    """
    header: list[_Para] = []
    body: list[_Para] = []
    footnotes: list[_Para] = []
    in_body = False
    drop_next_date = False
    seen_operative = False
    seen_closing = False
    last_was_footnote = False
    for raw in units:
        clean = plain(raw)
        footnote = _footnote_number(raw)
        if footnote is not None:
            footnotes.append(_Para("footnote", footnote[1], footnote[0]))
            last_was_footnote = True
            continue
        if (
            last_was_footnote
            and not _is_strong_start(_LEADING_MARKUP_RE.sub("", raw), clean, lang)
            and not _ends_with_full_stop(plain(footnotes[-1].raw))
            and not _starts_with_lead(raw, lang)
        ):
            footnotes[-1].raw += "\n" + raw  # a footnote cut by a page break
            continue
        last_was_footnote = False
        stripped = _LEADING_MARKUP_RE.sub("", raw)
        if not in_body:
            if _DISTR_RE.match(clean):
                drop_next_date = True
                continue
            if drop_next_date and (_EN_DATE_RE.match(clean) or _ZH_DATE_RE.match(clean)):
                drop_next_date = False
                continue
            drop_next_date = False
            has_title = any(p.kind == "title" for p in header)
            if _INTRO_RE.match(clean) or (clean == "大会" and has_title):
                header.append(_Para("heading", raw))
                in_body = True
                continue
            if _TITLE_RE.match(clean) and not has_title:
                header.append(_Para("title", raw))
                continue
            starts_body = bool(_OPERATIVE_RE.match(stripped)) or (
                _starts_with_lead(raw, lang) and not _is_open(clean)
            )
            if not starts_body:
                _add_heading(header, raw, clean, lang)
                continue
            in_body = True
        closing_lines = _closing_lines(clean)
        if closing_lines:
            body.extend(_Para("closing", line) for line in closing_lines)
            seen_closing = True
            continue
        if body and body[-1].kind in ("operative", "subparagraph") and not plain(body[-1].raw):
            body[-1].raw = raw  # "1." alone on its line: the text follows
            continue
        operative = _OPERATIVE_RE.match(stripped)
        if operative:
            seen_operative = True
            body.append(_Para("operative", stripped[operative.end() :], operative.group(1)))
            continue
        subpara = _SUBPARA_RE.match(stripped)
        if subpara:
            body.append(_Para("subparagraph", stripped[subpara.end() :], subpara.group(1)))
            continue
        if _rest_of_open_note(footnotes, body, seen_closing, raw, lang):
            continue
        if body and not seen_closing and _continues(body[-1], raw, clean, lang):
            body[-1].raw += "\n" + raw
            continue
        body.append(_Para("subparagraph" if seen_operative else "preamble", raw))
    return header, body, footnotes


def _add_heading(header: list[_Para], raw: str, clean: str, lang: str) -> None:
    """A header paragraph; an English one in lower case after an open heading is that
    heading's line wrapped over a blank line."""
    previous = header[-1] if header else None
    if (
        previous is not None
        and previous.kind == "heading"
        and lang == "en"
        and clean[:1].islower()
        and _is_open(plain(previous.raw))
    ):
        previous.raw += "\n" + raw
    else:
        header.append(_Para("heading", raw))


def _rest_of_open_note(
    footnotes: list[_Para], body: list[_Para], seen_closing: bool, raw: str, lang: str
) -> bool:
    """Join ``raw`` to a footnote left open (no final full stop) when it does not continue
    the body: the rest of a note continued at the foot of the next page."""
    open_note = next((f for f in footnotes if not _ends_with_full_stop(plain(f.raw))), None)
    if open_note is None or _starts_with_lead(raw, lang):
        return False
    if body and not seen_closing and _continues(body[-1], raw, plain(raw), lang):
        return False
    open_note.raw += "\n" + raw
    return True


_EN_MEETING_DATE_RE = re.compile(
    rf"^(\d{{1,4}}(?:st|nd|rd|th)\s+plenary\s+meeting)\s+(\d{{1,2}}\s+(?:{_MONTH_ALT})\s+\d{{4}})$",
    re.IGNORECASE,
)
_ZH_DATE_MEETING_RE = re.compile(
    r"^(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*(第\s*\d{1,4}\s*次全体会议)$"
)


def _closing_lines(clean: str) -> list[str]:
    """The closing lines in ``clean``: one, or two when meeting and date share a line."""
    if _is_closing(clean):
        return [clean]
    match = _EN_MEETING_DATE_RE.match(clean) or _ZH_DATE_MEETING_RE.match(clean)
    return [match.group(1), match.group(2)] if match else []


def _continues(previous: _Para, raw: str, clean: str, lang: str) -> bool:
    """Is ``raw`` the rest of ``previous``, cut off by a page break or footnotes?"""
    if lang == "en" and clean[:1].islower():
        return True
    if not _is_open(plain(previous.raw)):
        return False
    return not _starts_with_lead(raw, lang)


def _make_block(para: _Para, lang: str) -> Block:
    text, refs = clean_inline(para.raw)
    lead = None
    if para.kind in ("preamble", "operative"):
        marked = _MARKED_LEAD_RE.match(para.raw.lstrip(" #"))
        if marked and len(plain(marked.group(1)).split()) <= 6:
            lead = plain(marked.group(1)).strip(" ,;:，；：") or None
            if lead and not text.startswith(lead):
                lead = None
        known = match_lead(text, lang)
        # "*Recalling* also the ...": the mark covers the verb, the phrase is longer.
        if lead is None or (known and known.startswith(lead) and len(known) > len(lead)):
            lead = known
    if para.kind == "title":
        match = _TITLE_RE.match(text)
        if match:
            text = match.group(4)
    return Block(kind=para.kind, text=text, number=para.number, lead=lead, footnote_refs=refs)


# --- metadata -------------------------------------------------------------------------

_EN_UNITS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
    "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
    "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
    "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60, "seventieth": 70,
    "eightieth": 80, "ninetieth": 90,
}  # fmt: skip
_EN_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}  # fmt: skip


def english_ordinal(words: str) -> int | None:
    """Parse an English ordinal: "Seventy-eighth" -> 78, "Fifth" -> 5; None for anything else."""
    parts = re.split(r"[- ]+", words.strip().lower())
    if len(parts) == 1:
        return _EN_UNITS.get(parts[0])
    if len(parts) == 2 and parts[0] in _EN_TENS and parts[1] in _EN_UNITS:
        unit = _EN_UNITS[parts[1]]
        return _EN_TENS[parts[0]] + unit if unit < 10 else None
    return None


def chinese_number(text: str) -> int | None:
    """Parse a Chinese numeral: "七十五" -> 75, "十" -> 10, "一百零二" -> 102; else None."""
    if not text or any(c not in _ZH_DIGITS and c not in "十百" for c in text):
        return None
    total, current = 0, 0
    for char in text:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _ZH_DIGITS[char]
    return total + current


def normalize_agenda_item(item: str) -> str:
    """One form for agenda items: "103(v)" and "103 (v)" -> "103 (v)"."""
    item = re.sub(r"\s*\(\s*", " (", item.strip())
    item = re.sub(r"\s*\)", ")", item)
    return re.sub(r"\s+", " ", item)


def _iso(year: str, month: int | str, day: str) -> str:
    month_number = month if isinstance(month, int) else MONTHS[month.lower()]
    return f"{int(year):04d}-{int(month_number):02d}-{int(day):02d}"


def _read_header_metadata(text: str, lang: str, meta: Metadata) -> None:
    if meta.session is None:
        match = _EN_SESSION_RE.match(text)
        if match:
            meta.session = english_ordinal(match.group(1))
        match = _ZH_SESSION_RE.match(text)
        if match:
            meta.session = chinese_number(match.group(1))
    if meta.agenda_item is None:
        match = _EN_AGENDA_RE.match(text) or _ZH_AGENDA_RE.match(text)
        if match:
            meta.agenda_item = normalize_agenda_item(match.group(1))
    if meta.adopted_on is None:
        match = _EN_ADOPTED_RE.match(text)
        if match:
            meta.adopted_on = _iso(match.group(3), match.group(2), match.group(1))
        match = _ZH_ADOPTED_RE.match(text)
        if match:
            meta.adopted_on = _iso(match.group(1), int(match.group(2)), match.group(3))
    if meta.report is None and _REPORT_LINE_RE.match(text):
        match = _REPORT_SYMBOL_RE.search(text)
        if match:
            meta.report = match.group(0)


def _read_closing_metadata(text: str, meta: Metadata) -> None:
    if meta.meeting is None and (_EN_MEETING_RE.match(text) or _ZH_MEETING_RE.match(text)):
        meta.meeting = text


# --- completeness ---------------------------------------------------------------------


def _check_complete(body: list[Block], closing: list[Block], source_file: str) -> None:
    if not any(b.kind == "operative" for b in body):
        raise RejectedInput(
            source_file,
            "truncated document: no operative paragraph (a resolution ends with numbered "
            "operative paragraphs)",
        )
    last = body[-1]
    if not closing and not _ends_with_full_stop(last.text):
        tail = last.text[-40:]
        raise RejectedInput(
            source_file,
            f"truncated document: no closing lines (plenary meeting, date) and the last "
            f"paragraph stops without a full stop: '...{tail}'",
        )
