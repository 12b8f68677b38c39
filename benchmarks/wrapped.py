"""Human-aligned text wrapped as UN resolutions, through ``build`` (the path that writes
the corpus), scored against its gold.

Why: every aligner figure must be measured on the code that produces the product. A gold
set of plain sentences (MAC-Dev: one sentence a line, ``zh/00N``, ``en/00N``, ``gold/00N``)
is written as a pair of resolution texts: a UN header, "The General Assembly," / "大会，",
each gold line one unnumbered paragraph, one closing operative paragraph ("1. Decides to
remain seized of the matter.") and the closing lines. ``build`` reads, extracts, pairs,
segments, embeds, aligns and writes them like any other resolution; the sentence rows in
the Parquet are then mapped back to gold lines and scored as ``align-text``'s beads are.

Mapping back (``sentence_lines``): each sentence of the corpus is traced to the gold
lines its characters come from (extraction may join a line to the one before it, the
segmenter may split a line); beads over lines are then the connected components of lines
linked by sentence beads, so a line split in two and aligned as two beads is one
line-level bead, as the paragraph table would have it.
"""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.evaluate import BeadPair

#: Operative paragraph and closing lines of every wrapped pair, English then Chinese.
OPERATIVE = ("Decides to remain seized of the matter.", "决定继续处理此案。")


def _en_text(number: int, lines: Sequence[str]) -> str:
    head = [
        "General Assembly",
        "Distr.: General",
        "2 January 2026",
        "Eightieth session",
        "Agenda item 1",
        "Resolution adopted by the General Assembly on 1 January 2026",
        f"80/{number}. Text wrapped for evaluation",
        "The General Assembly,",
    ]
    tail = [f"1. {OPERATIVE[0]}", "99th plenary meeting", "1 January 2026"]
    return "\n\n".join([*head, *lines, *tail]) + "\n"


def _zh_text(number: int, lines: Sequence[str]) -> str:
    head = [
        "大会",
        "Distr.: General",
        "2 January 2026",
        "第八十届会议",
        "议程项目 1",
        "2026年1月1日大会决议",
        f"80/{number}. 为评估而包装的文本",
        "大会，",
    ]
    tail = [f"1. {OPERATIVE[1]}", "2026年1月1日", "第99次全体会议"]
    return "\n\n".join([*head, *lines, *tail]) + "\n"


@dataclass
class WrappedDoc:
    """One gold document: its lines (gold order: ``src_lang`` first) and gold beads."""

    name: str
    src: list[str]
    tgt: list[str]
    gold: list[BeadPair]
    #: Language of the gold's source side ("zh" for MAC-Dev).
    src_lang: str = "zh"
    #: The session number of its symbol (A/RES/80/<number>): distinct per document.
    number: int = 0


@dataclass
class WrappedRun:
    """What ``build`` made of the wrapped documents: line-level beads per document."""

    beads: dict[str, list[BeadPair]] = field(default_factory=dict)
    seconds: float = 0.0


def write_raw(docs: Sequence[WrappedDoc], raw: Path) -> None:
    """Each document as an English and a Chinese resolution text in ``raw``."""
    raw.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        en, zh = (doc.tgt, doc.src) if doc.src_lang == "zh" else (doc.src, doc.tgt)
        (raw / f"{doc.name}-en.txt").write_text(_en_text(doc.number, en), encoding="utf-8")
        (raw / f"{doc.name}-zh.txt").write_text(_zh_text(doc.number, zh), encoding="utf-8")


def _squeeze(text: str) -> str:
    """A text as extraction normalises it, without whitespace (joins add or drop spaces)."""
    from pipeline.text.normalize import normalize_unicode

    return re.sub(r"\s+", "", normalize_unicode(text))


