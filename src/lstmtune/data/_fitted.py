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
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.data._features import CALENDAR_PARTS, parse_indicator
from lstmtune.data._load import TimeSeries
from lstmtune.data._prepare import (
    LEVEL,
    Framing,
    Prepared,
    Preprocessing,
    _clean,
    clean_features,
    invert_forecasts,
    model_space,
)
from lstmtune.data._transforms import Chain, Deseasonalise, STLDeseasonalise
from lstmtune.data._windows import make_windows
from lstmtune.errors import ConfigError, DataError

__all__ = ["FittedPrep", "position_offset"]


# -- reading a saved preprocessing, field by field ---------------------------------------------

_FIELDS = ("preprocessing", "framing", "chain", "window_scaler", "feature_scaler",
           "feature_names", "exog_names", "start", "freq")
# each field of Preprocessing and Framing: (rule, check); a missing one takes its default
_WHOLE0 = ("a whole number >= 0", lambda v: _is_whole(v, 0))
_WHOLE1 = ("a whole number >= 1", lambda v: _is_whole(v, 1))
_FINITE = ("a finite number", lambda v: _is_real(v))
_TEXT = ("text", lambda v: isinstance(v, str))
_TEXTS = ("a list of texts", lambda v: isinstance(v, list) and all(isinstance(x, str)
                                                                   for x in v))
_PREP_FIELDS = {
    "impute": ("text or null", lambda v: v is None or isinstance(v, str)),
    "outlier_threshold": ("a finite number > 0 or null",
                          lambda v: v is None or (_is_real(v) and v > 0)),
    "outlier_window": _WHOLE1, "log": ("true or false", lambda v: isinstance(v, bool)),
    "log_offset": _FINITE, "difference": _WHOLE0, "difference_order": _WHOLE1,
    "seasonal_lag": _WHOLE0, "deseasonalise": _WHOLE0, "deseasonalise_method": _TEXT,
    "scaler": ("text or null", lambda v: v is None or isinstance(v, str)),
    "feature_range": ("two finite numbers [low, high]",
                      lambda v: isinstance(v, list) and len(v) == 2
                      and all(_is_real(x) for x in v)),
    "scale_on": _TEXT,
}
_FRAMING_FIELDS = {
    "lags": _WHOLE1, "horizon": _WHOLE1, "calendar": _TEXTS,
    "fourier": ("a list of [period, order] pairs (a number > 1, a whole number >= 1)",
                lambda v: isinstance(v, list) and all(
                    isinstance(t, list) and len(t) == 2 and _is_real(t[0]) and t[0] > 1
                    and _is_whole(t[1], 1) for t in v)),
    "indicators": _TEXTS, "multistep": _TEXT, "known": _TEXTS, "origin_step": _WHOLE1,
    "level": ("true or false", lambda v: isinstance(v, bool)),
}
_FRAMING_REQUIRED = ("lags", "horizon", "calendar", "fourier", "indicators")


