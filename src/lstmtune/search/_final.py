"""The end of a study: retrain the best configuration on train + validation R times, score it
once on the test window, train it again on every point (``[search] refit``: the model that
``predict`` uses), and store with the study the tables its report is drawn from.

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
import json
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
from lstmtune.errors import ConfigError
from lstmtune.evaluation import fitting_season, score_combined, walk_forward_forecasts
from lstmtune.experiment import ForecastTask, complete, evaluate_configs
from lstmtune.model import Committee, Ensemble, fit_ensemble, time_label
from lstmtune.search._config import StudyConfig

__all__ = ["final_evaluation", "refit_config", "verdict", "BASELINE_NAMES", "FINAL",
           "FORECAST", "HISTORY", "INTERVAL"]

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


def _pooled(fold, forecasts: np.ndarray, task: ForecastTask, combine: str) -> dict[str, Any]:
    """The test scores of members' forecasts (P, S, H) of ``fold``'s test windows combined
    into one by ``combine`` (median or mean at every origin and step): the forecast a saved
    model gives."""
    value = float(score_combined(fold, forecasts, "test", task.metric, combine))
    out = {"combine": combine, "members": int(len(forecasts)), "value": value,
           task.metric: value,
           "per_step": [float(x) for x in score_combined(fold, forecasts, "test", task.metric,
                                                         combine, per_step=True)]}
    if task.metric != "rmse":
        out["rmse"] = float(score_combined(fold, forecasts, "test", "rmse", combine))
    return out


def _top_trials(study: optuna.Study, k: int) -> list[optuna.trial.FrozenTrial]:
    """The best trial and then the next best complete trials on validation, one per
    configuration, ``k`` at most."""
    best = study.best_trial
    done = [t for t in study.get_trials(deepcopy=False,
                                        states=(optuna.trial.TrialState.COMPLETE,))
            if t.value is not None and math.isfinite(t.value) and t.number != best.number]
    done.sort(key=lambda t: t.value, reverse=study.direction.name == "MAXIMIZE")
    out, seen = [best], {_key(best.params)}
    for t in done:
        if len(out) == k:
            break
        if _key(t.params) not in seen:
            seen.add(_key(t.params))
            out.append(t)
    return out


def _key(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def _committee(study: optuna.Study, ts: TimeSeries, cfg: StudyConfig, best: tuple,
               progress: Callable[[str], None] | None) -> dict[str, Any]:
    """The ``ensemble_top`` best configurations (``best``: the first one's config, ensemble
    and run, already trained) each retrained on train + validation as the best was, their
    members' test forecasts pooled, combined and scored once: the score, and each
    configuration's (config, ensemble, run) for the refit."""
    task, s = cfg.task, cfg.search
    top = _top_trials(study, s.ensemble_top)
    if progress and len(top) > 1:
        progress(f"retraining the next {len(top) - 1} best configurations on train + "
                 f"validation, {s.final_repeats} repeats each: pooled with the best's members")
    parts, used, skipped = [best], [top[0]], {}
    for t in top[1:]:
        config = complete({**dict(cfg.fixed), **t.params})
        try:
            ens, run = fit_ensemble(ts, config, repeats=s.final_repeats, seed=s.seed + 10_000,
                                    holdout=cfg.data.test_size, task=task)
        except ConfigError as exc:  # every member diverged: left out, and said
            skipped[t.number] = str(exc)
            continue
        parts.append((config, replace(ens, info={**ens.info, "study": study.study_name,
                                                  "trial": t.number}), run))
        used.append(t)
    top = used
    ok = [run.table["status"].to_numpy() != "failed" for _, _, run in parts]
    pooled = np.concatenate([run.forecasts("test")[k] for (_, _, run), k in zip(parts, ok,
                                                                                 strict=True)])
    alone = np.concatenate([task.score(run)[k] for (_, _, run), k in zip(parts, ok,
                                                                          strict=True)])
    out = {**_pooled(best[2].folds[0], pooled, task, s.combine), "k": len(parts),
           "asked": s.ensemble_top, "trials": [t.number for t in top],
           "params": [t.params for t in top], "scores": [float(x) for x in alone],
           "skipped": skipped}
    return {"scores": out, "parts": parts}


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


def refit_config(config, table) -> Any:
    """``config`` as it is trained on all the data: with early stopping (which watches a
    window the refit has not got), for the median epoch whose weights the evaluated members
    kept (``table``: their ``best_epoch``, or ``epochs_trained`` where none was kept) and
    no patience; otherwise unchanged."""
    if not int(config["patience"]):
        return config
    ok = table["status"].to_numpy() != "failed"
    best = table["best_epoch"].to_numpy()[ok]
    kept = np.where(best > 0, best, table["epochs_trained"].to_numpy()[ok])
    epochs = int(np.median(kept)) if kept.size else int(config["epochs"])
    return config.replace(patience=0, epochs=max(1, epochs))


