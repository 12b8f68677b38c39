"""The structure of a UN resolution pair: which blocks of the two sides align together.

Why (see pipeline.align.document): footnotes and operative paragraphs carry numbers, and
headings, preamble, operative part and closing lines come in the same order in every
language version, so an embedding error can only move a sentence inside its own group.
Pure functions of the two documents: no embeddings, so the build's prefetch can use them
before anything is embedded (pipeline.align.overlaps).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.data import Document

#: Block kinds aligned among themselves, in document order.
HEAD_KINDS = ("heading", "title")


@dataclass
class Segment:
    """Blocks of both sides that the structure says belong together.

    ``mode``: "dp" (paragraph DP inside), "fixed" (the blocks are one paragraph bead) or
    "assign" (best sentence assignment, crossings allowed).
    """

    mode: str
    en: list[int]
    zh: list[int]
    label: str = ""


# ------------------------------------------------------------------ structure


def _groups(doc: Document) -> dict[str, list[list[int]]]:
    """Blocks of a document by section; operative paragraphs grouped with their
    sub-paragraphs; sub-paragraphs elsewhere stay with the section they follow."""
    sections: dict[str, list[list[int]]] = {
        "head": [],
        "preamble": [],
        "operative": [],
        "closing": [],
        "footnote": [],
        "other": [],
    }
    current = "head"
    for index, block in enumerate(doc.blocks):
        kind = block.kind
        if kind in HEAD_KINDS:
            current = "head"
            sections["head"].append([index])
        elif kind == "preamble":
            current = "preamble"
            sections["preamble"].append([index])
        elif kind == "operative":
            current = "operative"
            sections["operative"].append([index])
        elif kind == "subparagraph":
            if current == "operative" and sections["operative"]:
                sections["operative"][-1].append(index)
            else:
                sections[current].append([index])
        elif kind == "closing":
            sections["closing"].append([index])
        elif kind == "footnote":
            sections["footnote"].append([index])
        else:
            sections["other"].append([index])
    return sections


def _flat(groups: list[list[int]]) -> list[int]:
    return [i for group in groups for i in group]


def _numbered(doc: Document, groups: list[list[int]]) -> dict[str, list[int]] | None:
    """Groups keyed by their first block's number; None if any is unnumbered or repeated."""
    out: dict[str, list[int]] = {}
    for group in groups:
        number = (doc.blocks[group[0]].number or "").strip().rstrip(".")
        if not number or number in out:
            return None
        out[number] = group
    return out


def structural_segments(en: Document, zh: Document) -> list[Segment]:
    """Split a pair into segments that align independently (see module docstring)."""
    ge, gz = _groups(en), _groups(zh)
    segments: list[Segment] = []
    leftover_en: list[int] = []
    leftover_zh: list[int] = []
    segments.append(Segment("dp", _flat(ge["head"]), _flat(gz["head"]), "head"))
    segments.append(Segment("dp", _flat(ge["preamble"]), _flat(gz["preamble"]), "preamble"))

    ops_en = _numbered(en, ge["operative"])
    ops_zh = _numbered(zh, gz["operative"])
    if ops_en is not None and ops_zh is not None and set(ops_en) == set(ops_zh) and ops_en:
        for number, group in ops_en.items():
            mode = "fixed" if len(group) == 1 and len(ops_zh[number]) == 1 else "dp"
            segments.append(Segment(mode, group, ops_zh[number], f"op{number}"))
    else:
        segments.append(Segment("dp", _flat(ge["operative"]), _flat(gz["operative"]), "operative"))

    segments.append(Segment("assign", _flat(ge["closing"]), _flat(gz["closing"]), "closing"))

    fn_en = _numbered_notes(ge["footnote"], en, leftover_en)
    fn_zh = _numbered_notes(gz["footnote"], zh, leftover_zh)
    for number, group in fn_en.items():
        if number in fn_zh:
            segments.append(Segment("fixed", group, fn_zh[number], f"fn{number}"))
        else:
            leftover_en.extend(group)
    leftover_zh.extend(i for number, g in fn_zh.items() if number not in fn_en for i in g)
    leftover_en.extend(_flat(ge["other"]))
    leftover_zh.extend(_flat(gz["other"]))
    segments.append(Segment("dp", sorted(leftover_en), sorted(leftover_zh), "leftover"))
    return [s for s in segments if s.en or s.zh]


def _numbered_notes(
    groups: list[list[int]], doc: Document, leftover: list[int]
) -> dict[str, list[int]]:
    """Footnote block groups by their number (the first of a number wins); groups without
    a number, or repeating one, go to ``leftover``."""
    notes: dict[str, list[int]] = {}
    for group in groups:
        number = (doc.blocks[group[0]].number or "").strip()
        if number and number not in notes:
            notes[number] = group
        else:
            leftover.extend(group)
    return notes
