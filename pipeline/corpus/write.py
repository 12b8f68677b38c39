"""Writers for the corpus: Parquet tables, TMX 1.4b, Moses text, manifest and dataset card.

Every writer streams: rows arrive one document at a time and go to disk at once, so
the memory a build needs does not grow with the archive (issue 5). Parquet schemas
are declared here, never inferred, so an empty build, a build whose first document
has no footnotes and a build of 95,000 documents all produce the same column types
that notebooks, DuckDB, polars and ``datasets`` rely on.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO
from xml.sax.saxutils import XMLGenerator

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import __version__
from pipeline.corpus.schema import (  # noqa: F401  (the tables' schemas, used via this module)
    DOCUMENT_SCHEMA,
    PARAGRAPH_REJECT_SCHEMA,
    PARAGRAPH_SCHEMA,
    SENTENCE_REJECT_SCHEMA,
    SENTENCE_SCHEMA,
    Record,
    records_table,
)
from pipeline.corpus.splits import SPLITS
from pipeline.records import BeadRow, RejectedRow

TOOL_NAME = "un-parallel-pipeline"
PAIR = "en-zh"
#: Parquet compression (zstd: small files, fast reads, supported by every reader here).
COMPRESSION = "zstd"
#: Rows per Parquet file before a new shard is started; keeps files a reader can open.
ROWS_PER_SHARD = 500_000
#: The most rows in one Parquet row group. Rows arrive one document (~40 beads) at a
#: time; written as they come, 95,000 documents would be 95,000 tiny row groups: poor
#: compression, slow scans, and footer metadata (~3 KB per group per table) that the
#: writer keeps in memory until it closes.
ROWS_PER_GROUP = 20_000
#: The Arrow bytes of one row group, the bound that applies first here (a sentence row is
#: about 0.95 KB, so about 2,200 rows: the size of group ``datasets`` writes itself, whose
#: default is 1,000 rows). A group's rows wait in memory until it is full, one group per
#: table and split, and the finalize pass holds one group at a time, so this, not the
#: corpus size, bounds the memory of writing, and it is reached within about 60 pairs.
#: Measured (driver peak, warm embedding cache, 60 -> 240 pairs): 20,000-row groups 298 ->
#: 346 MB; 2 MiB groups with Arrow's freed memory released 296-300 -> 314-315 MB.
GROUP_BYTES = 2 << 20


def release_arrow_memory() -> None:
    """Give the memory Arrow's allocator keeps for reuse back to the system. Arrow's
    default pool (mimalloc) holds on to freed blocks, so without this a build's
    resident memory climbs with every row group it has written, although no more than
    one group is alive at a time; called once a group is written, it is rare."""
    pa.default_memory_pool().release_unused()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ParquetTableWriter:
    """Streams rows into ``folder/<prefix>-NNNNN.parquet`` shards under a fixed schema.

    Rows are converted to Arrow as they arrive (a row that breaks the schema fails in
    the call that wrote it, not at some later flush) and held until a row group is full
    (``rows_per_group`` rows, or fewer wide rows making ``group_bytes``), so memory stays
    bounded by one row group whatever the corpus size. An empty table still gets one
    (empty) file, so readers see the columns rather than a missing folder.
    """

    def __init__(
        self,
        folder: Path,
        schema: pa.Schema,
        *,
        prefix: str = "train",
        rows_per_shard: int = ROWS_PER_SHARD,
        rows_per_group: int = ROWS_PER_GROUP,
        group_bytes: int = GROUP_BYTES,
    ) -> None:
        self.folder = folder
        self.schema = schema
        self.prefix = prefix
        self.rows_per_shard = rows_per_shard
        self.rows_per_group = rows_per_group
        self.group_bytes = group_bytes
        self.rows = 0
        self.files: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._rows_in_shard = 0
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        folder.mkdir(parents=True, exist_ok=True)

    def _open_shard(self) -> pq.ParquetWriter:
        path = self.folder / f"{self.prefix}-{len(self.files):05d}.parquet"
        self.files.append(path)
        self._rows_in_shard = 0
        return pq.ParquetWriter(path, self.schema, compression=COMPRESSION)

    def write_rows(self, rows: Sequence[Record]) -> None:
        if not rows:
            return
        self._pending.append(records_table(rows, self.schema))
        self._pending_rows += len(rows)
        self.rows += len(rows)
        if self._pending_rows >= self._group_rows():
            self._flush(keep_partial=True)

    @property
    def _pending_bytes(self) -> int:
        """Arrow bytes of the rows waiting for a group (a few tables: summed when asked)."""
        return sum(table.nbytes for table in self._pending)

    def _group_rows(self) -> int:
        """Rows in one row group: ``rows_per_group``, or as many of the pending rows as
        make ``group_bytes`` (their mean width), at least one."""
        if not self._pending_rows:
            return self.rows_per_group
        width = self._pending_bytes / self._pending_rows
        return max(1, min(self.rows_per_group, int(self.group_bytes / max(width, 1.0))))

    def _flush(self, *, keep_partial: bool) -> None:
        """Write the pending rows as full row groups, split at shard boundaries; with
        ``keep_partial``, a last group smaller than a full one waits for more."""
        group = self._group_rows()
        table = pa.concat_tables(self._pending)
        self._pending, self._pending_rows = [], 0
        start = 0
        while start < table.num_rows:
            if self._writer is None or self._rows_in_shard >= self.rows_per_shard:
                if self._writer is not None:
                    self._writer.close()
                self._writer = self._open_shard()
            room = self.rows_per_shard - self._rows_in_shard
            size = min(room, group, table.num_rows - start)
            if keep_partial and size < min(room, group):
                self._pending, self._pending_rows = [table.slice(start)], size
                break
            self._writer.write_table(table.slice(start, size), row_group_size=size)
            self._rows_in_shard += size
            start += size
        del table
        release_arrow_memory()

    def close(self) -> list[Path]:
        if self._pending:
            self._flush(keep_partial=False)
        if self._writer is None:
            self._writer = self._open_shard()
        self._writer.close()
        self._writer = None
        return self.files


def rows_by_split(records: Sequence[Record]) -> dict[str, list[Record]]:
    """Records grouped by their row's split, order kept (splits in ``SPLITS`` order)."""
    groups: dict[str, list[Record]] = {split: [] for split in SPLITS}
    for record in records:
        row = record.row if isinstance(record, RejectedRow) else record
        groups[row.split].append(record)
    return {split: rows for split, rows in groups.items() if rows}


