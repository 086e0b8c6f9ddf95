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
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.data import FittedPrep, TimeSeries
from lstmtune.engine import ModelSpec, flatten_params, nest_params, param_shapes
from lstmtune.errors import ConfigError, DataError
from lstmtune.evaluation import combine_members, mase_scale
from lstmtune.experiment import PanelTask
from lstmtune.model._ensemble import Ensemble, point_of, time_label

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

    @property
    def point(self) -> str:
        """How each series' members make one forecast: the study's ``combine`` (saved in
        ``info``), else their mean."""
        return point_of(self.info)

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

    def refit(self, run, config: dict, *, spec_task: PanelTask) -> tuple[PanelModel, list[str]]:
        """This model trained again on every point (``run``: ``fit_config`` on each whole
        series, as many members), with this model's conformal quantiles and info.  A series
        whose every refit member diverged keeps this model's members and preprocessing
        (a global model: all of it); their ids are returned."""
        new = PanelModel.from_run(run, self.ids, config, spec_task=spec_task,
                                  repeats=self.repeats, conformal=self.conformal,
                                  info=self.info)
        fresh, old = flatten_params(new.params), flatten_params(self.params)
        finite = np.all([np.isfinite(np.asarray(a).reshape(len(a), -1)).all(axis=1)
                         for a in fresh.values()], axis=0)
        if self.kind == "global":
            return (new, []) if finite.any() else (self, list(self.ids))
        kept = finite.reshape(len(self.ids), self.repeats).any(axis=1)
        if kept.all():
            return new, []
        back = np.repeat(~kept, self.repeats)
        params = {k: np.where(back.reshape(-1, *[1] * (np.ndim(v) - 1)), old[k], v)
                  for k, v in fresh.items()}
        pick = lambda a, b: [x if k else y for k, x, y in zip(kept, a, b, strict=True)]  # noqa: E731
        return (dataclasses.replace(new, params=nest_params(params),
                                    preps=pick(new.preps, self.preps),
                                    first_origins=pick(new.first_origins, self.first_origins)),
                [sid for sid, k in zip(self.ids, kept, strict=True) if not k])

    @cached_property
    def _index(self) -> dict[str, int]:
        return {sid: j for j, sid in enumerate(self.ids)}

    def ensemble(self, sid: str) -> Ensemble:
        """Series ``sid``'s members as an :class:`Ensemble`."""
        j = self._index.get(sid)
        if j is None:
            from lstmtune.model._io import shown, shown_ids

            raise DataError(f"series {shown(sid, 40)} is not in this model: it was trained "
                            f"on {len(self.ids)} series ({shown_ids(self.ids)}); forecast "
                            "only those.")
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
        residuals times the series' own seasonal-naive scale).  Only a level whose saved
        half-widths are finite numbers >= 0 for every step gives an interval (so ``lo <=
        hi`` always); another is left out and named, with the reason, in the table's
        ``attrs["intervals_missing"]`` (level -> reason)."""
        H = horizon or self.horizon
        if self.horizon < H and self.conformal:
            raise ConfigError(f"the intervals were calibrated for {self.horizon} steps, not "
                              f"{H}: use --horizon {self.horizon} or less.")
        levels, missing = [], {}
        for level, q in self.conformal.items():
            try:
                pct = round(100 * float(level))
                half = np.asarray(q, float)
            except (TypeError, ValueError, OverflowError):
                missing[str(level)] = "its saved level or half-widths are not numbers."
                continue
            if half.ndim != 1 or half.size < H or not (np.isfinite(half[:H])
                                                       & (half[:H] >= 0)).all():
                missing[str(level)] = (f"its saved half-widths are not {H} finite numbers "
                                       ">= 0 (an unbounded or edited quantile); tune again "
                                       "for an interval at this level.")
                continue
            levels.append((pct, half[:H]))
        frames = []
        for sid, ts in series.items():
            members = self.ensemble(sid).member_forecasts(ts, H)
            point = combine_members(members, self.point)  # a diverged member left out
            scale = mase_scale(ts.y, ts.season)
            out = pd.DataFrame({"unique_id": sid,
                                "ds": [time_label(t) for t in _future(ts, H)],
                                "step": np.arange(1, H + 1), "forecast": point})
            for pct, q in levels:
                half = q * (scale if math.isfinite(scale) else np.nan)
                out[f"lo_{pct}"], out[f"hi_{pct}"] = point - half, point + half
            frames.append(out)
        table = pd.concat(frames, ignore_index=True)
        table.attrs["intervals_missing"] = missing
        return table


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
    """The panel model of a verified model directory whose model.json is ``doc``, every entry
    checked as ``model._io.load_model`` checks a forecaster's: unique series ids, one
    preprocessing per series (framed as the spec and configuration say) and a first origin
    it can frame, the horizon the configuration was tuned for,
    conformal half-widths that are finite numbers >= 0 (a level saved as null, unbounded,
    is left out), and weights of the shapes the spec needs."""
    from lstmtune.model import _io

    _io.check_version(path, doc, FORMAT_VERSION, "panel model")
    config = _io.entry(path, doc, "config", _io.config_of)
    spec = _io.entry(path, doc, "spec", _io.spec_of)
    ids = list(_io.entry(path, doc, "ids", lambda v: _io.names(v, "series id")))
    seeds = _io.entry(path, doc, "seeds", _io.seeds_of)
    preps = _io.entry(path, doc, "preps", lambda v: _preps_of(v, ids))
    horizon = _io.entry(path, doc, "horizon", lambda v: _io.whole(v, 1))
    task = PanelTask(horizon=horizon)
    _io.check_configured(path, config, task.configure,
                         f"a panel model of horizon {horizon}")
    conformal = _io.entry(path, doc, "conformal", lambda v: _conformal_of(v, horizon))
    info = dict(_io.entry(path, doc, "info", _io.table, default={}))
    declared = _io.entry(path, doc, "params", _io.shapes_of)
    _io.check_spec(path, spec, _io.built_spec(path, lambda: task.model(
        config, n_features=preps[0].n_features)))
    for k, prep in enumerate(preps):
        _io.check_framing(path, f"preps[{k}]", prep, spec, config)
    first = _io.entry(path, doc, "first_origins", lambda v: [
        _first_origin(k, x, p) for k, (x, p) in
        enumerate(zip(_per_series(v, ids, "first origin"), preps, strict=True))])
    N, R = len(ids), len(seeds)
    local = config["model"] == "local"
    want = {k: (N * R if local else R, *v) for k, v in param_shapes(spec).items()}
    what = f"{N} series × {R} members" if local else f"{R} members shared by {N} series"
    arrays = _io.read_weights(path, declared, want, f"{what}, {spec.units} units")
    return PanelModel(config=config, spec=spec, ids=ids, params=nest_params(arrays),
                      seeds=seeds, preps=preps, first_origins=first, horizon=horizon,
                      conformal=conformal, info=info)


def _per_series(value: Any, ids: list[str], what: str) -> list:
    """``value`` if it is a list of one ``what`` per series."""
    if not isinstance(value, list) or len(value) != len(ids):
        from lstmtune.model._io import shown

        raise ValueError(f"one {what} per series ({len(ids)}) is needed, got {shown(value)}")
    return value


def _first_origin(k: int, value: Any, prep: FittedPrep) -> int:
    """Series ``k``'s first origin, one its preprocessing can frame."""
    from lstmtune.model._io import first_origin_of

    try:
        return first_origin_of(value, prep)
    except ValueError as exc:
        raise ValueError(f"first_origins[{k}]: {exc}") from None


