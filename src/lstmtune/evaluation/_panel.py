"""A panel's classical baselines, per-series scores, paired comparisons and split-conformal
intervals (the M4 conventions where they exist).

- ``classical_forecasts(y, h, m)``: Naive; seasonal naive; Naive2 (M4); SES on the
  seasonally adjusted series (the M4 benchmark: the 90 % test and classical multiplicative
  indices, reseasonalised); Theta (statsmodels' ``ThetaModel``: its own seasonality test and
  multiplicative adjustment, the M3 winner's method); ETS (statsmodels' ``ETSModel``:
  additive errors, no / additive / damped trend, multiplicative seasonality where the 90 %
  test finds the series seasonal, chosen by AICc).  A model that fails to fit falls back to
  Naive2 and says so (``fallbacks``).
- ``panel_scores``: sMAPE and MASE per series (MASE scaled by the in-sample seasonal naive
  MAE), OWA per series and the M4's OWA of the panel (mean sMAPE and mean MASE each relative
  to Naive2's, averaged).
- ``paired``: one method against another on the same series: mean difference with a
  bootstrap 95 % interval (series resampled), the share of series where the first is
  better, and the Wilcoxon signed-rank p-value.
- ``conformal``: per horizon step, the finite-sample quantile of scaled absolute residuals
  ``|y - ŷ| / scale`` (validation windows of every series pooled); the interval of a new
  forecast is ``ŷ ± q_h · scale`` of its series.  A level with too few residuals for its
  finite-sample rank is not produced (it would be unbounded), and the number it needs is
  returned instead.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lstmtune.data import seasonal_indices, seasonality_test
from lstmtune.evaluation._baselines import walk_forward_forecasts
from lstmtune.evaluation._m4 import naive2

__all__ = ["CLASSICAL", "classical_forecasts", "mase_scale", "panel_scores", "paired",
           "conformal", "LEVELS"]

CLASSICAL = ("naive", "snaive", "naive2", "ses", "theta", "ets")
LEVELS = (0.8, 0.95)


def mase_scale(y: ArrayLike, m: int) -> float:
    """The in-sample MAE of the seasonal naive forecast (period ``m``; 1 when the series is
    too short for it), NaN when it is 0."""
    a = np.asarray(y, float)
    m = m if a.size > m else 1
    d = np.abs(a[m:] - a[:-m])
    d = d[np.isfinite(d)]
    s = float(d.mean()) if d.size else math.nan
    return s if s > 0 else math.nan


def _adjusted(y: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray | None]:
    if m > 1 and seasonality_test(y, m) and (y > 0).all():
        idx = seasonal_indices(y, m)
        return y / idx[np.arange(y.size) % m], idx
    return y, None


def _ses(y: np.ndarray, h: int, m: int) -> np.ndarray:
    from statsmodels.tsa.holtwinters import SimpleExpSmoothing

    adj, idx = _adjusted(y, m)
    f = np.asarray(SimpleExpSmoothing(adj, initialization_method="estimated").fit()
                   .forecast(h), float)
    return f if idx is None else f * idx[(y.size + np.arange(h)) % m]


def _theta(y: np.ndarray, h: int, m: int) -> np.ndarray:
    from statsmodels.tsa.forecasting.theta import ThetaModel

    seasonal = m > 1 and y.size >= 2 * m and (y > 0).all()
    model = ThetaModel(y, period=m if m > 1 else None, deseasonalize=seasonal)
    return np.asarray(model.fit().forecast(h), float)


def _ets(y: np.ndarray, h: int, m: int) -> np.ndarray:
    return np.asarray(_ets_spec(y, m)[1].forecast(h), float)


def classical_forecasts(y: ArrayLike, h: int, m: int = 1) -> tuple[dict[str, np.ndarray],
                                                                    list[str]]:
    """Every classical method's forecast of the ``h`` points after ``y`` (period ``m``),
    and the names of the methods that fell back to Naive2 (their fit failed)."""
    a = np.asarray(y, float)
    n2 = naive2(a, h, m)
    out = {"naive": np.full(h, a[-1]),
           "snaive": a[-m:][np.arange(h) % m] if 1 < m <= a.size else np.full(h, a[-1]),
           "naive2": n2}
    fallbacks = []
    for name, fn in (("ses", _ses), ("theta", _theta), ("ets", _ets)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with np.errstate(all="ignore"):
                    f = fn(a, h, m)
            if not np.isfinite(f).all():
                raise ValueError("non-finite forecast")
        except Exception:  # noqa: BLE001 — a statsmodels fit that fails: Naive2, said so
            f, _ = n2, fallbacks.append(name)
        out[name] = f
    return out, fallbacks


SINGLE_CLASSICAL = ("ses", "theta", "ets")  # beside a single series' own baselines


def _ets_spec(y: np.ndarray, m: int) -> tuple[dict[str, Any], Any]:
    """The ETS model ``_ets`` chooses by AICc on ``y``: its specification and fit."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    seasons = [None]
    if m > 1 and y.size >= 2 * m + 2 and (y > 0).all() and seasonality_test(y, m):
        seasons.append("mul")
    best = None
    for trend, damped in ((None, False), ("add", False), ("add", True)):
        for seasonal in seasons:
            spec = {"error": "add", "trend": trend, "damped_trend": damped,
                    "seasonal": seasonal, "seasonal_periods": m if seasonal else None}
            fit = ETSModel(y, **spec).fit(disp=False)
            if np.isfinite(fit.aicc) and (best is None or fit.aicc < best[1].aicc):
                best = (spec, fit)
    if best is None:
        raise ValueError("no ETS model could be fitted")
    return best


