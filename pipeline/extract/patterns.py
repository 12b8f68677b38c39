"""The layout vocabulary of a UN resolution, shared by the steps of extraction.

Regular expressions over clean text (dates, meeting lines, the title line, session and
distribution lines) and over raw text with its markup still in (operative numbers,
"(a)" labels, footnote markers, emphasised lead phrases, header lines), and the few
predicates built on them that both line grouping (``lines``) and classification
(``classify``) ask: is a paragraph still open, does a line always start a paragraph,
does it open with a lead phrase.
"""

from __future__ import annotations

import re

from pipeline.extract.leads import match_lead
from pipeline.text.normalize import SUPERSCRIPT_DIGITS, plain
from pipeline.text.script import is_han

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        "january february march april may june july august september october november "
        "december".split()
    )
}
MONTH_ALT = "|".join(m.capitalize() for m in MONTHS)

# --- patterns over clean text -------------------------------------------------------

EN_DATE_RE = re.compile(rf"^(\d{{1,2}})\s+({MONTH_ALT})\s+(\d{{4}})$")
ZH_DATE_RE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")
EN_MEETING_RE = re.compile(r"^(\d{1,4})(?:st|nd|rd|th)\s+plenary\s+meeting$", re.IGNORECASE)
ZH_MEETING_RE = re.compile(r"^第\s*(\d{1,4})\s*次全体会议$")
# A resolution adopted in parts carries a part letter: "77/126 A. Title", "A/RES/77/126 B".
TITLE_RE = re.compile(r"^((?:ES-|S-)?\d{1,3})/(\d{1,4})(?: ?([A-Z]))?\s*\.\s*(\S.*)$")
INTRO_RE = re.compile(
    r"^(?:The\s+(?:General\s+Assembly|Security\s+Council)\s*,?|(?:大会|安全理事会)\s*[，,])$"
)
DISTR_RE = re.compile(r"^(?:Distr\.?\s*:|Original\s*:|Distribution\s*:)", re.IGNORECASE)
EN_SESSION_RE = re.compile(r"^([A-Z][a-z]+(?:[- ][a-z]+)?)\s+session$")
ZH_SESSION_RE = re.compile(r"^第([零〇一二三四五六七八九十百]+)届会议$")

# --- patterns over raw text (markup still in) ----------------------------------------

LEADING_MARKUP_RE = re.compile(r"^(?:\s|#|\*|_)+")
FOOTNOTE_START_RE = re.compile(
    rf"^(?:<sup>\s*(\d{{1,3}})\s*</sup>|([{SUPERSCRIPT_DIGITS}]{{1,3}}))[ \t\u3000]*(?=\S)"
)
OPERATIVE_RE = re.compile(r"^(\d{1,3})\s*\.(?:\s+|(?=\*)|$)")
SUBPARA_RE = re.compile(r"^\(([a-z]{1,4})\)(?:\s+|$)")
MARKED_LEAD_RE = re.compile(r"^\*{1,3}([^*\n]{1,60}?)\*{1,3}")
# Header lines that may follow anything on a run-together line: no paragraph ends
# before them in the printed layout (001: "...destruction**Resolution adopted ...").
STRONG_HEADER_RE = re.compile(
    r"^(?:Resolution\s+adopted\s+by|\[\s*\**\s*on\s+the\s+report|\[\s*\**\s*without\s+"
    r"reference|(?:ES-|S-)?\d{1,3}/\d{1,4}(?: ?[A-Z])?\.\s|The\s+General\s+Assembly,"
    r"|Agenda\s+items?\s"
    r"|\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日大会决议|\[根据|大会[，,]\s*$|议程项目)"
)

TERMINAL = set(",;:.!?，；：。！？")
FULL_STOP = set(".。!?！？")
CLOSERS = "”’\"')）]】》」』"


def is_strong_start(stripped: str, clean: str, lang: str) -> bool:
    """A line that always begins a paragraph, whatever the previous line was."""
    return bool(
        OPERATIVE_RE.match(stripped)
        or SUBPARA_RE.match(stripped)
        or FOOTNOTE_START_RE.match(stripped)
        or is_closing(clean)
        or STRONG_HEADER_RE.match(stripped)
        or DISTR_RE.match(clean)
        or EN_SESSION_RE.match(clean)
        or ZH_SESSION_RE.match(clean)
        or clean in ("General Assembly", "大会")
    )


def starts_with_lead(raw: str, lang: str) -> bool:
    stripped = raw.lstrip(" #")
    marked = MARKED_LEAD_RE.match(stripped)
    if marked and lang == "en" and marked.group(1)[:1].isupper():
        return True
    if marked and lang == "zh" and marked.group(1)[:1] and is_han(marked.group(1)[0]):
        return True
    return match_lead(plain(raw), lang) is not None


#: Marks that end an utterance cut short: an ellipsis or a dash ("不过……”", "though—'").
#: A paragraph torn by a page break stops at a word or a comma, never at one of these,
#: so a paragraph ending with one is finished, as one ending with a full stop is.
BROKEN_OFF = set("…—–")


def is_open(clean: str) -> bool:
    """True when a paragraph's clean text does not end with paragraph-final punctuation
    (TERMINAL, or an utterance broken off: BROKEN_OFF)."""
    tail = clean.rstrip(CLOSERS + " ")
    return not tail or (tail[-1] not in TERMINAL and tail[-1] not in BROKEN_OFF)


def ends_with_full_stop(clean: str) -> bool:
    tail = clean.rstrip(CLOSERS + " ")
    return bool(tail) and tail[-1] in FULL_STOP


def is_closing(clean: str) -> bool:
    return bool(
        EN_DATE_RE.match(clean)
        or ZH_DATE_RE.match(clean)
        or EN_MEETING_RE.match(clean)
        or ZH_MEETING_RE.match(clean)
    )
