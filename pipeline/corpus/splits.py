"""train / validation / test, assigned per lineage and deterministically.

Why per lineage: a renewed resolution repeats most of its sentences, so splitting by
row or even by document leaks test sentences into train (``pipeline.corpus.lineage``).
Why a hash: a lineage's split is a pure function of its key (a stable hash, never
Python's salted ``hash()``), so it is the same on every machine and every rebuild, and
adding or removing other lineages never moves it. Changing the ratios moves only the
lineages whose hash falls between the old and the new boundaries.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: The splits, in the order of their ranges on [0, 1) and of the dataset card.
SPLITS = ("train", "validation", "test")
#: Salt of the split hash: a different salt is a different (equally valid) split.
SPLIT_SALT = "un-parallel-pipeline:split:v1"


@dataclass(frozen=True)
class SplitRatios:
    """Shares of lineages for train, validation and test (``98/1/1``): the expected
    share of lineages, not of rows, since lineages differ in size (the manifest and the
    card give the rows each split got)."""

    train: float = 98.0
    validation: float = 1.0
    test: float = 1.0

    def __post_init__(self) -> None:
        values = (self.train, self.validation, self.test)
        if not all(math.isfinite(v) and v >= 0 for v in values) or sum(values) <= 0:
            raise ValueError(
                f"split ratios must be finite, non-negative and not all zero, got {values}"
            )

    @classmethod
    def parse(cls, text: str) -> SplitRatios:
        """``"98/1/1"`` (any scale: ``"0.8/0.1/0.1"`` is the same as ``"80/10/10"``)."""
        parts = text.split("/")
        if len(parts) != 3:
            raise ValueError(f"{text!r}: expected TRAIN/VALIDATION/TEST, e.g. 98/1/1")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"{text!r}: expected three numbers, e.g. 98/1/1") from None
        return cls(*values)

    def fractions(self) -> tuple[float, float, float]:
        total = self.train + self.validation + self.test
        return (self.train / total, self.validation / total, self.test / total)

    def to_dict(self) -> dict[str, float]:
        """The ratios as the manifest records them (fractions of 1)."""
        return {name: round(f, 6) for name, f in zip(SPLITS, self.fractions(), strict=True)}

    def __str__(self) -> str:
        return "/".join(f"{v:g}" for v in (self.train, self.validation, self.test))


def split_point(key: str) -> float:
    """Where a lineage key falls on [0, 1): the first 8 bytes of sha256(salt, key)."""
    digest = hashlib.sha256(f"{SPLIT_SALT}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(key: str, ratios: SplitRatios) -> str:
    """The split of the lineage whose key is ``key``."""
    point, edge = split_point(key), 0.0
    shares = ratios.fractions()
    for name, share in zip(SPLITS, shares, strict=True):
        edge += share
        if point < edge:
            return name
    # Rounding left the last edge a hair below 1: the last split that has a share.
    return [name for name, share in zip(SPLITS, shares, strict=True) if share > 0][-1]


@dataclass(frozen=True)
class Placement:
    """Where a document's rows go: its lineage's id and that lineage's split."""

    lineage: str
    split: str


def placements(
    symbol_lineage: Mapping[str, str], lineage_keys: Mapping[str, str], ratios: SplitRatios
) -> dict[str, Placement]:
    """Symbol -> Placement, from each symbol's lineage id and each lineage's key."""
    split_by_lineage = {lid: split_of(key, ratios) for lid, key in lineage_keys.items()}
    return {
        symbol: Placement(lineage, split_by_lineage[lineage])
        for symbol, lineage in symbol_lineage.items()
    }


def chunk_placements(
    symbols: Sequence[str], lineages: Sequence[str], splits: Sequence[str]
) -> dict[str, Placement]:
    """Symbol -> Placement from three parallel lists (a Ray chunk's columns)."""
    return {
        str(symbol): Placement(str(lineage), str(split))
        for symbol, lineage, split in zip(symbols, lineages, splits, strict=True)
    }
