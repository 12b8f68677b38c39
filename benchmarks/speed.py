"""align-text against Bertalign end to end, same encoder, side by side (issue 9, item 4).

Both systems get the same loaded model and the same sentences (MAC-Dev chapters joined
until the pair holds at least ``--speed-sentences`` sentences on both sides together), each
behind its own cold in-memory memo, so each embeds what it asks for once: the time is
encoding plus aligning, model loading excluded. Both first align the other MAC-Dev
chapters, untimed, so numba's compilation and loading of both systems' kernels (cached on
disk by numba after the first bench) and our lazy set-up are not timed: the figures are
what each further document costs a process, as in a corpus build.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from benchmarks.baselines import MemoEncoder
from benchmarks.common import Echo
from benchmarks.quality import BERTALIGN, OURS, Aligner, Doc
from benchmarks.scoring import aligner_eval_strict
from pipeline.embed import Encoder

#: Issue 9: align-text at least 2x Bertalign's end-to-end speed.
TARGET_SPEEDUP = 2.0
#: Issue 9: the aligner's own time at most 5% of the encoding time, here on real text
#: (the "aligner vs encoding" section's stress document repeats its sentences, so its
#: encoding is mostly deduplicated away and the fraction there overstates it).
TARGET_FRACTION = 0.05
#: Sentences per side of the untimed warm-up pair when no other chapters are left.
WARM_UP = 400


def concat_docs(docs: Sequence[Doc], min_sentences: int) -> Doc:
    """Documents joined in order (gold indices shifted) until ``min_sentences`` in all."""
    src: list[str] = []
    tgt: list[str] = []
    gold = []
    names = []
    for doc in docs:
        if len(src) + len(tgt) >= min_sentences:
            break
        gold += [([s + len(src) for s in a], [t + len(tgt) for t in b]) for a, b in doc.gold]
        src += doc.src
        tgt += doc.tgt
        names.append(doc.name)
    return Doc("+".join(names), src, tgt, gold)


def bench_speed(
    doc: Doc, systems: dict[str, Aligner], model: Encoder, warm_up: Doc | None = None
) -> dict:
    """Seconds, texts embedded and AE strict F1 of each system on ``doc``, cold memo each.

    Warm-up, untimed: each system first aligns ``warm_up`` (other MAC-Dev chapters, no
    sentence shared with ``doc``; else the last WARM_UP sentences of each side), so what
    a process pays once (numba loading compiled kernels, jieba, the lexicon, first-touch
    memory of full-size arrays) is not charged to the timed run: the figures are what each
    further document costs, as in a corpus build. A 3-sentence warm-up never reached the
    coarse levels or the lexical kernels, and the timed run paid 0.1-0.2 s of first calls.
    """
    warm = warm_up or Doc("warm-up", doc.src[-WARM_UP:], doc.tgt[-WARM_UP:], [])
    for align in systems.values():
        align(warm.src, warm.tgt, MemoEncoder(model))
    rows = {}
    for name, align in systems.items():
        memo = MemoEncoder(model)
        t0, c0 = time.perf_counter(), time.process_time()
        beads = align(doc.src, doc.tgt, memo)
        seconds = time.perf_counter() - t0
        rows[name] = {
            "seconds": seconds,
            "cpu_s": time.process_time() - c0,
            "encode_s": memo.seconds,
            "encode_cpu_s": memo.cpu_seconds,
            "embedded": memo.encoded,
            "f1": aligner_eval_strict([(beads, doc.gold)])["f1"],
        }
    return {"pair": doc.name, "sentences": len(doc.src) + len(doc.tgt), "systems": rows}


def print_speed(result: dict, encoder_name: str, echo: Echo) -> None:
    echo(
        f"== end to end: align-text vs bertalign, {encoder_name}, cold memo each, "
        f"{result['sentences']} sentences (MAC-Dev {result['pair']}) =="
    )
    echo(
        f"{'system':<10} {'seconds':>8} {'cpu_s':>8} {'sentences/s':>11} {'texts':>7} "
        f"{'AE-F1':>6}"
    )
    n = result["sentences"]
    for name, r in result["systems"].items():
        rate = n / r["seconds"] if r["seconds"] else float("inf")
        echo(
            f"{name:<10} {r['seconds']:>8.2f} {r['cpu_s']:>8.2f} {rate:>11.1f} "
            f"{r['embedded']:>7d} {r['f1']:>6.3f}"
        )
    rows = result["systems"]
    if OURS in rows and BERTALIGN in rows:
        # Wall time on a shared machine swings with other jobs; CPU seconds (all threads
        # of this process) measure the work each system does, so both are printed.
        ratio = rows[BERTALIGN]["seconds"] / max(rows[OURS]["seconds"], 1e-9)
        cpu = rows[BERTALIGN]["cpu_s"] / max(rows[OURS]["cpu_s"], 1e-9)
        verdict = "OK" if min(ratio, cpu) >= TARGET_SPEEDUP else "MISSED"
        echo(
            f"speed-up of ours: {ratio:.2f}x wall, {cpu:.2f}x CPU "
            f"(target >= {TARGET_SPEEDUP:.0f}x on both) {verdict}"
        )
    if OURS in rows:
        echo(fraction_line(rows[OURS]))


def fraction_line(row: dict) -> str:
    """The aligner's own time (all but the encoder's) over the encoder's, wall and CPU.

    Wall time is what a user waits for, but on a shared machine other jobs stretch the
    encoder's (multi-threaded) part most and flatter the fraction; CPU seconds are steadier
    but count the encoder's threads together, which flatters it too. So both are printed
    and the target must hold on both."""
    encode_s, encode_cpu = row["encode_s"], row.get("encode_cpu_s", 0.0)
    align_s, align_cpu = row["seconds"] - encode_s, row["cpu_s"] - encode_cpu
    wall = align_s / max(encode_s, 1e-9)
    cpu = align_cpu / max(encode_cpu, 1e-9)
    verdict = "OK" if max(wall, cpu) <= TARGET_FRACTION else "MISSED"
    return (
        f"ours on real text: aligner {align_s:.2f} s wall / {align_cpu:.2f} s CPU, encoding "
        f"{encode_s:.2f} s / {encode_cpu:.2f} s: {wall:.1%} wall, {cpu:.1%} CPU "
        f"(target <= {TARGET_FRACTION:.0%} on both) {verdict}"
    )
