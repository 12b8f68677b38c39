"""Every expected failure is one line naming the path and the reason, a non-zero exit, and
the corpus in --out as it was (issue 18, the low list). Each case makes the condition for
real (a file size limit the kernel enforces, a folder the process cannot write, files
where folders must be, an object store that refuses connections) and runs the real CLI
in a subprocess on the seeds."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import REPO, BuiltCorpus

BuildArgs = list[str]


@dataclass
class Case:
    """A failure: the command's arguments (given the corpus folder, its cache and a scratch
    folder), what must be true around the run, the exit code and the words of the line."""

    args: Callable[[Path, Path, Path], BuildArgs]
    code: int
    words: str
    during: Callable[[Path, Path, Path], AbstractContextManager[object]] = field(
        default=lambda out, cache, scratch: nullcontext()
    )
    #: Limit on the size of any file the command writes (bytes; 0: none).
    file_size_limit: int = 0


def _build(raw: Path) -> Callable[[Path, Path, Path], BuildArgs]:
    def args(out: Path, cache: Path, scratch: Path) -> BuildArgs:
        return ["build", "--raw", str(raw), "--out", str(out), "--cache", str(cache)]

    return args


@contextmanager
def _unwritable(folder: Path) -> Iterator[None]:
    """``folder`` cannot be written by this process: its mode bits for a normal user;
    for root, whom mode bits do not stop, the immutable attribute."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        undo = ["chmod", "755", str(folder)]
    else:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
        undo = ["chattr", "-i", str(folder)]
    try:
        yield
    finally:
        subprocess.run(undo, check=True)


@contextmanager
def _build_running(cache: Path) -> Iterator[None]:
    from pipeline.runner.cachedir import cache_in_use

    with cache_in_use(cache):  # what every running build holds
        yield


def _file_at(path: Path) -> Path:
    if path.is_dir():
        shutil.rmtree(path)
    path.write_text("a file, not a folder", encoding="utf-8")
    return path


def cases(raw: Path) -> dict[str, Case]:
    build = _build(raw)
    return {
        "disk full while writing the corpus": Case(
            build,
            1,
            "File too large",
            file_size_limit=14_000,  # the spool's documents fit, the corpus files do not
        ),
        "read-only folder around --out": Case(
            build,
            1,
            ".aligned.lock",
            during=lambda out, cache, scratch: _unwritable(out.parent),
        ),
        "--out under a file": Case(
            lambda out, cache, scratch: [
                *build(out, cache, scratch)[:3],
                "--out",
                str(_file_at(scratch / "notes.txt") / "aligned"),
                "--cache",
                str(cache),
            ],
            1,
            "--out is under",
        ),
        "work/ is a file": Case(
            lambda out, cache, scratch: (_file_at(cache / "work"), build(out, cache, scratch))[1],
            1,
            "work: exists and is not a folder",
        ),
        "spool/ is a file": Case(
            lambda out, cache, scratch: (_file_at(cache / "spool"), build(out, cache, scratch))[1],
            1,
            "spool: exists and is not a folder",
        ),
        "--cache inside --out": Case(
            lambda out, cache, scratch: [*build(out, cache, scratch)[:-1], str(out / "cache")],
            2,
            "--cache is inside --out",
        ),
        "cache prune --all during a build": Case(
            lambda out, cache, scratch: ["cache", "prune", "--all", "--cache", str(cache)],
            1,
            "a build is using this cache",
            during=lambda out, cache, scratch: _build_running(cache),
        ),
        "--raw s3:// unreachable": Case(
            lambda out, cache, scratch: [
                "build",
                "--engine",
                "ray",
                "--raw",
                "s3://un-raw/raw?endpoint_override=127.0.0.1:9&scheme=http",
                "--out",
                str(out),
                "--cache",
                str(cache),
            ],
            1,
            "cannot list the raw folder",
        ),
        "--raw s3:// with the local engine": Case(
            lambda out, cache, scratch: (
                [*build(out, cache, scratch)[:1], "--raw", "s3://un-raw/raw"]
                + build(out, cache, scratch)[3:]
            ),
            1,
            "--raw is not a local folder; use --engine ray",
        ),
    }


CASES = cases(Path("RAW"))  # names only; each test makes its own


def _limits(size: int) -> Callable[[], None] | None:
    if not size:
        return None

    def apply() -> None:  # in the child, before exec: the kernel refuses bigger writes
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize("name", list(CASES))
def test_an_expected_failure_is_one_line_and_the_corpus_stays(
    tmp_path: Path, seed_corpus: BuiltCorpus, name: str
) -> None:
    case = cases(seed_corpus.raw)[name]
    base = tmp_path / "base"
    base.mkdir()
    out, cache, scratch = base / "aligned", base / "cache", tmp_path / "scratch"
    shutil.copytree(seed_corpus.out, out)
    shutil.copytree(seed_corpus.cache, cache)
    scratch.mkdir()
    before = _files(out)
    args = case.args(out, cache, scratch)
    with case.during(out, cache, scratch):
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
            preexec_fn=_limits(case.file_size_limit),
        )
    assert done.returncode == case.code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and case.words in errors[0], done.stderr
    assert _files(out) == before  # the corpus is exactly as it was
    leftovers = [p.name for p in base.iterdir() if p.name.startswith(".aligned.tmp-")]
    assert leftovers == []


def test_extract_into_an_unwritable_place_is_one_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("a file", encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "extract",
            "--raw",
            "data/raw",
            "--out",
            str(notes / "x"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (
        done.stderr.strip().splitlines()[-1]
        == f"Error: {notes / 'x'}: cannot write (Not a directory)"
    )
