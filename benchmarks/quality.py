"""Ours against the real peers on human-aligned sets (issue 9, items 1-3 and 5).

Sets, each read at run time and never copied into the repository:

* **MAC-Dev** (``--mac-dir``, by default ``../shared/dev/mac-dev``): six novel chapters,
  ``zh/00N`` and ``en/00N`` one sentence a line, ``gold/00N`` Vecalign beads with Chinese
  first, so every system aligns zh (source) to en (target); per chapter and micro-averaged;
* **A/RES/75/58**: the seed pair ``data/raw`` 002 (en) + 003 (zh) through
  ``pipeline.align.document.align_pair`` as the build runs it; the peers get the same
  sentences as flat lists (they know nothing of document structure);
* **general**: ``tests/gold/general`` (en source, zh target).

Systems: ``ours`` (``pipeline.align.align_texts``, i.e. align-text, or ``align_pair``
for the seed pair), ``bertalign`` (the registry's code, :mod:`benchmarks.peers`) and
``vecalign (reimpl.)`` (our Vecalign-style reimplementation; no Vecalign package exists on
the registry). All share one memoised encoder per model (each text embedded once); a
:class:`~benchmarks.scoring.CountingEncoder` per system and document counts the texts that
system would embed cold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import Echo
from benchmarks.scoring import CountingEncoder, set_scores
from pipeline.embed import Encoder
from pipeline.evaluate import BeadPair, read_beads

#: Issue 9's targets on MAC-Dev (AlignerEval strict F1) and for null beads.
TARGET_F1 = 0.88
TARGET_MARGIN = 0.02
TARGET_NULL_FACTOR = 2
TARGET_TEXTS_PER_SENTENCE = 2.0
OURS, BERTALIGN, VECALIGN = "ours", "bertalign", "vecalign (reimpl.)"

Aligner = Callable[[Sequence[str], Sequence[str], Encoder], list[BeadPair]]


@dataclass
class Doc:
    """One document of a set: sentences of both sides and the gold beads (src first)."""

    name: str
    src: list[str]
    tgt: list[str]
    gold: list[BeadPair]
    #: For the seed pair: ours runs the structure-aware aligner on the raw files instead.
    ours: Callable[[Encoder], list[BeadPair]] | None = None


@dataclass
class SystemRun:
    """One system on one set: beads per document and the texts it embedded."""

    docs: list[tuple[str, list[BeadPair], list[BeadPair]]] = field(default_factory=list)
    embedded: int = 0
    sentences: int = 0

    @property
    def texts_per_sentence(self) -> float:
        return self.embedded / self.sentences if self.sentences else 0.0


def mac_chapters(mac_dir: Path) -> list[str]:
    """Chapter names present in zh/, en/ and gold/ alike, or one error naming what is not."""
    parts = {}
    for side in ("zh", "en", "gold"):
        folder = mac_dir / side
        if not folder.is_dir():
            raise ValueError(f"{mac_dir}: no {side}/ folder (expected zh/, en/, gold/)")
        parts[side] = {p.name for p in folder.iterdir() if p.is_file() and p.name[0] != "."}
    if not parts["gold"] or parts["zh"] != parts["gold"] or parts["en"] != parts["gold"]:
        raise ValueError(f"{mac_dir}: zh/, en/ and gold/ must hold the same, non-empty file names")
    return sorted(parts["gold"])


def load_mac(mac_dir: Path) -> list[Doc]:
    """MAC-Dev chapters as zh -> en documents (the gold's order)."""

    def lines(path: Path) -> list[str]:
        return path.read_text(encoding="utf-8").splitlines()

    d = mac_dir
    return [
        Doc(ch, lines(d / "zh" / ch), lines(d / "en" / ch), read_beads(d / "gold" / ch))
        for ch in mac_chapters(d)
    ]


def load_general(gold_dir: Path) -> Doc:
    d = gold_dir / "general"
    return Doc(
        "general",
        (d / "en.txt").read_text(encoding="utf-8").splitlines(),
        (d / "zh.txt").read_text(encoding="utf-8").splitlines(),
        read_beads(d / "gold.txt"),
    )


def load_seed_pair(raw: Path, gold_dir: Path) -> Doc:
    """A/RES/75/58: sentences as the build's segmenter gives them; ours = align_pair."""
    from benchmarks.bench import EN_7558, ZH_7558
    from pipeline.align.document import align_pair
    from pipeline.evaluate import bead_pairs
    from pipeline.extract import extract_file
    from pipeline.records import DocumentPair
    from pipeline.text.segment import segment_document

    en, zh = extract_file(raw / EN_7558), extract_file(raw / ZH_7558)
    pair = DocumentPair(en.symbol, en, zh)

    def ours(enc: Encoder) -> list[BeadPair]:
        return bead_pairs(align_pair(pair, enc).beads)

    return Doc(
        "A/RES/75/58",
        [s.text for s in segment_document(en)],
        [s.text for s in segment_document(zh)],
        read_beads(gold_dir / "A-RES-75-58" / "gold.txt"),
        ours,
    )


def ours_align(src: Sequence[str], tgt: Sequence[str], encoder: Encoder) -> list[BeadPair]:
    """What ``python -m pipeline align-text`` does, minus reading the files."""
    from pipeline.align import AlignParams, align_texts
    from pipeline.evaluate import bead_pairs

    return bead_pairs(align_texts(list(src), list(tgt), encoder, AlignParams()).beads)


def vecalign_reimpl(src: Sequence[str], tgt: Sequence[str], encoder: Encoder) -> list[BeadPair]:
    from benchmarks.vecalign_reimpl import vecalign_align

    return vecalign_align(list(src), list(tgt), encoder)


def run_system(
    align: Aligner, docs: list[Doc], memo: Encoder, use_doc_ours: bool = False
) -> SystemRun:
    run = SystemRun()
    for doc in docs:
        counter = CountingEncoder(memo)
        if use_doc_ours and doc.ours is not None:
            beads = doc.ours(counter)
        else:
            beads = align(doc.src, doc.tgt, counter)
        run.docs.append((doc.name, beads, doc.gold))
        run.embedded += counter.embedded
        run.sentences += len(doc.src) + len(doc.tgt)
    return run


def run_set(docs: list[Doc], systems: dict[str, Aligner], memo: Encoder) -> dict[str, SystemRun]:
    """Every system on every document of a set, sharing ``memo``'s embeddings."""
    return {name: run_system(align, docs, memo, name == OURS) for name, align in systems.items()}


# --- printing ---------------------------------------------------------------------------

_COLUMNS = (
    ("ae_p", "AE-P"), ("ae_r", "AE-R"), ("ae_f1", "AE-F1"),
    ("vs_p", "VS-P"), ("vs_r", "VS-R"), ("vs_f1", "VS-F1"),
    ("vl_p", "VL-P"), ("vl_r", "VL-R"), ("vl_f1", "VL-F1"),
)  # fmt: skip
_COUNTS = (("wrong_null", "null!"), ("over_merge", "merge"), ("over_split", "split"))


def table_header() -> str:
    cols = " ".join(f"{label:>6}" for _, label in _COLUMNS)
    counts = " ".join(f"{label:>5}" for _, label in _COUNTS)
    return f"{'set':<20} {'system':<18} {cols} {counts} {'gold0':>5} {'txt/snt':>7}"


def table_row(set_name: str, system: str, scores: dict, texts_per_sentence: float | None) -> str:
    cols = " ".join(f"{scores[key]:>6.3f}" for key, _ in _COLUMNS)
    counts = " ".join(f"{scores[key]:>5d}" for key, _ in _COUNTS)
    tps = f"{texts_per_sentence:>7.2f}" if texts_per_sentence is not None else f"{'-':>7}"
    return f"{set_name:<20} {system:<18} {cols} {counts} {scores['gold_null']:>5d} {tps}"


def print_set(title: str, runs: dict[str, SystemRun], echo: Echo, per_doc: bool) -> dict:
    """Rows per document (optional) and the micro average; returns the micro scores."""
    totals: dict[str, dict] = {}
    if per_doc:
        names = [name for name, _, _ in next(iter(runs.values())).docs]
        for k, doc_name in enumerate(names):
            for system, run in runs.items():
                _, test, gold = run.docs[k]
                echo(table_row(doc_name, system, set_scores([(test, gold)]), None))
    for system, run in runs.items():
        totals[system] = set_scores([(t, g) for _, t, g in run.docs])
        totals[system]["texts_per_sentence"] = run.texts_per_sentence
        echo(table_row(title, system, totals[system], run.texts_per_sentence))
    return totals


def _ok(good: bool) -> str:
    return "OK" if good else "MISSED"


def print_targets(label: str, totals: dict, loco: float, echo: Echo) -> None:
    """Issue 9's "Done when" lines for MAC-Dev."""
    ours, peer = totals[OURS], totals.get(BERTALIGN)
    if peer is not None:
        good = ours["ae_f1"] >= TARGET_F1 and ours["ae_f1"] >= peer["ae_f1"] + TARGET_MARGIN
        echo(
            f"{label}: AE strict F1 ours {ours['ae_f1']:.3f}, bertalign {peer['ae_f1']:.3f}: "
            f"ours >= {TARGET_F1} and >= bertalign + {TARGET_MARGIN} {_ok(good)}"
        )
    limit = TARGET_NULL_FACTOR * ours["gold_null"]
    for system, s in totals.items():
        line = f"{label}: wrong 0-1/1-0 {system} {s['wrong_null']} "
        line += f"({s['wrong_01']} 0-1, {s['wrong_10']} 1-0; gold has {s['gold_null']})"
        if system == OURS:
            line += f": <= {TARGET_NULL_FACTOR} x {s['gold_null']} = {limit} "
            line += _ok(s["wrong_null"] <= limit)
        echo(line)
    echo(f"{label}: leave-one-chapter-out AE strict F1 of ours: {loco:.3f}")


def loco_figure(mac_dir: Path, encoder: Encoder) -> float:
    """Leave-one-chapter-out AE strict F1 of ours on MAC-Dev: settings chosen on five
    chapters from ``benchmarks.select_aligner.GRID``, scored on the sixth (issue 9, item 3).
    """
    from benchmarks.select_aligner import loco_f1

    return loco_f1(mac_dir, encoder)
