"""Command line: a thin layer over the library.

Each command parses options, calls one library function and turns domain errors
(``RejectedInput``, ``click.UsageError``) into clean exits. Heavy imports happen
inside the commands so ``--help`` stays instant.
"""

from __future__ import annotations

from pathlib import Path

import click

from pipeline import __version__


@click.group()
@click.version_option(__version__, prog_name="pipeline")
def main() -> None:
    """Build English-Chinese parallel corpora from UN resolutions."""


# --- extract (issue 2): commands for extraction and pairing go here ---


# --- align-text, eval (issue 3): generic alignment and scoring commands go here ---


@main.command("eval")
@click.argument("test", type=click.Path(exists=True, path_type=Path))
@click.argument("gold", type=click.Path(exists=True, path_type=Path))
def eval_command(test: Path, gold: Path) -> None:
    """Strict and lax precision/recall/F1 of TEST beads against GOLD (files or folders)."""
    from pipeline.evaluate import AlignmentFormatError, format_scores, score_paths

    try:
        scores = score_paths(test, gold)
    except (AlignmentFormatError, ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(format_scores(scores))


# --- build (issue 4): corpus build command goes here ---


# --- bench: `make bench` entry point goes here ---


@main.command("bench")
@click.option(
    "--sizes",
    default="1000,10000,50000",
    show_default=True,
    help="Comma-separated synthetic pair sizes (sentences per side) for the aligner.",
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
    help="Encoders to time: use-m, e5-small, st (the bundled all-MiniLM model).",
)
@click.option("--no-quality", is_flag=True, help="Skip F1 of ours vs baselines on the gold sets.")
def bench_command(sizes: str, encode_sentences: int, encoders: str, no_quality: bool) -> None:
    """Speed, memory and quality figures (the `make bench` entry point)."""
    from pipeline.bench import BenchOptions, run_bench

    try:
        size_list = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError as err:
        raise click.UsageError(f"--sizes: {err}") from err
    options = BenchOptions(
        sizes=size_list,
        encode_sentences=encode_sentences,
        encoders=[e.strip() for e in encoders.split(",") if e.strip()],
        quality=not no_quality,
    )
    run_bench(options, echo=click.echo)


if __name__ == "__main__":  # pragma: no cover
    main()