def _shown(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _is_whole(v: Any, low: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _is_real(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _table(v: Any, what: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise DataError(f"{what} must be a table (JSON object), got {_shown(v)}.")
    return v


def _keys(d: dict, where: str, known, required=None) -> None:
    """Refuse a table ``where`` that lacks one of ``required`` (default: every ``known``)
    or holds a key not in ``known``."""
    for k in known if required is None else required:
        if k not in d:
            raise DataError(f"{where}.{k} is missing." if where else f"{k} is missing.")
    extra = sorted(set(d) - set(known), key=str)
    if extra:
        raise DataError(f"{where or 'the saved preprocessing'} holds {_shown(extra[0], 40)}, "
                        f"which is not one of its fields ({', '.join(known)}).")


def _fields(d: Any, where: str, rules: dict, required: tuple[str, ...] = ()) -> dict:
    d = _table(d, where)
    _keys(d, where, list(rules), required)
    for k, v in d.items():
        rule, ok = rules[k]
        if not ok(v):
            raise DataError(f"{where}.{k} must be {rule}, got {_shown(v)}.")
    return d


def _texts(v: Any, where: str) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v) or \
            len(set(v)) != len(v):
        raise DataError(f"{where} must be a list of distinct, non-empty names, got "
                        f"{_shown(v)}.")
    return tuple(v)


def _preprocessing(v: Any) -> Preprocessing:
    d = _fields(v, "preprocessing", _PREP_FIELDS)
    if "feature_range" in d:
        d = {**d, "feature_range": tuple(float(x) for x in d["feature_range"])}
    try:
        return Preprocessing(**d)
    except ConfigError as exc:
        raise DataError(f"preprocessing: {exc}") from None


def _framing(v: Any) -> Framing:
    d = _fields(v, "framing", _FRAMING_FIELDS, _FRAMING_REQUIRED)
    for part in d["calendar"]:
        if part not in CALENDAR_PARTS:
            raise DataError(f"framing.calendar holds {_shown(part)}, which is not a calendar "
                            f"part ({', '.join(CALENDAR_PARTS)}).")
    try:
        for spec in d["indicators"]:
            parse_indicator(spec)
        return Framing(lags=d["lags"], horizon=d["horizon"], calendar=tuple(d["calendar"]),
                       fourier=tuple((float(p), int(o)) for p, o in d["fourier"]),
                       indicators=tuple(d["indicators"]),
                       multistep=d.get("multistep", "direct"), known=tuple(d.get("known", ())),
                       origin_step=d.get("origin_step", 1), level=d.get("level", False))
    except ConfigError as exc:
        raise DataError(f"framing: {exc}") from None


def _transform(d: Any, where: str, template: Any, columns: int, what: str):
    """The fitted transform saved as ``d`` at ``where``: of ``template``'s kind and
    parameters (what the preprocessing builds), its fitted state complete, every array one
    finite number per column of ``what`` (``columns``)."""
    d = _table(d, where)
    kind = type(template).__name__
    if d.get("type") != kind:
        raise DataError(f"{where}.type must be {kind!r} (what its preprocessing builds), got "
                        f"{_shown(d.get('type'))}.")
    _keys(d, where, ("type", "params", "state"))
    # fitted state passed at construction (Deseasonalise's indices_) is checked as state
    want = {k: v for k, v in template.to_dict()["params"].items() if not k.endswith("_")}
    params = _table(d["params"], f"{where}.params")
    if {k: v for k, v in params.items() if not k.endswith("_")} != want:
        raise DataError(f"{where}.params must be {_shown(want)} (what its preprocessing "
                        f"builds), got {_shown(params)}.")
    state = _table(d["state"], f"{where}.state")
    fitted = [f.name for f in dataclasses.fields(template) if f.name.endswith("_")]
    for name in fitted:
        if name not in state:
            raise DataError(f"{where}.state.{name} is missing: a saved {kind} holds its "
                            f"fitted {', '.join(fitted)}.")
    extra = sorted(set(state) - set(fitted), key=str)
    if extra:
        raise DataError(f"{where}.state holds {_shown(extra[0], 40)}, which is no fitted "
                        f"state of a {kind} (that is {', '.join(fitted) or 'none'}).")
    for name in fitted:
        x = state[name]
        if not isinstance(x, list) or not all(_is_real(v) for v in x):
            raise DataError(f"{where}.state.{name} must be a list of finite numbers (fitted "
                            f"numbers are), got {_shown(x)}.")
        if name == "indices_" and not all(v > 0 for v in x):
            raise DataError(f"{where}.state.indices_ must be seasonal indices > 0 (they "
                            f"divide the series), got {_shown(x)}.")
        if len(x) != columns:
            raise DataError(f"{where}.state.{name} holds {len(x)} number(s); one per column "
                            f"of {what} ({columns}) is needed.")
    try:
        return type(template).from_dict(d)
    except (DataError, ConfigError, TypeError, ValueError) as exc:
        raise DataError(f"{where}: {exc}") from None


def _chain(v: Any, prep: Preprocessing) -> Chain:
    """The saved target chain: the steps ``prep`` builds, each fitted on the target."""
    d = _table(v, "chain")
    _keys(d, "chain", ("type", "steps"))
    if d["type"] != "Chain":
        raise DataError(f"chain.type must be 'Chain', got {_shown(d['type'])}.")
    steps = d["steps"]
    want = prep.target_chain(with_scaler=prep.scale_on == "series").steps
    if not isinstance(steps, list) or len(steps) != len(want):
        raise DataError(f"chain.steps must be the {len(want)} step(s) its preprocessing "
                        f"builds ({', '.join(type(s).__name__ for s in want) or 'none'}), got "
                        f"{_shown(steps)}.")
    out = []
    for i, (sd, w) in enumerate(zip(steps, want, strict=True)):
        seasonal = isinstance(w, Deseasonalise)
        columns, what = (w.season, "the season") if seasonal else (1, "the target")
        if isinstance(w, STLDeseasonalise):  # one number per training point
            columns, what = _stl_points(sd, w.season), "the training part"
        out.append(_transform(sd, f"chain.steps[{i}]", w, columns, what))
    return Chain(out)


def _stl_points(d: Any, season: int) -> int:
    """The points a saved STL component holds (at least one season; its own checks come
    from ``_transform``)."""
    state = d.get("state") if isinstance(d, dict) else None
    x = state.get("seasonal_") if isinstance(state, dict) else None
    return len(x) if isinstance(x, list) and len(x) >= season else season


def _scaler(v: Any, where: str, prep: Preprocessing, expected: bool, columns: int,
            what: str):
    """A saved feature or window scaler: there when the preprocessing fits one, of its
    kind and fitted on ``columns`` columns."""
    if not expected:
        if v is not None:
            raise DataError(f"{where} must be null: its preprocessing (scaler "
                            f"{prep.scaler!r}, scale_on {prep.scale_on!r}) fits none.")
        return None
    template = prep.make_scaler()
    if v is None:
        raise DataError(f"{where} is missing: its preprocessing fits a "
                        f"{type(template).__name__}.")
    return _transform(v, where, template, columns, what)


def _time_or_position(text: str) -> bool:
    """Whether ``text`` is a time pandas reads or a whole-number position."""
    try:
        int(text)
        return True
    except ValueError:
        pass
    try:
        return pd.Timestamp(text) is not pd.NaT
    except (TypeError, ValueError, OverflowError):
        return False


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
    level_alpha: float | None = None  # framing.level: the level's fitted smoothing weight

    @classmethod
    def from_prepared(cls, p: Prepared) -> FittedPrep:
        idx = p.series.index
        return cls(preprocessing=p.preprocessing, framing=p.framing, chain=p.chain,
                   window_scaler=p.window_scaler, feature_scaler=p.feature_scaler,
                   feature_names=p.feature_names, exog_names=tuple(p.series.feature_names),
                   start=str(idx[0]), freq=p.series.freq, level_alpha=p.level_alpha)

    @property
    def n_features(self) -> int:
        return 1 + len(self.feature_names)

    # -- persistence (JSON-able, never pickle) ------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def plain(dc) -> dict:
            return {k: list(v) if isinstance(v, tuple) else v
                    for k, v in dataclasses.asdict(dc).items()}

        prep, framing = plain(self.preprocessing), plain(self.framing)
        if prep["deseasonalise_method"] == "classical":  # as files before STL was an option
            del prep["deseasonalise_method"]
        level = {"level_alpha": self.level_alpha} if framing["level"] else {}
        if not framing["level"]:  # as files before window_norm = level
            del framing["level"]
        return {**level, "preprocessing": prep, "framing": framing,
                "chain": self.chain.to_dict(),
                "window_scaler": None if self.window_scaler is None
                else self.window_scaler.to_dict(),
                "feature_scaler": None if self.feature_scaler is None
                else self.feature_scaler.to_dict(),
                "feature_names": list(self.feature_names),
                "exog_names": list(self.exog_names), "start": self.start, "freq": self.freq}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FittedPrep:
        """The fitted preprocessing ``to_dict`` wrote, every field checked: its type and
        range, the chain's steps those of ``preprocessing`` (a scaler when it scales the
        series), every fitted number finite and there, one per column it scales, ``start`` a
        time (or position) and ``freq`` a frequency pandas knows.  A missing or malformed
        field is one :class:`DataError` naming its path (``chain.steps[1].state.min_``), the
        rule and the value."""
        d = _table(d, "the saved preprocessing")
        _keys(d, "", (*_FIELDS, "level_alpha"), required=_FIELDS)
        prep = _preprocessing(d["preprocessing"])
        framing = _framing(d["framing"])
        alpha = d.get("level_alpha")
        if framing.level and not (_is_real(alpha) and 0 < alpha <= 1):
            raise DataError(f"level_alpha must be the level's smoothing weight, a number in "
                            f"(0, 1], when framing.level is true; got {_shown(alpha)}.")
        if not framing.level and alpha is not None:
            raise DataError(f"level_alpha is {_shown(alpha)}, but framing.level is false: a "
                            "model without window_norm = level fits no level.")
        names = _texts(d["feature_names"], "feature_names")
        exog = _texts(d["exog_names"], "exog_names")
        chain = _chain(d["chain"], prep)
        window = framing.lags * (1 + len(names)) + framing.train_horizon
        window_scaler = _scaler(d["window_scaler"], "window_scaler", prep,
                                prep.scaler is not None and prep.scale_on == "windows",
                                window, "the training windows' columns")
        scaled = names
        if framing.level:  # the level's column, last, is in the target's scale
            if not names or names[-1] != LEVEL:
                raise DataError(f"feature_names must end with {LEVEL!r} (the level's input "
                                f"column) when framing.level is true, got {_shown(names)}.")
            scaled = names[:-1]
        feature_scaler = _scaler(d["feature_scaler"], "feature_scaler", prep,
                                 prep.scaler is not None and prep.scale_on == "series"
                                 and bool(scaled), len(scaled), "the input features")
        freq = d["freq"]
        if freq is not None:
            if not isinstance(freq, str):
                raise DataError(f"freq must be a frequency (text such as 'MS') or null, got "
                                f"{_shown(freq)}.")
            try:
                pd.tseries.frequencies.to_offset(freq)
            except (TypeError, ValueError):
                raise DataError(f"freq {_shown(freq)} is not a frequency pandas knows (such "
                                "as 'D', 'W-SUN', 'MS').") from None
        start = d["start"]
        if start is not None and (not isinstance(start, str) or not _time_or_position(start)):
            raise DataError(f"start must be the first time label of the fitting data (a time "
                            f"such as '2020-01-01' or a whole-number position), got "
                            f"{_shown(start)}.")
        return cls(preprocessing=prep, framing=framing, chain=chain,
                   window_scaler=window_scaler, feature_scaler=feature_scaler,
                   feature_names=names, exog_names=exog, start=start, freq=freq,
                   level_alpha=alpha)

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
                                      self.feature_scaler, offset, self.level_alpha)
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
