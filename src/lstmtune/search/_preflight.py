"""What a study can be refused for, checked before its storage is created or touched.

- the split fits the series (test, validation, folds, and training data left);
- at least one configuration of the space can be prepared and framed on the data; when none
  can, the real reason is given (a constant series, log of non-positive values, more lags
  than the data...) instead of a study whose every trial failed;
- the largest configuration the study allows, in its largest population, fits in memory.

A configuration that only *some* draws make infeasible is not refused: its trial fails with
the reason (``infeasible``), and the search goes on.  The default space is first fitted to the
data (``fit_space``: lags the folds cannot hold are left out of it).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np
import optuna

from lstmtune.data import TimeSeries
from lstmtune.errors import ConfigError, DataError, SplitError
from lstmtune.evaluation import seasonality_test
from lstmtune.experiment import (
    PARAMS,
    ForecastTask,
    check_memory,
    complete,
    fold_series,
    n_inputs,
)
from lstmtune.search._config import StudyConfig
from lstmtune.search._space import DEFAULT_SPACE, Choice, Fixed, Range, Space, parse_space

__all__ = ["preflight", "infeasible", "fit_space", "SAMPLES"]

SAMPLES = 64  # configurations drawn from the space to find one that can be framed


def infeasible(config: dict[str, Any], folds, task: ForecastTask | None = None, *,
               quick: bool = False) -> str | None:
    """Why this configuration cannot be prepared on some fold by ``task`` (default: the
    configuration's own) (None when it can); ``quick``: on the folds the task names as
    the binding ones (``task.probe``: a panel's shortest series), before a study starts."""
    task = task or ForecastTask.of(config)
    for series, w in (task.probe(folds) if quick else folds):
        try:
            prepared = task.prepare(series, w, config)
            task.model(config, n_features=prepared.n_inputs)  # e.g. a recursive stateful model
        except (SplitError, DataError, ConfigError) as exc:  # e.g. calendar without dates
            return f"infeasible on this data: {exc}"
    return None


def _folds(ts: TimeSeries, cfg: StudyConfig) -> list[tuple[TimeSeries, int]]:
    d = cfg.data
    return fold_series(ts.head(len(ts) - d.test_size), scored=d.val_size or d.test_size,
                       folds=d.folds)


def fit_space(ts: TimeSeries, cfg: StudyConfig) -> tuple[StudyConfig, str | None]:
    """The default space fitted to the data: its ``timesteps`` range capped by what the
    training part of every fold allows with differencing on, so that no trial is infeasible
    for its lags, and linear imputation fixed when the data has gaps.  A user's own space is
    returned as written (``preflight`` refuses it when nothing in it fits).  Returns the
    configuration and a note saying what changed (None when nothing did)."""
    if cfg.space != DEFAULT_SPACE or cfg.declared is not None or \
            len(ts) - cfg.data.test_size - (cfg.data.val_size or cfg.data.test_size) < 2:
        return cfg, None
    notes = []
    gaps = int(np.isnan(ts.y).sum() + np.isnan(ts.features).sum())
    if gaps and "impute" not in dict(cfg.fixed):
        cfg = replace(cfg, fixed=(*cfg.fixed, ("impute", "linear")))
        notes.append(f"{gaps} gap(s) imputed linearly (impute=linear: two-sided inside each "
                     "training part, carried forward after it)")
    cfg, knows = _knows_the_data(ts, cfg)
    notes += knows
    entries = dict(cfg.space.entries)
    lags = entries["timesteps"]
    folds = _folds(ts, cfg)
    fixed = dict(cfg.fixed)
    # the most points the searched differencing consumes, and the smallest batch (stateful
    # models need a batch of samples)
    worst = {"difference": max(entries["difference"].values), "batch_size":
             min(entries["batch_size"].values)}
    if isinstance(entries.get("seasonal_lag"), Choice):
        worst["seasonal_lag"] = max(entries["seasonal_lag"].values)
    fits = [L for L in range(1, int(lags.high) + 1)
            if infeasible(complete({**worst, **fixed, "timesteps": L}), folds, cfg.task,
                          quick=True) is None]
    if fits and fits[-1] < lags.high:  # below the range's low end: its lower half
        low = lags.low if fits[-1] >= lags.low else max(1, round(fits[-1] / 2))
        capped = replace(lags, low=low, high=fits[-1])
        space = Space(tuple((n, capped if n == "timesteps" else e)
                            for n, e in cfg.space.entries))
        cfg = replace(cfg, space=space, declared=cfg.declared or cfg.space)
        notes.append(f"timesteps {int(capped.low)}–{fits[-1]} (the training part of the "
                     f"smallest fold allows no more than {fits[-1]} lags)")
    if not notes:
        return cfg, None
    return cfg, f"default space fitted to '{ts.name}': {'; '.join(notes)}"


def window_norms(fixed: dict[str, Any], horizon: int) -> list[str]:
    """The window normalisations a default space searches: none, the window's last value,
    and the smoothed level unless a fixed recursive roll of several steps (which would need
    the level's future) or a per-window scaler rules it out."""
    rolls = fixed.get("multistep") == "recursive" and horizon > 1
    windows = fixed.get("scale_on") == "windows" and fixed.get("scaler") != "none"
    return ["none", "last"] + ([] if rolls or windows else ["level"])


def _knows_the_data(ts: TimeSeries, cfg: StudyConfig) -> tuple[StudyConfig, list[str]]:
    """The default space widened by what the training part shows (Hewamalage, Bergmeir &
    Bandara 2021's recipe; Smyl's ES-RNN): every window normalised by its last value, by its
    exponential-smoothing level or not; ``log`` when every value is positive; when the M4's
    90 % ACF test finds the season ``m``, deseasonalising (classical indices or STL) or
    seasonal differencing, Fourier terms of period ``m``, and input windows around
    1.25 × max(m, horizon).  Nothing the user fixed is searched, and a grid
    search keeps the space as it is (each addition would multiply its grid)."""
    if cfg.search.strategy == "grid":  # every addition would multiply the grid
        return cfg, []
    fixed = dict(cfg.fixed)
    train = np.asarray(ts.y[: len(ts) - cfg.data.test_size], float)
    train = train[np.isfinite(train)]
    m, H = int(ts.season or 1), int(cfg.task.horizon)
    seasonal = m > 1 and train.size >= 3 * m and seasonality_test(train, m)
    every = np.asarray(ts.y, float)
    every = every[np.isfinite(every)]
    norms = window_norms(fixed, H)
    add: dict[str, Any] = {"window_norm": {"choice": norms}}
    said = ["window_norm " + " | ".join(norms)]
    if every.size and (every > 0).all():  # the test window too: prepare transforms it
        add["log"] = {"choice": [False, True]}
        said.append("log (every value is positive)")
    if seasonal:
        add["deseasonalise"] = {"choice": [False, True, "stl"]}
        if "deseasonalise" in fixed:  # seasonal differencing only where it is off
            if not fixed["deseasonalise"]:
                add["seasonal_lag"] = {"choice": [0, m]}
        else:
            add["seasonal_lag"] = {"choice": [0, m], "when": {"deseasonalise": False}}
        add["fourier"] = {"choice": ["none", f"{m}:2"]}
        said.append(f"deseasonalise (classical or STL) or seasonal differencing and "
                    f"Fourier terms (the training part is seasonal at {m})")
    add = {k: v for k, v in add.items() if k not in fixed}
    if seasonal and "timesteps" not in fixed:
        w = max(m, H)
        add["timesteps"] = {"int": [max(1, round(0.75 * w)), max(2, round(1.5 * w))]}
        said.append(f"timesteps {add['timesteps']['int'][0]}–{add['timesteps']['int'][1]} "
                    f"(about 1.25 × max(season {m}, horizon {H}))")
    if not add:
        return cfg, []
    extra = parse_space(add, "default space")
    merged = {**dict(cfg.space.entries), **dict(extra.entries)}
    # a condition refers to an earlier entry: deseasonalise before seasonal_lag
    order = [n for n in merged if n not in extra.names] + extra.names
    space = Space(tuple((n, merged[n]) for n in order))
    return replace(cfg, space=space, declared=cfg.declared or cfg.space), \
        ["searched as well: " + ", ".join(said)]


def _framing_key(c: dict[str, Any]) -> tuple:
    """The values that decide whether the task's ``prepare`` succeeds."""
    keys = [k for k, p in PARAMS.items() if p.kind in ("prep", "framing")]
    keys += ["patience", "stateful", "window_norm"] + (["batch_size"] if c["stateful"] else [])
    return tuple((k, c[k]) for k in keys)


def _candidates(cfg: StudyConfig) -> list[dict[str, Any]]:
    """Up to ``SAMPLES`` configurations of the space, drawn as the study would (no storage)."""
    fixed = dict(cfg.fixed)
    if cfg.search.strategy == "grid":
        grid = cfg.space.grid()  # a seeded sample: the first ones share a corner of the grid
        picked = random.Random(cfg.search.seed).sample(grid, min(SAMPLES, len(grid)))
        return [complete({**fixed, **p}) for p in picked]
    probe = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=cfg.search.seed))
    return [complete({**fixed, **cfg.space.suggest(probe.ask())}) for _ in range(SAMPLES)]


