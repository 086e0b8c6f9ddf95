"""A scikit-learn estimator for one fixed configuration: ``fit`` a series (and exogenous
columns), ``predict`` the steps ahead.  For searching configurations use
:func:`lstmtune.search.tune`."""

from __future__ import annotations

import inspect
import os
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from lstmtune.data import TimeSeries, load
from lstmtune.errors import ConfigError
from lstmtune.experiment import ALIASES, CLASSIFY_ONLY, PANEL_ONLY, complete
from lstmtune.experiment import PARAMS as ALL_PARAMS
from lstmtune.model._ensemble import Ensemble
from lstmtune.model._fit import fit_ensemble
from lstmtune.model._io import ModelError, load_model, save_model

# a forecaster's hyperparameters: the vocabulary's less the classifier's own
PARAMS = {n: p for n, p in ALL_PARAMS.items()
          if n not in (*CLASSIFY_ONLY, *PANEL_ONLY)}

__all__ = ["LSTMForecaster"]

OWN = {"repeats": 10, "seed": 0, "point": "mean", "level": 0.9}  # not hyperparameters


class LSTMForecaster(BaseEstimator):
    """Train one configuration ``repeats`` times on all of a series and forecast ahead with
    the members as an ensemble (point forecast: their mean or median).

    >>> f = LSTMForecaster(units=2, epochs=300, repeats=5).fit(load("shampoo"))  # doctest: +SKIP
    >>> f.predict([1, 2, 3])                              # doctest: +SKIP

    Every forecasting hyperparameter of ``lstmtune.experiment.PARAMS`` is a keyword (aliases such as
    ``lags`` and ``lr`` are accepted and stored under their names), so ``get_params``,
    ``set_params``, ``clone`` and ``repr`` work as for any scikit-learn estimator.  Values are
    validated by ``fit``.  Early stopping is not available here (it needs a window held out
    of training).
    """

    def __init__(self, **params: Any) -> None:
        for raw, value in params.items():
            name = ALIASES.get(raw, raw)
            if name not in PARAMS and name not in OWN:
                raise ConfigError(f"LSTMForecaster got unknown hyperparameter '{raw}'; valid "
                                  f"names: {', '.join([*OWN, *PARAMS])}.")
            setattr(self, name, value)
        for name, default in {**OWN, **{n: p.default for n, p in PARAMS.items()}}.items():
            if not hasattr(self, name):
                setattr(self, name, default)

    def config(self) -> dict[str, Any]:
        """The full configuration (validated, defaults filled in)."""
        config = complete({name: PARAMS[name].check(getattr(self, name)) for name in PARAMS})
        if config["patience"]:
            raise ConfigError("LSTMForecaster trains on the whole series, so early stopping "
                              "(patience) has no window to watch: set patience=0.")
        return config

    def fit(self, y: TimeSeries | pd.Series | pd.DataFrame | str | os.PathLike,
            X: pd.DataFrame | None = None, **load_kw) -> LSTMForecaster:
        """Train on all of ``y`` (anything :func:`lstmtune.data.load` reads); ``X``: input
        columns on the same time index (their future is read from ``predict``'s ``X`` when
        they are listed in ``known_features``)."""
        ts = _series(y, X, load_kw)
        self.ensemble_, _ = fit_ensemble(ts, self.config(), repeats=self.repeats,
                                         seed=self.seed, holdout=0)
        self.series_ = ts
        return self

    def _fitted(self) -> Ensemble:
        if not hasattr(self, "ensemble_"):
            raise ConfigError("LSTMForecaster is not fitted yet: call fit(y) first.")
        return self.ensemble_

    def predict(self, fh: int | list[int] | np.ndarray, X: pd.DataFrame | None = None,
                y: TimeSeries | pd.Series | pd.DataFrame | None = None) -> pd.Series:
        """The point forecast at steps ``fh`` after the series (``fh=3`` means steps 1..3;
        a list picks steps, 1-based), indexed by their future times.  ``X``: the known
        feature columns over the steps ahead; ``y``: continue another (later) series than the
        one given to ``fit``."""
        steps = _steps(fh)
        self._fitted()
        ts = self._continued(y)
        picked = self.forecast(int(steps.max()), y=ts, X=X).iloc[steps - 1]
        dated = isinstance(ts.index, pd.DatetimeIndex)
        index = pd.Index(pd.to_datetime(picked["time"]) if dated else
                         picked["time"].astype(int), name="time")
        return pd.Series(picked["forecast"].to_numpy(), index=index, name=ts.targets[0])

    def forecast(self, horizon: int, y: TimeSeries | pd.Series | pd.DataFrame | None = None,
                 X: pd.DataFrame | None = None, **load_kw) -> pd.DataFrame:
        """The next ``horizon`` values as a table (see :meth:`Ensemble.forecast`: forecast,
        low/high, mean, median, std and every member)."""
        ens = self._fitted()
        return ens.forecast(self._continued(y, load_kw), horizon, point=self.point,
                            level=self.level, future=X)

    def _continued(self, y, load_kw: dict | None = None) -> TimeSeries:
        """The series to forecast after: ``y``, or the one given to ``fit``."""
        if y is not None:
            return _series(y, None, load_kw or {})
        if not hasattr(self, "series_"):
            raise ConfigError("this LSTMForecaster was loaded from a model directory and has "
                              "no series of its own: pass the series to continue, "
                              "predict(fh, y=series).")
        return self.series_

    def save(self, path: str | os.PathLike):
        return save_model(self._fitted(), path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> LSTMForecaster:
        """A saved model (``save``, or ``tune``'s ``model`` folder) ready to ``predict``
        beyond the series it was fitted on."""
        ens = load_model(path)
        if not isinstance(ens, Ensemble):  # a committee, a panel model or a classifier
            kind = {"Committee": "a committee of a study's best configurations",
                    "PanelModel": "a panel model", "Classifier": "a classifier"}.get(
                type(ens).__name__, type(ens).__name__)
            raise ModelError(f"{path} holds {kind}, not one configuration's forecaster: read "
                             "it with lstmtune.model.load_model (its forecast method), or "
                             "`lstmtune predict`.")
        est = cls(repeats=ens.repeats, point=ens.point,
                  **{k: v for k, v in ens.config.items() if k in PARAMS})
        est.ensemble_ = ens
        return est


def _signature() -> inspect.Signature:
    """Every hyperparameter as a keyword with its default: what scikit-learn's get_params,
    clone and repr read."""
    kw = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(n, kw, default=v) for n, v in OWN.items()]
    params += [inspect.Parameter(n, kw, default=p.default) for n, p in PARAMS.items()]
    return inspect.Signature(params)


