"""No leakage: nothing fitted sees the validation or test parts; forecasts invert exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import Framing, Preprocessing, load, prepare


def _series(values):
    idx = pd.date_range("2000-01-01", periods=len(values), freq="MS")
    return load(pd.Series(np.asarray(values, dtype=float), index=idx, name="y"),
                allow_missing=True)


BASE = np.sin(np.arange(60) / 3.0) * 10 + np.arange(60) + 50


@pytest.mark.parametrize("prep", [
    Preprocessing(difference=1),
    Preprocessing(log=True, difference=1, seasonal_lag=12, scaler="standard"),
    Preprocessing(difference=0, scaler="robust"),
    Preprocessing(difference=1, scale_on="windows"),
])
def test_changing_the_future_changes_nothing_fitted(prep):
    framing = Framing(lags=3, horizon=2, fourier=((12, 1),), indicators=("sma:3",))
    a = prepare(_series(BASE), test_size=12, val_size=6, preprocessing=prep, framing=framing)
    future = BASE.copy()
    future[-18:] *= 5.0  # wildly different validation and test parts
    b = prepare(_series(future), test_size=12, val_size=6, preprocessing=prep, framing=framing)
    np.testing.assert_array_equal(a.train.X, b.train.X)
    np.testing.assert_array_equal(a.train.y, b.train.y)
    assert a.chain.to_dict() == b.chain.to_dict()
    # and the last training target lies before the validation window
    assert (a.train.origin + framing.horizon).max() < a.split.val.start


@pytest.mark.parametrize("horizon", [1, 3])
def test_perfect_forecasts_invert_to_the_actuals(horizon):
    prep = Preprocessing(log=True, difference=1, seasonal_lag=12)
    p = prepare(_series(BASE), test_size=10, val_size=5, preprocessing=prep,
                framing=Framing(lags=4, horizon=horizon))
    for w in (p.val, p.test):
        got = p.to_original(w.y, w)
        np.testing.assert_allclose(got[np.isfinite(w.y)], p.actual(w)[np.isfinite(w.y)],
                                   rtol=1e-10)


def test_multistep_inverse_builds_on_the_forecast_not_the_actual():
    # plain lag-1 differencing, no scaler: x_{t+2} = x_t + d1 + d2 with predicted d's
    y = np.array([10.0, 12, 15, 19, 24, 30, 37, 45, 54, 64])
    p = prepare(_series(y), test_size=4, preprocessing=Preprocessing(difference=1, scaler=None),
                framing=Framing(lags=1, horizon=2))
    pred = np.ones((len(p.test), 2))
    got = p.to_original(pred, p.test)
    np.testing.assert_array_equal(p.test.origin, [5, 6, 7, 8])
    np.testing.assert_allclose(got[0], [y[5] + 1, y[5] + 2])
    np.testing.assert_allclose(got[3], [y[8] + 1, y[8] + 2])


def test_members_axis_is_carried_through_to_original():
    p = prepare(_series(BASE), test_size=6, preprocessing=Preprocessing(difference=1))
    pred = np.stack([p.test.y, p.test.y * 0])  # (P=2, S, H)
    out = p.to_original(pred, p.test)
    assert out.shape == (2, 6, 1)
    np.testing.assert_allclose(out[0], p.actual(p.test))
    np.testing.assert_allclose(out[1][:, 0], p.y_clean[p.test.origin] + (
        p.chain.steps[-1].inverse(np.zeros(1))[0]))


def test_gaps_are_imputed_without_looking_ahead():
    y = BASE.copy()
    y[50] = np.nan  # a gap in the test part: filled from the past only
    p = prepare(_series(y), test_size=12, preprocessing=Preprocessing(impute="linear"))
    assert p.y_clean[50] == y[49]
    assert np.isnan(p.y[50])
    y[10] = np.nan  # a gap in the training part: interpolated both sides
    p = prepare(_series(y), test_size=12, preprocessing=Preprocessing(impute="linear"))
    assert p.y_clean[10] == pytest.approx((y[9] + y[11]) / 2)
