"""A panel study: many series tuned at once, with the same study loop, strategies, storage
and resume as one series.

The split, per series: the test window is its last ``horizon`` points (a competition's
official test part), never read before the end; the validation windows are the ``folds ×
horizon`` points before it, one forecast origin each.  Every candidate is scored on every
series' validation windows (``PanelTask``: local models as members of one population, a
global model over every series' windows), and a trial's value is the mean of its (series,
fold, repeat) scores, i.e. the mean over series.

At the end (``final_panel``), on the same training parts (each series without its test
window):

- the panel's best configuration is retrained ``final_repeats`` times and forecasts every
  test window (the members' median, or mean: ``[search] combine``, is the forecast);
- the per-series best: each series takes, of the ``PER_SERIES_TOP`` best local
  configurations, the one with its own best validation score (selected on validation only,
  from the trials already run), retrained the same way (one population per configuration);
- the classical methods (``evaluation.classical_forecasts``) forecast the same windows;
- split-conformal intervals: the best configuration's forecasts of the validation windows
  give scaled residuals per horizon step, whose quantiles make the test intervals; their
  coverage is measured on the test windows.

Stored with the study: ``lstmtune:final`` (the aggregate table: sMAPE, MASE, OWA of every
method, per-series scores, paired comparisons, conformal quantiles and coverage) and
``lstmtune:forecast`` (every series' test window, forecasts, intervals and recent history).
The classical forecasts are stored once computed (``lstmtune:classical``), so that a
resumed study does not fit them again.
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
from optuna.trial import TrialState

from lstmtune._json import jsonable
from lstmtune._version import __version__
from lstmtune.data import Panel, TimeSeries, load_panel
from lstmtune.errors import ConfigError, DataError
from lstmtune.evaluation import (
    LEVELS,
    classical_forecasts,
    combine_members,
    conformal,
    mase_scale,
    naive2,
    paired,
    panel_scores,
)
from lstmtune.experiment import check_memory, complete, fit_config, fold_series
from lstmtune.search._config import StudyConfig, check_panel_strategy
from lstmtune.search._final import FINAL, FORECAST, describe_entry, refit_config, verdict
from lstmtune.search._preflight import _check_feasible, infeasible, window_norms
from lstmtune.search._space import PANEL_SPACE, Space, parse_space

__all__ = ["read_panel", "panel_folds", "fit_panel_space", "final_panel", "check_panel",
           "MIN_TRAIN"]

MIN_TRAIN = 4  # training points a series needs before its first validation window
CLASSICAL_ATTR = "lstmtune:classical"
LSTM, PER_SERIES = "lstm", "lstm_per_series"
CONTEXT = 36  # points of history stored before each test window
PER_SERIES_TOP = 5  # local configurations a series chooses from (each one retrained)


def read_panel(cfg: StudyConfig) -> Panel:
    """The study file's panel (a built-in competition panel or a long table); a series too
    short for the windows (``panel_folds``' rule) is refused from the table's row counts,
    before any series is read."""
    d = cfg.data
    H, F = cfg.task.horizon, d.folds
    need = H + F * H + MIN_TRAIN
    def given(value: str | None, default: str) -> str:
        return default if value is None else value  # an empty name is refused, not replaced

    return load_panel(d.source, id_col=given(d.id_col, "unique_id"),
                      time_col=given(d.time_col, "ds"), target=given(d.target, "y"),
                      features=list(d.features) or None,
                      freq=d.freq, season=d.season, sep=d.sep, decimal=d.decimal,
                      date_format=d.date_format, min_length=need,
                      too_short=f"too short for the test window (horizon {H}), {F} "
                                f"validation window(s) of {H} and {MIN_TRAIN} training points "
                                f"(need {need}); drop the series, or use a shorter horizon or "
                                "fewer folds.")


def panel_folds(panel: Panel, cfg: StudyConfig
                ) -> tuple[dict[str, TimeSeries], list[tuple[TimeSeries, int]]]:
    """Every series without its test window, and the validation folds of all of them
    (series-major); a series too short for the windows is refused, by name."""
    H, F = cfg.task.horizon, cfg.data.folds
    need = H + F * H + MIN_TRAIN
    for sid, ts in panel.series.items():
        if len(ts) < need:
            raise DataError(f"panel '{panel.name}', series '{sid}' has {len(ts)} points: too "
                            f"short for the test window (horizon {H}), {F} validation "
                            f"window(s) of {H} and {MIN_TRAIN} training points (need "
                            f"{need}); drop the series, or use a shorter horizon or fewer "
                            "folds.")
    dev = {sid: ts.head(len(ts) - H) for sid, ts in panel.series.items()}
    folds = [f for ts in dev.values() for f in fold_series(ts, scored=F * H, folds=F)]
    return dev, folds


def _positive(y) -> bool:
    y = np.asarray(y, float)
    y = y[np.isfinite(y)]
    return bool(y.size) and bool((y > 0).all())


def _panel_knows(folds, cfg: StudyConfig) -> tuple[StudyConfig, list[str]]:
    """The default panel space widened by what the training parts show: windows normalised
    by their last value, by their exponential-smoothing level or not, ``log`` when every
    series is positive, and STL beside the classical deseasonalising when the panel has a
    season (what the user fixed is not searched)."""
    if cfg.search.strategy == "grid":  # every addition would multiply the grid
        return cfg, []
    fixed = dict(cfg.fixed)
    add: dict[str, Any] = {}
    norms = window_norms(fixed, cfg.task.horizon)
    said = {"window_norm": "window_norm " + " | ".join(norms),
            "log": "log (every series is positive)",
            "deseasonalise": "deseasonalise classical | STL | off"}
    if "window_norm" not in fixed:
        add["window_norm"] = {"choice": norms}
    # every point of every series (prepare transforms the test window too)
    positive = all(_positive(series.y) for series, _ in folds)
    if positive and "log" not in fixed:
        add["log"] = {"choice": [False, True]}
    seasonal = max((int(series.season or 1) for series, _ in folds), default=1) > 1
    if seasonal and "deseasonalise" not in fixed and "deseasonalise" in cfg.space.names:
        add["deseasonalise"] = {"choice": [True, False, "stl"]}
    if not add:
        return cfg, []
    extra = dict(parse_space(add, "default panel space").entries)
    entries = [(n, extra.pop(n, e)) for n, e in cfg.space.entries]  # STL in its place
    return (replace(cfg, space=Space((*entries, *extra.items())), declared=cfg.space),
            ["searched as well: " + ", ".join(said[k] for k in add)])


def fit_panel_space(folds, cfg: StudyConfig) -> tuple[StudyConfig, str | None]:
    """The default panel space fitted to the data: ``timesteps`` capped by what the
    shortest series' training part allows with differencing on (a user's own space is
    returned as written; ``preflight_panel`` refuses it when nothing in it fits)."""
    if cfg.space != PANEL_SPACE or cfg.declared is not None:
        return cfg, None
    fixed = dict(cfg.fixed)
    cfg, notes = _panel_knows(folds, cfg)
    entries = dict(cfg.space.entries)
    lags = entries["timesteps"]
    fits = [L for L in range(int(lags.low), int(lags.high) + 1)
            if infeasible(complete({**fixed, "difference": 1, "timesteps": L}), folds,
                          cfg.task, quick=True) is None]
    if fits and fits[-1] < lags.high:
        capped = replace(lags, high=fits[-1])
        space = Space(tuple((n, capped if n == "timesteps" else e)
                            for n, e in cfg.space.entries))
        cfg = replace(cfg, space=space, declared=cfg.declared or cfg.space)
        notes.append(f"timesteps {int(lags.low)}–{fits[-1]} (the shortest series' training "
                     f"part allows no more than {fits[-1]} lags)")
    if not notes:
        return cfg, None
    return cfg, "default space fitted to the panel: " + "; ".join(notes)


def _values_text(y: np.ndarray) -> str:
    """A constant stretch of values in words: "all zero" or "constant at 5.0"."""
    v = float(y[np.isfinite(y)][0])
    shown = str(v) if len(str(v)) <= 12 else f"{v:.6g}"
    return "all zero" if v == 0 else f"constant at {shown}"


def _flat(y: np.ndarray) -> bool:
    """Whether the finite values of ``y`` (two or more) are all equal."""
    y = y[np.isfinite(y)]
    return y.size >= 2 and bool(np.ptp(y) == 0)


def _training_text(train: np.ndarray, dev: np.ndarray) -> str:
    """Where a constant training part lies (``dev``: the series without its test window),
    for messages."""
    if _flat(dev):
        return f"is {_values_text(dev)} (all {len(dev)} points before its test window)"
    return (f"is {_values_text(train)} over its training part (its first {len(train)} "
            "points)")


def _drop(dev: np.ndarray) -> str:
    """The fix for a series constant before its test window, or over its training part."""
    if _flat(dev):
        return "drop the series (the Naive method forecasts it exactly)"
    return "drop the series, or start it where its values begin to change"


def check_metric(folds, metric: str) -> None:
    """Refuse a metric that is undefined on some series' validation window (its trials
    would all fail), naming the series and its values: MAPE of a zero, MASE of a constant
    (or exactly repeating) training part, OWA where Naive2 is exact."""
    dev: dict[str, np.ndarray] = {}  # each series' longest fold: the series without its test
    for series, _ in folds:
        if len(series) > len(dev.get(series.name, ())):
            dev[series.name] = np.asarray(series.y, float)
    for series, w in folds:
        y = np.asarray(series.y, float)
        train, val = y[:-w], y[-w:]
        sid = f"series '{series.name}'"
        if metric == "mape" and (val == 0).any():
            if _flat(dev[series.name]):
                raise DataError(f"metric = mape is undefined on {sid}, which "
                                f"{_training_text(train, dev[series.name])}: MAPE divides by "
                                f"every actual value; {_drop(dev[series.name])}.")
            at = len(train) + 1 + int(np.flatnonzero(val == 0)[0])
            raise DataError(f"metric = mape is undefined on {sid}: its validation window "
                            f"holds a 0 (point {at}), and MAPE divides by every actual value; "
                            "use --metric smape (or mase), or drop the series.")
        if metric in ("mase", "owa") and not math.isfinite(mase_scale(train, series.season)):
            name = "MASE" if metric == "mase" else "OWA (through MASE)"
            if _flat(train):
                raise DataError(f"metric = {metric} is undefined on {sid}, which "
                                f"{_training_text(train, dev[series.name])}: {name} divides "
                                "by its seasonal-naive error there, which is 0; "
                                f"{_drop(dev[series.name])}.")
            raise DataError(f"metric = {metric} is undefined on {sid}: its training part "
                            f"repeats itself exactly every {series.season} point(s), so the "
                            f"seasonal-naive error {name} divides by is 0; use --metric "
                            "smape, or drop the series.")
        if metric == "owa" and not np.abs(naive2(train, w, series.season) - val).sum() > 0:
            raise DataError(f"metric = owa is undefined on {sid}: Naive2 forecasts its "
                            "validation window exactly, and OWA divides by Naive2's errors; "
                            "use --metric smape, or drop the series.")


def check_constant(dev: dict[str, TimeSeries], folds, cfg: StudyConfig) -> None:
    """Refuse a series whose training part is constant (or all zero) when no
    configuration of the space can be prepared on it (e.g. the scaler cannot scale it), so
    that every trial would fail on it; named with its values and a fix that matches."""
    from lstmtune.search._preflight import _candidates, _framing_key

    H, F = cfg.task.horizon, cfg.data.folds
    suspects = []
    for i, (sid, ts) in enumerate(dev.items()):
        y = np.asarray(ts.y, float)
        if _flat(y[: max(2, len(y) - (F + 1) * H)]):  # the shortest part any fold trains on
            suspects.append((sid, i))
    if not suspects:
        return
    candidates, seen = [], set()
    for c in _candidates(cfg):
        key = _framing_key(c)
        if key not in seen:
            seen.add(key)
            candidates.append(c)
    for sid, i in suspects:
        own = folds[i * F: (i + 1) * F]  # series-major
        reasons = []
        for c in candidates:
            reasons.append(infeasible(c, own, cfg.task))
            if reasons[-1] is None:
                break
        if reasons[-1] is None:
            continue
        y = np.asarray(dev[sid].y, float)
        train = y[: len(y) - F * H]
        if not _flat(train):
            train = y[: max(2, len(y) - (F + 1) * H)]
        where = _training_text(train, y)
        scalers = sorted({c["scaler"] for c in candidates})
        why = reasons[0].removeprefix("infeasible on this data: ")
        if "constant" in why and "none" not in scalers:
            raise DataError(f"series '{sid}' {where}: no configuration of the space can be "
                            f"prepared on it, since scaler = {', '.join(scalers)} cannot scale "
                            "a constant part (its standard deviation or range is 0); "
                            f'{_drop(y)}, or set [preprocessing] scaler = "none".')
        raise DataError(f"series '{sid}' {where}, and no "
                        f"configuration of the space can be prepared on it ({len(candidates)} "
                        f"distinct settings tried): {why}")


def preflight_panel(panel: Panel, dev: dict[str, TimeSeries], folds, cfg: StudyConfig) -> None:
    """Refuse now what cannot run: a metric undefined on some series, a constant series no
    configuration can be prepared on, no configuration of the space that can be prepared
    on the shortest series, or a largest population that does not fit in memory."""
    from lstmtune.search._preflight import _largest, _population

    check_panel_strategy(cfg)
    check_metric(folds, cfg.task.metric)
    check_constant(dev, folds, cfg)
    n = max(len(ts) for ts in dev.values())
    big = complete({**dict(cfg.fixed), **{k: _largest(cfg, k) for k in
                                           ("units", "layers", "timesteps", "batch_size")}})
    n_features = 1 + len(next(iter(panel)).feature_names)
    check_memory(big, members=_population(cfg) * len(folds) * cfg.search.repeats,
                 samples=n, n_features=n_features, where="[space]/[search] (× the series)")
    _check_feasible(cfg, folds)


def check_panel(panel: Panel, cfg: StudyConfig) -> StudyConfig:
    """Everything a panel study is refused for, before anything is written, cheap checks
    first (lengths, the metric on every series), then the configurations tried on the data;
    returns the configuration with its default space fitted to the panel."""
    dev, folds = panel_folds(panel, cfg)
    check_panel_strategy(cfg)
    check_metric(folds, cfg.task.metric)
    cfg, _ = fit_panel_space(folds, cfg)
    preflight_panel(panel, dev, folds, cfg)
    return cfg


# -- the final evaluation ---------------------------------------------------------------------
def _member_forecasts(run, n_folds: int) -> list[np.ndarray]:
    """Each fold's members' forecasts of its scored window (R, H), NaN for a member that
    diverged."""
    status = np.asarray(run.table["status"])
    out = []
    for j in range(n_folds):
        fc = np.asarray(run.forecasts("test", fold=j))[:, 0, :]
        bad = status[run.fold == j] == "failed"
        out.append(np.where(bad[:, None], np.nan, fc))
    return out


def _classical(study: optuna.Study, dev: dict[str, TimeSeries], H: int,
               progress: Callable[[str], None] | None) -> dict[str, Any]:
    """Every classical method's forecast of every test window (stored once computed)."""
    stored = study.user_attrs.get(CLASSICAL_ATTR)
    if stored is not None and stored.get("ids") == list(dev) and stored.get("horizon") == H:
        return stored
    if progress:
        progress(f"classical methods (Naive, sNaive, Naive2, SES, Theta, ETS) on {len(dev)} "
                 "series")
    fc: dict[str, dict[str, list]] = {}
    fallbacks: dict[str, list[str]] = {}
    for sid, ts in dev.items():
        f, fb = classical_forecasts(ts.y, H, ts.season)
        for name, v in f.items():
            fc.setdefault(name, {})[sid] = [float(x) for x in v]
        for name in fb:
            fallbacks.setdefault(name, []).append(sid)
    out = {"ids": list(dev), "horizon": H, "forecasts": fc, "fallbacks": fallbacks}
    study.set_user_attr(CLASSICAL_ATTR, out)
    return out


