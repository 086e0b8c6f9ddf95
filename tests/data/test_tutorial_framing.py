"""Seed 000's data preparation, re-done here line by line as the tutorial writes it (pandas
shift/concat, sklearn MinMaxScaler), must equal what lstmtune produces."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.preprocessing import MinMaxScaler

from lstmtune.data import Framing, Preprocessing, frame_supervised, load, prepare, trim_to_multiple

SHAMPOO = [266.0, 145.9, 183.1, 119.3, 180.3, 168.5, 231.8, 224.5, 192.8, 122.9, 336.5, 185.9,
           194.3, 149.5, 210.1, 273.3, 191.4, 287.0, 226.0, 303.6, 289.9, 421.6, 264.5, 342.3,
           339.7, 440.4, 315.9, 439.3, 401.3, 437.4, 575.5, 407.6, 682.0, 475.3, 581.3, 646.9]


def _tutorial():
    raw = np.array(SHAMPOO)
    diff = pd.Series([raw[i] - raw[i - 1] for i in range(1, len(raw))])  # difference()
    df = pd.DataFrame(diff)
    supervised = pd.concat([df.shift(1), df], axis=1).drop(0).values  # timeseries_to_supervised
    train, test = supervised[0:-12], supervised[-12:]
    scaler = MinMaxScaler(feature_range=(-1, 1)).fit(train)
    return raw, supervised, scaler, scaler.transform(train), scaler.transform(test)


def _ours():
    return prepare(load("shampoo"), test_size=12,
                   preprocessing=Preprocessing(difference=1, scaler="minmax",
                                               scale_on="windows"),
                   framing=Framing(lags=1, horizon=1))


def test_builtin_shampoo_is_the_reference_series():
    np.testing.assert_array_equal(load("shampoo").y, SHAMPOO)


def test_supervised_frame_matches_timeseries_to_supervised():
    raw, supervised, *_ = _tutorial()
    ours = frame_supervised(np.diff(raw), lags=1)
    assert ours.shape == (34, 2)
    np.testing.assert_array_equal(ours, supervised)


def test_scaled_train_and_test_arrays_match_the_tutorial():
    _, _, _, train_scaled, test_scaled = _tutorial()
    p = _ours()
    assert (len(p.train), len(p.test)) == (22, 12)  # published: 22 rows after framing
    ours_train = np.column_stack([p.train.X[:, 0, 0], p.train.y[:, 0]])
    ours_test = np.column_stack([p.test.X[:, 0, 0], p.test.y[:, 0]])
    np.testing.assert_allclose(ours_train, train_scaled, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours_test, test_scaled, rtol=0, atol=1e-12)
    start = trim_to_multiple(len(p.train), 4)  # the tutorial's train_scaled[2:, :]
    assert start == 2
    np.testing.assert_allclose(ours_train[start:], train_scaled[2:], atol=1e-12)
    assert len(ours_train[start:]) == 20  # published: 20 rows used


def test_forecast_inversion_matches_invert_scale_and_inverse_difference():
    raw, _, scaler, _, test_scaled = _tutorial()
    p = _ours()
    yhat = np.linspace(-0.9, 0.9, 12)  # any model output in scaled units
    expected = []
    for i in range(12):  # the tutorial's invert_scale + inverse_difference, per row
        row = np.array([[test_scaled[i, 0], yhat[i]]])
        inverted = scaler.inverse_transform(row)[0, -1]
        expected.append(inverted + raw[-(12 + 1 - i)])
    ours = p.to_original(yhat[:, None], p.test)[:, 0]
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-9)
    # a perfect forecast gives back the last 12 months exactly
    np.testing.assert_allclose(p.to_original(test_scaled[:, 1:], p.test)[:, 0], raw[-12:],
                               atol=1e-9)
