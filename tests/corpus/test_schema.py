"""The row records own the Parquet columns: schema and record must never drift apart."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from factories import make_row

from pipeline.corpus.schema import records_table, row_columns, row_schema
from pipeline.corpus.write import (
    DOCUMENT_SCHEMA,
    PARAGRAPH_REJECT_SCHEMA,
    PARAGRAPH_SCHEMA,
    SENTENCE_REJECT_SCHEMA,
    SENTENCE_SCHEMA,
    ParquetTableWriter,
)
from pipeline.records import BeadRow, ParagraphRow, RejectedRow, SentenceRow

S, INT, F, BOOL = pa.string(), pa.int32(), pa.float64(), pa.bool_()
STRINGS = pa.list_(pa.string())
TRANSLATION = pa.struct([pa.field("en", S), pa.field("zh", S)])

#: The published sentence table, column by column (name, type, nullable): what
#: notebooks and ``datasets`` read. Changing it is a change to the dataset's format.
PUBLISHED_SENTENCE_COLUMNS = [
    ("id", S, False),
    ("symbol", S, False),
    ("session", INT, True),
    ("family", S, True),
    ("pair", S, False),
    ("kind", S, False),
    ("para_no", S, True),
    ("en", S, False),
    ("zh", S, False),
    ("translation", TRANSLATION, False),
    ("en_sent_ids", STRINGS, False),
    ("zh_sent_ids", STRINGS, False),
    ("align_type", S, False),
    ("score", F, False),
    ("margin", F, False),
    ("len_ratio", F, True),
    ("en_tokens", INT, False),
    ("zh_tokens", INT, False),
    ("source_en", S, False),
    ("source_zh", S, False),
    ("sha256_en", S, False),
    ("sha256_zh", S, False),
    ("model", S, False),
    ("version", S, False),
    ("split", S, False),
    ("lineage", S, False),
    ("dup_group", S, False),
    ("dup_count", INT, False),
    ("seen_in_train", BOOL, False),
]

#: The documents table (``documents.parquet``): one row per document read.
PUBLISHED_DOCUMENT_COLUMNS = [
    ("symbol", S, False),
    ("language", S, False),
    ("source_file", S, False),
    ("family", S, True),
    ("session", INT, True),
    ("title", S, True),
    ("lineage", S, False),
    ("lineage_key", S, False),
    ("split", S, False),
    ("paired", BOOL, False),
]


def _columns(schema: pa.Schema) -> list[tuple[str, pa.DataType, bool]]:
    return [(f.name, f.type, f.nullable) for f in schema]


def test_sentence_schema_is_the_published_one() -> None:
    assert _columns(SENTENCE_SCHEMA) == PUBLISHED_SENTENCE_COLUMNS


def test_document_schema_is_the_published_one() -> None:
    assert _columns(DOCUMENT_SCHEMA) == PUBLISHED_DOCUMENT_COLUMNS


def test_paragraph_schema_differs_only_in_the_id_columns() -> None:
    renamed = {"en_sent_ids": "en_para_ids", "zh_sent_ids": "zh_para_ids"}
    expected = [(renamed.get(n, n), t, null) for n, t, null in PUBLISHED_SENTENCE_COLUMNS]
    assert _columns(PARAGRAPH_SCHEMA) == expected


def test_reject_schemas_append_the_reason() -> None:
    for kept, rejected in (
        (SENTENCE_SCHEMA, SENTENCE_REJECT_SCHEMA),
        (PARAGRAPH_SCHEMA, PARAGRAPH_REJECT_SCHEMA),
    ):
        assert rejected.names == [*kept.names, "reject_reason"]
        assert not rejected.field("reject_reason").nullable


@pytest.mark.parametrize("record", [SentenceRow, ParagraphRow])
def test_every_record_field_is_a_column_and_every_column_a_field(record: type[BeadRow]) -> None:
    """The drift check: a field added to the record without a column (or a column
    without a field) fails here and in ``records_table``."""
    row = record(**{f.name: getattr(make_row(1), f.name) for f in dataclasses.fields(record)})
    schema = row_schema(record)
    assert list(row_columns([row])) == schema.names == record.column_names()
    rejected = RejectedRow(row, "score_below_min: 0.1 < 0.5")
    assert list(row_columns([rejected])) == [*schema.names, "reject_reason"]
    fields = {f.name for f in dataclasses.fields(record)}
    assert fields == set(schema.names) - {"translation", *record.ID_COLUMNS} | {"en_ids", "zh_ids"}


def test_a_field_without_an_arrow_type_is_refused() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Odd(BeadRow):
        blob: bytes = b""

    with pytest.raises(TypeError, match="blob"):
        row_schema(Odd)


def test_records_round_trip_through_parquet(tmp_path: Path) -> None:
    rows = [make_row(1, session=None, len_ratio=None), make_row(2, en="Two.", zh="二。")]
    writer = ParquetTableWriter(tmp_path / "t", SENTENCE_SCHEMA)
    writer.write_rows(rows)
    (path,) = writer.close()
    read = pq.read_table(path).to_pylist()
    assert read[0]["session"] is None and read[0]["len_ratio"] is None
    assert read[1]["translation"] == {"en": "Two.", "zh": "二。"}
    assert read[1]["en_sent_ids"] == ["op2:s1"]
    for row, back in zip(rows, read, strict=True):
        assert back["id"] == row.id and back["score"] == row.score


def test_records_table_refuses_the_wrong_granularity() -> None:
    paragraph = ParagraphRow(
        **{f.name: getattr(make_row(1), f.name) for f in dataclasses.fields(ParagraphRow)}
    )
    with pytest.raises(ValueError, match="en_para_ids"):
        records_table([paragraph], SENTENCE_SCHEMA)
