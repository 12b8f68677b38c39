"""The corpus's typed records: one frozen dataclass per row kind, and failed pairs.

Why records and not dicts: a row is built once (``pipeline.corpus.rows``), read by the
filters, the writers, the report and the manifest; a misspelt key in a dict fails only
when some writer reaches it, a misspelt attribute fails at once (and in a type checker).

One owner for the columns: the record's fields, in order, ARE the Parquet columns. Their
annotations give the Arrow types (``str`` -> string, ``int`` -> int32, ``float`` ->
float64, ``bool`` -> bool, ``tuple[str, ...]`` -> list<string>; ``| None`` -> nullable), and
``pipeline.corpus.write.row_schema`` builds the declared schema from them. Two columns are
not fields: ``translation`` (the ``{en, zh}`` struct ``datasets`` expects, derived from
``en`` and ``zh``) and the id lists' names, which say the granularity
(``en_sent_ids`` for sentences, ``en_para_ids`` for paragraphs: ``ID_COLUMNS``).
Rows become columns only at the writers (``pipeline.corpus.write.row_columns``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, Generic, TypeVar


@dataclass(frozen=True, slots=True, kw_only=True)
class BeadRow:
    """The columns a sentence row and a paragraph row share, in column order."""

    #: Column names of ``en_ids`` and ``zh_ids`` in this granularity's table.
    ID_COLUMNS: ClassVar[tuple[str, str]] = ("en_ids", "zh_ids")
    #: The derived struct column, and the field it follows.
    TRANSLATION_AFTER: ClassVar[str] = "zh"

    id: str
    symbol: str
    session: int | None
    family: str | None
    pair: str
    kind: str
    para_no: str | None
    en: str
    zh: str
    en_ids: tuple[str, ...]
    zh_ids: tuple[str, ...]
    align_type: str
    score: float
    margin: float
    len_ratio: float | None
    en_tokens: int
    zh_tokens: int
    source_en: str
    source_zh: str
    sha256_en: str
    sha256_zh: str
    model: str
    version: str
    #: ``train``, ``validation`` or ``test``: the split of the document's lineage.
    split: str
    #: The document's lineage (``pipeline.corpus.lineage``): renewals share it.
    lineage: str
    #: Stable hash of the folded English and Chinese text (``pipeline.corpus.dedup``).
    dup_group: str
    #: Rows of the whole table (every split, rejects excluded) in ``dup_group``. Known
    #: only when every row is written: 0 until the finalize pass fills it.
    dup_count: int
    #: A validation or test row whose ``dup_group`` also occurs in train (never a train
    #: row). Filled by the finalize pass, as ``dup_count``.
    seen_in_train: bool

    @property
    def is_translation_pair(self) -> bool:
        """Text on both sides (1-0 and 0-1 beads record omissions; they are not exported
        to TMX or Moses)."""
        return bool(self.en) and bool(self.zh)

    @classmethod
    def column_names(cls) -> list[str]:
        """The table's columns, in order (the fields, the id lists renamed, translation)."""
        rename = dict(zip(("en_ids", "zh_ids"), cls.ID_COLUMNS, strict=True))
        names: list[str] = []
        for f in fields(cls):
            names.append(rename.get(f.name, f.name))
            if f.name == cls.TRANSLATION_AFTER:
                names.append("translation")
        return names


@dataclass(frozen=True, slots=True, kw_only=True)
class SentenceRow(BeadRow):
    """One sentence bead (``en-zh/*.parquet``); ``id`` is ``symbol:block:sentence``."""

    ID_COLUMNS: ClassVar[tuple[str, str]] = ("en_sent_ids", "zh_sent_ids")


@dataclass(frozen=True, slots=True, kw_only=True)
class ParagraphRow(BeadRow):
    """One paragraph bead (``en-zh-paragraphs/*.parquet``); ``id`` is ``symbol:block``."""

    ID_COLUMNS: ClassVar[tuple[str, str]] = ("en_para_ids", "zh_para_ids")


RowT = TypeVar("RowT", bound=BeadRow)


@dataclass(frozen=True, slots=True)
class RejectedRow(Generic[RowT]):
    """A row the decision step dropped (``rejects/``): the row's columns plus
    ``reject_reason`` ("reason: detail", reason one of ``filters.REASONS``)."""

    row: RowT
    reject_reason: str

    @property
    def reason_name(self) -> str:
        """The reason without its detail ("score_below_min")."""
        return self.reject_reason.split(":")[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRow:
    """One document read (``documents.parquet``), paired or not: where its lineage
    and split come from, and what a researcher filters documents by."""

    symbol: str
    language: str
    source_file: str
    family: str | None
    session: int | None
    title: str | None
    #: The lineage's id and its key (the earliest member's symbol).
    lineage: str
    lineage_key: str
    split: str
    #: Whether this file is one side of a pair in the corpus (False: no counterpart in
    #: the other language, or a copy of a document kept in another file).
    paired: bool


@dataclass(frozen=True, slots=True)
class FailedPair:
    """A document pair the aligner could not align: listed in the manifest
    (``documents.failed_pairs``) and the report; the build goes on without it."""

    symbol: str
    reason: str
