"""Step 4 of extraction: paragraph units -> header, body and footnote paragraphs, then blocks.

Classification runs in reading order as a small state machine (``_Classifier``):
header (headings, title) until "The General Assembly," / "大会，"; then preamble,
operative, sub-paragraph, closing; footnotes anywhere. A paragraph cut by a page break or
by footnote blocks is joined back: a unit that is not a paragraph start continues the
last paragraph when that paragraph is still open (ends without , ; : . or their Chinese
forms), or whenever it starts in lower case. A footnote without its final full stop
takes the text after it the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.extract.leads import match_lead
from pipeline.extract.patterns import (
    CLOSERS,
    DISTR_RE,
    EN_DATE_RE,
    FOOTNOTE_START_RE,
    INTRO_RE,
    LEADING_MARKUP_RE,
    MARKED_LEAD_RE,
    MONTH_ALT,
    OPERATIVE_RE,
    SUBPARA_RE,
    TITLE_RE,
    ZH_DATE_RE,
    ends_with_full_stop,
    is_closing,
    is_open,
    is_strong_start,
    starts_with_lead,
)
from pipeline.records import Block
from pipeline.text.normalize import SUPERSCRIPT_DIGITS, clean_inline, plain


@dataclass
class Para:
    """A paragraph being built: its kind, number and raw (markup-bearing) text parts."""

    kind: str
    raw: str
    number: str | None = None
    #: ``(raw, plain(raw))`` for the last ``raw`` seen by ``clean``.
    _clean: tuple[str, str] | None = field(default=None, init=False, repr=False, compare=False)

    def clean(self) -> str:
        """``plain(raw)``, computed once per version of ``raw``.

        Why: classification asks whether the last paragraph or a footnote is still open
        for every unit it reads; recomputing ``plain`` of the same paragraph each time
        was most of extraction's time. ``raw`` only grows by ``+=`` (a new string), so
        an identity check tells a stale value apart."""
        if self._clean is None or self._clean[0] is not self.raw:
            self._clean = (self.raw, plain(self.raw))
        return self._clean[1]


class _Notes:
    """The footnotes read so far, with the open ones (no final full stop) indexed.

    Why: the rest of a note continued on the next page goes to the *first* open
    footnote, and looking for it by re-reading every footnote for each paragraph made
    extraction quadratic (a 1 MB text took over a minute). A footnote's text changes
    only when text is added to it, and only an open one takes text, so a closed one
    never reopens: keeping the open ones' positions in order answers in O(1)."""

    def __init__(self) -> None:
        self.paras: list[Para] = []
        #: Positions in ``paras`` of the open footnotes, in order (an ordered set).
        self._open: dict[int, None] = {}

    def add(self, para: Para) -> None:
        self.paras.append(para)
        self._update(len(self.paras) - 1)

    def last_is_open(self) -> bool:
        return bool(self.paras) and len(self.paras) - 1 in self._open

    def first_open(self) -> int | None:
        """Position of the first open footnote, or None."""
        return next(iter(self._open), None)

    def extend(self, index: int, raw: str) -> None:
        """Add ``raw`` to footnote ``index`` on a new line (it may close it)."""
        self.paras[index].raw += "\n" + raw
        self._update(index)

    def _update(self, index: int) -> None:
        if ends_with_full_stop(self.paras[index].clean()):
            self._open.pop(index, None)
        else:
            self._open[index] = None


def _footnote_number(raw: str) -> tuple[str, str] | None:
    stripped = LEADING_MARKUP_RE.sub("", raw)
    match = FOOTNOTE_START_RE.match(stripped)
    if not match:
        return None
    number = match.group(1) or match.group(2)
    number = number.translate(str.maketrans(SUPERSCRIPT_DIGITS, "0123456789"))
    return number, stripped[match.end() :]


def classify(units: list[str], lang: str) -> tuple[list[Para], list[Para], list[Para]]:
    """Sort units into header, body (closing lines included) and footnote paragraphs.

    Reading order is kept within each list; the closing lines stay where they occur in
    the body so anything printed after them (an annex) is not moved before them.
    """
    state = _Classifier(lang)
    for raw in units:
        state.feed(raw)
    return state.header, state.body, state.notes.paras


