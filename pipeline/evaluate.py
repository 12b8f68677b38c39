"""Score sentence alignments against gold, the way Vecalign and Bertalign report them.

Published figures for sentence aligners (Thompson & Koehn 2019; Liu & Zhu 2022) use one
metric, re-implemented here so our numbers are comparable with theirs:

* a *bead* is a pair (source indices, target indices); either side may be empty;
* **strict**: a test bead counts only if the very same bead is in the gold;
* **lax**: a test bead counts if it shares a target sentence with a gold bead that shares
  one of its source sentences (a partial overlap on both sides);
* precision is taken over *all* test beads, insertions and deletions included;
* recall is taken over gold beads *without* 0-x/x-0 beads, matched against the test
  beads without 0-x/x-0 beads (the same overlap rule with the roles swapped);
* counts are summed over documents before dividing (micro average), and duplicate beads
  within a document count once (both tools turn the bead lists into sets).

Files are Vecalign's format: one bead a line, ``[0]:[0, 1]``, ``[]:[5]`` for an
insertion, an optional ``:score`` suffix that is ignored.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline.records import Bead

#: One bead as plain index lists: (source sentence indices, target sentence indices).
BeadPair = tuple[list[int], list[int]]

_Key = tuple[tuple[int, ...], tuple[int, ...]]


class AlignmentFormatError(ValueError):
    """A bead file that is not in Vecalign format; the message names file and line."""


def _parse_index_list(text: str) -> list[int]:
    field = text.strip()
    try:
        value = ast.literal_eval(field)
    except (ValueError, SyntaxError):
        value = None  # the parser's own message names its internals, not the field
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    ):
        raise ValueError(f"{field!r} is not a list of non-negative integers")
    return value


def parse_bead(line: str) -> BeadPair:
    """Parse one ``[0]:[0, 1]`` (optionally ``:0.93``) line into index lists.

    Every field must be present: ``[0]::[1]`` or a trailing ``:`` is a damaged line,
    and reading it as a shorter bead would score something the aligner never wrote.
    """
    fields = line.strip().split(":")
    if len(fields) not in (2, 3) or any(not f.strip() for f in fields):
        raise ValueError("expected '[src]:[tgt]' with an optional ':score'")
    src = _parse_index_list(fields[0])
    tgt = _parse_index_list(fields[1])
    if len(fields) == 3:
        float(fields[2])  # the score must at least be a number; its value is not scored
    return src, tgt


def read_beads(path: Path) -> list[BeadPair]:
    """Read a Vecalign-format bead file. Blank lines are skipped; anything else that is
    not a bead raises :class:`AlignmentFormatError` naming the file and line, because a
    silently skipped bead would change the scores."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise AlignmentFormatError(f"{path}: cannot read bead file ({err})") from err
    beads: list[BeadPair] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            beads.append(parse_bead(line))
        except (ValueError, SyntaxError) as err:
            raise AlignmentFormatError(
                f"{path}:{number}: bad bead {line.strip()!r}: {err}"
            ) from err
    return beads


def format_bead(src: Sequence[int], tgt: Sequence[int], score: float | None = None) -> str:
    """One bead in Vecalign format: ``[0]:[0, 1]`` or ``[0]:[0, 1]:0.912345``."""
    line = f"{list(src)}:{list(tgt)}"
    if score is not None:
        line += f":{score:.6f}"
    return line


def write_beads(path: Path, beads: Iterable[BeadPair]) -> None:
    """Write beads one a line (no scores), the format :func:`read_beads` reads."""
    Path(path).write_text("".join(format_bead(s, t) + "\n" for s, t in beads), encoding="utf-8")


def bead_pairs(beads: Iterable[Bead]) -> list[BeadPair]:
    """Plain (src, tgt) index lists from :class:`Bead` records, for scoring."""
    return [(list(b.src), list(b.tgt)) for b in beads]


def _as_keys(beads: Iterable[BeadPair]) -> set[_Key]:
    return {(tuple(s), tuple(t)) for s, t in beads if len(s) or len(t)}


