"""FilterOptions validation: thresholds end up in manifest.json, which must stay JSON."""

from __future__ import annotations

import json
import math

import pytest

from pipeline.corpus.filters import FilterOptions


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_min_score_is_refused(value: float) -> None:
    """NaN disables the filter silently (score < NaN is never true) and writes ``NaN``
    into manifest.json, which JSON readers refuse."""
    with pytest.raises(ValueError, match="min_score"):
        FilterOptions(min_score=value)


@pytest.mark.parametrize("value", [math.nan, math.inf, 0.5])
def test_bad_max_len_ratio_is_refused(value: float) -> None:
    """A ratio is larger side over smaller side, so it is at least 1; NaN never filters."""
    with pytest.raises(ValueError, match="max_len_ratio"):
        FilterOptions(max_len_ratio=value)


def test_valid_options_serialise_as_strict_json() -> None:
    options = FilterOptions(min_score=-0.1, max_len_ratio=3.0)
    text = json.dumps(options.to_dict(), allow_nan=False)
    assert json.loads(text) == {"min_score": -0.1, "max_len_ratio": 3.0, "lang_check": True}
    assert FilterOptions().to_dict()["min_score"] is None