class _Classifier:
    """The reading-order state of ``classify``: where we are (header or body) and what
    was seen (an operative paragraph, the closing lines, a footnote just before)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.header: list[Para] = []
        self.body: list[Para] = []
        self.notes = _Notes()
        self.in_body = False
        self.drop_next_date = False
        self.seen_operative = False
        self.seen_closing = False
        self.last_was_footnote = False

    def feed(self, raw: str) -> None:
        """Place one unit: in a footnote, in the header, or in the body."""
        clean = plain(raw)
        if self._footnote(raw, clean):
            return
        stripped = LEADING_MARKUP_RE.sub("", raw)
        if not self.in_body and self._header(raw, clean, stripped):
            return
        self._body(raw, clean, stripped)

    def _footnote(self, raw: str, clean: str) -> bool:
        """A footnote, or the rest of the footnote just before (cut by a page break)."""
        footnote = _footnote_number(raw)
        if footnote is not None:
            self.notes.add(Para("footnote", footnote[1], footnote[0]))
            self.last_was_footnote = True
            return True
        if (
            self.last_was_footnote
            and self.notes.last_is_open()
            and not is_strong_start(LEADING_MARKUP_RE.sub("", raw), clean, self.lang)
            and not starts_with_lead(raw, self.lang)
        ):
            self.notes.extend(len(self.notes.paras) - 1, raw)  # cut by a page break
            return True
        self.last_was_footnote = False
        return False

    def _header(self, raw: str, clean: str, stripped: str) -> bool:
        """Take ``raw`` into the header; False when it starts the body instead."""
        if DISTR_RE.match(clean):
            self.drop_next_date = True
            return True
        if self.drop_next_date and (EN_DATE_RE.match(clean) or ZH_DATE_RE.match(clean)):
            self.drop_next_date = False
            return True
        self.drop_next_date = False
        header = self.header
        has_title = any(p.kind == "title" for p in header)
        if INTRO_RE.match(clean) or (clean == "大会" and has_title):
            header.append(Para("heading", raw))
            self.in_body = True
            return True
        if TITLE_RE.match(clean) and not has_title:
            header.append(Para("title", raw))
            return True
        starts_body = bool(OPERATIVE_RE.match(stripped)) or (
            starts_with_lead(raw, self.lang) and not is_open(clean)
        )
        if not starts_body:
            _add_heading(header, raw, clean, self.lang)
            return True
        self.in_body = True
        return False

    def _body(self, raw: str, clean: str, stripped: str) -> None:
        body, lang = self.body, self.lang
        closing_lines = _closing_lines(clean)
        if closing_lines:
            body.extend(Para("closing", line) for line in closing_lines)
            self.seen_closing = True
            return
        if body and body[-1].kind in ("operative", "subparagraph") and not body[-1].clean():
            body[-1].raw = raw  # "1." alone on its line: the text follows
            return
        operative = OPERATIVE_RE.match(stripped)
        if operative:
            self.seen_operative = True
            body.append(Para("operative", stripped[operative.end() :], operative.group(1)))
            return
        subpara = SUBPARA_RE.match(stripped)
        if subpara:
            body.append(Para("subparagraph", stripped[subpara.end() :], subpara.group(1)))
            return
        if _rest_of_open_note(self.notes, body, self.seen_closing, raw, clean, lang):
            return
        if body and not self.seen_closing and _continues(body[-1], raw, clean, lang):
            body[-1].raw += "\n" + raw
            return
        body.append(Para("subparagraph" if self.seen_operative else "preamble", raw))


def _add_heading(header: list[Para], raw: str, clean: str, lang: str) -> None:
    """A header paragraph; an English one in lower case after an open heading is that
    heading's line wrapped over a blank line."""
    previous = header[-1] if header else None
    if (
        previous is not None
        and previous.kind == "heading"
        and lang == "en"
        and clean[:1].islower()
        and is_open(previous.clean())
    ):
        previous.raw += "\n" + raw
    else:
        header.append(Para("heading", raw))


def _rest_of_open_note(
    notes: _Notes, body: list[Para], seen_closing: bool, raw: str, clean: str, lang: str
) -> bool:
    """Join ``raw`` to the first footnote left open (no final full stop) when it does not
    continue the body: the rest of a note continued at the foot of the next page."""
    open_note = notes.first_open()
    if open_note is None or starts_with_lead(raw, lang):
        return False
    if body and not seen_closing and _continues(body[-1], raw, clean, lang):
        return False
    notes.extend(open_note, raw)
    return True