def _per_series_choice(study: optuna.Study, cfg: StudyConfig, n_series: int
                       ) -> tuple[np.ndarray, dict[int, optuna.trial.FrozenTrial]]:
    """For each series, of the ``PER_SERIES_TOP`` best completed local trials, the one with
    the best mean validation score on that series (-1 when there is none), and those trials
    by number."""
    fixed = dict(cfg.fixed)
    trials = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
              if complete({**fixed, **t.params})["model"] == "local"
              and "series" in t.user_attrs.get("members", {})]
    trials = sorted(trials, key=lambda t: t.value)[:PER_SERIES_TOP]
    if not trials:
        return np.full(n_series, -1), {}
    M = np.full((len(trials), n_series), np.inf)
    for k, t in enumerate(trials):
        m = t.user_attrs["members"]
        s = np.asarray(m["score"], float)
        sid = np.asarray(m["series"], int)
        sums = np.bincount(sid, weights=np.nan_to_num(s, nan=0.0), minlength=n_series)
        cnt = np.bincount(sid, minlength=n_series)
        ok = np.bincount(sid, weights=np.isfinite(s), minlength=n_series) == cnt
        M[k] = np.where(ok & (cnt > 0), sums / np.maximum(cnt, 1), np.inf)
    pick = np.argmin(M, axis=0)
    numbers = np.array([trials[k].number for k in pick])
    numbers[~np.isfinite(M.min(axis=0))] = -1
    return numbers, {t.number: t for t in trials}


