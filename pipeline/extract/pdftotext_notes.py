"""Footnotes in plain ``pdftotext`` output (without ``-layout``), put back together.

In its default mode pdftotext prints a page's footnote area in reading order of text
objects, not of lines: each note's number is a separate raised object, so the numbers
come apart from their texts, often after them ("Articles 10 ...", "4", "A/73/334.",
"5", "United Nations, Treaty Series ...", "2", "3", as in the real A/RES/73/7). The
texts themselves keep their order, and a page's notes are numbered consecutively. So
within one footnote area the sorted numbers belong, in order, to the notes' texts;
when the counts agree, each text gets its number (``<sup>n</sup> text``). An area whose
counts do not agree is left as it is, for the general rules to do what they can.

A footnote area starts at the rule line above the notes ("____") or at the first note
number printed alone after body text, and ends at the first text line after the page
footer (job number, page number, barcode), i.e. on the next page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_NUMBER_RE = re.compile(r"^\s*(\d{1,2})\s*$")
_RULE_RE = re.compile(r"^\s*_{5,}\s*$")
_BODY_START_RE = re.compile(r"^(?:\d{1,3}\.\s|\([a-z]{1,4}\)\s)")
_NOTE_END = (".", "。", ".)", "。)")
_CLAUSE_END = (*_NOTE_END, ",", ";", ":", "，", "；", "：")


def renumber_areas(lines: list[str], is_furniture: Callable[[str], bool]) -> list[str]:
    """``lines`` with every footnote area whose numbers and texts agree rewritten."""
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        starts = _RULE_RE.match(line) or (_NUMBER_RE.match(line) and out and out[-1].strip())
        if not starts:
            out.append(line)
            index += 1
            continue
        end = _area_end(lines, index, is_furniture)
        rewritten = _rewrite(lines[index:end], is_furniture, [])
        if rewritten is None:
            rewritten = _with_notes_before(out, lines[index:end], is_furniture)
        out.extend(rewritten)
        index = max(end, index + 1)
    return out


def _area_end(lines: list[str], start: int, is_furniture: Callable[[str], bool]) -> int:
    """Index after the area. After the page footer has begun, text belongs to the area
    only while numbers still lack texts and more footer follows it (a note's text may
    sit inside the footer: "9", "4/5", "S/PRST/2013/2; ...", "18-18142"); the next
    page's body ends it."""
    seen_footer = False
    numbers = notes = 0
    open_note = False
    index = start
    while index < len(lines):
        text = lines[index].strip()
        if not text or _RULE_RE.match(text):
            index += 1
            continue
        if _NUMBER_RE.match(text):
            numbers += 1
        elif is_furniture(text):
            seen_footer = True
        elif seen_footer and (
            notes >= numbers
            or _BODY_START_RE.match(text)
            or not _footer_follows(lines, index, is_furniture)
        ):
            return index
        else:
            notes += not open_note
            open_note = not text.endswith(_NOTE_END)
        index += 1
    return len(lines)


def _footer_follows(lines: list[str], index: int, is_furniture: Callable[[str], bool]) -> bool:
    """More page footer (or a note number) within a few lines of text after ``index``."""
    for line in lines[index + 1 : index + 8]:
        text = line.strip()
        if text and (is_furniture(text) or _NUMBER_RE.match(text)):
            return True
    return False


def _split(area: list[str], is_furniture: Callable[[str], bool]):
    """Numbers, note texts (lists of lines) and the other lines of an area."""
    numbers: list[int] = []
    notes: list[list[str]] = []
    kept: list[str] = []  # furniture, rule: returned after the notes
    open_note = False
    for line in area:
        text = line.strip()
        number = _NUMBER_RE.match(text)
        if number:
            numbers.append(int(number.group(1)))
            continue
        if not text or _RULE_RE.match(text) or is_furniture(text):
            kept.append(line)
            continue
        if open_note:
            notes[-1].append(text)
        else:
            notes.append([text])
        open_note = not text.endswith(_NOTE_END)
    return numbers, notes, kept


def _rewrite(
    area: list[str], is_furniture: Callable[[str], bool], before: list[list[str]]
) -> list[str] | None:
    """The area with numbered notes, or None when numbers and texts do not agree."""
    numbers, notes, kept = _split(area, is_furniture)
    notes = before + notes
    numbers.sort()
    if not numbers or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        return area
    carried: list[str] = []
    if len(notes) == len(numbers) + 1:
        carried = notes.pop(0)  # the end of the previous page's last note
    if len(numbers) > len(notes):
        return None
    if len(numbers) != len(notes):
        return area
    rewritten = [
        f"<sup>{n}</sup> " + "\n".join(text) for n, text in zip(numbers, notes, strict=True)
    ]
    return ["", *carried, "", *"\n\n".join(rewritten).split("\n"), "", *kept]


def _with_notes_before(
    out: list[str], area: list[str], is_furniture: Callable[[str], bool]
) -> list[str]:
    """Numbers without texts: pdftotext printed those notes' texts before the numbers
    (above the page footer). Take as many complete notes from the end of ``out``: a
    note ends with a full stop and the line above it ends a sentence or clause."""
    numbers, notes, _ = _split(area, is_furniture)
    missing = len(numbers) - len(notes)
    grabbed: list[list[str]] = []
    furniture: list[str] = []
    cut = len(out)
    current: list[str] = []
    index = len(out) - 1
    while index >= 0 and len(grabbed) < missing:
        text = out[index].strip()
        if not text or is_furniture(text) or _RULE_RE.match(text):
            if text:
                furniture.insert(0, out[index])
            index -= 1
            continue
        if not current and not text.endswith(_NOTE_END):
            return area  # the text above does not end like a note
        current.insert(0, text)
        above = next((line.strip() for line in reversed(out[:index]) if line.strip()), "")
        if not above or above.endswith(_CLAUSE_END) or _NUMBER_RE.match(above):
            grabbed.insert(0, current)
            current = []
            cut = index
        index -= 1
    if len(grabbed) < missing:
        return area
    rewritten = _rewrite(area, is_furniture, grabbed)
    if rewritten is None or rewritten is area:
        return area
    del out[cut:]
    return furniture + rewritten
