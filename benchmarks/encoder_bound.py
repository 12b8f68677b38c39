"""Encoder-bound benchmark: a cold build beside the encoder alone on the same texts.

The encoder is the one cost a build cannot avoid; on a GPU it gets 10-50x faster and what
is left becomes the bound. So the build's own cost is measured where no cache can hide it:
an archive made from the seed pair with a distinct number in every paragraph
(``benchmarks.archive.make_distinct``), built cold in a fresh process, beside a second
fresh process that only loads the same encoder and embeds the very texts the build asked
for, in the very batches it asked for them (recorded by a third run on the warm cache,
untimed). Both are timed from process start to exit, model load included, so the ratio
is what a user waits beyond the encoder.

From the measured per-stage rates it projects the UN archive (95,000 pairs, each about
4.6x the seed pair's text) on one 2-core machine and on a GPU cluster; the GPU figure
uses an *assumed* encoder speed-up unless one was measured.
"""

from __future__ import annotations

import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ChildFailed, Echo, last_json, run_child

#: The UN archive the projection is for: pairs, and its text per pair over the seed pair's.
ARCHIVE_PAIRS = 95_000
ARCHIVE_SIZE_FACTOR = 4.6
#: Assumed GPU speed-up of the encoder over this machine's CPU (the issue's 10-50x, middle).
ASSUMED_GPU_SPEEDUP = 30.0
RATIO_TARGET = 1.3
ALIGN_MS_TARGET = 20.0
#: Stage seconds that are not CPU work of their own (waits and bookkeeping).
_SKIP_STAGES = ("pair", "chunk")


def build_child(argv: list[str] | None = None) -> None:
    """Subprocess: one cold local build; prints one JSON line (stats and CPU seconds)."""
    from pipeline.runner import BuildOptions, build_corpus

    raw, out, cache, workers = (argv or sys.argv[1:])[:4]
    result = build_corpus(
        BuildOptions(
            raw=Path(raw), out=Path(out), cache=Path(cache), workers=int(workers),
            show_progress=False,
        )
    )
    stats = result.stats
    _stop_fork_server()  # its workers' CPU reaches this process's children once it is reaped
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    print(json.dumps({"stats": stats, "cpu_s": cpu}))


def _stop_fork_server() -> None:
    """End the pool's fork server (``pipeline.runner.pool``) and reap it. The workers are
    its children, not this process's: their CPU seconds count in RUSAGE_CHILDREN only
    once the server that reaped them is reaped in turn. Private to multiprocessing, so
    guarded: without it the CPU figure misses the workers."""
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        stop()


def record_child(argv: list[str] | None = None) -> None:
    """Subprocess: the build again on the warm embedding cache with an empty work cache,
    recording each encoder call's texts (served from the cache: no model loads). Prints
    the calls as one JSON list of lists."""
    import pipeline.embed as embed
    from pipeline.runner import BuildOptions, build_corpus

    raw, out, cache = (argv or sys.argv[1:])[:3]
    calls: list[list[str]] = []
    real_load = embed.load_encoder

    class Recording:
        def __init__(self, inner):  # noqa: ANN001 - any Encoder
            self.inner = inner

        def __getattr__(self, name: str):  # noqa: ANN204 - the wrapped encoder's attributes
            return getattr(self.inner, name)

        def encode(self, texts: list[str]):  # noqa: ANN201 - np.ndarray
            calls.append(list(texts))
            return self.inner.encode(texts)

    embed.load_encoder = lambda *a, **k: Recording(real_load(*a, **k))  # type: ignore[assignment]
    build_corpus(BuildOptions(raw=Path(raw), out=Path(out), cache=Path(cache), workers=1,
                              show_progress=False))
    print(json.dumps(calls, ensure_ascii=False))


def encoder_child(argv: list[str] | None = None) -> None:
    """Subprocess: load the default encoder and embed the recorded calls, nothing else."""
    from pipeline.embed import load_encoder
    from pipeline.runner import BuildOptions

    calls = json.loads(Path((argv or sys.argv[1:])[0]).read_text(encoding="utf-8"))
    encoder = load_encoder(BuildOptions(raw=Path("."), out=Path(".")).model)
    for texts in calls:
        encoder.encode(texts)


def _run(code: str, args: list[str], timeout_s: float) -> tuple[float, str]:
    """``python -c code args`` in a fresh process (``benchmarks.common.run_child``)."""
    return run_child([sys.executable, "-c", code, *args], timeout_s)


