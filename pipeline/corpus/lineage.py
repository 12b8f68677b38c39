"""Resolution lineages: documents that renew one another, found across every document read.

Why: the General Assembly renews most resolutions every year or two by copying the last
one and editing it (A/RES/75/58, 76/28 and 78/43 are one resolution, most sentences word
for word). Held-out rows or documents from one lineage put the same sentences in train
and test, so splits are made per lineage (``pipeline.corpus.splits``), never per row.

Three routes join two documents into one lineage (union-find, so lineages are the
connected groups):

* the same symbol (the English and Chinese versions, copies in other formats);
* the same title once session-specific words are folded (ordinals such as
  "seventy-fifth", years and numbers), within one language;
* near-duplicate text: MinHash (datasketch's affine32 scheme, in numpy:
  ``pipeline.corpus.minhash``) over short shingles of the folded text
  (``pipeline.text.fold``: case, width, accents, punctuation and digits folded), three
  words in English because templated legal text differs in a word here and there, three
  characters in Chinese, which has no spaces. Candidates come from an LSH
  index (no all-pairs comparison); every candidate is checked against the estimated
  Jaccard similarity before it joins, so a chance band collision never merges lineages.

The per-document part (:func:`document_signature`) needs only the document, so the read
stage computes it in its workers and only the compact signature (64 hash values, 256
bytes) travels to the pairing barrier, where :func:`find_lineages` clusters them.

A lineage's key is its earliest member (lowest session, then symbol in natural order)
and its id a stable hash of the key: neither depends on any document outside the
lineage, so adding or removing other lineages' documents never changes a lineage's id or
its split, and a new session's renewal joins an existing lineage without changing either.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.corpus.minhash import band_buckets, minhash
from pipeline.records import Document
from pipeline.text.fold import DIGIT, fold_text
from pipeline.text.script import is_han

#: MinHash permutations: 64 x 4 bytes per document (what travels to the barrier).
NUM_PERM = 64
#: The permutations' seed; part of the signature's meaning (recorded in the manifest).
MINHASH_SEED = 1
#: Shingle length: words (English), characters (Chinese).
SHINGLE_WORDS = 3
SHINGLE_CHARS = 3
#: Estimated Jaccard similarity of shingle sets from which two documents are one lineage.
#: Renewals of one resolution measure 0.68-0.98 here (three-word shingles), unrelated
#: resolutions 0.01-0.04 (the seeds and tests/fixtures texts).
TEXT_THRESHOLD = 0.5
#: datasketch's weights of false positives and false negatives when it picks the LSH
#: bands: every candidate is verified against the estimate, so a false positive costs
#: a comparison and a false negative a lineage cut in two. (0.2, 0.8) gives 15 bands of 3
#: rows: a pair at similarity 0.5 becomes a candidate with probability 0.87, at 0.6 0.97
#: (the (0.5, 0.5) default's 14 x 4: 0.60 and 0.86).
LSH_WEIGHTS = (0.2, 0.8)
#: The bands and rows those weights give at ``TEXT_THRESHOLD`` and ``NUM_PERM``
#: (datasketch's ``_optimal_param``; tests/corpus/test_minhash.py checks them).
LSH_BANDS, LSH_ROWS = 15, 3
#: Fewer distinct shingles than this (a one-line decision) take no part in text matching:
#: their Jaccard estimate says too little.
MIN_SHINGLES = 10
#: Block kinds left out of a document's text: headings and closing lines (session,
#: agenda item, meeting, date) are the same template in every resolution.
IGNORED_KINDS = frozenset({"heading", "closing"})

#: English ordinals as in "seventy-fifth session" (folded: the hyphen is a space).
_ORDINAL_WORDS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth "
    "thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth hundredth"
).split()
_TENS_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_SESSION_WORDS = frozenset(_ORDINAL_WORDS + _TENS_WORDS + [DIGIT])
#: Chinese session ordinals and numbers: 第七十五届, 二〇二〇年.
_ZH_NUMERAL = "[〇零一二三四五六七八九十百]+"
_ZH_SESSION_RE = re.compile(f"第{_ZH_NUMERAL}届|{_ZH_NUMERAL}年|{DIGIT}")
#: A title key must keep this much after folding (a title that was only a symbol or a
#: date keeps nothing): words of three letters or more in English, Han characters.
MIN_TITLE_WORDS = 2
MIN_TITLE_CHARS = 4


@dataclass(frozen=True)
class LineageSignature:
    """What lineage detection needs of one document (no text): computed where the
    document is read, carried to the pairing barrier (and to the documents table)."""

    symbol: str
    language: str
    source_file: str
    session: int | None
    family: str | None
    title: str | None
    #: The folded title without session-specific words; None when too little is left.
    title_key: str | None
    #: The MinHash hash values (``NUM_PERM`` little-endian uint32); None: too little text.
    minhash: bytes | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (the Ray read task sends it with the document stub)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["minhash"] = self.minhash.hex() if self.minhash is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LineageSignature:
        minhash = data["minhash"]
        return cls(**{**data, "minhash": bytes.fromhex(minhash) if minhash else None})


def title_key(title: str | None, language: str) -> str | None:
    """The title as lineages compare it: folded, without session ordinals, years,
    numbers or symbols ("S/RES/2731 (2024)" standing in for a title says nothing)."""
    if not title:
        return None
    if language == "zh":
        key = _ZH_SESSION_RE.sub("", fold_text(title, "zh"))
        return key if sum(1 for char in key if is_han(char)) >= MIN_TITLE_CHARS else None
    kept = " ".join(t for t in title.split() if "/" not in t and not any(c.isdigit() for c in t))
    words = [w for w in fold_text(kept, "en").split() if w not in _SESSION_WORDS]
    if sum(1 for word in words if len(word) >= 3) < MIN_TITLE_WORDS:
        return None
    return " ".join(words)


def document_text(document: Document) -> str:
    """The text that lineage detection compares: every block but headings and closings."""
    return " ".join(b.text for b in document.blocks if b.kind not in IGNORED_KINDS)


def shingle_ids(text: str, language: str) -> np.ndarray:
    """Distinct 32-bit ids of the text's shingles (folded; three words or three Chinese
    characters). Tokens are numbered by crc32 (a word) or code point (a character) and
    a shingle's id mixes its tokens' numbers; datasketch's MinHash mixes ids again
    (murmur finaliser) before permuting them."""
    folded = fold_text(text, language)
    if language == "zh":
        tokens = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        width = SHINGLE_CHARS
    else:
        words = folded.split()
        tokens = np.fromiter((zlib.crc32(w.encode()) for w in words), np.uint64, len(words))
        width = SHINGLE_WORDS
    if len(tokens) < width:
        return np.zeros(0, dtype=np.uint32)
    mixed = np.zeros(len(tokens) - width + 1, dtype=np.uint64)
    for offset, multiplier in enumerate((0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 1)[-width:]):
        mixed = mixed * np.uint64(multiplier) + tokens[offset : offset + len(mixed)]
    folded_ids = (mixed ^ (mixed >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
    return np.unique(folded_ids).astype(np.uint32)


def minhash_values(ids: np.ndarray) -> bytes | None:
    """The MinHash (``NUM_PERM`` permutations, datasketch's affine32 values:
    ``pipeline.corpus.minhash``) of a set of shingle ids, as bytes; None for fewer than
    ``MIN_SHINGLES`` shingles."""
    if len(ids) < MIN_SHINGLES:
        return None
    return minhash(ids, NUM_PERM, MINHASH_SEED).astype("<u4").tobytes()


def document_signature(document: Document) -> LineageSignature:
    """One document's signature (pure: the read stage runs it in its workers)."""
    meta = document.metadata
    return LineageSignature(
        symbol=document.symbol,
        language=document.language,
        source_file=document.source_file,
        session=meta.session,
        family=meta.family,
        title=meta.title,
        title_key=title_key(meta.title, document.language),
        minhash=minhash_values(shingle_ids(document_text(document), document.language)),
    )


