"""STL deseasonalising (``deseasonalise = "stl"``) against independent references: a known
seasonal pattern comes back from a series built from it; positions after the training part
take the last cycle (indices written by hand); nothing after the training part is read;
the inverse restores the series; the step is saved and read back with a model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import (
    Framing,
    Log,
    MinMaxScale,
    Preprocessing,
    STLDeseasonalise,
    load,
    prepare,
)
from lstmtune.errors import ConfigError
from lstmtune.experiment import complete
from lstmtune.experiment._params import build_prep

M = 12
PATTERN = np.array([5.0, 3.0, 1.0, -1.0, -3.0, -5.0, -4.0, -2.0, 0.0, 2.0, 4.0, 0.0])


def _series(n: int, noise: float = 0.1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + 0.05 * t + PATTERN[t % M] + rng.normal(0, noise, n)


def test_the_seasonal_pattern_a_series_was_built_from_comes_back():
    y = _series(96)
    step = STLDeseasonalise(season=M).fit(y[:72])
    assert step.seasonal and step.seasonal_.shape == (72,)
    centred = PATTERN - PATTERN.mean()  # STL's component averages ~0 over a cycle
    np.testing.assert_allclose(step.seasonal_[-M:], centred, atol=0.35)
    left = step.transform(y[:72])  # trend and noise: no cycle left
    assert np.abs(np.diff(left)).max() < 1.5 < np.abs(np.diff(y[:72])).max()


def test_positions_past_the_training_part_take_its_last_cycle():
    y = _series(30)
    step = STLDeseasonalise(season=M, test=False).fit(y)
    s = step.seasonal_
    pos = np.array([0, 29, 30, 31, 41, 42, 53, -1, -12])
    # n = 30: position p >= 30 reads s[18 + (p - 30) % 12]; p < 0 reads s[p % 12]
    want = s[[0, 29, 18, 19, 29, 18, 29, 11, 0]]
    np.testing.assert_allclose(step.transform(np.zeros(len(pos)), positions=pos), -want)
    x = np.linspace(1, 2, len(pos))
    np.testing.assert_allclose(step.inverse(step.transform(x, positions=pos),
                                            positions=pos), x)


def test_a_series_the_acf_test_finds_not_seasonal_is_left_as_it_is():
    rng = np.random.default_rng(1)
    y = 50 + rng.normal(0, 1, 60)
    step = STLDeseasonalise(season=M).fit(y)
    assert not step.seasonal
    np.testing.assert_array_equal(step.transform(y), y)
    short = STLDeseasonalise(season=M, test=False).fit(_series(20))  # under two seasons
    assert not short.seasonal
    with pytest.raises(ConfigError, match="season must be a whole number >= 2"):
        STLDeseasonalise(season=1)


def _ts(values: np.ndarray):
    return load(pd.Series(values, index=pd.date_range("2000-01-01", periods=len(values),
                                                      freq="MS")))


def test_stl_is_fitted_after_the_log_on_the_training_part_only():
    y = _series(84)
    prep = Preprocessing(log=True, deseasonalise=M, deseasonalise_method="stl", difference=0)
    fr = Framing(lags=15, horizon=6, origin_step=6)
    a = prepare(_ts(y), test_size=12, val_size=12, preprocessing=prep, framing=fr)
    assert [type(s) for s in a.chain.steps] == [Log, STLDeseasonalise, MinMaxScale]
    ref = STLDeseasonalise(season=M).fit(np.log(y[:60]))
    np.testing.assert_allclose(a.chain.steps[1].seasonal_, ref.seasonal_)
    changed = y.copy()
    changed[60:] = 1e4  # nonsense after the training part
    b = prepare(_ts(changed), test_size=12, val_size=12, preprocessing=prep, framing=fr)
    np.testing.assert_array_equal(a.chain.steps[1].seasonal_, b.chain.steps[1].seasonal_)
    np.testing.assert_array_equal(a.train.X, b.train.X)
    # the scored window's actual values, transformed and inverted, come back exactly
    w = a.test
    z = a.chain.transform(a.y_clean)
    pred = z[w.origin[:, None] + 1 + np.arange(6)[None, :]][None]
    np.testing.assert_allclose(a.to_original(pred, w)[0], a.actual(w), rtol=1e-10)


def test_deseasonalise_stl_is_one_setting_everywhere():
    prep, _ = build_prep(complete({"deseasonalise": "stl"}), season=M)
    assert (prep.deseasonalise, prep.deseasonalise_method) == (M, "stl")
    prep, _ = build_prep(complete({"deseasonalise": True}), season=M)
    assert (prep.deseasonalise, prep.deseasonalise_method) == (M, "classical")
    prep, _ = build_prep(complete({"deseasonalise": "stl", "difference": 0}), season=1)
    assert prep.deseasonalise == 0 and prep.target_chain(with_scaler=False).steps == []
    with pytest.raises(ConfigError, match="bad value 'loess' for deseasonalise: expected "
                                          r"true \(classical\), stl or false"):
        complete({"deseasonalise": "loess"})
    with pytest.raises(ConfigError, match="deseasonalise_method must be one of"):
        dataclasses.replace(Preprocessing(), deseasonalise_method="x13")
