"""manifest.json: what went in, what came out, and how; shared by every engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline import __version__
from pipeline.corpus.report import PAGES_FOLDER
from pipeline.corpus.write import PAIR, TOOL_NAME, file_sha256
from pipeline.readers.names import shown_name

if TYPE_CHECKING:
    from pipeline.corpus.finalize import Finalized
    from pipeline.runner.options import BuildContext, BuildOptions
    from pipeline.runner.stage import StageStats
    from pipeline.runner.stages.write import WriteStage


def local_output_files(writer: WriteStage) -> dict[str, Any]:
    """The manifest's ``files`` section for a corpus the driver wrote itself: the
    Parquet tables, the documents table and the dedup export as the finalize pass
    wrote them, then the streamed files."""
    if writer.finalized is None:
        raise RuntimeError("the write stage has not finished")
    files: dict[str, Any] = dict(writer.finalized.files)
    files["tmx"] = {
        "rows": writer.tmx.units,
        "files": [{"path": writer.tmx.path.name, "sha256": file_sha256(writer.tmx.path)}],
    }
    files["moses"] = {
        "rows": writer.moses.lines,
        "files": [{"path": p.name, "sha256": file_sha256(p)} for p in writer.moses.paths],
    }
    files["report"] = {
        "rows": writer.report.documents,
        "files": [{"path": "report.html", "sha256": file_sha256(writer.report.path)}],
        "pages": f"{PAGES_FOLDER}/",
    }
    return files


def _unpaired_reason(symbol: str, language: str, context: BuildContext) -> str:
    other = "zh" if language == "en" else "en"
    if any(c.symbol == symbol and c.language == other for c in context.conflicts):
        return f"the {other} copies of {symbol} conflict (see conflicts); none is paired"
    return f"no {other} document with symbol {symbol}"


def parsed_documents(context: BuildContext) -> list[dict[str, Any]]:
    """Every document read: whether its operative paragraphs are numbered (False: found by
    their lead), its lineage and split (the pairing barrier's)."""
    return [
        {
            "symbol": symbol,
            "language": language,
            "source_file": source,
            "numbered": numbered,
            "lineage": context.placements[symbol].lineage,
            "split": context.placements[symbol].split,
        }
        for symbol, language, source, numbered in context.documents
    ]


def corpus_sections(context: BuildContext, finalized: Finalized) -> dict[str, Any]:
    """The manifest's ``splits``, ``lineages`` and ``duplicates``: how they were made
    (the pairing barrier) and what the finalize pass counted."""
    assignment = context.assignment
    if assignment is None:
        raise RuntimeError("no lineages were assigned: the pairing barrier has not run")
    summary = finalized.summary
    return {
        "splits": {
            **assignment.splits_section(),
            "counts": summary["splits"],
            "score_bins": summary["score_bins"],
        },
        "lineages": {**assignment.manifest_section(), "largest": summary["largest_lineages"]},
        "duplicates": {**summary["duplicates"], "largest_groups": summary["largest_dup_groups"]},
    }


def build_manifest(
    options: BuildOptions,
    context: BuildContext,
    writer: Any,
    stats: list[StageStats],
    files: dict[str, Any],
) -> dict[str, Any]:
    """manifest.json: what went in, what came out, and how (no timings: a rebuild of
    the same input with the same settings gives the same manifest). ``writer`` has the
    totals of what was written and what its finalize pass found (``WriteStage`` or the
    Ray build's assembler)."""
    from pipeline.runner.workcache import _align_params_dict

    models = sorted(context.models)
    return {
        "tool": TOOL_NAME,
        "version": __version__,
        "pair": PAIR,
        "raw": shown_name(str(options.raw)),
        "model": {
            "spec": options.model,
            "name": models[0] if len(models) == 1 else models,
            "batch_size": options.batch_size,
        },
        "align_params": _align_params_dict(options.align_params),
        "filters": options.filters.to_dict(),
        "documents": {
            "files": len(context.files),
            "read": len(context.documents),
            "paired_symbols": len(context.pairs),
            "parsed": parsed_documents(context),
            "paired": [
                {
                    "symbol": s,
                    "source_en": en,
                    "source_zh": zh,
                }
                for s, en, zh in context.pairs
            ],
            "unpaired": [
                {
                    "symbol": d.symbol,
                    "language": d.language,
                    "source_file": d.source_file,
                    "reason": _unpaired_reason(d.symbol, d.language, context),
                }
                for d in context.unpaired
            ],
            "conflicts": [
                {"symbol": c.symbol, "language": c.language, "files": c.files, "reason": c.reason}
                for c in context.conflicts
            ],
            "rejected": [
                {"source_file": r.source_file, "reason": r.reason} for r in context.rejected
            ],
            "failed_pairs": [{"symbol": r.symbol, "reason": r.reason} for r in context.failed],
            "skipped": [{"entry": s.entry, "reason": s.reason} for s in context.skipped],
        },
        "stages": [
            {
                "name": s.name,
                "items_in": s.items_in,
                "items_out": s.items_out,
                "dropped": dict(sorted(s.dropped.items())),
                "rejected_rows": {k: v for k, v in sorted(s.counters.items()) if "_rejects." in k},
            }
            for s in stats
        ],
        **corpus_sections(context, writer.finalized),
        "beads_by_type": dict(sorted(writer.beads_by_type.items())),
        "mean_score": round(writer.score_sum / writer.scored, 6) if writer.scored else None,
        "exports": {
            "translation_pairs": writer.scored,
            "not_exported_one_sided_beads": writer.not_exported,
        },
        "files": files,
    }
