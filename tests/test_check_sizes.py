"""scripts/check_sizes.py: the size rule (modules <= 450 lines, functions <= 80) is checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

SCRIPT = REPO / "scripts" / "check_sizes.py"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, cwd=REPO
    )


def test_long_function_and_module_are_reported(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(80))
    (tmp_path / "big.py").write_text(f"def long():\n{body}\n\n\ndef short():\n    pass\n")
    done = run(tmp_path, "--max-module", "50")
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{tmp_path / 'big.py'}: module has 85 lines (limit 50)",
        f"{tmp_path / 'big.py'}:1: function long has 81 lines (limit 80)",
    ]


def test_function_at_the_limit_passes(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(79))
    (tmp_path / "ok.py").write_text(f"def fits():\n{body}\n")
    done = run(tmp_path / "ok.py")
    assert (done.returncode, done.stdout) == (0, "")


def test_the_moved_packages_keep_the_rule() -> None:
    """readers/, extract/, text/, pair/, build/ and corpus/ were split to fit; they stay so."""
    done = run(
        *(
            REPO / "pipeline" / name
            for name in ("readers", "extract", "text", "pair", "build", "corpus")
        )
    )
    assert (done.returncode, done.stdout) == (0, "")


def test_missing_path_is_a_usage_error() -> None:
    done = run("no/such/folder")
    assert done.returncode == 2
    assert "no such file or folder: no/such/folder" in done.stderr
