"""The decision step: clean-text check, language check, score and length filters."""

from __future__ import annotations

import pytest

from pipeline.corpus.filters import (
    FilterOptions,
    han_share,
    language_problem,
    length_ratio,
    reject_reason,
    unclean_reason,
)

EN = "Calls upon all Member States to support international efforts."
ZH = "吁请所有会员国支持国际努力。"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Calls **upon** States", "markdown emphasis"),
        ("Calls *upon* States", "markdown emphasis"),
        ("## Heading", "markdown heading"),
        ("see [the report](#) here", "link syntax"),
        ("the Convention<sup>2</sup> on", "html tag"),
        ("the Convention² on", "superscript footnote marker"),
        ("held in Baku on\n25 October", "line break"),
        ("bell\x07", "control character"),
    ],
)
def test_unclean_text_is_named(text: str, problem: str) -> None:
    assert unclean_reason(text) == problem


@pytest.mark.parametrize(
    "text",
    [EN, ZH, "Ibid., vol. 1456, No. 24631.", "resolution 1540 (2004) * 3", "(A/75/399，第 96 段)"],
)
def test_clean_text_passes(text: str) -> None:
    assert unclean_reason(text) is None


def test_han_share_and_language_problem() -> None:
    assert han_share(EN) == 0.0
    assert han_share(ZH) == 1.0
    assert han_share("2020, 12.") is None
    assert language_problem(EN, ZH) is None
    assert language_problem(EN, "(A/75/399，第 96 段)") is None  # mostly Han letters
    assert "zh side" in (language_problem(EN, "Distr.: General 14 December 2020") or "")
    assert "en side" in (language_problem(ZH, ZH) or "")
    # symbols and Latin names shared with the English side are normal in UN Chinese
    assert language_problem("A/75/171.", "A/75/171。") is None
    assert language_problem("See A/59/361.", "见 A/59/361。") is None
    assert language_problem("The IAEA Board met.", "IAEA Board 理事会开会了。") is None
    # an untranslated copy is not Chinese, however much it shares with the English
    assert language_problem("Distr.: General", "Distr.: General") is not None
    assert language_problem("Ibid.", "Ibid.") is not None


def test_reject_reason_order_and_thresholds() -> None:
    keep_all = FilterOptions(min_score=None, max_len_ratio=None, lang_check=False)
    assert reject_reason(en=EN, zh=ZH, score=-5.0, len_ratio=9.0, options=keep_all) is None
    strict = FilterOptions(min_score=0.3, max_len_ratio=2.0, lang_check=True)
    assert reject_reason(en=EN, zh=ZH, score=0.9, len_ratio=1.2, options=strict) is None
    low = reject_reason(en=EN, zh=ZH, score=0.1, len_ratio=1.2, options=strict)
    assert low is not None and low.startswith("score_below_min")
    long = reject_reason(en=EN, zh=ZH, score=0.9, len_ratio=3.0, options=strict)
    assert long is not None and long.startswith("len_ratio_above_max")
    # unclean text wins over everything else, then language
    both = reject_reason(en=EN + "²", zh="English text", score=0.1, len_ratio=3.0, options=strict)
    assert both == "unclean_text: superscript footnote marker in en"
    lang = reject_reason(en=EN, zh="English text", score=0.1, len_ratio=3.0, options=strict)
    assert lang is not None and lang.startswith("lang_mismatch")
    # the clean-text check cannot be switched off
    assert reject_reason(en="a **b**", zh=ZH, score=1, len_ratio=1, options=keep_all) is not None


def test_one_sided_beads_are_not_score_filtered() -> None:
    strict = FilterOptions(min_score=0.3)
    assert reject_reason(en=EN, zh="", score=-0.2, len_ratio=None, options=strict) is None
    assert reject_reason(en="", zh=ZH, score=-0.2, len_ratio=None, options=strict) is None


def test_length_ratio() -> None:
    assert length_ratio(10, 5) == 2.0
    assert length_ratio(5, 10) == 2.0
    assert length_ratio(0, 3) is None
