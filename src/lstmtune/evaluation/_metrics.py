"""Point-forecast error metrics as pure numpy functions.

Every metric takes aligned ``y_true`` and ``y_pred`` of any (equal) shape.  Positions where
``y_true`` is NaN are skipped together with their prediction (a target that was never observed
cannot be scored); a NaN in ``y_pred`` where ``y_true`` is known is *not* skipped and makes the
metric NaN, so a broken model cannot look good.  If no position remains, DataError is raised.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from lstmtune.errors import ConfigError, DataError

__all__ = [
    "METRICS",
    "compute_metrics",
    "get_metric",
    "metric_value",
    "mae",
    "mape",
    "mase",
    "rmse",
    "smape",
]

Metric = Callable[..., float]


def _aligned(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return the flattened pairs where ``y_true`` is not NaN."""
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if t.shape != p.shape:
        raise DataError(
            f"y_true and y_pred must have the same shape, got y_true {t.shape} and "
            f"y_pred {p.shape}. Align forecasts with their targets before scoring."
        )
    keep = ~np.isnan(t)
    if not keep.any():
        raise DataError(
            f"No targets to score: all {t.size} values of y_true are NaN or it is empty. "
            "Score at least one observed target."
        )
    return t[keep], p[keep]


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error."""
    t, p = _aligned(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error."""
    t, p = _aligned(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def mape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute percentage error, in percent (``100 * mean |y - yhat| / |y|``).

    Raises
    ------
    DataError
        If any scored ``y_true`` is 0, where the percentage is undefined.
    """
    t, p = _aligned(y_true, y_pred)
    zeros = int(np.count_nonzero(t == 0))
    if zeros:
        raise DataError(
            f"MAPE is undefined: y_true has {zeros} zero value(s) out of {t.size}. "
            "Use smape or mase for series that touch zero."
        )
    return float(100.0 * np.mean(np.abs(t - p) / np.abs(t)))


def smape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Symmetric MAPE as in M3/M4: ``200/n * sum |y - yhat| / (|y| + |yhat|)``, in [0, 200].

    A term with ``y == yhat == 0`` (0/0) counts as 0.
    """
    t, p = _aligned(y_true, y_pred)
    num = np.abs(t - p)
    den = np.abs(t) + np.abs(p)
    terms = np.divide(num, den, out=np.zeros_like(num), where=den != 0)
    return float(200.0 * np.mean(terms))


def _mase_scale(y_train: ArrayLike, season: int) -> float:
    """In-sample mean absolute seasonal-naive error, ``mean |y[t] - y[t - season]|``."""
    if isinstance(season, bool) or not isinstance(season, int | np.integer) or season < 1:
        raise ConfigError(f"season must be an integer >= 1, got season={season!r}. Use season=1.")
    y = np.asarray(y_train, dtype=float)
    if y.ndim != 1:
        raise DataError(
            f"y_train must be a 1-D series, got shape {y.shape}. Pass the training series only."
        )
    if y.size <= season:
        raise DataError(
            f"MASE needs more than season={season} training points to scale by, got "
            f"{y.size}. Use a smaller season or a longer training series."
        )
    diffs = np.abs(y[season:] - y[:-season])
    diffs = diffs[~np.isnan(diffs)]
    scale = float(diffs.mean()) if diffs.size else 0.0
    if not scale > 0:
        raise DataError(
            f"MASE is undefined: the training series has seasonal-naive error 0 "
            f"(season={season}, {y.size} points, {diffs.size} finite differences). "
            "Use rmse or mae for constant or perfectly periodic series."
        )
    return scale


def mase(y_true: ArrayLike, y_pred: ArrayLike, *, y_train: ArrayLike, season: int = 1) -> float:
    """Mean absolute scaled error (M4 definition).

    MAE of the forecast divided by the in-sample MAE of the seasonal naive forecast on the
    training series, ``mean_t |y_train[t] - y_train[t - season]|`` (NaN differences skipped).

    Raises
    ------
    DataError
        If ``y_train`` has ``<= season`` points or its scale is 0.
    """
    scale = _mase_scale(y_train, season)
    return mae(y_true, y_pred) / scale


METRICS: dict[str, Metric] = {
    "rmse": rmse,
    "mae": mae,
    "mape": mape,
    "smape": smape,
    "mase": mase,
}
"""Metric name -> function.  ``mase`` also needs ``y_train=`` and optionally ``season=``."""


def get_metric(name: str) -> Metric:
    """Look up a metric by (case-insensitive) name.

    Raises
    ------
    ConfigError
        For an unknown name; the message lists valid names and the closest match.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key in METRICS:
        return METRICS[key]
    valid = ", ".join(sorted(METRICS))
    close = difflib.get_close_matches(str(key), METRICS, n=1)
    fix = f"Did you mean '{close[0]}'?" if close else f"Use one of: {valid}."
    raise ConfigError(f"Unknown metric={name!r}; valid metrics are {valid}. {fix}")


def compute_metrics(
    y_true: ArrayLike, y_pred: ArrayLike, *, y_train: ArrayLike, season: int = 1
) -> dict[str, float]:
    """All metrics of :data:`METRICS`, in that order.

    ``mape`` is ``nan`` (rather than an error) when a scored ``y_true`` is 0, and ``mase`` when
    its scale is undefined (a constant or perfectly periodic training series), so one table can
    hold every series; the other metrics raise as their functions do.
    """
    out: dict[str, float] = {}
    for name, fn in METRICS.items():
        if name == "mase":
            try:
                out[name] = mase(y_true, y_pred, y_train=y_train, season=season)
            except DataError:  # no scale: the other metrics still describe the forecast
                out[name] = float("nan")
        elif name == "mape":
            t, _ = _aligned(y_true, y_pred)
            out[name] = float("nan") if np.any(t == 0) else mape(y_true, y_pred)
        else:
            out[name] = fn(y_true, y_pred)
    return out


def metric_value(metric: str, y_true: ArrayLike, y_pred: ArrayLike, *, y_train: ArrayLike,
                 season: int = 1) -> float:
    """``metric`` of a forecast, NaN where the forecast is not finite at a scored target or
    the metric is undefined (MAPE of a zero, MASE of a constant training part): one member's
    score, which must never raise in the middle of a population."""
    t, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    known = np.isfinite(t)
    if not known.any() or not np.isfinite(p[known]).all():
        return float("nan")
    try:
        if metric == "mase":
            return mase(t, p, y_train=y_train, season=season)
        if metric == "owa":
            return owa_value(t, p, y_train=y_train, season=season)
        return METRICS[metric](t, p)
    except DataError:
        return float("nan")


def owa_value(y_true: ArrayLike, y_pred: ArrayLike, *, y_train: ArrayLike,
              season: int = 1) -> float:
    """One forecast's OWA: ``(sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2``, Naive2 (the
    M4 benchmark) forecasting the same points from the end of ``y_train``; one origin only
    (``y_true`` of shape (H,) or (1, H)), NaN where Naive2 is exact."""
    from lstmtune.evaluation._m4 import naive2

    t, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    if t.ndim == 2 and t.shape[0] != 1:
        raise ConfigError(f"OWA scores one forecast origin (the competitions' convention), "
                          f"got {t.shape[0]}: set origin_step to the horizon.")
    t, p = t.reshape(-1), p.reshape(-1)
    y = np.asarray(y_train, float)
    n2 = naive2(y[np.isfinite(y)], t.size, season)
    s2, m2 = smape(t, n2), mae(t, n2)
    if not (s2 > 0 and m2 > 0):
        return float("nan")
    return 0.5 * (smape(t, p) / s2 + mae(t, p) / m2)