def _check_feasible(cfg: StudyConfig, folds) -> None:
    reasons: Counter[str] = Counter()
    seen = set()
    for c in _candidates(cfg):
        key = _framing_key(c)
        if key in seen:
            continue
        seen.add(key)
        reason = infeasible(c, folds, cfg.task, quick=True)
        if reason is None:
            return
        reasons[reason.removeprefix("infeasible on this data: ")] += 1
    shown = reasons.most_common(1)[0][0]
    raise ConfigError(f"no configuration of the space can be prepared on '{cfg.data.source}' "
                      f"({len(seen)} distinct preprocessing/framing settings tried): {shown}")


def _largest(cfg: StudyConfig, name: str) -> Any:
    entry = dict(cfg.space.entries).get(name)
    if isinstance(entry, Range):
        return int(entry.high) if entry.integer else entry.high
    if isinstance(entry, Choice):
        return max(entry.values)
    if isinstance(entry, Fixed):
        return entry.value
    return complete(dict(cfg.fixed))[name]


def _population(cfg: StudyConfig) -> int:
    """The most candidates one batch trains together."""
    s = cfg.search
    if s.strategy == "hyperband":
        from lstmtune.search._strategies import brackets

        return max(n for n, _ in brackets(_largest(cfg, "epochs")))
    if s.strategy == "hybrid":
        return max(s.batch, 4 * s.top_k) * 3  # the final grid runs three times the repeats
    return s.batch


