"""The task seam: what differs between problems lives in one object that the experiment,
search, model and report layers consult instead of branching on the problem.

A task says how a configuration's data is prepared on a fold (``prepare``), what the model's
head is (``model``), how trained members are scored (``score``, ``step_scores``), which way is
better (``direction``), what the cheap reference forecasts are (``baselines``) and how it
describes itself to the stored tables and the report (``describe``).  :class:`ForecastTask`
forecasts ``horizon`` steps from every ``origin_step``-th walk-forward origin of one series,
scored by a point-forecast metric; ``ClassificationTask`` (``_classify``) classifies
labelled sequences; ``PanelTask`` (``_panel``) forecasts every series of a panel.  All
say how configurations group into populations (``group_key``), how a group's folds are
prepared (``prepare_group``) and how its members are trained (``fit``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from lstmtune.data import Prepared, TimeSeries, prepare
from lstmtune.engine import ModelSpec
from lstmtune.errors import ConfigError
from lstmtune.evaluation import (
    BASELINES,
    METRICS,
    SINGLE_CLASSICAL,
    MemberRun,
    classical_walk_forward,
    compute_metrics,
    fit_members,
    fitting_season,
    get_metric,
    metric_value,
    walk_forward_forecasts,
)
from lstmtune.experiment._params import build_model, build_prep, complete, group_key

__all__ = ["ForecastTask", "SCORED", "member_record", "all_folds", "members_text"]

SCORED = ("horizon", "origin_step")  # the configuration values a task is made of


def member_record(r) -> dict[str, list]:
    """A trial's stored member table (one storage write) from its ``ConfigScores``:
    fold-major, then repeats."""
    return {"score": [float(x) if np.isfinite(x) else None for x in r.scores],
            "fold": [int(x) for x in r.fold], "repeat": [int(x) for x in r.repeat],
            "epochs_trained": [int(x) for x in r.epochs_trained]}


def members_text(n_configs: int, n_folds: int, repeats: int, config=None) -> str:
    """What a population holds, for progress lines."""
    return (f"{n_configs * n_folds * repeats} members ({n_configs} configurations × "
            f"{n_folds} folds × {repeats} repeats)")


def all_folds(folds: list) -> list:
    """The folds a configuration's feasibility is checked on: every one."""
    return folds


