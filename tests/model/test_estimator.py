import numpy as np
import pytest

from lstmtune.errors import ConfigError
from lstmtune.model import LSTMForecaster, fit_ensemble
from tests.model.conftest import STATELESS


def test_fit_predict_equals_an_ensemble_trained_on_everything(shampoo):
    est = LSTMForecaster(repeats=2, seed=3, **STATELESS).fit(shampoo)
    ens, _ = fit_ensemble(shampoo, STATELESS, repeats=2, seed=3, holdout=0)
    np.testing.assert_array_equal(est.predict(3)["forecast"],
                                  ens.forecast(shampoo, 3)["forecast"])
    assert est.ensemble_.info["n_fit"] == 36


def test_save_load_and_params(shampoo, tmp_path):
    est = LSTMForecaster(repeats=2, lags=1, lr=0.01, units=2, epochs=40).fit(shampoo)
    assert est.config()["timesteps"] == 1 and est.config()["learning_rate"] == 0.01
    est.save(tmp_path / "m")
    back = LSTMForecaster.load(tmp_path / "m")
    np.testing.assert_array_equal(back.predict(2, shampoo)["forecast"],
                                  est.predict(2)["forecast"])
    assert est.set_params(point="median", units=3).get_params()["units"] == 3


def test_estimator_errors(shampoo):
    with pytest.raises(ConfigError, match="unknown hyperparameter 'unitz'"):
        LSTMForecaster(unitz=2).config()
    with pytest.raises(ConfigError, match="units=0 is out of range"):
        LSTMForecaster(units=0).config()
    with pytest.raises(ConfigError, match="patience"):
        LSTMForecaster(patience=5).fit(shampoo)
    with pytest.raises(ConfigError, match="not fitted yet"):
        LSTMForecaster().predict(2)
