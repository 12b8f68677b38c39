"""The peer comparison's pieces: scores, error classes, counting, and the real Bertalign driver.

The Bertalign wheel comes from ``.cache/peers``, where `make test`'s install step puts it
(the Makefile's STAMP rule), so these tests need no network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.peers import (
    PeerError,
    bertalign_align,
    bertalign_transform,
    fetch_bertalign,
    load_bertalign,
)
from benchmarks.quality import Doc
from benchmarks.scoring import CountingEncoder, aligner_eval_strict, error_classes, set_scores
from benchmarks.speed import concat_docs
from pipeline.embed import load_encoder

GOLD = [([0], [0]), ([1], []), ([2], [1, 2])]
#: the translator's 1-2 returned as 1-1 plus a wrong 0-1
TEST = [([0], [0]), ([1], []), ([2], [1]), ([], [2])]


@pytest.fixture(scope="module")
def encoder():  # noqa: ANN201 - a pipeline Encoder
    return load_encoder("use-m")


@pytest.fixture(scope="module")
def code():  # noqa: ANN201 - BertalignCode
    return load_bertalign(fetch_bertalign().resolve())


def test_aligner_eval_strict_counts_null_beads_on_both_sides() -> None:
    scores = aligner_eval_strict([(TEST, GOLD)])
    assert (scores["hits"], scores["test"], scores["gold"]) == (2, 4, 3)
    assert scores["precision"] == pytest.approx(0.5)
    assert scores["recall"] == pytest.approx(2 / 3)
    # Vecalign's recall leaves the gold's 1-0 out: 1 of its 2 links is found
    assert set_scores([(TEST, GOLD)])["vs_r"] == pytest.approx(0.5)


def test_error_classes_name_the_mistake() -> None:
    assert error_classes(TEST, GOLD) == {
        "wrong_null": 1,
        "wrong_01": 1,
        "wrong_10": 0,
        "over_merge": 0,
        "over_split": 1,
        "gold_null": 1,
    }
    merged = [([0, 1], [0, 1])]
    assert error_classes(merged, [([0], [0]), ([1], [1])])["over_merge"] == 1
    assert error_classes(merged, [([0], [1]), ([1], [0])])["over_merge"] == 1  # crossed gold
    assert error_classes(merged, merged) == dict.fromkeys(
        ("wrong_null", "wrong_01", "wrong_10", "over_merge", "over_split", "gold_null"), 0
    )


def test_counting_encoder_counts_distinct_texts(encoder) -> None:  # noqa: ANN001
    counter = CountingEncoder(encoder)
    vectors = counter.encode(["a cat", "a cat", "雨"])
    counter.encode(["雨", "sun"])
    assert counter.embedded == 3
    assert np.allclose(vectors[0], encoder.encode(["a cat"])[0], atol=1e-5)


def test_concat_docs_shifts_gold() -> None:
    a = Doc("a", ["x", "y"], ["X"], [([0, 1], [0])])
    b = Doc("b", ["z"], ["Z", "W"], [([0], [0, 1])])
    c = Doc("c", ["q"], ["Q"], [([0], [0])])
    joined = concat_docs([a, b, c], min_sentences=6)
    assert joined.name == "a+b"
    assert joined.src == ["x", "y", "z"] and joined.tgt == ["X", "Z", "W"]
    assert joined.gold == [([0, 1], [0]), ([2], [1, 2])]


def test_bertalign_defaults_come_from_its_source(code) -> None:  # noqa: ANN001
    assert code.defaults == {
        "max_align": 5,
        "top_k": 3,
        "win": 5,
        "skip": -0.1,
        "margin": True,
        "len_penalty": True,
    }


def test_transform_pads_like_bertalign(code, encoder) -> None:  # noqa: ANN001
    sents = ["One.", "", "Three."]
    vecs, lens = bertalign_transform(code, sents, 4, encoder)
    assert vecs.shape == (4, 3, encoder.dim) and lens.shape == (4, 3)
    pad, blank = encoder.encode(["PAD", "BLANK_LINE"])
    assert np.allclose(vecs[1, 0], pad, atol=1e-5) and np.allclose(vecs[0, 1], blank, atol=1e-5)
    assert np.allclose(vecs[2, 2], encoder.encode(["One. BLANK_LINE Three."])[0], atol=1e-5)
    assert lens[2, 2] == len("One. BLANK_LINE Three.")
    assert lens[3].tolist() == [3, 3, 3]  # a 4-sentence window does not fit: all "PAD"


def test_bertalign_beads_cover_both_sides_in_order(code, encoder) -> None:  # noqa: ANN001
    en = Path("tests/gold/general/en.txt").read_text(encoding="utf-8").splitlines()[:12]
    zh = Path("tests/gold/general/zh.txt").read_text(encoding="utf-8").splitlines()[:12]
    beads = bertalign_align(en, zh, encoder, code)
    assert [i for s, _ in beads for i in s] == list(range(len(en)))
    assert [j for _, t in beads for j in t] == list(range(len(zh)))
    assert all(0 < len(s) + len(t) <= 5 for s, t in beads)
    assert sum(1 for s, t in beads if len(s) == len(t) == 1) >= 6


def test_corrupt_wheel_is_one_clear_error(tmp_path: Path) -> None:
    wheel = tmp_path / "bertalign-2.0.1-py3-none-any.whl"
    wheel.write_bytes(b"not a zip")
    with pytest.raises(PeerError, match="bertalign-2.0.1-py3-none-any.whl: cannot unpack"):
        fetch_bertalign(tmp_path)


def test_package_without_the_helpers_is_one_clear_error(tmp_path: Path) -> None:
    package = tmp_path / "bertalign"
    package.mkdir()
    (package / "corelib.py").write_text("X = 1\n")
    (package / "utils.py").write_text("def yield_overlaps(lines, n):\n    return iter(())\n")
    with pytest.raises(PeerError, match=r"utils\.py: expected definitions not found"):
        load_bertalign(tmp_path)
