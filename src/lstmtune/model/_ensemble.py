"""A trained configuration as R repeat members, and its forecasts beyond the end of a series.

The members differ only in their initial weights (and dropout draws): their spread shows how
much the result depends on initialisation.  The point forecast is their mean (or median) and
the interval is a quantile range of the members.  That interval reflects initialisation
variance only, not the noise of the series nor the error of the model: it is not a
prediction interval, and it is usually much too narrow to be read as one.

Forecasts more than one step ahead are recursive: each member's own forecast of step h becomes
its input for step h + 1, with the fitted preprocessing applied unchanged (differencing is
undone with the member's earlier steps).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.data import FittedPrep, TimeSeries, position_offset
from lstmtune.engine import ModelSpec, predict
from lstmtune.errors import ConfigError, DataError

__all__ = ["Ensemble", "POINTS", "time_label", "check_future", "check_point", "forecast_table",
           "point_of"]

POINTS = ("mean", "median")


def _future_index(ts: TimeSeries, horizon: int) -> pd.Index:
    """The ``horizon`` time labels after the end of ``ts``."""
    idx = ts.index
    if isinstance(idx, pd.DatetimeIndex):
        if not ts.freq:
            raise DataError(f"'{ts.name}' has dates without a regular frequency, so the future "
                            "dates are unknown: pass --freq (e.g. MS for month starts).")
        try:
            return pd.date_range(idx[-1], periods=horizon + 1, freq=ts.freq)[1:]
        except (OverflowError, pd.errors.OutOfBoundsDatetime):
            raise DataError(f"{horizon} steps of '{ts.freq}' after {idx[-1]} go past the last "
                            f"date pandas can represent ({pd.Timestamp.max.date()}): forecast "
                            "fewer steps.") from None
    step = int(idx[1] - idx[0]) if len(idx) > 1 else 1
    return pd.RangeIndex(int(idx[-1]) + step, int(idx[-1]) + step * (horizon + 1), step)


def _extended(ts: TimeSeries, horizon: int, future: pd.DataFrame | None = None
              ) -> TimeSeries:
    """``ts`` with ``horizon`` unknown (NaN) points appended; feature columns that
    ``future`` holds take its values there."""
    index = ts.index.append(_future_index(ts, horizon))
    values = np.concatenate([ts.values, np.full((horizon, ts.values.shape[1]), np.nan)])
    feats = ts.features
    if feats.size:
        ahead = np.full((horizon, feats.shape[1]), np.nan)
        for j, name in enumerate(ts.feature_names):
            if future is not None and name in future.columns:
                ahead[:, j] = future[name].to_numpy(float)[:horizon]
        feats = np.concatenate([feats, ahead])
    return replace(ts, index=index, values=values, features=feats)


def check_future(future: pd.DataFrame, ts: TimeSeries, names: list[str], horizon: int
                 ) -> pd.DataFrame:
    """The known future of feature columns ``names`` for the ``horizon`` points after
    ``ts``: every column present, at least ``horizon`` rows, numbers, no gaps, and (when it
    has a ``time`` column or a date index) the dates that follow ``ts``."""
    missing = [c for c in names if c not in future.columns]
    if missing:
        raise DataError(f"the future file lacks column '{missing[0]}', a known feature of "
                        f"this model (needs {names}): add a column with its {horizon} future "
                        "values.")
    if len(future) < horizon:
        raise DataError(f"the future file has {len(future)} row(s), fewer than the {horizon} "
                        f"step(s) to forecast: give one row per step after {ts.index[-1]}.")
    future = future.iloc[:horizon]
    for c in names:
        values = pd.to_numeric(future[c], errors="coerce").to_numpy(float)
        if not np.isfinite(values).all():
            k = int(np.flatnonzero(~np.isfinite(values))[0])
            raise DataError(f"the future file's column '{c}' has a missing or non-numeric "
                            f"value at row {k + 1} ({future[c].iloc[k]!r}): give every future "
                            "value.")
    expected = _future_index(ts, horizon)
    times = future["time"] if "time" in future.columns else \
        future.index if isinstance(future.index, pd.DatetimeIndex) else None
    if times is not None and isinstance(expected, pd.DatetimeIndex):
        got = pd.to_datetime(pd.Series(times), errors="coerce").to_numpy()
        if ts.freq == "B":  # trading days: holidays ahead are unknown, so any later weekdays
            days = pd.DatetimeIndex(got)
            if days.isna().any() or (days.day_of_week >= 5).any() or \
                    not days.is_monotonic_increasing or days[0] <= ts.index[-1]:
                raise DataError(f"the future file's times must be the next {horizon} trading "
                                f"days after {time_label(ts.index[-1])}, weekdays in order, "
                                f"got {pd.Series(times).iloc[0]} ..")
        elif not (got == expected.to_numpy()).all():
            raise DataError(f"the future file's times start at {pd.Series(times).iloc[0]}, "
                            f"but the forecast's steps are {time_label(expected[0])} .. "
                            f"{time_label(expected[-1])}: give the rows of those times.")
    return future.reset_index(drop=True)


def time_label(t) -> str:
    """A time label as text: a date alone when it has no time of day."""
    if isinstance(t, pd.Timestamp):
        return t.strftime("%Y-%m-%d") if t == t.normalize() else t.isoformat()
    return str(t)


@dataclass(frozen=True, eq=False)
class Ensemble:
    """R trained members of one configuration, with the preprocessing fitted for them."""

    config: dict[str, Any]  # every hyperparameter (lstmtune.experiment.PARAMS names)
    spec: ModelSpec
    params: dict  # parameter pytree, numpy, leading axis R
    seeds: np.ndarray  # (R,) the seed each member was initialised from
    prep: FittedPrep
    first_origin: int  # origin of the first training window (a stateful pass starts there)
    info: dict[str, Any] = field(default_factory=dict)  # data, fit range, scores, version

    @property
    def repeats(self) -> int:
        return int(len(self.seeds))

    def _check(self, ts: TimeSeries, horizon: int, future: pd.DataFrame | None) -> None:
        if not isinstance(horizon, int | np.integer) or horizon < 1:
            raise ConfigError(f"horizon must be a whole number >= 1, got {horizon!r}.")
        if self.prep.freq and ts.freq and ts.freq != self.prep.freq:
            raise DataError(f"the model was trained on data with frequency {self.prep.freq} but "
                            f"'{ts.name}' has frequency {ts.freq}: pass data of the same "
                            "frequency (or --freq).")
        if tuple(ts.feature_names) != self.prep.exog_names:
            raise DataError(f"the model was trained with feature columns "
                            f"{list(self.prep.exog_names)} but '{ts.name}' has "
                            f"{list(ts.feature_names)}: pass the same --features.")
        if self.spec.horizon > 1:  # direct: one head of H outputs, inputs up to the origin
            if horizon > self.spec.horizon:
                raise ConfigError(f"this model forecasts {self.spec.horizon} steps at once "
                                  f"(multistep=direct), not {horizon}: use --horizon "
                                  f"{self.spec.horizon} or less, or tune with horizon="
                                  f"{horizon}.")
            return
        known = set(self.prep.framing.known)
        past = [c for c in self.prep.exog_names if c not in known]
        if past and horizon > 1:
            raise ConfigError(f"feature '{past[0]}' is observed only up to the forecast origin, "
                              "and this model forecasts one step at a time, so beyond one step "
                              f"it would need that feature's future: use --horizon 1 (got "
                              f"{horizon}), declare the column known (known_features) and "
                              "give its future, or tune with multistep=direct.")
        needs = [c for c in self.prep.exog_names if c in known]
        if needs and horizon > 1 and future is None:
            raise ConfigError(f"this model reads the known future of {needs}: pass their "
                              f"values for the {horizon} steps ahead (--future FILE, a CSV "
                              "with those columns, one row per step).")

    def member_forecasts(self, ts: TimeSeries, horizon: int,
                         future: pd.DataFrame | None = None) -> np.ndarray:
        """Each member's forecast of the ``horizon`` points after ``ts``: (R, H); one pass of
        a direct model's head, or a one-step model's recursion.  ``future``: the values of
        the known feature columns over those points."""
        needs = [c for c in self.prep.exog_names if c in self.prep.framing.known]
        if future is not None and needs and horizon > 1:
            future = check_future(future, ts, needs, horizon)
        self._check(ts, horizon, future)
        ts = self.prep.clean_inputs(ts)
        n, R = len(ts), self.repeats
        y0 = self.prep.clean(ts)
        if self.spec.horizon > 1:
            return self._direct(ts, y0)[:, :horizon]
        ext = _extended(ts, horizon, future)
        offset = self.prep.offset(ts)
        paths = np.tile(np.concatenate([y0, np.full(horizon, np.nan)]), (R, 1))
        last = n - 1 + horizon - 1  # the origin of the last step
        first = self._first(ts)  # stateful: one pass from the start of training, as trained
        for h in range(horizon):
            o = n - 1 + h
            origins = np.arange(min(first, o), o + 1) if first is not None else np.array([o])
            X = np.stack([self.prep.inputs(ext, paths[m], origins) for m in range(R)])
            if first is not None:  # fixed length: one compiled program for every step
                X = np.concatenate([X, np.zeros((R, last - o, *X.shape[2:]), X.dtype)], axis=1)
            z = predict(self.params, X, self.spec, self.config["batch_size"])
            z = z[:, len(origins) - 1: len(origins), :1]  # (R, 1, 1): the step at origin o
            paths[:, o + 1] = [self.prep.to_original(z[m], np.array([o]), paths[m],
                                                     offset)[0, 0] for m in range(R)]
        return paths[:, n:]

    def _first(self, ts: TimeSeries) -> int | None:
        """The origin a stateful model's pass starts from (None: stateless)."""
        if not self.spec.stateful:
            return None
        offset = position_offset(ts.index, self.prep.start, self.prep.freq)
        return max(self.first_origin - offset, self._min_origin())

    def _direct(self, ts: TimeSeries, y0: np.ndarray) -> np.ndarray:
        """A direct model's H-step forecast from the last point of ``ts``: (R, H)."""
        o = len(ts) - 1
        first = self._first(ts)
        origins = np.arange(min(first, o), o + 1) if first is not None else np.array([o])
        X = self.prep.inputs(ts, y0, origins)
        z = predict(self.params, X, self.spec, self.config["batch_size"])[:, -1:, :]
        offset = self.prep.offset(ts)
        return np.stack([self.prep.to_original(z[m], np.array([o]), y0, offset)[0]
                         for m in range(self.repeats)])

    def _min_origin(self) -> int:
        return self.prep.framing.lags - 1 + self.prep.preprocessing.span

    @property
    def point(self) -> str:
        """How the members' forecasts make one by default: the study's ``combine`` (saved
        in ``info``), else their mean."""
        return point_of(self.info)

    def forecast(self, ts: TimeSeries, horizon: int, *, point: str | None = None,
                 level: float = 0.9, future: pd.DataFrame | None = None) -> pd.DataFrame:
        """The next ``horizon`` values after ``ts`` in original units: one row per step with
        time, step, ``forecast`` (members' mean or median; default :attr:`point`),
        ``low``/``high`` (the members' ``(1 - level) / 2`` and ``(1 + level) / 2``
        quantiles: initialisation spread, not a prediction interval), mean, median, std and
        every member's value."""
        point = self.point if point is None else point
        check_point(point, level)
        return forecast_table(self.member_forecasts(ts, horizon, future), ts, horizon,
                              point=point, level=level)

    @property
    def imputes(self) -> bool:
        """Whether the data it forecasts may have gaps (its preprocessing fills them)."""
        return self.prep.preprocessing.impute is not None


