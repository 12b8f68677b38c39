"""End-to-end benchmark: builds of a synthetic archive by each engine, one process each."""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.common import ChildFailed, Echo, last_json, rss_mb, run_child

# --- 5. end to end on a synthetic archive ------------------------------------------------


def e2e_child(argv: list[str] | None = None) -> None:
    """Runs in a subprocess: one build of an archive, one JSON line of figures.

    Its own process so the peak RSS is this build's (driver only; pool workers and
    Ray workers are separate processes, reported by ``ru_maxrss`` of children)."""
    from pipeline.runner import BuildOptions, build_corpus

    raw, out, cache, engine, workers = (argv or sys.argv[1:])[:5]
    options = BuildOptions(
        raw=Path(raw),
        out=Path(out),
        cache=Path(cache),
        engine=engine,
        workers=int(workers) if engine == "local" else None,
        show_progress=False,
        # On one machine the Ray embedding actor mostly looks vectors up in the warm
        # cache: it reserves no CPU, so `workers` align tasks run beside it, as the local
        # engine's pool workers run beside its embedding driver.
        embed_cpus=0.0,
    )
    if engine == "ray":
        from pipeline.runner.ray import start_ray

        start_ray(num_cpus=int(workers))
    t0 = time.perf_counter()
    result = build_corpus(options)
    seconds = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    stages = {s["name"]: s["seconds"] for s in result.stats["stages"]}
    print(
        json.dumps(
            {
                "seconds": seconds,
                "pairs": result.stats["aligned_pairs"] + result.stats["cached_pairs"],
                "sentences": result.stats["sentences"],
                "texts_embedded": result.stats["texts_embedded"],
                "peak_mb": rss_mb(),
                "child_peak_mb": children,
                "stages": stages,
                "overlap": result.stats.get("overlap", {}),
            }
        )
    )


def bench_e2e(
    sizes: list[int],
    configs: Callable[[int], list[tuple[str, int]]],
    raw: Path,
    timeout_s: float,
) -> list[dict]:
    """Build each archive size with each (engine, workers) from ``configs(size)``.

    The first build of each size embeds the texts the cache does not hold yet (all of
    them at the smallest size; a larger archive is prefix-stable and adds only its new
    texts) and is reported as such ("cold"); every other build starts from the embedding
    cache it left, so local and Ray runs compare on equal terms, and from an empty work
    cache, so each one really extracts, aligns and writes every pair."""
    import shutil
    import tempfile

    from benchmarks.archive import write_archive

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        base = Path(tmp)
        embed_cache = base / "embed"
        for n in sizes:
            archive = base / f"raw-{n}"
            write_archive(raw, archive, n)
            runs = list(configs(n))
            if runs:  # this size's new texts: embedded by an extra run, shown as "cold"
                cold = next((r for r in reversed(runs) if r[0] == "local"), runs[-1])
                runs = [(cold[0] + " cold", cold[1]), *runs]
            for label, workers in runs:
                engine = label.split()[0]
                run = base / f"run-{n}-{label.replace(' ', '-')}-{workers}"
                (run / "cache").mkdir(parents=True)
                if embed_cache.exists():
                    shutil.copytree(embed_cache, run / "cache" / "embed")
                cmd = [sys.executable, "-c", "from benchmarks.e2e import e2e_child; e2e_child()"]
                cmd += [str(archive), str(run / "out"), str(run / "cache"), engine, str(workers)]
                row: dict = {"pairs": n, "engine": label, "workers": workers}
                try:
                    _, stdout = run_child(cmd, timeout_s)
                except ChildFailed as failed:
                    rows.append({**row, "error": str(failed)})
                    continue
                figures = last_json(stdout)
                shutil.rmtree(embed_cache, ignore_errors=True)
                shutil.copytree(run / "cache" / "embed", embed_cache)
                shutil.rmtree(run, ignore_errors=True)
                rows.append({**row, **figures})
    return rows


def print_e2e(rows: list[dict], echo: Echo) -> None:
    echo("== end to end: synthetic archive (benchmarks.archive), warm embedding cache ==")
    echo(
        f"{'pairs':>6} {'engine':<10} {'workers':>7} {'seconds':>8} {'docs/s':>7} "
        f"{'sents/s':>8} {'ms/doc':>7} {'peak_mb':>8} {'child_mb':>8} {'embedded':>8}"
    )
    for r in rows:
        head = f"{r['pairs']:>6} {r['engine']:<10} {r['workers']:>7}"
        if "error" in r:
            echo(f"{head} {r['error']}")
            continue
        s = max(r["seconds"], 1e-9)
        echo(
            f"{head} {s:>8.1f} {r['pairs'] / s:>7.2f} {r['sentences'] / s:>8.0f} "
            f"{1000 * s / max(r['pairs'], 1):>7.0f} {r['peak_mb']:>8.0f} "
            f"{r['child_peak_mb']:>8.0f} {r['texts_embedded']:>8}"
        )
    echo("per stage, documents/s (stage seconds summed over workers):")
    for r in rows:
        if "error" in r:
            continue
        parts = " ".join(
            f"{name}={r['pairs'] / sec:.1f}" if sec > 0 else f"{name}=-"
            for name, sec in r["stages"].items()
            if name not in ("pair", "chunk")
        )
        echo(f"  {r['pairs']:>6} {r['engine']:<10} w{r['workers']}: {parts}")
    echo("stage overlap, wall seconds (embed busy, align busy, both at once):")
    for r in rows:
        if "error" in r or not r.get("overlap"):
            continue
        o = r["overlap"]
        echo(
            f"  {r['pairs']:>6} {r['engine']:<10} w{r['workers']}: embed={o['embed_s']:.1f} "
            f"align={o['align_s']:.1f} both={o['embed_and_align_s']:.1f}"
        )
