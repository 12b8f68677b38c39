"""Lexical evidence for the aligner: a zh-en lexicon (CC-CEDICT) and shared anchors.

Why: the encoder cannot always tell the weak half of a translator's split from an
inserted sentence about the same scene (docs/aligner.md). Words can: the half of a real
split shares at least one translated word, number or name with the other side of its
bead, while an insertion ("时间仿佛停住了。" next to a sentence about the sun) has none.

Everything is computed once per sentence: each sentence gets *keys* and *units* such
that sentence x links to sentence y when keys(x) meets units(y).

- Anchors, for any language pair: numbers (digits, separators dropped) and Latin-script
  tokens with a capital or a digit (names, document symbols such as A/RES/75/58), which
  are both keys and units.
- zh-en only: an English content word's keys are its Chinese translations in CC-CEDICT
  (pipeline.align.lexicon); a Chinese sentence's units are the dictionary's words among
  its substrings of 1-4 characters, so a translation links wherever it occurs, whatever
  the word segmentation. Very common one-character words (的, 了, 说 ...) and English
  stop words are left out: they link everything, so they are no evidence.

Keys and units are integer ids (the lexicon's headword ids, then the document's anchors),
held as sorted rows per sentence (pipeline.align.linkindex); tests/align/test_evidence.py
keeps the set-per-sentence formulation as the reference the links must equal.

A sentence without keys and units (no content words; de-fr without numbers or names)
carries no evidence either way and is never penalised (``linkable`` is False).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.align.band import Band
from pipeline.align.cellkernels import flag_slots, unlinked_kernel
from pipeline.align.lexicon import compiled_lexicon
from pipeline.align.linkindex import LinkIndex, csr_rows, numbered_pairs
from pipeline.text.script import HAN_CLASS

_CJK = re.compile(f"[{HAN_CLASS}]")  # the project's one Han definition (text/script.py)
_NUMBER = re.compile(r"\d[\d,.]*")
_TWO_CAPITALS = re.compile(r"[A-Z].*[A-Z]")
_DIGIT = re.compile(r"\d")
_LATIN_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/.\-]*[A-Za-z0-9]")
#: What every anchor needs: a digit, or two capitals inside one _LATIN_TOKEN.
_MAYBE_ANCHOR = re.compile(r"\d|[A-Z][A-Za-z0-9/.\-]*[A-Z]")
#: A sentence without an anchor is evidence only when it has at least this many content
#: words the lexicon knows (Chinese: non-stop characters / 2): a short line ("Joy?",
#: "他说。") often shares no word with its own translation, so missing a link means
#: nothing there. On MAC-Dev's gold, 44% of the halves of real splits with 0-2 such words
#: share none with the other side of their bead, 6% with 3 or more.
MIN_WORDS = 3


def is_chinese(sentences: Sequence[str]) -> bool:
    """A side is Chinese when most of its non-blank sentences contain CJK characters."""
    texts = [s for s in sentences if s.strip()]
    return bool(texts) and sum(bool(_CJK.search(s)) for s in texts) * 2 > len(texts)


def anchors(sentence: str) -> set[str]:
    """Numbers and Latin-script symbols of a sentence, comparable across languages.

    Symbols are tokens with a digit or two capitals (A/RES/75/58, UNESCO, COVID-19): a
    capitalised word is not one, since German capitalises every noun and a name is
    transliterated in Chinese.
    """
    if not _MAYBE_ANCHOR.search(sentence):
        return set()  # no digit, no two capitals in a token: most sentences, decided fast
    out = {"#" + n.rstrip(".,").replace(",", "") for n in _NUMBER.findall(sentence)}
    for tok in _LATIN_TOKEN.findall(sentence):
        if tok.isalpha() and (tok.islower() or tok.istitle()):
            continue  # an ordinary or a capitalised word: the common case, decided fast
        if not tok.isdigit() and (_TWO_CAPITALS.search(tok) or _DIGIT.search(tok)):
            out.add("@" + tok.lower())
    return out


@dataclass(frozen=True)
class SentenceEvidence:
    """Which sentences link (``index``: keys of one meet units of the other, as rows of
    token ids) and which carry evidence.

    ``src_linkable`` / ``tgt_linkable``: sentences whose missing link is evidence (an
    anchor, or at least MIN_WORDS content words the lexicon knows).
    """

    index: LinkIndex
    src_linkable: np.ndarray
    tgt_linkable: np.ndarray

    @classmethod
    def from_sets(
        cls,
        src_keys: Sequence[set],
        src_units: Sequence[set],
        tgt_keys: Sequence[set],
        tgt_units: Sequence[set],
        src_linkable: np.ndarray,
        tgt_linkable: np.ndarray,
    ) -> SentenceEvidence:
        """Evidence from per-sentence sets of tokens (any hashable values)."""
        index = LinkIndex.build(src_keys, src_units, tgt_keys, tgt_units)
        return cls(index, np.asarray(src_linkable, bool), np.asarray(tgt_linkable, bool))

    def linkable(self) -> tuple[np.ndarray, np.ndarray]:
        """Which sentences carry evidence (only those can be flagged as unlinked)."""
        return self.src_linkable, self.tgt_linkable

    def links(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Boolean link of src sentence rows-1 with tgt sentence cols-1 (band cell ends):
        keys of one meet units of the other (pipeline.align.linkindex, compiled)."""
        return self.index.links(rows, cols)


