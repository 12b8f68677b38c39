"""Lineage detection at archive scale (issue 20): `make bench`'s "lineages" section.

A synthetic archive of N documents (20,000 by default) made from the seeds and the
tests/fixtures documents, in many distinct lineages:

* a lineage takes one base document (cycled through the 12 real ones, English and
  Chinese) and gives it a vocabulary of its own: each distinct word (English) or Han
  character (Chinese) is replaced, with probability ``SHIFT``, by a pseudo-word or
  another character fixed for that lineage; every word of the title is (distinct
  resolutions have distinct titles; the Security Council base has none). Two lineages
  made from the same base share only about 2-5% of their three-word shingles, as
  unrelated resolutions do;
* its members (1 to ``MAX_MEMBERS``, about 8 on average) are renewals: their own session
  and symbol, each block dropped with probability ``DROP_BLOCK``, a share ``EDIT_WORDS``
  of words replaced at random (shingle similarity about 0.7-0.9 to each other, as the
  seeds' renewals measure).

Measured as the build does it: each document's signature in a pool of worker processes
(the read stage's job), then the clustering at the barrier in this process. ``seconds``
is the signature time summed over the calls and divided by the workers (making the
synthetic documents is not the build's work and is not counted) plus the clustering's
wall time; ``pool_wall_s`` is the pool's wall time with the documents' making included.
Each run happens in a child process, so its peak memory (``VmHWM``) is the detection's
own. The lineages found are compared with the lineages made (a split lineage is a
renewal whose text fell below the threshold to every other member and which has no
title to join by; a merged one two lineages taken for one).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import multiprocessing
import random
import re
import subprocess
import sys
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import Echo, rss_mb

#: The base documents: the four seeds and one converter's output of each fixture.
FIXTURES = Path("tests/fixtures/un")
FIXTURE_FILES = [
    f"{s}_{lang}.docx" for s in ("ga_res", "ga_draft", "ga_dec", "sc_res") for lang in ("en", "zh")
]
#: Share of a lineage's distinct words (characters) replaced by its own vocabulary.
SHIFT = 0.45
#: Share of a member's words replaced at random, and of its blocks dropped.
EDIT_WORDS = 0.02
DROP_BLOCK = 0.03
MAX_MEMBERS = 30
#: Target from issue 20.
TARGET_SECONDS = 60.0
_WORD_RE = re.compile(r"[A-Za-z]+|[\u4e00-\u9fff]")


@functools.lru_cache(maxsize=1)
def base_documents(raw: str = "data/raw") -> tuple[Any, ...]:
    """The real documents the archive is made from (extracted once per process)."""
    from pipeline.extract import extract_file

    paths = sorted(Path(raw).iterdir()) + [FIXTURES / name for name in FIXTURE_FILES]
    return tuple(extract_file(path) for path in paths)


def lineage_sizes(documents: int, seed: int = 0) -> list[int]:
    """Members per lineage, 1 to ``MAX_MEMBERS`` (about 8 on average), summing to
    ``documents``."""
    rng = random.Random(f"sizes:{seed}")
    sizes: list[int] = []
    while sum(sizes) < documents:
        sizes.append(min(MAX_MEMBERS, 1 + int(rng.expovariate(1 / 7))))
    sizes[-1] -= sum(sizes) - documents
    return sizes


def _pseudo(token: str, salt: str) -> str:
    """A replacement for ``token``, fixed for ``salt``: a pseudo-word or a Han character."""
    number = zlib.crc32(f"{salt}:{token}".encode())
    if "\u4e00" <= token <= "\u9fff":
        return chr(0x4E00 + number % 20_000)
    return "".join(
        "bcdfghjklmnpqrstvwxz"[(number >> (5 * k)) % 20] + "aeiou"[k % 5] for k in range(3)
    )


def _shift(text: str, lineage: int, seed: int, share: float = SHIFT) -> str:
    """``text`` in lineage ``lineage``'s vocabulary (``share`` of its words replaced)."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if zlib.crc32(f"{seed}:{lineage}:pick:{token.lower()}".encode()) % 1000 < share * 1000:
            return _pseudo(token.lower(), f"{seed}:{lineage}")
        return token

    return _WORD_RE.sub(replace, text)


def make_document(lineage: int, member: int, seed: int = 0) -> Any:
    """Member ``member`` of lineage ``lineage`` (pure: the same arguments, the same text)."""

    bases = base_documents()
    base = bases[lineage % len(bases)]
    rng = random.Random(f"{seed}:{lineage}:{member}")
    blocks = []
    for block in base.blocks:
        if rng.random() < DROP_BLOCK:
            continue
        text = _shift(block.text, lineage, seed)
        words = text.split(" ")
        for k in range(len(words)):
            if rng.random() < EDIT_WORDS:
                words[k] = _pseudo(f"{member}:{k}", f"edit:{lineage}")
        blocks.append(dataclasses.replace(block, text=" ".join(words)))
    session = 40 + member
    title = _shift(base.metadata.title or "", lineage, seed, share=1.0) or None
    metadata = dataclasses.replace(base.metadata, session=session, title=title)
    symbol = f"A/RES/{session}/{lineage + 1}"
    name = f"{symbol.replace('/', '-')}.{base.language}.txt"
    return dataclasses.replace(
        base, symbol=symbol, source_file=name, metadata=metadata, blocks=blocks
    )


