"""Alignment quality on our gold sets and stress cases, with the real bundled encoder.

Thresholds were set from measurements (README "Evaluation") with a small margin, so a
regression of one or two beads fails. Ours is compared with our reimplementations of
Bertalign's and Vecalign's algorithms (benchmarks.baselines) on the *same* embeddings:
one memoising encoder serves all three, so every method sees identical vectors for
identical sentences and overlaps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks import synth
from benchmarks.baselines import MemoEncoder, bertalign_align
from benchmarks.vecalign_reimpl import vecalign_align
from pipeline.align import align_texts
from pipeline.align.document import align_pair
from pipeline.embed import load_encoder
from pipeline.evaluate import BeadPair, bead_pairs, read_beads, score_alignments
from pipeline.extract import extract_file
from pipeline.records import DocumentPair
from pipeline.text.segment import segment_document

GOLD = Path(__file__).parent / "gold"
RAW = Path(__file__).parent.parent / "data" / "raw"
EN_7558 = RAW / "002_69ed3383ef6f2041.txt"
ZH_7558 = RAW / "003_df19238bedd244e2.txt"

# Sentences from neither document, for one-sided insertions in stress cases.
FOREIGN_EN = [
    "The committee met again on Tuesday.",
    "Prices rose sharply in the third quarter.",
    "Nobody remembered who had locked the gate.",
]
FOREIGN_ZH = ["委员会星期二再次开会。", "第三季度物价急剧上涨。", "谁也不记得是谁锁的门。"]

Aligner = Callable[[list[str], list[str], MemoEncoder], list[BeadPair]]


def _ours(src: list[str], tgt: list[str], encoder: MemoEncoder) -> list[BeadPair]:
    return bead_pairs(align_texts(src, tgt, encoder).beads)


ALIGNERS: dict[str, Aligner] = {
    "ours": _ours,
    "bertalign": bertalign_align,
    "vecalign": vecalign_align,
}


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def encoder() -> MemoEncoder:
    return MemoEncoder(load_encoder("use-m"))


@pytest.fixture(scope="module")
def pair_7558() -> DocumentPair:
    en, zh = extract_file(EN_7558), extract_file(ZH_7558)
    return DocumentPair(en.symbol, en, zh)


@pytest.fixture(scope="module")
def general_units() -> list[synth.Unit]:
    d = GOLD / "general"
    return synth.units_from_gold(
        _lines(d / "en.txt"), _lines(d / "zh.txt"), read_beads(d / "gold.txt")
    )


@pytest.fixture(scope="module")
def un_units() -> list[synth.Unit]:
    """75/58 as monotone units: the crossed closing lines become one 2-2 unit."""
    d = GOLD / "A-RES-75-58"
    en = [line.split("\t", 1)[1] for line in _lines(d / "en.txt")]
    zh = [line.split("\t", 1)[1] for line in _lines(d / "zh.txt")]
    gold = read_beads(d / "gold.txt")
    crossed = [([32], [32]), ([33], [31])]
    at = gold.index(crossed[0])
    monotone = [b for b in gold if b not in crossed]
    monotone.insert(at, ([32, 33], [31, 32]))
    return synth.units_from_gold(en, zh, monotone)


@pytest.fixture(scope="module")
def stress_cases(general_units, un_units) -> list[synth.StressCase]:
    cases = []
    for name, units in (("general", general_units), ("un", un_units)):
        for seed in range(3):
            edited, notes = synth.perturb(
                units, seed, operations=8, foreign_src=FOREIGN_EN, foreign_tgt=FOREIGN_ZH
            )
            cases.append(synth.case_from_units(f"{name}-perturbed-{seed}", edited, notes))
    cases.append(synth.long_document([general_units, un_units], 600, seed=11))
    return cases


@pytest.fixture(scope="module")
def stress_scores(stress_cases, encoder) -> dict[str, dict[str, float]]:
    return {
        case.name: {
            name: score_alignments(align(case.src, case.tgt, encoder), case.gold)["f1_strict"]
            for name, align in ALIGNERS.items()
        }
        for case in stress_cases
    }


# --- A/RES/75/58 -------------------------------------------------------------------


def test_7558_segmentation_matches_the_gold_sentences(pair_7558) -> None:
    """The gold indexes these exact lines; if segmentation changes, the gold must be
    redone by hand (tests/gold/README.md) rather than silently mis-scored."""
    for doc, name in ((pair_7558.en, "en.txt"), (pair_7558.zh, "zh.txt")):
        got = [f"{s.id}\t{s.text}" for s in segment_document(doc)]
        assert got == _lines(GOLD / "A-RES-75-58" / name)


@pytest.fixture(scope="module")
def aligned_7558(pair_7558, encoder):
    return align_pair(pair_7558, encoder)


def test_7558_align_pair_reaches_098(aligned_7558) -> None:
    gold = read_beads(GOLD / "A-RES-75-58" / "gold.txt")
    scores = score_alignments(bead_pairs(aligned_7558.beads), gold)
    assert scores["f1_strict"] >= 0.98  # measured 1.000


def test_7558_ours_beats_baselines_on_the_same_sentences(aligned_7558, encoder) -> None:
    gold = read_beads(GOLD / "A-RES-75-58" / "gold.txt")
    src = [s.text for s in aligned_7558.en_sentences]
    tgt = [s.text for s in aligned_7558.zh_sentences]
    ours = score_alignments(bead_pairs(aligned_7558.beads), gold)["f1_strict"]
    for name in ("bertalign", "vecalign"):
        theirs = score_alignments(ALIGNERS[name](src, tgt, encoder), gold)["f1_strict"]
        assert ours >= theirs, name


@pytest.mark.parametrize("seed", [0, 1])
def test_7558_footnotes_moved(pair_7558, aligned_7558, encoder, seed: int) -> None:
    """Footnotes placed elsewhere in the Chinese still pair by number."""
    gold = read_beads(GOLD / "A-RES-75-58" / "gold.txt")
    gold_ids = synth.beads_to_ids(
        gold,
        [s.id for s in aligned_7558.en_sentences],
        [s.id for s in aligned_7558.zh_sentences],
    )
    moved = DocumentPair(pair_7558.symbol, pair_7558.en, synth.move_footnotes(pair_7558.zh, seed))
    result = align_pair(moved, encoder)
    moved_gold = synth.ids_to_beads(
        gold_ids, [s.id for s in result.en_sentences], [s.id for s in result.zh_sentences]
    )
    assert score_alignments(bead_pairs(result.beads), moved_gold)["f1_strict"] >= 0.98


# --- general-domain gold -----------------------------------------------------------


def test_general_gold(general_units, encoder) -> None:
    case = synth.case_from_units("general", general_units)
    scores = {
        name: score_alignments(align(case.src, case.tgt, encoder), case.gold)["f1_strict"]
        for name, align in ALIGNERS.items()
    }
    # measured 0.9629 (41 beads: one bead is ~0.024), as before issue 9: the lexical
    # term (pipeline.align.evidence) keeps the scene-related insertion "时间仿佛停住了。" and
    # the deletion "The mud sucked at her boots." out of their neighbours' beads (0.910
    # without it, docs/aligner.md)
    assert scores["ours"] >= 0.962
    assert scores["ours"] >= scores["bertalign"]
    assert scores["ours"] >= scores["vecalign"]


# --- stress cases ------------------------------------------------------------------


def test_stress_cases_ours_at_least_baselines(stress_scores) -> None:
    """Ours beats both reimplementations on the mean over the stress cases and on all but
    one case (measured: mean 0.893 vs 0.769 / 0.808; un-perturbed-1 0.968 vs 1.000)."""
    worse = {
        case: scores
        for case, scores in stress_scores.items()
        if scores["ours"] < max(scores["bertalign"], scores["vecalign"])
    }
    assert len(worse) <= 1, worse
    for name in ("bertalign", "vecalign"):
        mean = sum(s[name] for s in stress_scores.values()) / len(stress_scores)
        assert sum(s["ours"] for s in stress_scores.values()) / len(stress_scores) > mean


def test_stress_cases_thresholds(stress_scores) -> None:
    perturbed = [s["ours"] for c, s in stress_scores.items() if "perturbed" in c]
    # measured: general 0.878/0.862/0.855, un 0.928/0.968/0.848 (mean 0.890); with the
    # kNN margin (before issue 9) 0.943/0.902/0.867, 0.945/1.000/0.923: the foreign and
    # deleted sentences these cases are built of are now more often glued to a neighbour
    # (docs/aligner.md)
    assert min(perturbed) >= 0.84
    assert sum(perturbed) / len(perturbed) >= 0.88
    assert stress_scores["long-600"]["ours"] >= 0.90  # measured 0.913


def test_long_case_is_long(stress_cases) -> None:
    long_case = stress_cases[-1]
    assert long_case.name == "long-600" and len(long_case.src) >= 600


# --- bead types --------------------------------------------------------------------

BEAD_TYPES = ["1-1", "1-2", "2-1", "2-2", "1-3", "3-1", "1-0", "0-1"]


def test_every_bead_type_where_it_should_be(general_units, encoder) -> None:
    """The general gold has 1-1, 1-2, 2-1, 2-2, 1-0 and 0-1 beads; merging three
    Chinese sentences adds a 3-1 and merging three English ones a 1-3, and an English
    sentence from another text a 1-0 that nothing on the Chinese side carries (the gold's
    own 1-0, a scene-related sentence, is glued to its neighbour). Each type must appear
    in our output as the exact gold bead at least once."""
    units = synth.merge_units(general_units, 4, 3, "tgt")  # 3-1: units 4-6
    units = synth.merge_units(units, 5, 3, "src")  # 1-3: original units 7-9
    units = synth.insert_block(units, 20, FOREIGN_EN[:1], "src")
    case = synth.case_from_units("types", units)
    gold_types = Counter(f"{len(s)}-{len(t)}" for s, t in case.gold)
    assert set(gold_types) == set(BEAD_TYPES)
    ours = {(tuple(s), tuple(t)) for s, t in _ours(case.src, case.tgt, encoder)}
    matched = Counter(f"{len(s)}-{len(t)}" for s, t in case.gold if (tuple(s), tuple(t)) in ours)
    missing = [t for t in BEAD_TYPES if not matched[t]]
    assert not missing, f"never produced where the gold has it: {missing}"


# --- the command line, end to end ---------------------------------------------------


def test_align_text_then_eval_on_the_general_gold(tmp_path: Path) -> None:
    """What a user runs: align-text on the sentence files, eval against the gold."""
    from click.testing import CliRunner

    from pipeline.cli import main

    d = GOLD / "general"
    runner = CliRunner()
    aligned = runner.invoke(main, ["align-text", str(d / "en.txt"), str(d / "zh.txt"), "--scores"])
    assert aligned.exit_code == 0, aligned.output
    test_file = tmp_path / "general.txt"
    test_file.write_text(aligned.stdout, encoding="utf-8")
    scored = runner.invoke(main, ["eval", str(test_file), str(d / "gold.txt")])
    assert scored.exit_code == 0, scored.output
    f1_strict = float(scored.output.splitlines()[3].split()[1])
    assert f1_strict >= 0.962  # measured 0.9629 (test_general_gold)
