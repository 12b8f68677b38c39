"""The Vecalign/Bertalign metric, checked on tables of hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.evaluate import (
    AlignmentFormatError,
    bead_pairs,
    format_bead,
    read_beads,
    score_alignments,
    score_documents,
    score_paths,
    write_beads,
)
from pipeline.records import Bead

# Worked example (see test ids): gold has a 1-2, a deletion, an insertion and a 2-1.
GOLD = [([0], [0]), ([1], [1, 2]), ([2], []), ([], [3]), ([3, 4], [4])]
TEST = [([0], [0]), ([1], [1]), ([], [2]), ([2], []), ([3], [3]), ([4], [4])]

# (name, test, gold, expected p_strict, r_strict, f_strict, p_lax, r_lax, f_lax)
# Hand computation for "mixed": precision over the 6 test beads: strict hits [0]:[0] and
# [2]:[]; lax adds [1]:[1] (src 1 -> gold tgt {1,2}) and [4]:[4]; []:[2] and [3]:[3] miss.
# Recall over the 3 gold links: strict [0]:[0]; lax adds [1]:[1,2] and [3,4]:[4].
CASES = [
    ("identical", GOLD, GOLD, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    ("mixed", TEST, GOLD, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 1.0, 0.8),
    # A 2-2 where gold has two 1-1s: no strict hit, all lax.
    ("merged", [([0, 1], [0, 1])], [([0], [0]), ([1], [1])], 0.0, 0.0, 0.0, 1.0, 1.0, 1.0),
    # Shifted by one: no source sentence reaches its gold target, so not even lax.
    ("shifted", [([0], [1]), ([1], [2])], [([0], [0]), ([1], [1])], 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    # Deletions in the test count against precision but gold deletions never enter recall.
    ("all-deleted", [([0], []), ([], [0])], [([0], [0])], 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    ("gold-deletion", [([0], [0]), ([1], [])], [([0], [0]), ([1], [])], 1.0, 1.0, 1.0, 1, 1, 1),
    # Duplicates count once and []:[] beads are ignored, as in Vecalign's sets.
    ("dupes", [([0], [0]), ([0], [0]), ([], [])], [([0], [0])], 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
]


@pytest.mark.parametrize("name,test,gold,ps,rs,fs,pl,rl,fl", CASES, ids=[c[0] for c in CASES])
def test_score_table(name, test, gold, ps, rs, fs, pl, rl, fl) -> None:
    s = score_alignments(test, gold)
    got = [s[k] for k in ("precision_strict", "recall_strict", "f1_strict")]
    got += [s[k] for k in ("precision_lax", "recall_lax", "f1_lax")]
    assert got == pytest.approx([ps, rs, fs, pl, rl, fl])


def test_micro_average_over_documents() -> None:
    doc_a = ([([0], [0])], [([0], [0])])
    doc_b = ([([0, 1], [0, 1]), ([2], [2])], [([0], [0]), ([1], [1]), ([2], [2])])
    s = score_documents([doc_a, doc_b])
    # Counts are pooled: P = 2/3, R = 2/4; a macro average would give F1 0.7 instead.
    assert s["precision_strict"] == pytest.approx(2 / 3)
    assert s["recall_strict"] == pytest.approx(0.5)
    assert s["f1_strict"] == pytest.approx(4 / 7)
    assert (s["documents"], s["test_beads"], s["gold_beads"]) == (2, 3, 4)


def test_read_and_format_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("[0]:[0, 1]:0.931\n\n[]:[2]\n[1, 2]:[]\n[3]:[3]:-0.2\n", encoding="utf-8")
    beads = read_beads(path)
    assert beads == [([0], [0, 1]), ([], [2]), ([1, 2], []), ([3], [3])]
    assert format_bead([0], [0, 1]) == "[0]:[0, 1]"
    assert format_bead([], [5], 0.5) == "[]:[5]:0.500000"
    write_beads(tmp_path / "b.txt", beads)
    assert read_beads(tmp_path / "b.txt") == beads
    assert bead_pairs([Bead([1], [2, 3], 0.4)]) == [([1], [2, 3])]


@pytest.mark.parametrize("line", ["[0][1]", "[0]:[x]", "[0]:[-1]", "[0]:[1]:high", "0:1"])
def test_bad_bead_line_names_file_and_line(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(f"[0]:[0]\n{line}\n", encoding="utf-8")
    with pytest.raises(AlignmentFormatError, match=r"bad\.txt:2: bad bead"):
        read_beads(path)


def test_folders_matched_by_name(tmp_path: Path) -> None:
    (tmp_path / "test").mkdir()
    (tmp_path / "gold").mkdir()
    write_beads(tmp_path / "gold" / "d1.txt", doc_b_gold := [([0], [0]), ([1], [1])])
    write_beads(tmp_path / "test" / "d1.txt", doc_b_gold)
    write_beads(tmp_path / "gold" / "d2.txt", [([0], [0])])
    write_beads(tmp_path / "test" / "d2.txt", [([0], [1])])
    s = score_paths(tmp_path / "test", tmp_path / "gold")
    assert s["documents"] == 2
    assert s["precision_strict"] == pytest.approx(2 / 3)
    write_beads(tmp_path / "gold" / "d3.txt", [([0], [0])])
    with pytest.raises(ValueError, match="no test file .* for gold d3.txt"):
        score_paths(tmp_path / "test", tmp_path / "gold")


def test_cli_eval_prints_table(tmp_path: Path) -> None:
    write_beads(tmp_path / "gold.txt", GOLD)
    write_beads(tmp_path / "test.txt", TEST)
    result = CliRunner().invoke(
        main, ["eval", str(tmp_path / "test.txt"), str(tmp_path / "gold.txt")]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split() == ["precision", "0.3333", "0.6667"]
    assert lines[2].split() == ["recall", "0.3333", "1.0000"]
    assert lines[3].split() == ["f1", "0.3333", "0.8000"]


def test_cli_eval_bad_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "gold.txt").write_text("[0]:[0]\n", encoding="utf-8")
    (tmp_path / "test.txt").write_text("nonsense\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["eval", str(tmp_path / "test.txt"), str(tmp_path / "gold.txt")]
    )
    assert result.exit_code == 1
    assert "test.txt:1: bad bead" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("line", ["[0]::[1]", "[0]:[1]:", ":[0]:[1]", "[0]:[1]::0.5"])
def test_empty_field_is_a_bad_bead(tmp_path: Path, line: str) -> None:
    """An empty field is a damaged line, not a bead with the field left out."""
    path = tmp_path / "bad.txt"
    path.write_text(f"[0]:[0]\n{line}\n", encoding="utf-8")
    with pytest.raises(AlignmentFormatError, match=r"bad\.txt:2: bad bead"):
        read_beads(path)


@pytest.mark.parametrize("line", ["[0]:[x]", "[0]:[1, ]]", "[0]:(1, 2)"])
def test_bad_bead_reason_is_readable(tmp_path: Path, line: str) -> None:
    """The reason names the offending field, not a Python parser internal."""
    path = tmp_path / "bad.txt"
    path.write_text(f"{line}\n", encoding="utf-8")
    with pytest.raises(AlignmentFormatError) as info:
        read_beads(path)
    message = str(info.value)
    assert "not a list of non-negative integers" in message
    assert "ast." not in message and " object at 0x" not in message
