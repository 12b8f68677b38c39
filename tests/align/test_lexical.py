"""The lexical evidence term: CC-CEDICT lookup, anchors, per-sentence links, and what the
term changes in a real alignment (the general gold, real bundled use-m encoder)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.align import AlignParams, align_texts, dictionary, full_band
from pipeline.align.dictionary import en_to_zh, lexicon_cache_path, stem
from pipeline.align.evidence import (
    anchors,
    band_flags,
    is_chinese,
    reliability,
    sentence_evidence,
)
from pipeline.embed import load_encoder

GOLD = Path(__file__).resolve().parents[1] / "gold" / "general"


def test_stem_is_the_same_for_the_forms_of_a_word() -> None:
    assert stem("boots") == stem("boot")
    assert stem("sucked") == stem("suck")
    assert stem("stopped") == stem("stop") == stem("stopping")
    assert stem("amazed") == stem("amaze") == stem("amazing")
    assert stem("brought") == stem("bring")
    assert stem("trees") == stem("tree") and stem("boxes") == stem("box")
    assert stem("glass") == "glass"


def test_cedict_lookup_translates_english_words() -> None:
    lexicon = en_to_zh()
    assert len(lexicon) > 10_000
    assert "靴子" in lexicon[stem("boots")]
    assert "狗" in lexicon[stem("dogs")]
    assert "渔夫" in lexicon[stem("fisherman")]
    assert "the" not in lexicon and "of" not in lexicon  # stop words translate nothing
    assert en_to_zh() is lexicon  # built once per process


def test_anchors_are_numbers_and_symbols_not_capitalised_words() -> None:
    en = anchors("Recalling its resolution A/RES/75/58 of 7 December 2020,")
    assert en == {"#7", "#2020", "#75", "#58", "@a/res/75/58"}
    zh = anchors("回顾 2020 年 12 月 7 日第 75/58 号决议")
    assert zh == {"#2020", "#12", "#7", "#75", "#58", "@75/58"}
    assert anchors("It cost 1,500 dollars.") == {"#1500"}
    # German capitalises every noun, and names are transliterated in Chinese
    assert anchors("Der Hund lief über die Straße nach Berlin.") == set()
    assert anchors("UNESCO and COVID-19") == {"@unesco", "@covid-19", "#19"}


def test_which_side_is_chinese() -> None:
    assert is_chinese(["老渔夫把船卖了。", "", "Footnote in English."] + ["天黑了。"])
    assert not is_chinese(["The old fisherman sold his boat.", "天黑了。"])
    assert not is_chinese(["", "  "])


EN = [
    "The old fisherman sold his boat in the spring.",
    "Yes.",
    "The committee adopted resolution 75/58 without a vote.",
]
ZH = [
    "春天，老渔夫把他的船卖掉了。",
    "天空慢慢地暗了下来，远处传来狗叫声。",
    "委员会未经表决通过了第 75/58 号决议。",
]


def test_sentence_links_zh_en_by_lexicon_and_numbers() -> None:
    ev = sentence_evidence(EN, ZH)
    rows = np.array([1, 1, 3, 3])  # band cell ends: src i = row - 1, tgt j = col - 1
    cols = np.array([1, 2, 3, 2])
    assert ev.links(rows, cols).tolist() == [True, False, True, False]
    # "Yes." has no content word the lexicon knows: a missing link there means nothing
    src_ok, tgt_ok = ev.linkable()
    assert src_ok.tolist() == [True, False, True]
    assert tgt_ok.all()
    # either order: Chinese first
    rev = sentence_evidence(ZH, EN)
    assert rev.links(np.array([1, 2]), np.array([1, 1])).tolist() == [True, False]


def test_other_pairs_get_numbers_and_symbols_but_no_lexicon() -> None:
    de = ["Der Ausschuss nahm die Resolution 75/58 an.", "Es regnete den ganzen Tag."]
    fr = ["Le comité a adopté la résolution 75/58.", "Il a plu toute la journée."]
    ev = sentence_evidence(de, fr)
    assert ev.links(np.array([1, 2]), np.array([1, 2])).tolist() == [True, False]
    # the second pair has no anchor: no evidence either way, never flagged
    assert ev.linkable()[0].tolist() == [True, False]


def test_unlinked_flags_mark_the_merged_sentence_without_a_link() -> None:
    # src: one English sentence; tgt: its translation, then an unrelated sentence
    ev = sentence_evidence([EN[0]], ZH[:2])
    band = full_band(1, 2)
    types = [(1, 1), (1, 2)]
    rows, cols = band.cell_rows(), band.cell_cols()
    flags = band_flags(ev.links(rows, cols), *ev.linkable(), band, rows, cols, types)
    assert 0 not in flags  # a 1-1 bead is the embedding's business
    src_flags, tgt_flags = flags[1]
    cell = int(band.offset[1] + 2 - band.lo[1])  # the 1-2 bead ending at (1, 2)
    assert src_flags == []  # only the merged side is checked
    # flag k is tgt sentence cols-1-k: k=0 the dog/sky sentence, k=1 the translation
    assert [bool(f[cell]) for f in tgt_flags] == [True, False]


def test_reliability_says_how_much_a_missing_link_means() -> None:
    en = [f"The fisherman sold boat number {k}." for k in range(8)]
    zh = [f"渔夫卖掉了第 {k} 号船。" for k in range(8)]
    # every true pair links (word and number), a far pair only by "fisherman"/"渔夫"
    assert reliability(sentence_evidence(en, zh), [(k, k) for k in range(8)]) == 0.0
    plain = [
        "The old fisherman sold his wooden boat at the market.",
        "Heavy rain was falling on the harbour all night.",
        "His daughter wrote him a long letter from the city.",
        "The hungry dog slept by the warm fire.",
        "Nobody came to buy fresh fish that morning.",
    ]
    chinese = [
        "老渔夫在市场上卖掉了他的木船。",
        "整夜大雨落在港口上。",
        "他的女儿从城里给他写了一封长信。",
        "饥饿的狗睡在温暖的火旁。",
        "那天早上没有人来买新鲜的鱼。",
    ]
    assert reliability(sentence_evidence(plain, chinese), [(k, k) for k in range(5)]) == 1.0
    assert reliability(sentence_evidence(plain, chinese), [(0, 0), (1, 1)]) == 0.0  # too few


def test_lexical_weight_must_be_a_finite_non_negative_number() -> None:
    with pytest.raises(ValueError, match="lexical_weight"):
        AlignParams(lexical_weight=-0.5)
    with pytest.raises(ValueError, match="lexical_weight"):
        AlignParams(lexical_weight=float("nan"))


@pytest.fixture(scope="module")
def general() -> tuple[list[str], list[str]]:
    return (
        (GOLD / "en.txt").read_text(encoding="utf-8").splitlines(),
        (GOLD / "zh.txt").read_text(encoding="utf-8").splitlines(),
    )


def test_lexicon_keeps_related_insertions_out_of_real_splits(general) -> None:
    """On the general gold the embeddings glue the scene-related insertion "时间仿佛停住
    了。" and the deletion "The mud sucked at her boots." onto their neighbours; neither
    shares a word with the other side, so with the lexical term both stay unaligned as
    the gold has them, while the real one-to-many beads stay merged."""
    en, zh = general
    encoder = load_encoder("use-m")
    mud = next(i for i, s in enumerate(en) if s.startswith("The mud sucked"))
    stopped = next(j for j, s in enumerate(zh) if s.startswith("时间仿佛停住了"))
    without = align_texts(en, zh, encoder, replace(AlignParams(), lexical_weight=0.0))
    assert not any(b.src == [mud] and not b.tgt for b in without.beads)
    with_lexicon = align_texts(en, zh, encoder, AlignParams())
    beads = {(tuple(b.src), tuple(b.tgt)) for b in with_lexicon.beads}
    assert ((mud,), ()) in beads
    assert ((), (stopped,)) in beads
    merged = [b for b in with_lexicon.beads if len(b.src) + len(b.tgt) > 2]
    assert len(merged) >= len([b for b in without.beads if len(b.src) + len(b.tgt) > 2]) - 2


def test_lexicon_table_is_cached_per_dictionary_and_rules(tmp_path, monkeypatch) -> None:
    """The table is built once per machine, kept in the user's cache folder, and a cache
    that cannot be read is rebuilt rather than an error."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = lexicon_cache_path()
    assert path.parent == tmp_path / "un-parallel-pipeline"
    built = en_to_zh.__wrapped__()  # the uncached function: builds and writes
    assert path.is_file()
    assert en_to_zh.__wrapped__() == built  # read back from the file
    path.write_text("{not json", encoding="utf-8")
    assert en_to_zh.__wrapped__() == built  # rebuilt
    monkeypatch.setattr(dictionary, "LEXICON_FORMAT", "other rules")
    assert lexicon_cache_path() != path
