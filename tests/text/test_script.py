"""One definition of Chinese script, used alike by every stage (issue 10, item 3)."""

from __future__ import annotations

import re

import pytest

from pipeline.corpus.filters import han_share
from pipeline.text.script import CJK_CLASS, HAN_CLASS, is_cjk, is_cjk_punctuation, is_han
from pipeline.text.segment import split_sentences

EXT_B = "\U00020bb7"  # 𠮷, CJK Extension B: outside the basic block


@pytest.mark.parametrize(
    ("char", "han", "cjk", "punct"),
    [
        ("大", True, True, False),
        ("㐀", True, True, False),  # Extension A
        (EXT_B, True, True, False),
        ("兀", True, True, False),  # U+F900 compatibility ideograph block
        ("。", False, True, True),
        ("，", False, True, True),
        ("Ａ", False, True, True),  # full-width Latin
        ("ｶ", False, True, False),  # half-width katakana: a form, not punctuation
        ("a", False, False, False),
        (";", False, False, False),
        ("", False, False, False),
    ],
)
def test_character_classes(char: str, han: bool, cjk: bool, punct: bool) -> None:
    assert (is_han(char), is_cjk(char), is_cjk_punctuation(char)) == (han, cjk, punct)
    if char:
        assert bool(re.fullmatch(f"[{HAN_CLASS}]", char)) == han
        assert bool(re.fullmatch(f"[{CJK_CLASS}]", char)) == cjk


def test_extension_b_is_chinese_for_the_filter_and_the_segmenter() -> None:
    text = f"{EXT_B}{EXT_B}大会。{EXT_B}决定！"
    assert han_share(text) == 1.0
    assert split_sentences(text, "zh") == [f"{EXT_B}{EXT_B}大会。", f"{EXT_B}决定！"]
