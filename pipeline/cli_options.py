"""The CLI's option conventions and the build command's option tables.

Why a module of its own: every command declares its options the same way (``option``
shows a non-empty default in ``--help``; ``options`` stacks several as one decorator),
and the build command has many, grouped by what they set (filters, splits, engines,
batch sizes). The commands live in ``pipeline.cli``, which stays a thin layer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

DIR = click.Path(file_okay=False, path_type=Path)


def option(*decls: str, **attrs: object) -> Callable[[Callable], Callable]:
    """``click.option`` that shows a non-empty default in --help, so every command
    states its defaults the same way."""
    if attrs.get("default") is not None and not attrs.get("is_flag"):
        attrs.setdefault("show_default", True)
    return click.option(*decls, **attrs)  # type: ignore[arg-type]


def options(*decorators: Callable[[Callable], Callable]) -> Callable[[Callable], Callable]:
    """Several option decorators as one, applied in the order they are listed."""

    def apply(command: Callable) -> Callable:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


FILTER_OPTIONS = options(
    option(
        "--min-score",
        type=float,
        help="Reject sentence beads scored below this (aligner units: ~1.0 = a typical "
        "correct 1-1 bead). Default: keep every score.",
    ),
    option(
        "--max-len-ratio",
        type=click.FloatRange(min=1.0),
        help="Reject beads whose token-count ratio (larger side / smaller) exceeds this.",
    ),
    option(
        "--lang-check/--no-lang-check",
        default=True,
        help="Reject beads whose sides are not in English and Chinese script.",
    ),
)

#: Ray's resources per embedding actor: (option, type, default, help).
RAY_RESOURCES = (
    ("--embed-actors", click.IntRange(min=1), 1, "Ray: embedding actors (one model each)."),
    ("--num-gpus", click.FloatRange(min=0.0), 0.0, "Ray: GPUs per embedding actor (st: models)."),
    ("--embed-cpus", click.FloatRange(min=0.0), 1.0, "Ray: CPUs each embedding actor reserves."),
)

ENGINE_OPTIONS = options(
    option(
        "--engine",
        type=click.Choice(["local", "ray"]),
        default="local",
        help="local: a process pool on this machine; ray: Ray tasks and actors, here or on "
        "a cluster (pip install '.[ray]').",
    ),
    option(
        "--workers",
        type=click.IntRange(min=1),
        help="Local engine: worker processes (default: every core; 1 = in this process).",
    ),
    option("--address", help="Ray: cluster address (default: local Ray)."),
    *(
        option(name, type=kind, default=default, help=text)
        for name, kind, default, text in RAY_RESOURCES
    ),
    option(
        "--embed-cache/--no-embed-cache",
        default=True,
        help="Ray: keep an embedding cache (SQLite, one per node).",
    ),
    option(
        "--embed-cache-dir",
        type=DIR,
        help="Ray: embedding cache folder on node-local disk (default: CACHE/embed; a "
        "network file system is refused).",
    ),
)

#: Splits by lineage, and the deduplicated export.
SPLIT_OPTIONS = options(
    option(
        "--split",
        default="98/1/1",
        help="Shares of lineages for train/validation/test; a lineage (a resolution and "
        "its renewals) is never in two splits.",
    ),
    option(
        "--export-dedup",
        is_flag=True,
        help="Also write dedup/: per split, the best-scoring row of each duplicate group "
        "as TMX and Moses (validation/test without rows seen in train).",
    ),
)

#: How much goes to the encoder at once: (option, default, help).
BATCH_SIZES = (
    ("--chunk-pairs", 16, "Document pairs whose texts are embedded in one encoder call."),
    ("--batch-size", 64, "Texts per forward pass of st: models (128-512 on a GPU)."),
)