def bench_encoder_bound(sizes: list[int], raw: Path, workers: int, timeout_s: float) -> list[dict]:
    """One row per archive size: cold build, encoder alone, their ratio, stage seconds."""
    from benchmarks.archive import write_archive

    rows = []
    if sizes:  # numba compiles the kernels once per machine (a fresh clone): not timed
        _run("from pipeline.align.search import load_kernels; load_kernels()", [], timeout_s)
    for n in sizes:
        row: dict = {"pairs": n, "workers": workers}
        with tempfile.TemporaryDirectory(prefix="bench-encoder-bound-") as tmp:
            base = Path(tmp)
            archive = base / "raw"
            write_archive(raw, archive, n, distinct=True)
            try:
                build_s, out = _run(
                    "from benchmarks.encoder_bound import build_child; build_child()",
                    [str(archive), str(base / "out"), str(base / "cache"), str(workers)],
                    timeout_s,
                )
                shutil.rmtree(base / "cache" / "work")
                _, recorded = _run(
                    "from benchmarks.encoder_bound import record_child; record_child()",
                    [str(archive), str(base / "out2"), str(base / "cache")],
                    timeout_s,
                )
                calls = base / "calls.json"
                recorded_calls = json.dumps(last_json(recorded), ensure_ascii=False)
                calls.write_text(recorded_calls, encoding="utf-8")
                encoder_s, _ = _run(
                    "from benchmarks.encoder_bound import encoder_child; encoder_child()",
                    [str(calls)],
                    timeout_s,
                )
            except ChildFailed as failed:
                rows.append({**row, "error": str(failed)})
                continue
            figures = last_json(out)
            texts = sum(len(c) for c in json.loads(calls.read_text(encoding="utf-8")))
        stats = figures["stats"]
        rows.append({
            **row,
            "build_s": build_s,
            "encoder_s": encoder_s,
            "ratio": build_s / max(encoder_s, 1e-9),
            "cpu_s": figures["cpu_s"],
            "texts": texts,
            "texts_embedded": stats["texts_embedded"],
            "sentences": stats["sentences"],
            "stages": {s["name"]: s["seconds"] for s in stats["stages"]},
            "cpu_stages": {s["name"]: s["cpu_seconds"] for s in stats["stages"]},
            "timings": {s["name"]: s.get("timings", {}) for s in stats["stages"]},
            "aligned_pairs": stats["aligned_pairs"],
        })
    return rows


def _projection(row: dict, gpu_speedup: float, measured_gpu: bool) -> list[str]:
    """The UN archive from this row's per-pair rates (linear in text size)."""
    scale = ARCHIVE_PAIRS * ARCHIVE_SIZE_FACTOR / row["pairs"]
    # CPU seconds, not wall: the workers run below the encoder's priority, so their wall
    # time holds the waits for a core the encoder had.
    cpu_stages = {
        k: v for k, v in row["cpu_stages"].items() if k not in (*_SKIP_STAGES, "embed")
    }
    cpu_s = sum(cpu_stages.values()) * scale
    encode_s = row["stages"].get("embed", 0.0) * scale
    laptop_days = row["build_s"] * scale / 86_400
    gpu_s = encode_s / gpu_speedup
    cores = cpu_s / max(gpu_s, 1e-9)
    label = "measured" if measured_gpu else "ASSUMED"
    return [
        f"  UN archive ({ARCHIVE_PAIRS:,} pairs x {ARCHIVE_SIZE_FACTOR} the seed pair's text), "
        f"from the {row['pairs']}-pair rates:",
        f"    one 2-core machine: {laptop_days:.1f} days (encoder {encode_s / 86_400:.1f} "
        f"days, other stages {cpu_s / 86_400:.1f} CPU-days)",
        f"    GPU cluster, encoder {gpu_speedup:.0f}x this CPU ({label}): one GPU embeds it "
        f"in {gpu_s / 3600:.1f} h; the CPU stages need {cores:.0f} cores to keep pace "
        f"({cpu_s / 3600:.0f} CPU-hours)",
    ]


