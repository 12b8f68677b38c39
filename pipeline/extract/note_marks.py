"""Footnote marks in converter output, rewritten as the ``<sup>n</sup>`` every reader uses.

Three forms come from the converters users run on UN documents:

- pandoc/GFM Markdown: ``text[^1]`` and ``[^1]: note`` (also with indented continuation
  lines, and the PyMuPDF-based converter's definition broken at a wrapped line that
  began with a year: ``[^9]: ... 31 July`` / ``[^2013]: (S/INF/68).``);
- pdftotext: a note's number on a line of its own above its text;
- plain digits left in the sentence where the superscript was ("...sessions,1",
  "the Court 1 reaffirms", "《罗马规约》1 重申").
"""

from __future__ import annotations

import re
from collections.abc import Callable

_FN_DEF_RE = re.compile(r"^\[\^([^\]\s]{1,12})\]:[ \t]*(.*)$")
_FN_REF_RE = re.compile(r"\[\^([^\]\s]{1,12})\]")
_TERMINAL_STOP = tuple(".。)）")


def markdown_footnotes(lines: list[str]) -> list[str]:
    """``[^n]`` references -> ``<sup>n</sup>``; ``[^n]: note`` -> ``<sup>n</sup> note``.

    A definition's indented continuation lines join it. A "definition" whose label is not
    the next footnote number while the previous note has no final full stop is the rest
    of that note, cut where a wrapped line began with a number ("...31 July" /
    "[^2013]: (S/INF/68).", as one converter writes it): its label goes back as text.
    """
    out: list[str] = []
    last_number = 0
    last_def: int | None = None
    for line in lines:
        match = _FN_DEF_RE.match(line.strip()) if not line.startswith("    ") else None
        if match:
            label, body = match.group(1), match.group(2)
            number = int(label) if label.isdigit() else None
            previous = out[last_def].rstrip() if last_def is not None else ""
            if (
                last_def is not None
                and number != last_number + 1
                and not previous.endswith(_TERMINAL_STOP)
            ):
                out[last_def] = f"{previous} {label} {body}".rstrip()
                continue
            if number is not None:
                last_number = number
            out.append(f"<sup>{label}</sup> {body}")
            last_def = len(out) - 1
            continue
        if last_def is not None and line.startswith("    ") and line.strip():
            out[last_def] += " " + line.strip()
            continue
        if line.strip():
            last_def = None if not _FN_REF_RE.search(line) else last_def
        out.append(_FN_REF_RE.sub(r"<sup>\1</sup>", line))
    return out


_BARE_NUMBER_RE = re.compile(r"^\s*(\d{1,2})\s*$")


def number_lines_to_marks(lines: list[str], is_furniture: Callable[[str], bool]) -> list[str]:
    """A footnote number on a line of its own, its text on the next line (pdftotext sets
    the raised number on its own baseline): ``<sup>n</sup> text``. Page numbers are
    "n/N" and operative numbers carry a full stop, so a bare small number is a note's."""
    out: list[str] = []
    index = 0
    while index < len(lines):
        match = _BARE_NUMBER_RE.match(lines[index])
        if match:
            after = index + 1
            while after < len(lines) and not lines[after].strip() and after - index < 3:
                after += 1
            text = lines[after].strip() if after < len(lines) else ""
            if text and not _BARE_NUMBER_RE.match(text) and not is_furniture(text):
                out.append(f"<sup>{match.group(1)}</sup> {text}")
                index = after + 1
                continue
            out.append("")  # a note number whose text pdftotext printed elsewhere
            index += 1
            continue
        out.append(lines[index])
        index += 1
    return out


_NOTE_DEF_RE = re.compile(r"^<sup>(\d{1,3})</sup> ")
# Not after a short number and comma: "paragraphs 1, 2 and 3" is a list, not references
# (a year is not: "12 February 2013, 9 in which").
_REF_AFTER_PUNCT_RE = re.compile(
    r"(?<=[,;.:，；。：])(?<!\b\d,)(?<!\b\d\d,)[ \t]?(\d{1,2})(?=[ \t]|$)"
)
# Nouns that take a number in resolution text ("Article 1 of", "Goal 4 on"): no reference.
_NUMBERED_NOUNS = (
    "Article|Articles|Chapter|Chapters|Part|Parts|Section|Sections|Annex|Annexes|Principle"
    "|Principles|Goal|Goals|Target|Targets|Rule|Rules|Protocol|Volume|Paragraph|Paragraphs"
    "|Resolution|Resolutions|Decision|Decisions|Committee|Phase|Pillar|Appendix|Table|Figure"
    "|Box|Schedule|Amendment|Regulation|Step|Level|Group|Option|Category|Class|Session"
    "|January|February|March|April|May|June|July|August|September|October|November|December"
)
_REF_AFTER_NAME_RE = re.compile(
    rf"\b(?!(?:{_NUMBERED_NOUNS})\b)(?:[A-Z][a-z]+|\d{{4}})( (\d{{1,2}}))(?= [a-z]|[ \t]*$)"
)
# Chinese: "《罗马规约》1 重申" (not "第1次", "1月", "2 项"): a number between words.
_REF_AFTER_HAN_RE = re.compile(
    r"(?<=[\u4e00-\u9fff》”）])(?<!第)([ \t]?(\d{1,2}))"
    r"(?=[ \t]?[\u4e00-\u9fff，。；、]|[ \t]*$)(?![ \t]?[次号段条年月日届项个部款章节])"
)


def plain_digit_refs(lines: list[str]) -> list[str]:
    """Footnote references printed as plain digits ("...sessions,1", "Court 1 reaffirms"),
    as pdftotext and some Markdown converters leave them, become ``<sup>n</sup>``.

    Only in a document that has numbered notes but no marked reference at all, and only
    in citation order: the next unused number, or (after punctuation) one already cited.
    A number in the text ("paragraph 3 of") is neither after punctuation nor the next
    note's number at that point, so it stays.
    """
    notes = {int(m.group(1)) for line in lines if (m := _NOTE_DEF_RE.match(line.strip()))}
    body = [line for line in lines if not _NOTE_DEF_RE.match(line.strip())]
    if not notes or any("<sup>" in line or re.search("[¹²³⁴-⁹]", line) for line in body):
        return lines
    expected = 1
    out: list[str] = []
    for line in lines:
        if _NOTE_DEF_RE.match(line.strip()):
            out.append(line)
            continue
        candidates = sorted(
            [(m.start(), m.end(), m.group(1), True) for m in _REF_AFTER_PUNCT_RE.finditer(line)]
            + [(m.start(1), m.end(1), m.group(2), False) for m in _REF_AFTER_NAME_RE.finditer(line)]
            + [(m.start(1), m.end(1), m.group(2), False) for m in _REF_AFTER_HAN_RE.finditer(line)]
        )
        pieces, last = [], 0
        for start, end, digits, punct in candidates:
            number = int(digits)
            # "Agreement,8" (the digit touching the punctuation) may skip a reference
            # that was not recognised, so one miss does not stop the rest.
            attached = punct and not line[start].isspace()
            ahead = attached and expected < number <= expected + 2 and number in notes
            if number == expected and number in notes or (punct and number < expected) or ahead:
                expected = max(expected, number + 1)
                pieces.append(line[last:start] + f"<sup>{number}</sup>")
                last = end
        out.append("".join(pieces) + line[last:])
    return out
