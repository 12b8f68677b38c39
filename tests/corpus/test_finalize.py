"""Duplicate groups and the finalize pass on hand-made shards (no build)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from factories import make_row

from pipeline.corpus.dedup import dup_group, group_numbers
from pipeline.corpus.finalize import GroupIndex, finalize_corpus
from pipeline.corpus.schema import (
    PARAGRAPH_REJECT_SCHEMA,
    PARAGRAPH_SCHEMA,
    SENTENCE_REJECT_SCHEMA,
    SENTENCE_SCHEMA,
)
from pipeline.corpus.write import SplitTableWriter
from pipeline.records import DocumentRow, RejectedRow
from pipeline.runner.storage import Location


def test_groups_fold_case_width_punctuation_and_digits() -> None:
    assert dup_group("Recalling its resolution 74/43,", "回顾其第 74/43 号决议，") == dup_group(
        "recalling its Resolution 75/58", "回顾其第７５／５８号决议"
    )
    assert dup_group("The General Assembly,", "大会，") != dup_group("The General Assembly,", "")
    assert dup_group("a", "b") != dup_group("b", "a")
    group = dup_group("x", "y")
    assert len(group) == 16 and int(group, 16) == int(group_numbers([group])[0])


def test_group_index_counts_and_flags_seen_rows() -> None:
    groups = np.array([5, 7, 5, 9, 7], dtype=np.uint64)
    splits = np.array([0, 2, 2, 1, 0], dtype=np.int8)  # train, test, test, validation, train
    index = GroupIndex.build(groups, splits)
    counts, seen = index.lookup(groups, splits)
    assert counts.tolist() == [2, 2, 2, 1, 2]
    assert seen.tolist() == [False, True, True, False, False]  # never a train row
    counts, seen = index.lookup(np.array([11], dtype=np.uint64), np.array([2], dtype=np.int8))
    assert counts.tolist() == [0] and seen.tolist() == [False]  # a group nowhere in the corpus


ROWS = [
    # (n, en, zh, split, score)
    (1, "The General Assembly,", "大会，", "train", 0.9),
    (2, "Decides to remain seized of the matter.", "决定继续处理此案。", "train", 1.0),
    (3, "The General Assembly,", "大会，", "test", 0.7),
    (4, "The general assembly", "大会", "test", 1.1),  # the same group, folded
    (5, "Only in test.", "只在测试中。", "test", 0.8),
    (6, "Only in test.", "只在测试中。", "test", 0.95),
    (7, "Validation alone.", "只在验证中。", "validation", 1.0),
    (8, "Decides to remain seized of the matter.", "", "train", 0.0),  # a 1-0 bead
]


def write_corpus(folder: Path) -> dict[str, list[str]]:
    tables = {
        "sentences": (folder / "en-zh", SENTENCE_SCHEMA),
        "paragraphs": (folder / "en-zh-paragraphs", PARAGRAPH_SCHEMA),
        "sentence_rejects": (folder / "rejects" / "en-zh", SENTENCE_REJECT_SCHEMA),
        "paragraph_rejects": (folder / "rejects" / "en-zh-paragraphs", PARAGRAPH_REJECT_SCHEMA),
    }
    writers = {name: SplitTableWriter(path, schema) for name, (path, schema) in tables.items()}
    rows = [
        make_row(
            n, en, zh, split=split, score=score, dup_count=0, align_type="1-1" if zh else "1-0"
        )
        for n, en, zh, split, score in ROWS
    ]
    writers["sentences"].write_rows(rows)
    rejected = make_row(9, "Only in test.", "只在测试中。", split="validation", dup_count=0)
    writers["sentence_rejects"].write_rows([RejectedRow(rejected, "score_below_min: x")])
    return {
        name: [p.relative_to(folder).as_posix() for p in writer.close()]
        for name, writer in writers.items()
    }


DOCUMENTS = [
    DocumentRow(
        symbol="A/RES/1/1",
        language=lang,
        source_file=f"1.{lang}",
        family=None,
        session=1,
        title=None,
        lineage="L1",
        lineage_key="A/RES/1/1",
        split="train",
        paired=True,
    )
    for lang in ("en", "zh")
] + [
    DocumentRow(
        symbol="A/RES/2/2",
        language="en",
        source_file="2.en",
        family=None,
        session=2,
        title="T",
        lineage="L2",
        lineage_key="A/RES/2/2",
        split="test",
        paired=False,
    )
]


@pytest.fixture()
def finalized(tmp_path: Path):  # noqa: ANN201
    shards = write_corpus(tmp_path)
    return tmp_path, finalize_corpus(Location(str(tmp_path)), shards, DOCUMENTS, export_dedup=True)


def read(folder: Path, table: str) -> list[dict]:
    rows = []
    for path in sorted((folder / table).glob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return rows


def test_finalize_fills_dup_count_and_seen_in_train(finalized) -> None:  # noqa: ANN001
    folder, result = finalized
    by_id = {r["id"].split(":")[1]: r for r in read(folder, "en-zh")}
    assert by_id["op1"]["dup_count"] == by_id["op3"]["dup_count"] == by_id["op4"]["dup_count"] == 3
    assert not by_id["op1"]["seen_in_train"]  # a train row is never "seen in train"
    assert by_id["op3"]["seen_in_train"] and by_id["op4"]["seen_in_train"]
    assert by_id["op5"]["dup_count"] == 2 and not by_id["op5"]["seen_in_train"]
    assert by_id["op7"]["dup_count"] == 1 and not by_id["op7"]["seen_in_train"]
    assert by_id["op8"]["dup_count"] == 1  # "" on one side is its own group
    # the rejected row counts corpus rows of its group (op5, op6), not itself
    (rejected,) = read(folder, "rejects/en-zh")
    assert rejected["dup_count"] == 2 and not rejected["seen_in_train"]
    # the manifest's entries: every file, its rows and its (new) sha256
    entries = {f["path"]: f for f in result.files["sentences"]["files"]}
    assert {p: e["rows"] for p, e in entries.items()} == {
        "en-zh/test-00000.parquet": 4,
        "en-zh/train-00000.parquet": 3,
        "en-zh/validation-00000.parquet": 1,
    }
    import hashlib

    for path, entry in entries.items():
        assert entry["sha256"] == hashlib.sha256((folder / path).read_bytes()).hexdigest()
    assert not list(folder.rglob(".*.final"))  # no temporary left


def test_summary_counts_splits_seen_rows_and_groups(finalized) -> None:  # noqa: ANN001
    _, result = finalized
    splits = result.summary["splits"]
    assert splits["test"]["sentences"] == 4 and splits["test"]["sentences_seen_in_train"] == 2
    assert splits["test"]["share_seen_in_train"] == 0.5
    assert splits["train"]["pairs"] == 1 and splits["test"]["pairs"] == 0
    assert splits["test"]["documents"] == 1 and splits["train"]["lineages"] == 1
    assert sum(splits["train"]["score_histogram"]) == 2  # the 1-0 bead has no score to show
    (top, second) = result.summary["largest_dup_groups"][:2]
    assert (top["rows"], top["splits"]) == (3, {"train": 1, "validation": 0, "test": 2})
    assert (top["en"], top["zh"]) == ("The General Assembly,", "大会，")  # first in corpus order
    assert second["rows"] == 2
    assert result.summary["largest_lineages"][0]["key"] == "A/RES/1/1"


def test_dedup_export_keeps_the_best_row_of_each_group_per_split(finalized) -> None:  # noqa: ANN001
    folder, result = finalized
    lines = {
        split: (folder / "dedup" / f"en-zh.{split}.en").read_text(encoding="utf-8").splitlines()
        for split in ("train", "validation", "test")
    }
    assert lines["train"] == ["The General Assembly,", "Decides to remain seized of the matter."]
    # test: the General Assembly group is seen in train (left out); of the two "Only in
    # test." rows the best-scoring one (op6, 0.95) is kept
    assert lines["test"] == ["Only in test."]
    assert lines["validation"] == ["Validation alone."]
    tmx = (folder / "dedup" / "en-zh.test.tmx").read_text(encoding="utf-8")
    assert "A/RES/1/1:op6:s1" in tmx and "A/RES/1/1:op5:s1" not in tmx
    assert result.files["dedup"]["rows"] == 4


def test_documents_table_is_written_with_its_schema(finalized) -> None:  # noqa: ANN001
    folder, result = finalized
    table = pq.read_table(folder / "documents.parquet")
    assert table.column("symbol").to_pylist() == ["A/RES/1/1", "A/RES/1/1", "A/RES/2/2"]
    assert table.column("paired").to_pylist() == [True, True, False]
    assert result.files["documents"]["rows"] == 3
