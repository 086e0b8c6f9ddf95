"""The end of a study: retrain the best configuration on train + validation R times, score it
once on the test window, and store with the study the tables its report is drawn from.

Stored as study user attributes (JSON; any Optuna storage keeps them):

- ``lstmtune:final``: summary of the data and split, the metric and horizon, the best trial
  and parameters, the test scores of every member (overall and per horizon step), the
  baselines on the same origins and steps, the time taken;
- ``lstmtune:forecast``: the test window point by point (actual, every member's walk-forward
  forecast, the baselines) and up to ``CONTEXT`` points of the series before it;
- ``lstmtune:history``: per-epoch train and validation RMSE of the best configuration on the
  validation folds (every repeat × fold; at most ``HISTORY_POINTS`` epochs per curve).
"""

from __future__ import annotations

import datetime as _dt
import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import optuna

from lstmtune._json import jsonable
from lstmtune._version import __version__
from lstmtune.data import TimeSeries
from lstmtune.evaluation import fitting_season, walk_forward_forecasts
from lstmtune.experiment import ForecastTask, complete, evaluate_configs
from lstmtune.model import Ensemble, fit_ensemble, time_label
from lstmtune.search._config import StudyConfig

__all__ = ["final_evaluation", "FINAL", "FORECAST", "HISTORY", "INTERVAL"]

FINAL, FORECAST, HISTORY = "lstmtune:final", "lstmtune:forecast", "lstmtune:history"
CONTEXT = 120  # points of history drawn before the test window
HISTORY_POINTS = 200
INTERVAL = (0.05, 0.95)  # member quantiles drawn around the ensemble forecast


def _round(a: np.ndarray, digits: int = 6) -> list:
    """Values to ``digits`` significant digits (the stored tables stay small); NaN → None."""
    a = np.asarray(a, float)
    out = [float(f"{x:.{digits}g}") if math.isfinite(x) else None for x in a.ravel()]
    return out


def describe_entry(entry) -> str:
    """A space entry as people write it: ``int 1–64, log``, ``adam | sgd``, ``= 4``."""
    when = getattr(entry, "when", ())
    cond = (" when " + ", ".join(f"{k} in {list(v)}" for k, v in when)) if when else ""
    if hasattr(entry, "low"):
        kind = "int" if entry.integer else "float"
        extra = (", log" if entry.log else "") + (f", step {entry.step:g}" if entry.step else "")
        return f"{kind} {entry.low:g}–{entry.high:g}{extra}{cond}"
    if hasattr(entry, "values"):
        return " | ".join(str(v) for v in entry.values) + cond
    return f"= {entry.value}{cond}"


def _mean_std(scores: np.ndarray) -> tuple[float, float]:
    finite = scores[np.isfinite(scores)]
    return (float(finite.mean()) if finite.size else math.nan,
            float(finite.std(ddof=1)) if finite.size > 1 else math.nan)


def _test_scores(run, failed: np.ndarray, task: ForecastTask) -> dict[str, Any]:
    """The members' test scores by the study's metric (``value``: their mean, ``per_step``:
    the mean of each horizon step's error) and their RMSE."""
    scores = np.where(failed, np.nan, task.score(run))
    value, std = _mean_std(scores)
    out = {"metric": task.metric, "value": value, "std": std, task.metric: value,
           f"{task.metric}_std": std}
    if task.metric != "rmse":
        out["rmse"], out["rmse_std"] = _mean_std(np.where(failed, np.nan, run.scores("test")))
    steps = np.where(failed[:, None], np.nan, task.score(run, per_step=True))
    out["per_step"] = [float(np.nanmean(v)) if np.isfinite(v).any() else math.nan
                       for v in steps.T]
    return {**out, "repeats": int(len(scores)), "failed": int((~np.isfinite(scores)).sum()),
            "scores": [float(x) for x in scores]}


def _forecast_table(ts: TimeSeries, test_size: int, members: np.ndarray) -> dict[str, Any]:
    """The test window (one row per point) and the context before it, as columns."""
    n = len(ts)
    base = walk_forward_forecasts(ts.y, test_size=test_size,
                                  season=fitting_season(ts.season, n - test_size))
    base = base[base["step"] == 1].sort_values("target_index")
    names = [c for c in base.columns if c not in ("origin", "step", "target_index", "y")]
    forecast = np.isfinite(members).any(axis=0)  # rows an origin forecasts (origin_step)
    ok = np.isfinite(members[:, forecast]).all(axis=1)
    good = members[ok] if ok.any() else members
    lo, hi = np.quantile(good, INTERVAL, axis=0)
    cols = {"time": [time_label(t) for t in ts.index[n - test_size:]],
            "step": list(range(1, test_size + 1)), "actual": _round(ts.y[n - test_size:]),
            "mean": _round(good.mean(axis=0)), "median": _round(np.median(good, axis=0)),
            "low": _round(lo), "high": _round(hi),
            **{f"member_{k}": _round(m) for k, m in enumerate(members)},
            **{f"baseline_{b}": _round(base[b].to_numpy()) for b in names}}
    start = max(0, n - test_size - CONTEXT)
    context = {"time": [time_label(t) for t in ts.index[start: n - test_size]],
               "actual": _round(ts.y[start: n - test_size])}
    return {"columns": cols, "context": context}