def _anchored(found: Sequence[set[str]]) -> np.ndarray:
    """Which sentences have an anchor (a bool array, also for no sentences)."""
    return np.array([bool(a) for a in found], dtype=bool)


def sentence_evidence(src: Sequence[str], tgt: Sequence[str]) -> SentenceEvidence:
    """Keys and units of every sentence of both sides, once.

    The lexicon is used only when one side is Chinese and the other is not (taken to be
    English); every pair gets the shared numbers and Latin-script tokens. With the
    lexicon, an English sentence's keys are its anchors and its words' translations
    (only those some Chinese sentence has: the rest link nothing), its units its
    anchors; a Chinese sentence's keys are its anchors, its units its anchors and the
    headwords among its substrings (pipeline.align.lexicon).
    """
    src_anchors, tgt_anchors = [anchors(s) for s in src], [anchors(s) for s in tgt]
    src_zh, tgt_zh = is_chinese(src), is_chinese(tgt)
    if src_zh == tgt_zh:
        return SentenceEvidence.from_sets(
            src_anchors, src_anchors, tgt_anchors, tgt_anchors,
            _anchored(src_anchors), _anchored(tgt_anchors),
        )  # fmt: skip
    lexicon = compiled_lexicon()
    if tgt_zh:
        en, en_anchors, zh, zh_anchors = src, src_anchors, tgt, tgt_anchors
    else:
        en, en_anchors, zh, zh_anchors = tgt, tgt_anchors, src, src_anchors
    ids: dict[str, int] = {}
    # anchors numbered after the headword ids, one numbering for both sides
    en_a = numbered_pairs(en_anchors, ids, lexicon.size)
    zh_a = numbered_pairs(zh_anchors, ids, lexicon.size)
    width = lexicon.size + len(ids)
    zh_sent, zh_ids, zh_words = lexicon.chinese(zh)
    present = np.zeros(lexicon.size, dtype=bool)
    present[zh_ids] = True
    en_sent, en_ids, en_words = lexicon.english(en, present)
    en_keys = csr_rows(len(en), width, en_a, (en_sent, en_ids))
    zh_units = csr_rows(len(zh), width, zh_a, (zh_sent, zh_ids))
    en_only, zh_only = csr_rows(len(en), width, en_a), csr_rows(len(zh), width, zh_a)
    en_ok = _anchored(en_anchors) | (en_words >= MIN_WORDS)
    zh_ok = _anchored(zh_anchors) | (zh_words >= MIN_WORDS)
    if tgt_zh:  # src keys/units, then tgt keys/units
        return SentenceEvidence(LinkIndex(*en_keys, *zh_units, *zh_only, *en_only), en_ok, zh_ok)
    return SentenceEvidence(LinkIndex(*zh_only, *en_only, *en_keys, *zh_units), zh_ok, en_ok)


#: Per bead type: flags of its src sentences (a arrays) and of its tgt sentences (b arrays)
#: over the band cells, True where that sentence of a merged side has no lexical link.
Unlinked = dict[int, tuple[list[np.ndarray], list[np.ndarray]]]


