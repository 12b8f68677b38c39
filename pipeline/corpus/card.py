"""README.md of the corpus folder: the Hugging Face dataset card, from the manifest.

The YAML front matter's ``configs`` name the Parquet files of each split, so
``datasets.load_dataset(<folder>)`` returns train, validation and test for sentences
(the default) and paragraphs, and never picks up the rejects. A split without rows is
left out of ``configs``: ``datasets`` refuses to load an empty split ("Instruction
'test' corresponds to no data!"), which would make the whole folder unloadable; its
(empty) files stay, for pandas, DuckDB and ``pipeline.load_corpus``. The body says what a
researcher must know before using the splits: how they were made, how many rows each
got, how many test rows repeat a train row, the largest duplicate groups and the score
distribution per split. Made from the manifest only, so every engine writes the same card.
"""

from __future__ import annotations

from typing import Any

from pipeline.corpus.splits import SPLITS
from pipeline.corpus.write import PAIR, TOOL_NAME

#: The two configs: (name, folder of its Parquet files).
CONFIGS = (("sentences", PAIR), ("paragraphs", f"{PAIR}-paragraphs"))
#: Longest text shown for a duplicate group in the card's table.
CARD_TEXT = 70


def _size_category(rows: int) -> str:
    """Hugging Face ``size_categories`` bucket for a row count."""
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
        (100_000_000, "10M<n<100M"),
    ):
        if rows < limit:
            return name
    return "n>100M"


def loadable_splits(manifest: dict[str, Any], table: str) -> list[str]:
    """The splits of ``table`` (sentences, paragraphs) that have rows; train when none
    has (an empty corpus, which ``datasets`` cannot load in any case)."""
    counts = manifest["splits"]["counts"]
    return [s for s in SPLITS if counts[s][table] > 0] or ["train"]


def front_matter(manifest: dict[str, Any]) -> list[str]:
    """The YAML block: metadata and one config per granularity, one file glob per split
    that has rows (module docstring)."""
    lines = [
        "---",
        "language:",
        "- en",
        "- zh",
        "license: other",
        "license_name: united-nations-terms-of-use",
        "license_link: https://www.un.org/en/about-us/terms-of-use",
        "task_categories:",
        "- translation",
        "size_categories:",
        f"- {_size_category(manifest['files']['sentences']['rows'])}",
        "pretty_name: UN General Assembly resolutions, English-Chinese",
        "configs:",
    ]
    for k, (name, folder) in enumerate(CONFIGS):
        lines += [f"- config_name: {name}"] + (["  default: true"] if k == 0 else [])
        lines.append("  data_files:")
        for split in loadable_splits(manifest, name):
            lines += [f"  - split: {split}", f"    path: {folder}/{split}-*.parquet"]
    return [*lines, "---"]


def _cell(text: str) -> str:
    """Text in a Markdown table cell: one line, pipes escaped, shortened."""
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= CARD_TEXT else text[: CARD_TEXT - 1] + "…"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def splits_section(manifest: dict[str, Any]) -> list[str]:
    """How the splits were made and what each holds."""
    splits = manifest["splits"]
    counts = splits["counts"]
    ratios = "/".join(f"{100 * splits['ratios'][s]:g}" for s in SPLITS)
    lines = [
        "## Splits",
        "",
        "Splits are made per **lineage**: a resolution and its renewals (same title once",
        "session words are folded, or near-duplicate text by MinHash), so no lineage is in",
        f"two splits. Each lineage's split is a hash of its key, with ratios {ratios} of",
        "lineages; adding or removing other documents never moves it.",
        "",
        "| split | lineages | documents | pairs | sentence rows | paragraph rows | "
        "sentence rows seen in train |",
        "|---|---|---|---|---|---|---|",
    ]
    for split in SPLITS:
        c = counts[split]
        seen = (
            f"{c['sentences_seen_in_train']} ({_share(c['share_seen_in_train'])})"
            if split != "train"
            else "–"
        )
        lines.append(
            f"| {split} | {c['lineages']} | {c['documents']} | {c['pairs']} | "
            f"{c['sentences']} | {c['paragraphs']} | {seen} |"
        )
    lines += ["", "Sentence scores per split (two-sided beads):", ""]
    lines += ["| score | " + " | ".join(SPLITS) + " |", "|---|" + "---|" * len(SPLITS)]
    for k, label in enumerate(splits["score_bins"]):
        row = " | ".join(str(counts[s]["score_histogram"][k]) for s in SPLITS)
        lines.append(f"| {label} | {row} |")
    return lines


