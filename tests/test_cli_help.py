"""Every command registered on the CLI documents itself and answers --help."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from pipeline.cli import main


def _all_commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, subcommands of groups (``cache info``) included."""
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += _all_commands(command, (*prefix, name))
    return paths


def test_cli_has_the_product_commands() -> None:
    assert {"extract", "build", "align-text", "eval", "cache"} <= set(main.commands)
    assert ("cache", "info") in _all_commands() and ("cache", "prune") in _all_commands()
    assert "bench" not in main.commands  # benchmarks are not a product command


@pytest.mark.parametrize("path", _all_commands(), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    command: click.Command = main
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    assert (command.help or "").strip(), f"command {' '.join(path)!r} has no help text"
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: main {' '.join(path)} ")
    first_line = command.help.strip().splitlines()[0]
    assert " ".join(first_line.split()) in " ".join(result.output.split())  # rewrapped


def test_top_level_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in main.commands:
        assert name in result.output
