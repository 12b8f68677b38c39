"""Long resolution-like texts made from a seed, for extraction's speed and structure.

A real resolution with annexes runs to hundreds of pages, and extraction must stay linear
in its size. There is no such file in the repository, so one is made from a seed: the
seed's header (everything up to "The General Assembly," / "大会，"), then its body
(preambular and operative paragraphs with the footnotes printed between them) repeated,
each copy's operative paragraphs and footnote markers renumbered, then the closing lines,
then annexes ("Annex I" ...) that repeat the body again with their own numbering, as a
printed annex numbers its paragraphs from 1.

Numbers stay within what a printed resolution has: operative paragraphs restart at 1 in
each annex and stay below ``MAX_OPERATIVES`` per part, footnote numbers run on through the
document and wrap after 999 (the extractor reads at most three digits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_TO_DIGITS = str.maketrans(SUPERSCRIPTS, "0123456789")
_TO_SUPERSCRIPTS = str.maketrans("0123456789", SUPERSCRIPTS)
#: A footnote marker: superscript digits ("¹²") or an HTML tag ("<sup>12</sup>").
_MARKER_RE = re.compile(f"[{SUPERSCRIPTS}]+|<sup>(\\d+)</sup>")
#: An operative number at a line start, after any markup ("1. *Calls upon*", "**2.**").
_OPERATIVE_RE = re.compile(r"^([*# ]*)(\d{1,3})\.", re.MULTILINE)
_INTRO_RE = re.compile(r"^[#*\s]*(?:The General Assembly,|大会，)[*\s]*$", re.MULTILINE)
#: Operative paragraphs per part (resolution or annex) at most: a part is closed before.
MAX_OPERATIVES = 900
MAX_FOOTNOTE = 999


@dataclass(frozen=True)
class SeedParts:
    """A seed cut where a long text repeats it: header, body chunks, closing lines."""

    header: str
    body: list[str]
    closing: str
    operatives: int
    footnotes: int


def seed_parts(text: str) -> SeedParts:
    """Cut ``text`` (a seed with one chunk per paragraph, closing lines last) into parts."""
    intro = _INTRO_RE.search(text)
    if intro is None:
        raise ValueError("seed has no 'The General Assembly,' / '大会，' line")
    header = text[: intro.end()].strip("\n")
    chunks = [c for c in re.split(r"\n\s*\n", text[intro.end() :]) if c.strip()]
    body, closing = chunks[:-1], chunks[-1]
    operatives = sum(len(_OPERATIVE_RE.findall(c)) for c in body)
    footnotes = sum(1 for c in body if _MARKER_RE.match(c.strip("\n")))
    if not operatives or not footnotes:
        raise ValueError("seed body needs operative paragraphs and footnotes to repeat")
    return SeedParts(header, body, closing, operatives, footnotes)


def _superscript(number: int) -> str:
    return str(number).translate(_TO_SUPERSCRIPTS)


def _footnote_number(seed_number: int, copy: int, per_copy: int) -> int:
    """Footnote ``seed_number`` of the ``copy``-th body copy, wrapped to 1..999."""
    return (copy * per_copy + seed_number - 1) % MAX_FOOTNOTE + 1


def body_copy(parts: SeedParts, copy: int, first_operative: int) -> str:
    """The seed's body once more: operative numbers from ``first_operative``, footnote
    markers (in the text and at the footnotes) shifted past the earlier copies'."""
    counter = iter(range(first_operative, first_operative + parts.operatives))

    def operative(match: re.Match[str]) -> str:
        return f"{match.group(1)}{next(counter)}."

    def marker(match: re.Match[str]) -> str:
        if match.group(1):
            number = _footnote_number(int(match.group(1)), copy, parts.footnotes)
            return f"<sup>{number}</sup>"
        number = int(match.group(0).translate(_TO_DIGITS))
        return _superscript(_footnote_number(number, copy, parts.footnotes))

    body = "\n\n".join(parts.body)
    return _OPERATIVE_RE.sub(operative, _MARKER_RE.sub(marker, body))


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _roman(number: int) -> str:
    digits = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"))
    digits += ((50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, letters in digits:
        while number >= value:
            out, number = out + letters, number - value
    return out


def resolution_text(seed: str, min_bytes: int, copies_per_part: int = 50) -> str:
    """A resolution-like text of at least ``min_bytes`` bytes (UTF-8) made from ``seed``.

    The resolution itself holds ``copies_per_part`` copies of the seed's body, then the
    closing lines; each annex ("Annex I", "附件一" is not needed: the heading is a plain
    line either way) holds as many again, numbered from 1, until the text is long enough.
    """
    parts = seed_parts(seed)
    per_part = max(1, min(copies_per_part, MAX_OPERATIVES // parts.operatives))
    pieces = [parts.header]
    size = _bytes(parts.header) + _bytes(parts.closing)
    copy = 0
    annex = 0
    while True:
        for k in range(per_part):
            piece = body_copy(parts, copy, k * parts.operatives + 1)
            pieces.append(piece)
            size += _bytes(piece) + 2
            copy += 1
            if size >= min_bytes:
                break
        if annex == 0:
            pieces.append(parts.closing)
        if size >= min_bytes:
            return "\n\n".join(pieces) + "\n"
        annex += 1
        pieces.append(f"Annex {_roman(annex)}")
