"""The detached preprocessing frames new data exactly as ``prepare`` framed the training
data, before and after a JSON round trip."""

import json

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import FittedPrep, Framing, Preprocessing, load, prepare
from lstmtune.data._fitted import position_offset


@pytest.mark.parametrize("prep, framing", [
    (Preprocessing(difference=1), Framing(lags=3)),
    (Preprocessing(difference=1, scale_on="windows"), Framing(lags=2)),
    (Preprocessing(log=True, seasonal_lag=12, scaler="standard"),
     Framing(lags=2, fourier=((12, 2),), calendar=("month",), indicators=("sma:3",))),
])
def test_inputs_and_inversion_match_prepare(prep, framing):
    ts = load("shampoo")
    p = prepare(ts, test_size=6, preprocessing=prep, framing=framing)
    fitted = FittedPrep.from_dict(json.loads(json.dumps(FittedPrep.from_prepared(p)
                                                        .to_dict())))
    y = fitted.clean(ts)
    for w in (p.train, p.test):
        np.testing.assert_allclose(fitted.inputs(ts, y, w.origin), w.X, rtol=1e-12)
    pred = np.random.default_rng(0).normal(size=(2, len(p.test), 1))
    np.testing.assert_allclose(fitted.to_original(pred, p.test.origin, y),
                               p.to_original(pred, p.test), rtol=1e-12)


def test_fourier_phase_follows_the_dates():
    ts = load("shampoo")
    p = prepare(ts, test_size=6, framing=Framing(lags=1, fourier=((12, 1),)))
    fitted = FittedPrep.from_prepared(p)
    later = ts.head(36)  # same start: offset 0
    assert position_offset(later.index, fitted.start, fitted.freq) == 0
    tail = load(pd.Series(ts.y[5:], index=ts.index[5:]))
    assert position_offset(tail.index, fitted.start, fitted.freq) == 5
    np.testing.assert_allclose(fitted.inputs(tail, fitted.clean(tail), np.array([10])),
                               fitted.inputs(ts, fitted.clean(ts), np.array([15])))
