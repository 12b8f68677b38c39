"""Command line: a thin layer over the library.

Each command parses options, calls one library function and turns domain errors
(``RejectedInput``, ``click.UsageError``) into clean exits. Heavy imports happen
inside the commands so ``--help`` stays instant.
"""

from __future__ import annotations

import click

from pipeline import __version__


@click.group()
@click.version_option(__version__, prog_name="pipeline")
def main() -> None:
    """Build English-Chinese parallel corpora from UN resolutions."""


# --- extract (issue 2): commands for extraction and pairing go here ---


# --- align-text, eval (issue 3): generic alignment and scoring commands go here ---


# --- build (issue 4): corpus build command goes here ---


# --- bench: `make bench` entry point goes here ---


if __name__ == "__main__":  # pragma: no cover
    main()