def _signatures(task: tuple[int, list[tuple[int, int]]]) -> tuple[list[Any], float]:
    """A worker's share: signatures of (lineage, member) documents, and the seconds spent
    in ``document_signature`` alone (making the documents is not the build's work)."""
    from pipeline.corpus.lineage import document_signature

    seed, items = task
    signatures, seconds = [], 0.0
    for lineage, member in items:
        document = make_document(lineage, member, seed)
        started = time.perf_counter()
        signatures.append(document_signature(document))
        seconds += time.perf_counter() - started
    return signatures, seconds


def _worker_peak(_: int) -> float:
    time.sleep(0.2)  # one call per worker: each sleeps while the others are asked
    return rss_mb()


def measure(documents: int, workers: int, seed: int = 0) -> dict[str, Any]:
    """Signatures in ``workers`` processes, then the clustering here (in a child
    process started by :func:`bench_lineage`, so ``rss_mb`` is this run's peak)."""
    from pipeline.corpus.lineage import find_lineages

    sizes = lineage_sizes(documents, seed)
    items = [(lin, m) for lin, size in enumerate(sizes) for m in range(size)]
    tasks = [(seed, items[k : k + 200]) for k in range(0, len(items), 200)]
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    with context.Pool(workers, initializer=base_documents) as pool:
        results = pool.map(_signatures, tasks)
        worker_mb = max(pool.map(_worker_peak, range(workers)))
    pool_wall = time.perf_counter() - started
    signatures = [s for part, _ in results for s in part]
    signature_cpu = sum(seconds for _, seconds in results)
    before = rss_mb()
    started = time.perf_counter()
    found = find_lineages(signatures)
    cluster_s = time.perf_counter() - started
    made = [lin for lin, _ in items]
    return {
        "documents": len(signatures),
        "lineages_made": len(sizes),
        "lineages_found": len(found.lineages),
        **_agreement(made, found.of_signature),
        "joins": found.joins,
        "workers": workers,
        "signature_cpu_s": signature_cpu,
        "signature_s": signature_cpu / workers,
        "pool_wall_s": pool_wall,
        "cluster_s": cluster_s,
        "seconds": signature_cpu / workers + cluster_s,
        "peak_mb": rss_mb(),
        "cluster_mb": rss_mb() - before,
        "worker_peak_mb": worker_mb,
    }


def _agreement(made: list[int], found: list[str]) -> dict[str, int]:
    """Made lineages split over several found ones, found ones merging several made."""
    found_of: dict[int, set[str]] = {}
    made_of: dict[str, set[int]] = {}
    for f, m in zip(found, made, strict=True):
        found_of.setdefault(m, set()).add(f)
        made_of.setdefault(f, set()).add(m)
    return {
        "split_lineages": sum(1 for fs in found_of.values() if len(fs) > 1),
        "merged_lineages": sum(1 for ms in made_of.values() if len(ms) > 1),
        "largest_found": max(Counter(found).values()) if found else 0,
    }


def child_main(argv: list[str] | None = None) -> None:
    documents, workers = (int(x) for x in (argv or sys.argv[1:])[:2])
    print(json.dumps(measure(documents, workers)))


def bench_lineage(documents: int, workers: int = 2, timeout_s: float = 900.0) -> dict[str, Any]:
    """One measurement in a child process (its own peak memory)."""
    code = "from benchmarks.lineage import child_main; child_main()"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(documents), str(workers)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"documents": documents, "error": f"timed out after {timeout_s:.0f} s"}
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"documents": documents, "error": f"exit {done.returncode}: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_lineage(row: dict[str, Any], echo: Echo) -> None:
    echo(
        f"== lineages: synthetic archive of {row['documents']} documents (seeds and fixtures, "
        "perturbed), signatures in a pool =="
    )
    if "error" in row:
        echo(f"{row['documents']:>9} {row['error']} MISSED")
        return
    echo(
        f"{'documents':>9} {'made':>6} {'found':>6} {'split':>5} {'merged':>6} {'sig_cpu_s':>9} "
        f"{'sig_s':>6} {'cluster_s':>9} {'seconds':>7} {'pool_wall_s':>11} {'peak_mb':>7} "
        f"{'worker_mb':>9}"
    )
    echo(
        f"{row['documents']:>9} {row['lineages_made']:>6} {row['lineages_found']:>6} "
        f"{row['split_lineages']:>5} {row['merged_lineages']:>6} {row['signature_cpu_s']:>9.2f} "
        f"{row['signature_s']:>6.2f} {row['cluster_s']:>9.2f} {row['seconds']:>7.2f} "
        f"{row['pool_wall_s']:>11.2f} {row['peak_mb']:>7.0f} {row['worker_peak_mb']:>9.0f}"
    )
    ok = row["seconds"] < TARGET_SECONDS
    echo(
        f"lineage detection at {row['documents']} documents on {row['workers']} cores: "
        f"{row['seconds']:.1f} s (target < {TARGET_SECONDS:.0f} s) {'OK' if ok else 'MISSED'}"
    )
    echo(
        f"lineages made {row['lineages_made']}, found {row['lineages_found']}: "
        f"{row['split_lineages']} split (a renewal below the text threshold to every other "
        f"member, and no title), {row['merged_lineages']} merged; joins {row['joins']}"
    )


if __name__ == "__main__":  # python -m benchmarks.lineage [DOCUMENTS [WORKERS]]
    args = sys.argv[1:] or ["20000"]
    print_lineage(bench_lineage(int(args[0]), int(args[1]) if len(args) > 1 else 2), print)
