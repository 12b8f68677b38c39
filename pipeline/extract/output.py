"""The files the ``extract`` command writes, and reading them back.

``documents.jsonl`` (one Document per line), ``rejected.jsonl`` (one Rejected per
line) and ``pairs.json`` (pairs and unpaired documents) are the hand-off between
extraction and the later stages, so every file is written whole or not at all
(temp file + ``os.replace``): a crash never leaves a half-written file that the
next stage would read as complete. File names are fixed; symbols, which come from
untrusted text, only appear inside the files, plus a path-safe ``slug`` for
consumers that need a file name per pair.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.atomic import atomic_write_text
from pipeline.pair import PairResult
from pipeline.records import Document, Rejected, symbol_slug

DOCUMENTS_FILE = "documents.jsonl"
REJECTED_FILE = "rejected.jsonl"
PAIRS_FILE = "pairs.json"


@dataclass
class ExtractionSummary:
    """What one extraction produced: the numbers the command prints and tests check."""

    documents_by_language: dict[str, int] = field(default_factory=dict)
    pairs: list[str] = field(default_factory=list)  # symbols
    unpaired: list[tuple[str, str, str]] = field(default_factory=list)  # symbol, lang, file
    rejected: list[Rejected] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def document_count(self) -> int:
        return sum(self.documents_by_language.values())


def document_record(document: Document) -> dict[str, Any]:
    """One documents.jsonl object, keys in the documented order."""
    return {
        **_document_summary(document),
        "metadata": asdict(document.metadata),
        "blocks": [
            {
                "kind": block.kind,
                "number": block.number,
                "lead": block.lead,
                "text": block.text,
                "footnote_refs": list(block.footnote_refs),
            }
            for block in document.blocks
        ],
    }


def _document_summary(document: Document) -> dict[str, Any]:
    return {
        "symbol": document.symbol,
        "language": document.language,
        "source_file": document.source_file,
        "sha256": document.sha256,
    }


def pairs_payload(result: PairResult) -> dict[str, Any]:
    """The ``pairs.json`` object: pairs (with a path-safe ``slug``), unpaired documents
    (with the language that is ``missing``) and conflicts (copies whose texts differ)."""
    pairs = [
        {
            "symbol": pair.symbol,
            "slug": symbol_slug(pair.symbol),
            "en": _document_summary(pair.en),
            "zh": _document_summary(pair.zh),
        }
        for pair in result.pairs
    ]
    unpaired = []
    for document in result.unpaired:
        entry = _document_summary(document)
        entry["slug"] = symbol_slug(document.symbol)
        entry["missing"] = {"en": "zh", "zh": "en"}.get(document.language)
        unpaired.append(entry)
    conflicts = [
        {"symbol": c.symbol, "language": c.language, "files": c.files} for c in result.conflicts
    ]
    return {"pairs": pairs, "unpaired": unpaired, "conflicts": conflicts}


def write_extraction(
    out_dir: Path,
    documents: list[Document],
    rejected: list[Rejected],
    pairing: PairResult,
) -> ExtractionSummary:
    """Write documents.jsonl, rejected.jsonl and pairs.json under ``out_dir``.

    ``documents`` should be what survived extraction; those the pairing rejected
    (duplicate symbol+language) are left out of documents.jsonl and listed in
    rejected.jsonl with the extraction rejections, so no later stage sees them.
    """
    pair_rejected = {item.source_file for item in pairing.rejected}
    kept = [doc for doc in documents if doc.source_file not in pair_rejected]
    all_rejected = sorted([*rejected, *pairing.rejected], key=lambda r: r.source_file)

    out_dir = Path(out_dir)
    targets = {
        DOCUMENTS_FILE: "".join(
            json.dumps(document_record(doc), ensure_ascii=False) + "\n" for doc in kept
        ),
        REJECTED_FILE: "".join(
            json.dumps(asdict(item), ensure_ascii=False) + "\n" for item in all_rejected
        ),
        PAIRS_FILE: json.dumps(pairs_payload(pairing), ensure_ascii=False, indent=2) + "\n",
    }
    files = []
    for name, text in targets.items():
        atomic_write_text(out_dir / name, text)
        files.append(out_dir / name)

    return ExtractionSummary(
        documents_by_language=dict(sorted(Counter(doc.language for doc in kept).items())),
        pairs=[pair.symbol for pair in pairing.pairs],
        unpaired=[(doc.symbol, doc.language, doc.source_file) for doc in pairing.unpaired],
        rejected=all_rejected,
        files=files,
    )


def read_documents(path: Path) -> list[Document]:
    """Documents back from a ``documents.jsonl`` written by ``write_extraction``."""
    documents = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                documents.append(Document.from_dict(json.loads(line)))
    return documents


def format_summary(summary: ExtractionSummary) -> str:
    """The table the ``extract`` command prints: documents by language, pairs, unpaired
    documents (with the missing language) and rejected files with their reasons."""
    languages = ", ".join(f"{lang} {n}" for lang, n in summary.documents_by_language.items())
    rows: list[tuple[str, str, str]] = [
        ("documents", str(summary.document_count), languages),
        ("pairs", str(len(summary.pairs)), ", ".join(summary.pairs)),
        ("unpaired", str(len(summary.unpaired)), ""),
    ]
    for symbol, language, source_file in summary.unpaired:
        missing = {"en": "zh", "zh": "en"}.get(language, "en/zh")
        rows.append(("", "", f"{symbol} ({language}, {source_file}): no {missing} counterpart"))
    rows.append(("rejected", str(len(summary.rejected)), ""))
    for item in summary.rejected:
        rows.append(("", "", f"{item.source_file}: {item.reason}"))
    width = max(len(label) for label, _, _ in rows)
    count_width = max(len(count) for _, count, _ in rows)
    return "\n".join(
        f"{label:<{width}}  {count:>{count_width}}  {detail}".rstrip()
        for label, count, detail in rows
    )
