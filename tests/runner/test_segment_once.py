"""Segmentation runs once per document: the segment stage segments, the sentences travel
on with the pair, and the aligner does not segment again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SEEDS

import pipeline.text.segment as segment
from pipeline.records import Document, Sentence
from pipeline.runner import BuildOptions, build_corpus


@pytest.fixture
def segment_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every real segmentation (``segment.split_document``), by (symbol, language)."""
    calls: list[str] = []
    real = segment.split_document

    def counted(doc: Document) -> list[Sentence]:
        calls.append(f"{doc.symbol}/{doc.language}")
        return real(doc)

    monkeypatch.setattr(segment, "split_document", counted)
    return calls


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