def _conformal(run, folds, cfg: StudyConfig, levels=LEVELS
               ) -> tuple[dict, dict[str, dict[str, Any]], np.ndarray]:
    """Quantiles of the validation windows' scaled absolute residuals per horizon step
    (``evaluation.conformal``), and for each level too few residuals allow: how many it
    had, how many it needs, and the folds or series that give them (each series' each
    validation window adds one residual per step), with that said in words (``reason``)."""
    fcs = _member_forecasts(run, len(folds))
    res = []
    for j, (series, w) in enumerate(folds):
        y = np.asarray(series.y, float)
        scale = mase_scale(y[:-w], series.season)
        res.append(np.abs(y[-w:] - combine_members(fcs[j], cfg.search.combine)) / scale)
    res = np.asarray(res)
    quantiles, short = conformal(res, levels)
    H, F = cfg.task.horizon, cfg.data.folds
    N = len(folds) // F  # folds are series-major, F per series
    missing = {}
    for level, (n, needed) in short.items():
        pct = f"{100 * level:g} %"
        if n == 0:
            missing[str(level)] = {
                "nominal": level, "residuals": 0, "needed": needed, "folds_needed": None,
                "series_needed": None,
                "reason": (f"no finite validation residual, where the {pct} interval needs "
                           f"at least {needed} per horizon step: every validation forecast of "
                           "the best diverged, or every series' seasonal-naive scale is 0; "
                           "lower the learning-rate range, or drop the constant series.")}
            continue
        folds_needed = math.ceil(needed * F / n)  # n = N · F when every residual is finite
        series_needed = math.ceil(needed * N / n)
        lost = f", {N * F - n} of them not finite" if n < N * F else ""
        windows = "window" if F == 1 else "windows"
        missing[str(level)] = {
            "nominal": level, "residuals": n, "needed": needed, "folds_needed": folds_needed,
            "series_needed": series_needed,
            "reason": (f"too few validation residuals, {n} where the {pct} interval needs "
                       f"at least {needed} per horizon step (one per series and validation "
                       f"window: {N} series × {F} {windows}{lost}); use --folds "
                       f"{folds_needed} (or [data] folds = {folds_needed}; every series then "
                       f"needs at least {H * (folds_needed + 1) + MIN_TRAIN} points) or a "
                       f"panel of at least {series_needed} series.")}
    return quantiles, missing, res


