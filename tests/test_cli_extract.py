"""The ``extract`` command end to end, through click's CliRunner on copies of the seeds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.extract.output import read_documents, write_extraction
from pipeline.pair import PairResult
from pipeline.records import Block, Document, DocumentPair, Metadata

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"
DOCUMENT_KEYS = ["symbol", "language", "source_file", "sha256", "metadata", "blocks"]
METADATA_KEYS = [
    "session",
    "agenda_item",
    "adopted_on",
    "title",
    "report",
    "meeting",
    "family",
    "body",
    "revision",
    "numbered",
]
BLOCK_KEYS = ["kind", "number", "lead", "text", "footnote_refs"]


@pytest.fixture
def raw_copy(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    for seed in RAW.iterdir():
        shutil.copy(seed, raw / seed.name)
    return raw


def run(*args: str) -> object:
    return CliRunner().invoke(main, ["extract", *args])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_seeds_extract_to_documents_rejected_and_pairs(raw_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("--raw", str(raw_copy), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "documents.jsonl",
        "pairs.json",
        "rejected.jsonl",
    ]  # no temp files left behind

    documents = read_jsonl(out / "documents.jsonl")
    assert [(d["symbol"], d["language"], d["source_file"]) for d in documents] == [
        ("A/RES/78/43", "en", "000_0efcbe69a8e200e4.txt"),
        ("A/RES/76/28", "en", "001_3d9d53251f95c6e1.txt"),
        ("A/RES/75/58", "en", "002_69ed3383ef6f2041.txt"),
        ("A/RES/75/58", "zh", "003_df19238bedd244e2.txt"),
    ]
    for document in documents:
        assert list(document) == DOCUMENT_KEYS
        assert list(document["metadata"]) == METADATA_KEYS
        assert all(list(block) == BLOCK_KEYS for block in document["blocks"])
        assert len(document["sha256"]) == 64
    zh = documents[3]
    assert zh["metadata"]["session"] == 75 and zh["metadata"]["report"] == "A/75/399"
    # UTF-8, not \\u escapes: the Chinese text is readable in the file.
    assert "大会" in (out / "documents.jsonl").read_text(encoding="utf-8")
    assert (out / "rejected.jsonl").read_text(encoding="utf-8") == ""

    pairs = json.loads((out / "pairs.json").read_text(encoding="utf-8"))
    assert [(p["symbol"], p["slug"]) for p in pairs["pairs"]] == [("A/RES/75/58", "A-RES-75-58")]
    assert pairs["pairs"][0]["en"]["source_file"] == "002_69ed3383ef6f2041.txt"
    assert pairs["pairs"][0]["zh"]["source_file"] == "003_df19238bedd244e2.txt"
    assert [(u["symbol"], u["language"], u["missing"]) for u in pairs["unpaired"]] == [
        ("A/RES/76/28", "en", "zh"),
        ("A/RES/78/43", "en", "zh"),
    ]

    # The summary table.
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["documents", "4", "en", "3,", "zh", "1"]
    assert lines[1].split() == ["pairs", "1", "A/RES/75/58"]
    assert lines[2].split() == ["unpaired", "2"]
    assert "A/RES/76/28 (en, 001_3d9d53251f95c6e1.txt): no zh counterpart" in result.stdout
    assert lines[-1].split() == ["rejected", "0"]
    assert result.stderr == ""

    # documents.jsonl reads back into the same Documents.
    assert [d.symbol for d in read_documents(out / "documents.jsonl")] == [
        d["symbol"] for d in documents
    ]


def add_bad_files(raw: Path) -> None:
    (raw / "empty.txt").write_bytes(b"")
    (raw / "notazip.docx").write_text("75/58. Measures", encoding="utf-8")


def test_bad_files_are_reported_and_exit_is_zero(raw_copy: Path, tmp_path: Path) -> None:
    add_bad_files(raw_copy)
    out = tmp_path / "out"
    result = run("--raw", str(raw_copy), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "rejected: empty.txt: empty file (0 bytes)",
        "rejected: notazip.docx: not a DOCX file: the content is not a zip archive",
    ]
    assert read_jsonl(out / "rejected.jsonl") == [
        {"source_file": "empty.txt", "reason": "empty file (0 bytes)"},
        {
            "source_file": "notazip.docx",
            "reason": "not a DOCX file: the content is not a zip archive",
        },
    ]
    assert "rejected   2" in result.stdout
    assert "empty.txt: empty file (0 bytes)" in result.stdout
    assert len(read_jsonl(out / "documents.jsonl")) == 4


def test_strict_turns_a_rejection_into_failure(raw_copy: Path, tmp_path: Path) -> None:
    add_bad_files(raw_copy)
    out = tmp_path / "out"
    result = run("--raw", str(raw_copy), "--out", str(out), "--strict")
    assert result.exit_code == 1
    assert "--strict: 2 file(s) rejected" in result.stderr
    assert len(read_jsonl(out / "documents.jsonl")) == 4  # outputs are still written


def test_strict_passes_on_clean_input(raw_copy: Path, tmp_path: Path) -> None:
    result = run("--raw", str(raw_copy), "--out", str(tmp_path / "out"), "--strict")
    assert result.exit_code == 0, result.output


def test_duplicate_copy_is_listed_and_the_pair_kept(raw_copy: Path, tmp_path: Path) -> None:
    shutil.copy(raw_copy / "003_df19238bedd244e2.txt", raw_copy / "zh_copy.txt")
    out = tmp_path / "out"
    result = run("--raw", str(raw_copy), "--out", str(out))
    assert result.exit_code == 0, result.output
    rejected = read_jsonl(out / "rejected.jsonl")
    assert [r["source_file"] for r in rejected] == ["zh_copy.txt"]
    assert rejected[0]["reason"].startswith("duplicate of 003_df19238bedd244e2.txt")
    # The copy does not reach documents.jsonl, and 75/58 still pairs (issue 12).
    files = [d["source_file"] for d in read_jsonl(out / "documents.jsonl")]
    assert "zh_copy.txt" not in files and "003_df19238bedd244e2.txt" in files
    pairs = json.loads((out / "pairs.json").read_text(encoding="utf-8"))["pairs"]
    assert [p["symbol"] for p in pairs] == ["A/RES/75/58"]
    # a copy is not an error, even with --strict
    assert run("--raw", str(raw_copy), "--out", str(out), "--strict").exit_code == 0


def test_no_document_at_all_fails_with_a_clear_message(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    add_bad_files(raw)
    result = run("--raw", str(raw), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert f"no document could be read from {raw} (2 file(s) rejected)" in result.stderr


def test_empty_folder_fails(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    result = run("--raw", str(raw), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "no document could be read" in result.stderr


def test_missing_folder_and_missing_out_are_usage_errors(raw_copy: Path, tmp_path: Path) -> None:
    assert run("--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "out")).exit_code == 2
    assert run("--raw", str(raw_copy)).exit_code == 2


def test_rerun_replaces_outputs(raw_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("--raw", str(raw_copy), "--out", str(out)).exit_code == 0
    (raw_copy / "000_0efcbe69a8e200e4.txt").unlink()
    assert run("--raw", str(raw_copy), "--out", str(out)).exit_code == 0
    assert len(read_jsonl(out / "documents.jsonl")) == 3


def test_symbol_with_dot_dot_slash_never_escapes_the_output_folder(tmp_path: Path) -> None:
    # Symbols come from document text. Output file names are fixed, and the per-pair
    # slug offered to later stages is path-safe even for a hostile symbol.
    symbol = "A/RES/../../../../tmp/evil"
    blocks = [Block(kind="operative", text="Decides", number="1")]
    en = Document(symbol, "en", "evil_en.txt", "0" * 64, Metadata(), blocks)
    zh = Document(symbol, "zh", "evil_zh.txt", "1" * 64, Metadata(), blocks)
    out = tmp_path / "nested" / "out"
    write_extraction(out, [en, zh], [], PairResult(pairs=[DocumentPair(symbol, en, zh)]))
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == [
        "nested/out/documents.jsonl",
        "nested/out/pairs.json",
        "nested/out/rejected.jsonl",
    ]
    pair = json.loads((out / "pairs.json").read_text(encoding="utf-8"))["pairs"][0]
    assert pair["symbol"] == symbol  # kept verbatim as data
    assert "/" not in pair["slug"] and ".." not in pair["slug"]
    assert (out / pair["slug"]).resolve().parent == out.resolve()
