"""Sentence segmentation for English and Chinese, tuned for UN documents.

The aligner works on sentences inside blocks, so a wrong split is a wrong bead: "vol. 2445,
No. 44004." cut after "vol." becomes a 2-1 bead against the Chinese footnote, and a
Chinese paragraph cut at "；" no longer matches its English counterpart (both languages
end operative sub-paragraphs with a semicolon, so neither side splits there).

English uses sentencex (offline, fast) behind a masking layer: the dots of UN
abbreviations, dotted acronyms and document symbols are swapped for a placeholder that
sentencex does not treat as punctuation, and swapped back afterwards. Chinese uses a
small rule set: split after 。！？ (and runs such as ！？ or ……), carrying a closing
quote or bracket with the sentence.
"""

from __future__ import annotations

import dataclasses
import logging
import marshal
import re
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.records import Document, Sentence
from pipeline.text.script import CJK_CLASS, HAN_CLASS

#: Stands in for a masked dot while sentencex runs. A private-use character: it never
#: occurs in real text, and it is one character, so offsets do not move.
_DOT = "\ue000"

# --- English ---------------------------------------------------------------------------

#: Abbreviations whose dot never ends a sentence in UN text: they precede a number, a
#: name or a further reference ("vol. 2445", "Mr. Guterres", "para. 96", "Art. 5").
_ALWAYS = (
    "para paras Para Paras vol vols Vol Vols No Nos Art Arts art arts "
    "chap Chap sect Sect p pp fig Fig Add Corr Rev Suppl Amend "
    "Mr Mrs Ms Messrs Dr Prof St Mt Gen Sen Rep Hon Amb "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec "
    "cf viz approx fn"
).split()

#: Abbreviations that may also end a sentence ("Ibid." as a whole footnote, "... and so
#: on, etc."): masked unless followed by a capital letter (or nothing), which reads as a
#: new sentence.
_UNLESS_FINAL = ("Ibid", "ibid", "etc", "et al", "op. cit", "loc. cit", "Inc", "Ltd", "Co")

_ALWAYS_RE = re.compile(r"(?<![\w.])(?:" + "|".join(map(re.escape, _ALWAYS)) + r")\.")
_UNLESS_FINAL_RE = re.compile(
    r"(?<![\w.])(?:" + "|".join(map(re.escape, _UNLESS_FINAL)) + r")\.(?!\s*(?:[A-Z\"“‘(\[]|$))"
)
#: Dotted acronyms and Latin abbreviations: D.C., U.S., e.g., i.e., a.m., p.m., U.K.
_ACRONYM_RE = re.compile(r"(?<![\w.])(?:[A-Za-z]\.){2,}")
#: e.g. and i.e. never end a sentence, even before a capital ("e.g. The Hague").
_LATIN = {"e.g.", "i.e.", "E.g.", "I.e.", "H.E."}  # H.E. = His/Her Excellency
#: Document symbols: A/74/548, E/CN.4/2005/L.10, A/RES/75/58, S/2020/1/Add.1.
_SYMBOL_RE = re.compile(r"\b[A-Z][A-Za-z]{0,5}(?:\.\d+)?(?:/[A-Za-z0-9][A-Za-z0-9.\-]*)+")
#: A dot inside a symbol is one with a letter or digit right after it.
_INNER_DOT_RE = re.compile(r"\.(?=[A-Za-z0-9])")
#: After an ambiguous final dot (acronym): a capital or an opening quote starts a sentence.
_NEW_SENTENCE_RE = re.compile(r"\s+[A-Z\"“‘(\[]")

_LETTER_RE = re.compile(r"[^\W\d_]")
#: One token with a digit ("75/58.", "A/RES/75/58.", "12.") or a Roman numeral ("IV."):
#: a label that numbers the text after it, not a sentence.
_LABEL_RE = re.compile(r"^(?:[(\[]?[\w./-]*\d[\w./-]*[)\]]?|[IVXLC]+)[.:]?$")


def _mask_dot(chars: list[str], index: int) -> None:
    if chars[index] == ".":
        chars[index] = _DOT