def print_encoder_bound(
    rows: list[dict], echo: Echo, gpu_speedup: float = ASSUMED_GPU_SPEEDUP,
    measured_gpu: bool = False,
) -> None:
    echo("== encoder-bound: distinct-text archive (benchmarks.archive, distinct=True), cold ==")
    echo(
        f"{'pairs':>6} {'texts':>7} {'build_s':>8} {'encoder_s':>9} {'ratio':>6} "
        f"{'cpu_s':>7} {'stage_align_ms/pair':>19}"
    )
    for r in rows:
        if "error" in r:
            echo(f"{r['pairs']:>6} {r['error']}")
            continue
        align_ms = 1000 * r["stages"].get("align", 0.0) / max(r["aligned_pairs"], 1)
        ok = "OK" if r["ratio"] <= RATIO_TARGET else "FAIL"
        echo(
            f"{r['pairs']:>6} {r['texts']:>7} {r['build_s']:>8.1f} {r['encoder_s']:>9.1f} "
            f"{r['ratio']:>6.2f} {r['cpu_s']:>7.1f} {align_ms:>19.1f}   ratio<={RATIO_TARGET} {ok}"
        )
    echo(
        "stage_align_ms/pair: the align stage's seconds per pair inside the build, where it"
        " shares 2 cores with the encoder; the align-alone figure follows below."
    )
    echo(
        "stage seconds, wall / CPU (summed over workers; the workers run below the"
        " encoder's priority, so wall holds waits; embed's CPU is its thread's, the"
        " encoder works on threads of its own):"
    )
    for r in rows:
        if "error" in r:
            continue
        parts = " ".join(
            f"{k}={v:.2f}/{r['cpu_stages'].get(k, 0.0):.2f}"
            for k, v in r["stages"].items()
            if k not in _SKIP_STAGES
        )
        echo(f"  {r['pairs']:>6}: {parts}")
    done = [r for r in rows if "error" not in r]
    if done:
        for line in _projection(max(done, key=lambda r: r["pairs"]), gpu_speedup, measured_gpu):
            echo(line)


def align_child(argv: list[str] | None = None) -> None:
    """Subprocess: ms per ``align_planned_pair`` of the seed pair with every vector in
    memory (what the align stage runs per pair), after one warm-up call; one JSON line."""
    import tempfile as _tempfile

    from pipeline.align import AlignParams
    from pipeline.align.document import align_planned_pair
    from pipeline.blas import threadpool_limits
    from pipeline.embed import load_encoder
    from pipeline.extract import extract_folder
    from pipeline.pair import pair_documents
    from pipeline.runner.stages.embed import plan_chunk

    raw, repeats = (argv or sys.argv[1:])[:2]
    pairs = pair_documents(extract_folder(Path(raw)).documents).pairs
    params = AlignParams()
    with _tempfile.TemporaryDirectory() as cache:
        encoder = load_encoder("use-m", cache_dir=Path(cache))
        planned, _ = plan_chunk(pairs, [True] * len(pairs), encoder, params)
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):  # as the align stage runs it
        for p in planned:
            vectors = p.vectors()
            align_planned_pair(p.pair, p.sentences, p.plan, vectors, params)  # compile/warm
            started = time.perf_counter()
            for _ in range(int(repeats)):
                align_planned_pair(p.pair, p.sentences, p.plan, vectors, params)
            ms = 1000 * (time.perf_counter() - started) / int(repeats)
            sentences = len(p.sentences[0]) + len(p.sentences[1])
            rows.append({"symbol": p.pair.symbol, "sentences": sentences, "ms": ms})
    print(json.dumps(rows))


def bench_align_per_pair(raw: Path, repeats: int, timeout_s: float) -> list[dict]:
    """Align time per real pair of ``raw`` (the seeds: 75/58, 81 sentences)."""
    try:
        _, out = _run(
            "from benchmarks.encoder_bound import align_child; align_child()",
            [str(raw), str(repeats)],
            timeout_s,
        )
    except ChildFailed as failed:
        return [{"error": str(failed)}]
    return last_json(out)


def print_align_per_pair(rows: list[dict], echo: Echo) -> None:
    echo("align per pair, vectors in memory (align_planned_pair, what the align stage runs):")
    for r in rows:
        if "error" in r:
            echo(f"  {r['error']}")
            continue
        ok = "OK" if r["ms"] <= ALIGN_MS_TARGET else "FAIL"
        echo(
            f"  {r['symbol']}: {r['sentences']} sentences, {r['ms']:.1f} ms "
            f"(<= {ALIGN_MS_TARGET:.0f} ms {ok})"
        )