def _match_counts(gold: Iterable[BeadPair], test: Iterable[BeadPair]) -> tuple[int, int, int, int]:
    """(strict hits, strict misses, lax hits, lax misses) of ``test`` beads against ``gold``.

    Lax: the test bead's source sentences lead, through the gold beads containing them, to
    target sentences; the bead is a lax hit if its own targets meet that set.
    """
    gold_keys = _as_keys(gold)
    src_to_gold_tgt: dict[int, set[int]] = defaultdict(set)
    for g_src, g_tgt in gold_keys:
        for s in g_src:
            src_to_gold_tgt[s].update(g_tgt)
    strict_hit = strict_miss = lax_hit = lax_miss = 0
    for key in _as_keys(test):
        if key in gold_keys:
            strict_hit += 1
            lax_hit += 1
            continue
        strict_miss += 1
        reachable: set[int] = set()
        for s in key[0]:
            reachable |= src_to_gold_tgt.get(s, set())
        if reachable.intersection(key[1]):
            lax_hit += 1
        else:
            lax_miss += 1
    return strict_hit, strict_miss, lax_hit, lax_miss


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score_documents(documents: Iterable[tuple[Sequence[BeadPair], Sequence[BeadPair]]]) -> dict:
    """Micro-averaged scores over several documents, each given as (test, gold) beads.

    Returns precision/recall/F1 for strict and lax matching plus the raw counts
    (``test_beads``, ``gold_beads`` = gold beads counted for recall, ``documents``).
    """
    p_counts = [0, 0, 0, 0]
    r_counts = [0, 0, 0, 0]
    n_docs = 0
    for test, gold in documents:
        n_docs += 1
        for k, v in enumerate(_match_counts(gold=gold, test=test)):
            p_counts[k] += v
        # Recall is precision with the roles swapped, insertions and deletions left out.
        test_links = [(s, t) for s, t in test if len(s) and len(t)]
        gold_links = [(s, t) for s, t in gold if len(s) and len(t)]
        for k, v in enumerate(_match_counts(gold=test_links, test=gold_links)):
            r_counts[k] += v
    p_strict = _ratio(p_counts[0], p_counts[0] + p_counts[1])
    p_lax = _ratio(p_counts[2], p_counts[2] + p_counts[3])
    r_strict = _ratio(r_counts[0], r_counts[0] + r_counts[1])
    r_lax = _ratio(r_counts[2], r_counts[2] + r_counts[3])
    return {
        "precision_strict": p_strict,
        "recall_strict": r_strict,
        "f1_strict": _f1(p_strict, r_strict),
        "precision_lax": p_lax,
        "recall_lax": r_lax,
        "f1_lax": _f1(p_lax, r_lax),
        "test_beads": p_counts[0] + p_counts[1],
        "gold_beads": r_counts[0] + r_counts[1],
        "documents": n_docs,
    }


def score_alignments(test: Sequence[BeadPair], gold: Sequence[BeadPair]) -> dict:
    """Scores of one document's test beads against its gold beads (see module doc)."""
    return score_documents([(test, gold)])


def _bead_files(folder: Path) -> dict[str, Path]:
    return {
        p.name: p for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")
    }


def score_paths(test: Path, gold: Path) -> dict:
    """Score a test bead file against a gold file, or a folder against a folder.

    Folders are matched by file name; a gold file without its test file (or the other
    way round) is an error naming the files, because scoring only the files present
    would quietly inflate the figures.
    """
    test, gold = Path(test), Path(gold)
    for p in (test, gold):
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or folder")
    if test.is_dir() != gold.is_dir():
        raise ValueError(f"{test} and {gold}: give two files or two folders, not one of each")
    if not test.is_dir():
        return score_documents([(read_beads(test), read_beads(gold))])
    test_files, gold_files = _bead_files(test), _bead_files(gold)
    missing = sorted(set(gold_files) - set(test_files))
    extra = sorted(set(test_files) - set(gold_files))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"no test file in {test} for gold {', '.join(missing)}")
        if extra:
            parts.append(f"no gold file in {gold} for test {', '.join(extra)}")
        raise ValueError("; ".join(parts))
    if not gold_files:
        raise ValueError(f"{gold}: no bead files in folder")
    return score_documents(
        (read_beads(test_files[name]), read_beads(gold_files[name])) for name in sorted(gold_files)
    )


def format_scores(scores: dict) -> str:
    """The score table ``eval`` prints (same layout as Vecalign's score.py)."""
    lines = [
        "             strict    lax",
        f"precision    {scores['precision_strict']:.4f}    {scores['precision_lax']:.4f}",
        f"recall       {scores['recall_strict']:.4f}    {scores['recall_lax']:.4f}",
        f"f1           {scores['f1_strict']:.4f}    {scores['f1_lax']:.4f}",
        f"documents {scores['documents']}, test beads {scores['test_beads']}, "
        f"gold beads (no 0-x/x-0) {scores['gold_beads']}",
    ]
    return "\n".join(lines)
