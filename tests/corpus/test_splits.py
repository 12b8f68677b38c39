"""Splits per lineage: deterministic, configurable, stable under other lineages' changes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.corpus.splits import SPLITS, Placement, SplitRatios, placements, split_of, split_point


def test_ratios_parse_and_normalise() -> None:
    assert SplitRatios.parse("98/1/1") == SplitRatios()
    assert SplitRatios.parse("0.8/0.1/0.1").fractions() == pytest.approx((0.8, 0.1, 0.1))
    assert SplitRatios.parse("80/10/10").to_dict() == {"train": 0.8, "validation": 0.1, "test": 0.1}
    assert str(SplitRatios.parse("90/5/5")) == "90/5/5"
    for bad in ("98/2", "a/b/c", "-1/1/1", "0/0/0", "nan/1/1", "inf/1/1"):
        with pytest.raises(ValueError):
            SplitRatios.parse(bad)


def test_split_is_a_pure_function_of_the_key() -> None:
    keys = [f"A/RES/{s}/{n}" for s in range(40, 80) for n in range(1, 30)]
    ratios = SplitRatios(80, 10, 10)
    first = [split_of(k, ratios) for k in keys]
    assert first == [split_of(k, ratios) for k in reversed(keys)][::-1]
    shares = {name: first.count(name) / len(keys) for name in SPLITS}
    assert 0.75 < shares["train"] < 0.85 and 0.06 < shares["test"] < 0.14
    # the same in a fresh interpreter (not Python's salted hash())
    code = "from pipeline.corpus.splits import split_point; print(split_point('A/RES/75/58'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(other.stdout) == split_point("A/RES/75/58")


def test_changing_ratios_moves_only_lineages_across_a_boundary() -> None:
    keys = [f"A/RES/{s}/{n}" for s in range(60, 80) for n in range(1, 20)]
    before = {k: split_of(k, SplitRatios(90, 5, 5)) for k in keys}
    after = {k: split_of(k, SplitRatios(80, 10, 10)) for k in keys}
    moved = [k for k in keys if before[k] != after[k]]
    assert moved and all(before[k] == "train" or after[k] == "test" for k in moved)
    assert all(0.8 <= split_point(k) < 0.9 or 0.9 <= split_point(k) < 0.95 for k in moved)


def test_zero_ratio_splits_get_nothing() -> None:
    keys = [f"K{n}" for n in range(500)]
    assert {split_of(k, SplitRatios(1, 0, 0)) for k in keys} == {"train"}
    assert {split_of(k, SplitRatios(0, 0, 1)) for k in keys} == {"test"}


def test_placements_follow_the_lineage() -> None:
    symbol_lineage = {"A/RES/75/58": "L1", "A/RES/76/28": "L1", "A/DEC/78/512": "L2"}
    keys = {"L1": "A/RES/75/58", "L2": "A/DEC/78/512"}
    placed = placements(symbol_lineage, keys, SplitRatios(50, 0, 50))
    assert (
        placed["A/RES/75/58"]
        == placed["A/RES/76/28"]
        == Placement("L1", split_of("A/RES/75/58", SplitRatios(50, 0, 50)))
    )
    assert placed["A/DEC/78/512"].lineage == "L2"