def mask_abbreviations(text: str) -> str:
    """Replace the dots that do not end a sentence by a placeholder (same length).

    Pure function over the string, so the rules can be tested without the splitter.
    """
    chars = list(text)
    for match in _ALWAYS_RE.finditer(text):
        _mask_dot(chars, match.end() - 1)
    for match in _UNLESS_FINAL_RE.finditer(text):
        _mask_dot(chars, match.end() - 1)
    for match in _ACRONYM_RE.finditer(text):
        start, end = match.span()
        for i in range(start, end - 1):
            _mask_dot(chars, i)
        # the last dot ends the sentence only when a new sentence visibly starts
        final_is_boundary = match.group() not in _LATIN and (
            end == len(text) or _NEW_SENTENCE_RE.match(text, end) is not None
        )
        if not final_is_boundary:
            _mask_dot(chars, end - 1)
    for match in _SYMBOL_RE.finditer(text):
        for dot in _INNER_DOT_RE.finditer(match.group()):
            _mask_dot(chars, match.start() + dot.start())
    return "".join(chars)


def _merge_fragments(pieces: list[str], joiner: str = " ") -> list[str]:
    """Attach labels and letterless pieces ("1.", "75/58.", "A/RES/75/58.", "。") to a
    neighbour.

    A number or symbol followed by a dot looks like a sentence end to any splitter, but
    on its own it is not a sentence: it belongs to the text it numbers (the next piece),
    or, when it comes last, to the previous one. ``joiner`` is "" for Chinese, which
    puts no space between sentences.
    """
    merged: list[str] = []
    carry = ""
    for piece in pieces:
        if _LETTER_RE.search(piece) is None or _LABEL_RE.match(piece):
            carry = f"{carry}{joiner}{piece}" if carry else piece
            continue
        merged.append(f"{carry}{joiner}{piece}" if carry else piece)
        carry = ""
    if carry:
        if merged:
            merged[-1] = f"{merged[-1]}{joiner}{carry}"
        else:
            merged.append(carry)
    return merged


#: Punctuation that never ends an English sentence here: a piece ending with it continues.
_NEVER_FINAL = (";", ",", "；", "，")


@lru_cache(maxsize=1)
def _sentencex() -> Any:
    import sentencex

    return sentencex


def split_english(text: str, lang: str = "en") -> list[str]:
    """sentencex with the UN abbreviation layer; never splits on ';'."""
    sentencex = _sentencex()
    masked = mask_abbreviations(text)
    pieces: list[str] = []
    for raw in sentencex.segment(lang, masked):
        piece = raw.replace(_DOT, ".").strip()
        if not piece:
            continue
        # sentencex starts a sentence at a list item "(b)" even after ";" or ","
        if pieces and pieces[-1].endswith(_NEVER_FINAL):
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return _merge_fragments(pieces)


# --- Chinese ---------------------------------------------------------------------------

_CJK = CJK_CLASS
_CJK_CHAR_RE = re.compile(f"[{HAN_CLASS}]")
_CLOSERS = "”’」』）》】〉〕\"')]"
#: A sentence end: a full-width terminator, an ellipsis of two or more "…", or a
#: half-width ?/! between CJK characters; then any run of terminators and closers.
_ZH_END_RE = re.compile(
    r"(?:[。！？]|…{2,}|(?<=[" + _CJK + r"])[?!](?=[?!！？。…" + re.escape(_CLOSERS) + r"]*"
    r"\s*[" + _CJK + r"]))"
    r"[。！？!?…]*[" + re.escape(_CLOSERS) + r"]*"
)


def split_chinese(text: str) -> list[str]:
    """Split after 。！？/…… (+ closing quote or bracket); never on ；or ，."""
    pieces: list[str] = []
    start = 0
    for match in _ZH_END_RE.finditer(text):
        piece = text[start : match.end()].strip()
        if piece:
            pieces.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return _merge_fragments(pieces, joiner="")


# --- public API ------------------------------------------------------------------------


def is_chinese(lang: str) -> bool:
    """zh, zh-Hans, zh-CN, zh_TW ... all use the Chinese rules."""
    return lang.lower().replace("_", "-").split("-")[0] in {"zh", "cmn"}


