"""Lineages: renewals of one resolution found by symbol, title and near-duplicate text."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, SEEDS
from factories import make_blocks, make_document

from pipeline.corpus.lineage import (
    NUM_PERM,
    LineageSignature,
    document_signature,
    find_lineages,
    lineage_id,
    title_key,
)
from pipeline.extract import extract_file
from pipeline.records import Metadata

FIXTURES = REPO / "tests" / "fixtures" / "un"
#: One converter's output of each fixture document (the other formats are copies).
FIXTURE_FILES = [
    f"{stem}_{lang}.docx"
    for stem in ("ga_res", "ga_draft", "ga_dec", "sc_res")
    for lang in ("en", "zh")
]


@pytest.fixture(scope="module")
def signatures() -> list[LineageSignature]:
    files = sorted(SEEDS.iterdir()) + [FIXTURES / name for name in FIXTURE_FILES]
    return [document_signature(extract_file(path)) for path in files]


def lineage_of(result, signatures, symbol: str) -> str:  # noqa: ANN001
    return next(
        lid for s, lid in zip(signatures, result.of_signature, strict=True) if s.symbol == symbol
    )


def test_the_seeds_are_one_lineage_keyed_by_the_earliest(signatures) -> None:  # noqa: ANN001
    result = find_lineages(signatures)
    seeds = {
        lineage_of(result, signatures, s) for s in ("A/RES/75/58", "A/RES/76/28", "A/RES/78/43")
    }
    assert seeds == {lineage_id("A/RES/75/58")}
    (lineage,) = [lin for lin in result.lineages if lin.id in seeds]
    assert lineage.key == "A/RES/75/58"
    assert lineage.symbols == ("A/RES/75/58", "A/RES/76/28", "A/RES/78/43")


def test_fixture_documents_form_their_own_lineages(signatures) -> None:  # noqa: ANN001
    """The draft and the resolution share a title; the Security Council resolution has
    none, and joins them by its text (it reuses their preamble); the decision is apart."""
    result = find_lineages(signatures)
    by_key = {lin.key: lin.symbols for lin in result.lineages}
    assert by_key == {
        "A/RES/75/58": ("A/RES/75/58", "A/RES/76/28", "A/RES/78/43"),
        "A/78/L.5": ("A/78/L.5", "A/RES/78/250", "S/RES/2731 (2024)"),
        "A/DEC/78/512": ("A/DEC/78/512",),
    }
    assert result.joins["text"] >= 1 and result.joins["title"] >= 1


def test_text_alone_joins_a_renewal_whose_title_changed(signatures) -> None:  # noqa: ANN001
    renamed = [
        dataclasses.replace(s, title="Other words entirely", title_key="other words entirely")
        if s.symbol == "A/RES/76/28"
        else s
        for s in signatures
    ]
    result = find_lineages(renamed)
    assert lineage_of(result, renamed, "A/RES/76/28") == lineage_id("A/RES/75/58")


def test_result_does_not_depend_on_input_order(signatures) -> None:  # noqa: ANN001
    shuffled = list(signatures)
    random.Random(4).shuffle(shuffled)
    first, second = find_lineages(signatures), find_lineages(shuffled)
    assert first.lineages == second.lineages
    assert first.by_symbol(signatures) == second.by_symbol(shuffled)


def test_ids_stay_when_other_lineages_come_and_go(signatures) -> None:  # noqa: ANN001
    seeds_only = [s for s in signatures if s.symbol.startswith("A/RES/7") and "250" not in s.symbol]
    assert find_lineages(seeds_only).by_symbol(seeds_only) == {
        s.symbol: lineage_id("A/RES/75/58") for s in seeds_only
    }
    everything = find_lineages(signatures).by_symbol(signatures)
    assert all(everything[s.symbol] == lineage_id("A/RES/75/58") for s in seeds_only)


def test_a_later_renewal_keeps_the_key_an_earlier_one_becomes_it(signatures) -> None:  # noqa: ANN001
    seed = next(s for s in signatures if s.symbol == "A/RES/78/43")
    later = dataclasses.replace(seed, symbol="A/RES/80/12", session=80, source_file="80.txt")
    earlier = dataclasses.replace(seed, symbol="A/RES/73/9", session=73, source_file="73.txt")
    assert find_lineages([*signatures, later]).by_symbol([*signatures, later])["A/RES/80/12"] == (
        lineage_id("A/RES/75/58")
    )
    grown = find_lineages([*signatures, earlier])
    assert grown.by_symbol([*signatures, earlier])["A/RES/75/58"] == lineage_id("A/RES/73/9")


def _signature(symbol: str, values: np.ndarray) -> LineageSignature:
    return LineageSignature(
        symbol, "en", f"{symbol}.txt", 1, None, None, None, values.astype("<u4").tobytes()
    )


def test_a_band_collision_alone_never_joins() -> None:
    """Two signatures equal in the first LSH band (so in one bucket) but in 8 of 64
    values are apart; equal in 40 of 64 (estimate 0.625 >= 0.5) they are one lineage."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint64)
    chance = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint64)
    chance[:8] = base[:8]
    near = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint64)
    near[:40] = base[:40]
    sigs = [_signature("A/1", base), _signature("A/2", chance), _signature("A/3", near)]
    result = find_lineages(sigs)
    by_symbol = result.by_symbol(sigs)
    assert by_symbol["A/1"] == by_symbol["A/3"] != by_symbol["A/2"]
    assert result.joins == {"symbol": 0, "title": 0, "text": 1}


def test_titles_fold_session_words_numbers_and_symbols() -> None:
    key = "measures to prevent terrorists from acquiring weapons of mass destruction"
    assert (
        title_key("Measures to prevent terrorists from acquiring weapons of mass destruction", "en")
        == key
    )
    assert title_key("Provisional agenda of the seventy-sixth session", "en") == (
        title_key("Provisional agenda of the eightieth session", "en")
    )
    assert title_key("Programme budget for the biennium 2020–2021", "en") == (
        title_key("Programme budget for the biennium 2022-2023", "en")
    )
    assert title_key("S/RES/2731 (2024)", "en") is None  # a symbol standing in for a title
    assert title_key("Water", "en") is None and title_key(None, "en") is None
    assert title_key("第七十五届会议临时议程", "zh") == title_key("第八十届会议临时议程", "zh")
    assert title_key("水复原力", "zh") == "水复原力"


def test_signature_round_trips_and_short_texts_have_no_minhash() -> None:
    doc = make_document(
        "en",
        make_blocks(("operative", "1"), text="Decides to remain seized of the matter."),
        metadata=Metadata(session=75, title="Water resilience", family="ga_decision"),
    )
    short = document_signature(doc)
    assert short.minhash is None and short.title_key == "water resilience"
    assert LineageSignature.from_dict(short.to_dict()) == short
    seed = document_signature(extract_file(Path(SEEDS / "002_69ed3383ef6f2041.txt")))
    assert seed.minhash is not None and len(seed.minhash) == 4 * NUM_PERM
    assert LineageSignature.from_dict(seed.to_dict()) == seed
