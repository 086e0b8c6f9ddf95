"""What a forecasting problem scores, in one object: the horizon H forecast from every
walk-forward origin, the metric (lower is better) and how its values are summarised.

The experiment and search layers score members with :meth:`ForecastTask.score`, the final
evaluation and the reports add :meth:`ForecastTask.step_scores` (the error of each horizon
step) and :meth:`ForecastTask.baselines` (the naive forecasts on exactly the same origins and
steps), so that a study never mixes two definitions of its objective.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from lstmtune.errors import ConfigError, DataError
from lstmtune.evaluation._baselines import BASELINES, walk_forward_forecasts
from lstmtune.evaluation._metrics import METRICS, compute_metrics, get_metric

__all__ = ["ForecastTask", "metric_value"]


def metric_value(metric: str, y_true: ArrayLike, y_pred: ArrayLike, *, y_train: ArrayLike,
                 season: int = 1) -> float:
    """``metric`` of a forecast, NaN where the forecast is not finite at a scored target or
    the metric is undefined (MAPE of a zero, MASE of a constant training part)."""
    t, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    known = np.isfinite(t)
    if not known.any() or not np.isfinite(p[known]).all():
        return math.nan
    try:
        if metric == "mase":
            return METRICS["mase"](t, p, y_train=y_train, season=season)
        return METRICS[metric](t, p)
    except DataError:
        return math.nan


@dataclass(frozen=True)
class ForecastTask:
    """Forecast ``horizon`` steps from every ``origin_step``-th walk-forward origin, scored
    by ``metric``."""

    horizon: int = 1
    metric: str = "rmse"
    origin_step: int = 1
    direction: ClassVar[str] = "minimize"

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or self.metric.strip().lower() not in METRICS:
            get_metric(str(self.metric))  # raises with the valid names and a suggestion
        object.__setattr__(self, "metric", self.metric.strip().lower())
        for name in ("horizon", "origin_step"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}.")

    @property
    def label(self) -> str:
        """The metric as tables name it (``RMSE``, ``MASE``)."""
        return self.metric.upper()

    def score(self, actual: ArrayLike, forecast: ArrayLike, *, y_train: ArrayLike,
              season: int = 1) -> float:
        """The metric over every scored (origin, step) of aligned (S, H) arrays."""
        return metric_value(self.metric, actual, forecast, y_train=y_train, season=season)

    def step_scores(self, actual: ArrayLike, forecast: ArrayLike, *, y_train: ArrayLike,
                    season: int = 1) -> list[float]:
        """The metric of each horizon step (column) of (S, H) arrays: H values."""
        t, p = np.atleast_2d(np.asarray(actual, float)), np.atleast_2d(np.asarray(forecast,
                                                                               float))
        return [metric_value(self.metric, t[:, h], p[:, h], y_train=y_train, season=season)
                for h in range(t.shape[1])]

    def baselines(self, y: ArrayLike, *, test_size: int, season: int = 1
                  ) -> dict[str, dict[str, Any]]:
        """Every baseline walk-forward over the last ``test_size`` points of ``y`` on the
        origins and steps a model is scored on: all metrics, the task's ``value`` and its
        ``per_step`` errors."""
        arr = np.asarray(y, float)
        table = walk_forward_forecasts(arr, test_size=test_size, horizon=self.horizon,
                                       season=season, origin_step=self.origin_step)
        y_train = arr[: arr.size - test_size]
        wide = table.pivot(index="origin", columns="step")
        out = {}
        for name in BASELINES:
            scores = compute_metrics(table["y"], table[name], y_train=y_train, season=season)
            actual, fc = wide["y"].to_numpy(), wide[name].to_numpy()
            out[name] = {**scores, "value": scores[self.metric],
                         "per_step": self.step_scores(actual, fc, y_train=y_train,
                                                      season=season)}
        return out
