"""The pool's fork server warms every parallel stage once, so workers forked from it
start with the aligner's kernels and jieba's dictionary loaded (issue 19)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

from pipeline.runner.preload import parallel_stages

_PROBE = """
import jieba
import pipeline.align.kernels as kernels
import pipeline.runner.preload
loaded = [n for n, v in vars(kernels).items() if getattr(v, "signatures", None)]
print(jieba.dt.initialized, len(loaded))
"""


def test_the_warmed_stages_are_the_pools() -> None:
    assert [s.name for s in parallel_stages()] == ["read", "segment", "align", "decide"]


def test_importing_the_preload_warms_the_kernels_and_jieba() -> None:
    """What a worker inherits: in a fresh interpreter, importing the module the fork
    server preloads leaves jieba initialised and the aligner's kernels compiled."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO, capture_output=True, text=True, check=True
    )
    initialized, kernels = done.stdout.split()
    assert initialized == "True"
    assert int(kernels) >= 6


def test_a_pool_worker_is_forked_from_the_warm_server() -> None:
    """A worker of the pool engine has nothing left to warm: its first token count does
    not load jieba's dictionary."""
    from pipeline.runner.pool import worker_context

    context = worker_context()
    assert context.get_start_method() == "forkserver"
    with context.Pool(1) as pool:
        assert pool.apply(_jieba_ready) is True


def _jieba_ready() -> bool:
    import jieba

    return bool(jieba.dt.initialized)


def test_only_a_build_with_no_finished_alignment_warms_its_workers(tmp_path: Path) -> None:
    """A rebuild whose work cache holds alignments is likely to align nothing: its fork
    server only imports the stages, so its reading does not wait for a warm-up."""
    from pipeline.runner import BuildOptions
    from pipeline.runner.driver import _aligns_everything

    options = BuildOptions(raw=tmp_path / "raw", out=tmp_path / "out", cache=tmp_path / "c")
    assert _aligns_everything(options)  # no cache at all
    work = tmp_path / "c" / "work"
    work.mkdir(parents=True)
    assert _aligns_everything(options)
    (work / "abc.json").write_text("{}", encoding="utf-8")
    assert not _aligns_everything(options)
