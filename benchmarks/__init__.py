"""Benchmarks and research code: speed, memory and quality figures (`make bench`).

Lives outside the ``pipeline`` package on purpose: the wheel does not ship it, and it
reads the repository's own data (data/raw, tests/gold, ../shared/dev) by path.
"""