class SplitTableWriter:
    """One table written per split: ``folder/train-NNNNN.parquet``, ``validation-…``,
    ``test-…`` (``datasets`` finds the splits by these names, through the card). Every
    split gets a file, an empty one if it has no rows, so every split can be loaded."""

    def __init__(self, folder: Path, schema: pa.Schema, **sizes: int) -> None:
        self.folder = folder
        self.writers = {s: ParquetTableWriter(folder, schema, prefix=s, **sizes) for s in SPLITS}

    def write_rows(self, rows: Sequence[Record]) -> None:
        for split, records in rows_by_split(rows).items():
            self.writers[split].write_rows(records)

    @property
    def rows(self) -> int:
        return sum(w.rows for w in self.writers.values())

    @property
    def files(self) -> list[Path]:
        """Every shard, in name order (the order readers of the folder see rows in)."""
        return sorted((p for w in self.writers.values() for p in w.files), key=lambda p: p.name)

    def close(self) -> list[Path]:
        for writer in self.writers.values():
            writer.close()
        return self.files


class TmxWriter:
    """TMX 1.4b for CAT tools, written with a streaming XML writer (escaping included).

    One ``<tu>`` per row with both sides; provenance as ``<prop type="x-...">``
    before the ``<tuv>``s, as the TMX 1.4b DTD orders them.
    """

    def __init__(self, path: Path, handle: TextIO | None = None) -> None:
        self.path = path
        self.units = 0
        self._handle: TextIO = (
            handle if handle is not None else path.open("w", encoding="utf-8", newline="\n")
        )
        self._xml = XMLGenerator(self._handle, encoding="utf-8", short_empty_elements=True)
        self._xml.startDocument()
        self._handle.write('\n<!DOCTYPE tmx SYSTEM "tmx14.dtd">\n')
        self._xml.startElement("tmx", {"version": "1.4"})
        self._handle.write("\n")
        self._xml.startElement(
            "header",
            {
                "creationtool": TOOL_NAME,
                "creationtoolversion": __version__,
                "segtype": "sentence",
                "o-tmf": TOOL_NAME,
                "adminlang": "en",
                "srclang": "en",
                "datatype": "plaintext",
            },
        )
        self._xml.endElement("header")
        self._handle.write("\n")
        self._xml.startElement("body", {})
        self._handle.write("\n")

    def write_row(self, row: BeadRow) -> None:
        xml = self._xml
        xml.startElement("tu", {"tuid": row.id})
        for name in ("symbol", "id", "score", "align_type", "kind"):
            value = getattr(row, name)
            text = f"{value:.4f}" if isinstance(value, float) else str(value)
            xml.startElement("prop", {"type": f"x-{name}"})
            xml.characters(text)
            xml.endElement("prop")
        for lang in ("en", "zh"):
            xml.startElement("tuv", {"xml:lang": lang})
            xml.startElement("seg", {})
            xml.characters(getattr(row, lang))
            xml.endElement("seg")
            xml.endElement("tuv")
        xml.endElement("tu")
        self._handle.write("\n")
        self.units += 1

    def write_units(self, text: str, units: int) -> None:
        """Append ``<tu>`` elements rendered elsewhere by :func:`tmx_units` (a worker's part).

        The generator may hold an unfinished start tag (``<body``); it is closed first,
        exactly as ``write_row``'s first element would, so the bytes equal a streamed file.
        """
        if units:
            self._xml._finish_pending_start_element()  # type: ignore[attr-defined]
            self._handle.write(text)
            self.units += units

    def close(self) -> Path:
        self._xml.endElement("body")
        self._handle.write("\n")
        self._xml.endElement("tmx")
        self._handle.write("\n")
        self._xml.endDocument()
        self._handle.close()
        return self.path