def refit_ensemble(ts: TimeSeries, config, cfg: StudyConfig, evaluated: Ensemble, run,
                   progress: Callable[[str], None] | None = None) -> Ensemble:
    """The evaluated members' configuration trained again on every point of ``ts`` (same
    seeds): the model ``predict`` uses; ``info`` keeps the evaluated members' data range
    (``evaluated``).  Where every refit member diverges, the evaluated members are kept and
    ``info["refit"]`` says why."""
    ev = {k: evaluated.info[k] for k in ("n_fit", "fit_start", "fit_end", "holdout")}
    if not cfg.search.refit:
        return replace(evaluated, info={**evaluated.info, "refit": False, "evaluated": ev})
    c = refit_config(config, run.table)
    if progress:
        progress(f"refitting trial {evaluated.info.get('trial')} on all {len(ts)} points "
                 f"({cfg.search.final_repeats} repeats): the model predict uses")
    try:
        ens, _ = fit_ensemble(ts, c, repeats=cfg.search.final_repeats,
                              seed=cfg.search.seed + 10_000, holdout=0, task=cfg.task)
    except ConfigError as exc:  # every member diverged on the whole series
        return replace(evaluated, info={**evaluated.info, "evaluated": ev,
                                        "refit": f"not refit: {exc}"})
    return replace(ens, info={**ens.info, "study": evaluated.info.get("study"),
                              "trial": evaluated.info.get("trial"), "refit": True,
                              "combine": evaluated.info.get("combine"),
                              "evaluated": ev, "refit_epochs": int(c["epochs"])})


def _model_data(ens) -> dict[str, Any]:
    """What the saved model was trained on: its own data range and, when refit, the
    evaluated members' (scored on test)."""
    info = ens.info
    return {"refit": info.get("refit"), "fit_start": info.get("fit_start"),
            "fit_end": info.get("fit_end"), "n_fit": info.get("n_fit"),
            "evaluated": info.get("evaluated")}


# baselines as sentences and tables name them (their own names otherwise, with spaces)
BASELINE_NAMES = {"snaive": "seasonal naive", "naive2": "Naive2", "ses": "SES", "theta": "Theta",
         "ets": "ETS"}


def verdict(metric: str, direction: str, lstm: float, baselines: dict[str, float], *,
            members: list[float] | None = None, paired: dict | None = None,
            label: str | None = None, fallbacks: dict[str, int] | None = None,
            model: str | None = None) -> dict[str, Any]:
    """Who won on test: the tuned model (``lstm``, the study's ``metric``) against the best
    of ``baselines`` (name -> value), with the margin, whether the members' spread covers
    it (``members``: each member's score; the 5–95 % range) and the paired comparison
    with that baseline (``paired``: name -> a mean difference and its 95 % interval);
    ``model`` says what was scored (``the median of its 30 members' forecasts``)."""
    label = label or metric.upper()
    finite = {k: float(v) for k, v in baselines.items()
              if isinstance(v, int | float) and math.isfinite(v)}
    out: dict[str, Any] = {"metric": metric, "direction": direction, "lstm": lstm}
    if not finite or not math.isfinite(lstm):
        out.update(winner=None, text=f"No verdict: the tuned LSTM's test {label} or every "
                   "baseline's is undefined.")
        return out
    better = min if direction == "minimize" else max
    key = better(finite, key=finite.get)
    b, name = finite[key], BASELINE_NAMES.get(key, key.replace("_", " "))
    margin = abs(lstm - b)
    rel = margin / abs(b) if b else math.inf
    lstm_wins = (lstm < b) if direction == "minimize" else (lstm > b)
    out.update(best_baseline=key, baseline=b, margin=margin, relative=rel,
               winner="lstm" if lstm_wins else key)
    pct = f" ({rel:.1%})" if math.isfinite(rel) else ""
    what = f" ({model})" if model else ""
    if model:
        out["model"] = model
    if lstm_wins:
        text = (f"The tuned LSTM{what} wins: test {label} {lstm:.4g} against {b:.4g} for the best "
                f"baseline, {name}, better by {margin:.4g}{pct}.")
    elif margin == 0:
        out["winner"] = "tie"
        text = f"A tie: the tuned LSTM{what} and {name} both score test {label} {b:.4g}."
    else:
        text = (f"{name} beats the tuned LSTM{what}: test {label} {b:.4g} against {lstm:.4g}, "
                f"better by {margin:.4g}{pct}; deploy {name}, or search further.")
    ok = [x for x in members or [] if x is not None and math.isfinite(x)]
    if len(ok) > 1:
        lo, hi = (float(q) for q in np.quantile(ok, INTERVAL))
        covers = lo <= b <= hi
        out.update(members_low=lo, members_high=hi, spread_covers=covers)
        text += (f" The members' 5–95 % range ({lo:.4g} to {hi:.4g}) "
                 + ("covers" if covers else "does not cover") + f" {name}'s score.")
    if paired and key in paired:
        p = paired[key]
        out["paired"] = p
        sure = p["ci_low"] > 0 or p["ci_high"] < 0
        text += (f" Paired by series, LSTM − {name} has the 95 % interval "
                 f"[{p['ci_low']:+.3g}, {p['ci_high']:+.3g}]"
                 + (" (it excludes 0)." if sure else " (it includes 0: no clear winner)."))
    if (fallbacks or {}).get(key):
        text += (f" ({name}'s fit failed {fallbacks[key]} time(s) (origins or series), "
                 "where Naive2's forecast stands in.)")
    out["text"] = text
    return out


