"""Run a factorial experiment with repeats: as few populations as shapes require.

Configurations that differ only in per-member values (learning rate, dropout, L1/L2,
momentum) or in epochs share one population: epochs are snapshots of the longest training.
Repeat r uses seed ``seed + r`` in every configuration (common random numbers), so the
comparison between configurations is not blurred by different initial weights.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.data import TimeSeries, resolve_size
from lstmtune.errors import ConfigError
from lstmtune.evaluation import fitting_season
from lstmtune.experiment._evaluate import evaluate_configs
from lstmtune.experiment._params import (
    CLASSIFY_ONLY,
    PANEL_ONLY,
    check_memory,
    complete,
    group_key,
    n_inputs,
)
from lstmtune.experiment._task import SCORED, ForecastTask

__all__ = ["ExperimentSpec", "ExperimentResult", "run_experiment", "check_experiment"]

SCORE_ON = ("validation", "test")
MAX_CONFIGS = 10_000  # a full factorial beyond this is a search: `lstmtune tune`
MAX_TRAININGS = 1_000_000


@dataclass(frozen=True, kw_only=True)
class ExperimentSpec:
    """What to vary, what to fix, how often to repeat and where to score."""

    vary: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # full factorial of these values
    fixed: tuple[tuple[str, Any], ...] = ()  # everything else (defaults fill the rest)
    repeats: int = 30
    score_on: str = "validation"  # validation: the test window is cut off and never seen
    test_size: int | float = 12  # a count, or a fraction of the series
    val_size: int | float | None = None  # validation window (default: test_size)
    seed: int = 0
    trim_start: int | None = None  # stateful: training windows dropped (seed 000: 2)
    diagnostics: bool = True  # keep per-epoch curves (train and scored window)
    metric: str = "rmse"  # rmse | mae | mape | smape | mase (scaled by the training part)

    def __post_init__(self) -> None:
        ForecastTask(metric=self.metric)  # an unknown metric: one line with the valid names
        for name in SCORED:
            if name in self.varied:
                raise ConfigError(f"{name} is part of what an experiment scores, so its "
                                  f"configurations share it: set it (--set {name}=12) and run "
                                  f"one experiment per {name}.")
        if self.repeats < 1:
            raise ConfigError(f"--repeats must be >= 1, got {self.repeats}.")
        if self.score_on not in SCORE_ON:
            raise ConfigError(f"--score-on must be validation or test, got {self.score_on!r}.")
        names = [n for n, _ in self.vary]
        if len(set(names)) != len(names):
            raise ConfigError(f"each hyperparameter may be varied once, got {names}.")
        both = set(names) & {n for n, _ in self.fixed}
        if both:
            raise ConfigError(f"{sorted(both)} is both varied and set; drop one of them.")
        classify = [n for n in (*names, *(n for n, _ in self.fixed)) if n in CLASSIFY_ONLY]
        if classify:
            raise ConfigError(f"{classify[0]} applies to classification; an experiment "
                              "forecasts a series: drop it.")
        panel = [n for n in (*names, *(n for n, _ in self.fixed)) if n in PANEL_ONLY]
        if panel:
            raise ConfigError(f"{panel[0]} applies to a panel of series (tune with [data] "
                              'task = "panel"); an experiment forecasts one series: drop it.')
        n = math.prod(len(v) for _, v in self.vary)
        if n > MAX_CONFIGS or n * self.repeats > MAX_TRAININGS:
            sizes = " × ".join(f"{len(v)} {k}" for k, v in self.vary)
            raise ConfigError(f"--vary gives {sizes} = {n:,} configurations × {self.repeats} "
                              f"repeats; an experiment trains at most {MAX_CONFIGS:,} "
                              f"configurations and {MAX_TRAININGS:,} trainings: vary fewer "
                              "values at once, or search the space with `lstmtune tune`.")

    @property
    def varied(self) -> list[str]:
        return [n for n, _ in self.vary]

    @property
    def task(self) -> ForecastTask:
        """The horizon (set, shared by every configuration) and the metric scored."""
        return ForecastTask.of(dict(self.fixed), self.metric)

    def configs(self) -> list[dict[str, Any]]:
        base = dict(self.fixed)
        values = [v for _, v in self.vary]
        return [complete({**base, **dict(zip(self.varied, combo, strict=True))})
                for combo in itertools.product(*values)] if values else [complete(base)]

    def label(self, config: dict[str, Any]) -> str:
        if len(self.vary) == 1:
            return str(config[self.varied[0]])
        if not self.vary:
            return "config"
        return ", ".join(f"{n}={config[n]}" for n in self.varied)


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    spec: ExperimentSpec
    configs: list[dict[str, Any]]
    labels: list[str]
    scores: pd.DataFrame  # one row per configuration x repeat
    baseline: dict[str, dict[str, Any]]  # baselines on the scored window (ForecastTask)
    window: str  # "validation" or "test"
    histories: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    step_scores: dict[str, np.ndarray] = field(default_factory=dict)  # label -> (R, H)
    wall_seconds: float = 0.0
    populations: int = 0

    def values(self, label: str) -> np.ndarray:
        """Finite scores of one configuration (failed members excluded)."""
        s = self.scores.loc[self.scores["label"] == label, "score"].to_numpy(float)
        return s[np.isfinite(s)]


def _windows(ts: TimeSeries, spec: ExperimentSpec) -> tuple[TimeSeries, int]:
    """The series the experiment sees and the size of its scored window (counts or
    fractions of the series, rounded up)."""
    test = resolve_size(spec.test_size, len(ts), "--test-size")
    if spec.score_on == "test":
        return ts, test
    if not 1 <= test < len(ts):
        raise ConfigError(f"--test-size {spec.test_size} must lie in 1..{len(ts) - 1}.")
    val = test if spec.val_size is None else resolve_size(spec.val_size, len(ts), "--val-size")
    return ts.head(len(ts) - test), val


def check_experiment(ts: TimeSeries, spec: ExperimentSpec) -> None:
    """Refuse, before anything runs, an experiment whose windows do not fit the series or
    whose populations would not fit in memory."""
    series, scored = _windows(ts, spec)
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for c in spec.configs():
        groups.setdefault(group_key(c), []).append(c)
    gaps = np.isnan(series.y).any() or np.isnan(series.features).any()
    spec.task.check_data(series, len(series) - scored)
    for group in groups.values():
        big = max(group, key=lambda c: c["units"])
        if gaps and big["impute"] == "none":
            raise ConfigError(f"experiment: '{ts.name}' has gaps, but configuration "
                              f"'{spec.label(big)}' has impute=none: set impute (e.g. "
                              "--set impute=linear) for every configuration, or fill the gaps.")
        check_memory(big, members=len(group) * spec.repeats, samples=len(series),
                     n_features=n_inputs(big, len(series.feature_names)), where="experiment")


def run_experiment(ts: TimeSeries, spec: ExperimentSpec,
                   progress: Callable[[str], None] | None = None) -> ExperimentResult:
    """Train every configuration ``spec.repeats`` times and score it on the chosen window."""
    t0 = time.perf_counter()
    series, scored = _windows(ts, spec)
    configs = spec.configs()
    check_experiment(ts, spec)
    task = spec.task
    results = evaluate_configs([(series, scored)], configs, repeats=spec.repeats,
                               seed=spec.seed, task=task,
                               diagnostics=spec.diagnostics, trim_start=spec.trim_start,
                               progress=progress)
    rows, histories, step_scores = [], {}, {}
    for i, (c, r) in enumerate(zip(configs, results, strict=True)):
        label = spec.label(c)
        for k in range(len(r.scores)):
            rows.append({"config": i, "label": label,
                         **{f"param_{n}": c[n] for n in spec.varied},
                         "repeat": int(r.repeat[k]), "seed": int(r.seed[k]),
                         "status": r.status[k], "epochs_trained": int(r.epochs_trained[k]),
                         "score": float(r.scores[k])})
        if r.history is not None:
            histories[label] = r.history
        if r.step_scores is not None:
            step_scores[label] = r.step_scores
    scores = pd.DataFrame(rows).sort_values(["config", "repeat"], ignore_index=True)
    baseline = task.baselines(series.y, test_size=scored,
                              season=fitting_season(series.season, len(series) - scored))
    return ExperimentResult(spec=spec, configs=configs,
                            labels=[spec.label(c) for c in configs], scores=scores,
                            baseline=baseline, window=spec.score_on, histories=histories,
                            step_scores=step_scores,
                            wall_seconds=time.perf_counter() - t0,
                            populations=len({group_key(c) for c in configs}))

