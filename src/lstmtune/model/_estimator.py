"""A scikit-learn-like estimator for one fixed configuration: ``fit`` a series, ``predict``
the next values.  For searching configurations use :func:`lstmtune.search.tune`."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from lstmtune.data import TimeSeries, load
from lstmtune.errors import ConfigError
from lstmtune.experiment._params import ALIASES, PARAMS, complete
from lstmtune.model._ensemble import Ensemble
from lstmtune.model._fit import fit_ensemble
from lstmtune.model._io import load_model, save_model

__all__ = ["LSTMForecaster"]


class LSTMForecaster:
    """Train one configuration ``repeats`` times on all of a series and forecast ahead with
    the members as an ensemble.

    >>> f = LSTMForecaster(units=2, epochs=300, repeats=5).fit(load("shampoo"))  # doctest: +SKIP
    >>> f.predict(6)                                      # doctest: +SKIP

    Hyperparameters are the names of ``lstmtune.experiment.PARAMS`` (aliases such as
    ``lags`` and ``lr`` allowed); unspecified ones take their defaults.  Early stopping is not
    available here (it needs a window held out of training).
    """

    def __init__(self, *, repeats: int = 10, seed: int = 0, point: str = "mean",
                 level: float = 0.9, **params: Any) -> None:
        self.repeats = repeats
        self.seed = seed
        self.point = point
        self.level = level
        self.params = params

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"repeats": self.repeats, "seed": self.seed, "point": self.point,
                "level": self.level, **self.params}

    def set_params(self, **params: Any) -> LSTMForecaster:
        for k in ("repeats", "seed", "point", "level"):
            if k in params:
                setattr(self, k, params.pop(k))
        self.params = {**self.params, **params}
        return self

    def config(self) -> dict[str, Any]:
        """The full configuration (validated, defaults filled in)."""
        out = {}
        for raw, value in self.params.items():
            name = ALIASES.get(raw, raw)
            if name not in PARAMS:
                raise ConfigError(f"LSTMForecaster got unknown hyperparameter '{raw}'; valid "
                                  f"names: {', '.join(PARAMS)}.")
            out[name] = PARAMS[name].check(value)
        config = complete(out)
        if config["patience"]:
            raise ConfigError("LSTMForecaster trains on the whole series, so early stopping "
                              "(patience) has no window to watch: set patience=0.")
        return config

    def fit(self, data: TimeSeries | pd.Series | pd.DataFrame | str | os.PathLike, **load_kw
            ) -> LSTMForecaster:
        """Train on all of ``data`` (anything :func:`lstmtune.data.load` reads)."""
        ts = data if isinstance(data, TimeSeries) else load(data, **load_kw)
        self.ensemble_, _ = fit_ensemble(ts, self.config(), repeats=self.repeats,
                                         seed=self.seed, holdout=0)
        self.series_ = ts
        return self

    def _fitted(self) -> Ensemble:
        if not hasattr(self, "ensemble_"):
            raise ConfigError("LSTMForecaster is not fitted yet: call fit(data) first.")
        return self.ensemble_

    def predict(self, horizon: int, data: TimeSeries | None = None, **load_kw
                ) -> pd.DataFrame:
        """The ``horizon`` values after ``data`` (default: the series given to ``fit``); see
        :meth:`Ensemble.forecast` for the columns."""
        ens = self._fitted()
        ts = self.series_ if data is None else \
            data if isinstance(data, TimeSeries) else load(data, **load_kw)
        return ens.forecast(ts, horizon, point=self.point, level=self.level)

    def save(self, path: str | os.PathLike):
        return save_model(self._fitted(), path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> LSTMForecaster:
        ens = load_model(path)
        est = cls(repeats=ens.repeats, **{k: v for k, v in ens.config.items()})
        est.ensemble_ = ens
        return est
