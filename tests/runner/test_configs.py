"""Each stage gets only its own settings, derived once from BuildOptions."""

from __future__ import annotations

import pickle
from pathlib import Path

from pipeline.align import AlignParams
from pipeline.corpus.filters import FilterOptions
from pipeline.runner import BuildOptions
from pipeline.runner.configs import StageConfigs
from pipeline.runner.spool import DocumentSpool
from pipeline.runner.stages.align import AlignStage
from pipeline.runner.stages.embed import EmbedStage
from pipeline.runner.stages.segment import SegmentStage
from pipeline.runner.storage import Location


def test_configs_resolve_defaults_once(tmp_path: Path) -> None:
    options = BuildOptions(
        raw=tmp_path,
        out=tmp_path / "out",
        cache=tmp_path / "cache",
        model="e5-small",
        filters=FilterOptions(min_score=0.3),
        chunk_pairs=0,
        batch_size=7,
    )
    configs = StageConfigs.from_options(options)
    assert configs.align.params == AlignParams()  # None: the aligner's defaults
    assert configs.embed.params is configs.align.params
    assert configs.align.work_cache == tmp_path / "cache" / "work"
    assert configs.embed.cache_dir == tmp_path / "cache" / "embed"
    assert configs.embed.encoder.model == "e5-small" and configs.embed.encoder.batch_size == 7
    assert configs.chunk_pairs == 1
    assert configs.decide == FilterOptions(min_score=0.3)
    assert configs.write.low_score == 0.3
    # The local engine always keeps the embedding cache (--no-embed-cache is Ray's).
    options.embed_cache = False
    assert StageConfigs.from_options(options).embed.cache_dir == tmp_path / "cache" / "embed"


def test_a_pooled_stage_carries_no_build_options(tmp_path: Path) -> None:
    """What the pool pickles into every worker is the stage's own config, not the bag
    (which would carry Ray addresses, raw/out folders, progress settings ...)."""
    options = BuildOptions(
        raw=tmp_path / "raw-folder-name", out=tmp_path / "out", ray_address="ray://head:10001"
    )
    configs = StageConfigs.from_options(options)
    aligner = AlignStage(configs.align)
    spool = DocumentSpool(Location(str(tmp_path / "spool")))
    for stage in (aligner, EmbedStage(configs.embed), SegmentStage(spool, aligner.cache)):
        blob = pickle.dumps(stage)
        assert b"BuildOptions" not in blob
        assert b"raw-folder-name" not in blob and b"ray://head" not in blob
