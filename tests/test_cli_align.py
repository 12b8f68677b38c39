"""`pipeline align-text` through click's CliRunner: output format, blank lines, errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.evaluate import read_beads

EN = [
    "The rain had been falling since dawn.",
    "",
    "By noon the river had crept over the lower road.",
    "Her father had promised to be back before dark.",
    "He had taken the old truck to town to sell apples.",
]
ZH = [
    "雨从黎明就开始下。",
    "",
    "到了中午，河水已经漫过了下面那条路。",
    "父亲答应过天黑前回来，他开着那辆旧卡车进城去卖苹果。",
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("align_text")
    src = folder / "en.txt"
    tgt = folder / "zh.txt"
    src.write_text("\n".join(EN) + "\n", encoding="utf-8")
    tgt.write_text("\n".join(ZH) + "\n", encoding="utf-8")
    return src, tgt


@pytest.fixture(scope="module")
def output(files: tuple[Path, Path]) -> str:
    result = CliRunner().invoke(main, ["align-text", str(files[0]), str(files[1])])
    assert result.exit_code == 0, result.output
    return result.output


def test_beads_cover_both_files_including_blank_lines(output: str, tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text(output, encoding="utf-8")
    beads = read_beads(path)
    assert [i for s, _ in beads for i in s] == list(range(len(EN)))
    assert [j for _, t in beads for j in t] == list(range(len(ZH)))
    assert ([1], [1]) in beads  # the blank lines are one paragraph break on both sides
    assert ([3, 4], [3]) in beads
    assert ([0], [0]) in beads


def test_vecalign_line_format(output: str) -> None:
    for line in output.splitlines():
        assert re.fullmatch(r"\[(\d+(, \d+)*)?\]:\[(\d+(, \d+)*)?\]", line), line


def test_scores_flag_appends_a_score(files: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(main, ["align-text", *map(str, files), "--scores"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines and all(re.fullmatch(r"\[.*\]:\[.*\]:-?\d+\.\d+", line) for line in lines)


def test_any_language_order(files: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(main, ["align-text", str(files[1]), str(files[0])])
    assert result.exit_code == 0, result.output
    assert "[3]:[3, 4]" in result.output.splitlines()


def test_max_overlap_option(files: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(main, ["align-text", *map(str, files), "--max-overlap", "1"])
    assert result.exit_code == 0, result.output
    assert all(line.count(",") == 0 for line in result.output.splitlines())


def test_missing_file_is_a_clean_error(files: tuple[Path, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["align-text", str(files[0]), str(tmp_path / "no.txt")])
    assert result.exit_code == 2
    assert "no.txt" in result.output and "Traceback" not in result.output


def test_undecodable_file_is_a_clean_error(files: tuple[Path, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00\xd8 broken \xc3\x28")
    result = CliRunner().invoke(main, ["align-text", str(files[0]), str(bad)])
    assert result.exit_code == 1
    assert "bad.txt" in result.output and "UTF-8" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unknown_model_is_a_clean_error(files: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(main, ["align-text", *map(str, files), "--model", "labse9"])
    assert result.exit_code == 1
    assert "labse9" in result.output and "unknown" in result.output


@pytest.mark.parametrize("value", ["nan", "inf", "0.3"])
def test_bad_skip_penalty_is_a_usage_error(files: tuple[Path, Path], value: str) -> None:
    """A bad option value exits 2 with one usage line, as in every command."""
    result = CliRunner().invoke(main, ["align-text", *map(str, files), "--skip-penalty", value])
    assert result.exit_code == 2, result.output
    assert "--skip-penalty" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_bad_hub_z_is_a_clean_error(files: tuple[Path, Path]) -> None:
    result = CliRunner().invoke(main, ["align-text", *map(str, files), "--hub-z", "nan"])
    assert result.exit_code != 0
    assert "hub_z" in result.output
