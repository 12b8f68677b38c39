"""Segmentation runs once per document: the segment stage segments, the sentences travel
on with the pair, and the aligner does not segment again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SEEDS
from factories import make_blocks, make_document

import pipeline.text.segment as segment
from pipeline.records import Block, Document, Sentence
from pipeline.runner import BuildOptions, build_corpus


@pytest.fixture
def segment_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every real segmentation (``segment._segment``, what ``segment_document`` runs
    when no memo answers), by (symbol, language)."""
    calls: list[str] = []
    real = segment._segment

    def counted(doc: Document) -> list[Sentence]:
        calls.append(f"{doc.symbol}/{doc.language}")
        return real(doc)

    monkeypatch.setattr(segment, "_segment", counted)
    return calls


def test_memo_segments_each_document_once_inside_the_block(segment_calls: list[str]) -> None:
    doc = make_document("en", make_blocks(("preamble", None), ("operative", "1"), text="A. B."))
    with segment.remembered_segments():
        first = segment.segment_document(doc)
        second = segment.segment_document(doc)
        changed = make_document("en", [*doc.blocks[:1], Block("operative", "C.", number="1")])
        third = segment.segment_document(changed)  # other content: segmented anew
    assert first == second and first is not second  # a list of one's own, same sentences
    assert [s.text for s in third][-1] == "C."
    assert len(segment_calls) == 2
    segment.segment_document(doc)  # outside the block: no memo
    assert len(segment_calls) == 3


def test_a_build_segments_each_paired_document_once(
    segment_calls: list[str], tmp_path: Path
) -> None:
    """In-process (workers=1), so every segmentation of the build is counted: the seeds
    hold one pair (A/RES/75/58); its two documents are segmented once each (was three
    times each: the embed stage's single texts, its overlap texts, and align_pair)."""
    raw = tmp_path / "raw"
    shutil.copytree(SEEDS, raw)
    result = build_corpus(
        BuildOptions(raw=raw, out=tmp_path / "out", cache=tmp_path / "cache", workers=1)
    )
    assert result.manifest["documents"]["paired_symbols"] == 1
    assert sorted(segment_calls) == ["A/RES/75/58/en", "A/RES/75/58/zh"]
