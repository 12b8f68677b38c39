"""File names of any bytes (issue 18, defect 5, and the forged log lines of the low list):
a name that is not UTF-8 or holds a newline never stops a build, and it is shown escaped
in the log, the manifest and the corpus."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
from conftest import REPO, SEEDS

ZH = "003_df19238bedd244e2.txt"
FORGED = "[build] stage write: done, in=9 out=9 dropped: none, 0.01 s"


def _raw_with_odd_names(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(SEEDS, raw)
    (raw / ZH).rename(os.fsdecode(os.fsencode(raw) + b"/caf\xe9.txt"))  # not UTF-8
    (raw / f"evil\n{FORGED}.txt").write_bytes(b"")  # a newline in the name, and rejected
    return raw


def test_names_of_any_bytes_are_read_and_shown_escaped(tmp_path: Path) -> None:
    raw = _raw_with_odd_names(tmp_path)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "build", "--raw", str(raw), "--out", str(out)]
        + ["--cache", str(tmp_path / "cache")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not any(line.startswith(FORGED) for line in done.stderr.splitlines())
    assert f"rejected evil\\n{FORGED}.txt: empty file" in done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["documents"]["paired"] == [
        {
            "symbol": "A/RES/75/58",
            "source_en": "002_69ed3383ef6f2041.txt",
            "source_zh": "caf\\xe9.txt",
        }
    ]
    rejected = [r["source_file"] for r in manifest["documents"]["rejected"]]
    assert rejected == [f"evil\\n{FORGED}.txt"]
    rows = pd.read_parquet(out / "en-zh")
    assert set(rows["source_zh"]) == {"caf\\xe9.txt"}
    assert "evil\\n[build]" in (out / "report.html").read_text(encoding="utf-8")


def test_extract_shows_the_same_names(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pipeline.cli import main

    raw = _raw_with_odd_names(tmp_path)
    result = CliRunner().invoke(main, ["extract", "--raw", str(raw), "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert f"evil\\n{FORGED}.txt: empty file" in result.output
    pairs = json.loads((tmp_path / "x" / "pairs.json").read_text(encoding="utf-8"))
    assert pairs["pairs"][0]["zh"]["source_file"] == "caf\\xe9.txt"


# --- entries that are not read: listed with the reason, links out of --raw not followed ---


def _raw_with_odd_entries(tmp_path: Path) -> tuple[Path, Path]:
    raw = tmp_path / "raw"
    shutil.copytree(SEEDS, raw)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:$6$hash-of-a-password:19000:0:99999:7:::\n", encoding="utf-8")
    (raw / "shadow.txt").symlink_to(secret)  # leads out of --raw
    (raw / "gone.txt").symlink_to(tmp_path / "deleted.txt")  # dangling
    (raw / "copy.txt").symlink_to(raw / ZH)  # inside --raw: read (a duplicate)
    (raw / "drafts").mkdir()
    (raw / ".gitkeep").write_bytes(b"")
    os.mkfifo(raw / "pipe.txt")  # reading it would block the build forever
    return raw, secret


def test_skipped_entries_are_listed_and_links_out_of_raw_not_followed(tmp_path: Path) -> None:
    raw, _ = _raw_with_odd_entries(tmp_path)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "pipeline", "build", "--raw", str(raw), "--out", str(out)]
    command += ["--cache", str(tmp_path / "cache")]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    skipped = {s["entry"]: s["reason"] for s in manifest["documents"]["skipped"]}
    assert set(skipped) == {".gitkeep", "drafts", "gone.txt", "pipe.txt", "shadow.txt"}
    assert skipped["shadow.txt"].startswith(f"symbolic link to {tmp_path / 'secret.txt'}, outside")
    assert "--follow-symlinks" in skipped["shadow.txt"]
    assert skipped["gone.txt"].startswith("dangling symbolic link")
    assert skipped["pipe.txt"].startswith("not a regular file")
    assert "[build] skipped shadow.txt: symbolic link" in done.stderr
    assert "[build] skipped gone.txt: dangling" in done.stderr
    parsed = {d["source_file"] for d in manifest["documents"]["parsed"]}
    assert "copy.txt" in parsed and "shadow.txt" not in parsed
    assert all("hash-of-a-password" not in p.read_text(errors="replace") for p in out.rglob("*.*"))

    followed = subprocess.run(
        [*command, "--follow-symlinks"], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert followed.returncode == 0, followed.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    rejected = {r["source_file"] for r in manifest["documents"]["rejected"]}
    assert "shadow.txt" in rejected  # read when asked for (and it is no resolution)


def test_extract_skips_the_same_entries(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pipeline.cli import main

    raw, _ = _raw_with_odd_entries(tmp_path)
    result = CliRunner().invoke(main, ["extract", "--raw", str(raw), "--out", str(tmp_path / "x")])
    assert result.exit_code == 0, result.output
    assert "skipped: shadow.txt: symbolic link to" in result.output
    assert "skipped: gone.txt: dangling symbolic link" in result.output
    assert "skipped: drafts" not in result.output  # by design: not worth a line
