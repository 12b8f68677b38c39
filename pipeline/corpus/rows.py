"""Dataset rows from aligned beads: one record (``pipeline.records``) per sentence
or paragraph bead, and the decision (kept or rejected, and why) that sends each row to the
corpus or to rejects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pipeline import __version__
from pipeline.corpus.dedup import dup_group
from pipeline.corpus.filters import FilterOptions, length_ratio, row_reject_reason
from pipeline.corpus.splits import Placement
from pipeline.corpus.write import (
    PAIR,
)
from pipeline.records import (
    AlignedDocument,
    Bead,
    BeadRow,
    Block,
    ParagraphRow,
    RejectedRow,
    RowT,
    Sentence,
    SentenceRow,
)


def _join(texts: list[str], lang: str) -> str:
    """Chinese is written without spaces between sentences; English with one."""
    parts = [t.strip() for t in texts if t.strip()]
    return ("" if lang == "zh" else " ").join(parts)


def _bead_row(
    record: type[RowT],
    aligned: AlignedDocument,
    bead: Bead,
    *,
    placement: Placement,
    key: str,
    block: Block,
    para_no: int | None,
    en_text: str,
    zh_text: str,
    en_ids: list[str],
    zh_ids: list[str],
    en_tokens: int,
    zh_tokens: int,
) -> RowT:
    """A sentence or paragraph row (``record``); ``en_ids``/``zh_ids`` are the sentence
    ids or the paragraph keys the bead covers. ``dup_count`` and ``seen_in_train`` need
    the whole corpus: the finalize pass fills them (``pipeline.corpus.finalize``)."""
    pair = aligned.pair
    return record(
        id=f"{pair.symbol}:{key}",
        symbol=pair.symbol,
        session=pair.en.metadata.session or pair.zh.metadata.session,
        family=pair.en.metadata.family or pair.zh.metadata.family,
        pair=PAIR,
        kind=block.kind,
        para_no=para_no,
        en=en_text,
        zh=zh_text,
        en_ids=tuple(en_ids),
        zh_ids=tuple(zh_ids),
        align_type=bead.type,
        score=float(bead.score),
        margin=float(bead.margin),
        len_ratio=length_ratio(en_tokens, zh_tokens),
        en_tokens=en_tokens,
        zh_tokens=zh_tokens,
        source_en=pair.en.source_file,
        source_zh=pair.zh.source_file,
        sha256_en=pair.en.sha256,
        sha256_zh=pair.zh.sha256,
        model=aligned.model,
        version=__version__,
        split=placement.split,
        lineage=placement.lineage,
        dup_group=dup_group(en_text, zh_text),
        dup_count=0,
        seen_in_train=False,
    )


def _tokens(sentence: Sentence) -> int:
    """A sentence's token count; one never counted is a bug upstream, not a zero."""
    if sentence.tokens is None:
        raise ValueError(f"sentence {sentence.id} reached the rows without a token count")
    return sentence.tokens


def sentence_rows(aligned: AlignedDocument, placement: Placement) -> list[SentenceRow]:
    """One dataset row per sentence bead, in bead (document) order; ``placement`` is the
    pair's lineage and split.

    ``id`` is the symbol plus the first English sentence id ("A/RES/75/58:op5:s1");
    a bead without English takes its first Chinese id, marked ``zh:`` so it can never
    collide with an English-derived id of the same block ("A/RES/75/58:zh:op5:s2").
    """
    pair = aligned.pair
    en_labels = pair.en.block_labels()
    zh_labels = pair.zh.block_labels()
    rows = []
    for bead in aligned.beads:
        en_sents = [aligned.en_sentences[i] for i in bead.src]
        zh_sents = [aligned.zh_sentences[i] for i in bead.tgt]
        if en_sents:
            first_id = en_sents[0].id
            block = pair.en.blocks[en_sents[0].block]
            para_no = en_labels[en_sents[0].block][1]
        else:
            first_id = "zh:" + zh_sents[0].id
            block = pair.zh.blocks[zh_sents[0].block]
            para_no = zh_labels[zh_sents[0].block][1]
        en_text = _join([s.text for s in en_sents], "en")
        zh_text = _join([s.text for s in zh_sents], "zh")
        row = _bead_row(
            SentenceRow,
            aligned,
            bead,
            placement=placement,
            key=first_id,
            block=block,
            para_no=para_no,
            en_text=en_text,
            zh_text=zh_text,
            en_ids=[s.id for s in en_sents],
            zh_ids=[s.id for s in zh_sents],
            en_tokens=sum(_tokens(s) for s in en_sents),
            zh_tokens=sum(_tokens(s) for s in zh_sents),
        )
        rows.append(row)
    return rows


def paragraph_rows(aligned: AlignedDocument, placement: Placement) -> list[ParagraphRow]:
    """One dataset row per paragraph bead (blocks of the two documents), in order."""
    pair = aligned.pair
    en_labels = pair.en.block_labels()
    zh_labels = pair.zh.block_labels()
    en_tokens_per_block: Counter[int] = Counter()
    zh_tokens_per_block: Counter[int] = Counter()
    for s in aligned.en_sentences:
        en_tokens_per_block[s.block] += _tokens(s)
    for s in aligned.zh_sentences:
        zh_tokens_per_block[s.block] += _tokens(s)
    rows = []
    for bead in aligned.paragraph_beads:
        if bead.src:
            first = bead.src[0]
            key, para_no = en_labels[first]
            block = pair.en.blocks[first]
        else:
            first = bead.tgt[0]
            key, para_no = zh_labels[first]
            key = "zh:" + key
            block = pair.zh.blocks[first]
        en_text = _join([pair.en.blocks[i].text for i in bead.src], "en")
        zh_text = _join([pair.zh.blocks[i].text for i in bead.tgt], "zh")
        row = _bead_row(
            ParagraphRow,
            aligned,
            bead,
            placement=placement,
            key=key,
            block=block,
            para_no=para_no,
            en_text=en_text,
            zh_text=zh_text,
            en_ids=[en_labels[i][0] for i in bead.src],
            zh_ids=[zh_labels[i][0] for i in bead.tgt],
            en_tokens=sum(en_tokens_per_block[i] for i in bead.src),
            zh_tokens=sum(zh_tokens_per_block[i] for i in bead.tgt),
        )
        rows.append(row)
    return rows


def decide(rows: Sequence[BeadRow], options: FilterOptions) -> list[str | None]:
    """The reject reason of each row (None = keep), in row order."""
    return [row_reject_reason(row, options) for row in rows]


def split_rows(
    rows: Sequence[RowT], reasons: Sequence[str | None]
) -> tuple[list[RowT], list[RejectedRow[RowT]]]:
    """(kept, rejected); a rejected row carries its ``reject_reason``."""
    kept = [row for row, reason in zip(rows, reasons, strict=True) if reason is None]
    rejected = [
        RejectedRow(row, reason)
        for row, reason in zip(rows, reasons, strict=True)
        if reason is not None
    ]
    return kept, rejected
