"""The decision step: which aligned rows go into the corpus and which into rejects.

Scores are computed by the aligner and stay in the data; thresholds are applied here,
in a separate step, as OpusFilter does, so a user can rebuild with other thresholds
(or re-filter the Parquet themselves) without re-aligning. A row that a filter drops
goes to the rejects table with the reason; nothing is lost silently.

Besides the optional filters, one check always runs: text must be clean (no markdown,
footnote markers, link syntax, line breaks or control characters). Unclean text is an
extraction bug, and a corpus that notebook users trust must not carry it; such a row
is rejected with the offending pattern named, which makes the bug visible.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from pipeline.corpus.layout_debris import layout_debris
from pipeline.text.script import HAN_CLASS

if TYPE_CHECKING:
    from pipeline.records import BeadRow

#: Patterns that must never appear in corpus text, with the name used in reasons.
UNCLEAN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("line break", re.compile(r"[\r\n\u2028\u2029]")),
    ("control character", re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")),
    ("markdown emphasis", re.compile(r"\*\*|__|(?<![\w*])\*(?=\S)[^*]*(?<=\S)\*(?![\w*])")),
    ("markdown heading", re.compile(r"^\s*#{1,6}\s")),
    ("link syntax", re.compile(r"\]\([^)]*\)")),
    ("html tag", re.compile(r"</?(?:sup|sub|a|b|i|em|strong|span|p|br|div)\b[^>]*>", re.I)),
    ("superscript footnote marker", re.compile(r"[\u00b9\u00b2\u00b3\u2070-\u2079]")),
)

#: Reasons a row can be rejected with (the first part, before any ": detail").
REASONS = (
    "unclean_text",
    "layout_debris",
    "lang_mismatch",
    "score_below_min",
    "len_ratio_above_max",
)


@dataclass(frozen=True)
class FilterOptions:
    """Thresholds of the decision step; every one is recorded in the manifest.

    ``min_score``: drop beads scored below this (the aligner's score, about -1..1).
    None keeps every score. Beads with an empty side (1-0, 0-1) are kept whatever
    their score: they record omissions and are never exported as translation pairs.
    ``max_len_ratio``: drop beads whose token-count ratio (larger side over smaller
    side, English words vs. jieba tokens) exceeds this. None disables the check.
    ``lang_check``: drop beads whose English side is mostly Chinese script or whose
    Chinese side has too little Chinese script (see ``language_problem``).
    """

    min_score: float | None = None
    max_len_ratio: float | None = None
    lang_check: bool = True

    def __post_init__(self) -> None:
        # NaN would disable a filter silently (no comparison with NaN is true) and land
        # in manifest.json as ``NaN``, which is not JSON.
        if self.min_score is not None and not math.isfinite(self.min_score):
            raise ValueError(f"min_score must be a finite number, not {self.min_score!r}")
        if self.max_len_ratio is not None and not (
            math.isfinite(self.max_len_ratio) and self.max_len_ratio >= 1
        ):
            raise ValueError(
                f"max_len_ratio must be a finite number >= 1 (larger side over smaller), "
                f"not {self.max_len_ratio!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def unclean_reason(text: str) -> str | None:
    """Name of the first markup/debris pattern found in ``text``, or None if clean."""
    for name, pattern in UNCLEAN_PATTERNS:
        if pattern.search(text):
            return name
    return None


def han_share(text: str) -> float | None:
    """Share of Han characters among the letters of ``text``; None when it has none.

    Script, not a statistical language model: en and zh differ by script, the check
    is exact and needs no model, and UN Chinese text legitimately contains Latin
    symbols ("A/75/399") that a word-level identifier would be confused by.
    """
    # str.isalpha is exactly "general category L*"; counted in C, not char by char in
    # Python (that loop was the largest CPU cost of the decide stage).
    letters = sum(map(str.isalpha, text))
    if letters == 0:
        return None
    return sum(map(str.isalpha, _HAN_CHAR.findall(text))) / letters


#: An English side may quote a Chinese name; more Han than this is not English.
MAX_HAN_SHARE_EN = 0.2
#: A Chinese side may contain symbols and Latin names; less Han than this is not Chinese.
MIN_HAN_SHARE_ZH = 0.5
#: A side with fewer letters than this ("A/75/171.", "2020") is too short to judge.
MIN_LETTERS_TO_JUDGE = 3

_LATIN_WORD = re.compile(r"[A-Za-z]+")
_HAN_CHAR = re.compile(f"[{HAN_CLASS}]")


def language_problem(en: str, zh: str) -> str | None:
    """Why the pair fails the language check, or None.

    Latin words the Chinese side shares with the English side (document symbols such
    as "A/59/361", names) do not count against it: UN Chinese text keeps them in Latin
    script; but a Chinese side without a single Han character is not Chinese (an
    untranslated copy). Sides with fewer than ``MIN_LETTERS_TO_JUDGE`` letters pass.
    """
    en_share = han_share(en)
    if en_share is not None and en_share > MAX_HAN_SHARE_EN:
        return f"en side is {en_share:.0%} Chinese script"
    zh_letters = sum(map(str.isalpha, zh))
    if zh_letters >= MIN_LETTERS_TO_JUDGE and not _HAN_CHAR.search(zh):
        return "zh side has no Chinese characters"
    shared = set(_LATIN_WORD.findall(en))
    zh_own = _LATIN_WORD.sub(lambda m: " " if m.group(0) in shared else m.group(0), zh)
    letters = sum(map(str.isalpha, zh_own))  # str.isalpha is general category L*, in C
    if letters < MIN_LETTERS_TO_JUDGE:
        return None
    zh_share = han_share(zh_own)
    if zh_share is not None and zh_share < MIN_HAN_SHARE_ZH:
        return f"zh side is only {zh_share:.0%} Chinese script"
    return None


def reject_reason(
    *,
    en: str,
    zh: str,
    score: float,
    len_ratio: float | None,
    options: FilterOptions,
) -> str | None:
    """The decision for one row: None to keep it, else ``"reason: detail"``.

    Checks run in a fixed order (clean text, layout debris, language, score, length
    ratio) so the reason is deterministic; the first failing check wins.
    """
    for side, text in (("en", en), ("zh", zh)):
        problem = unclean_reason(text)
        if problem is not None:
            return f"unclean_text: {problem} in {side}"
    for side, text in (("en", en), ("zh", zh)):
        debris = layout_debris(text)
        if debris is not None:
            return f"layout_debris: {debris} in {side}"
    if options.lang_check:
        problem = language_problem(en, zh)
        if problem is not None:
            return f"lang_mismatch: {problem}"
    both_sides = bool(en) and bool(zh)
    if both_sides and options.min_score is not None and score < options.min_score:
        return f"score_below_min: {score:.3f} < {options.min_score}"
    if options.max_len_ratio is not None and len_ratio is not None:
        if len_ratio > options.max_len_ratio:
            return f"len_ratio_above_max: {len_ratio:.2f} > {options.max_len_ratio}"
    return None


def row_reject_reason(row: BeadRow, options: FilterOptions) -> str | None:
    """:func:`reject_reason` of a dataset row (``pipeline.records``)."""
    return reject_reason(
        en=row.en, zh=row.zh, score=row.score, len_ratio=row.len_ratio, options=options
    )


def length_ratio(en_tokens: int, zh_tokens: int) -> float | None:
    """Larger token count over smaller (>= 1); None when a side is empty."""
    if en_tokens <= 0 or zh_tokens <= 0:
        return None
    return max(en_tokens, zh_tokens) / min(en_tokens, zh_tokens)
