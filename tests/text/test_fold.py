"""Folded text: the key duplicates and lineages are matched on."""

from __future__ import annotations

from pipeline.text.fold import fold_text


def test_case_accents_punctuation_and_digits_fold() -> None:
    assert fold_text("Recalling its resolution 74/43 of 12 December 2019,", "en") == (
        "recalling its resolution 0 0 of 0 december 0"
    )
    assert fold_text("CÔTE D’IVOIRE — Côte d'Ivoire!", "en") == "cote d ivoire cote d ivoire"
    assert fold_text("Secretary-General", "en") == fold_text("secretary general", "en")


def test_chinese_width_and_spacing_fold() -> None:
    """Full-width digits and punctuation, and the spaces converters put around numbers."""
    spaced = fold_text("2020 年 12 月 7 日大会决议。", "zh")
    assert spaced == fold_text("２０２０年１２月７日大会决议", "zh")
    assert fold_text("回顾其 2019 年第 74/43 号决议，", "zh") == "回顾其0年第00号决议"


def test_folding_keeps_words_apart() -> None:
    """Only digits and punctuation go: different words stay different keys."""
    member_states = fold_text("Calls upon all Member States", "en")
    assert member_states != fold_text("Calls upon all States", "en")
    assert fold_text("大会，", "zh") == "大会" != fold_text("大会决议", "zh")