def _check_memory(ts: TimeSeries, cfg: StudyConfig, n_dev: int) -> None:
    big = complete({**dict(cfg.fixed), **{n: _largest(cfg, n) for n in
                                           ("units", "layers", "timesteps", "batch_size")}})
    n_features = max(n_inputs(c, len(ts.feature_names)) for c in [big, *_candidates(cfg)])
    check_memory(big, members=_population(cfg) * cfg.data.folds * cfg.search.repeats,
                 samples=n_dev, n_features=n_features, where="[space]/[search]")
    check_memory(big, members=cfg.search.final_repeats, samples=len(ts),
                 n_features=n_features, where="[search] final_repeats")


def _check_task(ts: TimeSeries, cfg: StudyConfig) -> None:
    """The horizon fits every scored window, and the metric is defined on the data."""
    d, task = cfg.data, cfg.task
    val = d.val_size or d.test_size
    for what, size in (("test_size", d.test_size), ("a validation fold (val_size / folds)",
                                                    val // d.folds)):
        if task.horizon > size:
            raise ConfigError(f"horizon = {task.horizon} is longer than {what} = {size}, so its "
                              f"last steps would never be scored: use a horizon of at most "
                              f"{size}, or windows of at least {task.horizon} points.")
    task.check_data(ts, len(ts) - d.test_size - val)


def preflight(ts: TimeSeries, cfg: StudyConfig) -> list[tuple[TimeSeries, int]]:
    """Refuse the study now if it cannot run; returns its walk-forward folds (the series
    without its test window, scored on the validation window)."""
    d = cfg.data
    n = len(ts)
    val = d.val_size or d.test_size
    if n - d.test_size - val < 2:
        raise ConfigError(f"series '{ts.name}' has {n} points: too short for test_size="
                          f"{d.test_size} + val_size={val} with training data left; "
                          "use smaller windows.")
    if val < d.folds:
        raise ConfigError(f"folds = {d.folds} walk-forward folds need a validation window of "
                          f"at least {d.folds} points, got val_size = {val}: use fewer folds "
                          "or a longer validation window.")
    _check_task(ts, cfg)
    dev = ts.head(n - d.test_size)  # the test window is gone from here on
    folds = fold_series(dev, scored=val, folds=d.folds)
    _check_memory(ts, cfg, len(dev))
    _check_feasible(cfg, folds)
    return folds
