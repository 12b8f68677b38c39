"""Writers on hand-made rows: declared Parquet schema, shards, TMX 1.4b, Moses, card."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from factories import make_row
from lxml import etree

from pipeline import __version__
from pipeline.corpus.write import (
    SENTENCE_REJECT_SCHEMA,
    SENTENCE_SCHEMA,
    MosesWriter,
    ParquetTableWriter,
    SplitTableWriter,
    TmxWriter,
)
from pipeline.records import RejectedRow

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NASTY_EN = 'Tom & Jerry <script>alert("x")</script> say "hi" \'there\' ]]> done'
NASTY_ZH = "汤姆 & 杰瑞 <b>说</b> “你好” ]]>"


def test_parquet_schema_is_declared_even_for_missing_values(tmp_path: Path) -> None:
    writer = ParquetTableWriter(tmp_path / "t", SENTENCE_SCHEMA)
    writer.write_rows([make_row(1, session=None, para_no=None, len_ratio=None)])
    (path,) = writer.close()
    table = pq.read_table(path)
    assert table.schema.equals(SENTENCE_SCHEMA, check_metadata=False)
    assert table.column("session").to_pylist() == [None]
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_empty_table_still_has_a_file_with_the_schema(tmp_path: Path) -> None:
    writer = ParquetTableWriter(tmp_path / "t", SENTENCE_REJECT_SCHEMA)
    (path,) = writer.close()
    table = pq.read_table(path)
    assert table.num_rows == 0
    assert "reject_reason" in table.column_names


def test_parquet_shards_rotate_and_keep_order(tmp_path: Path) -> None:
    writer = ParquetTableWriter(tmp_path / "t", SENTENCE_SCHEMA, rows_per_shard=2)
    writer.write_rows([make_row(i) for i in range(1, 4)])
    writer.write_rows([make_row(i) for i in range(4, 6)])
    files = writer.close()
    assert [f.name for f in files] == [
        "train-00000.parquet",
        "train-00001.parquet",
        "train-00002.parquet",
    ]
    ids = [i for f in files for i in pq.read_table(f).column("id").to_pylist()]
    assert ids == [f"A/RES/1/1:op{i}:s1" for i in range(1, 6)]
    assert writer.rows == 5


def test_a_row_that_breaks_the_schema_is_refused(tmp_path: Path) -> None:
    writer = ParquetTableWriter(tmp_path / "t", SENTENCE_SCHEMA)
    with pytest.raises((TypeError, ValueError)):
        writer.write_rows([make_row(1, en_tokens="many")])


def test_tmx_is_valid_and_text_round_trips(tmp_path: Path) -> None:
    writer = TmxWriter(tmp_path / "x.tmx")
    writer.write_row(make_row(1, en=NASTY_EN, zh=NASTY_ZH))
    writer.write_row(make_row(2))
    writer.close()
    root = etree.parse(str(tmp_path / "x.tmx")).getroot()
    assert root.tag == "tmx" and root.get("version") == "1.4"
    header = root.find("header")
    assert header is not None
    for attribute, value in {
        "creationtool": "un-parallel-pipeline",
        "creationtoolversion": __version__,
        "segtype": "sentence",
        "adminlang": "en",
        "srclang": "en",
        "datatype": "plaintext",
    }.items():
        assert header.get(attribute) == value
    assert header.get("o-tmf")
    units = root.findall("body/tu")
    assert len(units) == 2
    first = units[0]
    props = {p.get("type"): p.text for p in first.findall("prop")}
    assert props["x-symbol"] == "A/RES/1/1"
    assert props["x-id"] == "A/RES/1/1:op1:s1"
    assert props["x-score"] == "0.8765"
    segs = {tuv.get(XML_LANG): tuv.findtext("seg") for tuv in first.findall("tuv")}
    assert segs == {"en": NASTY_EN, "zh": NASTY_ZH}
    raw = (tmp_path / "x.tmx").read_text(encoding="utf-8")
    assert "<script>" not in raw and "&lt;script&gt;" in raw
    # TMX 1.4b orders prop before tuv inside tu
    assert [child.tag for child in first][-2:] == ["tuv", "tuv"]


def test_moses_lines_align_and_refuse_line_breaks(tmp_path: Path) -> None:
    writer = MosesWriter(tmp_path / "c.en", tmp_path / "c.zh")
    writer.write_row(make_row(1, en="One.", zh="一。"))
    writer.write_row(make_row(2, en="Two.", zh="二。"))
    with pytest.raises(ValueError, match="line break"):
        writer.write_row(make_row(3, en="Three\nlines", zh="三。"))
    writer.close()
    assert (tmp_path / "c.en").read_text(encoding="utf-8") == "One.\nTwo.\n"
    assert (tmp_path / "c.zh").read_text(encoding="utf-8") == "一。\n二。\n"


def test_split_writer_names_files_by_split_and_gives_every_split_one(tmp_path: Path) -> None:
    writer = SplitTableWriter(tmp_path / "t", SENTENCE_SCHEMA)
    writer.write_rows([make_row(1), make_row(2, split="test"), make_row(3)])
    files = writer.close()
    assert [p.name for p in files] == [
        "test-00000.parquet",
        "train-00000.parquet",
        "validation-00000.parquet",  # empty, with the schema: the split can be loaded
    ]
    rows = {p.name: pq.read_table(p).column("id").to_pylist() for p in files}
    assert rows["train-00000.parquet"] == ["A/RES/1/1:op1:s1", "A/RES/1/1:op3:s1"]
    assert rows["test-00000.parquet"] == ["A/RES/1/1:op2:s1"]
    assert rows["validation-00000.parquet"] == [] and writer.rows == 3


def test_rejected_rows_go_to_their_rows_split(tmp_path: Path) -> None:
    writer = SplitTableWriter(tmp_path / "r", SENTENCE_REJECT_SCHEMA)
    writer.write_rows([RejectedRow(make_row(1, split="validation"), "score_below_min: x")])
    (test, train, validation) = writer.close()
    assert pq.read_table(validation).column("reject_reason").to_pylist() == ["score_below_min: x"]
    assert pq.read_table(train).num_rows == pq.read_table(test).num_rows == 0


def test_rows_written_per_document_are_gathered_into_row_groups(tmp_path: Path) -> None:
    """One write per document must not mean one row group per document (95,000 tiny
    groups: slow scans, a footer held in memory until close)."""
    writer = ParquetTableWriter(tmp_path / "t", SENTENCE_SCHEMA, rows_per_group=5)
    for doc in range(6):  # 6 documents of 2 rows: groups of 5, 5 and 2
        writer.write_rows([make_row(10 * doc + i) for i in (1, 2)])
    writer.write_rows([])
    (path,) = writer.close()
    meta = pq.ParquetFile(path).metadata
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [5, 5, 2]
    ids = pq.read_table(path).column("id").to_pylist()
    assert ids == [f"A/RES/1/1:op{10 * d + i}:s1" for d in range(6) for i in (1, 2)]
    assert writer.rows == 12


def test_wide_rows_make_smaller_row_groups_so_memory_is_bounded_in_bytes(tmp_path: Path) -> None:
    """A group holds at most ``group_bytes`` of Arrow data whatever the row count allows:
    the rows waiting for a group are the writer's memory."""
    wide = "word " * 2_000  # 10 KB, twice in a row (``en`` and ``translation``): ~20 KB
    writer = ParquetTableWriter(tmp_path / "t", SENTENCE_SCHEMA, group_bytes=100_000)
    for doc in range(10):  # 10 documents of 3 wide rows: groups of 4 rows (~82 KB)
        writer.write_rows([make_row(10 * doc + i, en=wide) for i in (1, 2, 3)])
        assert writer._pending_bytes < 100_000
    (path,) = writer.close()
    meta = pq.ParquetFile(path).metadata
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [4] * 7 + [2]
    assert pq.read_table(path).column("id").to_pylist() == [
        f"A/RES/1/1:op{10 * d + i}:s1" for d in range(10) for i in (1, 2, 3)
    ]


def test_row_groups_never_straddle_shards(tmp_path: Path) -> None:
    writer = ParquetTableWriter(tmp_path / "t", SENTENCE_SCHEMA, rows_per_shard=4, rows_per_group=3)
    writer.write_rows([make_row(i) for i in range(1, 11)])
    files = writer.close()
    groups = []
    for f in files:
        meta = pq.ParquetFile(f).metadata
        groups.append([meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
    assert groups == [[3, 1], [3, 1], [2]]
    ids = [i for f in files for i in pq.read_table(f).column("id").to_pylist()]
    assert ids == [f"A/RES/1/1:op{i}:s1" for i in range(1, 11)]
