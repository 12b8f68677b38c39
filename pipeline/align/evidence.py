"""Lexical evidence for the aligner: which sentences share a translated word, number or name.

Why: the encoder cannot always tell the weak half of a translator's split from an inserted
sentence about the same scene. Words can: the half of a real split shares at least one
translated word, number or name with the other side of its bead, while an insertion has
none. This module owns that idea end to end:

* *keys and units* of every sentence (computed once per sentence): numbers and Latin-script
  names for any language pair; for zh-en, an English word's Chinese translations
  (CC-CEDICT, ``pipeline.align.dictionary``) against the dictionary words of a Chinese
  sentence. Sentence x links to y when keys(x) meets units(y).
* the *link index*: each side's keys and units as sorted integer ids, tested for a whole
  band at once by a compiled loop (``pipeline.align.kernels.links_kernel``);
* the two uses in the support term: a *missing* link weakens a merged sentence, a
  *present* one cancels its support shortfall (it never adds a bonus), each scaled by how
  reliable a link is in the document at hand.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.align.band import Band
from pipeline.align.dictionary import compiled_lexicon
from pipeline.align.kernels import flag_slots, links_kernel, unlinked_kernel
from pipeline.text.script import HAN_CLASS

# ------------------------------------------------------------------------------------------
# Lexical evidence for the aligner: a zh-en lexicon (CC-CEDICT) and shared anchors.
#
# Why: the encoder cannot always tell the weak half of a translator's split from an
# inserted sentence about the same scene (docs/experiments). Words can: the half of a real
# split shares at least one translated word, number or name with the other side of its
# bead, while an insertion ("时间仿佛停住了。" next to a sentence about the sun) has none.
#
# Everything is computed once per sentence: each sentence gets *keys* and *units* such
# that sentence x links to sentence y when keys(x) meets units(y).
#
# - Anchors, for any language pair: numbers (digits, separators dropped) and Latin-script
#   tokens with a capital or a digit (names, document symbols such as A/RES/75/58), which
#   are both keys and units.
# - zh-en only: an English content word's keys are its Chinese translations in CC-CEDICT
#   (pipeline.align.dictionary); a Chinese sentence's units are the dictionary's words among
#   its substrings of 1-4 characters, so a translation links wherever it occurs, whatever
#   the word segmentation. Very common one-character words (的, 了, 说 ...) and English
#   stop words are left out: they link everything, so they are no evidence.
#
# Keys and units are integer ids (the lexicon's headword ids, then the document's anchors),
# held as sorted rows per sentence (pipeline.align.evidence); tests/align/test_evidence.py
# keeps the set-per-sentence formulation as the reference the links must equal.
#
# A sentence without keys and units (no content words; de-fr without numbers or names)
# carries no evidence either way and is never penalised (``linkable`` is False).
# ------------------------------------------------------------------------------------------

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
        keys of one meet units of the other (pipeline.align.evidence, compiled)."""
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
    headwords among its substrings (pipeline.align.dictionary).
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
    (pipeline.align.evidence.linked_flags). Every type in one compiled pass over the cells
    (pipeline.align.kernels.unlinked_kernel).

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



# ------------------------------------------------------------------------------------------
# The lexical link test of a whole band at once (``SentenceEvidence.links``).
#
# Why: a link is "keys of x meet units of y", one Python set operation per band cell, and a
# band has tens of thousands of cells; that loop was a fifth of the aligner's own time on
# a 2,400-sentence chapter pair. Here each side's keys and units are rows of sorted
# integer ids, once per document, and a compiled loop (pipeline.align.kernels.links_kernel)
# tests them. The zh-en evidence makes its ids from the compiled lexicon
# (pipeline.align.evidence); :meth:`LinkIndex.build` numbers the tokens of any sets.
# ------------------------------------------------------------------------------------------

Rows = tuple[np.ndarray, np.ndarray]  # CSR row pointers, then the sorted ids of each row


