"""Command line: a thin layer over the library.

Each command parses options, calls one library function and turns domain errors
(``RejectedInput``, ``click.UsageError``) into clean exits. Heavy imports happen
inside the commands so ``--help`` stays instant.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from pipeline import __version__, cli_options

#: The option conventions every command follows (``pipeline.cli_options``).
_DIR, _option, _options = cli_options.DIR, cli_options.option, cli_options.options

#: Options with the same meaning in align-text and build.
_MODEL_OPTION = _option("--model", default="use-m", help="use-m | e5-small | st:<name>")
_DEVICE_OPTION = _option("--device", default=None, help="Device for st: models (cpu, cuda).")


class _ShortNameFormatter(logging.Formatter):
    """``[build] message``: the last part of the logger's name, not ``pipeline.runner``."""

    def format(self, record: logging.LogRecord) -> str:
        return f"[{record.name.rsplit('.', 1)[-1]}] {record.getMessage()}"


def _configure_logging(verbosity: int) -> None:
    """One stderr handler on the package's logger; -q: warnings only, -v: debug."""
    level = {-1: logging.WARNING, 0: logging.INFO}.get(verbosity, logging.DEBUG)
    package_log = logging.getLogger("pipeline")
    package_log.handlers = [h for h in package_log.handlers if not getattr(h, "_cli", False)]
    handler = logging.StreamHandler(sys.stderr)
    handler._cli = True  # type: ignore[attr-defined]
    handler.setFormatter(_ShortNameFormatter())
    package_log.addHandler(handler)
    package_log.setLevel(level)


@click.group()
@click.version_option(__version__, prog_name="pipeline")
@click.option("-v", "--verbose", is_flag=True, help="Debug messages on stderr.")
@click.option("-q", "--quiet", is_flag=True, help="Warnings and errors only on stderr.")
def main(verbose: bool, quiet: bool) -> None:
    """Build English-Chinese parallel corpora from UN resolutions."""
    if verbose and quiet:
        raise click.UsageError("-v/--verbose and -q/--quiet exclude each other")
    _configure_logging(1 if verbose else -1 if quiet else 0)


# --- extract (issue 2): commands for extraction and pairing go here ---


class RawFolder(click.ParamType):
    """A folder of raw documents: an existing local folder, or a file-system URI
    (``scheme://...``) that the build's storage layer opens; checked the same way in
    every command, so a missing folder is always a usage error (exit 2)."""

    name = "folder"

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201 - click's signature
        if isinstance(value, Path) or "://" not in str(value):
            path = Path(value)
            if not path.is_dir():
                what = "is not a folder" if path.exists() else "does not exist"
                self.fail(f"raw folder {str(path)!r} {what}", param, ctx)
            return path
        return str(value)


#: Symbolic links out of --raw are read only when asked for, in every command.
_FOLLOW_SYMLINKS_OPTION = _option(
    "--follow-symlinks",
    is_flag=True,
    help="Read symbolic links in --raw that lead out of it (else each is skipped and named).",
)

#: --raw means the same in every command: the folder of raw documents.
_RAW_OPTION = _option(
    "--raw",
    "raw_dir",
    default=Path("data/raw"),
    type=RawFolder(),
    help="Folder of raw documents (.txt, .md, .html, .docx, .pdf); for build with "
    "--engine ray also a URI (s3://..., gs://..., file://...).",
)


