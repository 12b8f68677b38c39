"""Report functions over 80 lines.

Small functions are what lets a newcomer read one step at a time, so their limit is
checked, not remembered. Modules have no line cap: a cap made splits that followed the
count instead of the concepts, so a module is split where its concept ends, in review.
A function's length (methods and nested functions included) runs from its ``def`` line
to its last line, decorators excluded.

Usage::

    python scripts/check_sizes.py                    # every .py file under pipeline/
    python scripts/check_sizes.py pipeline/extract   # only these files or folders
    python scripts/check_sizes.py --max-function 80 PATH ...

Prints one line per offender and exits 1 when there is any, 0 otherwise.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

MAX_FUNCTION_LINES = 80
DEFAULT_PATHS = ("pipeline",)


def python_files(paths: list[Path]) -> Iterator[Path]:
    """Every ``.py`` file in ``paths`` (files as given, folders searched), sorted."""
    for path in paths:
        if path.is_dir():
            yield from sorted(path.rglob("*.py"))
        elif path.suffix == ".py":
            yield path
        else:
            raise SystemExit(f"check_sizes: {path}: not a .py file or a folder")


def offenders(path: Path, max_function: int) -> list[str]:
    """The functions of one file over the limit, one message each."""
    source = path.read_text(encoding="utf-8")
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > max_function:
                found.append(
                    f"{path}:{node.lineno}: function {node.name} has {length} lines "
                    f"(limit {max_function})"
                )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders (default: pipeline)")
    parser.add_argument("--max-function", type=int, default=MAX_FUNCTION_LINES, metavar="LINES")
    args = parser.parse_args(argv)
    paths = args.paths or [Path(p) for p in DEFAULT_PATHS]
    missing = [p for p in paths if not p.exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(map(str, missing))}")
    found = [
        message
        for path in python_files(paths)
        for message in offenders(path, args.max_function)
    ]
    for message in found:
        print(message)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
