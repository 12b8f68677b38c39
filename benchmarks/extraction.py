"""Extraction's speed (issue 19): ms per seed document, and seconds per MB of long text.

Two figures, each against its target: the mean time to extract each seed (a document of
a few pages, target at most ``TARGET_MS_PER_DOC``), and the time on resolution-like texts
of growing size made from a seed (``benchmarks.resolution_text``), with seconds per MB
so that linearity shows (target: ``TARGET_BIG_MB`` MB in under ``TARGET_BIG_S`` s). Each
long text is extracted in its own subprocess under the bench's timeout, so a regression
to quadratic time shows as a timeout instead of stalling the bench.

``clean_inline`` and ``plain`` (pipeline.text.normalize) are memoised; the memo is cleared
before each timed repeat, so a repeat pays what a new document pays.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from benchmarks.common import ChildFailed, Echo, last_json, rss_mb, run_child

TARGET_MS_PER_DOC = 10.0
TARGET_BIG_MB = 5.0
TARGET_BIG_S = 10.0
MB = 1 << 20
#: The seed the long texts repeat (English A/RES/78/43, one chunk per paragraph).
LONG_SEED = "000_0efcbe69a8e200e4.txt"


def _extract_once(text: str, name: str) -> float:
    """Seconds of one cold extraction of ``text`` (the cleaning memo emptied first)."""
    from pipeline.extract import parse_document
    from pipeline.text.normalize import clear_memo

    clear_memo()
    t0 = time.perf_counter()
    parse_document(text, name, "0" * 64)
    return time.perf_counter() - t0


def bench_seeds(raw: Path, repeats: int) -> list[dict]:
    """Mean and best milliseconds per extraction of each seed, after one warm-up each."""
    rows = []
    for path in sorted(p for p in raw.iterdir() if p.is_file() and not p.name.startswith(".")):
        text = path.read_text(encoding="utf-8")
        _extract_once(text, path.name)  # warm-up: imports, compiled patterns
        times = [_extract_once(text, path.name) for _ in range(repeats)]
        rows.append(
            {"seed": path.name, "ms": 1000 * sum(times) / len(times), "best_ms": 1000 * min(times)}
        )
    return rows


def extraction_child(argv: list[str] | None = None) -> None:
    """Runs in a subprocess: one long text (seed path, MB), one JSON line of figures."""
    from benchmarks.resolution_text import resolution_text

    seed, size_mb = (argv or sys.argv[1:])[:2]
    text = resolution_text(Path(seed).read_text(encoding="utf-8"), int(float(size_mb) * MB))
    _extract_once(Path(seed).read_text(encoding="utf-8"), "warm-up")
    seconds = _extract_once(text, "long")
    size = len(text.encode("utf-8")) / MB
    print(json.dumps({"mb": size, "seconds": seconds, "peak_mb": rss_mb()}))


def bench_long(raw: Path, sizes_mb: list[float], timeout_s: float) -> list[dict]:
    """Seconds to extract a resolution-like text of each size, one process each."""
    rows = []
    cmd = [sys.executable, "-c", "from benchmarks.extraction import extraction_child as c; c()"]
    for size in sizes_mb:
        row: dict = {"target_mb": size}
        try:
            _, stdout = run_child([*cmd, str(raw / LONG_SEED), str(size)], timeout_s)
        except ChildFailed as failed:
            rows.append({**row, "error": str(failed)})
            continue
        rows.append({**row, **last_json(stdout)})
    return rows


def bench_extraction(raw: Path, sizes_mb: list[float], repeats: int, timeout_s: float) -> dict:
    return {
        "repeats": repeats,
        "seeds": bench_seeds(raw, repeats),
        "long": bench_long(raw, sizes_mb, timeout_s),
    }


def _ok(good: bool) -> str:
    return "OK" if good else "FAIL"


def print_extraction(result: dict, echo: Echo) -> None:
    echo(f"== extraction: seeds (mean of {result['repeats']} cold runs) and long texts ==")
    echo(f"{'seed':<28} {'ms/doc':>7} {'best_ms':>8}")
    for r in result["seeds"]:
        echo(f"{r['seed']:<28} {r['ms']:>7.1f} {r['best_ms']:>8.1f}")
    if result["seeds"]:
        worst = max(r["ms"] for r in result["seeds"])
        verdict = _ok(worst <= TARGET_MS_PER_DOC)
        echo(f"slowest seed: {worst:.1f} ms (target <= {TARGET_MS_PER_DOC:.0f} ms) {verdict}")
    if not result["long"]:
        return
    echo(f"resolution-like texts made from {LONG_SEED}:")
    echo(f"{'size_mb':>7} {'seconds':>8} {'s/MB':>6} {'peak_mb':>8}")
    for r in result["long"]:
        if "error" in r:
            echo(f"{r['target_mb']:>7.2f} {r['error']}")
            continue
        rate = r["seconds"] / r["mb"]
        echo(f"{r['mb']:>7.2f} {r['seconds']:>8.2f} {rate:>6.2f} {r['peak_mb']:>8.0f}")
    big = [r for r in result["long"] if r["target_mb"] == TARGET_BIG_MB]
    if big:
        r = big[0]
        good = "error" not in r and r["seconds"] < TARGET_BIG_S
        seconds = r.get("error") or f"{r['seconds']:.2f} s"
        echo(f"{TARGET_BIG_MB:.0f} MB: {seconds} (target < {TARGET_BIG_S:.0f} s) {_ok(good)}")
