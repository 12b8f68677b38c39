"""What the card, the manifest and the report show about splits, duplicates and lineages.

One summary, computed once by the finalize pass (``pipeline.corpus.finalize``) from the
numpy columns it reads anyway and the documents table, so the three outputs cannot
disagree and neither engine computes it its own way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.corpus.splits import SPLITS
from pipeline.records import DocumentRow

if TYPE_CHECKING:
    from pipeline.corpus.finalize import KeptColumns

#: Edges of the score histogram (aligner units: about 1.0 is a typical correct 1-1 bead);
#: scores below the first and above the last have a bin each.
SCORE_EDGES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
#: How many of the largest duplicate groups and lineages are listed.
LARGEST = 10


def score_bins() -> list[str]:
    """Labels of the histogram's bins: "< 0", "0-0.25", ..., ">= 1.5"."""
    inner = [f"{lo:g}-{hi:g}" for lo, hi in zip(SCORE_EDGES, SCORE_EDGES[1:], strict=False)]
    return [f"< {SCORE_EDGES[0]:g}", *inner, f">= {SCORE_EDGES[-1]:g}"]


def score_histogram(scores: np.ndarray) -> list[int]:
    edges = [-np.inf, *SCORE_EDGES, np.inf]
    return [int(n) for n in np.histogram(scores, bins=edges)[0]]


def _split_documents(documents: Sequence[DocumentRow], split: str) -> dict[str, int]:
    mine = [d for d in documents if d.split == split]
    return {
        "lineages": len({d.lineage for d in mine}),
        "documents": len(mine),
        "pairs": len({d.symbol for d in mine if d.paired}),
    }


def _split_rows(kept: Mapping[str, KeptColumns], code: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for table, columns in kept.items():
        here = columns.splits == code
        out[table] = int(here.sum())
        out[f"{table}_seen_in_train"] = int((here & columns.seen).sum())
    sentences = out["sentences"]
    out["share_seen_in_train"] = (
        round(out["sentences_seen_in_train"] / sentences, 4) if sentences else None
    )
    columns = kept["sentences"]
    scored = (columns.splits == code) & columns.two_sided
    out["score_histogram"] = score_histogram(columns.scores[scored])
    return out


def largest_groups(
    columns: KeptColumns, examples: Mapping[int, tuple[str, str]]
) -> list[dict[str, Any]]:
    """The largest duplicate groups of sentence rows (two rows or more), biggest first."""
    index = columns.index
    order = np.lexsort((index.groups, -index.counts))
    listed = []
    for k in order[:LARGEST]:
        if index.counts[k] < 2:
            break
        number = int(index.groups[k])
        in_group = columns.splits[columns.groups == index.groups[k]]
        en, zh = examples.get(number, ("", ""))
        listed.append(
            {
                "dup_group": f"{number:016x}",
                "rows": int(index.counts[k]),
                "splits": {s: int((in_group == c).sum()) for c, s in enumerate(SPLITS)},
                "en": en,
                "zh": zh,
            }
        )
    return listed


def largest_lineages(documents: Sequence[DocumentRow]) -> list[dict[str, Any]]:
    """The lineages with the most documents (ties: by key)."""
    sizes = Counter(d.lineage for d in documents)
    first = {}
    for d in documents:
        first.setdefault(d.lineage, d)
    ranked = sorted(sizes, key=lambda lid: (-sizes[lid], first[lid].lineage_key))
    return [
        {
            "lineage": lid,
            "key": first[lid].lineage_key,
            "split": first[lid].split,
            "documents": sizes[lid],
            "symbols": len({d.symbol for d in documents if d.lineage == lid}),
        }
        for lid in ranked[:LARGEST]
    ]


def corpus_summary(
    kept: Mapping[str, KeptColumns],
    documents: Sequence[DocumentRow],
    examples: Mapping[int, tuple[str, str]],
) -> dict[str, Any]:
    """The summary: per split (documents, lineages, pairs, rows, rows seen in train, the
    score histogram), the duplicate groups, the largest groups and lineages."""
    duplicates = {}
    for table, columns in kept.items():
        counts = columns.index.counts
        duplicates[table] = {
            "groups": int(len(counts)),
            "rows_in_repeated_groups": int(counts[counts > 1].sum()),
        }
    return {
        "splits": {
            split: {**_split_documents(documents, split), **_split_rows(kept, code)}
            for code, split in enumerate(SPLITS)
        },
        "score_bins": score_bins(),
        "duplicates": duplicates,
        "largest_dup_groups": largest_groups(kept["sentences"], examples),
        "largest_lineages": largest_lineages(documents),
    }