@main.command("extract")
@_RAW_OPTION
@_FOLLOW_SYMLINKS_OPTION
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
def extract_command(
    raw_dir: Path, follow_symlinks: bool, out_dir: Path, fail_on_rejection: bool
) -> None:
    """Extract resolutions from the --raw folder and pair them by symbol.

    Writes DIR/documents.jsonl, DIR/rejected.jsonl and DIR/pairs.json and prints a
    summary. Exits 0 when at least one document was read, even if other files were
    rejected (each is named on stderr with its reason); with --strict any rejection
    is an error, except a duplicate copy of a document that was kept in another format.
    """
    from pipeline.extract import extract_folder
    from pipeline.extract.output import format_summary, write_extraction
    from pipeline.pair import pair_documents

    if not isinstance(raw_dir, Path):
        message = "extract reads a local folder; build reads URIs"
        raise click.BadParameter(message, param_hint="--raw")

    extracted = extract_folder(raw_dir, follow_symlinks=follow_symlinks)
    for skipped in extracted.skipped:
        if skipped.notable:
            click.echo(f"skipped: {skipped.entry}: {skipped.reason}", err=True)
    pairing = pair_documents(extracted.documents)
    try:
        summary = write_extraction(out_dir, extracted.documents, extracted.rejected, pairing)
    except OSError as err:  # a full disk, a read-only folder, --out under a file
        where = err.filename or out_dir
        raise click.ClickException(f"{where}: cannot write ({err.strerror or err})") from err
    click.echo(format_summary(summary))
    for item in summary.rejected:
        click.echo(f"rejected: {item.source_file}: {item.reason}", err=True)
    if summary.document_count == 0:
        raise click.ClickException(
            f"no document could be read from {raw_dir} ({len(summary.rejected)} file(s) rejected)"
        )
    # A copy of a document in another format is listed, not an error (issue 12).
    errors = [item for item in summary.rejected if not item.reason.startswith("duplicate of ")]
    if fail_on_rejection and errors:
        raise click.ClickException(f"--strict: {len(errors)} file(s) rejected (listed above)")


# --- align-text, eval (issue 3): generic alignment and scoring commands go here ---


