"""The UN-structure layer: one English/Chinese document pair aligned by its structure first.

``pair`` (``align_pair``) anchors headings, numbered paragraphs and footnotes, then runs
the language-agnostic core (``pipeline.align``) inside each piece; ``structure`` finds the
structural segments, ``pieces`` embeds and calibrates them.
"""

from __future__ import annotations

from pipeline.align.document.pair import PairAlignment, align_pair
from pipeline.align.document.structure import structural_segments

__all__ = ["PairAlignment", "align_pair", "structural_segments"]