def sentence_lines(document: Any, lines: Sequence[str], name: str) -> dict[str, list[int]]:
    """Sentence id -> the gold lines its text comes from, for a wrapped document.

    The body blocks (after the intro heading "The General Assembly," / "大会，", before
    the closing operative paragraph) hold the lines in order, but extraction may join a
    line to the one before (a paragraph left open: "...though—'" reads as cut by a page
    break) or drop a leading number into the block's number. So the lines are matched to
    the body's text character by character (difflib, whitespace removed), and each
    sentence takes the lines its characters come from: a sentence that spans two joined
    lines makes them one line-level bead, which is what the corpus then holds."""
    from pipeline.text.segment import segment_document

    blocks = document.blocks
    intro = next(
        (k for k, b in enumerate(blocks)
         if b.kind == "heading" and b.text in ("The General Assembly,", "大会，")),
        None,
    )  # fmt: skip
    if intro is None:
        raise ValueError(f"{name}: no intro heading after extraction")
    body = {
        k for k, b in enumerate(blocks)
        if k > intro and b.kind not in ("closing", "footnote") and b.text not in OPERATIVE
    }  # fmt: skip
    stream, spans = "", []
    for sentence in segment_document(document):
        if sentence.block in body:
            text = _squeeze(sentence.text)
            spans.append((sentence.id, len(stream), len(stream) + len(text)))
            stream += text
    gold, line_at = "", []
    for number, line in enumerate(lines):
        text = _squeeze(line)
        gold += text
        line_at += [number] * len(text)
    where = [-1] * len(stream)  # stream position -> gold line
    matcher = difflib.SequenceMatcher(None, stream, gold, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            where[a + k] = line_at[b + k]
    matched = sum(w >= 0 for w in where)
    if matched < 0.98 * len(gold):
        raise ValueError(f"{name}: only {matched} of {len(gold)} characters found again")
    out: dict[str, list[int]] = {}
    for sid, start, end in spans:
        found = sorted({w for w in where[start:end] if w >= 0})
        out[sid] = found
    return out


def line_beads(
    rows: Sequence[tuple[Sequence[str], Sequence[str]]],
    lines_of: tuple[dict[str, list[int]], dict[str, list[int]]],
    n_en: int,
    n_zh: int,
) -> list[tuple[list[int], list[int]]]:
    """(English lines, Chinese lines) beads from sentence rows ((en ids, zh ids) each;
    ``lines_of``: sentence id -> gold lines per side, ``sentence_lines``): lines linked
    by a row are one bead; lines no row reaches are 1-0/0-1 beads."""
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(node: tuple[int, int]) -> tuple[int, int]:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for line in range(n_en):
        find((0, line))
    for line in range(n_zh):
        find((1, line))
    for en_ids, zh_ids in rows:
        nodes = [
            (side, line)
            for side, ids in ((0, en_ids), (1, zh_ids))
            for sid in ids
            for line in lines_of[side].get(sid, [])
        ]
        for node in nodes[1:]:
            parent[find(node)] = find(nodes[0])
    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for node in list(parent):
        groups.setdefault(find(node), []).append(node)
    beads = [
        (sorted(k for side, k in nodes if side == 0), sorted(k for side, k in nodes if side == 1))
        for nodes in groups.values()
    ]
    return sorted(beads, key=lambda b: (b[0][0] if b[0] else n_en, b[1][0] if b[1] else -1))


def build_wrapped(
    docs: Sequence[WrappedDoc],
    model: str = "use-m",
    cache: Path | None = None,
    workers: int | None = 1,
) -> WrappedRun:
    """Run ``build`` over the wrapped documents; line-level beads per document in the
    gold's order (src first). ``cache``: an embedding/work cache to reuse between runs."""
    import time

    import pyarrow.parquet as pq

    from pipeline.extract import extract_file
    from pipeline.runner import BuildOptions, build_corpus

    with tempfile.TemporaryDirectory(prefix="wrapped-") as tmp:
        raw, out = Path(tmp) / "raw", Path(tmp) / "aligned"
        write_raw(docs, raw)
        keys: dict[str, tuple[dict[str, list[int]], dict[str, list[int]]]] = {}
        for doc in docs:
            en, zh = (doc.tgt, doc.src) if doc.src_lang == "zh" else (doc.src, doc.tgt)
            keys[doc.name] = (
                sentence_lines(extract_file(raw / f"{doc.name}-en.txt"), en, f"{doc.name} en"),
                sentence_lines(extract_file(raw / f"{doc.name}-zh.txt"), zh, f"{doc.name} zh"),
            )
        started = time.perf_counter()
        options = BuildOptions(
            raw=raw, out=out, model=model, cache=cache or Path(tmp) / "cache",
            show_progress=False, workers=workers,
        )  # fmt: skip
        result = build_corpus(options)
        seconds = time.perf_counter() - started
        failed = result.manifest["documents"]["failed_pairs"]
        if failed:
            raise RuntimeError(f"build failed pairs: {failed}")
        rows = pq.read_table(out / "en-zh").to_pylist()
        run = WrappedRun(seconds=seconds)
        by_symbol: dict[str, list[tuple[list[str], list[str]]]] = {}
        for row in rows:
            by_symbol.setdefault(row["symbol"], []).append((row["en_sent_ids"], row["zh_sent_ids"]))
        for doc in docs:
            n_en, n_zh = (len(doc.tgt), len(doc.src)) if doc.src_lang == "zh" else (
                len(doc.src), len(doc.tgt)
            )
            rows_of = by_symbol.get(f"A/RES/80/{doc.number}", [])
            beads = line_beads(rows_of, keys[doc.name], n_en, n_zh)
            if doc.src_lang == "zh":
                beads = [(zh, en) for en, zh in beads]
            run.beads[doc.name] = beads
        shutil.rmtree(out, ignore_errors=True)
    return run


def mac_wrapped(mac_dir: Path) -> list[WrappedDoc]:
    """MAC-Dev's chapters as documents to wrap (zh source, as the gold)."""
    from benchmarks.quality import load_mac

    return [
        WrappedDoc(d.name, d.src, d.tgt, d.gold, "zh", 200 + k)
        for k, d in enumerate(load_mac(mac_dir), start=1)
    ]
