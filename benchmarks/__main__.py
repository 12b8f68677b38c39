"""``python -m benchmarks``: the `make bench` entry point (a thin click layer)."""

from __future__ import annotations

from pathlib import Path

import click

from benchmarks.bench import BenchOptions, run_bench
from benchmarks.peer_bench import DEFAULT_MAC_DIR, PeerOptions

_ENGINES = ("local", "ray")
_ENCODERS = ("use-m", "e5-small", "st")


class EncoderList(click.ParamType):
    """Comma-separated encoder names out of use-m, e5-small, st; at least one."""

    name = "encoder,..."

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        if isinstance(value, list):
            return value
        names = [s.strip() for s in str(value).split(",") if s.strip()]
        bad = [n for n in names if n not in _ENCODERS]
        if bad or not names:
            self.fail(f"{value!r}: expected names out of {', '.join(_ENCODERS)}", param, ctx)
        return list(dict.fromkeys(names))


class MacDir(click.ParamType):
    """A MAC-Dev folder (zh/, en/, gold/ with the same file names), or '' to skip it."""

    name = "folder"

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        from benchmarks.quality import mac_chapters

        if value is None or isinstance(value, Path):
            return value
        if not str(value).strip():
            return None
        path = Path(value)
        try:
            mac_chapters(path)
        except (OSError, ValueError) as err:
            self.fail(f"{err} (pass --mac-dir '' to skip MAC-Dev)", param, ctx)
        return path


def _optional_path(value: str) -> Path | None:
    return Path(value) if value.strip() else None


class _NumberList(click.ParamType):
    """Comma-separated numbers of one kind (``parse``), each above zero, or '' for the
    empty list (skips a section)."""

    kind = "numbers"

    @staticmethod
    def parse(text: str) -> float:  # pragma: no cover - each list says its own
        raise NotImplementedError

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        if isinstance(value, list):
            return value
        try:
            numbers = [self.parse(s) for s in str(value).split(",") if s.strip()]
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of {self.kind}", param, ctx)
        if any(n <= 0 for n in numbers):
            self.fail(f"{value!r}: every number must be positive", param, ctx)
        return numbers


class IntList(_NumberList):
    """Comma-separated positive integers; '' is the empty list (skips a section)."""

    name = "n,n,..."
    kind = "integers"
    parse = staticmethod(int)


class FloatList(_NumberList):
    """Comma-separated positive numbers; '' is the empty list (skips a section)."""

    name = "x,x,..."
    parse = staticmethod(float)


class RunList(click.ParamType):
    """Comma-separated ``engine:workers`` items, e.g. ``local:2,ray:2``."""

    name = "engine:workers,..."

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        if isinstance(value, list):
            return value
        runs: list[tuple[str, int]] = []
        for item in (s.strip() for s in str(value).split(",")):
            if not item:
                continue
            engine, sep, workers = item.partition(":")
            if not sep or engine not in _ENGINES or not workers.isdigit() or int(workers) < 1:
                self.fail(
                    f"{item!r} is not engine:workers (engine one of {', '.join(_ENGINES)}, "
                    "workers a positive integer)",
                    param,
                    ctx,
                )
            runs.append((engine, int(workers)))
        return runs