def tmx_units(rows: Sequence[BeadRow]) -> str:
    """The ``<tu>`` elements of ``rows`` as :class:`TmxWriter` writes them (a worker renders
    its shard's units; the driver appends them with ``TmxWriter.write_units``)."""
    buffer = io.StringIO()
    writer = TmxWriter.__new__(TmxWriter)
    writer.units = 0
    writer._handle = buffer
    writer._xml = XMLGenerator(buffer, encoding="utf-8", short_empty_elements=True)
    for row in rows:
        writer.write_row(row)
    return buffer.getvalue()


class MosesWriter:
    """Line-aligned plain text: line i of ``.en`` translates line i of ``.zh``."""

    def __init__(
        self, path_en: Path, path_zh: Path, handles: tuple[TextIO, TextIO] | None = None
    ) -> None:
        self.paths = (path_en, path_zh)
        self.lines = 0
        if handles is not None:
            self._en, self._zh = handles
            return
        self._en = path_en.open("w", encoding="utf-8", newline="\n")
        self._zh = path_zh.open("w", encoding="utf-8", newline="\n")

    def write_lines(self, en: str, zh: str, lines: int) -> None:
        """Append ``lines`` lines rendered elsewhere (a worker's part, checked there)."""
        self._en.write(en)
        self._zh.write(zh)
        self.lines += lines

    def write_row(self, row: BeadRow) -> None:
        en, zh = row.en, row.zh
        for text in (en, zh):
            # Clean text is guaranteed by the decision step; a line break here would
            # shift every following line, so refuse rather than write a broken file.
            if "\n" in text or "\r" in text:
                raise ValueError(f"line break in Moses text of row {row.id}")
        self._en.write(en + "\n")
        self._zh.write(zh + "\n")
        self.lines += 1

    def close(self) -> tuple[Path, Path]:
        self._en.close()
        self._zh.close()
        return self.paths


def moses_lines(rows: Sequence[BeadRow]) -> tuple[str, str]:
    """The ``.en`` and ``.zh`` lines of ``rows`` (translation pairs only), as
    :class:`MosesWriter` writes them, with its line-break check."""
    en_lines, zh_lines = [], []
    for row in rows:
        for text in (row.en, row.zh):
            if "\n" in text or "\r" in text:
                raise ValueError(f"line break in Moses text of row {row.id}")
        en_lines.append(row.en + "\n")
        zh_lines.append(row.zh + "\n")
    return "".join(en_lines), "".join(zh_lines)


def parquet_bytes(rows: Sequence[Record], schema: pa.Schema) -> bytes:
    """One shard as bytes (one row group, the writers' compression): a worker writes it
    to any file system with one call."""
    table = records_table(rows, schema)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=COMPRESSION, row_group_size=max(1, len(rows)))
    return sink.getvalue().to_pybytes()


def is_translation_pair(row: BeadRow) -> bool:
    """Whether a row has text on both sides (1-0 and 0-1 beads are not exported)."""
    return row.is_translation_pair


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
