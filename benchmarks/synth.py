"""Stress cases with known answers, made from real gold-aligned text.

A hand-checked gold alignment is expensive, so we have two. To see how an aligner copes
with what real translations do to a document (paragraphs dropped or added on one side,
sentences merged or split, neighbours swapped, footnotes placed elsewhere, documents
thousands of sentences long) we perturb a gold-aligned pair and carry the gold along:
every function here is pure, takes an explicit seed or position, and returns the new
sentences *and* the new gold, so the answer is known by construction.

The working unit is a :class:`Unit`: the sentences of one gold bead on each side. A
perturbation edits a list of units; :func:`case_from_units` numbers the sentences again
and writes the gold. A unit with one empty side becomes one 1-0 (or 0-1) bead per
sentence, the convention of the published gold sets.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from pipeline.evaluate import BeadPair
from pipeline.records import Document

SIDES = ("src", "tgt")
_CJK = re.compile(r"[\u3400-\u9fff]")
#: Clause boundaries where a sentence can be cut in two and still read as two sentences.
_CLAUSE_CUT = re.compile(r"(?<=[,;，；])\s*")
_END_CLAUSE = {",": ".", ";": ".", "，": "。", "；": "。"}


@dataclass(frozen=True)
class Unit:
    """The sentences of one gold bead: ``src`` and ``tgt`` texts (either may be empty)."""

    src: tuple[str, ...]
    tgt: tuple[str, ...]

    def side(self, side: str) -> tuple[str, ...]:
        return self.src if side == "src" else self.tgt


@dataclass
class StressCase:
    """A sentence-aligned pair with its gold beads (indices into ``src`` and ``tgt``)."""

    name: str
    src: list[str]
    tgt: list[str]
    gold: list[BeadPair]
    notes: list[str] = field(default_factory=list)


def units_from_gold(src: Sequence[str], tgt: Sequence[str], gold: Sequence[BeadPair]) -> list[Unit]:
    """Group sentences by gold bead. The gold must be monotone and cover every sentence
    once, since a perturbed copy can only be renumbered if the order is known."""
    units: list[Unit] = []
    next_src = next_tgt = 0
    for s, t in gold:
        if (s and s != list(range(next_src, next_src + len(s)))) or (
            t and t != list(range(next_tgt, next_tgt + len(t)))
        ):
            raise ValueError(f"gold bead {s}:{t} is not monotone and contiguous")
        next_src += len(s)
        next_tgt += len(t)
        units.append(Unit(tuple(src[i] for i in s), tuple(tgt[j] for j in t)))
    if next_src != len(src) or next_tgt != len(tgt):
        raise ValueError(
            f"gold covers {next_src}/{len(src)} source and {next_tgt}/{len(tgt)} target sentences"
        )
    return units


def case_from_units(name: str, units: Sequence[Unit], notes: Sequence[str] = ()) -> StressCase:
    """Number the sentences of ``units`` and write the gold beads."""
    src: list[str] = []
    tgt: list[str] = []
    gold: list[BeadPair] = []
    for unit in units:
        if unit.src and unit.tgt:
            gold.append(
                (
                    list(range(len(src), len(src) + len(unit.src))),
                    list(range(len(tgt), len(tgt) + len(unit.tgt))),
                )
            )
        else:
            gold.extend(([i], []) for i in range(len(src), len(src) + len(unit.src)))
            gold.extend(([], [j]) for j in range(len(tgt), len(tgt) + len(unit.tgt)))
        src.extend(unit.src)
        tgt.extend(unit.tgt)
    return StressCase(name, src, tgt, gold, list(notes))


def join_sentences(texts: Sequence[str]) -> str:
    """Join sentences the way each script writes them: no space between Chinese ones."""
    if any(_CJK.search(t) for t in texts):
        return "".join(t.strip() for t in texts)
    return " ".join(t.strip() for t in texts)


def _with_side(unit: Unit, side: str, texts: Sequence[str]) -> Unit:
    return replace(unit, **{side: tuple(texts)})


def _check_side(side: str) -> None:
    if side not in SIDES:
        raise ValueError(f"side must be 'src' or 'tgt', not {side!r}")


def delete_block(units: Sequence[Unit], start: int, count: int, side: str) -> list[Unit]:
    """Drop ``side``'s sentences of ``count`` units (a paragraph the translator left out):
    the other side's sentences become 1-0 / 0-1 beads."""
    _check_side(side)
    out = list(units)
    for k in range(start, min(start + count, len(out))):
        out[k] = _with_side(out[k], side, ())
    return out


def insert_block(units: Sequence[Unit], at: int, sentences: Sequence[str], side: str) -> list[Unit]:
    """Insert foreign sentences on one side only (a paragraph with no counterpart)."""
    _check_side(side)
    empty = Unit((), ())
    return list(units[:at]) + [_with_side(empty, side, sentences)] + list(units[at:])


