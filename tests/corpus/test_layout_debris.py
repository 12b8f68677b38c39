"""The decide step's second line of defence: rows with page furniture are rejected
with reason ``layout_debris`` and counted in the manifest (issue 12)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import SEEDS, BuiltCorpus

from pipeline.corpus.filters import FilterOptions, reject_reason
from pipeline.corpus.layout_debris import layout_debris
from pipeline.runner import BuildOptions, build_corpus

ZH = "吁请所有会员国支持国际努力。"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("the social and economic 18-16895 (E) 241018 development", "job number"),
        ("General Assembly Distr.: General", "distribution stamp"),
        ("measures *1818142* to", "barcode"),
        ("Please recycle the measures", "recycling note"),
        ("the situation in the 2/5 region of the Sahel", "page number"),
        ("the economic Political declaration A/RES/73/3 on the fight", "running head"),
        ("经济 18-16895 (C) 社会", "job number"),
    ],
)
def test_debris_is_named(text: str, found: str) -> None:
    assert layout_debris(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "Recalling its resolutions 75/58 of 7 December 2020 and 2/5 of 1947,",
        "in its resolution A/RES/75/58 and document (A/RES/74/43),",
        "the declaration contained in A/RES/73/3, annex, and S/RES/2325 (2016),",
        "for 2017/18; the period 2020-2030 and 1 August 2012–31 July 2013,",
        "Treaty Series, vol. 2187, No. 38544.",
        "回顾其 2019 年 12 月 12 日第 74/43 号决议，",
    ],
)
def test_resolution_text_is_not_debris(text: str) -> None:
    assert layout_debris(text) is None


def test_reject_reason_names_the_side() -> None:
    options = FilterOptions()
    reason = reject_reason(
        en="the social and economic 18-16895 (E) development",
        zh=ZH,
        score=0.9,
        len_ratio=1.0,
        options=options,
    )
    assert reason == "layout_debris: job number in en"


def test_build_rejects_and_counts_debris(tmp_path: Path, seed_corpus: BuiltCorpus) -> None:
    """A stamp inside a sentence (no layout the extractor knows) reaches the decide step,
    which rejects the rows and counts them in the manifest."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for seed in SEEDS.iterdir():
        shutil.copy(seed, raw / seed.name)
    en = raw / "002_69ed3383ef6f2041.txt"
    text = en.read_text(encoding="utf-8")
    old = "the determination of the international community"
    assert old in text
    stamped = old.replace("determination of", "determination Distr.: General of")
    en.write_text(text.replace(old, stamped, 1), encoding="utf-8")
    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    result = build_corpus(BuildOptions(raw=raw, out=tmp_path / "out", cache=cache))
    rejects = pd.read_parquet(tmp_path / "out" / "rejects" / "en-zh")
    debris = rejects[rejects["reject_reason"] == "layout_debris: distribution stamp in en"]
    assert len(debris) >= 1
    assert debris["en"].str.contains(r"Distr\.\s*:").all(), debris["en"].tolist()
    kept = pd.read_parquet(tmp_path / "out" / "en-zh")
    assert not kept["en"].str.contains(r"Distr\.\s*:").any()
    decide = next(s for s in result.manifest["stages"] if s["name"] == "decide")
    assert decide["rejected_rows"]["sentence_rejects.layout_debris"] == len(debris)
