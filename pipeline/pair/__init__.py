"""Pair English and Chinese documents by their UN symbol.

The symbol is the only key. Resolutions on the same item from different sessions
(76/28, 78/43 and 75/58 here) have near-identical text, so matching by content would
pair the wrong years; a document without a same-symbol counterpart is reported as
unpaired instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.pair.duplicates import Conflict, Duplicate, choose, pairing_stub, text_digest
from pipeline.records import Document, DocumentPair, Rejected

__all__ = [
    "PAIR_LANGUAGES",
    "Conflict",
    "Duplicate",
    "PairResult",
    "pair_documents",
    "pairing_stub",
    "text_digest",
]

#: The two languages a pair is made of: (source, target).
PAIR_LANGUAGES = ("en", "zh")


@dataclass
class PairResult:
    """``pairs`` sorted by symbol; ``unpaired`` sorted by (symbol, language, file);
    ``rejected`` lists every copy not kept when several files hold one symbol+language,
    each with the file kept in its place (``duplicates`` has the same as records), and
    every file of a conflict (``conflicts``: copies whose texts differ, none paired)."""

    pairs: list[DocumentPair] = field(default_factory=list)
    unpaired: list[Document] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def pair_documents(documents: list[Document]) -> PairResult:
    """Group ``documents`` by symbol and make one en-zh pair per symbol.

    Several files with the same symbol and language are copies of one document (two
    formats, a revision): one is kept (see ``pipeline.pair.duplicates``) and the others are
    listed as its duplicates, so the pair is never lost; copies whose texts differ are a
    conflict, and none of them pairs. A language other than en/zh never pairs and is
    reported as unpaired.
    """
    by_key: dict[tuple[str, str], list[Document]] = {}
    for document in documents:
        by_key.setdefault((document.symbol, document.language), []).append(document)

    result = PairResult()
    kept: dict[tuple[str, str], Document] = {}
    for (symbol, language), group in sorted(by_key.items()):
        if len(group) == 1:
            kept[(symbol, language)] = group[0]
            continue
        keep, duplicates, conflict = choose(group)
        if conflict is not None:
            result.conflicts.append(conflict)
            result.rejected.extend(Rejected(name, conflict.reason) for name in conflict.files)
            continue
        assert keep is not None
        kept[(symbol, language)] = keep
        result.duplicates.extend(duplicates)
        result.rejected.extend(Rejected(d.source_file, d.reason) for d in duplicates)

    source_lang, target_lang = PAIR_LANGUAGES
    for symbol in sorted({symbol for symbol, _ in kept}):
        en = kept.pop((symbol, source_lang), None)
        zh = kept.pop((symbol, target_lang), None)
        if en is not None and zh is not None:
            result.pairs.append(DocumentPair(symbol=symbol, en=en, zh=zh))
        else:
            result.unpaired.extend(doc for doc in (en, zh) if doc is not None)
    result.unpaired.extend(kept.values())
    result.unpaired.sort(key=lambda d: (d.symbol, d.language, d.source_file))
    return result
