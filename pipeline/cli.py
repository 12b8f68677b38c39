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


@main.command("extract")
@click.argument(
    "raw_dir", type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path)
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, dir_okay=True, path_type=Path),
    help="Folder for documents.jsonl, rejected.jsonl and pairs.json (created if missing).",
)
@click.option(
    "--strict",
    "fail_on_rejection",
    is_flag=True,
    help="Exit non-zero when any file is rejected (the outputs are still written).",
)
def extract_command(raw_dir: Path, out_dir: Path, fail_on_rejection: bool) -> None:
    """Extract resolutions from RAW_DIR and pair them by symbol.

    Writes DIR/documents.jsonl, DIR/rejected.jsonl and DIR/pairs.json and prints a
    summary. Exits 0 when at least one document was read, even if other files were
    rejected (each is named on stderr with its reason); with --strict any rejection
    is an error.
    """
    from pipeline.extract import extract_folder
    from pipeline.extraction_output import format_summary, write_extraction
    from pipeline.pair import pair_documents

    extracted = extract_folder(raw_dir)
    pairing = pair_documents(extracted.documents)
    summary = write_extraction(out_dir, extracted.documents, extracted.rejected, pairing)
    click.echo(format_summary(summary))
    for item in summary.rejected:
        click.echo(f"rejected: {item.source_file}: {item.reason}", err=True)
    if summary.document_count == 0:
        raise click.ClickException(
            f"no document could be read from {raw_dir} ({len(summary.rejected)} file(s) rejected)"
        )
    if fail_on_rejection and summary.rejected:
        raise click.ClickException(
            f"--strict: {len(summary.rejected)} file(s) rejected (listed above)"
        )


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
