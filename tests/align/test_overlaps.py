"""Which overlaps are embedded (pipeline.align.overlaps), and that the build's embedding plan
asks for exactly what align_pair embeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.align import AlignParams, align_texts, overlap_texts
from pipeline.align.document import align_pair
from pipeline.align.overlaps import (
    bead_spans,
    closed_boundaries,
    embed_runs,
    grouped_runs,
    groups_met,
    open_runs,
    wanted_texts,
    weighted_overlaps,
)
from pipeline.align.params import normalize_rows
from pipeline.embed import load_encoder
from pipeline.extract import extract_file
from pipeline.records import Bead, DocumentPair
from pipeline.runner.stages.embed import plan_chunk

RAW = Path(__file__).resolve().parents[2] / "data" / "raw"


def test_runs_cross_no_closed_boundary() -> None:
    src_closed, tgt_closed = closed_boundaries([(0, 0), (1, 1), (3, 4)], 5, 5)
    assert src_closed.tolist() == [True, False, False, False]  # only 0|1 are both linked
    assert tgt_closed.tolist() == [True, False, False, False]
    starts = open_runs(src_closed, 5, 3)
    assert starts[0].tolist() == [0, 1, 2, 3, 4]  # single sentences are always there
    assert starts[1].tolist() == [1, 2, 3]  # 0+1 crosses the closed boundary
    assert starts[2].tolist() == [1, 2]
    texts = ["a", "b", "c", "d", "e"]
    assert wanted_texts(texts, starts) == ["b c", "c d", "d e", "b c d", "c d e"]
    none_closed = open_runs(np.zeros(4, dtype=bool), 5, 4)
    assert [len(level) for level in none_closed] == [5, 4, 3, 2]


def test_embedded_runs_replace_the_sums_of_open_runs_only() -> None:
    rng = np.random.default_rng(1)
    singles = normalize_rows(rng.normal(size=(3, 8)))
    texts = ["x", "y", "z"]
    embedded = {"y z": normalize_rows(rng.normal(size=(1, 8)))[0]}
    starts = open_runs(np.array([True, False]), 3, 2)  # only "y z" is open

    def embed(batch: list[str]) -> np.ndarray:
        return np.stack([embedded[t] for t in batch])

    out = embed_runs(weighted_overlaps(singles, np.ones(3), 2), texts, starts, embed)
    assert np.allclose(out[0], singles)
    assert np.allclose(out[1, 1], embedded["y z"])
    assert np.allclose(out[1, 0], normalize_rows(singles[0] + singles[1]))  # summed
    assert not out[1, 2].any()  # runs past the end stay zero


def test_weighted_overlaps_weigh_each_sentence_by_its_length() -> None:
    """A run's stand-in vector leans towards its longer sentence, as the encoder's pooling
    over tokens does; single rows stay the sentence vectors."""
    singles = np.eye(3, 4, dtype=np.float32)
    out = weighted_overlaps(singles, np.array([30.0, 10.0, 10.0]), 2)
    assert np.allclose(out[0], singles)
    assert np.allclose(out[1, 0], normalize_rows(np.array([[3.0, 1.0, 0.0, 0.0]]))[0])
    assert np.allclose(out[1, 1], normalize_rows(np.array([[0.0, 1.0, 1.0, 0.0]]))[0])
    assert not out[1, 2].any()  # past the end


def test_bead_spans_place_empty_sides_where_they_sit() -> None:
    beads = [Bead([0], [0]), Bead([1], []), Bead([], [1]), Bead([2, 3], [2, 3, 4])]
    assert bead_spans(beads).tolist() == [[0, 1, 0, 1], [1, 2, 1, 1], [2, 2, 1, 2], [2, 4, 2, 5]]


def test_groups_met_counts_first_pass_beads_with_sentences_on_the_side() -> None:
    # side of 6 sentences: beads 0 | 1 2 | (skip of the other side) | 3 | 4 5
    lo, hi = np.array([0, 1, 3, 3, 4]), np.array([1, 3, 3, 4, 6])
    assert groups_met(lo, hi, 6, 3).tolist() == [2, 2, 3, 2]
    assert groups_met(lo, hi, 6, 2).tolist() == [2, 1, 2, 2, 1]
    assert groups_met(lo, hi, 6, 4).tolist() == [3, 3, 3]
    # a sentence the first pass left unaligned (a 1-0) belongs to its own bead
    assert groups_met(np.array([0, 1, 2]), np.array([1, 2, 4]), 4, 3).tolist() == [3, 2]
    assert groups_met(lo, hi, 2, 3).tolist() == []


def test_grouped_runs_drop_long_runs_across_more_than_two_beads() -> None:
    """Runs of 2 stay open; runs of 3-4 only where they meet at most two first-pass
    beads; closed boundaries still close."""
    # first pass on this side: 1 | 1 | 1 | 3 (sentences 3..5) | 1
    lo, hi = np.array([0, 1, 2, 3, 6]), np.array([1, 2, 3, 6, 7])
    none_closed = np.zeros(6, dtype=bool)
    starts = grouped_runs(none_closed, lo, hi, 7, 4, groups=2)
    assert starts[0].tolist() == list(range(7))
    assert starts[1].tolist() == list(range(6))
    assert starts[2].tolist() == [2, 3, 4]  # 0..2 and 1..3 meet three beads
    assert starts[3].tolist() == [2, 3]  # 0..3 and 1..4 meet three or four
    assert [a.tolist() for a in grouped_runs(none_closed, lo, hi, 7, 4, groups=4)] == [
        a.tolist() for a in open_runs(none_closed, 7, 4)
    ]
    closed = none_closed.copy()
    closed[3] = True  # between sentences 3 and 4
    starts = grouped_runs(closed, lo, hi, 7, 4, groups=2)
    assert starts[2].tolist() == [4] and starts[3].tolist() == []


def test_fewer_overlaps_embedded_same_beads(encoder) -> None:
    """On a text with translator splits, the long-run rule embeds fewer texts than every
    open run and finds the same beads (use-m)."""
    from test_align_texts import SPLIT_EN, SPLIT_ZH  # tests/ is on sys.path (rootdir)

    lean = align_texts(SPLIT_ZH, SPLIT_EN, encoder)
    every_open = align_texts(SPLIT_ZH, SPLIT_EN, encoder, AlignParams(overlap_groups=None))
    assert [(b.src, b.tgt) for b in lean.beads] == [(b.src, b.tgt) for b in every_open.beads]
    assert lean.timings["texts_embedded"] < every_open.timings["texts_embedded"]
    with pytest.raises(ValueError, match="overlap_groups"):
        AlignParams(overlap_groups=0)


@pytest.fixture(scope="module")
def encoder():
    return load_encoder("use-m")


@pytest.fixture(scope="module")
def pair_7558() -> DocumentPair:
    en = extract_file(RAW / "002_69ed3383ef6f2041.txt")
    zh = extract_file(RAW / "003_df19238bedd244e2.txt")
    return DocumentPair(en.symbol, en, zh)


class _Recording:
    """The real encoder, recording every text it is asked for."""

    def __init__(self) -> None:
        self.inner = load_encoder("use-m")
        self.name, self.dim = self.inner.name, self.inner.dim
        self.asked: set[str] = set()

    def encode(self, texts: list[str]) -> np.ndarray:
        self.asked.update(texts)
        return self.inner.encode(texts)


def test_the_build_plan_embeds_exactly_what_align_pair_embeds(pair_7558) -> None:
    """The build embeds a chunk in two calls (sentences, then the plan's overlaps): for a
    one-pair chunk that is exactly what align_pair embeds, and far less than every run of
    1-4 sentences."""
    params = AlignParams()
    recording = _Recording()
    result = align_pair(pair_7558, recording, params)
    planner = _Recording()
    [planned], counts = plan_chunk([pair_7558], [True], planner, params)
    assert planner.asked == recording.asked == set(planned.texts or [])
    assert counts.requested == len(planner.asked)
    every_run = {
        text
        for doc in (pair_7558.en, pair_7558.zh)
        for level in overlap_texts([s.text for s in _sentences(doc)], params.max_overlap)
        for text in level
    }
    n_sentences = len(result.en_sentences) + len(result.zh_sentences)
    assert len(every_run) / n_sentences > 3.5
    assert len(planner.asked) < 0.5 * len(every_run)
    assert result.timings["encoder_calls"] <= 2


def _sentences(doc):
    from pipeline.text.segment import segment_document

    return segment_document(doc)
