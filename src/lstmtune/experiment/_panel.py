"""The panel task: every series of a panel forecast ``horizon`` steps from one origin per
scored window (the competitions' convention), scored by a scale-free metric.

A fold of a panel study is one series' walk-forward fold ``(series, horizon)``; the folds
are series-major (series i's fold k is fold ``i * n_folds + k``).  Each fold has its own
preprocessing, fitted on that series' training part only (scaler, differencing,
deseasonalisation).  How a configuration's members train depends on its ``model``:

- ``local``: one set of weights per series; the series are members of one population
  (configurations × series × folds × repeats), exactly as each series would train alone.
- ``global``: one set of weights per (walk-forward fold, repeat), trained on the windows of
  every series at once (series on the sample axis, each window in its own series' scaled
  units); it is scored on each series as one member per series, so that both kinds of
  model give one score per (series, fold, repeat).  Its ``epochs`` and ``batch_size`` are
  ``global_epochs`` and ``global_batch_size`` (an epoch holds every series' windows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from lstmtune.data import Prepared, TimeSeries, prepare
from lstmtune.engine import ModelSpec
from lstmtune.errors import ConfigError, DataError, SplitError
from lstmtune.evaluation import MemberRun, fit_global, fit_members
from lstmtune.experiment._params import build_model, build_prep, complete, group_key

__all__ = ["PanelTask", "PANEL_METRICS"]

PANEL_METRICS = ("smape", "mase", "owa", "mape")  # scale-free: comparable across series


@dataclass(frozen=True)
class PanelTask:
    """Forecast ``horizon`` steps of every series from one origin per window, scored by
    ``metric`` (lower is better), ``n_folds`` walk-forward windows per series."""

    horizon: int = 1
    metric: str = "smape"
    n_folds: int = 1
    direction: ClassVar[str] = "minimize"
    kind: ClassVar[str] = "panel"

    def __post_init__(self) -> None:
        m = str(self.metric).strip().lower()
        if m not in PANEL_METRICS:
            raise ConfigError(f"metric = {self.metric!r} is not comparable across the series "
                              f"of a panel: use one of {', '.join(PANEL_METRICS)}.")
        object.__setattr__(self, "metric", m)
        for name in ("horizon", "n_folds"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ConfigError(f"{name} must be a whole number >= 1, got {v!r}.")

    @property
    def origin_step(self) -> int:
        return self.horizon

    @property
    def label(self) -> str:
        return {"smape": "sMAPE", "owa": "OWA"}.get(self.metric, self.metric.upper())

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "metric": self.metric, "direction": self.direction,
                "horizon": self.horizon, "origin_step": self.horizon, "folds": self.n_folds}

    def series_of(self, fold: np.ndarray) -> np.ndarray:
        """The series index of each (series-major) fold index."""
        return np.asarray(fold) // self.n_folds

    # -- configurations ------------------------------------------------------------------------
    def configure(self, config: Mapping[str, Any]):
        """``config`` as a panel trains it: one origin per window (``origin_step`` = the
        horizon); a global model's epochs and batch size are its ``global_`` values."""
        c = complete({**config, "horizon": self.horizon, "origin_step": self.horizon})
        if c["stateful"]:
            raise ConfigError("stateful = true does not apply to a panel (its series have "
                              "different lengths, and a global model mixes them): drop it.")
        if c["model"] == "global":
            c = complete({**c, "epochs": c["global_epochs"],
                          "batch_size": c["global_batch_size"]})
        return c

    def group_key(self, config: Mapping[str, Any]) -> tuple:
        return group_key(config)

    def members_text(self, n_configs: int, n_folds: int, repeats: int, config=None) -> str:
        """What a population holds, for progress lines (``n_folds``: series × windows)."""
        n = n_folds // self.n_folds
        each = f"{n_configs} configurations × {self.n_folds} windows × {repeats} repeats"
        if config is not None and config["model"] == "global":
            return (f"{n_configs * self.n_folds * repeats} global models ({each}) over {n} "
                    "series")
        return f"{n_configs * n_folds * repeats} local members ({each} × {n} series)"

    def probe(self, folds: list) -> list:
        """The folds a configuration's feasibility is checked on: the shortest series' (the
        one that allows the fewest lags)."""
        k = self.n_folds
        lengths = [len(folds[i][0]) for i in range(0, len(folds), k)]
        i = int(np.argmin(lengths))
        return folds[i * k: (i + 1) * k]

    def prepare_group(self, folds, configs: list) -> list[Prepared]:
        return [self.prepare(s, w, configs[0]) for s, w in folds]

    @staticmethod
    def n_inputs(preps: list[Prepared]) -> int:
        return preps[0].n_inputs

    def prepare(self, series: TimeSeries, scored: int, config: Mapping[str, Any]) -> Prepared:
        """``config`` on one series' fold, scored on its last ``scored`` points, fitted on
        that series' training part only."""
        c = self.configure(config)
        prep, framing = build_prep(c, series.season)
        try:
            return prepare(series, test_size=scored, val_size=scored if c["patience"] else 0,
                           preprocessing=prep, framing=framing)
        except (DataError, SplitError) as exc:  # named: the panel has many series
            if str(exc).startswith(f"series '{series.name}'"):
                raise
            raise type(exc)(f"series '{series.name}': {exc}") from None

    def model(self, config: Mapping[str, Any], n_features: int, units: int | None = None
              ) -> ModelSpec:
        return build_model(self.configure(config), n_features, units)

    def fit(self, preps, spec: ModelSpec, tspec, *, seeds, hparams=None, member_fold=None,
            member_config=None, on_chunk=None, units=None, trim_start=None, config=None
            ) -> MemberRun:
        """Local: every (series, fold, repeat) member trains its own weights; global: one
        model per (configuration, walk-forward fold, seed) over every series' windows."""
        if config is None or config["model"] == "local":
            return fit_members(preps, spec, tspec, seeds=seeds, hparams=hparams,
                               folds=member_fold, on_chunk=on_chunk, units=units,
                               eval_train=False)
        member_fold = np.asarray(member_fold)
        cfg = np.zeros(len(seeds), int) if member_config is None else np.asarray(member_config)
        key = np.stack([cfg, member_fold % self.n_folds, np.asarray(seeds)], axis=1)
        _, model_of = np.unique(key, axis=0, return_inverse=True)
        return fit_global(preps, spec, tspec, seeds=seeds, folds=member_fold,
                          groups=np.arange(len(preps)) % self.n_folds,
                          model_of=model_of.reshape(-1), hparams=hparams, on_chunk=on_chunk,
                          units=units)

    # -- scores ------------------------------------------------------------------------------
    def score(self, run: MemberRun, part: str = "test", epoch: int | None = None,
              per_step: bool = False) -> np.ndarray:
        """Every member's (series fold's) score (P,); per horizon step (P, H) in sMAPE when
        the metric is OWA (a ratio to Naive2's whole forecast, not one step's)."""
        metric = "smape" if per_step and self.metric == "owa" else self.metric
        return run.scores(part, metric, epoch=epoch, per_step=per_step)

    def member_record(self, r) -> dict[str, list]:
        """A trial's stored member table: series, walk-forward fold, repeat, score."""
        return {"score": [float(x) if np.isfinite(x) else None for x in r.scores],
                "series": [int(x) for x in self.series_of(r.fold)],
                "fold": [int(x) for x in np.asarray(r.fold) % self.n_folds],
                "repeat": [int(x) for x in r.repeat],
                "epochs_trained": [int(x) for x in r.epochs_trained]}
