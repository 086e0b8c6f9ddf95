"""The M4 benchmark conventions against hand-computed values and statsmodels' classical
decomposition."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.tsa.seasonal import seasonal_decompose

from lstmtune.evaluation import acf, naive2, owa, seasonal_indices, seasonality_test


def test_acf_by_hand():
    y = [1.0, 2.0, 3.0, 4.0]  # mean 2.5, deviations -1.5 -0.5 0.5 1.5, sum of squares 5
    assert acf(y, 1) == pytest.approx((0.75 - 0.25 + 0.75) / 5)
    assert acf(y, 2) == pytest.approx((-0.75 - 0.75) / 5)


def test_the_seasonality_test_uses_the_cumulative_limit():
    season = np.tile([1.0, 3.0, 2.0, 5.0], 6)  # n = 24, m = 4
    r = [acf(season, k) for k in (1, 2, 3, 4)]
    limit = 1.645 * math.sqrt((1 + 2 * (r[0] ** 2 + r[1] ** 2 + r[2] ** 2)) / 24)
    assert abs(r[3]) > limit and seasonality_test(season, 4)
    noise = np.random.default_rng(0).normal(10, 1, 48)
    assert not seasonality_test(noise, 12)
    assert not seasonality_test(season[:11], 4)  # shorter than 3 m
    assert not seasonality_test(season, 1)


@pytest.mark.parametrize("m", [4, 7])
def test_seasonal_indices_equal_statsmodels_classical_decomposition(m):
    rng = np.random.default_rng(m)
    n = 6 * m + 3
    y = (50 + np.arange(n)) * np.tile(rng.uniform(0.7, 1.3, m), 7)[:n] * rng.uniform(
        0.98, 1.02, n)
    ours = seasonal_indices(y, m)
    ref = seasonal_decompose(y, model="multiplicative", period=m).seasonal[:m]
    np.testing.assert_allclose(ours, ref, rtol=1e-10)


def test_naive2_by_hand():
    idx = np.array([0.5, 1.5, 1.0, 1.0])
    y = 10 * np.tile(idx, 5)  # a flat level of 10, exactly seasonal
    fc = naive2(y, 6, 4)
    np.testing.assert_allclose(fc, 10 * idx[[0, 1, 2, 3, 0, 1]])
    flat = np.array([3.0, 4.0, 5.0, 4.0, 6.0])
    np.testing.assert_array_equal(naive2(flat, 3, 1), [6.0, 6.0, 6.0])


def test_owa_by_hand():
    assert owa(10.0, 1.0, 20.0, 2.0) == pytest.approx(0.5)
    assert owa(13.0, 0.9, 13.0, 0.9) == pytest.approx(1.0)