def merge_units(units: Sequence[Unit], at: int, count: int, side: str) -> list[Unit]:
    """Join ``side``'s sentences of ``count`` consecutive units into one sentence.

    Merging two target sentences of two 1-1 beads gives a 2-1 bead; three give a 3-1.
    """
    _check_side(side)
    if count < 2 or at + count > len(units):
        raise ValueError(f"cannot merge {count} units at {at} of {len(units)}")
    group = units[at : at + count]
    other = "tgt" if side == "src" else "src"
    merged = Unit((), ())
    merged = _with_side(merged, side, [join_sentences([t for u in group for t in u.side(side)])])
    merged = _with_side(merged, other, [t for u in group for t in u.side(other)])
    return list(units[:at]) + [merged] + list(units[at + count :])


def split_points(text: str) -> list[int]:
    """Character offsets after a clause boundary (comma, semicolon) where ``text`` can be
    cut, leaving at least a fifth of the text on each side."""
    cuts = [m.end() for m in _CLAUSE_CUT.finditer(text)]
    margin = max(1, len(text) // 5)
    return [c for c in cuts if margin <= c <= len(text) - margin]


def split_unit(units: Sequence[Unit], at: int, side: str, pieces: int = 2) -> list[Unit]:
    """Cut ``side``'s single sentence of unit ``at`` into ``pieces`` at clause boundaries
    nearest to equal parts: a 1-1 bead becomes 1-2 (or 1-3)."""
    _check_side(side)
    unit = units[at]
    texts = unit.side(side)
    if len(texts) != 1:
        raise ValueError(f"unit {at} has {len(texts)} {side} sentences; can split only one")
    text = texts[0]
    cuts = split_points(text)
    if len(cuts) < pieces - 1:
        raise ValueError(f"unit {at}: {side} sentence has no {pieces - 1} clause boundaries")
    chosen: list[int] = []
    for k in range(1, pieces):
        target = len(text) * k / pieces
        best = min((c for c in cuts if c not in chosen), key=lambda c: abs(c - target))
        chosen.append(best)
    chosen.sort()
    bounds = [0, *chosen, len(text)]
    parts = [text[a:b].strip() for a, b in zip(bounds, bounds[1:], strict=False)]
    # A cut clause ends like a sentence: "，" -> "。", "," -> ".".
    parts = [t[:-1] + _END_CLAUSE.get(t[-1], t[-1]) for t in parts[:-1]] + parts[-1:]
    return list(units[:at]) + [_with_side(unit, side, parts)] + list(units[at + 1 :])


def swap_neighbours(units: Sequence[Unit], at: int, side: str) -> list[Unit]:
    """Swap ``side``'s sentences of units ``at`` and ``at + 1`` (translators reorder
    clauses). A monotone alignment can only say this as one 2-2 bead."""
    _check_side(side)
    a, b = units[at], units[at + 1]
    other = "tgt" if side == "src" else "src"
    swapped = Unit((), ())
    swapped = _with_side(swapped, side, [*b.side(side), *a.side(side)])
    swapped = _with_side(swapped, other, [*a.side(other), *b.side(other)])
    return list(units[:at]) + [swapped] + list(units[at + 2 :])


def _one_to_one(units: Sequence[Unit]) -> list[int]:
    return [k for k, u in enumerate(units) if len(u.src) == 1 and len(u.tgt) == 1]


def _consecutive_one_to_one(units: Sequence[Unit], count: int) -> list[int]:
    ones = set(_one_to_one(units))
    return [k for k in range(len(units) - count + 1) if all(k + d in ones for d in range(count))]


def perturb(
    units: Sequence[Unit],
    seed: int,
    *,
    operations: int = 6,
    foreign_src: Sequence[str] = (),
    foreign_tgt: Sequence[str] = (),
) -> tuple[list[Unit], list[str]]:
    """Apply ``operations`` random edits (delete, insert, merge, split, swap) chosen with
    ``seed``. Insertions draw sentences from ``foreign_src`` / ``foreign_tgt`` (text
    that belongs to neither document). Returns the units and a note per edit."""
    rng = random.Random(seed)
    out = list(units)
    notes: list[str] = []
    kinds = ["merge", "split", "delete", "swap", "merge3"]
    if foreign_src or foreign_tgt:
        kinds.append("insert")
    for _ in range(operations):
        kind = rng.choice(kinds)
        side = rng.choice(SIDES)
        if kind == "insert":
            pool = foreign_src if side == "src" else foreign_tgt
            if not pool:
                side = "tgt" if side == "src" else "src"
                pool = foreign_src if side == "src" else foreign_tgt
            start = rng.randrange(len(pool))
            sentences = [pool[(start + d) % len(pool)] for d in range(rng.randint(1, 3))]
            at = rng.randrange(len(out) + 1)
            out = insert_block(out, at, sentences, side)
        elif kind == "delete":
            at = rng.randrange(len(out))
            count = rng.randint(1, 3)
            out = delete_block(out, at, count, side)
        elif kind in ("merge", "merge3"):
            count = 3 if kind == "merge3" else 2
            where = _consecutive_one_to_one(out, count)
            if not where:
                continue
            at = rng.choice(where)
            out = merge_units(out, at, count, side)
        elif kind == "split":
            where = [k for k in _one_to_one(out) if split_points(out[k].side(side)[0])]
            if not where:
                continue
            at = rng.choice(where)
            out = split_unit(out, at, side)
        else:  # swap
            where = _consecutive_one_to_one(out, 2)
            if not where:
                continue
            at = rng.choice(where)
            out = swap_neighbours(out, at, side)
        notes.append(f"{kind} {side} at unit {at}")
    return out, notes


def long_document(
    parts: Sequence[Sequence[Unit]],
    min_sentences: int,
    seed: int,
    *,
    operations_per_copy: int = 4,
    shuffle_units: bool = True,
    shuffle_run: int = 5,
) -> StressCase:
    """Concatenate perturbed copies of ``parts`` (gold-aligned documents, taken in turn)
    until the source side has at least ``min_sentences`` sentences.

    With ``shuffle_units`` each copy has its beads, in runs of ``shuffle_run``, in a new
    random order, so copies read like different documents that share sentences (as
    resolutions share their boilerplate); without it the copies repeat verbatim, a far
    harder case in which only the global length constraint tells one copy from the next."""
    if not parts or not any(parts):
        raise ValueError("long_document needs at least one non-empty part")
    units: list[Unit] = []
    notes: list[str] = []
    copy = 0
    src_count = 0
    while src_count < min_sentences:
        base = parts[copy % len(parts)]
        others = [u for p in parts if p is not base for u in p]
        foreign_src = [s for u in others for s in u.src][:40]
        foreign_tgt = [t for u in others for t in u.tgt][:40]
        if shuffle_units:
            # Shuffle runs of a few beads, not single beads: each copy reads differently
            # while most overlap texts (runs of sentences) stay the same, which keeps
            # the embedding bill of a long case small.
            runs = [list(base[k : k + shuffle_run]) for k in range(0, len(base), shuffle_run)]
            random.Random(seed * 7919 + copy).shuffle(runs)
            base = [u for run in runs for u in run]
        edited, edit_notes = perturb(
            base,
            seed * 1000 + copy,
            operations=operations_per_copy,
            foreign_src=foreign_src,
            foreign_tgt=foreign_tgt,
        )
        units.extend(edited)
        notes.extend(f"copy {copy}: {n}" for n in edit_notes)
        src_count += sum(len(u.src) for u in edited)
        copy += 1
    return case_from_units(f"long-{min_sentences}", units, notes)


# --- stress cases for documents (structure-aware alignment) -------------------------


def move_footnotes(doc: Document, seed: int) -> Document:
    """A copy of ``doc`` with its footnote blocks moved to other places between
    paragraphs, as two converters of the same resolution place them differently.
    Footnote numbers stay, so a structure-aware aligner can still pair them."""
    rng = random.Random(seed)
    footnotes = [b for b in doc.blocks if b.kind == "footnote"]
    body = [b for b in doc.blocks if b.kind != "footnote"]
    if not footnotes:
        return replace(doc, blocks=list(doc.blocks))
    # Footnotes may land after any body block but the first (never before the heading).
    slots = sorted(rng.randrange(1, len(body) + 1) for _ in range(len(footnotes)))
    blocks = list(body)
    for offset, (slot, note) in enumerate(zip(slots, footnotes, strict=True)):
        blocks.insert(slot + offset, note)
    return replace(doc, blocks=blocks)


def beads_to_ids(
    gold: Sequence[BeadPair], src_ids: Sequence[str], tgt_ids: Sequence[str]
) -> list[tuple[list[str], list[str]]]:
    """Gold over sentence indices -> gold over sentence ids (stable when blocks move)."""
    return [([src_ids[i] for i in s], [tgt_ids[j] for j in t]) for s, t in gold]


def ids_to_beads(
    gold_ids: Sequence[tuple[Sequence[str], Sequence[str]]],
    src_ids: Sequence[str],
    tgt_ids: Sequence[str],
) -> list[BeadPair]:
    """Gold over sentence ids -> gold over indices of a (possibly reordered) sentence list."""
    src_pos = {sid: k for k, sid in enumerate(src_ids)}
    tgt_pos = {tid: k for k, tid in enumerate(tgt_ids)}
    return [(sorted(src_pos[i] for i in s), sorted(tgt_pos[j] for j in t)) for s, t in gold_ids]
