"""Each stage's own settings: small frozen configs derived once from ``BuildOptions``.

Why: ``BuildOptions`` is what a user can set (the CLI's flags, 18 fields: inputs, model,
filters, cache, progress, engine, pool and Ray knobs). A stage needs three or four of
them, and a stage that holds the whole bag is pickled with it into every worker and Ray
task, and can start depending on any of it. So the driver derives the configs below
once (:meth:`StageConfigs.from_options`); stages and worker functions take only theirs,
and what each one depends on is written in its signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.corpus.filters import FilterOptions
from pipeline.corpus.splits import SplitRatios
from pipeline.runner.options import DEFAULT_REVIEW_SCORE, BuildOptions

if TYPE_CHECKING:  # the aligner (numpy, BLAS) loads when a build starts, not on --help
    from pipeline.align import AlignParams


@dataclass(frozen=True)
class EncoderConfig:
    """Which sentence encoder, and how to run it (``pipeline.embed.load_encoder``)."""

    model: str
    device: str | None = None
    batch_size: int = 64

    @property
    def name(self) -> str:
        """The name ``load_encoder(model)`` gives its encoder (the ``model`` column)."""
        spec = self.model.strip()
        return "st:" + spec[3:].strip() if spec.startswith("st:") else spec


@dataclass(frozen=True)
class EmbedConfig:
    """The embed stage (local driver or Ray embedding actor)."""

    encoder: EncoderConfig
    #: The embedding cache folder; None: no cache (Ray ``--no-embed-cache``).
    cache_dir: Path | None
    #: The parameters pairs will be aligned with: they say which overlap texts to embed.
    params: AlignParams


@dataclass(frozen=True)
class AlignConfig:
    """The align stage (pool worker or Ray task), and the chunk stage's work-cache check."""

    #: The encoder the pairs were embedded with (its name is the ``model`` column).
    encoder: EncoderConfig
    params: AlignParams
    #: The work cache's folder (finished alignments).
    work_cache: Path


def review_score(filters: FilterOptions) -> float:
    """Report rows scored below this are highlighted: --min-score, else a default."""
    low = filters.min_score
    return low if low is not None else DEFAULT_REVIEW_SCORE


@dataclass(frozen=True)
class WriteConfig:
    """The write stage: what the report header states, and which scores it highlights."""

    model: str
    filters: FilterOptions
    #: Write ``dedup/`` (one row per duplicate group per split) in the finalize pass.
    export_dedup: bool = False

    @property
    def low_score(self) -> float:
        """Report rows scored below this are highlighted (``review_score``)."""
        return review_score(self.filters)


@dataclass(frozen=True)
class StageConfigs:
    """Every stage's config for one build."""

    #: The chunk stage: pairs embedded in one encoder call.
    chunk_pairs: int
    embed: EmbedConfig
    align: AlignConfig
    #: The decide stage: the filters' thresholds.
    decide: FilterOptions
    write: WriteConfig
    #: The pairing barrier: shares of lineages per split.
    splits: SplitRatios

    @classmethod
    def from_options(cls, options: BuildOptions) -> StageConfigs:
        """The configs of a build; "None means default" is resolved here, once."""
        from pipeline.align import AlignParams

        encoder = EncoderConfig(options.model, options.device, options.batch_size)
        params = options.align_params if options.align_params is not None else AlignParams()
        cache = Path(options.cache_dir)
        if options.engine != "ray":
            embed_cache: Path | None = cache / "embed"
        elif options.embed_cache:
            embed_cache = Path(options.embed_cache_dir or cache / "embed")
        else:
            embed_cache = None
        return cls(
            chunk_pairs=max(1, options.chunk_pairs),
            embed=EmbedConfig(encoder, embed_cache, params),
            align=AlignConfig(encoder, params, cache / "work"),
            decide=options.filters,
            write=WriteConfig(options.model, options.filters, options.export_dedup),
            splits=options.split,
        )
