"""``window_norm = "last"``: each window's target column is taken relative to its last value
and the outputs are added back to it (Hewamalage et al.'s per-window normalisation, in model
space); ``"level"``: relative to the target's exponential-smoothing level at the window's
last point (ES-RNN's normaliser), which the data layer puts in the last input column with
its smoothing weight fitted on the training part.  Checked against the plain model on a
hand-shifted window, the level against a looped recursion with statsmodels' weight, and end
to end: with no scaler and no differencing, a series moved up by a constant is forecast
moved up by exactly that constant, walk-forward and recursively, which a model without the
normalisation is not.
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


def test_level_forward_is_the_plain_model_on_the_window_less_its_level_plus_the_level():
    spec = ModelSpec(units=(3,), timesteps=4, n_features=3, horizon=2, window_norm="level")
    plain = ModelSpec(units=(3,), timesteps=4, n_features=3, horizon=2)
    params = init_params(jax.random.PRNGKey(1), spec)
    x = np.array([[1.0, 0.5, 1.1], [2.0, -0.1, 1.4], [4.0, 0.3, 2.2], [3.5, 0.9, 2.5]],
                 np.float32)
    shifted = x.copy()
    shifted[:, 0] -= 2.5  # by hand: the level at the last row; the feature column untouched
    shifted[:, 2] -= 2.5
    out, _ = forward(params, x, zero_state(spec), spec)
    ref, _ = forward(params, shifted, zero_state(plain), plain)
    np.testing.assert_allclose(out, np.asarray(ref) + 2.5, rtol=1e-6, atol=1e-6)


def test_an_unknown_norm_or_a_classifier_is_refused():
    with pytest.raises(ConfigError, match="window_norm must be one of none, last, level"):
        ModelSpec(window_norm="level!")
    with pytest.raises(ConfigError, match="n_features must be >= 2"):
        ModelSpec(window_norm="level", n_features=1)
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
    norms = ("last", "none") if multistep == "recursive" else ("last", "level", "none")
    for norm in norms:
        for shift in (0.0, 1000.0):
            ens, run = fit_ensemble(load(_series(shift)), {**cfg, "window_norm": norm},
                                    repeats=2, seed=3, holdout=6)
            out[norm, shift] = (run.forecasts("test"), ens.forecast(load(_series(shift)), 3))
    for norm in norms[:-1]:
        walk0, fc0 = out[norm, 0.0]
        walk1, fc1 = out[norm, 1000.0]
        np.testing.assert_allclose(walk1, walk0 + 1000.0, atol=5e-3)
        np.testing.assert_allclose(fc1["mean"], fc0["mean"] + 1000.0, atol=5e-3)
    plain0, plain1 = out["none", 0.0][0], out["none", 1000.0][0]
    assert np.abs(plain1 - plain0 - 1000.0).max() > 1.0  # not so without it


def _ts(values):
    from lstmtune.data import load

    return load(pd.Series(values, index=pd.date_range("2000-01-01", periods=len(values),
                                                      freq="MS"), name="y"))


def test_the_level_column_is_simple_exponential_smoothing_fitted_on_the_training_part():
    """By hand: statsmodels' alpha on the training part (model space: no scaler, no
    differencing), and the recursion looped over every point; nonsense after the training
    part changes neither the weight nor any level before it."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    from lstmtune.data import Framing, Preprocessing, prepare

    rng = np.random.default_rng(4)
    y = 50 + np.cumsum(rng.normal(0, 1, 40))
    prep = Preprocessing(scaler=None, difference=0)
    fr = Framing(lags=3, horizon=2, origin_step=2, level=True)
    p = prepare(_ts(y), test_size=6, val_size=6, preprocessing=prep, framing=fr)
    fit = ExponentialSmoothing(y[:28], initialization_method="known",
                               initial_level=y[0]).fit()
    alpha = fit.params["smoothing_level"]
    assert p.level_alpha == pytest.approx(alpha, rel=1e-6)
    level = [y[0]]
    for v in y[1:]:
        level.append(alpha * v + (1 - alpha) * level[-1])
    assert p.feature_names == ("es_level",)
    for w in (p.train, p.val, p.test):  # each window's last column at its rows
        rows = w.origin[:, None] + np.arange(-2, 1)[None, :]
        np.testing.assert_allclose(w.X[:, :, -1], np.asarray(level)[rows], rtol=1e-9)
    changed = y.copy()
    changed[28:] = 1e6
    q = prepare(_ts(changed), test_size=6, val_size=6, preprocessing=prep, framing=fr)
    assert q.level_alpha == p.level_alpha
    np.testing.assert_array_equal(q.train.X, p.train.X)
    assert q.val.origin[0] == 27  # the first validation window ends where training ends
    np.testing.assert_array_equal(q.val.X[0], p.val.X[0])


def test_level_with_a_recursive_roll_or_a_window_scaler_is_refused():
    from lstmtune.data import Framing, Preprocessing, prepare
    from lstmtune.errors import ConfigError as CE

    y = 50 + np.arange(40.0)
    with pytest.raises(CE, match="exponential-smoothing level \\(window_norm = level\\) "
                                 "is observed only up to the forecast origin"):
        prepare(_ts(y), test_size=6, framing=Framing(lags=3, horizon=3, multistep="recursive",
                                                     level=True))
    with pytest.raises(CE, match="use scale_on = series, or window_norm = last"):
        prepare(_ts(y), test_size=6, preprocessing=Preprocessing(scale_on="windows"),
                framing=Framing(lags=3, level=True))


def test_es_level_is_the_looped_recursion_from_the_first_finite_value():
    from lstmtune.data._prepare import es_level

    rng = np.random.default_rng(2)
    z = np.r_[np.nan, np.nan, rng.normal(size=30)]  # differencing leaves leading NaNs
    z[12] = np.nan  # a gap: the level is carried over it
    alpha, level, want = 0.3, np.nan, []
    for x in z:
        if np.isfinite(x):
            level = x if not np.isfinite(level) else alpha * x + (1 - alpha) * level
        want.append(level)
    np.testing.assert_allclose(es_level(z, alpha), want, rtol=1e-12)
    full = np.r_[np.nan, rng.normal(size=20)]  # no gap: the filtered path
    want, level = [np.nan], full[1]
    for x in full[1:]:
        level = alpha * x + (1 - alpha) * level if want[1:] else x
        want.append(level)
    np.testing.assert_allclose(es_level(full, alpha), want, rtol=1e-12)
