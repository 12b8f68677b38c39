"""The seed corpus as notebook users read it: pandas, DuckDB, polars, datasets."""

from __future__ import annotations

import re

import datasets
import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
from conftest import BuiltCorpus

from pipeline.corpus.filters import unclean_reason
from pipeline.corpus.write import PARAGRAPH_SCHEMA, SENTENCE_REJECT_SCHEMA, SENTENCE_SCHEMA

COLUMNS = [
    "id",
    "symbol",
    "session",
    "family",
    "pair",
    "kind",
    "para_no",
    "en",
    "zh",
    "translation",
    "en_sent_ids",
    "zh_sent_ids",
    "align_type",
    "score",
    "margin",
    "len_ratio",
    "en_tokens",
    "zh_tokens",
    "source_en",
    "source_zh",
    "sha256_en",
    "sha256_zh",
    "model",
    "version",
    "split",
    "lineage",
    "dup_group",
    "dup_count",
    "seen_in_train",
]
KINDS = {"heading", "title", "preamble", "operative", "subparagraph", "footnote", "closing"}


def test_pandas_reads_columns_types_and_values(seed_corpus: BuiltCorpus) -> None:
    df = pd.read_parquet(seed_corpus.out / "en-zh")
    assert list(df.columns) == COLUMNS
    assert len(df) > 30
    assert (df["pair"] == "en-zh").all() and (df["symbol"] == "A/RES/75/58").all()
    assert (df["session"] == 75).all()  # a real column, not a hive partition key
    assert df["session"].dtype.name == "int32"
    assert (df["family"] == "ga_resolution").all()  # issue 12: the document family
    assert set(df["kind"]) <= KINDS
    assert {"preamble", "operative", "footnote", "title"} <= set(df["kind"])
    assert df["id"].is_unique
    assert all(re.fullmatch(r"A/RES/75/58:(zh:)?[a-z]+\d*[a-z]?:s\d+", i) for i in df["id"])
    op5 = df[df["id"] == "A/RES/75/58:op5:s1"].iloc[0]
    assert op5["kind"] == "operative" and op5["para_no"] == "5"
    assert op5["en"].startswith("Requests the Secretary-General")
    assert op5["zh"].startswith("请秘书长")
    assert op5["translation"] == {"en": op5["en"], "zh": op5["zh"]}
    assert list(op5["en_sent_ids"]) == ["op5:s1"]
    assert op5["align_type"] == f"{len(op5['en_sent_ids'])}-{len(op5['zh_sent_ids'])}"
    assert op5["en_tokens"] > op5["zh_tokens"] / 3 > 0
    assert df["sha256_en"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert (df["source_en"] == "002_69ed3383ef6f2041.txt").all()
    assert (df["model"] == "use-m").all()


def test_every_pair_a_translator_would_accept(seed_corpus: BuiltCorpus) -> None:
    """On the seeds every bead is a real translation pair, scored well above zero."""
    df = pd.read_parquet(seed_corpus.out / "en-zh")
    assert set(df["align_type"]) <= {"1-1", "2-1", "1-2"}
    assert (df["score"] > 0.3).all()
    # the two English preambular paragraphs that the Chinese merged into one
    merged = df[df["align_type"] == "2-1"].iloc[0]
    assert merged["en"].startswith("Welcoming the entry into force")
    assert "Welcoming also the adoption" in merged["en"]
    assert merged["zh"].startswith("欢迎《制止核恐怖主义行为国际公约》")


def test_rows_are_sorted_by_symbol_and_position(seed_corpus: BuiltCorpus) -> None:
    df = pd.read_parquet(seed_corpus.out / "en-zh")
    order = df["en_sent_ids"].map(lambda ids: ids[0] if len(ids) else None).tolist()
    assert order[:3] == ["head1:s1", "head2:s1", "head3:s1"]
    assert df["symbol"].is_monotonic_increasing
    pre = [int(i.split(":")[0][3:]) for i in order if i and i.startswith("pre")]
    assert pre == sorted(pre)


def test_text_is_clean(seed_corpus: BuiltCorpus) -> None:
    for folder in ("en-zh", "en-zh-paragraphs"):
        df = pd.read_parquet(seed_corpus.out / folder)
        for text in pd.concat([df["en"], df["zh"]]):
            assert unclean_reason(text) is None, text
            assert not re.search(r"\*|\[[^\]]*\]\(|<sup>|[¹²³⁴⁵⁶⁷⁸⁹⁰]|\n|  ", text), text
            assert text == text.strip()


def test_schemas_are_the_declared_ones(seed_corpus: BuiltCorpus) -> None:
    for folder, schema in (
        ("en-zh", SENTENCE_SCHEMA),
        ("en-zh-paragraphs", PARAGRAPH_SCHEMA),
        ("rejects/en-zh", SENTENCE_REJECT_SCHEMA),
    ):
        paths = sorted((seed_corpus.out / folder).glob("*.parquet"))
        assert [p.name for p in paths] == [
            f"{s}-00000.parquet" for s in ("test", "train", "validation")
        ]
        for path in paths:
            assert pq.read_schema(path).equals(schema, check_metadata=False), folder
            meta = pq.ParquetFile(path).metadata
            assert meta.num_row_groups == 0 or meta.row_group(0).column(0).compression == "ZSTD"


def test_duckdb_reads_the_folder(seed_corpus: BuiltCorpus) -> None:
    glob = str(seed_corpus.out / "en-zh" / "*.parquet")
    con = duckdb.connect()
    n, symbol, session = con.execute(
        f"SELECT count(*), any_value(symbol), any_value(session) FROM read_parquet('{glob}')"
    ).fetchone()
    assert n == len(pd.read_parquet(seed_corpus.out / "en-zh"))
    assert symbol == "A/RES/75/58" and session == 75
    en, zh = con.execute(
        f"SELECT translation.en, translation.zh FROM read_parquet('{glob}') "
        "WHERE id = 'A/RES/75/58:op1:s1'"
    ).fetchone()
    assert en.startswith("Calls upon") and zh.startswith("促请")
    by_kind = dict(
        con.execute(f"SELECT kind, count(*) FROM read_parquet('{glob}') GROUP BY kind").fetchall()
    )
    assert by_kind["operative"] == 6


def test_polars_reads_the_folder(seed_corpus: BuiltCorpus) -> None:
    df = pl.read_parquet(seed_corpus.out / "en-zh" / "*.parquet")
    assert df.columns == COLUMNS
    assert df.schema["translation"] == pl.Struct({"en": pl.String, "zh": pl.String})
    assert df.schema["en_sent_ids"] == pl.List(pl.String)
    first = df.filter(pl.col("id") == "A/RES/75/58:pre1:s1").row(0, named=True)
    assert first["translation"]["zh"].startswith("回顾")
    paragraphs = pl.read_parquet(seed_corpus.out / "en-zh-paragraphs" / "*.parquet")
    assert "en_para_ids" in paragraphs.columns
    assert paragraphs.filter(pl.col("id") == "A/RES/75/58:op5").height == 1


def test_datasets_loads_and_casts_translation(seed_corpus: BuiltCorpus) -> None:
    cache = seed_corpus.out.parent / "hf-cache"
    ds = datasets.load_dataset(
        "parquet",
        data_dir=str(seed_corpus.out / "en-zh"),
        split="train",
        cache_dir=str(cache),
    )
    assert ds.num_rows == len(pd.read_parquet(seed_corpus.out / "en-zh"))
    assert "pair" in ds.column_names and "session" in ds.column_names
    cast = ds.cast_column("translation", datasets.Translation(languages=["en", "zh"]))
    assert isinstance(cast.features["translation"], datasets.Translation)
    row = cast[0]
    assert set(row["translation"]) == {"en", "zh"} and row["translation"]["en"]
    # the dataset card's configs make the output folder loadable as it is
    paragraphs = datasets.load_dataset(
        str(seed_corpus.out), "paragraphs", split="train", cache_dir=str(cache)
    )
    assert "en_para_ids" in paragraphs.column_names
    sentences = datasets.load_dataset(str(seed_corpus.out), split="train", cache_dir=str(cache))
    assert sentences.num_rows == ds.num_rows


def test_paragraph_table(seed_corpus: BuiltCorpus) -> None:
    df = pd.read_parquet(seed_corpus.out / "en-zh-paragraphs")
    assert df["id"].is_unique
    pre6 = df[df["id"] == "A/RES/75/58:pre6"].iloc[0]
    assert list(pre6["en_para_ids"]) == ["pre6", "pre7"]  # merged in the Chinese
    assert pre6["align_type"] == "2-1"
    operative = df[df["kind"] == "operative"]
    assert operative["para_no"].tolist() == ["1", "2", "3", "4", "5", "6"]


def test_rejects_carry_their_reason(seed_corpus: BuiltCorpus) -> None:
    kept = pd.read_parquet(seed_corpus.out / "en-zh")
    rejects = pd.read_parquet(seed_corpus.out / "rejects" / "en-zh")
    assert list(rejects.columns) == COLUMNS + ["reject_reason"]
    assert rejects["reject_reason"].str.len().gt(0).all()
    assert not set(rejects["id"]) & set(kept["id"])
