"""The dataset card from a hand-made manifest: configs per split, splits, duplicates."""

from __future__ import annotations

from typing import Any

import yaml

from pipeline import __version__
from pipeline.corpus.card import dataset_card
from pipeline.corpus.summary import score_bins

SPLIT_NAMES = ("train", "validation", "test")


def manifest() -> dict[str, Any]:
    def counts(rows: int, seen: int) -> dict[str, Any]:
        return {
            "lineages": 2,
            "documents": 5,
            "pairs": 2,
            "sentences": rows,
            "paragraphs": rows // 2,
            "sentences_seen_in_train": seen,
            "paragraphs_seen_in_train": 0,
            "share_seen_in_train": seen / rows if rows else None,
            "score_histogram": [0, 1, 2, 3, 4, 5, 6, rows - 21] if rows else [0] * 8,
        }

    return {
        "version": __version__,
        "model": {"name": "use-m"},
        "documents": {"read": 4, "paired_symbols": 1, "unpaired": [1, 2], "rejected": []},
        "filters": {"min_score": None, "max_len_ratio": None, "lang_check": True},
        "files": {
            "sentences": {"rows": 1234},
            "paragraphs": {"rows": 50},
            "sentence_rejects": {"rows": 3},
        },
        "lineages": {"count": 6},
        "splits": {
            "ratios": {"train": 0.8, "validation": 0.1, "test": 0.1},
            "counts": {"train": counts(1200, 0), "validation": counts(0, 0), "test": counts(34, 9)},
            "score_bins": score_bins(),
        },
        "duplicates": {
            "sentences": {"groups": 1100, "rows_in_repeated_groups": 200},
            "largest_groups": [
                {
                    "rows": 7,
                    "splits": {"train": 5, "validation": 0, "test": 2},
                    "en": "The General Assembly, | pipes",
                    "zh": "大会，",
                }
            ],
        },
    }


def test_front_matter_declares_the_splits_that_have_rows() -> None:
    card = dataset_card(manifest())
    assert card.startswith("---\n")
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["language"] == ["en", "zh"]
    assert front["task_categories"] == ["translation"]
    assert front["size_categories"] == ["1K<n<10K"]
    assert front["license"]
    configs = {c["config_name"]: c for c in front["configs"]}
    assert configs["sentences"]["default"] is True
    for name, folder in (("sentences", "en-zh"), ("paragraphs", "en-zh-paragraphs")):
        files = configs[name]["data_files"]
        # validation has no rows: datasets cannot load an empty split, so it is left out
        assert [f["split"] for f in files] == ["train", "test"]
        assert [f["path"] for f in files] == [f"{folder}/{s}-*.parquet" for s in ("train", "test")]


def test_a_corpus_without_rows_still_declares_train() -> None:
    empty = manifest()
    for split in SPLIT_NAMES:
        empty["splits"]["counts"][split].update(sentences=0, paragraphs=0)
    front = yaml.safe_load(dataset_card(empty).split("---\n")[1])
    assert [f["split"] for f in front["configs"][0]["data_files"]] == ["train"]


def test_body_shows_splits_seen_share_histogram_and_groups() -> None:
    card = dataset_card(manifest())
    assert "ratios 80/10/10 of" in card
    assert "| test | 2 | 5 | 2 | 34 | 17 | 9 (26.5%) |" in card
    assert "| validation | 2 | 5 | 2 | 0 | 0 | 0 (–) |" in card
    assert "| 1-1.25 | 5 | 0 | 5 |" in card  # the histogram, one column per split
    assert "| 7 | 5 / 0 / 2 | The General Assembly, \\| pipes | 大会， |" in card
    assert "pipeline.load_corpus(" in card and 'datasets.load_dataset("' in card