def _fixed_classical(y: np.ndarray, m: int) -> dict[str, Any]:
    """SES and ETS fitted once on ``y`` (a training part), each as ``fn(history, h, m)`` of
    a longer history that starts where ``y`` does: its ``h``-step forecast with the
    parameters (and seasonal indices, and ETS model) fitted here, the states run over the
    history's actuals.  A method whose fit fails is left out."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    from statsmodels.tsa.holtwinters import SimpleExpSmoothing

    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            try:
                adj, idx = _adjusted(y, m)
                ses = SimpleExpSmoothing(adj, initialization_method="estimated").fit()
                alpha, level0 = ses.params["smoothing_level"], ses.params["initial_level"]

                def ses_of(hist: np.ndarray, h: int, m: int) -> np.ndarray:
                    a = hist if idx is None else hist / idx[np.arange(hist.size) % m]
                    r = SimpleExpSmoothing(a, initialization_method="known",
                                           initial_level=level0).fit(smoothing_level=alpha,
                                                                     optimized=False)
                    f = np.asarray(r.forecast(h), float)
                    return f if idx is None else f * idx[(hist.size + np.arange(h)) % m]
                out["ses"] = ses_of
            except Exception:  # noqa: BLE001 — refitting cannot help: Naive2 stands in
                pass
            try:
                spec, fit = _ets_spec(y, m)
                params = fit.params
                out["ets"] = lambda hist, h, m: np.asarray(
                    ETSModel(hist, **spec).smooth(params).forecast(h), float)
            except Exception:  # noqa: BLE001
                pass
    return out


# refitting at every origin while origins × points × season stays within this (the work of
# an ETS search grows with each): air passengers' 12 monthly origins are 20,736, co2's 52
# weekly ones 6.2 million; a count, so that a study gives the same baselines on any machine
REFIT_WORK = 200_000


def classical_walk_forward(y: ArrayLike, *, test_size: int, horizon: int = 1,
                           season: int = 1, origin_step: int = 1,
                           refit_work: int = REFIT_WORK) -> pd.DataFrame:
    """SES, Theta and ETS forecasts from every ``origin_step``-th walk-forward origin of the
    last ``test_size`` points of ``y``, by ``walk_forward_forecasts`` (histories with gaps
    carried forward, steps whose target lies inside the window).  Each method is fitted on
    every origin's history (ETS chosen by AICc), as a forecaster evaluating them would,
    while origins × points × season is at most ``refit_work`` (:data:`REFIT_WORK`); beyond,
    SES and ETS keep the parameters fitted on the training part (the history at the first
    origin; ETS its model) and forecast from the actuals up to every origin, as the LSTM,
    trained once, does, and Theta is refitted.  Returns ``origin, step, target_index, y``
    and one column per method; ``attrs["fallbacks"]``: per method, the origins where it
    failed and Naive2's forecast stands in (as for panels); ``attrs["refit"]``: whether the
    methods were refitted at every origin."""
    arr = np.asarray(y, float)
    n = arr.size
    first = n - test_size - 1
    refit = len(range(first, n - 1, origin_step)) * n * max(season, 1) <= refit_work
    fits: dict[str, Any] = {"ses": _ses, "theta": _theta, "ets": _ets}
    if not refit:
        train = pd.Series(arr[: first + 1]).ffill().bfill().to_numpy()
        fits = {"theta": _theta, **_fixed_classical(train, season)}
    fallbacks = dict.fromkeys(SINGLE_CLASSICAL, 0)

    def guarded(name: str):
        def forecast(history: np.ndarray, h: int, m: int) -> np.ndarray:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with np.errstate(all="ignore"):
                        f = np.asarray(fits[name](history, h, m), float)
                if f.shape != (h,) or not np.isfinite(f).all():
                    raise ValueError("non-finite forecast")
                return f
            except Exception:  # noqa: BLE001 — said in the baseline's ``fallbacks``
                fallbacks[name] += 1
                return naive2(history, h, m)
        return forecast

    table = walk_forward_forecasts(arr, test_size=test_size, horizon=horizon, season=season,
                                   origin_step=origin_step,
                                   methods={k: guarded(k) for k in SINGLE_CLASSICAL})
    table.attrs["fallbacks"] = fallbacks
    table.attrs["refit"] = bool(refit)
    return table


def _smape(t: np.ndarray, p: np.ndarray) -> float:
    denom = np.abs(t) + np.abs(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(denom > 0, 2 * np.abs(p - t) / denom, 0.0)
    return float(100 * r.mean())


def panel_scores(actual: dict[str, np.ndarray], forecasts: dict[str, dict[str, np.ndarray]],
                 scales: dict[str, float]) -> dict[str, Any]:
    """Per-series sMAPE, MASE and OWA of every method (``forecasts[method][series]``), the
    panel's mean and median of each, and the M4 OWA of the panel (relative to Naive2,
    which must be one of the methods)."""
    ids = list(actual)
    per: dict[str, dict[str, list[float]]] = {}
    for method, fc in forecasts.items():
        sm = [_smape(actual[i], fc[i]) for i in ids]
        ms = [float(np.mean(np.abs(actual[i] - fc[i])) / scales[i]) for i in ids]
        per[method] = {"smape": sm, "mase": ms}
    n2 = per["naive2"]
    for method in per:
        per[method]["owa"] = [0.5 * (s / s2 + m / m2) if s2 > 0 and m2 > 0 else math.nan
                              for s, m, s2, m2 in zip(per[method]["smape"],
                                                      per[method]["mase"], n2["smape"],
                                                      n2["mase"], strict=True)]
    table = {}
    s2, m2 = np.nanmean(n2["smape"]), np.nanmean(n2["mase"])
    for method, d in per.items():
        sm, ms = np.asarray(d["smape"]), np.asarray(d["mase"])
        table[method] = {"smape": float(np.nanmean(sm)), "mase": float(np.nanmean(ms)),
                         "owa": float(0.5 * (np.nanmean(sm) / s2 + np.nanmean(ms) / m2)),
                         "smape_median": float(np.nanmedian(sm)),
                         "mase_median": float(np.nanmedian(ms)),
                         "owa_median": float(np.nanmedian(d["owa"]))}
    return {"ids": ids, "per_series": per, "table": table}


def paired(a: ArrayLike, b: ArrayLike, *, n_boot: int = 2000, seed: int = 0
           ) -> dict[str, float]:
    """``a`` against ``b`` (lower is better), paired by series: mean of ``a - b`` with a
    bootstrap 95 % interval, the share of series where ``a < b`` (ties count half) and the
    two-sided Wilcoxon signed-rank p-value."""
    from scipy.stats import wilcoxon

    x, y = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(x) & np.isfinite(y)
    d = x[ok] - y[ok]
    if d.size == 0:
        return {"n": 0, "mean_diff": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                "win_rate": math.nan, "p_value": math.nan}
    rng = np.random.default_rng(seed)
    boots = d[rng.integers(0, d.size, (n_boot, d.size))].mean(axis=1)
    p = float(wilcoxon(d).pvalue) if np.any(d != 0) else 1.0
    return {"n": int(d.size), "mean_diff": float(d.mean()),
            "ci_low": float(np.quantile(boots, 0.025)),
            "ci_high": float(np.quantile(boots, 0.975)),
            "win_rate": float(((d < 0).sum() + 0.5 * (d == 0).sum()) / d.size),
            "p_value": p}


def conformal(scaled_residuals: ArrayLike, levels=LEVELS
              ) -> tuple[dict[float, np.ndarray], dict[float, tuple[int, int]]]:
    """Per horizon step h, the split-conformal quantile of the scaled absolute residuals
    (n, H): of a step's n finite residuals, the ``k``-th smallest, ``k = ceil((n + 1) ·
    level)`` (the level read as the decimal it is written as, so ``5 · 0.8`` is 4).

    A level is produced only when every step has enough residuals for that rank, ``k <=
    n``, i.e. ``n >= level / (1 - level)``: at least 4 for 80 %, 19 for 95 %, 99 for 99 %.
    Returns the produced levels' quantiles (level -> (H,)) and, for each level that is not
    produced, ``(n, needed)``: the fewest finite residuals of a step and the number the rank
    needs."""
    r = np.asarray(scaled_residuals, float)
    if r.ndim != 2:
        raise ValueError(f"scaled residuals are (n, H), got the shape {r.shape}")
    cols = [np.sort(col[np.isfinite(col)]) for col in r.T]
    n = min((col.size for col in cols), default=0)
    out, missing = {}, {}
    for level in levels:
        needed = _needed(level)
        if not cols or n < needed:
            missing[level] = (n, needed)
            continue
        out[level] = np.asarray([col[_rank(col.size, level) - 1] for col in cols])
    return out, missing


def _rank(n: int, level: float) -> int:
    """The finite-sample rank of the ``level`` quantile of ``n`` residuals (1-based)."""
    return math.ceil(round((n + 1) * level, 9))


def _needed(level: float) -> int:
    """The fewest residuals whose finite-sample rank at ``level`` is one of them."""
    if not 0 < level < 1:
        raise ValueError(f"a conformal level is a number in (0, 1), got {level!r}")
    n = max(1, math.floor(level / (1 - level)) - 1)
    while _rank(n, level) > n:
        n += 1
    return n