def final_evaluation(study: optuna.Study, ts: TimeSeries, cfg: StudyConfig, folds, *,
                     started: float,
                     progress: Callable[[str], None] | None = None
                     ) -> tuple[dict, dict, Ensemble | Committee]:
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
    combine = cfg.search.combine
    test["ensemble"] = _pooled(run.folds[0], run.forecasts("test")[~failed], task, combine)
    if progress:
        progress("SES, Theta and ETS fitted on the training part, forecasting the test window")
    baselines = task.baselines(ts.y, test_size=test_size,
                               season=fitting_season(ts.season, len(ts) - test_size),
                               classical=True)
    members = _on_rows(run.forecasts("test")[:, :, 0], run.folds[0].test_origins(),
                       len(ts) - test_size, test_size)
    members[failed] = np.nan
    ens = replace(ens, info={**ens.info, "study": study.study_name, "trial": best.number,
                             "combine": combine})
    committee = _committee(study, ts, cfg, (config, ens, run), progress) \
        if cfg.search.ensemble_top > 1 else None
    if committee is not None and committee["scores"]["k"] == 1:  # no second configuration
        test["top"] = committee["scores"]  # says why (trials, skipped); the best alone saved
        committee = None
    scored, what = test["ensemble"], f"the {combine} of its {test['ensemble']['members']} " \
        "members' forecasts"
    if committee is not None:
        scored = test["top"] = committee["scores"]
        what = (f"the {combine} of the {scored['members']} members of its {scored['k']} best "
                "configurations")
    test["verdict"] = verdict(task.metric, task.direction, scored["value"],
                              {k: v["value"] for k, v in baselines.items()},
                              members=scored.get("scores", test["scores"]),
                              label=task.label, model=what,
                              fallbacks={k: v.get("fallbacks", 0)
                                         for k, v in baselines.items()})
    if committee is None:
        ens = refit_ensemble(ts, config, cfg, ens, run, progress)
    else:
        refits = [refit_ensemble(ts, c, cfg, e, r, progress) for c, e, r in committee["parts"]]
        ens = Committee(ensembles=tuple(refits),
                        info={**refits[0].info, "combine": combine,
                              "trials": committee["scores"]["trials"]})
    if progress:
        progress("per-epoch curves of the best on the validation folds")
    history = _history(folds, config, cfg)
    n = len(ts)
    val = cfg.data.val_size or test_size
    final = {
        "best_trial": best.number, "best_params": best.params, "best_value": best.value,
        "metric": task.metric, "horizon": task.horizon, "task": task.describe(),
        "config": config, "test": test, "baselines": baselines,
        "verdict": test["verdict"], "model": _model_data(ens), "top": test.get("top"),
        "interval": {"low_q": INTERVAL[0], "high_q": INTERVAL[1]},
        "data": {"name": ts.name, "n": n, "start": time_label(ts.index[0]),
                 "end": time_label(ts.index[-1]), "freq": ts.freq, "target": ts.targets[0]},
        "split": {"test_size": test_size, "val_size": val, "folds": cfg.data.folds,
                  "train_end": time_label(ts.index[n - test_size - val - 1]),
                  "val": [time_label(ts.index[n - test_size - val]),
                          time_label(ts.index[n - test_size - 1])],
                  "test": [time_label(ts.index[n - test_size]), time_label(ts.index[-1])]},
        "budget": {"trials": cfg.search.trials, "timeout": cfg.search.timeout,
                   "final_repeats": cfg.search.final_repeats,
                   "ensemble_top": cfg.search.ensemble_top},
        "space": {n: describe_entry(e) for n, e in cfg.space.entries},
        "wall_seconds": time.perf_counter() - started, "lstmtune_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    study.set_user_attr(FINAL, jsonable(final))
    study.set_user_attr(FORECAST, jsonable(_forecast_table(ts, test_size, members)))
    study.set_user_attr(HISTORY, jsonable(history))
    return test, baselines, ens