@dataclass(frozen=True)
class ForecastTask:
    """Forecast ``horizon`` steps from every ``origin_step``-th walk-forward origin of one
    series, scored by ``metric`` (lower is better) in the series' own units."""

    horizon: int = 1
    metric: str = "rmse"
    origin_step: int = 1
    direction: ClassVar[str] = "minimize"
    kind: ClassVar[str] = "forecast"

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or self.metric.strip().lower() not in METRICS:
            get_metric(str(self.metric))  # raises with the valid names and a suggestion
        object.__setattr__(self, "metric", self.metric.strip().lower())
        for name in SCORED:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}.")

    @classmethod
    def of(cls, config: Mapping[str, Any], metric: str = "rmse") -> ForecastTask:
        """The task configurations like ``config`` are scored on (its horizon and origin
        step, which a study or experiment shares), by ``metric``."""
        c = complete(config)
        return cls(horizon=c["horizon"], origin_step=c["origin_step"], metric=metric)

    @property
    def label(self) -> str:
        """The metric as tables name it (``RMSE``, ``MASE``)."""
        return self.metric.upper()

    def describe(self) -> dict[str, Any]:
        """What the stored tables and the report say about the task."""
        return {"kind": self.kind, "metric": self.metric, "direction": self.direction,
                "horizon": self.horizon, "origin_step": self.origin_step}

    def check_data(self, ts: TimeSeries, train_end: int) -> None:
        """Refuse, before anything trains, data the metric is undefined on: MAPE where the
        series is 0 after ``train_end`` (in a scored window), MASE whose training part repeats
        itself exactly (a scale of 0)."""
        y = np.asarray(ts.y, float)
        if self.metric == "mape" and (y[train_end:] == 0).any():
            raise ConfigError(f"metric = mape is undefined where '{ts.name}' is 0 (it is, "
                              "inside the validation or test window): use smape or mase.")
        if self.metric == "mase":
            m = fitting_season(ts.season, train_end)
            diffs = np.abs(y[m:train_end] - y[:train_end - m])
            if not (diffs[np.isfinite(diffs)] > 0).any():
                raise ConfigError(f"metric = mase is undefined on '{ts.name}': its training "
                                  f"part repeats itself exactly (season {m}), so the scale "
                                  "is 0; use rmse or mae.")

    def configure(self, config: Mapping[str, Any]):
        """``config`` as this task trains it (complete; nothing to change for forecasts)."""
        return complete(config)

    def group_key(self, config: Mapping[str, Any]) -> tuple:
        """Configurations with equal keys train in one population (``group_key``)."""
        return group_key(config)

    member_record = staticmethod(member_record)
    probe = staticmethod(all_folds)
    members_text = staticmethod(members_text)

    def prepare_group(self, folds, configs: list) -> list[Prepared]:
        """The folds prepared for a group of configurations (equal ``group_key``: they
        share their preparation), one per fold."""
        return [self.prepare(s, w, configs[0]) for s, w in folds]

    @staticmethod
    def n_inputs(preps: list[Prepared]) -> int:
        return preps[0].n_inputs

    # -- data and model -----------------------------------------------------------------------
    def prepare(self, series: TimeSeries, scored: int, config: Mapping[str, Any]) -> Prepared:
        """``config``'s preprocessing and framing on one fold, scored on its last ``scored``
        points (this task's horizon and origins), with an early-stopping window of the same
        size before them when the configuration uses patience."""
        c = {**complete(config), "horizon": self.horizon, "origin_step": self.origin_step}
        prep, framing = build_prep(c, series.season)
        return prepare(series, test_size=scored, val_size=scored if c["patience"] else 0,
                       preprocessing=prep, framing=framing,
                       min_train_samples=c["batch_size"] if c["stateful"] else 1)

    def model(self, config: Mapping[str, Any], n_features: int, units: int | None = None
              ) -> ModelSpec:
        """The model of ``config`` for this task: a head of H outputs (direct) or of one
        (recursive)."""
        return build_model({**complete(config), "horizon": self.horizon,
                            "origin_step": self.origin_step}, n_features, units)

    def fit(self, preps, spec: ModelSpec, tspec, *, seeds, hparams=None, member_fold=None,
            member_config=None, on_chunk=None, units=None, trim_start=None, config=None
            ) -> MemberRun:
        """Train the members on their folds' windows (see ``evaluation.fit_members``)."""
        return fit_members(preps, spec, tspec, seeds=seeds, hparams=hparams,
                           trim_start=trim_start, folds=member_fold, on_chunk=on_chunk,
                           units=units)

    # -- scores ------------------------------------------------------------------------------
    def score(self, run: MemberRun, part: str = "test", epoch: int | None = None,
              per_step: bool = False) -> np.ndarray:
        """Every member's score on ``part`` (P,), or per horizon step (P, H)."""
        return run.scores(part, self.metric, epoch=epoch, per_step=per_step)

    def step_scores(self, actual: ArrayLike, forecast: ArrayLike, *, y_train: ArrayLike,
                    season: int = 1) -> list[float]:
        """The metric of each horizon step (column) of aligned (S, H) arrays: H values."""
        t = np.atleast_2d(np.asarray(actual, float))
        p = np.atleast_2d(np.asarray(forecast, float))
        return [metric_value(self.metric, t[:, h], p[:, h], y_train=y_train, season=season)
                for h in range(t.shape[1])]

    def baselines(self, y: ArrayLike, *, test_size: int, season: int = 1,
                  classical: bool = False) -> dict[str, dict[str, Any]]:
        """Every baseline walk-forward over the last ``test_size`` points of ``y`` on the
        origins and steps a model is scored on: all metrics, the task's ``value`` and its
        ``per_step`` errors; ``classical``: SES, Theta and ETS too, fitted on the training
        part and run to every origin (``evaluation.classical_walk_forward``)."""
        arr = np.asarray(y, float)
        table = walk_forward_forecasts(arr, test_size=test_size, horizon=self.horizon,
                                       season=season, origin_step=self.origin_step)
        names, fallbacks = list(BASELINES), {}
        if classical:
            more = classical_walk_forward(arr, test_size=test_size, horizon=self.horizon,
                                          season=season, origin_step=self.origin_step)
            fallbacks, refit = more.attrs["fallbacks"], more.attrs["refit"]
            table = table.merge(more[["origin", "step", *SINGLE_CLASSICAL]],
                                on=["origin", "step"], how="left")
            names += SINGLE_CLASSICAL
        y_train = arr[: arr.size - test_size]
        wide = table.pivot(index="origin", columns="step")
        out = {}
        for name in names:
            scores = compute_metrics(table["y"], table[name], y_train=y_train, season=season)
            out[name] = {**scores, "value": scores[self.metric],
                         "per_step": self.step_scores(wide["y"].to_numpy(),
                                                      wide[name].to_numpy(),
                                                      y_train=y_train, season=season)}
        for name in SINGLE_CLASSICAL if classical else ():
            out[name]["fallbacks"] = int(fallbacks[name])  # origins where Naive2 stood in
            out[name]["refit"] = refit  # fitted at every origin, or once on the training part
        return out
