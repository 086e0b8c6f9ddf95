import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from lstmtune.data import load
from lstmtune.errors import ConfigError
from lstmtune.model import LSTMForecaster, fit_ensemble
from tests.model.conftest import STATELESS


def test_fit_predict_equals_an_ensemble_trained_on_everything(shampoo):
    est = LSTMForecaster(repeats=2, seed=3, **STATELESS).fit(shampoo)
    ens, _ = fit_ensemble(shampoo, STATELESS, repeats=2, seed=3, holdout=0)
    want = ens.forecast(shampoo, 3)["forecast"].to_numpy()
    got = est.predict(3)
    np.testing.assert_array_equal(got.to_numpy(), want)
    assert list(got.index) == list(pd.date_range("1904-01-01", periods=3, freq="MS"))
    np.testing.assert_array_equal(est.predict([3, 1]).to_numpy(), want[[2, 0]])
    np.testing.assert_array_equal(est.forecast(3)["forecast"], want)
    assert est.ensemble_.info["n_fit"] == 36


def test_a_pandas_series_fits_like_the_loaded_one(shampoo):
    y = pd.Series(shampoo.y, index=shampoo.index, name="Sales")
    a = LSTMForecaster(repeats=2, **STATELESS).fit(y).predict(2)
    b = LSTMForecaster(repeats=2, **STATELESS).fit(shampoo).predict(2)
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_scikit_learn_sees_every_hyperparameter(shampoo):
    est = LSTMForecaster(repeats=2, lags=2, lr=0.01, units=2, epochs=40)
    params = est.get_params()
    assert params["timesteps"] == 2 and params["learning_rate"] == 0.01
    assert params["horizon"] == 1 and params["repeats"] == 2 and "lags" not in params
    twin = clone(est)
    assert twin.get_params() == params and twin is not est
    assert "timesteps=2" in repr(est) and "units=2" in repr(est)
    assert est.set_params(point="median", units=3).get_params()["units"] == 3


def test_save_load_and_predict_beyond(shampoo, tmp_path):
    est = LSTMForecaster(repeats=2, lags=1, lr=0.01, units=2, epochs=40).fit(shampoo)
    assert est.config()["timesteps"] == 1 and est.config()["learning_rate"] == 0.01
    est.save(tmp_path / "m")
    back = LSTMForecaster.load(tmp_path / "m")
    np.testing.assert_array_equal(back.predict(2, y=shampoo).to_numpy(),
                                  est.predict(2).to_numpy())
    with pytest.raises(ConfigError, match="pass the series to continue"):
        back.predict(2)  # a loaded model has no series of its own


def test_exogenous_columns_and_their_known_future():
    idx = pd.date_range("2000-01-01", periods=48, freq="MS")
    y = pd.Series(100 + 10 * np.sin(np.arange(48) / 2) + np.arange(48), index=idx, name="y")
    X = pd.DataFrame({"promo": (np.arange(48) % 3 == 0).astype(float)}, index=idx)
    est = LSTMForecaster(repeats=2, units=2, epochs=30, timesteps=2, horizon=3,
                         multistep="recursive", known_features="promo").fit(y, X)
    future = pd.DataFrame({"promo": [1.0, 0.0, 0.0]},
                          index=pd.date_range("2004-01-01", periods=3, freq="MS"))
    fc = est.predict(3, X=future)
    assert len(fc) == 3 and np.isfinite(fc).all()
    with pytest.raises(ConfigError, match="exactly y's index"):
        LSTMForecaster().fit(y, X.iloc[1:])


def test_estimator_errors(shampoo):
    with pytest.raises(ConfigError, match="unknown hyperparameter 'unitz'"):
        LSTMForecaster(unitz=2)
    with pytest.raises(ConfigError, match="units=0 is out of range"):
        LSTMForecaster(units=0).config()
    with pytest.raises(ConfigError, match="patience"):
        LSTMForecaster(patience=5).fit(shampoo)
    with pytest.raises(ConfigError, match="not fitted yet"):
        LSTMForecaster().predict(2)
    with pytest.raises(ConfigError, match="fh must be"):
        LSTMForecaster(**STATELESS).fit(load("shampoo")).predict([0, 1])