def split_sentences(text: str, lang: str) -> list[str]:
    """Sentences of one paragraph, stripped, none empty; blank text gives [].

    Chinese text without a single CJK character (an English footnote left in a Chinese
    document) goes through the English rules, which are the ones that fit it.
    """
    if not text or not text.strip():
        return []
    if is_chinese(lang) and _CJK_CHAR_RE.search(text):
        return split_chinese(text)
    return split_english(text, "en" if is_chinese(lang) else lang)


@lru_cache(maxsize=1)
def _jieba() -> Any:
    """jieba, initialised once and without its "Building prefix dict" chatter."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    if not _load_jieba_cache(jieba):
        jieba.initialize()
    return jieba


def _load_jieba_cache(jieba: Any) -> bool:
    """Initialise jieba's default tokenizer from jieba's own cache file, read in one piece;
    False (jieba then initialises itself, writing that file) when there is none to read.

    Why: ``jieba.initialize`` reads the same file with ``marshal.load`` on the open file,
    which reads it a few bytes at a time: 0.7 s for its 498,113 entries, against 0.2 s for
    ``marshal.loads`` of the bytes, in every process that counts Chinese tokens (the pool's
    fork server, before its workers can start). The dictionary and so every cut are the
    same: this is jieba's own file, chosen as jieba chooses it for the default dictionary
    (no custom dictionary, cache file or folder set)."""
    tokenizer = jieba.dt
    if tokenizer.initialized:
        return True
    if tokenizer.dictionary != jieba.DEFAULT_DICT or tokenizer.cache_file or tokenizer.tmp_dir:
        return False
    path = Path(tempfile.gettempdir()) / "jieba.cache"
    try:
        freq, total = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return False
    if not isinstance(freq, dict) or not freq or not isinstance(total, int | float):
        return False
    with tokenizer.lock:
        tokenizer.FREQ, tokenizer.total = freq, total
        tokenizer.initialized = True
    return True


_WORD_RE = re.compile(r"\w")


def count_tokens(text: str, lang: str) -> int:
    """Length in tokens: jieba words for Chinese, whitespace words for other languages.

    Punctuation-only tokens are not counted, so a length ratio compares content.
    """
    if is_chinese(lang):
        return _jieba_words(text)
    return _words(text.split())


def _words(tokens: list[str]) -> int:
    return sum(1 for token in tokens if _WORD_RE.search(token))


@lru_cache(maxsize=1 << 16)
def _jieba_words(text: str) -> int:
    """Words jieba cuts ``text`` into, remembered per text. Why: jieba is pure Python
    (about 3 us a character) and UN resolutions repeat their sentences from year to
    year; a text is cut once per process, as the encoder embeds it once."""
    return _words(_jieba().lcut(text))


def split_document(doc: Document) -> list[Sentence]:
    """All sentences of a document, block by block, with ids ``{block_key}:s{n}``, not
    yet counted (``tokens`` None: :func:`counted`).

    Why apart from counting: a build splits on its way to the encoder, where every
    millisecond waits on the one cost it cannot avoid, and counts (jieba, the costly
    part) in its align stage, beside the encoder. Every block yields at least one
    sentence (a block the splitter cannot cut stays one sentence); a block with no text
    is an extractor bug and is reported, not skipped, so paragraph ids never silently
    shift.
    """
    sentences: list[Sentence] = []
    for index, (key, block) in enumerate(zip(doc.block_keys(), doc.blocks, strict=True)):
        texts = split_sentences(block.text, doc.language)
        if not texts:
            raise ValueError(
                f"{doc.source_file}: block {key} ({block.kind}) of {doc.symbol} has no text"
            )
        sentences.extend(
            Sentence(id=f"{key}:s{n}", block=index, text=text)
            for n, text in enumerate(texts, start=1)
        )
    return sentences


def counted(sentences: list[Sentence], lang: str) -> list[Sentence]:
    """The sentences with their token counts (:func:`count_tokens`); new objects where a
    count was missing, the counted ones as they are."""
    return [
        s if s.tokens is not None else dataclasses.replace(s, tokens=count_tokens(s.text, lang))
        for s in sentences
    ]


def segment_document(doc: Document) -> list[Sentence]:
    """:func:`split_document` with every sentence counted."""
    return counted(split_document(doc), doc.language)
