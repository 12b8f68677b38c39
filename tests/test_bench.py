"""`python -m benchmarks` (`make bench`), run tiny: every section prints its rows and fields.

No timing assertions (timings belong to the benchmark, not to tests); the figures must
only be present, numeric and in range.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from benchmarks.__main__ import main
from benchmarks.bench import monotone_gold

NUMBER = r"-?\d+(?:\.\d+)?"


@pytest.fixture(scope="module")
def output() -> str:
    args = [
        "--sizes",
        "150,300",
        "--encode-sentences",
        "8",
        "--encoders",
        "use-m",
        "--fraction-sentences",
        "60",
        "--no-stress",
        "--e2e-sizes",
        "3",
        "--e2e-runs",
        "local:1,local:2",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


def _section(output: str, title: str) -> list[str]:
    lines = output.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("== " + title))
    body = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        body.append(line)
    return body


def test_encoder_rows(output: str) -> None:
    header, *rows = _section(output, "encoders")
    assert header.split() == ["encoder", "dim", "load_s", "sentences/s"]
    assert len(rows) == 1
    name, dim, load_s, rate = rows[0].split()
    assert (name, dim) == ("use-m", "512")
    assert float(load_s) >= 0 and float(rate) > 0


def test_aligner_rows_one_per_size(output: str) -> None:
    header, *rows = _section(output, "aligner alone")
    assert header.split() == ["size", "seconds", "sentences/s", "peak_mb", "inputs_mb", "f1_strict"]
    assert [row.split()[0] for row in rows] == ["150", "300"]
    for row in rows:
        fields = row.split()
        assert len(fields) == 6 and all(re.fullmatch(NUMBER, f) for f in fields)
        peak, inputs, f1 = float(fields[3]), float(fields[4]), float(fields[5])
        assert 0 < inputs <= peak
        assert 0.0 <= f1 <= 1.0


def test_fraction_row_with_target(output: str) -> None:
    header, row = _section(output, "aligner vs encoding")
    assert header.split() == ["sentences", "embed_s", "align_s", "align/embed", "target"]
    m = re.fullmatch(rf"\s*(\d+)\s+({NUMBER})\s+({NUMBER})\s+({NUMBER})%\s+<= 5% (OK|MISSED)", row)
    assert m, row
    assert int(m.group(1)) >= 120  # both sides of a >= 60-sentence document
    assert float(m.group(2)) > 0


def test_quality_rows(output: str) -> None:
    header, *rows = _section(output, "quality")
    assert header.split() == ["set", "ours", "bertalign", "vecalign"]
    names = [re.split(r"\s{2,}", row.strip())[0] for row in rows]
    assert names[:2] == ["A/RES/75/58 (gold)", "general (gold)"]
    assert names[2].startswith("long-60")
    for row in rows:
        scores = re.findall(r"\d\.\d{3}", row)
        assert len(scores) >= 3 and all(0.0 <= float(s) <= 1.0 for s in scores)


def test_e2e_rows_per_run(output: str) -> None:
    header, *rows = _section(output, "end to end")
    assert header.split()[:4] == ["pairs", "engine", "workers", "seconds"]
    runs = [row.split()[:-7] for row in rows[:3]]
    assert runs == [["3", "local", "cold", "2"], ["3", "local", "1"], ["3", "local", "2"]]
    for row in rows[:3]:
        seconds, docs_s, sents_s, ms_doc, peak, child, embedded = row.split()[-7:]
        assert float(seconds) > 0 and float(docs_s) > 0 and float(peak) > 0
    assert int(rows[0].split()[-1]) > 0  # the cold run embedded texts
    assert rows[3].startswith("per stage")


def test_bad_sizes_are_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["--sizes", "10,x"])
    assert result.exit_code == 2
    assert "--sizes" in result.output


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--e2e-runs", "local"),
        ("--e2e-runs", "spark:2"),
        ("--e2e-runs", "local:0"),
        ("--e2e-sizes", "x"),
        ("--timeout", "-1"),
    ],
)
def test_bad_option_values_are_usage_errors(option: str, value: str) -> None:
    """Every bad value is one usage line (exit 2), never a traceback (issue 10, item 7)."""
    result = CliRunner().invoke(main, [option, value])
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert "Traceback" not in result.output


def test_monotone_gold_merges_crossed_beads() -> None:
    gold = [([0], [0]), ([1], [2]), ([2], [1]), ([3], [3])]
    assert monotone_gold(gold) == [([0], [0]), ([1, 2], [1, 2]), ([3], [3])]