# --------------------------------------------------------------------------- clustering


def natural_key(symbol: str) -> tuple[Any, ...]:
    """Symbol order with numbers compared as numbers: A/RES/9/1 before A/RES/10/1."""
    parts = re.split(r"(\d+)", symbol)
    return tuple(int(p) if k % 2 else p for k, p in enumerate(parts))


def founding_order(signature: LineageSignature) -> tuple[Any, ...]:
    """Earliest first: by session (documents without one last), then symbol."""
    session = signature.session
    return (session is None, session or 0, natural_key(signature.symbol))


def lineage_id(key: str) -> str:
    """The stable id of the lineage whose key (earliest symbol) is ``key``."""
    return hashlib.sha256(f"lineage\0{key}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Lineage:
    """One lineage: its id, its key (the earliest member's symbol) and its symbols."""

    id: str
    key: str
    #: Member symbols in founding order.
    symbols: tuple[str, ...]


@dataclass
class Lineages:
    """The lineages of a build: each lineage, each signature's lineage, and how many
    joins each route made (symbol, title, text) for the manifest."""

    lineages: list[Lineage]
    #: Per signature (in the order given to :func:`find_lineages`): its lineage's id.
    of_signature: list[str]
    joins: dict[str, int] = field(default_factory=dict)

    def by_symbol(self, signatures: Sequence[LineageSignature]) -> dict[str, str]:
        """Symbol -> lineage id (every document of a symbol is in one lineage)."""
        return {s.symbol: lid for s, lid in zip(signatures, self.of_signature, strict=True)}


class _UnionFind:
    """Union-find over 0..n-1 with path halving; counts the joins each route makes."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))
        self.joins: dict[str, int] = {"symbol": 0, "title": 0, "text": 0}

    def find(self, item: int) -> int:
        parent = self.parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: int, b: int, route: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)
            self.joins[route] += 1


def _join_equal(keys: Sequence[Any], sets: _UnionFind, route: str) -> None:
    """Join every item to the first item with the same key (None never joins)."""
    first: dict[Any, int] = {}
    for item, key in enumerate(keys):
        if key is not None:
            sets.union(item, first.setdefault(key, item), route)


def _verify_bucket(rows: np.ndarray, values: np.ndarray, join: Any) -> None:
    """Join the rows of one LSH bucket whose estimated Jaccard similarity reaches
    ``TEXT_THRESHOLD``: the first row is compared with every other, the first it did
    not join with every other left, and so on, so a bucket costs its size times the
    number of distinct lineages in it, never its size squared."""
    left = rows
    while len(left) > 1:
        head, rest = left[0], left[1:]
        similar = (values[rest] == values[head]).mean(axis=1) >= TEXT_THRESHOLD
        for other in rest[similar]:
            join(int(head), int(other))
        left = rest[~similar]


def _join_by_text(minhashes: Sequence[bytes | None], sets: _UnionFind) -> None:
    """Near-duplicate text: MinHash LSH proposes, the estimate decides. In a bucket,
    members already in one lineage take part once (by their first row)."""
    items = np.array([k for k, m in enumerate(minhashes) if m is not None], dtype=np.int64)
    if len(items) < 2:
        return
    values = np.stack([np.frombuffer(minhashes[k] or b"", dtype="<u4") for k in items])

    def join(a: int, b: int) -> None:
        sets.union(int(items[a]), int(items[b]), "text")

    for bucket in band_buckets(values, LSH_BANDS, LSH_ROWS):
        first: dict[int, int] = {}
        for row in bucket:
            first.setdefault(sets.find(int(items[row])), row)
        if len(first) > 1:
            _verify_bucket(np.array(sorted(first.values())), values, join)


def find_lineages(signatures: Sequence[LineageSignature]) -> Lineages:
    """Cluster documents into lineages (module docstring). The result does not depend
    on the order of ``signatures``: they are processed in (symbol, language, file) order."""
    order = sorted(
        range(len(signatures)),
        key=lambda k: (signatures[k].symbol, signatures[k].language, signatures[k].source_file),
    )
    ordered = [signatures[k] for k in order]
    sets = _UnionFind(len(ordered))
    _join_equal([s.symbol for s in ordered], sets, "symbol")
    _join_equal(
        [(s.language, s.title_key) if s.title_key else None for s in ordered], sets, "title"
    )
    _join_by_text([s.minhash for s in ordered], sets)
    groups: dict[int, list[int]] = {}
    for item in range(len(ordered)):
        groups.setdefault(sets.find(item), []).append(item)
    lineages: list[Lineage] = []
    of_item: list[str] = [""] * len(ordered)
    for members in groups.values():
        founders = sorted((ordered[m] for m in members), key=founding_order)
        symbols = tuple(dict.fromkeys(s.symbol for s in founders))
        lineage = Lineage(lineage_id(symbols[0]), symbols[0], symbols)
        lineages.append(lineage)
        for m in members:
            of_item[m] = lineage.id
    lineages.sort(key=lambda lin: natural_key(lin.key))
    of_signature = [""] * len(signatures)
    for position, k in enumerate(order):
        of_signature[k] = of_item[position]
    return Lineages(lineages, of_signature, dict(sets.joins))
