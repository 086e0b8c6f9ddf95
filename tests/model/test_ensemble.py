import numpy as np
import pandas as pd
import pytest

from lstmtune.data import load
from lstmtune.errors import ConfigError, DataError
from lstmtune.experiment import PARAMS
from lstmtune.experiment._evaluate import evaluate_configs
from lstmtune.experiment._params import complete
from tests.model.conftest import STATELESS


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _reference(ens, y: np.ndarray, horizon: int, n_fit: int) -> np.ndarray:
    """Hand-written forecasts for a 1-layer, 1-lag, lag-1-differenced, min-max scaled model
    (Keras gate order i, f, g, o; zero initial state): the member's own forecasts feed the
    next step."""
    d_train = np.diff(y[:n_fit])
    lo, hi = d_train.min(), d_train.max()
    scale = 2.0 / (hi - lo)
    p = ens.params
    out = np.zeros((ens.repeats, horizon))
    for m in range(ens.repeats):
        W, U, b = (np.asarray(p["layers"][0][k][m], float) for k in ("W", "U", "b"))
        Wd, bd = np.asarray(p["Wd"][m], float), np.asarray(p["bd"][m], float)
        u = U.shape[0]
        path = list(y)
        for h in range(horizon):
            x = (path[-1] - path[-2] - lo) * scale - 1.0
            z = x * W[0] + b  # one time step from h = c = 0, so U does not enter
            i, g, o = z[:u], z[2 * u:3 * u], z[3 * u:]  # c0 = 0: the forget gate drops out
            c = _sigmoid(i) * np.tanh(g)
            hs = _sigmoid(o) * np.tanh(c)
            zhat = (hs @ Wd + bd)[0]
            path.append(path[-1] + (zhat + 1.0) / scale + lo)
            out[m, h] = path[-1]
    return out


def test_recursive_forecast_matches_a_hand_written_reference(stateless, shampoo):
    ens, _ = stateless
    got = ens.member_forecasts(shampoo, 4)
    want = _reference(ens, shampoo.y, 4, n_fit=24)
    np.testing.assert_allclose(got, want, rtol=2e-5)


@pytest.mark.parametrize("which", ["stateless", "stateful"])
def test_one_step_on_truncated_data_equals_the_walk_forward_test_forecasts(which, request,
                                                                           shampoo):
    ens, run = request.getfixturevalue(which)
    test = run.forecasts("test")[:, :, 0]  # (R, 12): the engine's own walk-forward pass
    looped = np.stack([ens.member_forecasts(shampoo.head(24 + k), 1)[:, 0]
                       for k in range(12)], axis=1)
    np.testing.assert_allclose(looped, test, rtol=1e-6)


def test_holdout_scores_equal_the_search_loops_scores(stateless, shampoo):
    _, run = stateless
    ref = evaluate_configs([(shampoo, 12)], [complete(STATELESS)], repeats=3, seed=0)[0]
    np.testing.assert_allclose(run.scores("test"), ref.scores, rtol=1e-6)


def test_forecast_table_is_the_members_summary(stateless, shampoo):
    ens, _ = stateless
    fc = ens.forecast(shampoo, 3, level=0.5)
    members = fc[[f"member_{k}" for k in range(3)]].to_numpy()
    np.testing.assert_allclose(fc["forecast"], members.mean(axis=1))
    np.testing.assert_allclose(fc["low"], np.quantile(members, 0.25, axis=1))
    np.testing.assert_allclose(fc["high"], np.quantile(members, 0.75, axis=1))
    assert list(fc["time"]) == ["1904-01-01", "1904-02-01", "1904-03-01"]
    assert list(fc["step"]) == [1, 2, 3]
    med = ens.forecast(shampoo, 3, point="median")
    np.testing.assert_allclose(med["forecast"], np.median(members, axis=1))


def test_forecast_refuses_bad_requests(stateless, shampoo):
    ens, _ = stateless
    with pytest.raises(ConfigError, match="horizon must be a whole number >= 1, got 0"):
        ens.forecast(shampoo, 0)
    with pytest.raises(ConfigError, match="point must be mean or median"):
        ens.forecast(shampoo, 2, point="mode")
    with pytest.raises(ConfigError, match="level must lie strictly between 0 and 1"):
        ens.forecast(shampoo, 2, level=1.0)
    daily = load(pd.Series(shampoo.y, index=pd.date_range("2020-01-01", periods=36,
                                                           freq="D")))
    with pytest.raises(DataError, match="frequency MS but .* has frequency D"):
        ens.forecast(daily, 2)
    with pytest.raises(DataError, match="too little usable history"):
        ens.forecast(shampoo.head(1), 1)


def test_series_without_dates_continue_their_positions(shampoo):
    from lstmtune.model import fit_ensemble

    ts = load(pd.Series(shampoo.y))  # positions 0..35
    ens, _ = fit_ensemble(ts, STATELESS, repeats=2, seed=0, holdout=12)
    fc = ens.forecast(ts, 2)
    assert list(fc["time"]) == ["36", "37"]


def test_every_param_name_survives_a_configuration(stateless):
    ens, _ = stateless
    assert set(ens.config) == set(PARAMS)
    assert ens.info["n_fit"] == 24 and ens.info["holdout"] == 12
    assert ens.info["fit_end"] == "1902-12-01 00:00:00"