def band_flags(
    link: np.ndarray,
    src_ok: np.ndarray,
    tgt_ok: np.ndarray,
    band: Band,
    rows: np.ndarray,
    cols: np.ndarray,
    types: Sequence[tuple[int, int]],
    *,
    linked_mode: bool = False,
) -> Unlinked:
    """For each merged bead type and band cell: which sentences of the merged side(s)
    share no translated word, number or name with the other side of the bead (``link``:
    ``SentenceEvidence.links`` of the band cells; ``src_ok``/``tgt_ok``: its linkable
    sentences). With ``linked_mode``, which ones do share one
    (pipeline.align.links.linked_flags). Every type in one compiled pass over the cells
    (pipeline.align.cellkernels.unlinked_kernel).

    A bead (a, b) ends at cell (rows, cols): src sentences rows-a..rows-1 (flag q is
    sentence rows-1-q), tgt cols-b..cols-1 (flag k is cols-1-k). Only merged sides are
    flagged (a 1-1 bead is the embedding's business). Unlinked flags go only to a
    linkable sentence facing at least one linkable sentence (otherwise there is no
    evidence to miss), and pairs outside the band count as linked (no evidence against).
    """
    ints = [np.ascontiguousarray(x, dtype=np.int64) for x in (rows, cols)]
    ints += [np.ascontiguousarray(x, dtype=np.int64) for x in (band.lo, band.width, band.offset)]
    type_a = np.array([a for a, _ in types], dtype=np.int64)
    type_b = np.array([b for _, b in types], dtype=np.int64)
    src_slot, tgt_slot = flag_slots(list(types))
    src_all, tgt_all = unlinked_kernel(
        link, *ints, src_ok, tgt_ok, type_a, type_b, src_slot, tgt_slot, linked_mode
    )
    out: Unlinked = {}
    for t, (a, b) in enumerate(types):
        if a == 0 or b == 0 or (a == 1 and b == 1):
            continue
        s0, t0 = src_slot[t], tgt_slot[t]
        out[t] = (
            list(src_all[s0 : s0 + a]) if a >= 2 else [],
            list(tgt_all[t0 : t0 + b]) if b >= 2 else [],
        )
    return out


def far_pairs(pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pairs two beads apart in a list of confident 1-1 pairs (the src of one with the tgt
    of the next but one): unrelated text of the same scene, the yardstick of
    :func:`reliability` and ``links.link_reliability``."""
    return [(i, pairs[k + 2][1]) for k, (i, _) in enumerate(pairs[:-2])]


def linked_share(evidence: SentenceEvidence, pairs: Sequence[tuple[int, int]]) -> float:
    """Share of ``pairs`` (src, tgt sentence indices, at least one) that link."""
    rows = np.array([i + 1 for i, _ in pairs])
    cols = np.array([j + 1 for _, j in pairs])
    return float(evidence.links(rows, cols).mean())


def reliability(evidence: SentenceEvidence, pairs: Sequence[tuple[int, int]]) -> float:
    """How much a missing link means in this document: 1 - u_true / u_far, clipped to [0, 1].

    ``pairs``: confident 1-1 pairs (src, tgt sentence indices) of a first pass, in order.
    u_true is the share of them (both sides linkable) that share no word, number or name;
    u_far the same share for the pairs two beads apart (src of one with the tgt of the
    next but one: unrelated text from the same scene). A close translation (the project's
    general gold: u_true 4%) makes a missing link strong evidence; a free literary one
    (MAC-Dev's wuxia chapter: 29%, against about 57% for unrelated pairs) a weak one. The
    document calibrates its own lexicon, as it calibrates its own margin scale.
    """
    src_ok, tgt_ok = evidence.linkable()

    def unlinked_share(links: Sequence[tuple[int, int]]) -> float | None:
        usable = [(i, j) for i, j in links if src_ok[i] and tgt_ok[j]]
        return None if len(usable) < 3 else 1.0 - linked_share(evidence, usable)

    u_true = unlinked_share(pairs)
    u_far = unlinked_share(far_pairs(pairs))
    if u_true is None or u_far is None or u_far <= 0:
        return 0.0
    return float(min(1.0, max(0.0, 1.0 - u_true / u_far)))