PANEL_LABELS = {"smape": "sMAPE", "mase": "MASE", "owa": "OWA"}


def _refit(model, panel: Panel, config, run, cfg: StudyConfig, whole,
           progress: Callable[[str], None] | None):
    """The evaluated panel model trained again on every point of every series (``[search]
    refit``), as ``predict`` uses it; the test scores stay the evaluated members'."""
    if not cfg.search.refit:
        return replace(model, info={**model.info, "refit": False})
    c = refit_config(config, run.table)
    if c["model"] == "global":  # configure() takes a global model's epochs from here
        c = c.replace(global_epochs=c["epochs"])
    if progress:
        progress(f"refitting the best on every point of the {len(model.ids)} series "
                 f"({model.repeats} repeats): the model predict uses")
    rrun, _ = fit_config([(panel.series[i], 0) for i in model.ids], c,
                         repeats=model.repeats, seed=cfg.search.seed, task=whole)
    new, kept = model.refit(rrun, whole.configure(c), spec_task=whole)
    info = {**model.info, "refit": True, "evaluated": {"holdout": whole.horizon}}
    if len(kept) == len(model.ids):
        info["refit"] = "not refit: every refit member diverged"
    elif kept:
        info["refit_kept_evaluated"] = kept
    return replace(new, info=info)


