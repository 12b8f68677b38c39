"""Document metadata read from header and closing lines: session, agenda item, dates.

The header gives the session ("Seventy-fifth session" / "第七十五届会议"), the agenda item,
the adoption date and the report the resolution was adopted on; the closing lines give
the plenary meeting. Ordinals and Chinese numerals are parsed here, never guessed.
"""

from __future__ import annotations

import re

from pipeline.extract.patterns import (
    EN_MEETING_RE,
    EN_SESSION_RE,
    MONTH_ALT,
    MONTHS,
    ZH_MEETING_RE,
    ZH_SESSION_RE,
)
from pipeline.records import Metadata

_EN_AGENDA_RE = re.compile(r"^Agenda\s+items?\s+(.+)$")
_ZH_AGENDA_RE = re.compile(r"^议程项目\s*(.+)$")
_EN_ADOPTED_RE = re.compile(
    rf"^Resolution\s+adopted\s+by\s+the\s+General\s+Assembly\s+on\s+"
    rf"(\d{{1,2}})\s+({MONTH_ALT})\s+(\d{{4}})$"
)
_ZH_ADOPTED_RE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日大会决议$")
_REPORT_LINE_RE = re.compile(r"^\[.*(?:report|报告).*\]$")
_REPORT_SYMBOL_RE = re.compile(r"\bA/\d{1,3}/\d{1,5}(?:/Add\.\d+)?(?:/Rev\.\d+)?")

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


def read_header_metadata(text: str, lang: str, meta: Metadata) -> None:
    if meta.session is None:
        match = EN_SESSION_RE.match(text)
        if match:
            meta.session = english_ordinal(match.group(1))
        match = ZH_SESSION_RE.match(text)
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


def read_closing_metadata(text: str, meta: Metadata) -> None:
    if meta.meeting is None and (EN_MEETING_RE.match(text) or ZH_MEETING_RE.match(text)):
        meta.meeting = text