def csr_rows(n: int, width: int, *pairs: tuple[np.ndarray, np.ndarray]) -> Rows:
    """CSR rows of n sentences from (sentence, id) pairs (ids below ``width``), each row
    sorted and without duplicates."""
    sent = np.concatenate([p[0] for p in pairs])
    key = np.sort(sent * width + np.concatenate([p[1] for p in pairs]))
    if len(key):
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    ptr = np.searchsorted(key // width, np.arange(n + 1))
    return ptr.astype(np.int64), key % width


def numbered_pairs(
    sets: Sequence[set[Hashable]], ids: dict[Hashable, int], base: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(sentence, id) of every token of each sentence's set; a token's id is ``base`` +
    its number in ``ids`` (share ``ids`` between sides so a token has one id on both)."""
    sent = [s for s, tokens in enumerate(sets) for _ in tokens]
    tok = [ids.setdefault(t, base + len(ids)) for tokens in sets for t in tokens]
    return np.array(sent, dtype=np.int64), np.array(tok, dtype=np.int64)


@dataclass(frozen=True)
class LinkIndex:
    """src keys vs tgt units, and tgt keys vs src units, as CSR rows of token ids."""

    sk_ptr: np.ndarray
    sk_idx: np.ndarray
    tu_ptr: np.ndarray
    tu_idx: np.ndarray
    tk_ptr: np.ndarray
    tk_idx: np.ndarray
    su_ptr: np.ndarray
    su_idx: np.ndarray

    @classmethod
    def build(
        cls,
        src_keys: Sequence[set[Hashable]],
        src_units: Sequence[set[Hashable]],
        tgt_keys: Sequence[set[Hashable]],
        tgt_units: Sequence[set[Hashable]],
    ) -> LinkIndex:
        """The index of per-sentence token sets (tokens of any hashable kind)."""
        ids: dict[Hashable, int] = {}
        sides = (src_keys, tgt_units, tgt_keys, src_units)
        pairs = [numbered_pairs(sets, ids) for sets in sides]
        width = max(1, len(ids))
        rows = [csr_rows(len(sets), width, p) for sets, p in zip(sides, pairs, strict=True)]
        return cls(*(x for row in rows for x in row))

    def links(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Boolean link of src sentence rows-1 with tgt sentence cols-1; False where
        either index is below 1 (the band's first row or column)."""
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        cols = np.ascontiguousarray(cols, dtype=np.int64)
        if len(rows) != len(cols):
            raise ValueError(f"rows and cols differ in length ({len(rows)} != {len(cols)})")
        n, m = len(self.sk_ptr) - 1, len(self.tk_ptr) - 1
        if len(rows) and (rows.max() > n or cols.max() > m):
            raise IndexError(f"cell beyond the {n} x {m} sentences of the evidence")
        return links_kernel(
            rows,
            cols,
            self.sk_ptr,
            self.sk_idx,
            self.tu_ptr,
            self.tu_idx,
            self.tk_ptr,
            self.tk_idx,
            self.su_ptr,
            self.su_idx,
        )



# ------------------------------------------------------------------------------------------
# Lexical evidence both ways in the support term: a missing link weakens a merged
# sentence, a shared word supports it.
#
# Why (issue 9, "a sentence is left unaligned only when nothing on the other side carries its
# meaning"): the support term asks each sentence of a merged side to match the other side of
# its bead at least as well as unrelated text does. The weak half of a translator's split
# often fails that on the embedding alone: "She got used to it after a while." scores below
# unrelated text against the Chinese sentence it translates, so the DP kept the 1-1 and left
# it out (a skip costs 0.25, the support shortfall more). On MAC-Dev 27 sentences were left
# out wrongly (the gold has 13 insertions), and in 17 of them the sentence shares a
# translated word with the bead it belongs to. pipeline.align.evidence already counted a
# *missing* link against a merged sentence; this module lets a *present* link count for it,
# so the lexicon can carry a half the embedding misses as the embedding can carry a half the
# lexicon misses. The link only cancels a support shortfall (the support term is a penalty
# below a floor, never a bonus), so a linked sentence is merged only when the merged bead
# otherwise scores about as well as "1-1 plus a skip".
#
# How much a link means is measured per document, as for a missing link
# (:func:`link_reliability`): unrelated sentences of the same scene share a word too (names,
# repeated nouns; 25-60% of the pairs two beads apart on MAC-Dev), so a link raises the odds
# by 1 - l_far / l_true only.
#
# Everything here is a pure function of the evidence and the band's flat cell arrays; the
# flags are computed once per level and weighted once per DP pass.
# ------------------------------------------------------------------------------------------

def link_reliability(evidence: SentenceEvidence, pairs: Sequence[tuple[int, int]]) -> float:
    """How much a shared word means in this document: 1 - l_far / l_true, in [0, 1].

    ``pairs``: confident 1-1 pairs (src, tgt sentence indices) of a first pass, in order.
    l_true is the share of them that link, l_far the share of the pairs two beads apart
    (the src of one with the tgt of the next but one: unrelated text of the same scene).
    All sentences count, linkable or not: a link of a short sentence is evidence too,
    only its absence is not. 0 (no evidence) with fewer than 3 pairs.
    """
    if len(pairs) < 3:
        return 0.0
    l_true, l_far = linked_share(evidence, pairs), linked_share(evidence, far_pairs(pairs))
    if l_true <= 0:
        return 0.0
    return float(min(1.0, max(0.0, 1.0 - l_far / l_true)))


def linked_flags(
    link: np.ndarray,
    band: Band,
    rows: np.ndarray,
    cols: np.ndarray,
    types: Sequence[tuple[int, int]],
) -> Unlinked:
    """For each merged bead type and band cell: which sentences of the merged side(s) share
    a translated word, number or name with some sentence of the other side of the bead.

    ``link``: ``SentenceEvidence.links`` of the band cells (src rows-1 with tgt cols-1).
    Same layout as :func:`lexical.band_flags`: flag q of a src side is sentence
    rows-1-q, flag k of a tgt side is cols-1-k; 1-1 beads and unmerged sides get none.
    Pairs outside the band count as not linked (no evidence for).
    """
    ok_src, ok_tgt = np.ones(band.n, dtype=np.bool_), np.ones(band.m, dtype=np.bool_)
    return band_flags(link, ok_src, ok_tgt, band, rows, cols, types, linked_mode=True)


@dataclass
class LexicalSupport:
    """The lexical flags of one level's band, weighted per DP pass into *deficits*: how
    much weaker (calibrated units; negative = stronger) each sentence of a merged side
    counts in the support term (pipeline.align.scoring)."""

    evidence: SentenceEvidence
    unlinked: Unlinked
    linked: Unlinked
    unlinked_weight: float
    link_weight: float

    @classmethod
    def prepare(
        cls,
        evidence: SentenceEvidence | None,
        band: Band,
        types: Sequence[tuple[int, int]],
        params,
    ) -> LexicalSupport | None:
        """Flags of the band (one ``evidence.links`` pass), or None when the lexical terms
        are off (no texts, or ``lexical_weight`` and ``link_weight`` both 0)."""
        weights = (params.lexical_weight, params.link_weight)
        if evidence is None or max(weights) <= 0:
            return None
        rows, cols = band.cell_rows(), band.cell_cols()
        link = evidence.links(rows, cols)
        cells = (band, rows, cols, types)
        unlinked = band_flags(link, *evidence.linkable(), *cells)
        return cls(evidence, unlinked, linked_flags(link, *cells), *weights)

    def deficits(self, pairs: Sequence[tuple[int, int]]) -> Unlinked:
        """unlinked_weight x reliability for a sentence without a link, minus link_weight x
        link_reliability for one with a link, each measured on the confident 1-1 ``pairs``
        (src, tgt indices) of the pass before."""
        weak = self.unlinked_weight * reliability(self.evidence, pairs)
        strong = self.link_weight * link_reliability(self.evidence, pairs)
        out: Unlinked = {}
        for t, (src_u, tgt_u) in self.unlinked.items():
            src_l, tgt_l = self.linked[t]
            out[t] = tuple(  # type: ignore[assignment]
                [(weak * u - strong * v).astype(np.float32) for u, v in zip(us, ls, strict=True)]
                for us, ls in ((src_u, src_l), (tgt_u, tgt_l))
            )
        return out
