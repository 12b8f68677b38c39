"""Splits a researcher can trust, on real builds (issue 20).

* The seeds: A/RES/75/58, 76/28 and 78/43 are one lineage; the 75/58 rows carry
  ``split``, ``lineage``, ``dup_group``, ``dup_count`` and ``seen_in_train`` in the declared
  schema; ``datasets`` loads train, validation and test (two of them empty);
  ``pipeline.load_corpus`` works as documented.
* A multi-lineage archive (the seeds plus the tests/fixtures documents: a resolution,
  its draft and a Security Council resolution reusing its text; a decision apart):
  no lineage in two splits, every validation/test row whose folded pair occurs in train
  is ``seen_in_train``, a document's split survives adding or removing other lineages,
  and ``datasets`` yields the three splits.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import datasets
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import REPO, SEEDS, BuiltCorpus

import pipeline
from pipeline.corpus.dedup import dup_group
from pipeline.corpus.lineage import lineage_id
from pipeline.corpus.schema import DOCUMENT_SCHEMA, SENTENCE_SCHEMA
from pipeline.corpus.splits import SPLITS, SplitRatios, split_of
from pipeline.runner import BuildOptions, build_corpus
from pipeline.text.fold import fold_text

FIXTURES = REPO / "tests" / "fixtures" / "un"
SEED_LINEAGE = lineage_id("A/RES/75/58")
#: Ratios that spread the archive's three lineages over the three splits: their keys
#: fall at 0.18 (A/78/L.5), 0.45 (A/RES/75/58) and 0.68 (A/DEC/78/512) on [0, 1).
RATIOS = SplitRatios(40, 20, 40)
DECISION = ("ga_dec_en.docx", "ga_dec_zh.docx")


# --- the seeds ------------------------------------------------------------------------


def test_seed_rows_carry_the_new_columns_in_the_declared_schema(seed_corpus: BuiltCorpus) -> None:
    for path in sorted((seed_corpus.out / "en-zh").glob("*.parquet")):
        schema = pq.read_schema(path)
        assert schema.equals(SENTENCE_SCHEMA, check_metadata=False)
    for name, kind in (("split", "string"), ("lineage", "string"), ("dup_group", "string")):
        assert str(SENTENCE_SCHEMA.field(name).type) == kind
    assert str(SENTENCE_SCHEMA.field("dup_count").type) == "int32"
    assert str(SENTENCE_SCHEMA.field("seen_in_train").type) == "bool"
    df = pd.read_parquet(seed_corpus.out / "en-zh")
    assert len(df) > 30 and (df["symbol"] == "A/RES/75/58").all()
    assert (df["lineage"] == SEED_LINEAGE).all()
    assert split_of("A/RES/75/58", SplitRatios()) == "train" and (df["split"] == "train").all()
    assert [dup_group(en, zh) for en, zh in zip(df["en"], df["zh"], strict=True)] == list(
        df["dup_group"]
    )
    assert (df["dup_count"] == df.groupby("dup_group")["id"].transform("count")).all()
    assert df["dup_count"].max() == 2  # "Resolution 60/1." and "Resolution 60/288."
    assert not df["seen_in_train"].any()  # every row is in train
    assert df["dup_count"].dtype.name == "int32" and df["seen_in_train"].dtype.name == "bool"


def test_seed_documents_form_one_lineage(seed_corpus: BuiltCorpus) -> None:
    table = pq.read_table(seed_corpus.out / "documents.parquet")
    assert table.schema.equals(DOCUMENT_SCHEMA, check_metadata=False)
    docs = table.to_pandas()
    assert list(docs["symbol"]) == ["A/RES/75/58", "A/RES/75/58", "A/RES/76/28", "A/RES/78/43"]
    assert list(docs["paired"]) == [True, True, False, False]
    assert (docs["lineage"] == SEED_LINEAGE).all() and (docs["lineage_key"] == "A/RES/75/58").all()
    assert (docs["split"] == "train").all()
    manifest = json.loads((seed_corpus.out / "manifest.json").read_text(encoding="utf-8"))
    (lineage,) = manifest["lineages"]["lineages"]
    assert lineage == {
        "lineage": SEED_LINEAGE,
        "key": "A/RES/75/58",
        "split": "train",
        "symbols": ["A/RES/75/58", "A/RES/76/28", "A/RES/78/43"],
    }
    assert manifest["splits"]["ratios"] == {"train": 0.98, "validation": 0.01, "test": 0.01}
    counts = manifest["splits"]["counts"]
    assert counts["train"]["sentences"] == len(pd.read_parquet(seed_corpus.out / "en-zh"))
    assert counts["test"] == {**counts["test"], "sentences": 0, "lineages": 0, "documents": 0}


def test_datasets_loads_the_seeds_although_two_splits_are_empty(seed_corpus: BuiltCorpus) -> None:
    """``datasets`` cannot load a split without rows ("Instruction 'validation'
    corresponds to no data!"), so the card lists only the splits that have rows; the
    empty splits' files are there for pandas, DuckDB and ``load_corpus``."""
    cache = seed_corpus.out.parent / "hf-cache-splits"
    loaded = datasets.load_dataset(str(seed_corpus.out), cache_dir=str(cache))
    assert set(loaded) == {"train"}
    assert loaded["train"].num_rows == len(pd.read_parquet(seed_corpus.out / "en-zh"))
    assert loaded["train"].features["seen_in_train"].dtype == "bool"
    assert loaded["train"].features["dup_count"].dtype == "int32"
    paragraphs = datasets.load_dataset(str(seed_corpus.out), "paragraphs", cache_dir=str(cache))
    assert set(paragraphs) == {"train"}
    for split in ("validation", "test"):  # present, empty, with the declared schema
        (path,) = (seed_corpus.out / "en-zh").glob(f"{split}-*.parquet")
        assert pq.read_metadata(path).num_rows == 0
        assert pq.read_schema(path).equals(SENTENCE_SCHEMA, check_metadata=False)


def test_load_corpus_returns_declared_dtypes(seed_corpus: BuiltCorpus) -> None:
    train = pipeline.load_corpus(seed_corpus.out, split="train")
    assert len(train) == len(pd.read_parquet(seed_corpus.out / "en-zh"))
    dtypes = train.dtypes.astype(str).to_dict()
    assert dtypes["en"] == dtypes["split"] == "string"
    assert dtypes["session"] == "Int32" and dtypes["len_ratio"] == "Float64"
    assert dtypes["dup_count"] == "int32" and dtypes["seen_in_train"] == "bool"
    assert dtypes["score"] == "float64" and dtypes["translation"] == "object"
    test = pipeline.load_corpus(seed_corpus.out, split="test", unseen_only=True)
    assert len(test) == 0 and test.dtypes.astype(str).to_dict() == dtypes  # same when empty
    everything = pipeline.load_corpus(seed_corpus.out)
    assert len(everything) == len(train)
    docs = pipeline.load_corpus(seed_corpus.out, table="documents", split="train")
    assert len(docs) == 4 and docs["paired"].dtype.name == "bool"
    with pytest.raises(ValueError, match="split 'dev'"):
        pipeline.load_corpus(seed_corpus.out, split="dev")
    with pytest.raises(FileNotFoundError, match="not a corpus folder"):
        pipeline.load_corpus(seed_corpus.raw)


# --- a multi-lineage archive ------------------------------------------------------------


def archive_raw(folder: Path, *, decision: bool) -> Path:
    """The seeds and one converter's output of each fixture document, in ``folder``."""
    folder.mkdir(parents=True)
    for path in SEEDS.iterdir():
        shutil.copy(path, folder / path.name)
    for stem in ("ga_res", "ga_draft", "sc_res", "ga_dec"):
        for lang in ("en", "zh"):
            name = f"{stem}_{lang}.docx"
            if decision or name not in DECISION:
                shutil.copy(FIXTURES / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two builds sharing a cache: the whole archive, and the archive without the
    decision (a lineage of its own), with the dedup export."""
    base = tmp_path_factory.mktemp("lineages")
    outs = {}
    for name, decision in (("all", True), ("without_decision", False)):
        raw = archive_raw(base / f"raw-{name}", decision=decision)
        options = BuildOptions(
            raw=raw,
            out=base / f"out-{name}",
            cache=base / "cache",
            workers=1,
            split=RATIOS,
            export_dedup=not decision,
        )
        build_corpus(options)
        outs[name] = base / f"out-{name}"
    return outs


def rows(out: Path, table: str = "en-zh") -> pd.DataFrame:
    return pd.read_parquet(out / table)


def test_the_archive_spreads_over_three_splits_and_no_lineage_straddles(archives) -> None:  # noqa: ANN001
    out = archives["all"]
    docs = pd.read_parquet(out / "documents.parquet")
    by_key = docs.groupby("lineage_key")["split"].agg(set).to_dict()
    assert by_key == {
        "A/78/L.5": {"train"},
        "A/RES/75/58": {"validation"},
        "A/DEC/78/512": {"test"},
    }
    members = docs.groupby("lineage_key")["symbol"].agg(lambda s: sorted(set(s))).to_dict()
    assert members["A/78/L.5"] == ["A/78/L.5", "A/RES/78/250", "S/RES/2731 (2024)"]
    for table in ("en-zh", "en-zh-paragraphs", "rejects/en-zh", "rejects/en-zh-paragraphs"):
        frame = rows(out, table)
        assert (frame.groupby("lineage")["split"].nunique() <= 1).all(), table
    sentences = rows(out)
    assert set(sentences["split"]) == set(SPLITS)
    for split in SPLITS:  # every file of a split holds only that split's rows
        for path in (out / "en-zh").glob(f"{split}-*.parquet"):
            assert set(pq.read_table(path).column("split").to_pylist()) <= {split}


def test_seen_in_train_and_dup_count_match_the_folded_pairs(archives) -> None:  # noqa: ANN001
    """Computed here from the folded text itself, not from ``dup_group``."""
    for table in ("en-zh", "en-zh-paragraphs"):
        frame = rows(archives["all"], table)
        folded = [
            (fold_text(en, "en"), fold_text(zh, "zh"))
            for en, zh in zip(frame["en"], frame["zh"], strict=True)
        ]
        in_train = {
            pair for pair, split in zip(folded, frame["split"], strict=True) if split == "train"
        }
        expected = [
            split != "train" and pair in in_train
            for pair, split in zip(folded, frame["split"], strict=True)
        ]
        assert frame["seen_in_train"].tolist() == expected, table
        counts = Counter(folded)
        assert frame["dup_count"].tolist() == [counts[pair] for pair in folded], table
    sentences = rows(archives["all"])
    seen = sentences[sentences["seen_in_train"]]
    assert len(seen) >= 3  # "General Assembly", "The General Assembly,", meeting lines
    assert "大会" in set(seen["zh"])


def test_a_documents_split_survives_other_lineages_coming_and_going(archives) -> None:  # noqa: ANN001
    with_decision = pd.read_parquet(archives["all"] / "documents.parquet")
    without = pd.read_parquet(archives["without_decision"] / "documents.parquet")
    assert set(with_decision["symbol"]) - set(without["symbol"]) == {"A/DEC/78/512"}
    columns = ["symbol", "language", "source_file", "lineage", "lineage_key", "split"]
    common = with_decision[with_decision["symbol"] != "A/DEC/78/512"][columns]
    pd.testing.assert_frame_equal(common.reset_index(drop=True), without[columns])
    mine = rows(archives["all"])
    theirs = rows(archives["without_decision"])
    keep = mine[mine["symbol"] != "A/DEC/78/512"]
    assert dict(zip(keep["id"], keep["split"], strict=True)) == dict(
        zip(theirs["id"], theirs["split"], strict=True)
    )


def test_datasets_yields_the_three_splits_of_the_archive(archives) -> None:  # noqa: ANN001
    out = archives["all"]
    loaded = datasets.load_dataset(str(out), cache_dir=str(out.parent / "hf-cache"))
    counts = rows(out)["split"].value_counts().to_dict()
    assert {split: loaded[split].num_rows for split in SPLITS} == counts
    assert all(counts[split] > 0 for split in SPLITS)
    assert set(loaded["validation"]["split"]) == {"validation"}


def test_load_corpus_unseen_only_is_leak_free(archives) -> None:  # noqa: ANN001
    out = archives["all"]
    validation = pipeline.load_corpus(out, split="validation")
    unseen = pipeline.load_corpus(out, split="validation", unseen_only=True)
    assert 0 < len(unseen) < len(validation)
    train_groups = set(pipeline.load_corpus(out, split="train")["dup_group"])
    assert not set(unseen["dup_group"]) & train_groups
    assert len(validation) - len(unseen) == int(validation["seen_in_train"].sum())


def test_manifest_card_and_report_show_the_splits(archives) -> None:  # noqa: ANN001
    out = archives["all"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    sentences = rows(out)
    counts = manifest["splits"]["counts"]
    for split in SPLITS:
        here = sentences[sentences["split"] == split]
        assert counts[split]["sentences"] == len(here)
        assert counts[split]["sentences_seen_in_train"] == int(here["seen_in_train"].sum())
        two_sided = here[(here["en"] != "") & (here["zh"] != "")]
        assert sum(counts[split]["score_histogram"]) == len(two_sided)
    assert manifest["lineages"]["count"] == 3
    assert manifest["lineages"]["joins"]["text"] >= 1  # the Security Council resolution
    largest = manifest["duplicates"]["largest_groups"][0]
    assert largest["rows"] == int(sentences["dup_count"].max())
    card = (out / "README.md").read_text(encoding="utf-8")
    test = counts["test"]
    assert f"| test | 1 | {test['documents']} | 1 | {test['sentences']} |" in card
    report = (out / "report.html").read_text(encoding="utf-8")
    splits_section = report[report.index("<section id='splits'>") :]
    assert "Largest duplicate groups" in splits_section and "A/78/L.5" in splits_section
    # the index line of each document names its split, and so does its page
    assert "<a href='report/A-RES-75-58.html'>A/RES/75/58</a></td><td>validation</td>" in report
    page = (out / "report" / "A-RES-75-58.html").read_text(encoding="utf-8")
    assert f"split validation, lineage {lineage_id('A/RES/75/58')}" in page


def test_dedup_export_has_one_row_per_group_and_no_train_rows_in_test(archives) -> None:  # noqa: ANN001
    out = archives["without_decision"]
    sentences = rows(out)
    for split in SPLITS:
        en = (out / "dedup" / f"en-zh.{split}.en").read_text(encoding="utf-8").splitlines()
        zh = (out / "dedup" / f"en-zh.{split}.zh").read_text(encoding="utf-8").splitlines()
        here = sentences[(sentences["split"] == split) & (sentences["en"] != "")]
        here = here[(here["zh"] != "") & ~here["seen_in_train"]]
        assert len(en) == len(zh) == here["dup_group"].nunique(), split
        pairs = set(zip(en, zh, strict=True))
        best = here.sort_values("score", ascending=False).drop_duplicates("dup_group")
        assert pairs == set(zip(best["en"], best["zh"], strict=True)), split
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {f["path"] for f in manifest["files"]["dedup"]["files"]} >= {"dedup/en-zh.test.tmx"}


def test_cli_split_and_export_dedup_on_the_seeds(seed_corpus: BuiltCorpus, tmp_path: Path) -> None:
    """`build --split 0/0/1 --export-dedup` through the CLI: every lineage in test."""
    from click.testing import CliRunner

    from pipeline.cli import main

    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)  # the seed build's alignments: no re-aligning
    out = tmp_path / "out"
    args = ["build", "--raw", str(seed_corpus.raw), "--out", str(out), "--cache", str(cache)]
    result = CliRunner().invoke(main, [*args, "--split", "0/0/1", "--export-dedup"])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out / "en-zh")
    assert (frame["split"] == "test").all() and not frame["seen_in_train"].any()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["splits"]["ratios"] == {"train": 0.0, "validation": 0.0, "test": 1.0}
    assert manifest["documents"]["parsed"][0]["split"] == "test"
    en = (out / "dedup" / "en-zh.test.en").read_text(encoding="utf-8").splitlines()
    two_sided = frame[(frame["en"] != "") & (frame["zh"] != "")]
    assert len(en) == two_sided["dup_group"].nunique() == len(two_sided) - 1  # 60/1 ~ 60/288
    assert (out / "dedup" / "en-zh.train.tmx").is_file()  # every split, empty here
    loaded = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf"))
    assert set(loaded) == {"test"} and loaded["test"].num_rows == len(frame)
