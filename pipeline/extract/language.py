"""Which language a decoded text is in: ``zh``, ``en`` or neither (then it is refused).

``zh`` when Han characters are at least 30% of letters (Han + Latin) and there is almost
no kana; ``en`` when Latin letters dominate and English function words ("the", "of",
"and", "to", "in") are at least 8% of the words. Anything else is rejected as
unrecognised rather than guessed.
"""

from __future__ import annotations

import re
import string

from pipeline.text.script import HAN_CLASS

_EN_FUNCTION_WORDS = {"the", "of", "and", "to", "in"}
# Counted by pattern, so the text is scanned in C: a Python test per character cost more
# than the rest of a seed's extraction.
_HAN_RE = re.compile(f"[{HAN_CLASS}]")
_KANA_RE = re.compile("[\u3040-\u30ff]")
_WORD_RE = re.compile("[A-Za-z]+")


def _count(pattern: re.Pattern[str], text: str) -> int:
    """Matches of ``pattern`` in ``text`` (``subn`` counts without a match object each)."""
    return pattern.subn("", text)[1]


def detect_language(text: str) -> str | None:
    """``"zh"``, ``"en"`` or None, from the share of Han characters and English words.

    Markup and symbols are ASCII, so the Han share is taken over letters only; an
    English file must also read as English (function words), so French or Spanish
    UN text is refused instead of being called English.
    """
    han, kana = _count(_HAN_RE, text), _count(_KANA_RE, text)
    latin = sum(map(text.count, string.ascii_letters))  # one C scan per letter: fastest
    if han >= 10 and han >= 0.3 * (han + latin) and kana <= 0.05 * han:
        return "zh"
    words = _WORD_RE.findall(text)
    if latin >= 50 and han <= 0.05 * latin and words:
        share = sum(1 for w in words if w.lower() in _EN_FUNCTION_WORDS) / len(words)
        if share >= 0.08:
            return "en"
    return None
