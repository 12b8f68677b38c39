"""The embed stage: a segmented chunk -> each pair with its sentences, plan and vectors.

Why chunks: the bundled encoder's vectors depend on the batch a text is embedded in
(flat micro-batches through BLAS; differences around 2e-7, measured), and the shared
embedding cache keeps whichever vector was stored first. If workers embedded their own
documents, the batch a text landed in would depend on which worker got there first, and
two builds of the same archive would differ in the last digits of their scores. So the
build embeds in *chunks* of pairs with fixed boundaries (pair index // chunk size, in
symbol order), one chunk after another, and hands each pair its plan and its vectors;
workers then only align. The result is the same for 1 worker, N workers or Ray, and for
a build that was interrupted and resumed.

A chunk costs two encoder calls, as ``align-text`` costs two: every sentence of its
pairs first, then the overlaps each pair's plan calls for (``pipeline.align.document.
plan_pair``: the aligner's first pass decides, once, which runs of sentences a bead can
use). Each pair then travels with its sentences (segmented once, by the segment stage
before this one), its plan and the vectors of every text the plan reads, in memory: the
on-disk embedding cache serves later builds, never this one's stages. Pairs the work
cache already holds are not embedded at all, and the model loads only when a text is
missing from the embedding cache (``pipeline.embed.LazyEncoder``): a warm rebuild never
loads it. Under the local pool engine the model runs in a process of its own
(``model_process``), the plan starts on each pair as soon as the first call has given
its sentences (``plan_chunk``'s ``stream``) and new vectors are stored behind the
encoder (the cache's ``write_behind``), so the encoder waits neither for the whole
chunk's plan nor for SQLite. Nothing but the encoder's calls and the plan runs here: this
stage's time is the encoder's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.records import DocumentPair, PairSentences, PlannedPair, SegmentedChunk
from pipeline.runner.configs import EmbedConfig
from pipeline.runner.stage import Stage

log = logging.getLogger("pipeline.build")


@dataclass
class ChunkCounts:
    """What a chunk asked of the encoder: distinct texts requested, and how many of them
    the model embedded (the rest came from the embedding cache)."""

    requested: int = 0
    embedded: int = 0


def plan_chunk(
    pairs: Sequence[DocumentPair],
    needs_work: Sequence[bool],
    encoder: Any,
    params: Any,
    segmented: Sequence[PairSentences | None] | None = None,
    *,
    stream: bool = False,
) -> tuple[list[PlannedPair], ChunkCounts]:
    """Embed and plan a chunk's pairs that still need aligning (module docstring); pairs
    that need none pass through without a plan. ``segmented``: each pair's sentences
    (the segment stage's), else segmented here. ``encoder``: an Encoder, usually the
    cached one (``pipeline.embed.CachedEncoder``: texts already in the cache cost a
    lookup). Both calls depend only on the chunk, so every engine embeds the same texts
    in the same batches and the corpus does not depend on workers or engines.

    ``stream`` (an encoder with ``encode_parts``): each pair is planned as soon as the
    first call has given every one of its sentences, while the model embeds the rest of
    the chunk, instead of all of them after the call; the same call, the same vectors
    and so the same plans, sooner. Worth it where the model runs in a process of its
    own (the plan would otherwise hold the GIL it needs)."""
    from pipeline.align.document import PairPlan, pair_single_texts, plan_pair
    from pipeline.text.segment import segment_document

    counts = ChunkCounts()
    todo = [k for k, work in enumerate(needs_work) if work]
    sentences: dict[int, PairSentences] = {}
    for k in todo:
        given = segmented[k] if segmented is not None else None
        sentences[k] = given or (segment_document(pairs[k].en), segment_document(pairs[k].zh))
    singles = {k: pair_single_texts(pairs[k], sentences[k]) for k in todo}
    first = list(dict.fromkeys(t for k in todo for t in singles[k]))
    vectors: dict[str, np.ndarray] = {}
    plans: dict[int, PairPlan] = {}
    waiting = deque(todo)

    def plan_ready() -> None:
        while waiting and all(t in vectors for t in singles[waiting[0]]):
            k = waiting.popleft()
            plans[k] = plan_pair(pairs[k], sentences[k], vectors, params)

    _embed(encoder, first, vectors, counts, plan_ready if stream else None)
    plan_ready()
    second = [t for k in todo for t in plans[k].overlap_texts() if t not in vectors]
    _embed(encoder, list(dict.fromkeys(second)), vectors, counts)
    out = []
    for k, pair in enumerate(pairs):
        if k not in plans:
            out.append(PlannedPair(pair))
            continue
        texts = plans[k].texts()
        matrix = np.stack([vectors[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)
        out.append(PlannedPair(pair, sentences[k], plans[k], texts, matrix))
    return out, counts


def _load_kernels() -> None:
    """``pipeline.align.overlaps.load_plan_kernels``, as a hint: a failure is left to the
    plan."""
    from pipeline.align.overlaps import load_plan_kernels

    try:
        load_plan_kernels()
    except Exception as error:  # noqa: BLE001 - the first plan raises it again, in order
        log.debug("embed stage: kernels not preloaded (%s)", error)


def _embed(
    encoder: Any,
    texts: list[str],
    vectors: dict[str, np.ndarray],
    counts: ChunkCounts,
    each_part: Callable[[], None] | None = None,
) -> None:
    """One encoder call over ``texts`` into ``vectors``, counted; with ``each_part``
    (and an encoder with ``encode_parts``), the vectors arrive block by block and
    ``each_part`` runs after each."""
    if not texts:
        return
    before = getattr(encoder, "texts_embedded", None)
    parts = getattr(encoder, "encode_parts", None)
    if each_part is not None and parts is not None:
        for part in parts(texts):
            vectors.update(part)
            each_part()
    else:
        rows = np.asarray(encoder.encode(texts), dtype=np.float32)  # unit rows (Encoder)
        vectors.update(zip(texts, rows, strict=True))
    counts.requested += len(texts)
    counts.embedded += len(texts) if before is None else encoder.texts_embedded - before


class EmbedStage(Stage[SegmentedChunk, PlannedPair]):
    """Segmented chunk -> its pairs, each with its sentences, plan and vectors when the
    work cache does not hold its alignment (module docstring).

    Locally this runs in the driver; on Ray it is the actor pool (one model per actor,
    GPUs if asked for): ``holds_model``."""

    name = "embed"
    item_independent = True
    holds_model = True

    def __init__(self, config: EmbedConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder: Any | None = None
        self._load_counted = False
        self._kernels: threading.Thread | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["encoder"] = None  # a model never travels to a worker; each loads its own
        state["_load_counted"] = False
        state["_kernels"] = None
        return state

    def label(self, item: SegmentedChunk) -> str:
        return f"chunk {item.index}"

    def _encoder(self) -> Any:
        """The cached encoder; its model loads on the first text the cache misses."""
        if self.encoder is None:
            from pipeline.embed import load_encoder

            encoder = self.config.encoder
            self.encoder = load_encoder(
                encoder.model,
                cache_dir=self.config.cache_dir,
                device=encoder.device,
                batch_size=encoder.batch_size,
                lazy=True,
                process=self.model_process,
                # the engine that gives the model a process closes the stage (flushing)
                write_behind=self.model_process,
            )
        return self.encoder

    def close(self) -> None:
        """Release the model: its process, if the engine gave it one (``model_process``),
        else its threads. A later chunk would load it again."""
        close = getattr(self.encoder, "close", None)
        if close is not None:
            close()

    def prepare(self) -> None:
        """A cold build loads the model now, on a thread, while the documents are read
        and segmented: it will surely need it, and the load (2 s for use-m) then overlaps
        the work before the first chunk instead of following it. Cold means the
        embedding cache holds no vector of this model; any other build loads the model
        only when a text is missing from the cache (a warm rebuild never does).

        Only a hint: an encoder or cache that cannot be opened now (a bad --model, a
        full disk) is not reported here but where a text must be embedded, so a build
        that embeds nothing (a warm rebuild) is not stopped by it, as before this hook."""
        from pipeline.embed import EncoderError, LazyEncoder

        try:
            encoder = self._encoder()
            holds_vectors = getattr(encoder, "holds_vectors", None)
            cold = holds_vectors is not None and not holds_vectors()
        except EncoderError as exc:
            log.debug("embed stage: no preload (%s); reported if a text must be embedded", exc)
            self.encoder = None
            return
        lazy = getattr(encoder, "inner", None)
        if cold and isinstance(lazy, LazyEncoder):
            lazy.preload()

    def process(self, item: SegmentedChunk) -> Iterator[PlannedPair]:
        pairs = item.pairs
        needs_work = [s is not None for s in item.sentences]
        if not any(needs_work):
            yield from (PlannedPair(p) for p in pairs)
            return
        encoder = self._encoder()  # a bad --model is the user's error: it stops the build
        inner = getattr(encoder, "inner", None)
        waited_before = getattr(inner, "wait_seconds", 0.0)
        bad_before = getattr(encoder, "bad_vectors", 0)
        if self._kernels is None:
            # The plan between this chunk's two encoder calls runs compiled kernels:
            # loaded during the first call (about 0.3 s), not while the encoder waits
            # for the plan, nor before it, where the model's load and the workers'
            # start-up already share the cores.
            self._kernels = threading.Thread(target=_load_kernels, name="load-kernels")
            self._kernels.daemon = True
            self._kernels.start()
        started = time.perf_counter()
        wall = time.time()
        out, counts = plan_chunk(
            pairs,
            needs_work,
            encoder,
            self.config.params,
            item.sentences,
            stream=self.model_process,
        )
        # The wait for the model is not the encoder's work: reported apart, once.
        seconds = (
            time.perf_counter() - started - (getattr(inner, "wait_seconds", 0.0) - waited_before)
        )
        if not self._load_counted and getattr(inner, "loaded", False):
            self._load_counted = True
            self.stats.counters["model_loads"] += 1
            self.stats.add_time("load_encoder", inner.load_seconds)
        self.record("busy", (wall, time.time()))
        self.stats.add_time("embed", seconds)
        self.stats.counters["texts_requested"] += counts.requested
        self.stats.counters["texts_from_cache"] += counts.requested - counts.embedded
        self.stats.counters["texts_embedded"] += counts.embedded
        self.stats.counters["chunks_embedded"] += 1
        # Stored vectors that failed the embedding cache's checks (embedded again).
        self.stats.counters["bad_cache_vectors"] += getattr(encoder, "bad_vectors", 0) - bad_before
        yield from out
