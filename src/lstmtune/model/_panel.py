"""A panel's tuned model: every series' members with the preprocessing fitted on that series,
and split-conformal intervals; saved in the model directory format (JSON + npz + SHA-256,
never pickle) as ``format = "lstmtune-panel"``.

A local model holds ``R`` members per series (weights with a leading axis of ``N × R``,
series-major); a global model holds ``R`` members shared by every series (leading axis
``R``).  Either way :meth:`PanelModel.ensemble` gives one series' :class:`Ensemble`, which
forecasts as a single series' model does.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.data import FittedPrep, TimeSeries
from lstmtune.engine import ModelSpec, flatten_params, nest_params, param_shapes
from lstmtune.errors import ConfigError, DataError
from lstmtune.evaluation import mase_scale
from lstmtune.experiment import PanelTask, complete
from lstmtune.model._ensemble import Ensemble, time_label

__all__ = ["PanelModel", "PANEL_FORMAT", "save_panel_model", "load_panel_model"]

PANEL_FORMAT = "lstmtune-panel"
FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class PanelModel:
    """Every series' members (local: its own; global: shared), its fitted preprocessing,
    and the conformal quantiles (level -> one scaled half-width per horizon step)."""

    config: dict[str, Any]
    spec: ModelSpec
    ids: list[str]
    params: dict  # leading axis N × R (local, series-major) or R (global)
    seeds: np.ndarray  # (R,)
    preps: list[FittedPrep]
    first_origins: list[int]
    horizon: int
    conformal: dict[str, list[float]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.config["model"]

    @property
    def repeats(self) -> int:
        return int(len(self.seeds))

    @classmethod
    def from_run(cls, run, ids: list[str], config: dict, *, spec_task: PanelTask,
                 repeats: int, conformal: dict[str, list[float]],
                 info: dict | None = None) -> PanelModel:
        """The model a panel's final run trained (``fit_config`` on every series' whole
        training part, ``repeats`` members each)."""
        preps = [FittedPrep.from_prepared(f.prepared) for f in run.folds]
        spec = spec_task.model(config, n_features=run.folds[0].prepared.n_inputs)
        seeds = np.asarray(run.table["seed"])[:repeats]
        return cls(config=dict(config), spec=spec, ids=list(ids), params=run.result.params,
                   seeds=seeds, preps=preps,
                   first_origins=[int(f.train.origin[0]) for f in run.folds],
                   horizon=spec_task.horizon, conformal=conformal, info=dict(info or {}))

    def ensemble(self, sid: str) -> Ensemble:
        """Series ``sid``'s members as an :class:`Ensemble`."""
        if sid not in self.ids:
            raise DataError(f"series '{sid}' is not in this model (it was trained on "
                            f"{len(self.ids)} series, e.g. {', '.join(self.ids[:3])}).")
        j = self.ids.index(sid)
        R = self.repeats
        take = slice(j * R, (j + 1) * R) if self.kind == "local" else slice(0, R)
        params = {k: np.asarray(v)[take] for k, v in flatten_params(self.params).items()}
        return Ensemble(config=self.config, spec=self.spec, params=nest_params(params),
                        seeds=self.seeds, prep=self.preps[j],
                        first_origin=self.first_origins[j], info={**self.info, "series": sid})

    def forecast(self, series: dict[str, TimeSeries], horizon: int | None = None
                 ) -> pd.DataFrame:
        """The next ``horizon`` values (default: the tuned horizon) of every given series, as
        a long table: ``unique_id, ds, step, forecast`` and the conformal interval of each
        level (``lo_80``, ``hi_80``, …: the tuned quantile of the scaled validation
        residuals times the series' own seasonal-naive scale)."""
        H = horizon or self.horizon
        if self.horizon < H and self.conformal:
            raise ConfigError(f"the intervals were calibrated for {self.horizon} steps, not "
                              f"{H}: use --horizon {self.horizon} or less.")
        frames = []
        for sid, ts in series.items():
            members = self.ensemble(sid).member_forecasts(ts, H)
            ok = np.isfinite(members).all(axis=1)  # a member that diverged is left out
            point = members[ok].mean(axis=0) if ok.any() else np.full(H, np.nan)
            scale = mase_scale(ts.y, ts.season)
            out = pd.DataFrame({"unique_id": sid,
                                "ds": [time_label(t) for t in _future(ts, H)],
                                "step": np.arange(1, H + 1), "forecast": point})
            for level, q in self.conformal.items():
                pct = round(100 * float(level))
                half = np.asarray(q[:H]) * (scale if math.isfinite(scale) else np.nan)
                out[f"lo_{pct}"], out[f"hi_{pct}"] = point - half, point + half
            frames.append(out)
        return pd.concat(frames, ignore_index=True)