_EN_MEETING_DATE_RE = re.compile(
    rf"^(\d{{1,4}}(?:st|nd|rd|th)\s+plenary\s+meeting)\s+(\d{{1,2}}\s+(?:{MONTH_ALT})\s+\d{{4}})$",
    re.IGNORECASE,
)
_ZH_DATE_MEETING_RE = re.compile(
    r"^(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*(第\s*\d{1,4}\s*次全体会议)$"
)


def _closing_lines(clean: str) -> list[str]:
    """The closing lines in ``clean``: one, or two when meeting and date share a line."""
    if is_closing(clean):
        return [clean]
    match = _EN_MEETING_DATE_RE.match(clean) or _ZH_DATE_MEETING_RE.match(clean)
    return [match.group(1), match.group(2)] if match else []


#: A comma ends a preambular paragraph, never an operative one (those end with ; : or .).
_COMMAS = (",", "，", "、")


def _continues(previous: Para, raw: str, clean: str, lang: str) -> bool:
    """Is ``raw`` the rest of ``previous``, cut off by a page break or footnotes?

    Yes when it starts in lower case (English), or when it is no paragraph start (no
    lead phrase) and ``previous`` is still open: it ends without punctuation, or it is
    an operative paragraph (or one of its sub-paragraphs) that ends with a comma, which
    only a page break leaves there ("...the heavy burden of tuberculosis," | "HIV and
    AIDS, and other co-morbidities..."). Numbered and lettered paragraphs never get
    here: ``_body`` has taken them already."""
    if lang == "en" and clean[:1].islower():
        return True
    previous_clean = previous.clean()
    torn_at_comma = previous.kind in ("operative", "subparagraph") and (
        previous_clean.rstrip(CLOSERS + " ").endswith(_COMMAS)
    )
    if not is_open(previous_clean) and not torn_at_comma:
        return False
    stripped = LEADING_MARKUP_RE.sub("", raw)
    return not starts_with_lead(raw, lang) and not is_strong_start(stripped, clean, lang)


def make_block(para: Para, lang: str) -> Block:
    text, refs = clean_inline(para.raw)
    lead = None
    if para.kind in ("preamble", "operative"):
        marked = MARKED_LEAD_RE.match(para.raw.lstrip(" #"))
        if marked and len(plain(marked.group(1)).split()) <= 6:
            lead = plain(marked.group(1)).strip(" ,;:，；：") or None
            if lead and not text.startswith(lead):
                lead = None
        known = match_lead(text, lang)
        # "*Recalling* also the ...": the mark covers the verb, the phrase is longer.
        if lead is None or (known and known.startswith(lead) and len(known) > len(lead)):
            lead = known
    if para.kind == "title":
        match = TITLE_RE.match(text)
        if match:
            text = match.group(4)
    return Block(kind=para.kind, text=text, number=para.number, lead=lead, footnote_refs=refs)


def operatives_by_lead(body: list[Para], lang: str) -> bool:
    """Whether the operative paragraphs are numbered; when none is, find them by their
    lead instead (in place) and return False.

    Why: a converter that drops Word's automatic numbering leaves every operative
    paragraph unnumbered, and the classifier then reads them as preambular. They are
    still recognisable: the operative part begins at the first paragraph that opens with
    an operative verb ("Calls upon", "促请") or that ends as operative paragraphs do (";"
    or a full stop, where a preambular paragraph ends with a comma) without a preambular
    lead; every later paragraph that is not a lettered sub-paragraph or a closing line is
    an operative paragraph (without a number)."""
    if any(p.kind == "operative" for p in body):
        return True
    start = next(
        (k for k, p in enumerate(body) if p.kind == "preamble" and _opens_operative_part(p, lang)),
        None,
    )
    if start is None:
        return False
    for para in body[start:]:
        if para.kind == "preamble":
            para.kind = "operative"
    return False


def _opens_operative_part(para: Para, lang: str) -> bool:
    from pipeline.extract.leads import opens_operative

    text = plain(para.raw).strip()
    if opens_operative(text, lang):
        return True
    tail = text.rstrip(" ”’\"')）")
    return bool(tail) and tail[-1] in ";；.。" and match_lead(text, lang) is None
