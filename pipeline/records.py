"""Every record the pipeline passes along, in one place: documents, pairs, sentences,
beads, the rows of the corpus, and what travels between the build's stages.

One dataclass per record, as in datatrove's ``Document``: stages exchange these and
nothing else, so a stage can be tested on hand-made records and swapped out alone. The
chain is Document -> DocumentPair -> PairChunk -> SegmentedChunk -> PlannedPair ->
AlignedDocument -> DecidedDocument (rows) -> files.

Row records (``BeadRow`` and its kinds) own the corpus's columns: their fields, in order,
ARE the Parquet columns. Their annotations give the Arrow types (``str`` -> string,
``int`` -> int32, ``float`` -> float64, ``bool`` -> bool, ``tuple[str, ...]`` ->
list<string>; ``| None`` -> nullable), and ``pipeline.corpus.write.row_schema`` builds the
declared schema from them. Two columns are not fields: ``translation`` (the ``{en, zh}``
struct ``datasets`` expects, derived from ``en`` and ``zh``) and the id lists' names, which
say the granularity (``en_sent_ids`` for sentences, ``en_para_ids`` for paragraphs:
``ID_COLUMNS``). Why records and not dicts: a misspelt attribute fails at once, a misspelt
key only when some writer reaches it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import numpy as np

if TYPE_CHECKING:  # records stay importable without the aligner or the corpus code
    from pipeline.align.document import PairPlan
    from pipeline.corpus.splits import Placement

#: Block kinds, in the order they appear in a resolution. ``subparagraph`` is an
#: (a), (b) ... item under an operative (or preambular) paragraph.
BLOCK_KINDS = (
    "heading",
    "title",
    "preamble",
    "operative",
    "subparagraph",
    "footnote",
    "closing",
)


_KEY_PREFIX = {
    "heading": "head",
    "preamble": "pre",
    "operative": "op",
    "subparagraph": "sub",
    "footnote": "fn",
    "closing": "close",
}


class RejectedInput(Exception):
    """A source file that cannot become a Document. Carries the file and one reason.

    Raised by readers and the extractor; the build catches it, lists the file as
    rejected and goes on with the other documents.
    """

    def __init__(self, source_file: str, reason: str) -> None:
        super().__init__(f"{source_file}: {reason}")
        self.source_file = source_file
        self.reason = reason


@dataclass
class Block:
    """One paragraph as a reader sees it on the printed page.

    ``number`` is the operative paragraph number ("5"), the footnote number ("3") or
    the sub-paragraph letter ("a"); ``lead`` is the lead phrase of a preambular or
    operative paragraph ("Recalling also", "又注意到", "Calls upon"). ``text`` is clean:
    no markdown, no footnote markers (those are in ``footnote_refs``), no line breaks.
    """

    kind: str
    text: str
    number: str | None = None
    lead: str | None = None
    footnote_refs: list[str] = field(default_factory=list)


@dataclass
class Metadata:
    session: int | None = None  # 75
    agenda_item: str | None = None  # "103 (v)"
    adopted_on: str | None = None  # ISO date "2020-12-07"
    title: str | None = None
    report: str | None = None  # "A/75/399"
    meeting: str | None = None  # "37th plenary meeting" / "第37次全体会议"
    family: str | None = None  # "ga_resolution", "sc_resolution", "ga_decision", "ga_draft"
    body: str | None = None  # "General Assembly", "Security Council", "First Committee"
    revision: str | None = None  # "Rev.1" / "Corr.1" of the symbol, when the file is one
    #: Whether the operative paragraphs carry their numbers (False: a converter dropped
    #: them and they were found by their lead; the aligner then has no numbers to anchor).
    numbered: bool | None = None


_METADATA_FIELDS = tuple(f.name for f in fields(Metadata))
_BLOCK_FIELDS = tuple(f.name for f in fields(Block))


@dataclass
class Document:
    symbol: str  # "A/RES/75/58"
    language: str  # "en" | "zh"
    source_file: str
    sha256: str
    metadata: Metadata = field(default_factory=Metadata)
    blocks: list[Block] = field(default_factory=list)
    #: Digest of the text (``pipeline.pair.duplicates.text_digest``), set only on a stub
    #: (a document whose blocks stay on disk while the build pairs): pairing compares
    #: texts through it. None on a whole document, and then not serialised.
    text_digest: str | None = None

    def block_keys(self) -> list[str]:
        """Stable, unique key per block (``op5``, ``op5a``, ``pre3``, ``fn2``, ``head1``).

        Unnumbered kinds get their ordinal; a sub-paragraph is keyed under the operative
        paragraph it follows, so ids stay stable when other paragraphs change. One
        without a letter is ``op2-1`` (``op21`` would be operative 21's key). A number
        seen again (an annex numbering its paragraphs 1, 2 ... after the resolution's)
        gets ``_2``, ``_3``: the keys make sentence and row ids, which must be unique.
        """
        return [key for key, _ in self.block_labels()]

    def block_labels(self) -> list[tuple[str, str]]:
        """(block key, para_no) per block, from one walk over the blocks.

        para_no is what a reader cites: the printed number of an operative paragraph or
        a footnote, "5(a)" for a sub-paragraph, and the position within its kind for
        unnumbered blocks (the 3rd preambular paragraph is "3"). Keys: ``block_keys``.
        """
        labels: list[tuple[str, str]] = []
        counts: dict[str, int] = {}
        taken: set[str] = set()
        last_op_key, last_op_number = "", ""
        for block in self.blocks:
            n = counts[block.kind] = counts.get(block.kind, 0) + 1
            para_no = str(n)
            if block.kind == "operative" and block.number:
                key = f"op{block.number}"
                para_no = block.number
            elif block.kind == "footnote" and block.number:
                key, para_no = f"fn{block.number}", block.number
            elif block.kind == "subparagraph":
                key = f"{last_op_key or 'sub'}{block.number or f'-{n}'}"
                letter = block.number or str(n)
                para_no = f"{last_op_number}({letter})" if last_op_number else f"({letter})"
            elif block.kind == "title":
                key = "title" if n == 1 else f"title{n}"
            else:
                key = f"{_KEY_PREFIX[block.kind]}{n}"
            unique, k = key, 1
            while unique in taken:
                k += 1
                unique = f"{key}_{k}"
            taken.add(unique)
            if block.kind == "operative":
                last_op_number = block.number or ""
                if block.number:
                    last_op_key = key  # before de-duplication, as sub-paragraph keys were
            labels.append((unique, para_no))
        return labels

    def to_dict(self) -> dict[str, Any]:
        """``dataclasses.asdict`` of the document, built field by field: the same dict
        (key order included, so the same JSON), at a fifth of the cost (asdict deep-copies
        every value; this was about 3 ms a document in the read stage). The text digest
        is left out of a whole document's dict (None), as ever."""
        data: dict[str, Any] = {
            "symbol": self.symbol,
            "language": self.language,
            "source_file": self.source_file,
            "sha256": self.sha256,
            "metadata": {name: getattr(self.metadata, name) for name in _METADATA_FIELDS},
            # asdict copies the one list a block holds; the key keeps its place
            "blocks": [
                {name: getattr(b, name) for name in _BLOCK_FIELDS}
                | {"footnote_refs": list(b.footnote_refs)}
                for b in self.blocks
            ],
        }
        if self.text_digest is not None:
            data["text_digest"] = self.text_digest
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(
            symbol=data["symbol"],
            language=data["language"],
            source_file=data["source_file"],
            sha256=data["sha256"],
            metadata=Metadata(**data.get("metadata", {})),
            blocks=[Block(**b) for b in data.get("blocks", [])],
            text_digest=data.get("text_digest"),
        )


@dataclass
class Rejected:
    source_file: str
    reason: str


@dataclass
class DocumentPair:
    """An English and a Chinese version of one resolution, matched by symbol.

    ``placement``: its lineage and split, decided at the pairing barrier (the build's pair
    stage); it travels with the pair so that a stage in a worker needs no shared table."""

    symbol: str
    en: Document
    zh: Document
    placement: Placement | None = None


@dataclass
class Sentence:
    """One sentence inside one block. ``id`` is unique in its document: ``op5:s1``."""

    id: str
    block: int  # index into Document.blocks
    text: str
    #: Words (en) or jieba tokens (zh); None until counted (``pipeline.text.segment``:
    #: a build counts in its align stage, the rows read them).
    tokens: int | None = None


#: A pair's sentences, English then Chinese (``pipeline.text.segment.segment_document``).
PairSentences = tuple[list[Sentence], list[Sentence]]


@dataclass
class Bead:
    """An alignment link: sentence indices on each side (either side may be empty).

    ``score`` is the aligner's confidence in calibrated units: 1.0 is the typical score of
    a correct 1-1 bead in the same document (see ``pipeline.align``), higher is better;
    ``margin`` is the raw similarity minus its neighbourhood mean (hubness-corrected).
    Thresholds are applied later, by filters, never here.
    """

    src: list[int]
    tgt: list[int]
    score: float = 0.0
    margin: float = 0.0

    @property
    def type(self) -> str:
        return f"{len(self.src)}-{len(self.tgt)}"


def symbol_slug(symbol: str) -> str:
    """File-name-safe form of a document symbol: ``A/RES/75/58`` -> ``A-RES-75-58``.

    Symbols come from untrusted text, so nothing but letters, digits, '.', '_' and '-'
    survives and dots never lead: "../" in a symbol cannot escape an output folder.
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", symbol).strip("-.")
    slug = re.sub(r"\.{2,}", ".", slug)
    return slug or "unknown"


# --------------------------------------------------------------------- corpus rows


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


# --------------------------------------------------------------------- between stages


@dataclass
class PairChunk:
    """Consecutive pairs (fixed boundaries, pipeline.runner.stages.chunk) embedded
    together; their documents are stubs until the embed stage reads them back."""

    index: int
    pairs: list[DocumentPair]


@dataclass
class SegmentedChunk:
    """A chunk read back whole from the spool (pipeline.runner.stages.segment), with the
    sentences of each pair the work cache does not hold (None: it does; no embedding,
    no aligning)."""

    index: int
    pairs: list[DocumentPair]
    sentences: list[PairSentences | None]


@dataclass
class PlannedPair:
    """A pair on its way to the aligner. ``plan`` None: its alignment is in the work cache.

    ``texts`` and ``matrix`` hold the vector of every text the plan reads (one row per
    text): a matrix pickles to a pool worker in one piece, where a dict of arrays would
    not."""

    pair: DocumentPair
    sentences: PairSentences | None = None
    plan: PairPlan | None = None
    texts: list[str] | None = None
    matrix: np.ndarray | None = None

    def vectors(self) -> dict[str, np.ndarray]:
        """text -> unit vector for every text of the plan."""
        assert self.texts is not None and self.matrix is not None
        return dict(zip(self.texts, self.matrix, strict=True))


@dataclass
class AlignedDocument:
    """One pair after alignment: what the work cache stores and the later stages use."""

    pair: DocumentPair
    en_sentences: list[Sentence]
    zh_sentences: list[Sentence]
    beads: list[Bead]
    paragraph_beads: list[Bead]
    similarity: np.ndarray  # sentence similarity, averaged down for the report picture
    shape: tuple[int, int]
    model: str
    from_cache: bool = False
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportPage:
    """One document's page of the report and its line in the index, rendered (HTML)."""

    name: str
    html: str
    index_html: str


@dataclass(frozen=True)
class DecidedDocument:
    """Rows of one pair, split by the decision step into corpus and rejects."""

    aligned: AlignedDocument
    sentences: list[SentenceRow]
    sentence_rejects: list[RejectedRow[SentenceRow]]
    paragraphs: list[ParagraphRow]
    paragraph_rejects: list[RejectedRow[ParagraphRow]]
    #: The pair's lineage and split (on every row; the report shows it).
    placement: Placement
    #: Every sentence row in bead order with its reject reason (None = kept): the report.
    decisions: list[tuple[SentenceRow, str | None]] = field(default_factory=list)
    #: The document's report page, rendered where the rows were decided (a worker).
    report: ReportPage | None = None
