"""Scores and error classes for the peer comparison (issue 9, item 1).

Two conventions side by side, because the published figures use both:

* **AlignerEval strict** (the issue's table): a bead counts only when the very same bead
  is in the gold, and *all* beads count on both sides: precision over every test bead,
  recall over every gold bead, 0-1/1-0 beads included. (AlignerEval's own code is not in
  our reference index; this is the definition the issue states, "exact bead, all beads".)
* **Vecalign strict/lax** (``pipeline.evaluate``): the same precision, but recall leaves
  0-x/x-0 beads out, and lax credits partial overlaps.

Both are micro averages: counts are summed over the documents of a set, then divided.

Error classes name *how* a system is wrong (one bead can fall in two classes):

* ``wrong_null``: a 0-1 or 1-0 bead of the system that the gold does not have (also
  counted apart as ``wrong_01`` and ``wrong_10``);
* ``over_merge``: a system bead not in the gold that wholly contains two or more gold
  beads (it glued separate translations together);
* ``over_split``: a gold bead not produced that wholly contains two or more system beads
  (e.g. the translator's 1-2 returned as 1-1 plus 0-1);
* ``gold_null``: the gold's own count of 0-1/1-0 beads, the yardstick for ``wrong_null``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from pipeline.embed import Encoder
from pipeline.evaluate import BeadPair, score_documents

_Key = tuple[tuple[int, ...], tuple[int, ...]]
Document = tuple[Sequence[BeadPair], Sequence[BeadPair]]  # (test, gold)


def _keys(beads: Iterable[BeadPair]) -> set[_Key]:
    return {(tuple(s), tuple(t)) for s, t in beads if len(s) or len(t)}


def _prf(hits: int, n_test: int, n_gold: int) -> tuple[float, float, float]:
    p = hits / n_test if n_test else 0.0
    r = hits / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def aligner_eval_strict(documents: Iterable[Document]) -> dict:
    """AlignerEval strict P/R/F1 (module docstring), micro-averaged over documents."""
    hits = n_test = n_gold = 0
    for test, gold in documents:
        t, g = _keys(test), _keys(gold)
        hits += len(t & g)
        n_test += len(t)
        n_gold += len(g)
    p, r, f1 = _prf(hits, n_test, n_gold)
    return {"precision": p, "recall": r, "f1": f1, "hits": hits, "test": n_test, "gold": n_gold}


def _contains(outer: _Key, inner: _Key) -> bool:
    return set(inner[0]) <= set(outer[0]) and set(inner[1]) <= set(outer[1])


def _wholly_inside(outer: set[_Key], inner: set[_Key]) -> int:
    """How many beads of ``outer`` (not also in ``inner``) contain >= 2 beads of ``inner``."""
    by_src: dict[int, list[_Key]] = {}
    by_tgt: dict[int, list[_Key]] = {}
    for key in inner:
        (by_src.setdefault(key[0][0], []) if key[0] else by_tgt.setdefault(key[1][0], [])).append(
            key
        )
    count = 0
    for key in outer - inner:
        candidates = [k for s in key[0] for k in by_src.get(s, [])]
        candidates += [k for t in key[1] for k in by_tgt.get(t, [])]
        if sum(1 for k in set(candidates) if _contains(key, k)) >= 2:
            count += 1
    return count


def error_classes(test: Sequence[BeadPair], gold: Sequence[BeadPair]) -> dict[str, int]:
    """Counts of each error class of one document (module docstring)."""
    t, g = _keys(test), _keys(gold)
    wrong_01 = sum(1 for s, _ in t - g if not s)
    wrong_10 = sum(1 for _, u in t - g if not u)
    return {
        "wrong_null": wrong_01 + wrong_10,
        "wrong_01": wrong_01,
        "wrong_10": wrong_10,
        "over_merge": _wholly_inside(t, g),
        "over_split": _wholly_inside(g, t),
        "gold_null": sum(1 for s, u in g if not s or not u),
    }


def set_scores(documents: Sequence[Document]) -> dict:
    """Everything the peer table prints for one system on one set (or one document)."""
    ae = aligner_eval_strict(documents)
    vec = score_documents(documents)
    errors: dict[str, int] = {}
    for test, gold in documents:
        for name, n in error_classes(test, gold).items():
            errors[name] = errors.get(name, 0) + n
    return {
        "ae_p": ae["precision"],
        "ae_r": ae["recall"],
        "ae_f1": ae["f1"],
        "vs_p": vec["precision_strict"],
        "vs_r": vec["recall_strict"],
        "vs_f1": vec["f1_strict"],
        "vl_p": vec["precision_lax"],
        "vl_r": vec["recall_lax"],
        "vl_f1": vec["f1_lax"],
        **errors,
    }


class CountingEncoder:
    """Counts the distinct texts a system asks to embed; the vectors come from ``inner``.

    Several systems share one memoised encoder (so the comparison embeds each text once),
    but each gets its own counter: ``embedded`` is what that system would embed on a cold
    cache, the "texts embedded per sentence" figure of issue 9.
    """

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.fingerprint = getattr(inner, "fingerprint", inner.name)
        self._seen: set[str] = set()

    @property
    def embedded(self) -> int:
        return len(self._seen)

    def encode(self, texts: list[str]) -> np.ndarray:
        self._seen.update(texts)
        return self.inner.encode(texts)