def duplicates_section(manifest: dict[str, Any]) -> list[str]:
    """Duplicate groups: how they are defined and the largest ones."""
    dup = manifest["duplicates"]
    lines = [
        "## Duplicates",
        "",
        "Rows are kept and flagged, never dropped: `dup_group` is a hash of the English and",
        "Chinese with case, width, accents, punctuation and digits folded; `dup_count` counts",
        "the group's rows in the whole table; `seen_in_train` marks validation and test rows",
        "whose group also occurs in train. "
        f"{dup['sentences']['groups']} sentence groups; "
        f"{dup['sentences']['rows_in_repeated_groups']} rows are in groups of two or more.",
        "",
    ]
    if dup["largest_groups"]:
        lines += ["| rows | " + " / ".join(SPLITS) + " | en | zh |", "|---|---|---|---|"]
        for group in dup["largest_groups"]:
            per_split = " / ".join(str(group["splits"][s]) for s in SPLITS)
            lines.append(
                f"| {group['rows']} | {per_split} | {_cell(group['en'])} | {_cell(group['zh'])} |"
            )
    return lines


def loading_section() -> list[str]:
    return [
        "## Loading",
        "",
        "```python",
        "import datasets",
        'ds = datasets.load_dataset("path/to/this/folder")  # train, validation, test',
        'ds = ds.cast_column("translation", datasets.Translation(languages=["en", "zh"]))',
        'paras = datasets.load_dataset("path/to/this/folder", "paragraphs")',
        "",
        "import pipeline  # un-parallel-pipeline",
        'test = pipeline.load_corpus("path/to/this/folder", split="test", unseen_only=True)',
        "```",
        "",
        "Columns: `id` (stable, `symbol:block:sentence`), `symbol`, `session`, `family`,",
        "`pair`, `kind`, `para_no`, `en`, `zh`, `translation` {en, zh}, `en_sent_ids`,",
        "`zh_sent_ids` (`en_para_ids`, `zh_para_ids` for paragraphs), `align_type` (e.g. `1-2`),",
        "`score`, `margin`, `len_ratio`, `en_tokens`, `zh_tokens` (jieba), `source_en`,",
        "`source_zh`, `sha256_en`, `sha256_zh`, `model`, `version`, `split`, `lineage`,",
        "`dup_group`, `dup_count`, `seen_in_train`. Beads with an empty side (`1-0`, `0-1`)",
        "are kept: they record omissions; filter on `align_type` to drop them.",
        "`documents.parquet` lists every document read with its lineage and split. A split",
        "without rows is left out of `configs` above (`datasets` cannot load an empty split);",
        "its empty files are there for pandas, DuckDB and `load_corpus`.",
    ]


def dataset_card(manifest: dict[str, Any]) -> str:
    """README.md for the output folder (module docstring)."""
    counts = manifest["documents"]
    files = manifest["files"]
    filters = manifest["filters"]
    lines = [
        *front_matter(manifest),
        "",
        "# UN General Assembly resolutions, English-Chinese parallel corpus",
        "",
        f"Built by `{TOOL_NAME}` {manifest['version']} with sentence encoder "
        f"`{manifest['model']['name']}`.",
        "",
        "| | count |",
        "|---|---|",
        f"| documents read | {counts['read']} |",
        f"| document pairs | {counts['paired_symbols']} |",
        f"| unpaired documents | {len(counts['unpaired'])} |",
        f"| rejected files | {len(counts['rejected'])} |",
        f"| lineages | {manifest['lineages']['count']} |",
        f"| sentence beads (`sentences`) | {files['sentences']['rows']} |",
        f"| paragraph beads (`paragraphs`) | {files['paragraphs']['rows']} |",
        f"| rejected sentence beads | {files['sentence_rejects']['rows']} |",
        "",
        *splits_section(manifest),
        "",
        *duplicates_section(manifest),
        "",
        *loading_section(),
        "",
        "## Filters",
        "",
        f"Applied at build time: minimum score {filters['min_score']}, maximum length ratio "
        f"{filters['max_len_ratio']}, language check {filters['lang_check']}, clean-text "
        "check always. Dropped rows are in `rejects/` with the reason.",
        "",
        "## Source and license",
        "",
        "Resolutions of the United Nations General Assembly, official English and Chinese",
        "versions. Use is subject to the United Nations terms of use.",
        "",
    ]
    return "\n".join(lines)
