"""`python -m pipeline build`: raw documents in, a trustworthy corpus folder out.

The build is a chain of stages (see ``pipeline.runner.stage``)::

    read -> pair -> chunk -> segment -> embed -> align -> decide -> write

* read: every file under ``--raw`` becomes a Document or a listed rejection (spooled
  to disk; pairing holds stubs).
* pair: English and Chinese documents matched by symbol (a barrier: needs them all).
* chunk, segment, embed: every 16 pairs are split into sentences in a worker, then
  their texts embedded in one encoder call into the shared embedding cache, in a fixed
  order (``pipeline.runner.stages.embed`` says why).
* align: sentence and paragraph alignment of each pair; the expensive part, so its
  result is kept in a work cache keyed by both source sha256s (and the documents as
  extracted), the model, the aligner parameters and the tool version.
  A rebuild after adding one document embeds and aligns only that document.
* decide: dataset rows are built and the filters applied (OpusFilter style: scores stay
  in the data, thresholds only decide where a row goes: corpus or rejects).
* write: Parquet, rejects, TMX, Moses and report.html, streamed one document at a time.

Atomic: everything is written into a temporary folder beside ``--out`` and swapped in
at the end, so a build killed midway leaves the previous corpus as it was; its finished
pairs stay in the work cache, so running it again resumes where it stopped.

Engines (``--engine``, ``--workers``): in this process, a local process pool, or Ray
Data; see ``make_engine``. The corpus is the same, byte for byte, from each.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.runner.driver import build_corpus
    from pipeline.runner.options import BuildOptions, BuildResult
    from pipeline.runner.output import BuildError, recover_output

__all__ = ["BuildError", "BuildOptions", "BuildResult", "build_corpus", "recover_output"]

#: Where each public name lives. Imported on first use (PEP 562): a pool worker that
#: unpickles the read stage imports ``pipeline.runner.stages.read`` and what it needs,
#: not the driver with pyarrow and the report (0.4 s a worker, before its first file).
_HOMES = {
    "build_corpus": "pipeline.runner.driver",
    "BuildOptions": "pipeline.runner.options",
    "BuildResult": "pipeline.runner.options",
    "BuildError": "pipeline.runner.output",
    "recover_output": "pipeline.runner.output",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
