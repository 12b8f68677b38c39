"""Stress-case generators (benchmarks.synth): each edit must carry the right gold along."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from benchmarks import synth, synthetic_embeddings
from pipeline.evaluate import read_beads
from pipeline.records import Block, Document

GENERAL = Path(__file__).parent / "gold" / "general"


@pytest.fixture(scope="module")
def units() -> list[synth.Unit]:
    en = (GENERAL / "en.txt").read_text(encoding="utf-8").splitlines()
    zh = (GENERAL / "zh.txt").read_text(encoding="utf-8").splitlines()
    return synth.units_from_gold(en, zh, read_beads(GENERAL / "gold.txt"))


def _types(case: synth.StressCase) -> Counter:
    return Counter(f"{len(s)}-{len(t)}" for s, t in case.gold)


def _covers_everything(case: synth.StressCase) -> None:
    assert sorted(i for s, _ in case.gold for i in s) == list(range(len(case.src)))
    assert sorted(j for _, t in case.gold for j in t) == list(range(len(case.tgt)))


def test_roundtrip_reproduces_the_gold_files(units: list[synth.Unit]) -> None:
    case = synth.case_from_units("general", units)
    assert case.src == (GENERAL / "en.txt").read_text(encoding="utf-8").splitlines()
    assert case.gold == read_beads(GENERAL / "gold.txt")


def test_units_from_gold_rejects_a_gold_with_gaps() -> None:
    with pytest.raises(ValueError, match="not monotone"):
        synth.units_from_gold(["a", "b"], ["x", "y"], [([0], [1]), ([1], [0])])
    with pytest.raises(ValueError, match="covers 1/2 source"):
        synth.units_from_gold(["a", "b"], ["x"], [([0], [0])])


@pytest.mark.parametrize(
    "side,count,bead", [("tgt", 2, "2-1"), ("tgt", 3, "3-1"), ("src", 2, "1-2"), ("src", 3, "1-3")]
)
def test_merge_gives_many_to_one(units, side: str, count: int, bead: str) -> None:
    at = 4  # units 4, 5, 6 are 1-1 in the general gold
    merged = synth.merge_units(units, at, count, side)
    case = synth.case_from_units("m", merged)
    _covers_everything(case)
    assert len(merged) == len(units) - count + 1
    assert f"{len(merged[at].src)}-{len(merged[at].tgt)}" == bead
    if side == "tgt":
        # Chinese sentences join without a space.
        assert merged[at].tgt[0] == "".join(u.tgt[0] for u in units[at : at + count])


def test_split_cuts_at_a_clause_boundary(units) -> None:
    split = synth.split_unit(units, 1, "tgt")
    assert split[1].tgt == ("玛拉站在厨房窗前。", "手里端着一杯早已凉透的茶。")
    split_en = synth.split_unit(units, 0, "src")
    assert split_en[0].src[0].endswith("dawn.")
    assert (
        _types(synth.case_from_units("s", split_en))["2-1"]
        == _types(synth.case_from_units("g", units))["2-1"] + 1
    )
    with pytest.raises(ValueError, match="no 1 clause"):
        synth.split_unit(units, 4, "src")  # "She did not answer." has no comma


def test_delete_and_insert_give_one_sided_beads(units) -> None:
    deleted = synth.case_from_units("d", synth.delete_block(units, 0, 2, "tgt"))
    assert deleted.gold[:3] == [([0], []), ([1], []), ([2, 3], [0])]
    inserted = synth.case_from_units("i", synth.insert_block(units, 1, ["甲。", "乙。"], "tgt"))
    assert inserted.gold[:4] == [([0], [0]), ([], [1]), ([], [2]), ([1], [3])]
    assert inserted.tgt[1:3] == ["甲。", "乙。"]


def test_swap_is_a_two_two_bead(units) -> None:
    swapped = synth.swap_neighbours(units, 4, "src")
    case = synth.case_from_units("w", swapped)
    _covers_everything(case)
    assert swapped[4].src == (units[5].src[0], units[4].src[0])
    assert ([5, 6], [5, 6]) in case.gold


def test_perturb_is_seeded(units) -> None:
    kwargs = {"operations": 6, "foreign_src": ["Foreign."], "foreign_tgt": ["外来。"]}
    a, notes_a = synth.perturb(units, 5, **kwargs)
    b, notes_b = synth.perturb(units, 5, **kwargs)
    c, _ = synth.perturb(units, 6, **kwargs)
    assert a == b and notes_a == notes_b and len(notes_a) >= 4
    assert a != c
    _covers_everything(synth.case_from_units("p", a))


def test_long_document_is_long_and_consistent(units) -> None:
    case = synth.long_document([units], 300, seed=1)
    assert len(case.src) >= 300
    _covers_everything(case)
    # Each copy is shuffled differently, so the same sentence is not always followed by
    # the same one, unlike verbatim copies.
    verbatim = synth.long_document([units], 300, seed=1, shuffle_units=False)
    assert case.src[:45] != verbatim.src[:45] or case.src[45:90] != verbatim.src[45:90]


def test_move_footnotes_keeps_blocks_and_numbers() -> None:
    blocks = [Block("heading", "H")] + [Block("operative", f"p{k}", str(k)) for k in range(1, 7)]
    blocks += [Block("footnote", f"n{k}", str(k)) for k in range(1, 4)]
    doc = Document("A/RES/1/1", "en", "x.txt", "0", blocks=blocks)
    moved = synth.move_footnotes(doc, seed=3)
    assert sorted(b.text for b in moved.blocks) == sorted(b.text for b in blocks)
    assert moved.blocks[0].kind == "heading"
    assert [b.kind for b in moved.blocks] != [b.kind for b in blocks]
    assert [b.number for b in moved.blocks if b.kind == "footnote"] == ["1", "2", "3"]
    assert doc.blocks == blocks  # pure: the input is untouched


def test_ids_roundtrip_after_reordering() -> None:
    gold = [([0], [1]), ([1, 2], [0])]
    ids = synth.beads_to_ids(gold, ["a", "b", "c"], ["x", "y"])
    assert ids == [(["a"], ["y"]), (["b", "c"], ["x"])]
    assert synth.ids_to_beads(ids, ["c", "a", "b"], ["y", "x"]) == [([1], [0]), ([0, 2], [1])]


def test_synthetic_pair_and_encoder() -> None:
    case, encoder = synthetic_embeddings.synthetic_pair(300, seed=0, dim=64)
    _covers_everything(case)
    assert len(case.src) >= 300
    assert {"1-1", "1-2", "2-1"} <= set(_types(case))
    v = encoder.encode(["s0", "s1", "s0 s1", "s0s1"])
    assert v.shape == (4, 64)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    expected = (encoder._vectors["s0"] + encoder._vectors["s1"]).astype(np.float64)
    assert np.allclose(v[2], expected / np.linalg.norm(expected), atol=1e-5)
    assert np.allclose(v[2], v[3])
