"""Text folded for matching: what two texts share once case, width, accents,
punctuation and numbers stop counting.

Why fold: the General Assembly renews a resolution by copying it and changing years,
resolution numbers and session ordinals; converters differ in full-width or ASCII
punctuation, spacing around Chinese numbers and accents. A duplicate of a sentence pair
(``pipeline.corpus.dedup``) and a near-duplicate document (``pipeline.corpus.lineage``)
must be found through all of that, as bifixer's aggressive dedup does (it ignores case,
accents and digits). Folding is for keys only; the corpus keeps the text as written.
"""

from __future__ import annotations

import re
import unicodedata

#: Combining marks left by NFKD (accents: "Côte" -> "Cote").
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
#: Any run of decimal digits (ASCII, full-width, other scripts' digits after NFKD).
_DIGITS_RE = re.compile(r"\d+")
#: Punctuation, symbols and spaces: everything that is not a letter, a digit or Han.
_NON_WORD_RE = re.compile(r"[\W_]+")
#: What a run of digits folds to: "2020" and "74/43" and "12" all match.
DIGIT = "0"


def fold_text(text: str, language: str) -> str:
    """``text`` folded: NFKD (full-width forms become ASCII, superscripts digits),
    accents dropped, case folded, every run of digits one ``0``, punctuation and spaces
    one space; Chinese (``language`` "zh") without spaces, since converters space
    Chinese numbers and dates differently ("2020 年" / "2020年")."""
    folded = unicodedata.normalize("NFKD", text)
    if not folded.isascii():
        folded = _COMBINING_RE.sub("", folded)
    folded = _DIGITS_RE.sub(DIGIT, folded.casefold())
    folded = _NON_WORD_RE.sub(" ", folded).strip()
    return folded.replace(" ", "") if language == "zh" else folded
