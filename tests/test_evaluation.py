"""The evaluation's small measures (the rest is exercised through ``scripts/evaluate.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scripts.evaluation import contains, percentile


def test_percentile_interpolates_between_the_nearest_ranks() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert percentile([10.0, 20.0], 95) == pytest.approx(19.5)
    assert percentile([7.0], 99) == 7.0
    assert percentile(np.array([1.0, 2.0, 3.0]), 0) == 1.0


def test_percentile_of_no_values_is_nan_not_zero() -> None:
    assert math.isnan(percentile([], 50))
    assert math.isnan(percentile(np.array([]), 95))


def test_contains_is_case_insensitive_and_ignores_empty_answers() -> None:
    assert contains("Li Hongzhong led the delegation.", ["li hongzhong"])
    assert not contains("The delegation arrived.", ["", "Li Hongzhong"])
