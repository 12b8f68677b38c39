"""scripts/check_sizes.py: functions over 80 lines are reported (modules have no cap)."""

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


def test_a_long_function_is_reported_a_long_module_is_not(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(80))
    shorts = "".join(f"\n\ndef short{k}():\n    pass\n" for k in range(200))
    (tmp_path / "big.py").write_text(f"def long():\n{body}\n{shorts}")
    done = run(tmp_path)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{tmp_path / 'big.py'}:1: function long has 81 lines (limit 80)",
    ]


def test_function_at_the_limit_passes(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(79))
    (tmp_path / "ok.py").write_text(f"def fits():\n{body}\n")
    done = run(tmp_path / "ok.py")
    assert (done.returncode, done.stdout) == (0, "")


def test_the_package_keeps_the_rule() -> None:
    done = run(REPO / "pipeline")
    assert (done.returncode, done.stdout) == (0, "")


def test_missing_path_is_a_usage_error() -> None:
    done = run("no/such/folder")
    assert done.returncode == 2
    assert "no such file or folder: no/such/folder" in done.stderr
