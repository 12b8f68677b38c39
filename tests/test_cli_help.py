"""Every command registered on the CLI documents itself and answers --help."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pipeline.cli import main


def test_cli_has_the_extract_command_and_others() -> None:
    assert "extract" in main.commands
    assert len(main.commands) >= 1


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help(name: str) -> None:
    command = main.commands[name]
    assert (command.help or "").strip(), f"command {name!r} has no help text"
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: main {name} ")
    first_line = command.help.strip().splitlines()[0]
    assert " ".join(first_line.split()) in " ".join(result.output.split())  # rewrapped


def test_top_level_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in main.commands:
        assert name in result.output
