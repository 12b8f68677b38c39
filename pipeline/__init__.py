"""Build English-Chinese parallel corpora from United Nations resolutions.

``pipeline.load_corpus(path, split="test", unseen_only=True)`` reads a built corpus into
pandas (``pipeline.corpus.load``); it is imported on first use, so ``import pipeline``
(and the CLI's ``--help``) stays instant.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "load_corpus"]


def __getattr__(name: str) -> Any:
    if name == "load_corpus":
        from pipeline.corpus.load import load_corpus

        return load_corpus
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
