"""Parsers have depth and time limits that end in a rejection with a reason (issue 18,
defect 8): deeply nested HTML used to crash `extract` (RecursionError at 25,000 levels) and
hold `build` for minutes (200,000 levels: the parser's time grows with the square of the
depth). Timings are measured by the benchmark, not asserted here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SEEDS

from pipeline.cli import main
from pipeline.readers import read_source
from pipeline.records import RejectedInput


def _nested(depth: int, tag: str = "div") -> str:
    body = "<p><em>Recalling</em> its resolution 74/43,</p>"
    return f"<html><body>{f'<{tag}>' * depth}{body}{f'</{tag}>' * depth}</body></html>"


@pytest.mark.parametrize("depth", [1_000, 25_000, 200_000])
def test_deeply_nested_html_is_rejected_with_a_reason(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.html"
    path.write_text(_nested(depth), encoding="utf-8")
    with pytest.raises(RejectedInput, match="HTML nested too deeply"):
        read_source(path)


def test_nesting_a_real_page_has_is_read(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(_nested(60) + "<p>" * 5000, encoding="utf-8")  # unclosed <p> do not nest
    assert "*Recalling* its resolution 74/43," in read_source(path).text


def test_extract_and_build_reject_nested_html_and_go_on(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(SEEDS, raw)
    (raw / "deep.html").write_text(_nested(200_000, "span"), encoding="utf-8")
    extracted = CliRunner().invoke(
        main, ["extract", "--raw", str(raw), "--out", str(tmp_path / "x")]
    )
    assert extracted.exit_code == 0, extracted.output
    assert "rejected: deep.html: HTML nested too deeply" in extracted.output
    args = ["build", "--raw", str(raw), "--out", str(tmp_path / "out")]
    built = CliRunner().invoke(main, [*args, "--cache", str(tmp_path / "cache"), "--workers", "1"])
    assert built.exit_code == 0, built.output
    assert "rejected deep.html: HTML nested too deeply" in built.output


def test_a_file_that_takes_too_long_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-file time limit, made tiny so a real PDF of the seed exceeds it."""
    from test_converted_seeds import english_seed_as_pdf

    from pipeline.readers import limits

    path = tmp_path / "seed.pdf"
    path.write_bytes(english_seed_as_pdf()[0])
    monkeypatch.setattr(limits, "MAX_READ_SECONDS", 0.001)
    with pytest.raises(RejectedInput, match="took longer than 0.001 s to read"):
        read_source(path)
    monkeypatch.setattr(limits, "MAX_READ_SECONDS", 60.0)
    assert read_source(path).fmt == "pdf"
