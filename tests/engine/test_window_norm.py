"""``window_norm = "last"``: each window's target column is taken relative to its last value
and the outputs are added back to it (Hewamalage et al.'s per-window normalisation, in model
space).  Checked against the plain model on a hand-shifted window, and end to end: with no
scaler and no differencing, a series moved up by a constant is forecast moved up by exactly
that constant, walk-forward and recursively, which a model without the normalisation is not.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
import pytest

from lstmtune.engine import ModelSpec, forward, init_params
from lstmtune.engine._lstm import zero_state
from lstmtune.errors import ConfigError
from lstmtune.model import fit_ensemble


def test_forward_is_the_plain_model_on_the_shifted_window_plus_the_level():
    spec = ModelSpec(units=(3,), timesteps=4, n_features=2, horizon=3, window_norm="last")
    plain = ModelSpec(units=(3,), timesteps=4, n_features=2, horizon=3)
    params = init_params(jax.random.PRNGKey(0), spec)
    x = np.array([[1.0, 0.5], [2.0, -0.1], [4.0, 0.3], [3.5, 0.9]], np.float32)
    shifted = x.copy()
    shifted[:, 0] -= 3.5  # by hand: the last target value; the feature column untouched
    out, _ = forward(params, x, zero_state(spec), spec)
    ref, _ = forward(params, shifted, zero_state(plain), plain)
    np.testing.assert_allclose(out, np.asarray(ref) + 3.5, rtol=1e-6, atol=1e-6)


def test_an_unknown_norm_or_a_classifier_is_refused():
    with pytest.raises(ConfigError, match="window_norm must be one of none, last"):
        ModelSpec(window_norm="level!")
    with pytest.raises(ConfigError, match="not to classified sequences"):
        ModelSpec(vocab_size=10, embed_dim=2, window_norm="last")


def _series(shift: float) -> pd.Series:
    t = np.arange(48)
    y = 10 + 0.5 * t + 3 * np.sin(2 * np.pi * t / 12) + shift
    return pd.Series(y, index=pd.date_range("2000-01-01", periods=48, freq="MS"), name="y")


@pytest.mark.parametrize("multistep", ["direct", "recursive"])
def test_a_series_moved_up_is_forecast_moved_up_by_the_same_amount(multistep):
    from lstmtune.data import load

    cfg = {"units": 3, "timesteps": 6, "horizon": 3, "multistep": multistep, "epochs": 5,
           "batch_size": 8, "scaler": "none", "difference": 0, "learning_rate": 0.01}
    out = {}
    for norm in ("last", "none"):
        for shift in (0.0, 1000.0):
            ens, run = fit_ensemble(load(_series(shift)), {**cfg, "window_norm": norm},
                                    repeats=2, seed=3, holdout=6)
            out[norm, shift] = (run.forecasts("test"), ens.forecast(load(_series(shift)), 3))
    walk0, fc0 = out["last", 0.0]
    walk1, fc1 = out["last", 1000.0]
    np.testing.assert_allclose(walk1, walk0 + 1000.0, atol=2e-3)
    np.testing.assert_allclose(fc1["mean"], fc0["mean"] + 1000.0, atol=2e-3)
    plain0, plain1 = out["none", 0.0][0], out["none", 1000.0][0]
    assert np.abs(plain1 - plain0 - 1000.0).max() > 1.0  # not so without it
