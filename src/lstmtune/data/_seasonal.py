"""Seasonality as the M4 benchmarks define it: the 90 % autocorrelation test and classical
multiplicative seasonal indices (shared by the ``Deseasonalise`` preprocessing step and the
evaluation layer's Naive2).

- ``seasonality_test(y, m)``: seasonal when ``|r_m| > 1.645 * sqrt((1 + 2 * sum_{k<m} r_k^2)
  / n)``, the R benchmark code's limit (``tcrit / sqrt(n) * sqrt(cumsum(c(1, 2 * acf^2)))``
  at lag m; the organisers' Python port adds ``r_1`` unsquared, which this does not copy);
  ``r_k`` is the sample autocorrelation (deviations from the mean, divided by the sum of
  squares).  Series shorter than ``3 m`` or with ``m == 1`` are not seasonal.
- ``seasonal_indices(y, m)``: classical multiplicative decomposition (R's ``decompose``,
  statsmodels' ``seasonal_decompose``): the centred moving average of order m (2 x m for
  even m) as trend, the mean ratio ``y / trend`` of each position in the cycle, normalised
  to average 1; position 0 is the series' first point.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from lstmtune.errors import DataError

__all__ = ["acf", "seasonality_test", "seasonal_indices"]

TCRIT = 1.645  # 90 %, one-sided normal


def acf(y: ArrayLike, k: int) -> float:
    """The sample autocorrelation of ``y`` at lag ``k``."""
    a = np.asarray(y, float)
    d = a - a.mean()
    denom = float(np.sum(d * d))
    if denom == 0:
        return 0.0
    return float(np.sum(d[k:] * d[: a.size - k]) / denom)


def seasonality_test(y: ArrayLike, m: int) -> bool:
    """Whether ``y`` is seasonal with period ``m`` by the M4 benchmarks' 90 % ACF test."""
    a = np.asarray(y, float)
    if m <= 1 or a.size < 3 * m:
        return False
    r = [acf(a, k) for k in range(1, m + 1)]
    limit = TCRIT * math.sqrt((1 + 2 * sum(x * x for x in r[:-1])) / a.size)
    return abs(r[-1]) > limit


def seasonal_indices(y: ArrayLike, m: int) -> np.ndarray:
    """The m multiplicative seasonal indices of ``y`` (mean 1), position 0 = its first
    point."""
    a = np.asarray(y, float)
    if m <= 1:
        return np.ones(1)
    if a.size < 2 * m:
        raise DataError(f"a classical decomposition of period {m} needs at least {2 * m} "
                        f"points, got {a.size}.")
    if (a <= 0).any():
        raise DataError("a multiplicative decomposition needs positive values.")
    w = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    half = len(w) // 2
    trend = np.full(a.size, np.nan)
    trend[half: a.size - half] = np.convolve(a, w, mode="valid")
    ratio = a / trend
    figure = np.array([np.nanmean(ratio[p::m]) for p in range(m)])
    return figure / figure.mean()
