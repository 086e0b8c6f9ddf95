"""The M4 competition's benchmark conventions (groundwork for panels of series): the 90 %
autocorrelation seasonality test, classical multiplicative decomposition, Naive2 and OWA.

- ``seasonality_test`` and ``seasonal_indices`` (the 90 % ACF test and classical
  multiplicative indices) live in the data layer (``lstmtune.data``), which the
  ``Deseasonalise`` preprocessing step shares; they are re-exported here.
- ``naive2(y, h, m)``: the last deseasonalised value, reseasonalised with the indices of
  the h following positions (plain naive when the test says not seasonal, or when a value
  <= 0 rules out multiplicative indices).
- ``owa(...)``: the overall weighted average, the mean of sMAPE and MASE relative to
  Naive2's.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from lstmtune.data import acf, seasonal_indices, seasonality_test

__all__ = ["acf", "seasonality_test", "seasonal_indices", "naive2", "owa"]


def naive2(y: ArrayLike, h: int, m: int) -> np.ndarray:
    """The M4 Naive2 forecast of the ``h`` points after ``y``."""
    a = np.asarray(y, float)
    if not seasonality_test(a, m) or a.size < 2 * m or (a <= 0).any():
        return np.full(h, a[-1])  # not seasonal, or no multiplicative indices: naive
    idx = seasonal_indices(a, m)
    last = a[-1] / idx[(a.size - 1) % m]
    return last * idx[(a.size + np.arange(h)) % m]


def owa(smape: float, mase: float, smape_naive2: float, mase_naive2: float) -> float:
    """``(sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2``: below 1 beats Naive2."""
    return 0.5 * (smape / smape_naive2 + mase / mase_naive2)
