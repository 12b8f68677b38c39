"""What a build depends on (BuildOptions) and what it learns and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.corpus.documents import DocumentAssignment
from pipeline.corpus.filters import FilterOptions
from pipeline.corpus.splits import Placement, SplitRatios
from pipeline.pair.duplicates import Conflict
from pipeline.readers.listing import Skipped
from pipeline.records import Document, FailedPair, Rejected

#: Pairs whose texts go to the encoder in one call (the embedding batch of
#: ``pipeline.runner.stages.embed``).
DEFAULT_CHUNK_PAIRS = 16

#: Report rows with a score below this are highlighted when no --min-score is given.
#: Aligner scores are calibrated so a typical correct 1-1 bead scores about 1.0.
DEFAULT_REVIEW_SCORE = 0.5


@dataclass
class BuildOptions:
    """Everything a build depends on. ``cache`` defaults to ``.cache/`` beside ``out``."""

    #: A folder, or (Ray engine) any pyarrow/fsspec URI (``s3://``, ``gs://``, ``file://``).
    raw: Path | str
    out: Path | str
    model: str = "use-m"
    filters: FilterOptions = field(default_factory=FilterOptions)
    cache: Path | None = None
    #: ``pipeline.align.AlignParams``; None uses the aligner's defaults.
    align_params: Any | None = None
    #: None: bars on a terminal, log lines otherwise.
    show_progress: bool | None = None
    #: "local" (process pool on this machine) or "ray" (Ray, local or a cluster).
    engine: str = "local"
    #: Worker processes of the local engine; None = every core, 1 = all in this process.
    workers: int | None = None
    #: Pairs whose texts are embedded in one encoder call (see ``pipeline.runner.stages.embed``).
    chunk_pairs: int = DEFAULT_CHUNK_PAIRS
    #: Ray: cluster address (None: start Ray on this machine, or join the running one).
    ray_address: str | None = None
    #: Ray: embedding actors, and GPUs per actor (0: CPU).
    embed_actors: int = 1
    num_gpus: float = 0.0
    #: Ray: CPUs each embedding actor reserves (its model's threads).
    embed_cpus: float = 1.0
    #: Ray: keep an embedding cache (``cache_dir/embed``, SQLite: one file per node, on
    #: node-local disk). Off: vectors only travel in the dataset.
    embed_cache: bool = True
    #: Ray: the embedding cache's folder (default ``cache_dir/embed``); node-local disk.
    embed_cache_dir: Path | None = None
    #: Device for st: models ("cpu", "cuda"); None lets the encoder choose.
    device: str | None = None
    #: Texts per forward pass of st: models (a GPU wants 128-512; the bundled models
    #: batch internally and ignore it).
    batch_size: int = 64
    #: Write a corpus even when no pair could be written (else the build refuses, and the
    #: corpus already in ``out`` stays: ``pipeline.runner.output.refuse_empty``).
    allow_empty: bool = False
    #: Read symbolic links in ``raw`` that lead out of it (else they are skipped, named).
    follow_symlinks: bool = False
    #: Shares of lineages for train/validation/test (``--split 98/1/1``).
    split: SplitRatios = field(default_factory=SplitRatios)
    #: Also write ``dedup/``: per split, one row per duplicate group as TMX and Moses.
    export_dedup: bool = False
    #: Build even when the corpus in ``out`` is up to date (``pipeline.runner.uptodate``);
    #: the caches still serve what they hold.
    force: bool = False

    @property
    def cache_dir(self) -> Path:
        if self.cache is not None:
            return Path(self.cache)
        from pipeline.runner.storage import location

        out = location(self.out).local
        # A remote --out has no local "beside": the cache is then this machine's.
        return out.parent / ".cache" if out is not None else Path(".cache").resolve()


@dataclass
class BuildContext:
    """What stages learn along the way that is not an item: the manifest's lists."""

    raw: Path
    files: list[Path] = field(default_factory=list)
    #: Entries of the raw folder not read, each with its reason.
    skipped: list[Skipped] = field(default_factory=list)
    #: symbol, language, file, whether its operative paragraphs are numbered
    documents: list[tuple[str, str, str, bool | None]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    unpaired: list[Document] = field(default_factory=list)
    pairs: list[tuple[str, str, str]] = field(default_factory=list)  # symbol, en file, zh file
    #: Copies of one symbol and language with different texts (none paired).
    conflicts: list[Conflict] = field(default_factory=list)
    failed: list[FailedPair] = field(default_factory=list)
    models: set[str] = field(default_factory=set)
    #: Lineages, splits and document rows: decided at the pairing barrier.
    assignment: DocumentAssignment | None = None
    #: Symbol -> Placement (lineage, split), filled at the pairing barrier: the decide
    #: stage holds this mapping from the start and reads it once pairs arrive.
    placements: dict[str, Placement] = field(default_factory=dict)


@dataclass
class BuildResult:
    out: Path
    manifest: dict[str, Any]
    stats: dict[str, Any]
    #: Nothing was built: the corpus in ``out`` was up to date (``stats`` are its build's).
    up_to_date: bool = False

    def summary_table(self) -> str:
        """The table printed at the end of a build."""
        m = self.manifest
        s = self.stats
        docs = m["documents"]
        if self.up_to_date:
            head = (
                f"{self.out} is up to date: nothing changed since it was built "
                "(--force builds it again)"
            )
        else:
            head = f"corpus written to {self.out}"
        lines = [
            head,
            f"  documents read      {docs['read']:>8}",
            f"  rejected files      {len(docs['rejected']):>8}",
            f"  skipped entries     {len(docs['skipped']):>8}",
            f"  unpaired documents  {len(docs['unpaired']):>8}",
            f"  document pairs      {docs['paired_symbols']:>8}",
            f"  failed pairs        {len(docs['failed_pairs']):>8}",
            f"  sentence beads      {m['files']['sentences']['rows']:>8}",
            f"  paragraph beads     {m['files']['paragraphs']['rows']:>8}",
            f"  rejected beads      {m['files']['sentence_rejects']['rows']:>8}",
        ]
        for bead_type, count in m["beads_by_type"].items():
            lines.append(f"    {bead_type:<6}            {count:>8}")
        mean = m["mean_score"]
        lines.append(f"  mean score          {mean:>8.3f}" if mean is not None else "")
        if not self.up_to_date:
            lines.append(f"  pairs aligned/cached {s['aligned_pairs']:>7} / {s['cached_pairs']}")
        lines.append(f"  lineages            {m['lineages']['count']:>8}")
        for split, c in m["splits"]["counts"].items():
            seen = f", {c['sentences_seen_in_train']} seen in train" if split != "train" else ""
            lines.append(
                f"    {split:<10}        {c['sentences']:>8} sentence rows, "
                f"{c['lineages']} lineages{seen}"
            )
        if self.up_to_date:
            return "\n".join(line for line in lines if line)
        lines.append(
            f"  texts requested     {s['texts_requested']:>8}"
            f"  (from the cache {s['texts_from_cache']}, embedded {s['texts_embedded']})"
        )
        lines.append("  time per stage (s)")
        for stage in s["stages"]:
            lines.append(f"    {stage['name']:<8}          {stage['seconds']:>8.2f}")
        lines.append(f"  total               {s['seconds']:>8.2f}")
        return "\n".join(line for line in lines if line)
