"""What counts as a Han character, CJK punctuation or a CJK character: one definition.

Language recognition, the language filter, sentence splitting, line joining and space
removal all ask "is this Chinese script?". They used to answer with four different
ranges (only the filter knew CJK Extension B), so a sentence in rare characters counted
as Chinese for one stage and not for the next. Every module now imports from here.
"""

from __future__ import annotations

#: Han ideographs: Extension A, the URO, compatibility ideographs, Extensions B to H.
HAN_RANGES: tuple[tuple[int, int], ...] = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x323AF),
)
#: CJK symbols and punctuation (、。〈〉「」 and the ideographic space) and the
#: full-width / half-width forms block (，！？（）： and full-width digits and letters).
CJK_PUNCTUATION_RANGES: tuple[tuple[int, int], ...] = ((0x3000, 0x303F), (0xFF00, 0xFF65))
_FORMS_RANGE = (0xFF00, 0xFFEF)


def _class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in ranges)


#: Regex character-class bodies (use inside ``[...]``).
HAN_CLASS = _class(HAN_RANGES)
CJK_CLASS = _class(HAN_RANGES + (CJK_PUNCTUATION_RANGES[0], _FORMS_RANGE))
CJK_PUNCTUATION_CLASS = _class(CJK_PUNCTUATION_RANGES)


def _in(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def is_han(char: str) -> bool:
    """A Han ideograph (what language recognition and the language filter count)."""
    return bool(char) and _in(ord(char), HAN_RANGES)


def is_cjk_punctuation(char: str) -> bool:
    """CJK or full-width punctuation: no space is needed on either side of it."""
    return bool(char) and _in(ord(char), CJK_PUNCTUATION_RANGES)


def is_cjk(char: str) -> bool:
    """Han, CJK punctuation or a full-width form: a space between two of them is never
    text in Chinese (it comes from a line break, a spaced-out heading or a removed
    footnote marker)."""
    return bool(char) and _in(ord(char), HAN_RANGES + (CJK_PUNCTUATION_RANGES[0], _FORMS_RANGE))
