"""Naive baseline forecasts, made walk-forward in original units from actuals only.

Each kernel takes the observed ``history`` (1-D, last value is the forecast origin ``y_t``) and
returns the ``h`` forecasts ``yhat_{t+1} .. yhat_{t+h}``.  :func:`walk_forward_forecasts` moves
the origin through the test window, revealing one more actual each time, and returns a tidy
long table; :func:`evaluate_baselines` scores it with :func:`compute_metrics`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lstmtune.data import resolve_size
from lstmtune.errors import ConfigError, DataError, SplitError
from lstmtune.evaluation._metrics import compute_metrics

__all__ = [
    "BASELINES",
    "drift",
    "evaluate_baselines",
    "fitting_season",
    "mean_forecast",
    "persistence",
    "seasonal_naive",
    "walk_forward_forecasts",
]

Baseline = Callable[[np.ndarray, int, int], np.ndarray]
"""``(history, h, season) -> forecasts`` of length ``h``."""


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {name}={value!r}. Use {name}=1.")
    return int(value)


def _history(history: ArrayLike) -> np.ndarray:
    y = np.asarray(history, dtype=float)
    if y.ndim != 1 or y.size == 0:
        raise DataError(
            f"history must be a non-empty 1-D series, got shape {y.shape}. "
            "Pass the observed values up to the forecast origin."
        )
    return y


def persistence(history: ArrayLike, h: int) -> np.ndarray:
    """Naive forecast: every step repeats the last observation, ``yhat_{t+k} = y_t``."""
    y = _history(history)
    return np.full(_positive_int(h, "h"), y[-1])


def seasonal_naive(history: ArrayLike, h: int, season: int) -> np.ndarray:
    """Seasonal naive: ``yhat_{t+k} = y_{t+k-m*ceil(k/m)}`` with ``m = season``.

    Raises
    ------
    SplitError
        If the history is shorter than one season.
    """
    y = _history(history)
    h, m = _positive_int(h, "h"), _positive_int(season, "season")
    if y.size < m:
        raise SplitError(
            f"History of {y.size} points is too short for season={m}: seasonal_naive needs "
            f"at least {m} points. Use a smaller season or more history."
        )
    k = np.arange(1, h + 1)
    return y[y.size - m + (k - 1) % m]


def mean_forecast(history: ArrayLike, h: int) -> np.ndarray:
    """Mean forecast: every step is the mean of the whole history."""
    y = _history(history)
    return np.full(_positive_int(h, "h"), y.mean())


def drift(history: ArrayLike, h: int) -> np.ndarray:
    """Drift (random walk with drift): ``y_t + k * (y_t - y_0) / t`` with ``t = len - 1``.

    With a single observation this is :func:`persistence`.
    """
    y = _history(history)
    h = _positive_int(h, "h")
    t = y.size - 1
    slope = (y[-1] - y[0]) / t if t > 0 else 0.0
    return y[-1] + slope * np.arange(1, h + 1)


BASELINES: dict[str, Baseline] = {
    "persistence": lambda history, h, season: persistence(history, h),
    "seasonal_naive": seasonal_naive,
    "mean": lambda history, h, season: mean_forecast(history, h),
    "drift": lambda history, h, season: drift(history, h),
}
"""Baseline name -> ``(history, h, season) -> forecasts``; columns of the forecasts table."""


def _validate(
    y: ArrayLike, test_size: int | float, horizon: int, season: int
) -> tuple[np.ndarray, int, int, int]:
    arr = np.asarray(y, dtype=float)
    if arr.ndim != 1:
        raise DataError(f"y must be a 1-D series, got shape {arr.shape}. Pass one series.")
    if np.isinf(arr).any() or np.isnan(arr).all():
        bad = int(np.count_nonzero(~np.isfinite(arr)))
        raise DataError(
            f"y must be finite, or NaN for a gap, got {bad} NaN/inf value(s) out of "
            f"{arr.size}. Replace infinite values; a series needs observed values."
        )
    n = arr.size
    n_test = resolve_size(test_size, n, "test_size")
    horizon = _positive_int(horizon, "horizon")
    season = _positive_int(season, "season")
    if not 1 <= n_test <= n - 2:
        raise SplitError(
            f"test_size must be between 1 and n-2={n - 2} for a series of n={n} points, "
            f"got test_size={n_test}. Use a smaller test_size or more data."
        )
    n_hist = n - n_test
    if season > n_hist:
        raise SplitError(
            f"Series of {n} points is too short for season={season} with "
            f"test_size={n_test}: the first forecast origin sees only {n_hist} points, "
            f"need at least {season}. Use season <= {n_hist}"
            + (f" or test_size <= {n - season}." if n - season >= 1 else
               f" (the whole series has only {n} points).")
        )
    return arr, n_test, horizon, season


def fitting_season(season: int, history: int) -> int:
    """``season`` when a history of ``history`` points holds a whole season (the seasonal
    naive forecast and the MASE scale need one), else 1: a series' own period (12 for monthly
    data) used wherever it fits, without refusing a short series."""
    return season if 1 <= season <= history - 1 else 1


def walk_forward_forecasts(
    y: ArrayLike, *, test_size: int | float, horizon: int = 1, season: int = 1,
    origin_step: int = 1, methods: Mapping[str, Baseline] | None = None
) -> pd.DataFrame:
    """Walk-forward baseline forecasts over the last ``test_size`` points of ``y``.

    For every origin ``t`` from ``n - test_size - 1`` to ``n - 2`` the history is ``y[:t+1]``
    (actuals only, revealed as the walk goes on); steps ``1..horizon`` are forecast and rows
    whose target lies in the test window ``[n - test_size, n)`` are kept.  Step ``k`` thus
    scores ``test_size - k + 1`` targets.  Gaps (NaN) are filled in each history with the last
    observation before them (the leading ones with the first); a missing target stays NaN in
    ``y`` and is not scored.  ``origin_step`` > 1 keeps every ``origin_step``-th origin from
    the first.  ``methods`` (name -> ``fn(history, horizon, season)``) replaces
    :data:`BASELINES`.

    Returns
    -------
    pandas.DataFrame
        Columns ``origin, step, target_index, y`` and one column per entry of
        :data:`BASELINES` (or of ``methods``), sorted by origin then step.
    """
    arr, n_test, horizon, season = _validate(y, test_size, horizon, season)
    n = arr.size
    # gaps: each history carries its last observation forward (never a later one), and a
    # missing target is kept as NaN, so it is not scored
    filled = pd.Series(arr).ffill().bfill().to_numpy()
    rows: list[tuple[int, int]] = []
    methods = BASELINES if methods is None else methods
    forecasts: dict[str, list[float]] = {name: [] for name in methods}
    for origin in range(n - n_test - 1, n - 1, _positive_int(origin_step, "origin_step")):
        history = filled[: origin + 1]
        keep = min(horizon, n - 1 - origin)
        rows.extend((origin, k) for k in range(1, keep + 1))
        for name, fn in methods.items():
            forecasts[name].extend(fn(history, horizon, season)[:keep].tolist())
    origins = np.array([r[0] for r in rows], dtype=np.int64)
    steps = np.array([r[1] for r in rows], dtype=np.int64)
    table = pd.DataFrame({"origin": origins, "step": steps, "target_index": origins + steps})
    table["y"] = arr[table["target_index"].to_numpy()]
    for name, values in forecasts.items():
        table[name] = np.asarray(values, dtype=float)
    return table


def evaluate_baselines(
    y: ArrayLike, *, test_size: int | float, horizon: int = 1, season: int = 1
) -> dict[str, dict[str, float]]:
    """Score every baseline on the walk-forward test window.

    Metrics pool all rows of :func:`walk_forward_forecasts` (every step); MASE is scaled by
    the training part ``y[:n - test_size]`` with the same ``season``.

    Returns
    -------
    dict
        ``{baseline name: {metric name: value}}``.
    """
    arr, n_test, horizon, season = _validate(y, test_size, horizon, season)
    table = walk_forward_forecasts(arr, test_size=n_test, horizon=horizon, season=season)
    y_train = arr[: arr.size - n_test]
    return {
        name: compute_metrics(table["y"], table[name], y_train=y_train, season=season)
        for name in BASELINES
    }
