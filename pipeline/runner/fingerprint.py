"""Fingerprints of the code a cached result depends on.

The work cache must never serve an alignment made by older code. A version string bumped
by hand was never bumped (0.1.0 through 22 aligner commits), so the key holds a hash of
the code itself instead, as Hugging Face ``datasets`` hashes a ``map`` function: the
source of a root module and of every ``pipeline`` module it imports, directly or not.

The hash is taken over the parsed syntax tree (``ast.dump``), so comments and formatting
do not invalidate the cache, while any change to what the code does (a constant, a
condition, a new import) does. Docstrings are part of the tree and count as changes: a
needless re-alignment is cheap, a stale one is wrong.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from functools import cache
from pathlib import Path

PACKAGE = "pipeline"

#: Roots of the code that turns a document pair into sentences and beads.
ALIGNING_CODE: tuple[str, ...] = ("pipeline.align.document",)


def _source_file(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:  # ``pipeline.align.AlignParams``: a name, not a module
        return None
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (never executed)."""
    nodes: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        nodes.append(node)
        if _is_type_checking(node):
            todo.extend(node.orelse)  # type: ignore[attr-defined]
            continue
        todo.extend(ast.iter_child_nodes(node))
    return nodes


def _imported_modules(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every ``pipeline`` module named by an import anywhere in ``tree`` (lazy ones too)."""
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base = parts if is_package else parts[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # ``from pipeline.align import texts`` names a module; ``from pipeline.align
            # import AlignParams`` takes a name from the package's ``__init__``. Only the
            # module whose code is used counts, so that a package ``__init__`` that
            # re-exports everything does not tie each module to all of its siblings.
            for alias in node.names:
                submodule = f"{prefix}.{alias.name}"
                found.add(submodule if _source_file(submodule) else prefix)
    return {name for name in found if name == PACKAGE or name.startswith(PACKAGE + ".")}


@cache
def code_fingerprint(roots: tuple[str, ...] = ALIGNING_CODE) -> str:
    """sha256 over the syntax trees of ``roots`` and the package modules they import."""
    seen: dict[str, str] = {}
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        path = _source_file(module)
        if path is None:  # an attribute imported by name, or a non-Python module
            seen[module] = ""
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        seen[module] = ast.dump(tree, include_attributes=False)
        todo.extend(_imported_modules(tree, module, path.name == "__init__.py"))
    digest = hashlib.sha256()
    for module in sorted(seen):
        if seen[module]:
            digest.update(module.encode() + b"\0" + seen[module].encode() + b"\0")
    return digest.hexdigest()