LSTMForecaster.__init__.__signature__ = _signature()


def _series(y, X: pd.DataFrame | None, load_kw: dict) -> TimeSeries:
    """``y`` (and the columns ``X`` on its index) as a validated series."""
    if X is None:
        return y if isinstance(y, TimeSeries) else load(y, **load_kw)
    if not isinstance(y, pd.Series) or not isinstance(X, pd.DataFrame):
        raise ConfigError("fit(y, X): with X, y must be a pandas Series and X a DataFrame on "
                          "the same index.")
    if not y.index.equals(X.index):
        raise ConfigError("fit(y, X): X must have exactly y's index (the same times, in "
                          "order); align them first (e.g. X = X.loc[y.index]).")
    name = str(y.name) if y.name is not None else "y"
    if name in X.columns:
        raise ConfigError(f"fit(y, X): X has a column '{name}', the name of y: rename one.")
    frame = pd.concat([y.rename(name), X], axis=1)
    return load(frame, target=name, features=[str(c) for c in X.columns], **load_kw)


def _steps(fh) -> np.ndarray:
    if isinstance(fh, int | np.integer) and not isinstance(fh, bool):
        if fh < 1:
            raise ConfigError(f"fh must be >= 1 (steps ahead), got {fh}.")
        return np.arange(1, int(fh) + 1)
    steps = np.asarray(fh)
    if steps.ndim != 1 or steps.size == 0 or not np.issubdtype(steps.dtype, np.integer) or \
            (steps < 1).any():
        raise ConfigError(f"fh must be a number of steps or a list of steps >= 1, got {fh!r}.")
    return steps