def _on_rows(step1: np.ndarray, origins: np.ndarray, start: int, size: int) -> np.ndarray:
    """Members' step-1 forecasts (R, S) made at ``origins``, placed on the rows of their
    targets in the ``size`` points from ``start`` (NaN where no origin forecasts: every
    ``origin_step``-th origin only)."""
    out = np.full((len(step1), size), np.nan)
    out[:, origins + 1 - start] = step1
    return out


def _history(folds, config: dict, cfg: StudyConfig,
             names: tuple[str, str] = ("train_rmse", "val_rmse")) -> dict[str, Any]:
    """Per-epoch curves of ``config`` on the validation folds, seeds as in the search: the
    training and validation curves under ``names`` (a classifier's: its training loss and
    the validation log loss)."""
    r = evaluate_configs(folds, [config], repeats=cfg.search.repeats, seed=cfg.search.seed,
                         task=cfg.task,
                         diagnostics=True)[0]
    h = r.history
    epochs = np.asarray(h["epochs"])
    keep = np.unique(np.linspace(0, len(epochs) - 1, min(HISTORY_POINTS, len(epochs)))
                     .round().astype(int))
    train, val = names
    rows = {"repeat": [], "fold": [], "epoch": [], train: [], val: []}
    for m in range(len(r.scores)):
        rows["repeat"] += [int(r.repeat[m])] * len(keep)
        rows["fold"] += [int(r.fold[m])] * len(keep)
        rows["epoch"] += [int(e) for e in epochs[keep]]
        rows[train] += _round(h["train"][m, keep], 5)
        rows[val] += _round(h["eval"][m, keep], 5)
    return rows


def final_evaluation(study: optuna.Study, ts: TimeSeries, cfg: StudyConfig, folds, *,
                     started: float,
                     progress: Callable[[str], None] | None = None
                     ) -> tuple[dict, dict, Ensemble]:
    """Retrain the best on train + validation, score once on test, store the report tables;
    returns (test scores, baselines, the ensemble to export).  ``started``: the run's
    ``time.perf_counter()`` at its start (the stored wall time counts from there)."""
    best = study.best_trial
    config = complete({**dict(cfg.fixed), **best.params})
    test_size = cfg.data.test_size
    if progress:
        progress(f"retraining the best (trial {best.number}) on train + validation, "
                 f"{cfg.search.final_repeats} repeats, scored once on the test window")
    task = cfg.task
    ens, run = fit_ensemble(ts, config, repeats=cfg.search.final_repeats,
                            seed=cfg.search.seed + 10_000, holdout=test_size, task=task)
    failed = run.table["status"].to_numpy() == "failed"  # diverged: not scored, drawn apart
    test = _test_scores(run, failed, task)
    baselines = task.baselines(ts.y, test_size=test_size,
                               season=fitting_season(ts.season, len(ts) - test_size))
    members = _on_rows(run.forecasts("test")[:, :, 0], run.folds[0].test_origins(),
                       len(ts) - test_size, test_size)
    members[failed] = np.nan
    ens = replace(ens, info={**ens.info, "study": study.study_name, "trial": best.number})
    if progress:
        progress("per-epoch curves of the best on the validation folds")
    history = _history(folds, config, cfg)
    n = len(ts)
    val = cfg.data.val_size or test_size
    final = {
        "best_trial": best.number, "best_params": best.params, "best_value": best.value,
        "metric": task.metric, "horizon": task.horizon, "task": task.describe(),
        "config": config, "test": test, "baselines": baselines,
        "interval": {"low_q": INTERVAL[0], "high_q": INTERVAL[1]},
        "data": {"name": ts.name, "n": n, "start": time_label(ts.index[0]),
                 "end": time_label(ts.index[-1]), "freq": ts.freq, "target": ts.targets[0]},
        "split": {"test_size": test_size, "val_size": val, "folds": cfg.data.folds,
                  "train_end": time_label(ts.index[n - test_size - val - 1]),
                  "val": [time_label(ts.index[n - test_size - val]),
                          time_label(ts.index[n - test_size - 1])],
                  "test": [time_label(ts.index[n - test_size]), time_label(ts.index[-1])]},
        "budget": {"trials": cfg.search.trials, "timeout": cfg.search.timeout,
                   "final_repeats": cfg.search.final_repeats},
        "space": {n: describe_entry(e) for n, e in cfg.space.entries},
        "wall_seconds": time.perf_counter() - started, "lstmtune_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    study.set_user_attr(FINAL, jsonable(final))
    study.set_user_attr(FORECAST, jsonable(_forecast_table(ts, test_size, members)))
    study.set_user_attr(HISTORY, jsonable(history))
    return test, baselines, ens
