"""Fitted preprocessing, detached from the data it was fitted on: saved as JSON with a model
and applied, unchanged, to new data at prediction time.

``FittedPrep.from_prepared(p)`` keeps what ``prepare`` learned on the training part (the
target chain, the feature scaler or seed 000's window scaler) and how samples are framed.
``inputs`` frames model-space input windows of a series at chosen origins exactly as
``prepare`` did; ``to_original`` maps forecasts made at those origins back to original units.
Nothing is refitted: new data is transformed with the training part's state.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.data._load import TimeSeries
from lstmtune.data._prepare import (
    Framing,
    Prepared,
    Preprocessing,
    _clean,
    clean_features,
    invert_forecasts,
    model_space,
)
from lstmtune.data._transforms import _REGISTRY, Chain
from lstmtune.data._windows import make_windows
from lstmtune.errors import DataError

__all__ = ["FittedPrep", "position_offset"]


def _transform_from_dict(d: dict | None):
    if d is None:
        return None
    kind = d.get("type") if isinstance(d, dict) else None
    if kind not in _REGISTRY:
        raise DataError(f"unknown saved transform type {kind!r}; known: "
                        f"{', '.join(sorted(_REGISTRY))}.")
    return _REGISTRY[kind].from_dict(d)


def position_offset(index: pd.Index, start: str | None, freq: str | None) -> int:
    """How many steps ``index[0]`` lies after ``start`` (the first point of the fitting data);
    Fourier terms count positions from there.  0 when it cannot be known."""
    if start is None:
        return 0
    if isinstance(index, pd.DatetimeIndex):
        if not freq:
            return 0
        t0, t1 = pd.Timestamp(start), index[0]
        steps = len(pd.date_range(min(t0, t1), max(t0, t1), freq=freq)) - 1
        return steps if t1 >= t0 else -steps
    try:
        return int(index[0]) - int(start)
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True, eq=False)
class FittedPrep:
    """What ``prepare`` fitted on a training part, and how it framed samples."""

    preprocessing: Preprocessing
    framing: Framing
    chain: Chain
    window_scaler: Any = None
    feature_scaler: Any = None
    feature_names: tuple[str, ...] = ()
    exog_names: tuple[str, ...] = ()  # the data's own feature columns (future values unknown)
    start: str | None = None  # first time label of the fitting data (Fourier phase)
    freq: str | None = None

    @classmethod
    def from_prepared(cls, p: Prepared) -> FittedPrep:
        idx = p.series.index
        return cls(preprocessing=p.preprocessing, framing=p.framing, chain=p.chain,
                   window_scaler=p.window_scaler, feature_scaler=p.feature_scaler,
                   feature_names=p.feature_names, exog_names=tuple(p.series.feature_names),
                   start=str(idx[0]), freq=p.series.freq)

    @property
    def n_features(self) -> int:
        return 1 + len(self.feature_names)

    # -- persistence (JSON-able, never pickle) ------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def plain(dc) -> dict:
            return {k: list(v) if isinstance(v, tuple) else v
                    for k, v in dataclasses.asdict(dc).items()}

        return {"preprocessing": plain(self.preprocessing), "framing": plain(self.framing),
                "chain": self.chain.to_dict(),
                "window_scaler": None if self.window_scaler is None
                else self.window_scaler.to_dict(),
                "feature_scaler": None if self.feature_scaler is None
                else self.feature_scaler.to_dict(),
                "feature_names": list(self.feature_names),
                "exog_names": list(self.exog_names), "start": self.start, "freq": self.freq}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FittedPrep:
        try:
            prep = d["preprocessing"]
            prep = Preprocessing(**{**prep, "feature_range": tuple(prep["feature_range"])})
            fr = d["framing"]
            framing = Framing(lags=fr["lags"], horizon=fr["horizon"],
                              calendar=tuple(fr["calendar"]),
                              fourier=tuple((float(p), int(o)) for p, o in fr["fourier"]),
                              indicators=tuple(fr["indicators"]),
                              multistep=fr.get("multistep", "direct"),
                              known=tuple(fr.get("known", ())),
                              origin_step=fr.get("origin_step", 1))
            return cls(preprocessing=prep, framing=framing,
                       chain=Chain.from_dict(d["chain"]),
                       window_scaler=_transform_from_dict(d["window_scaler"]),
                       feature_scaler=_transform_from_dict(d["feature_scaler"]),
                       feature_names=tuple(d["feature_names"]),
                       exog_names=tuple(d["exog_names"]), start=d["start"], freq=d["freq"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"the saved preprocessing is incomplete or malformed ({exc!r}).") \
                from None

    # -- applying it to new data ---------------------------------------------------------------
    def clean(self, ts: TimeSeries) -> np.ndarray:
        """The cleaned target of ``ts`` (every point is history here: two-sided imputation)."""
        return _clean(ts.y.astype(float), ts, self.preprocessing, len(ts))

    def clean_inputs(self, ts: TimeSeries) -> TimeSeries:
        """``ts`` with the gaps of its feature columns filled as in training (every point is
        history here), or refused without imputation."""
        return clean_features(ts, self.preprocessing, len(ts))

    def offset(self, ts: TimeSeries) -> int:
        """Where ``ts`` starts relative to the fitting data (``position_offset``); refused
        when it cannot be known and the preprocessing reads positions (seasonal indices)."""
        offset = position_offset(ts.index, self.start, self.freq)
        if offset == 0 and any(getattr(s, "positional", False) for s in self.chain.steps):
            first = str(ts.index[0])
            if self.start is None or (first != self.start and (
                    isinstance(ts.index, pd.DatetimeIndex) and not self.freq)):
                raise DataError(f"'{ts.name}' starts at {first}, and the model's seasonal "
                                "indices need to know where that falls in the season (the "
                                f"model was fitted from {self.start}, frequency "
                                f"{self.freq}): pass data with a regular time index.")
        return offset

    def inputs(self, ts: TimeSeries, y_clean: np.ndarray, origins: np.ndarray) -> np.ndarray:
        """Model-space input windows (S, T, F) at ``origins`` of ``ts`` whose cleaned target is
        ``y_clean`` (it may run past ``ts``'s known values: recursive forecasts)."""
        offset = self.offset(ts)
        z, feats, names = model_space(ts, y_clean, self.framing, self.chain,
                                      self.feature_scaler, offset)
        if tuple(names) != self.feature_names:
            raise DataError(f"the data gives input features {names}, the model was trained on "
                            f"{list(self.feature_names)}: pass data with the same columns.")
        lags = self.framing.lags
        w = make_windows(z, lags=lags, horizon=1, exog=feats, origins=origins, target_end=0)
        if len(w) != len(origins):
            raise DataError(
                f"'{ts.name}' has too little usable history for this model: it needs "
                f"{lags} lag(s) after the {self.preprocessing.span} point(s) consumed by "
                "differencing (and any indicator warm-up), with no gaps. Pass a longer series.")
        X = w.X
        if self.window_scaler is not None:
            S, T, F = X.shape
            xs = self.window_scaler.select(list(range(T * F)))
            X = xs.transform(X.reshape(S, T * F)).reshape(S, T, F)
        return X

    def to_original(self, pred: np.ndarray, origins: np.ndarray, y_clean: np.ndarray,
                    offset: int = 0) -> np.ndarray:
        """Forecasts (..., S, H) made at ``origins`` in original units, differencing undone
        with ``y_clean`` up to each origin; ``offset``: the position of ``y_clean``'s first
        point in the fitting data (``position_offset``; seasonal indices read it)."""
        return invert_forecasts(pred, origins, y_clean=y_clean, chain=self.chain,
                                span=self.preprocessing.span,
                                window_scaler=self.window_scaler, offset=offset)
