"""UN document families: which kinds of document the corpus takes, told by symbol and shape.

The seeds are General Assembly resolutions ("75/58. Title", symbol A/RES/75/58), but an
archive of UN documents also holds Security Council resolutions, emergency and special
session resolutions, decisions, draft resolutions, corrigenda and revisions, and kinds
this corpus does not take (reports, ECOSOC or Human Rights Council resolutions). Each is
recognised here by its symbol, as printed at the top of the first page and in the
running heads, and by the lines that only that family prints ("Resolution 2325 (2016)",
"Adopted by the Security Council at its 7837th meeting", "...: draft resolution",
"Decision adopted by the General Assembly"), in English and Chinese.

The family decides what the extractor expects (an SC resolution has no closing lines;
a decision has no "The General Assembly," and no numbered paragraphs) and is recorded in
the document metadata and in the corpus ``family`` column. A symbol of a family that is
not supported is rejected with that reason, so the user learns what the file is instead
of "no symbol".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Supported families: (name, body that adopts or considers it, description for docs).
FAMILIES = {
    "ga_resolution": (
        "General Assembly",
        "General Assembly resolution (A/RES/78/43, A/RES/ES-10/21, A/RES/S-27/2, A/RES/77/126 B)",
    ),
    "sc_resolution": ("Security Council", "Security Council resolution (S/RES/2325 (2016))"),
    "ga_decision": ("General Assembly", "General Assembly decision (78/512, A/DEC/78/512)"),
    "ga_draft": ("General Assembly", "draft resolution or decision (A/78/L.5, A/C.1/78/L.12)"),
}

_REVISION = r"(?:/(?:Rev|Corr|Add)\.\d{1,2})*"
_SESSION = r"(?:ES-|S-)?\d{1,3}"
#: Every symbol the extractor can meet at the top of a page, supported or not.
SYMBOL_RE = re.compile(
    r"(?<![\w/])(?:"
    rf"(?P<ga>A/RES/{_SESSION}/\d{{1,4}}(?: ?[A-Z](?![\w/]))?{_REVISION})"
    rf"|(?P<sc>S/RES/\d{{1,4}}\s?\(\d{{4}}\){_REVISION})"
    rf"|(?P<dec>A/DEC/{_SESSION}/\d{{1,4}}{_REVISION})"
    rf"|(?P<draft>A/(?:C\.\d/|(?:ES-|S-)\d{{1,3}}/)?(?:\d{{1,3}}/)?L\.\d{{1,4}}{_REVISION})"
    r"|(?P<other>(?:E|A/HRC|E/CN\.\d{1,2}|UNEP/EA\.\d|A/CONF\.\d{1,3})/(?:RES|DEC)/"
    r"[\w.\-/]+(?:\s?\(\d{4}\))?)"
    r")(?![\w])"
)
_OTHER_NAMES = {
    "E/": "Economic and Social Council resolution/decision",
    "A/HRC/": "Human Rights Council resolution/decision",
    "E/CN.": "functional commission resolution/decision",
    "UNEP/": "UN Environment Assembly resolution/decision",
    "A/CONF.": "conference resolution/decision",
}
_REVISION_RE = re.compile(r"/((?:Rev|Corr)\.\d{1,2}(?:/(?:Rev|Corr)\.\d{1,2})*)$")

# Lines only one family prints (over clean text, one line each).
SC_TITLE_RE = re.compile(
    r"^(?:Resolution\s+(\d{1,4})\s*\((\d{4})\)|第\s*(\d{1,4})\s*[(（]\s*"
    r"(\d{4})\s*[)）]\s*号决议)$"
)
SC_ADOPTED_RE = re.compile(
    r"^Adopted\s+by\s+the\s+Security\s+Council\s+at\s+its\s+(\d{1,5})(?:st|nd|rd|th)\s+"
    r"meeting,?\s+on\s+(\d{1,2})\s+([A-Z][a-z]+)\s+(\d{4})$"
    r"|^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*安全理事会第\s*(\d{1,5})\s*次会议通过$"
)
DECISION_LINE_RE = re.compile(
    r"^(?:Decision\s+adopted\s+by\s+the\s+General\s+Assembly\b.*|\d{4}\s*年\s*\d{1,2}\s*月"
    r"\s*\d{1,2}\s*日大会决定|Decision\s+(?:ES-|S-)?\d{1,3}/\d{3,4}|第\s*(?:ES-|S-)?\d{1,3}/"
    r"\d{3,4}\s*号决定)$"
)
DRAFT_LINE_RE = re.compile(
    r"[:：]\s*(?:(?:revised\s+)?draft\s+(?:resolution|decision)|"
    r"(?:订正)?(?:决议|决定)草案)$",
    re.IGNORECASE,
)
#: GA decisions are numbered from 401 in each session; resolutions stay below that.
FIRST_DECISION_NUMBER = 401


@dataclass(frozen=True)
class SymbolInfo:
    """A symbol as found: the pairing key, its family and revision, or why it is refused."""

    symbol: str  # key used for pairing: "S/RES/2325 (2016)", "A/78/L.5"
    family: str | None  # None: not supported
    revision: str | None = None  # "Rev.1" / "Corr.1"
    unsupported: str | None = None  # what the unsupported document is


def normalise_symbol(symbol: str) -> str:
    """One spelling per symbol: single spaces, "S/RES/2325 (2016)" with its space."""
    symbol = re.sub(r"\s+", " ", symbol.strip())
    return re.sub(r"^(S/RES/\d{1,4})\s?\(", r"\1 (", symbol)


def classify_symbol(symbol: str) -> SymbolInfo:
    """Family of a symbol string (as matched by ``SYMBOL_RE``)."""
    symbol = normalise_symbol(symbol)
    match = SYMBOL_RE.fullmatch(symbol)
    revision_match = _REVISION_RE.search(symbol)
    revision = revision_match.group(1) if revision_match else None
    if match is None:
        return SymbolInfo(symbol, None, revision, f"unrecognised symbol {symbol}")
    if match.group("other"):
        name = next(v for k, v in _OTHER_NAMES.items() if symbol.startswith(k))
        return SymbolInfo(symbol, None, revision, f"{name} {symbol}")
    if match.group("ga"):
        number = int(re.match(rf"A/RES/{_SESSION}/(\d+)", symbol).group(1))
        family = "ga_decision" if number >= FIRST_DECISION_NUMBER else "ga_resolution"
        return SymbolInfo(symbol, family, revision)
    family = {"sc": "sc_resolution", "dec": "ga_decision", "draft": "ga_draft"}
    kind = next(k for k in family if match.group(k))
    return SymbolInfo(symbol, family[kind], revision)


def title_line_symbol(session: str, number: str, part: str | None) -> str:
    """Symbol of a "75/58. Title" line: A/RES/75/58 (part letter kept), or A/DEC/78/512
    for a decision, which GA numbering puts at 401 and above."""
    if int(number) >= FIRST_DECISION_NUMBER:
        return f"A/DEC/{session}/{number}"
    return f"A/RES/{session}/{number}" + (f" {part}" if part else "")


def body_of(family: str | None, symbol: str) -> str | None:
    """The organ: "Security Council", "General Assembly", or the Main Committee of a draft."""
    if family is None:
        return None
    committee = re.match(r"A/C\.(\d)/", symbol)
    if committee:
        names = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth"]
        index = int(committee.group(1)) - 1
        return f"{names[index]} Committee" if 0 <= index < len(names) else "Main Committee"
    return FAMILIES[family][0]


def base_symbol(symbol: str) -> str:
    """The document a revision or corrigendum belongs to: "A/78/L.5/Rev.1" -> "A/78/L.5"."""
    return re.sub(r"(?:/(?:Rev|Corr)\.\d{1,2})+$", "", symbol)


def resolve_symbol(
    title_symbol: str | None,
    printed: list[str],
    header_texts: list[str],
) -> tuple[SymbolInfo | None, str | None]:
    """The document's symbol from its title line, page furniture and header lines.

    Returns ``(info, None)`` or ``(None, reason)``: the reason names conflicting symbols
    or the unsupported family, or says that no symbol was found.
    """
    found: list[str] = [normalise_symbol(s) for s in printed]
    for text in header_texts:
        sc_title = SC_TITLE_RE.match(text)
        if sc_title:
            number = sc_title.group(1) or sc_title.group(3)
            year = sc_title.group(2) or sc_title.group(4)
            found.append(f"S/RES/{number} ({year})")
        if text.startswith("[") or DRAFT_LINE_RE.search(text):
            continue  # "[... (A/73/L.8)]": the draft a resolution came from, not its symbol
        found.extend(normalise_symbol(m.group(0)) for m in SYMBOL_RE.finditer(text))
    infos = [classify_symbol(s) for s in found]
    supported = {base_symbol(i.symbol): i for i in infos if i.family is not None}
    if title_symbol is not None:
        title_info = classify_symbol(title_symbol)
        others = sorted(s for s in supported if s != title_info.symbol)
        if others:
            return None, (
                f"conflicting symbols: title line says {title_symbol}, header says "
                f"{', '.join(others)}"
            )
        revision = next((i.revision for i in infos if i.revision), None)
        return SymbolInfo(title_info.symbol, title_info.family, revision), None
    if len(supported) > 1:
        return None, f"conflicting symbols {', '.join(sorted(supported))}"
    if supported:
        ((base, info),) = supported.items()
        revision = next((i.revision for i in infos if i.revision), None)
        return SymbolInfo(base, info.family, revision), None
    unsupported = [i for i in infos if i.unsupported]
    if unsupported:
        return None, f"unsupported document family: {unsupported[0].unsupported}"
    return None, None


def sc_adoption(text: str) -> tuple[str, str] | None:
    """``(iso date, meeting)`` from "Adopted by the Security Council at its 9551st meeting,
    on 12 February 2024" or its Chinese form; None for any other line."""
    match = SC_ADOPTED_RE.match(text)
    if match is None:
        return None
    months = (
        "january february march april may june july august september october "
        "november december".split()
    )
    if match.group(1):
        month = (
            months.index(match.group(3).lower()) + 1 if match.group(3).lower() in months else None
        )
        if month is None:
            return None
        date = f"{int(match.group(4)):04d}-{month:02d}-{int(match.group(2)):02d}"
        meeting = re.search(r"\d{1,5}(?:st|nd|rd|th)\s+meeting", text)
        return date, meeting.group(0) if meeting else ""
    date = f"{int(match.group(5)):04d}-{int(match.group(6)):02d}-{int(match.group(7)):02d}"
    return date, f"第{match.group(8)}次会议"
