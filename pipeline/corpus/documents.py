"""Every document read, with its lineage and split: what the pairing barrier decides.

The barrier has every document's signature (``pipeline.corpus.lineage``) and knows which
files became pairs; :func:`assign_documents` clusters the lineages, gives each one its
split (``pipeline.corpus.splits``) and returns the placement of every paired symbol (the
decide stage stamps it on the rows) and one :class:`DocumentRow` per document read
(``documents.parquet``). Both engines call it, at their barrier.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.corpus.lineage import (
    LSH_WEIGHTS,
    MIN_SHINGLES,
    MINHASH_SEED,
    NUM_PERM,
    SHINGLE_CHARS,
    SHINGLE_WORDS,
    TEXT_THRESHOLD,
    Lineages,
    LineageSignature,
    find_lineages,
)
from pipeline.corpus.splits import SPLIT_SALT, Placement, SplitRatios, placements
from pipeline.records import DocumentRow


@dataclass
class DocumentAssignment:
    """The lineages and splits of one build's documents."""

    ratios: SplitRatios
    lineages: Lineages
    #: Symbol -> lineage and split (every symbol read, paired or not).
    placements: dict[str, Placement]
    #: One row per document read, in (symbol, language, file) order.
    documents: list[DocumentRow]

    def manifest_section(self) -> dict[str, Any]:
        """The manifest's ``lineages``: how they were found and every lineage."""
        split = {p.lineage: p.split for p in self.placements.values()}
        return {
            "count": len(self.lineages.lineages),
            "joins": dict(sorted(self.lineages.joins.items())),
            "method": {
                "minhash": "datasketch",
                "num_perm": NUM_PERM,
                "seed": MINHASH_SEED,
                "shingles": {"en": f"{SHINGLE_WORDS} words", "zh": f"{SHINGLE_CHARS} characters"},
                "threshold": TEXT_THRESHOLD,
                "lsh_weights": list(LSH_WEIGHTS),
                "min_shingles": MIN_SHINGLES,
            },
            "lineages": [
                {
                    "lineage": lineage.id,
                    "key": lineage.key,
                    "split": split[lineage.id],
                    "symbols": list(lineage.symbols),
                }
                for lineage in self.lineages.lineages
            ],
        }

    def splits_section(self) -> dict[str, Any]:
        """How splits were assigned (the counts come from the finalize pass)."""
        return {
            "ratios": self.ratios.to_dict(),
            "assigned": "per lineage: sha256(salt, lineage key) on [0, 1) against the ratios",
            "salt": SPLIT_SALT,
        }


def assign_documents(
    signatures: Sequence[LineageSignature], paired_files: Collection[str], ratios: SplitRatios
) -> DocumentAssignment:
    """Lineages, splits and document rows for the documents read (``signatures``, one
    per document); ``paired_files`` are the source files that became pairs."""
    lineages = find_lineages(signatures)
    by_symbol = lineages.by_symbol(signatures)
    keys = {lineage.id: lineage.key for lineage in lineages.lineages}
    placed = placements(by_symbol, keys, ratios)
    documents = [
        DocumentRow(
            symbol=s.symbol,
            language=s.language,
            source_file=s.source_file,
            family=s.family,
            session=s.session,
            title=s.title,
            lineage=placed[s.symbol].lineage,
            lineage_key=keys[placed[s.symbol].lineage],
            split=placed[s.symbol].split,
            paired=s.source_file in paired_files,
        )
        for s in signatures
    ]
    documents.sort(key=lambda d: (d.symbol, d.language, d.source_file))
    return DocumentAssignment(ratios, lineages, placed, documents)
