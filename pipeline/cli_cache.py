"""``python -m pipeline cache info|prune``: the commands over the build's cache folder.

A thin layer over ``pipeline.runner.cache_admin``, as ``pipeline.cli`` is over the rest:
a folder that is no cache, or one a build is using, is one line and exit 1.
"""

from __future__ import annotations

from pathlib import Path

import click

_CACHE_OPTION = click.option(
    "--cache",
    "cache_dir",
    default=Path("data/.cache"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache folder of a build (build's --cache; default .cache beside --out).",
)


def _existing(cache_dir: Path) -> None:
    if not cache_dir.is_dir():
        raise click.ClickException(f"{cache_dir}: no such cache folder")


@click.group("cache")
def cache_group() -> None:
    """Inspect or clean the embedding and work caches of `build`."""


@cache_group.command("info")
@_CACHE_OPTION
def cache_info_command(cache_dir: Path) -> None:
    """Vectors per model, work entries by current/other code, damaged entries, leftovers
    of killed builds."""
    from pipeline.runner.cache_admin import cache_info

    _existing(cache_dir)
    for line in cache_info(cache_dir).lines():
        click.echo(line)


@cache_group.command("prune")
@_CACHE_OPTION
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Delete every cache entry (files the tool did not create are kept and named).",
)
def cache_prune_command(cache_dir: Path, everything: bool) -> None:
    """Remove work entries made by other code or damaged, dead builds' spools and
    temporary files. Refused while a build uses the cache."""
    from pipeline.runner.cache_admin import clear_cache, prune_cache
    from pipeline.runner.cachedir import CacheFolderError

    _existing(cache_dir)
    try:
        if everything:
            click.echo(clear_cache(cache_dir).line())
            return
        removed = prune_cache(cache_dir)
    except (CacheFolderError, OSError) as err:
        raise click.ClickException(str(err)) from err
    click.echo(
        f"removed {removed.work_stale} work entries by other code and "
        f"{removed.work_damaged} damaged ones ({removed.work_bytes / 1e6:.1f} MB), "
        f"{removed.spools} spool folders, "
        f"{removed.leftovers} temporary files, {removed.embeddings_bad} damaged vectors, "
        f"{removed.damaged_copies} damaged embedding caches"
    )
