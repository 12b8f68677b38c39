"""Small Document, DocumentPair and dataset-row builders shared by the tests (one place).

Tests that need a document with a given block structure, or several files of one symbol,
build it here, so a new required field on a record is added once. Real documents come
from the seeds (``conftest.SEEDS``); these are for shapes the seeds do not have.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipeline import __version__
from pipeline.corpus.dedup import dup_group
from pipeline.records import Block, Document, DocumentPair, Metadata, SentenceRow

SYMBOL = "A/RES/1/1"
SHA256 = "0" * 64


def make_blocks(*specs: tuple[str, str | None], text: str = "text.") -> list[Block]:
    """One block per ``(kind, number)``, all holding ``text``."""
    return [Block(kind=kind, text=text, number=number) for kind, number in specs]


def make_document(
    language: str = "en",
    blocks: Iterable[Block] = (),
    *,
    symbol: str = SYMBOL,
    source_file: str | None = None,
    metadata: Metadata | None = None,
) -> Document:
    """A document of ``symbol`` in ``language``; the file is ``x.<language>`` unless named."""
    return Document(
        symbol=symbol,
        language=language,
        source_file=source_file or f"x.{language}",
        sha256=SHA256,
        metadata=metadata if metadata is not None else Metadata(),
        blocks=list(blocks),
    )


def make_pair(
    en_blocks: Iterable[Block], zh_blocks: Iterable[Block], *, symbol: str = SYMBOL
) -> DocumentPair:
    """An en-zh pair of ``symbol`` from the two block lists."""
    return DocumentPair(
        symbol=symbol,
        en=make_document("en", en_blocks, symbol=symbol),
        zh=make_document("zh", zh_blocks, symbol=symbol),
    )


def make_row(n: int, en: str = "Hello.", zh: str = "你好。", **extra: Any) -> SentenceRow:
    values: dict[str, Any] = {
        "id": f"A/RES/1/1:op{n}:s1",
        "symbol": SYMBOL,
        "session": 1,
        "family": None,
        "pair": "en-zh",
        "kind": "operative",
        "para_no": str(n),
        "en": en,
        "zh": zh,
        "en_ids": (f"op{n}:s1",),
        "zh_ids": (f"op{n}:s1",),
        "align_type": "1-1",
        "score": 0.8765,
        "margin": 0.3,
        "len_ratio": 1.0,
        "en_tokens": 1,
        "zh_tokens": 1,
        "source_en": "en.txt",
        "source_zh": "zh.txt",
        "sha256_en": "a" * 64,
        "sha256_zh": "b" * 64,
        "model": "test-model",
        "version": __version__,
        "split": "train",
        "lineage": "0123456789abcdef",
        "dup_group": dup_group(en, zh),
        "dup_count": 1,
        "seen_in_train": False,
    }
    values.update(extra)
    return SentenceRow(**values)
