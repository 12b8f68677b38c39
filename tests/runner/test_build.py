"""The seed build end to end: manifest, card, stats, CLI output, TMX and Moses.

The corpus is built once per session by the ``seed_corpus`` fixture (tests/conftest.py):
the real CLI, the real extractor, aligner and bundled use-m encoder on the four seeds,
plus two files that must be rejected.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import BuiltCorpus
from lxml import etree

from pipeline import __version__
from pipeline.corpus.write import file_sha256

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EN_7558 = "002_69ed3383ef6f2041.txt"
ZH_7558 = "003_df19238bedd244e2.txt"


def manifest(corpus: BuiltCorpus) -> dict[str, Any]:
    return json.loads((corpus.out / "manifest.json").read_text(encoding="utf-8"))


def test_manifest_lists_paired_unpaired_and_rejected(seed_corpus: BuiltCorpus) -> None:
    docs = manifest(seed_corpus)["documents"]
    assert docs["files"] == 6
    assert docs["read"] == 4
    assert docs["paired"] == [{"symbol": "A/RES/75/58", "source_en": EN_7558, "source_zh": ZH_7558}]
    unpaired = {(d["symbol"], d["language"]): d for d in docs["unpaired"]}
    assert set(unpaired) == {("A/RES/76/28", "en"), ("A/RES/78/43", "en")}
    assert "no zh document" in unpaired[("A/RES/76/28", "en")]["reason"]
    rejected = {r["source_file"]: r["reason"] for r in docs["rejected"]}
    assert set(rejected) == {"empty.txt", "no-symbol.txt"}
    assert "empty" in rejected["empty.txt"]
    assert "symbol" in rejected["no-symbol.txt"]
    assert docs["failed_pairs"] == []


def test_manifest_records_settings_counts_and_files(seed_corpus: BuiltCorpus) -> None:
    m = manifest(seed_corpus)
    assert m["tool"] == "un-parallel-pipeline"
    assert m["version"] == __version__
    assert m["model"] == {"spec": "use-m", "name": "use-m", "batch_size": 64}
    assert m["filters"] == {"min_score": None, "max_len_ratio": None, "lang_check": True}
    assert m["align_params"]["max_overlap"] >= 1
    stages = {s["name"]: s for s in m["stages"]}
    assert list(stages) == ["read", "pair", "chunk", "segment", "embed", "align", "decide", "write"]
    assert stages["read"]["items_in"] == 6 and stages["read"]["items_out"] == 4
    assert stages["read"]["dropped"] == {"rejected": 2}
    assert stages["pair"]["items_out"] == 1 and stages["pair"]["dropped"] == {"unpaired": 2}
    assert stages["write"]["items_in"] == stages["write"]["items_out"] == 1  # docs written
    for name, entry in m["files"].items():
        for item in entry["files"]:
            path = seed_corpus.out / item["path"]
            assert path.is_file(), name
            assert item["sha256"] == file_sha256(path)
    sentences = pd.read_parquet(seed_corpus.out / "en-zh")
    assert m["files"]["sentences"]["rows"] == len(sentences)
    shards = {f["path"]: f["rows"] for f in m["files"]["sentences"]["files"]}
    assert shards == {  # one file per split, named by it; the seeds' lineage is in train
        "en-zh/test-00000.parquet": 0,
        "en-zh/train-00000.parquet": len(sentences),
        "en-zh/validation-00000.parquet": 0,
    }
    assert sum(m["beads_by_type"].values()) == len(sentences)
    assert m["beads_by_type"] == sentences["align_type"].value_counts().to_dict()
    both = sentences[(sentences.en != "") & (sentences.zh != "")]
    assert abs(m["mean_score"] - both["score"].mean()) < 1e-6


def test_dataset_card_points_at_both_granularities(seed_corpus: BuiltCorpus) -> None:
    card = (seed_corpus.out / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["language"] == ["en", "zh"]
    assert front["task_categories"] == ["translation"]
    assert front["size_categories"] == ["n<1K"]
    paths = {
        c["config_name"]: {f["split"]: f["path"] for f in c["data_files"]} for c in front["configs"]
    }
    # the seeds' one lineage is in train: the empty splits are not declared (datasets
    # cannot load an empty split; tests/runner/test_build_splits.py)
    assert paths == {
        "sentences": {"train": "en-zh/train-*.parquet"},
        "paragraphs": {"train": "en-zh-paragraphs/train-*.parquet"},
    }


def test_cli_prints_summary_and_logs_stages(seed_corpus: BuiltCorpus) -> None:
    out = seed_corpus.stdout
    for needle in ("documents read", "document pairs", "sentence beads", "mean score", "1-1"):
        assert needle in out
    rows = len(pd.read_parquet(seed_corpus.out / "en-zh"))
    assert re.search(r"lineages +1\n", out)
    assert re.search(rf"train +{rows} sentence rows, 1 lineages\n", out)
    assert re.search(r"test +0 sentence rows, 0 lineages, 0 seen in train", out)
    assert "time per stage" in out and "align" in out
    log = seed_corpus.stderr
    # not a terminal: plain log lines, no progress bars
    for stage in ("read", "pair", "align", "decide", "write"):
        assert f"[build] stage {stage}: started" in log
    assert "rejected empty.txt" in log
    assert "[build] stage write: done, in=1 out=1" in log
    assert "\r" not in log


def test_stats_json_counts_work(seed_corpus: BuiltCorpus) -> None:
    stats = json.loads((seed_corpus.out / "stats.json").read_text(encoding="utf-8"))
    assert stats["aligned_pairs"] == 1 and stats["cached_pairs"] == 0
    assert stats["texts_requested"] > 0
    assert stats["texts_embedded"] > 0  # cold cache: the model really ran
    align = next(s for s in stats["stages"] if s["name"] == "align")
    embed = next(s for s in stats["stages"] if s["name"] == "embed")
    assert align["seconds"] > 0 and "load_encoder" in embed["timings"]
    # CPU seconds beside wall seconds: a stage's own cost, waits for a core left out
    for stage in stats["stages"]:
        assert 0 <= stage["cpu_seconds"] <= stage["seconds"] + 0.05, stage["name"]
    assert align["cpu_seconds"] > 0.01
    write = next(s for s in stats["stages"] if s["name"] == "write")
    sentences = pd.read_parquet(seed_corpus.out / "en-zh")
    assert write["counters"]["sentence_rows"] == len(sentences)


def test_tmx_is_valid_and_matches_the_dataset(seed_corpus: BuiltCorpus) -> None:
    root = etree.parse(str(seed_corpus.out / "en-zh.tmx")).getroot()
    assert root.get("version") == "1.4"
    header = root.find("header")
    assert header is not None
    for attribute in (
        "creationtool",
        "creationtoolversion",
        "segtype",
        "o-tmf",
        "adminlang",
        "srclang",
        "datatype",
    ):
        assert header.get(attribute), attribute
    assert header.get("srclang") == "en" and header.get("segtype") == "sentence"
    rows = pd.read_parquet(seed_corpus.out / "en-zh")
    pairs = rows[(rows.en != "") & (rows.zh != "")]
    units = root.findall("body/tu")
    assert len(units) == len(pairs) > 30
    by_id = pairs.set_index("id")
    for tu in units:
        props = {p.get("type"): p.text for p in tu.findall("prop")}
        row = by_id.loc[props["x-id"]]
        assert props["x-symbol"] == "A/RES/75/58"
        assert abs(float(props["x-score"]) - row["score"]) < 1e-4
        segs = {tuv.get(XML_LANG): tuv.findtext("seg") for tuv in tu.findall("tuv")}
        assert segs == {"en": row["en"], "zh": row["zh"]}


def test_moses_files_are_line_aligned_with_the_tmx(seed_corpus: BuiltCorpus) -> None:
    en = (seed_corpus.out / "en-zh.en").read_text(encoding="utf-8").split("\n")
    zh = (seed_corpus.out / "en-zh.zh").read_text(encoding="utf-8").split("\n")
    assert en[-1] == "" and zh[-1] == ""  # newline-terminated
    en, zh = en[:-1], zh[:-1]
    rows = pd.read_parquet(seed_corpus.out / "en-zh")
    pairs = rows[(rows.en != "") & (rows.zh != "")]
    assert len(en) == len(zh) == len(pairs)
    assert en == pairs["en"].tolist() and zh == pairs["zh"].tolist()
    assert all(line.strip() for line in en + zh)


def test_bad_output_folder_is_refused(tmp_path: Path, seed_corpus: BuiltCorpus) -> None:
    import subprocess
    import sys

    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "build", "--raw", str(seed_corpus.raw)]
        + ["--out", str(precious), "--cache", str(seed_corpus.cache)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "refusing to replace" in done.stderr and str(precious) in done.stderr
    assert (precious / "thesis.tex").read_text(encoding="utf-8") == "do not delete"
    missing = subprocess.run(
        [sys.executable, "-m", "pipeline", "build", "--raw", str(tmp_path / "nope")]
        + ["--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert missing.returncode == 2  # a bad option value: a usage error, as in `extract`
    assert f"raw folder '{tmp_path / 'nope'}' does not exist" in missing.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "option, reason",
    [
        (["--min-score", "nan"], "min_score must be a finite number"),
        (["--min-score", "inf"], "min_score must be a finite number"),
        (["--split", "98/2"], "expected TRAIN/VALIDATION/TEST"),
        (["--split", "0/0/0"], "not all zero"),
    ],
)
def test_bad_filter_option_is_one_clean_error(
    tmp_path: Path, option: list[str], reason: str
) -> None:
    """A NaN threshold would silently keep everything; the CLI says so in one line."""
    from click.testing import CliRunner

    from pipeline.cli import main

    out = tmp_path / "o"
    result = CliRunner().invoke(main, ["build", "--raw", "data/raw", "--out", str(out), *option])
    assert result.exit_code == 2, result.output
    assert reason in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a traceback
    assert not out.exists()