def point_of(info: dict[str, Any]) -> str:
    """The point forecast a saved model gives by default: its study's ``combine`` (in its
    ``info``), else the members' mean (a model saved before ``combine``)."""
    combine = info.get("combine")
    return combine if combine in POINTS else "mean"


def check_point(point: str, level: float) -> None:
    if point not in POINTS:
        raise ConfigError(f"point must be mean or median, got {point!r}.")
    if not 0 < level < 1:
        raise ConfigError(f"level must lie strictly between 0 and 1, got {level}.")


def forecast_table(fc: np.ndarray, ts: TimeSeries, horizon: int, *, point: str, level: float
                   ) -> pd.DataFrame:
    """Members' forecasts ``fc`` (R, H) of the points after ``ts`` as the table
    :meth:`Ensemble.forecast` returns (a member that diverged left out)."""
    ok = np.isfinite(fc).all(axis=1)
    if not ok.any():
        raise DataError(f"every member's forecast of '{ts.name}' is NaN/inf: the data is "
                        "far outside what the model was trained on.")
    good = fc[ok]
    q = np.quantile(good, [(1 - level) / 2, (1 + level) / 2], axis=0)
    stats = {"mean": good.mean(axis=0), "median": np.median(good, axis=0)}
    out = pd.DataFrame({"time": [time_label(t) for t in _future_index(ts, horizon)],
                        "step": np.arange(1, horizon + 1),
                        "forecast": stats[point], "low": q[0], "high": q[1], **stats,
                        "std": good.std(axis=0, ddof=1) if len(good) > 1
                        else np.zeros(horizon),
                        **{f"member_{k}": fc[k] for k in range(len(fc))}})
    out.attrs.update(point=point, level=level, members=int(ok.sum()),
                     diverged=int((~ok).sum()))
    return out

