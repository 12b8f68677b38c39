"""A cold build loads its model while documents are read; any other build loads it only
when a text is missing from the embedding cache (pipeline.runner.stages.embed.prepare)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pipeline.align import AlignParams
from pipeline.embed import LazyEncoder
from pipeline.embed.base import EncoderError
from pipeline.runner.configs import EmbedConfig, EncoderConfig
from pipeline.runner.stages.embed import EmbedStage


def _stage(cache: Path) -> EmbedStage:
    return EmbedStage(EmbedConfig(EncoderConfig("use-m"), cache, AlignParams()))


def _wait_loaded(lazy: LazyEncoder, timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not lazy.loaded and time.monotonic() < deadline:
        time.sleep(0.05)
    return lazy.loaded


def test_a_cold_cache_loads_the_model_before_any_text(tmp_path: Path) -> None:
    stage = _stage(tmp_path / "embed")
    stage.prepare()
    lazy = stage.encoder.inner
    assert isinstance(lazy, LazyEncoder)
    assert _wait_loaded(lazy)  # no encode call: the preload loaded it
    assert lazy.load_seconds > 0
    vectors = stage.encoder.encode(["General Assembly", "大会"])
    assert vectors.shape == (2, 512)


def test_a_cache_holding_the_models_vectors_loads_nothing(tmp_path: Path) -> None:
    first = _stage(tmp_path / "embed")
    first.prepare()
    first.encoder.encode(["General Assembly"])  # the cache now holds a vector of use-m
    second = _stage(tmp_path / "embed")
    second.prepare()
    time.sleep(0.5)
    assert not second.encoder.inner.loaded
    second.encoder.encode(["General Assembly"])  # from the cache: still no model
    assert not second.encoder.inner.loaded


def test_encode_waits_for_a_preload_and_the_model_loads_once() -> None:
    loads: list[float] = []
    release = threading.Event()

    def slow_load():  # noqa: ANN202 - a stand-in model: the lock is what is tested
        release.wait(5)
        loads.append(time.monotonic())
        return "model"

    lazy = LazyEncoder("use-m", slow_load)  # type: ignore[arg-type]
    lazy.preload()
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(lazy.inner))
    waiter.start()
    time.sleep(0.2)
    assert not got  # inner waits for the load in progress
    release.set()
    waiter.join(5)
    assert got == ["model"] and len(loads) == 1 and lazy.wait_seconds >= 0.2


def test_a_failed_preload_fails_the_first_use_with_its_error() -> None:
    def broken():  # noqa: ANN202
        raise EncoderError("use-m", "weights missing")

    lazy = LazyEncoder("use-m", broken)  # type: ignore[arg-type]
    lazy.preload().join(5)
    with pytest.raises(EncoderError, match="weights missing"):
        _ = lazy.inner


def test_a_cache_that_cannot_be_opened_is_reported_where_a_text_is_embedded(
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "embed"
    blocked.write_text("a file where the cache folder goes", encoding="utf-8")
    stage = _stage(blocked)
    stage.prepare()  # a hint only: a warm rebuild that embeds nothing must go on
    assert stage.encoder is None
    with pytest.raises(EncoderError, match="cannot create cache folder"):
        stage._encoder()
