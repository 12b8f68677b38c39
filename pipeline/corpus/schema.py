"""The Parquet schemas, declared from the row records, and rows turned into columns.

Schemas are declared, never inferred, so an empty build, a build whose first document
has no footnotes and a build of 95,000 documents all produce the same column types
that notebooks, DuckDB, polars and ``datasets`` rely on. They are declared FROM the
records (``pipeline.records``): a field added to ``BeadRow`` is a column, with
the Arrow type its annotation says, and nothing else has to be kept in step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from pipeline.records import BeadRow, DocumentRow, ParagraphRow, RejectedRow, SentenceRow

_ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int32(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "tuple[str, ...]": pa.list_(pa.string()),
}
#: The derived ``translation`` column (``datasets.Translation`` reads this struct).
TRANSLATION_FIELD = pa.field(
    "translation",
    pa.struct([pa.field("en", pa.string()), pa.field("zh", pa.string())]),
    nullable=False,
)


def _arrow_field(name: str, annotation: str) -> pa.Field:
    """An Arrow field from a record field's annotation (``"int | None"``: nullable int32)."""
    base, _, rest = annotation.partition(" | ")
    if rest not in ("", "None") or base not in _ARROW_TYPES:
        raise TypeError(f"record field {name}: no Arrow type for {annotation!r}")
    return pa.field(name, _ARROW_TYPES[base], nullable=rest == "None")


def row_schema(record: type[BeadRow]) -> pa.Schema:
    """The Parquet schema of a row record, declared from its fields (module docstring of
    ``pipeline.records``): the record is the one owner of the columns."""
    by_name = {f.name: f for f in dataclasses.fields(record)}
    rename = dict(zip(record.ID_COLUMNS, ("en_ids", "zh_ids"), strict=True))
    out = []
    for column in record.column_names():
        if column == "translation":
            out.append(TRANSLATION_FIELD)
            continue
        field = by_name[rename.get(column, column)]
        out.append(_arrow_field(column, str(field.type)))
    return pa.schema(out)


def table_schema(record: type) -> pa.Schema:
    """The schema of a plain record (no derived columns): one column per field."""
    return pa.schema(_arrow_field(f.name, str(f.type)) for f in dataclasses.fields(record))


#: One row per sentence bead.
SENTENCE_SCHEMA = row_schema(SentenceRow)
#: One row per paragraph bead (whole preambular/operative paragraphs, footnotes, ...).
PARAGRAPH_SCHEMA = row_schema(ParagraphRow)

#: One row per document read (``documents.parquet``).
DOCUMENT_SCHEMA = table_schema(DocumentRow)

_REJECT_FIELD = pa.field("reject_reason", pa.string(), nullable=False)
SENTENCE_REJECT_SCHEMA = SENTENCE_SCHEMA.append(_REJECT_FIELD)
PARAGRAPH_REJECT_SCHEMA = PARAGRAPH_SCHEMA.append(_REJECT_FIELD)

#: What the writers take: rows, or rejected rows (the rejects tables).
Record = BeadRow | RejectedRow[Any]


def row_columns(records: Sequence[Record]) -> dict[str, list[Any]]:
    """Records as columns, in table order: the one place rows become column data."""
    rows = [r.row if isinstance(r, RejectedRow) else r for r in records]
    record = type(rows[0]) if rows else SentenceRow
    columns: dict[str, list[Any]] = {}
    for f in dataclasses.fields(record):
        values = [getattr(row, f.name) for row in rows]
        if f.name == "en_ids":
            columns[record.ID_COLUMNS[0]] = values
        elif f.name == "zh_ids":
            columns[record.ID_COLUMNS[1]] = values
        else:
            columns[f.name] = values
        if f.name == record.TRANSLATION_AFTER:
            columns["translation"] = [{"en": row.en, "zh": row.zh} for row in rows]
    if records and isinstance(records[0], RejectedRow):
        columns["reject_reason"] = [r.reject_reason for r in records]  # type: ignore[union-attr]
    return columns


def records_table(records: Sequence[Record], schema: pa.Schema) -> pa.Table:
    """An Arrow table of ``records`` under the declared ``schema``; a record whose values
    break the schema fails here, naming the column."""
    if not records:
        return schema.empty_table()
    columns = row_columns(records)
    if list(columns) != schema.names:
        raise ValueError(f"records give columns {list(columns)}, the table wants {schema.names}")
    return pa.Table.from_pydict(columns, schema=schema)
