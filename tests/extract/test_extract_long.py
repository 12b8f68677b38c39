"""A long resolution extracts to the right structure (issue 19).

Extraction was made linear (open footnotes indexed, each paragraph's plain text kept);
its speed is in the bench (benchmarks/extraction.py). These tests pin what the
restructured classification gives on long texts: every operative paragraph and footnote
of a repeated, renumbered seed body, annexes numbered from 1, and text continued from an
open footnote going to the *first* open one, however many footnotes come after it.
"""

from __future__ import annotations

from collections import Counter

from conftest import SEEDS

from benchmarks.resolution_text import resolution_text, seed_parts
from pipeline.extract import parse_document
from pipeline.text.normalize import clean_inline

SEED = (SEEDS / "000_0efcbe69a8e200e4.txt").read_text(encoding="utf-8")


def _seed_footnotes() -> list[str]:
    parts = seed_parts(SEED)
    return [clean_inline(c.split(" ", 1)[1])[0] for c in parts.body if c[0] in "¹²³⁴⁵⁶⁷⁸⁹"]


def test_repeated_body_gives_every_operative_and_footnote() -> None:
    per_part = 3
    text = resolution_text(SEED, 40_000, copies_per_part=per_part)
    doc = parse_document(text, "long.txt", "0" * 64)
    parts = seed_parts(SEED)
    copies = text.count("Recalling its resolution [77/75]")
    assert copies > per_part  # the text has annexes
    kinds = Counter(b.kind for b in doc.blocks)
    assert kinds["operative"] == copies * parts.operatives
    assert kinds["footnote"] == copies * parts.footnotes
    assert kinds["closing"] == 2

    # Operative numbers run 1..18 in the resolution and again in each annex.
    numbers = [int(b.number) for b in doc.blocks if b.kind == "operative"]
    per_annex = per_part * parts.operatives
    assert numbers == [k % per_annex + 1 for k in range(len(numbers))]

    # Footnotes keep their order, numbers and texts; the body cites each once, in order.
    notes = [b for b in doc.blocks if b.kind == "footnote"]
    assert [b.number for b in notes] == [str(k + 1) for k in range(len(notes))]
    seed_notes = _seed_footnotes()
    assert [b.text for b in notes] == [seed_notes[k % len(seed_notes)] for k in range(len(notes))]
    refs = [r for b in doc.blocks if b.kind != "footnote" for r in b.footnote_refs]
    assert refs == [b.number for b in notes]


def _open_note_text(n_paragraphs: int) -> str:
    """Operative paragraphs with a footnote after each; footnote 2 has no full stop, and
    its rest is printed at the end, after all the other footnotes."""
    lines = ["75/58. Measures against long texts", "", "The General Assembly,", ""]
    for k in range(1, n_paragraphs + 1):
        lines += [f"{k}. *Requests* the Secretary-General to report on item {k};{_sup(k)}", ""]
        note = "See the report of the Committee" if k == 2 else f"See A/75/{k}."
        lines += [f"{_sup(k)} {note}", ""]
    lines += ["Treaty Series, vol. 2445, No. 44004.", ""]
    lines += ["37th plenary meeting", "7 December 2020", ""]
    return "\n".join(lines)


def _sup(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def test_rest_of_an_open_note_goes_to_the_first_open_note() -> None:
    n = 40
    doc = parse_document(_open_note_text(n), "open-note.txt", "0" * 64)
    operatives = [b for b in doc.blocks if b.kind == "operative"]
    notes = {b.number: b.text for b in doc.blocks if b.kind == "footnote"}
    assert [b.number for b in operatives] == [str(k) for k in range(1, n + 1)]
    assert len(notes) == n
    assert notes["2"] == "See the report of the Committee Treaty Series, vol. 2445, No. 44004."
    assert notes[str(n)] == f"See A/75/{n}."
    assert [b.footnote_refs for b in operatives] == [[str(k)] for k in range(1, n + 1)]