@click.command("bench")
@click.option(
    "--sizes",
    type=IntList(),
    default="1000,10000,50000",
    show_default=True,
    help="Synthetic pair sizes (sentences per side) for the aligner; '' skips them.",
)
@click.option(
    "--encode-sentences",
    default=400,
    show_default=True,
    type=click.IntRange(min=1),
    help="Sentences each encoder embeds for its speed figure.",
)
@click.option(
    "--encoders",
    default="use-m,e5-small,st",
    show_default=True,
    help="Encoders to time: use-m, e5-small, st (the bundled all-MiniLM model); '' for none.",
)
@click.option(
    "--fraction-sentences",
    default=1000,
    show_default=True,
    type=click.IntRange(min=0),
    help="Size of the real long document for aligner/encoding time (0 skips it).",
)
@click.option("--no-quality", is_flag=True, help="Skip F1 of ours vs the baselines.")
@click.option("--no-stress", is_flag=True, help="Quality on the gold sets only.")
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0, min_open=True),
    default=300.0,
    show_default=True,
    help="Seconds allowed to each synthetic-size subprocess.",
)
@click.option(
    "--e2e-sizes",
    type=IntList(),
    default="200,2000",
    show_default=True,
    help="End-to-end archive sizes in document pairs ('' skips the section).",
)
@click.option(
    "--e2e-runs",
    type=RunList(),
    default="local:1,local:2,ray:1,ray:2",
    show_default=True,
    help="End-to-end runs as engine:workers.",
)
@click.option(
    "--mac-dir",
    type=MacDir(),
    default=str(DEFAULT_MAC_DIR),
    show_default=True,
    help="MAC-Dev (zh/, en/, gold/), read in place, never copied; '' skips it.",
)
@click.option(
    "--mac-encoders",
    type=EncoderList(),
    default="use-m,e5-small",
    show_default=True,
    help="Encoders on MAC-Dev: the first runs ours and the peers, the others ours only.",
)
@click.option(
    "--peers-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=".cache/peers",
    show_default=True,
    help="Where the registry's bertalign wheel is fetched and unpacked.",
)
@click.option(
    "--embed-cache",
    default=".cache/bench-embeddings",
    show_default=True,
    help="On-disk embedding cache of the peer quality runs ('' for none).",
)
@click.option(
    "--speed-sentences",
    type=click.IntRange(min=0),
    default=2000,
    show_default=True,
    help="Sentences of the end-to-end speed pair, ours vs bertalign (0 skips it).",
)
@click.option("--no-peers", is_flag=True, help="Skip the comparison with the real peers.")
@click.option(
    "--lineage-docs",
    type=click.IntRange(min=0),
    default=20_000,
    show_default=True,
    help="Documents of the synthetic archive for lineage detection (0 skips it).",
)
@click.option(
    "--extract-repeats",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Timed extractions of each seed for ms per document (0 skips extraction).",
)
@click.option(
    "--extract-sizes",
    type=FloatList(),
    default="0.25,1,5",
    show_default=True,
    help="Sizes in MB of the long resolution-like texts extracted ('' skips them).",
)
@click.option("--extraction-only", is_flag=True, help="Run the extraction section alone.")
@click.option(
    "--encoder-bound-sizes",
    type=IntList(),
    default="40,400",
    show_default=True,
    help="Distinct-text archive sizes (pairs) built cold beside the encoder alone ('' skips).",
)
@click.option(
    "--align-repeats",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Timed aligns of each seed pair with vectors in memory (0 skips them).",
)
@click.option(
    "--encoder-bound-only",
    is_flag=True,
    help="Run the extraction and encoder-bound sections alone.",
)
def main(
    extraction_only: bool,
    encoder_bound_sizes: list[int],
    align_repeats: int,
    encoder_bound_only: bool,
    extract_repeats: int,
    extract_sizes: list[float],
    mac_dir: Path | None,
    mac_encoders: list[str],
    peers_dir: Path,
    embed_cache: str,
    speed_sentences: int,
    no_peers: bool,
    lineage_docs: int,
    e2e_sizes: list[int],
    e2e_runs: list[tuple[str, int]],
    sizes: list[int],
    encode_sentences: int,
    encoders: str,
    fraction_sentences: int,
    no_quality: bool,
    no_stress: bool,
    timeout_s: float,
) -> None:
    """Speed, memory and quality figures (the `make bench` entry point)."""
    options = BenchOptions(
        sizes=sizes,
        encode_sentences=encode_sentences,
        encoders=[e.strip() for e in encoders.split(",") if e.strip()],
        quality=not no_quality,
        stress=not no_stress,
        fraction_sentences=fraction_sentences,
        child_timeout_s=timeout_s,
        e2e_sizes=e2e_sizes,
        e2e_configs=e2e_runs,
        lineage_documents=lineage_docs,
        extract_repeats=extract_repeats,
        extract_sizes_mb=extract_sizes,
        extraction_only=extraction_only,
        encoder_bound_sizes=encoder_bound_sizes,
        align_repeats=align_repeats,
        encoder_bound_only=encoder_bound_only,
        peers=None
        if no_peers
        else PeerOptions(
            mac_dir=mac_dir,
            mac_encoders=mac_encoders,
            peers_dir=peers_dir,
            embed_cache=_optional_path(embed_cache),
            speed_sentences=speed_sentences,
        ),
    )
    run_bench(options, echo=click.echo)


if __name__ == "__main__":  # pragma: no cover
    main()