def final_panel(study: optuna.Study, panel: Panel, dev: dict[str, TimeSeries], folds,
                cfg: StudyConfig, *, started: float,
                progress: Callable[[str], None] | None = None) -> tuple[dict, dict, Any]:
    """Retrain the panel's best and the per-series best, forecast every test window once,
    score them beside the classical methods, compare them pairwise, and measure the
    coverage of the conformal intervals the validation residuals allow (a level they are
    too few for is not produced: ``test["intervals_missing"]`` and the model's
    ``info["intervals_missing"]`` say why and what gives it); store the report's tables."""
    from lstmtune.model import PanelModel

    task, s = cfg.task, cfg.search
    H, F = task.horizon, cfg.data.folds
    ids = list(panel.series)
    N = len(ids)
    best = study.best_trial
    config = task.configure({**dict(cfg.fixed), **best.params})
    R = s.final_repeats
    final_folds = [(panel.series[i], H) for i in ids]
    if progress:
        progress(f"training the best (trial {best.number}, {config['model']}) {R} times on "
                 f"every series' training part, scored once on the {N} test windows")
    whole = replace(task, n_folds=1)  # one window per series: its test window
    run, _ = fit_config(final_folds, config, repeats=R, seed=s.seed, task=whole)
    members = _member_forecasts(run, N)
    failed = int(sum((~np.isfinite(m).all(axis=1)).sum() for m in members))
    if all(not np.isfinite(m).all(axis=1).any() for m in members):
        raise ConfigError(f"every final member of trial {best.number} diverged (NaN/inf): "
                          "lower the learning-rate range.")
    classical = _classical(study, dev, H, progress)
    lstm, lost = {}, []  # a series whose every member diverged: Naive2's forecast, counted
    for j, i in enumerate(ids):
        p = combine_members(members[j], s.combine)
        if not np.isfinite(p).all():
            p = np.asarray(classical["forecasts"]["naive2"][i], float)
            lost.append(i)
        lstm[i] = p

    if progress:
        progress("per-series best: each series' best local configuration on its own "
                 "validation windows, retrained")
    choice, by_number = _per_series_choice(study, cfg, N)
    per_series = dict(lstm)  # series without a local trial keep the panel's best
    for number in sorted(set(choice.tolist()) - {-1}):
        sel = np.flatnonzero(choice == number)
        c = task.configure({**dict(cfg.fixed), **by_number[number].params})
        r, _ = fit_config([final_folds[j] for j in sel], c, repeats=R, seed=s.seed, task=whole)
        for k, fc in enumerate(_member_forecasts(r, len(sel))):
            p = combine_members(fc, s.combine)
            if np.isfinite(p).all():
                per_series[ids[sel[k]]] = p

    if progress:
        progress("conformal intervals: the best's forecasts of the validation windows")
    vrun, _ = fit_config(folds, config, repeats=R, seed=s.seed, task=task)  # as the test's
    quantiles, missing, _ = _conformal(vrun, folds, cfg)  # only the levels it can produce

    actual = {i: np.asarray(panel.series[i].y[-H:], float) for i in ids}
    scales = {i: mase_scale(dev[i].y, dev[i].season) for i in ids}
    forecasts = {LSTM: lstm, PER_SERIES: per_series,
                 **{k: {i: np.asarray(v[i]) for i in ids}
                    for k, v in classical["forecasts"].items()}}
    scores = panel_scores(actual, forecasts, scales)
    metric = task.metric if task.metric in ("smape", "mase", "owa") else "smape"
    comparisons = {}
    for mine in (LSTM, PER_SERIES):
        for other in classical["forecasts"]:
            comparisons[f"{mine} vs {other}"] = paired(scores["per_series"][mine][metric],
                                                       scores["per_series"][other][metric],
                                                       seed=s.seed)
    # Coverage of the produced (finite) intervals only, over the series the LSTM forecast
    # (not those that fell back to Naive2) whose scale, hence interval, is defined.
    coverage = {}
    kept = [i for i in ids if i not in lost and math.isfinite(scales[i])]
    for level, q in quantiles.items() if kept else ():
        inside = np.array([np.abs(actual[i] - lstm[i]) <= q * scales[i] for i in kept])
        coverage[str(level)] = {"nominal": level, "coverage": float(inside.mean()),
                                "per_step": inside.mean(axis=0).tolist(),
                                "quantile": q.tolist(), "series": len(kept)}
    info = {"study": study.study_name, "trial": best.number, "data": panel.name,
            "combine": s.combine, "lstmtune_version": __version__}
    if missing:  # what predict says about a level the model does not hold
        info["intervals_missing"] = {k: v["reason"] for k, v in missing.items()}
    model = PanelModel.from_run(run, ids, config, spec_task=whole, repeats=R,
                                conformal={str(k): v.tolist() for k, v in quantiles.items()},
                                info=info)
    model = _refit(model, panel, config, run, cfg, whole, progress)
    table = scores["table"]
    by_member = []  # each repeat's own forecasts: the panel's mean score, member by member
    for r in range(R):
        fc_r = {i: members[j][r] for j, i in enumerate(ids)}
        if all(np.isfinite(f).all() for f in fc_r.values()):
            by_member.append(panel_scores(actual, {LSTM: fc_r, "naive2": forecasts["naive2"]},
                                          scales)["table"][LSTM][metric])
    test = {"metric": task.metric, "repeats": R, "failed": failed,
            "value": table[LSTM][metric], "members": by_member,
            "std": float(np.std(by_member, ddof=1)) if len(by_member) > 1 else math.nan,
            "table": table, "comparisons": comparisons,
            "coverage": coverage, "intervals_missing": missing,
            "per_series_trials": len(set(choice.tolist()) - {-1}),
            "fallbacks": classical["fallbacks"], "diverged_series": lost}
    baselines = {k: v for k, v in table.items() if k not in (LSTM, PER_SERIES)}
    test["verdict"] = verdict(metric, task.direction, table[LSTM][metric],
                              {k: v[metric] for k, v in baselines.items()},
                              members=by_member, label=PANEL_LABELS.get(metric, metric),
                              model=f"the {s.combine} of its {R} members' forecasts",
                              fallbacks={k: len(v) for k, v in classical["fallbacks"].items()},
                              paired={k.split(" vs ")[1]: v for k, v in comparisons.items()
                                      if k.startswith(f"{LSTM} vs ")})
    final = {
        "best_trial": best.number, "best_params": best.params, "best_value": best.value,
        "metric": task.metric, "task": task.describe(), "config": dict(config),
        "test": test, "baselines": baselines, "verdict": test["verdict"],
        "per_series": {"ids": ids, **scores["per_series"], "choice": choice.tolist()},
        "data": {"name": panel.name, "series": N, "season": next(iter(panel)).season,
                 "lengths": [len(ts) for ts in panel]},
        "split": {"horizon": H, "folds": F, "test_per_series": H},
        "model": {k: model.info.get(k) for k in ("refit", "refit_kept_evaluated")},
        "budget": {"trials": s.trials, "timeout": s.timeout, "final_repeats": R},
        "space": {n: describe_entry(e) for n, e in cfg.space.entries},
        "wall_seconds": time.perf_counter() - started, "lstmtune_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    forecast = {i: {"history": panel.series[i].y[-H - CONTEXT:-H].tolist(),
                    "actual": actual[i].tolist(), "lstm": lstm[i].tolist(),
                    "per_series": per_series[i].tolist(),
                    "members_low": np.nanmin(members[j], axis=0).tolist(),
                    "members_high": np.nanmax(members[j], axis=0).tolist(),
                    **{f"interval_{k}": [(lstm[i] - q * scales[i]).tolist(),
                                         (lstm[i] + q * scales[i]).tolist()]
                       for k, q in quantiles.items()},
                    **{k: forecasts[k][i].tolist() for k in ("naive2", "theta", "ets")}}
                for j, i in enumerate(ids)}
    study.set_user_attr(FINAL, jsonable(final))
    study.set_user_attr(FORECAST, jsonable(forecast))
    return test, baselines, model

