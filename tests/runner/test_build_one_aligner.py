"""The corpus is written by the aligner we measure (issue 17), tested on the product path:
``build`` over resolutions whose numbering a converter dropped on one side, and a gold
set wrapped as resolutions (benchmarks.wrapped) scored against align-text's figure."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import SEEDS

from benchmarks.wrapped import WrappedDoc, build_wrapped
from pipeline.align import align_texts
from pipeline.embed import load_encoder
from pipeline.evaluate import bead_pairs, read_beads, score_alignments, score_documents
from pipeline.runner import BuildOptions, build_corpus

GOLD = Path(__file__).resolve().parents[1] / "gold"
EN, ZH = "002_69ed3383ef6f2041.txt", "003_df19238bedd244e2.txt"


def _gold_ids(side: str) -> list[str]:
    lines = (GOLD / "A-RES-75-58" / f"{side}.txt").read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines if line]


@pytest.mark.parametrize("stripped", [ZH, EN])
def test_a_pair_with_numbers_dropped_on_one_side_is_built_and_aligned(
    tmp_path: Path, stripped: str
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in (EN, ZH):
        text = (SEEDS / name).read_text(encoding="utf-8")
        if name == stripped:
            text = re.sub(r"(?m)^(\s*)\d{1,2}\.\s+(?=\*)", r"\1", text)
        (raw / name).write_text(text, encoding="utf-8")
    result = build_corpus(
        BuildOptions(raw=raw, out=tmp_path / "out", cache=tmp_path / "cache", show_progress=False)
    )
    documents = result.manifest["documents"]
    assert [p["symbol"] for p in documents["paired"]] == ["A/RES/75/58"]
    assert documents["rejected"] == [] and documents["failed_pairs"] == []
    numbered = {d["source_file"]: d["numbered"] for d in documents["parsed"]}
    assert numbered == {EN: stripped != EN, ZH: stripped != ZH}
    rows = pd.read_parquet(tmp_path / "out" / "en-zh")
    en_at = {sid: k for k, sid in enumerate(_gold_ids("en"))}
    zh_at = {sid: k for k, sid in enumerate(_gold_ids("zh"))}
    beads = [
        ([en_at[s] for s in row.en_sent_ids], [zh_at[s] for s in row.zh_sent_ids])
        for row in rows.itertuples()
    ]
    scores = score_alignments(beads, read_beads(GOLD / "A-RES-75-58" / "gold.txt"))
    assert scores["f1_strict"] >= 0.95, scores  # measured 1.000 both ways


def test_gold_wrapped_as_resolutions_scores_through_build_as_through_align_text(
    tmp_path: Path,
) -> None:
    """tests/gold/general (en -> zh) as a resolution pair through build: within 0.01 of
    align-text on the gold's own lines (what make bench measures on MAC-Dev)."""
    lines = {
        side: (GOLD / "general" / f"{side}.txt").read_text(encoding="utf-8").splitlines()
        for side in ("en", "zh")
    }
    gold = read_beads(GOLD / "general" / "gold.txt")
    doc = WrappedDoc("general", lines["en"], lines["zh"], gold, src_lang="en", number=1)
    run = build_wrapped([doc], cache=tmp_path / "cache")
    through_build = score_documents([(run.beads["general"], gold)])["f1_strict"]
    plain = bead_pairs(align_texts(lines["en"], lines["zh"], load_encoder("use-m")).beads)
    through_align_text = score_documents([(plain, gold)])["f1_strict"]
    assert through_build >= through_align_text - 0.01, (through_build, through_align_text)
    shutil.rmtree(tmp_path / "cache", ignore_errors=True)
