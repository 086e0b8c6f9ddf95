from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import calendar_features, fourier_features, indicator_features, rsi, sma
from lstmtune.errors import ConfigError

X = np.cumsum(np.random.default_rng(0).normal(size=80)) + 100


@pytest.mark.parametrize("spec", ["sma:5", "ema:4", "rsi:6", "macd"])
def test_indicators_never_look_ahead(spec):
    base, _ = indicator_features(X, (spec,))
    changed = X.copy()
    changed[50:] += 1000.0
    after, _ = indicator_features(changed, (spec,))
    np.testing.assert_array_equal(base[:50], after[:50])
    assert not np.allclose(base[50:][np.isfinite(base[50:])], after[50:][np.isfinite(after[50:])])


def test_sma_and_rsi_hand_values():
    x = np.array([1.0, 2, 3, 4, 5])
    np.testing.assert_array_equal(sma(x, 2), [np.nan, 1.5, 2.5, 3.5, 4.5])
    # steadily rising: no losses -> RSI 100 once warmed up
    assert np.isnan(rsi(x, 3)[:3]).all() and (rsi(x, 3)[3:] == 100).all()
    # Wilder with window 2 on [0, 1, 0, 1]: gains 1,0,1; losses 0,1,0
    # avg gain: first two -> 0.5 (seeded as ewm alpha 1/2 of [1, 0]) ...
    y = np.array([0.0, 1.0, 0.0, 1.0])
    g = pd.Series([1.0, 0.0, 1.0]).ewm(alpha=0.5, adjust=False).mean().to_numpy()
    lo = pd.Series([0.0, 1.0, 0.0]).ewm(alpha=0.5, adjust=False).mean().to_numpy()
    np.testing.assert_allclose(rsi(y, 2)[2:], (100 - 100 / (1 + g[1:] / lo[1:])))


def test_fourier_and_calendar_values():
    f, names = fourier_features(4, 4, 1)
    assert names == ["sin1_p4", "cos1_p4"]
    np.testing.assert_allclose(f, [[0, 1], [1, 0], [0, -1], [-1, 0]], atol=1e-12)
    idx = pd.date_range("2021-11-01", periods=3, freq="MS")
    cal, _ = calendar_features(idx, ("month", "quarter"))
    np.testing.assert_array_equal(cal, [[11, 4], [12, 4], [1, 1]])


def test_feature_errors_name_the_fix():
    with pytest.raises(ConfigError, match="Did you mean 'month'"):
        calendar_features(pd.date_range("2021-01-01", periods=3), ("mnth",))
    with pytest.raises(ConfigError, match="order <= period/2"):
        fourier_features(10, 4, 3)
    with pytest.raises(ConfigError, match="sma:N"):
        indicator_features(X, ("bollinger",))
