"""Which language a decoded text is in: ``zh``, ``en`` or neither (then it is refused).

``zh`` when Han characters are at least 30% of letters (Han + Latin) and there is almost
no kana; ``en`` when Latin letters dominate and English function words ("the", "of",
"and", "to", "in") are at least 8% of the words. Anything else is rejected as
unrecognised rather than guessed.
"""

from __future__ import annotations

import re

from pipeline.text.script import is_han

_EN_FUNCTION_WORDS = {"the", "of", "and", "to", "in"}


def detect_language(text: str) -> str | None:
    """``"zh"``, ``"en"`` or None, from the share of Han characters and English words.

    Markup and symbols are ASCII, so the Han share is taken over letters only; an
    English file must also read as English (function words), so French or Spanish
    UN text is refused instead of being called English.
    """
    han = sum(1 for c in text if is_han(c))
    kana = sum(1 for c in text if 0x3040 <= ord(c) <= 0x30FF)
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    if han >= 10 and han >= 0.3 * (han + latin) and kana <= 0.05 * han:
        return "zh"
    words = re.findall(r"[A-Za-z]+", text)
    if latin >= 50 and han <= 0.05 * latin and words:
        share = sum(1 for w in words if w.lower() in _EN_FUNCTION_WORDS) / len(words)
        if share >= 0.08:
            return "en"
    return None