def _read_sentence_file(path: Path) -> list[str]:
    """One sentence per line, blank lines kept (they are sentences too); UTF-8 only."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise click.ClickException(f"{path}: not UTF-8 text ({err.reason})") from err
    except OSError as err:
        raise click.ClickException(f"{path}: cannot read ({err.strerror})") from err
    if text.endswith("\n"):
        text = text[:-1]
    return [line.rstrip("\r") for line in text.split("\n")] if text else []


@main.command("align-text")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("tgt", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_MODEL_OPTION
@_option("--scores", is_flag=True, help="Append :score (bead confidence) to each bead.")
@_option(
    "--max-overlap",
    type=click.IntRange(1, 8),
    help="Longest run of sentences on one side of a bead (default 4).",
)
@_option(
    "--skip-penalty",
    type=click.FloatRange(max=0.0),
    help="Score of a 1-0/0-1 bead, <= 0 (default -0.25; closer to 0 leaves more unaligned).",
)
@_option(
    "--hub-z",
    type=click.FloatRange(min=0.0),
    help="Evidence a pair needs, in standard deviations above unrelated text (default 0.5; "
    "0 suits e5-small better on MAC-Dev, docs/experiments/aligner-history.md).",
)
@_option("--cache", "cache_dir", type=_DIR, help="On-disk embedding cache.")
@_DEVICE_OPTION
def align_text_command(
    src: Path,
    tgt: Path,
    model: str,
    scores: bool,
    max_overlap: int | None,
    skip_penalty: float | None,
    hub_z: float | None,
    cache_dir: Path | None,
    device: str | None,
) -> None:
    """Align SRC and TGT (one sentence per line, any language order); print Vecalign beads."""
    from dataclasses import replace

    from pipeline.align import AlignParams, align_texts
    from pipeline.embed import EncoderError, load_encoder
    from pipeline.evaluate import format_bead

    src_lines = _read_sentence_file(src)
    tgt_lines = _read_sentence_file(tgt)
    params = AlignParams()
    settings = {"--max-overlap": max_overlap, "--skip-penalty": skip_penalty, "--hub-z": hub_z}
    for option, value in settings.items():
        if value is None:
            continue
        try:
            params = replace(params, **{option[2:].replace("-", "_"): value})
        except ValueError as err:  # AlignParams' own validation, e.g. a NaN skip penalty
            raise click.BadParameter(str(err), param_hint=option) from err
    try:
        encoder = load_encoder(model, device=device, cache_dir=cache_dir)
        result = align_texts(src_lines, tgt_lines, encoder, params)
    except EncoderError as err:
        raise click.ClickException(str(err)) from err
    for bead in result.beads:
        click.echo(format_bead(bead.src, bead.tgt, bead.score if scores else None))


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


@main.command("build")
@_RAW_OPTION
@_FOLLOW_SYMLINKS_OPTION
@_option(
    "--out",
    "out_dir",
    default="data/aligned",
    help="Corpus folder (or, with --engine ray, a URI); replaced when the build succeeds.",
)
@_MODEL_OPTION
@cli_options.FILTER_OPTIONS
@cli_options.SPLIT_OPTIONS
@_option(
    "--cache",
    "cache_dir",
    type=_DIR,
    help="Work and embedding cache (default: .cache/ beside --out).",
)
@_option(
    "--allow-empty",
    is_flag=True,
    help="Write the corpus even when no document pair could be written (else the build "
    "fails and the corpus in --out stays as it was).",
)
@_option(
    "--force",
    is_flag=True,
    help="Build even when the corpus in --out is up to date (same files, settings, code "
    "and packages as when it was built, and not changed since); the caches still serve "
    "what they hold.",
)
@cli_options.ENGINE_OPTIONS
@_DEVICE_OPTION
@_options(
    *(
        _option(name, type=click.IntRange(min=1), default=default, help=text)
        for name, default, text in cli_options.BATCH_SIZES
    )
)
def build_command(
    raw_dir: str,
    follow_symlinks: bool,
    out_dir: str,
    model: str,
    min_score: float | None,
    max_len_ratio: float | None,
    lang_check: bool,
    split: str,
    export_dedup: bool,
    cache_dir: Path | None,
    allow_empty: bool,
    force: bool,
    engine: str,
    workers: int | None,
    address: str | None,
    embed_actors: int,
    num_gpus: float,
    embed_cpus: float,
    embed_cache: bool,
    embed_cache_dir: Path | None,
    chunk_pairs: int,
    device: str | None,
    batch_size: int,
) -> None:
    """Build the corpus: extract, pair, align and write Parquet, TMX, Moses and a report.

    Files that cannot be read are listed in the manifest and the report, never fatal.
    """
    from pipeline.corpus.filters import FilterOptions
    from pipeline.corpus.splits import SplitRatios
    from pipeline.embed import EncoderError
    from pipeline.runner.checks import FolderConflict
    from pipeline.runner.driver import build_corpus
    from pipeline.runner.options import BuildOptions
    from pipeline.runner.output import BuildError

    try:
        filters = FilterOptions(
            min_score=min_score, max_len_ratio=max_len_ratio, lang_check=lang_check
        )
        ratios = SplitRatios.parse(split)
    except ValueError as err:
        raise click.BadParameter(str(err)) from err
    options = BuildOptions(
        raw=raw_dir,
        out=out_dir,
        model=model,
        filters=filters,
        cache=cache_dir,
        engine=engine,
        workers=workers,
        ray_address=address,
        embed_actors=embed_actors,
        num_gpus=num_gpus,
        embed_cpus=embed_cpus,
        embed_cache=embed_cache,
        embed_cache_dir=embed_cache_dir,
        chunk_pairs=chunk_pairs,
        device=device,
        batch_size=batch_size,
        allow_empty=allow_empty,
        follow_symlinks=follow_symlinks,
        split=ratios,
        export_dedup=export_dedup,
        force=force,
    )
    try:
        result = build_corpus(options)
    except FolderConflict as err:
        raise click.UsageError(str(err)) from err
    except (BuildError, EncoderError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(result.summary_table())


# --- cache: what the build's caches hold, and cleanup (pipeline.cli_cache) ---


def _add_cache_commands() -> None:
    from pipeline.cli_cache import cache_group

    main.add_command(cache_group)


_add_cache_commands()


if __name__ == "__main__":  # pragma: no cover
    main()