def _future(ts: TimeSeries, horizon: int):
    idx = ts.index
    if isinstance(idx, pd.DatetimeIndex) and ts.freq:
        return pd.date_range(idx[-1], periods=horizon + 1, freq=ts.freq)[1:]
    return np.arange(int(idx[-1]) + 1, int(idx[-1]) + 1 + horizon)


def save_panel_model(model: PanelModel, path) -> Path:
    """Write ``model`` as a model directory (see ``model._io.write_model_dir``)."""
    from lstmtune.model._io import write_model_dir

    arrays = {k: np.asarray(v, np.float32) for k, v in flatten_params(model.params).items()}
    doc = {"format": PANEL_FORMAT, "format_version": FORMAT_VERSION,
           "config": dict(model.config),
           "spec": {**dataclasses.asdict(model.spec), "units": list(model.spec.units)},
           "ids": model.ids, "seeds": [int(s) for s in model.seeds],
           "preps": [p.to_dict() for p in model.preps], "first_origins": model.first_origins,
           "horizon": model.horizon, "conformal": model.conformal, "info": model.info,
           "params": {k: list(a.shape) for k, a in arrays.items()}}
    return write_model_dir(Path(path), doc, arrays)


def load_panel_model(path: Path, doc: dict[str, Any]) -> PanelModel:
    """The panel model of a verified model directory whose model.json is ``doc``."""
    from lstmtune.model._io import ModelError, read_weights

    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{path} has panel model format version "
                         f"{doc.get('format_version')!r}; this lstmtune reads version "
                         f"{FORMAT_VERSION}.")
    try:
        config = complete(doc["config"])
        spec = ModelSpec(**{**doc["spec"], "units": tuple(doc["spec"]["units"])})
        ids = [str(i) for i in doc["ids"]]
        seeds = np.asarray(doc["seeds"], int)
        preps = [FittedPrep.from_dict(p) for p in doc["preps"]]
        first = [int(x) for x in doc["first_origins"]]
        horizon = int(doc["horizon"])
        # an unbounded quantile (too few series for the level) is stored as null
        conformal = {str(k): [math.inf if x is None else float(x) for x in v]
                      for k, v in doc["conformal"].items()}
        task = PanelTask(horizon=horizon)
    except (KeyError, TypeError, ValueError, AttributeError, DataError, ConfigError) as exc:
        raise ModelError(f"{path / 'model.json'} is malformed ({exc!s:.80}); re-export the "
                         "model.") from None
    if len(preps) != len(ids) or len(first) != len(ids) or seeds.ndim != 1 or not len(seeds):
        raise ModelError(f"{path / 'model.json'}: its series, preprocessing and members do "
                         "not match; re-export the model.")
    if task.model(config, n_features=preps[0].n_features) != spec:
        raise ModelError(f"{path / 'model.json'}: the saved model spec does not match its "
                         "configuration; re-export the model.")
    lead = len(ids) * len(seeds) if config["model"] == "local" else len(seeds)
    want = {k: (lead, *v) for k, v in param_shapes(spec).items()}
    arrays = read_weights(path, want)
    return PanelModel(config=config, spec=spec, ids=ids, params=nest_params(arrays),
                      seeds=seeds, preps=preps, first_origins=first, horizon=horizon,
                      conformal=conformal, info=dict(doc.get("info", {})))