def _preps_of(value: Any, ids: list[str]) -> list[FittedPrep]:
    """Each series' fitted preprocessing, all with the same inputs."""
    from lstmtune.model._io import shown

    preps = []
    for k, (sid, d) in enumerate(zip(ids, _per_series(value, ids, "preprocessing"),
                                     strict=True)):
        try:
            preps.append(FittedPrep.from_dict(d))
        except DataError as exc:
            raise DataError(f"preps[{k}] (series {shown(sid, 40)}): {exc}") from None
        if preps[-1].n_features != preps[0].n_features:
            raise ValueError(f"series '{sid}' has {preps[-1].n_features} input features, "
                             f"series '{ids[0]}' {preps[0].n_features}")
    return preps


def _conformal_of(value: Any, horizon: int) -> dict[str, list[float]]:
    """The saved conformal quantiles: level (a number in (0, 1)) -> one scaled half-width
    >= 0 per horizon step, the wider level's never below the narrower's.  A level saved as
    null, or with a null half-width (an unbounded quantile: too few residuals for it, as
    earlier versions wrote it), is left out."""
    from lstmtune.model._io import real, shown, table

    out: dict[str, list[float]] = {}
    named: dict[int, str] = {}
    for level, q in table(value).items():
        try:
            x = real(float(level), 0.0, 1.0)
        except ValueError:
            x = math.nan
        if not 0 < x < 1:
            raise ValueError(f"level {shown(level)} is not a number in (0, 1)")
        pct = round(100 * x)
        if pct in named:
            raise ValueError(f"levels {named[pct]!r} and {shown(level)} both name the {pct} % "
                             "interval")
        named[pct] = level
        if q is None or (isinstance(q, list) and None in q):
            continue
        if not isinstance(q, list) or len(q) != horizon:
            raise ValueError(f"level {level} has one half-width per horizon step ({horizon}), "
                             f"got {shown(q)}")
        for w in q:
            try:
                real(w, 0.0)
            except ValueError:
                raise ValueError(f"level {level}: each half-width is a finite number >= 0, "
                                 f"got {shown(w)}") from None
        out[level] = [float(w) for w in q]
    ordered = sorted(out, key=float)
    for narrow, wide in zip(ordered, ordered[1:], strict=False):
        step = next((h for h in range(horizon) if out[wide][h] < out[narrow][h]), None)
        if step is not None:
            raise ValueError(f"level {wide}'s half-width at step {step + 1} "
                             f"({out[wide][step]:g}) is below level {narrow}'s "
                             f"({out[narrow][step]:g}); a wider level's never is")
    return out
