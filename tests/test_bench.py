"""`python -m benchmarks` (`make bench`), run tiny: every section prints its rows and fields.

No timing assertions (timings belong to the benchmark, not to tests); the figures must
only be present, numeric and in range.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.__main__ import main
from benchmarks.bench import monotone_gold
from pipeline.evaluate import read_beads, write_beads

NUMBER = r"-?\d+(?:\.\d+)?"
GENERAL = Path("tests/gold/general")


@pytest.fixture(scope="module")
def mac_like(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder in MAC-Dev's layout (zh/, en/, gold/ Chinese first) holding tests/gold/general,
    so the peer sections run on a real human-style gold without MAC-Dev itself."""
    root = tmp_path_factory.mktemp("mac")
    for side in ("zh", "en", "gold"):
        (root / side).mkdir()
    (root / "zh" / "001").write_text((GENERAL / "zh.txt").read_text(encoding="utf-8"))
    (root / "en" / "001").write_text((GENERAL / "en.txt").read_text(encoding="utf-8"))
    write_beads(root / "gold" / "001", [(t, s) for s, t in read_beads(GENERAL / "gold.txt")])
    return root


@pytest.fixture(scope="module")
def output(mac_like: Path) -> str:
    args = [
        "--mac-dir",
        str(mac_like),
        "--mac-encoders",
        "use-m",
        "--embed-cache",
        "",
        "--speed-sentences",
        "60",
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
        "--lineage-docs",
        "120",
        "--extract-repeats",
        "2",
        "--extract-sizes",
        "0.05",
        "--encoder-bound-sizes",
        "2",
        "--align-repeats",
        "2",
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


def test_stress_rows(output: str) -> None:
    header, *rows = _section(output, "stress")
    assert header.split() == ["set", "ours", "bertalign", "vecalign", "(reimpl.)"]
    assert len(rows) == 1 and rows[0].startswith("long-60")  # --no-stress: no perturbations
    for row in rows:
        scores = re.findall(r"\d\.\d{3}", row)
        assert len(scores) == 3 and all(0.0 <= float(s) <= 1.0 for s in scores)


def _peer_rows(output: str) -> dict[tuple[str, str], list[str]]:
    lines = _section(output, "peers")
    start = next(k for k, line in enumerate(lines) if line.startswith("set "))
    header = lines[start].split()
    assert header[:2] == ["set", "system"] and header[-2:] == ["gold0", "txt/snt"]
    rows = {}
    for line in lines[start + 1 :]:  # fixed columns: set 20, system 18
        name, system, rest = line[:20].strip(), line[21:39].strip(), line[39:]
        rows[(name, system)] = rest.split()
    return rows


def test_peer_rows_every_set_and_system(output: str) -> None:
    rows = _peer_rows(output)
    systems = ["ours", "bertalign", "vecalign (reimpl.)"]
    sets = ["001", "MAC-Dev", "A/RES/75/58", "general"]
    assert sorted(rows) == sorted((s, y) for s in sets for y in systems)
    for (name, _), fields in rows.items():
        assert len(fields) == 14
        assert all(0.0 <= float(f) <= 1.0 for f in fields[:9])
        assert all(f.isdigit() for f in fields[9:13])
        assert fields[13] == "-" if name == "001" else float(fields[13]) >= 1.0
    # the one chapter is the whole set, and is tests/gold/general the other way round
    for system in systems:
        assert rows[("001", system)][:13] == rows[("MAC-Dev", system)][:13]
    assert rows[("MAC-Dev", "ours")][12] == rows[("general", "ours")][12] == "3"  # gold's nulls
    # the structure-aware aligner gets every bead of the seed pair's gold right
    assert rows[("A/RES/75/58", "ours")][2] == "1.000"


def test_peer_targets_and_texts_per_sentence(output: str) -> None:
    lines = output.splitlines()
    target = next(line for line in lines if "ours >= 0.88 and >= bertalign + 0.02" in line)
    assert re.search(r"AE strict F1 ours \d\.\d{3}, bertalign \d\.\d{3}: .* (OK|MISSED)$", target)
    nulls = next(line for line in lines if "wrong 0-1/1-0 ours" in line)
    m = re.search(
        r"ours (\d+) \((\d+) 0-1, (\d+) 1-0; gold has 3\): <= 2 x 3 = 6 (OK|MISSED)$", nulls
    )
    assert m and int(m.group(1)) == int(m.group(2)) + int(m.group(3))
    (loco,) = [line for line in lines if "leave-one-chapter-out AE strict F1 of ours:" in line]
    assert 0.0 <= float(loco.split()[-1]) <= 1.0
    texts = [line for line in lines if "texts embedded per sentence" in line]
    assert len(texts) == 2 and texts[1].startswith("seeds (A/RES/75/58")
    for line in texts:
        assert re.search(r"ours \d+\.\d\d \(target <= 2\.0\) (OK|MISSED), bertalign \d", line)


def test_speed_rows_side_by_side(output: str) -> None:
    header, *rows = _section(output, "end to end: align-text vs bertalign")
    assert header.split() == ["system", "seconds", "cpu_s", "sentences/s", "texts", "AE-F1"]
    assert [row.split()[0] for row in rows[:2]] == ["ours", "bertalign"]
    for row in rows[:2]:
        seconds, cpu, rate, texts, f1 = row.split()[1:]
        assert float(seconds) > 0 and float(cpu) > 0 and float(rate) > 0 and int(texts) > 0
        assert 0.0 <= float(f1) <= 1.0
    assert re.fullmatch(
        rf"speed-up of ours: {NUMBER}x wall, {NUMBER}x CPU \(target >= 2x on both\) (OK|MISSED)",
        rows[2],
    ), rows[2]
    fraction = re.fullmatch(
        rf"ours on real text: aligner ({NUMBER}) s wall / ({NUMBER}) s CPU, encoding "
        rf"({NUMBER}) s / ({NUMBER}) s: ({NUMBER})% wall, ({NUMBER})% CPU "
        r"\(target <= 5% on both\) (OK|MISSED)",
        rows[3],
    )
    assert fraction, rows[3]
    assert float(fraction.group(3)) > 0 and float(fraction.group(4)) > 0
    worst = max(float(fraction.group(5)), float(fraction.group(6)))
    if abs(worst - 5.0) > 0.05:  # the verdict takes the worse of the two (printed rounded)
        assert (fraction.group(7) == "OK") == (worst < 5.0)


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


def test_encoder_bound_rows(output: str) -> None:
    """The cold build beside the encoder alone, the ratio against 1.3, the stage seconds,
    the projection (GPU speed marked assumed) and align ms per seed pair against 20 ms."""
    header, row, *rest = _section(output, "encoder-bound")
    assert header.split()[:5] == ["pairs", "texts", "build_s", "encoder_s", "ratio"]
    values = row.split()
    assert values[0] == "2" and int(values[1]) > 0
    build_s, encoder_s, ratio = (float(v) for v in values[2:5])
    # the seconds are printed to 0.1 s (each within 0.05 of its value), the ratio to 0.01
    # from the unrounded ones: it lies between the ratios of the rounding's extremes
    low, high = (build_s - 0.05) / (encoder_s + 0.05), (build_s + 0.05) / (encoder_s - 0.05)
    assert low - 0.005 <= ratio <= high + 0.005
    assert re.search(r"ratio<=1.3 (OK|FAIL)$", row)
    stages = next(line for line in rest if line.strip().startswith("2:"))
    assert all(f"{name}=" in stages for name in ("read", "embed", "align", "decide", "write"))
    assert any("GPU cluster" in line and "ASSUMED" in line for line in rest)
    aligned = next(line for line in rest if "A/RES/75/58" in line)
    assert re.search(rf"{NUMBER} sentences, {NUMBER} ms \(<= 20 ms (OK|FAIL)\)$", aligned)


def test_lineage_row_and_target(output: str) -> None:
    header, row, target, found = _section(output, "lineages")
    assert header.split()[:3] == ["documents", "made", "found"]
    values = row.split()
    assert values[0] == "120" and all(re.fullmatch(NUMBER, v) for v in values)
    assert int(values[3]) == int(values[4]) == 0  # no made lineage split or merged
    assert re.search(rf"on 2 cores: {NUMBER} s \(target < 60 s\) OK$", target)
    assert found.startswith(f"lineages made {values[1]}, found {values[2]}")


def test_extraction_section_alone() -> None:
    """``--extraction-only``: ms per seed and seconds per MB, each against its target."""
    args = ["--extraction-only", "--extract-repeats", "2", "--extract-sizes", "0.03,0.06"]
    args += ["--mac-dir", ""]  # a clone without ../shared/dev: MAC-Dev is not this section's
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    header, *rows = _section(result.output, "extraction")
    assert header.split() == ["seed", "ms/doc", "best_ms"]
    seeds = [r for r in rows if r.split()[0].endswith(".txt")]
    assert len(seeds) == 4 and all(float(r.split()[1]) > 0 for r in seeds)
    assert re.search(
        rf"slowest seed: {NUMBER} ms \(target <= 10 ms\) (OK|FAIL)$", result.output, re.M
    )
    sizes = [r.split() for r in rows if re.fullmatch(rf"\s*{NUMBER}(\s+{NUMBER}){{3}}", r)]
    assert [float(r[0]) for r in sizes] == pytest.approx([0.03, 0.06], abs=0.01)
    assert "== aligner" not in result.output  # the other sections did not run


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
        ("--mac-dir", "tests/gold"),
        ("--mac-encoders", "use-m,labse"),
        ("--mac-encoders", ","),
        ("--speed-sentences", "-5"),
        ("--extract-sizes", "x"),
        ("--extract-sizes", "0"),
        ("--extract-repeats", "-1"),
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
