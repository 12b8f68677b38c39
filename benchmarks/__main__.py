"""``python -m benchmarks``: the `make bench` entry point (a thin click layer)."""

from __future__ import annotations

import click

from benchmarks.bench import BenchOptions, run_bench

_ENGINES = ("local", "ray")


class IntList(click.ParamType):
    """Comma-separated positive integers; '' is the empty list (skips a section)."""

    name = "n,n,..."

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        if isinstance(value, list):
            return value
        try:
            numbers = [int(s) for s in str(value).split(",") if s.strip()]
        except ValueError:
            self.fail(f"{value!r} is not a comma-separated list of integers", param, ctx)
        if any(n < 1 for n in numbers):
            self.fail(f"{value!r}: every number must be positive", param, ctx)
        return numbers


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
def main(
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
    )
    run_bench(options, echo=click.echo)


if __name__ == "__main__":  # pragma: no cover
    main()
