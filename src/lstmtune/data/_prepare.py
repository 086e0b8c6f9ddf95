"""From a validated series to model-ready arrays, with nothing fitted outside the training part.

``prepare`` is the one place where the data layer's pieces meet: split chronologically, clean
(impute, filter outliers), fit the transform chain on the training part only, add features,
frame windows, and assign each window to train / validation / test by the indices of its
targets.  The result carries what is needed to map model outputs back to original units
(:meth:`Prepared.to_original`), using the actual previous observations as seed 000 does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from lstmtune.data._features import calendar_features, fourier_features, indicator_features
from lstmtune.data._load import TimeSeries
from lstmtune.data._splits import Split, chronological_split
from lstmtune.data._transforms import (
    Chain,
    Deseasonalise,
    Difference,
    Hampel,
    Interpolate,
    Log,
    MinMaxScale,
    RobustScale,
    StandardScale,
    STLDeseasonalise,
)
from lstmtune.data._windows import Windows, future_rows, make_windows
from lstmtune.errors import ConfigError, DataError, SplitError

__all__ = ["Preprocessing", "Framing", "Prepared", "prepare", "invert_forecasts", "SCALERS",
           "MULTISTEP", "past_only"]

SCALERS = {"minmax": MinMaxScale, "standard": StandardScale, "robust": RobustScale}
MULTISTEP = ("direct", "recursive")
LEVEL = "es_level"  # the name of the level's input column (always the last one)
IMPUTE_METHODS = ("linear", "time", "spline")
DESEASONALISERS = ("classical", "stl")


@dataclass(frozen=True, kw_only=True)
class Preprocessing:
    """Cleaning and invertible transforms of the target, applied in this order."""

    impute: str | None = None  # gap filling: linear | time | spline; None = gaps are an error
    outlier_threshold: float | None = None  # Hampel filter threshold in MADs; None = off
    outlier_window: int = 7  # trailing window of the Hampel filter
    log: bool = False  # log(x + log_offset)
    log_offset: float = 0.0
    difference: int = 0  # lag of differencing (1 = month to month); 0 = off
    difference_order: int = 1  # how many times to difference at that lag
    seasonal_lag: int = 0  # seasonal differencing lag (e.g. 12); 0 = off
    deseasonalise: int = 0  # season of the deseasonalising step; 0 = off
    # classical: multiplicative indices of the raw series (the M4 benchmarks'), first;
    # stl: robust STL's seasonal component subtracted after the log (Hewamalage et al.)
    deseasonalise_method: str = "classical"
    scaler: str | None = "minmax"  # minmax | standard | robust | None
    feature_range: tuple[float, float] = (-1.0, 1.0)  # for minmax
    scale_on: str = "series"  # "series", or "windows": seed 000's column-wise scaler on frames

    def __post_init__(self) -> None:
        if self.impute is not None and self.impute not in IMPUTE_METHODS:
            raise ConfigError(f"impute must be one of {', '.join(IMPUTE_METHODS)} or None, got "
                              f"{self.impute!r}.")
        if self.scaler is not None and self.scaler not in SCALERS:
            raise ConfigError(f"scaler must be one of {', '.join(SCALERS)} or None, got "
                              f"{self.scaler!r}.")
        if self.scale_on not in ("series", "windows"):
            raise ConfigError(f"scale_on must be 'series' or 'windows', got {self.scale_on!r}.")
        for name in ("difference", "seasonal_lag", "deseasonalise"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0 (0 = off), got {getattr(self, name)}.")
        if self.deseasonalise_method not in DESEASONALISERS:
            raise ConfigError(f"deseasonalise_method must be one of "
                              f"{', '.join(DESEASONALISERS)}, got "
                              f"{self.deseasonalise_method!r}.")
        if self.difference_order < 1:
            raise ConfigError(f"difference_order must be >= 1, got {self.difference_order}.")

    @property
    def span(self) -> int:
        """Leading points consumed by differencing."""
        return self.difference * self.difference_order + self.seasonal_lag

    def target_chain(self, *, with_scaler: bool) -> Chain:
        steps: list = []
        stl = self.deseasonalise > 1 and self.deseasonalise_method == "stl"
        if self.deseasonalise and not stl:  # first: the M4 benchmarks divide the raw series
            steps.append(Deseasonalise(season=self.deseasonalise))
        if self.log:
            steps.append(Log(offset=self.log_offset))
        if stl:  # after the log: an additive component of the log is a multiplicative one
            steps.append(STLDeseasonalise(season=self.deseasonalise))
        if self.difference:
            steps.append(Difference(lag=self.difference, order=self.difference_order))
        if self.seasonal_lag:
            steps.append(Difference(lag=self.seasonal_lag))
        if with_scaler and self.scaler is not None:
            steps.append(self.make_scaler())
        return Chain(steps)

    def make_scaler(self):
        cls = SCALERS[self.scaler or "minmax"]
        return cls(feature_range=tuple(self.feature_range)) if cls is MinMaxScale else cls()


@dataclass(frozen=True, kw_only=True)
class Framing:
    """How samples are framed: T lags of [target, features] in, H values out.

    ``multistep="direct"`` trains a head of H outputs; ``"recursive"`` trains one step ahead and
    forecasts H steps by feeding each forecast back as the next input, so its inputs after
    the origin must be known in advance (the target itself, calendar and Fourier terms, the
    data's columns listed in ``known``); indicators and other columns are observed only up to
    the origin and need the direct strategy."""

    lags: int = 1  # timesteps T per sample
    horizon: int = 1  # H values forecast from each origin (and scored)
    calendar: tuple[str, ...] = ()  # e.g. ("month",)
    fourier: tuple[tuple[float, int], ...] = ()  # (period, order) pairs, e.g. ((12, 2),)
    indicators: tuple[str, ...] = ()  # e.g. ("sma:5", "rsi:14", "macd")
    multistep: str = "direct"  # direct | recursive
    known: tuple[str, ...] = ()  # feature columns whose future values are known (holidays)
    origin_step: int = 1  # steps between walk-forward origins of validation and test
    # the target's exponential-smoothing level as the last input column (window_norm =
    # "level" reads it): alpha fitted on the training part, the level run causally
    level: bool = False

    def __post_init__(self) -> None:
        if self.lags < 1 or self.horizon < 1 or self.origin_step < 1:
            raise ConfigError(f"lags, horizon and origin_step must be >= 1, got lags="
                              f"{self.lags}, horizon={self.horizon}, origin_step="
                              f"{self.origin_step}.")
        if self.multistep not in MULTISTEP:
            raise ConfigError(f"multistep must be direct or recursive, got {self.multistep!r}.")

    @property
    def train_horizon(self) -> int:
        """Outputs of the model: H for the direct strategy, 1 for the recursive one."""
        return self.horizon if self.multistep == "direct" else 1

    @property
    def rolls(self) -> bool:
        """Whether forecasts feed back as inputs (recursive, more than one step)."""
        return self.multistep == "recursive" and self.horizon > 1


@dataclass(frozen=True, eq=False)
class Prepared:
    """Model-ready windows per split plus the fitted state needed to invert forecasts."""

    series: TimeSeries
    split: Split
    preprocessing: Preprocessing
    framing: Framing
    y: np.ndarray  # the original target (NaN where missing): what forecasts are scored against
    y_clean: np.ndarray  # after imputation and outlier filtering: the "previous observations"
    chain: Chain  # target transforms fitted on the training part
    train: Windows
    val: Windows
    test: Windows
    feature_names: tuple[str, ...] = ()
    window_scaler: object | None = field(default=None)  # scale_on="windows" only
    feature_scaler: object | None = field(default=None)  # extra features, scale_on="series"
    level_alpha: float | None = None  # framing.level: the smoothing weight fitted on train

    @property
    def n_inputs(self) -> int:
        """Input columns F of the model's windows."""
        return int(self.train.X.shape[-1])

    def actual(self, w: Windows) -> np.ndarray:
        """Original-unit actual values at each window's target positions, (S, H); NaN where the
        target is outside the scored window or missing."""
        idx = w.origin[:, None] + np.arange(1, w.y.shape[1] + 1)[None, :]
        vals = self.y[np.minimum(idx, len(self.y) - 1)]
        return np.where(np.isfinite(w.y), vals, np.nan)

    def to_original(self, pred: np.ndarray, w: Windows) -> np.ndarray:
        """Map model-space forecasts (..., S, H) for windows ``w`` to original units.

        Differencing is inverted with the actual observations up to each origin; later steps of
        a multi-step forecast build on the reconstructed earlier steps.
        """
        return invert_forecasts(pred, w.origin, y_clean=self.y_clean, chain=self.chain,
                                span=self.preprocessing.span,
                                window_scaler=self.window_scaler)


def invert_forecasts(pred: np.ndarray, origins: np.ndarray, *, y_clean: np.ndarray,
                     chain: Chain, span: int, window_scaler=None, offset: int = 0
                     ) -> np.ndarray:
    """Model-space forecasts (..., S, H) made at ``origins`` (S,) back to original units: the
    inverse of the fitted ``chain`` (and of seed 000's ``window_scaler``), differencing undone
    with the observations ``y_clean`` up to each origin; positional steps (deseasonalising)
    read each row's position, ``offset`` + its index in ``y_clean``."""
    pred = np.asarray(pred, dtype=float)
    lead, (S, H) = pred.shape[:-2], pred.shape[-2:]
    flat = pred.reshape(-1, S, H)
    if window_scaler is not None:
        ys = window_scaler.select(list(range(-H, 0)))
        flat = np.stack([ys.inverse(p) for p in flat])
    d = max(span, 1)
    rows = np.asarray(origins)[:, None] + np.arange(-d + 1, 1)[None, :]  # (S, d)
    ctx_hist = np.where(rows >= 0, y_clean[np.maximum(rows, 0)], np.nan)
    z = np.concatenate([np.full((flat.shape[0], S, d), np.nan), flat], axis=2)
    ctx = np.concatenate([np.broadcast_to(ctx_hist, (flat.shape[0], S, d)),
                          np.full((flat.shape[0], S, H), np.nan)], axis=2)
    # columns = (member, sample); rows = local time
    zt = z.reshape(-1, d + H).T
    ct = ctx.reshape(-1, d + H).T
    pos = np.broadcast_to(rows[:, :1] + np.arange(d + H)[None, :] + offset,
                          (flat.shape[0], S, d + H)).reshape(-1, d + H).T
    out = _broadcast(chain, zt.shape[1]).inverse(zt, context=ct, positions=pos)
    return out.T.reshape(*lead, S, d + H)[..., d:]


def _broadcast(chain: Chain, m: int) -> Chain:
    """The fitted single-target chain applied to m columns at once (scalers repeat column 0)."""
    return Chain([s.select([0] * m) if hasattr(s, "select") else s for s in chain.steps])


def _impute(values: np.ndarray, ts: TimeSeries, method: str, train_end: int) -> np.ndarray:
    """Gaps filled two-sided inside the training part, carried forward after it (never from
    a later value)."""
    interp = Interpolate(method=method)
    index = ts.index[:train_end] if method == "time" else None
    head = interp.transform(values[:train_end], index=index)
    return interp.transform(np.concatenate([head, values[train_end:]]), causal=True)


def _clean(y: np.ndarray, ts: TimeSeries, prep: Preprocessing, train_end: int) -> np.ndarray:
    """Impute (two-sided inside the training part, causal after it) and filter outliers."""
    out = y.copy()
    if np.isnan(out).any():
        if prep.impute is None:
            i = int(np.flatnonzero(np.isnan(out))[0])
            raise DataError(f"target '{ts.targets[0]}' has {int(np.isnan(out).sum())} missing "
                            f"value(s) (first at {ts.index[i]}): set an imputation "
                            "(--impute linear, time or spline) or fill the gaps.")
        out = _impute(out, ts, prep.impute, train_end)
    if prep.outlier_threshold is not None:
        out = Hampel(window=prep.outlier_window, threshold=prep.outlier_threshold).transform(out)
    return out


def clean_features(ts: TimeSeries, prep: Preprocessing, train_end: int) -> TimeSeries:
    """The data's feature columns with their gaps filled as the target's are (two-sided
    inside the training part, carried forward after it), or refused without imputation: a
    missing input would otherwise drop its windows, and their origins, silently."""
    f = ts.features
    if not f.size or not np.isnan(f).any():
        return ts
    if prep.impute is None:
        j = int(np.flatnonzero(np.isnan(f).any(axis=0))[0])
        i = int(np.flatnonzero(np.isnan(f[:, j]))[0])
        raise DataError(f"feature '{ts.feature_names[j]}' has {int(np.isnan(f[:, j]).sum())} "
                        f"missing value(s) (first at {ts.index[i]}): set impute (linear, time "
                        "or spline) or fill the gaps.")
    out = np.column_stack([_impute(col, ts, prep.impute, train_end) for col in f.T.astype(float)])
    return replace(ts, features=out)


def _features(ts: TimeSeries, y_clean: np.ndarray, framing: Framing, offset: int = 0
              ) -> tuple[np.ndarray, list[str]]:
    """Extra input columns; Fourier terms count positions from ``offset`` (the position of the
    series' first point relative to the data the preprocessing was fitted on)."""
    blocks, names = [], []
    if ts.features.size:
        blocks.append(ts.features)
        names += list(ts.feature_names)
    cal, cal_names = calendar_features(ts.index, framing.calendar)
    blocks.append(cal)
    names += cal_names
    for period, order in framing.fourier:
        f, f_names = fourier_features(len(ts), period, order, start=offset)
        blocks.append(f)
        names += f_names
    ind, ind_names = indicator_features(y_clean, framing.indicators)
    blocks.append(ind)
    names += ind_names
    return np.concatenate(blocks, axis=1) if blocks else np.zeros((len(ts), 0)), names


def past_only(ts: TimeSeries, framing: Framing) -> list[str]:
    """Input columns observed only up to a forecast origin: the data's columns not declared
    known, and the indicators (functions of the target)."""
    unknown = [c for c in framing.known if c not in ts.feature_names]
    if unknown:
        raise ConfigError(f"known_features names {unknown}, which the data does not have (its "
                          f"feature columns: {list(ts.feature_names) or 'none'}): list columns "
                          "given with --features.")
    own = [c for c in ts.feature_names if c not in framing.known]
    level = ["the exponential-smoothing level (window_norm = level)"] if framing.level else []
    return own + [f"indicator {name}" for name in framing.indicators] + level


def _check_recursive(ts: TimeSeries, prep: Preprocessing, framing: Framing) -> None:
    """A recursive multi-step model feeds its forecasts back as inputs: every input after the
    origin must be known in advance."""
    past = past_only(ts, framing)
    if framing.rolls and past:
        raise ConfigError(
            f"multistep=recursive with horizon={framing.horizon} needs every input's future, "
            f"but {past[0]} is observed only up to the forecast origin: use multistep=direct, "
            "drop "
            "it, or (a column whose future you know, e.g. a holiday flag) list it in "
            "known_features.")
    if framing.rolls and prep.scale_on == "windows" and prep.scaler is not None:
        raise ConfigError("multistep=recursive with horizon > 1 needs scale_on=series (seed "
                          "000's per-column window scaler cannot feed forecasts back): set "
                          "scale_on=series or multistep=direct.")


def fit_level(z: np.ndarray) -> float:
    """The smoothing weight alpha of simple exponential smoothing (statsmodels'
    Holt-Winters without trend or season, its first finite value as the initial level)
    fitted on ``z``, the training part in model space; 1 (the last value) when it is too
    short or flat to fit."""
    finite = z[np.isfinite(z)]
    if finite.size < 3 or np.ptp(finite) == 0:
        return 1.0
    import warnings

    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(finite, trend=None, seasonal=None,
                                   initialization_method="known",
                                   initial_level=float(finite[0])).fit()
    alpha = float(fit.params["smoothing_level"])
    return min(max(alpha, 1e-4), 1.0) if np.isfinite(alpha) else 1.0


def es_level(z: np.ndarray, alpha: float) -> np.ndarray:
    """The level after each point of ``z``: ``l_t = alpha z_t + (1 - alpha) l_{t-1}`` from
    its first finite value (causal: ``l_t`` reads nothing after t); NaN before that value,
    carried over a missing one."""
    z = np.asarray(z, float)
    out = np.full(len(z), np.nan)
    finite = np.flatnonzero(np.isfinite(z))
    if not finite.size:
        return out
    i0 = int(finite[0])
    rest = z[i0 + 1:]
    if np.isfinite(rest).all():  # the usual case: one linear filter over the rest
        from scipy.signal import lfilter

        out[i0] = z[i0]
        out[i0 + 1:] = lfilter([alpha], [1.0, alpha - 1.0], rest, zi=[(1 - alpha) * z[i0]])[0]
        return out
    level = np.nan
    for t in range(i0, len(z)):
        if np.isfinite(z[t]):
            level = z[t] if not np.isfinite(level) else alpha * z[t] + (1 - alpha) * level
        out[t] = level
    return out


def model_space(ts: TimeSeries, y_clean: np.ndarray, framing: Framing, chain: Chain,
                feature_scaler=None, offset: int = 0, level_alpha: float | None = None
                ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The series in model space with fitted transforms: the target through ``chain`` and
    the input features (the data's columns, calendar, Fourier terms counted from ``offset``,
    indicators) through ``feature_scaler``, then (``framing.level``) the target's
    exponential-smoothing level with weight ``level_alpha``, in the target's model space;
    the one path from data to what ``make_windows`` frames, used by ``prepare`` and by a
    saved model's ``FittedPrep.inputs``."""
    try:
        z = chain.transform(y_clean, positions=np.arange(len(y_clean)) + offset)
    except DataError as exc:
        raise DataError(f"target '{ts.targets[0]}': {exc}") from None
    feats, names = _features(ts, y_clean, framing, offset)
    if feats.shape[1] and feature_scaler is not None:
        feats = feature_scaler.transform(feats)
    if framing.level:
        feats = np.column_stack([feats, es_level(z, 1.0 if level_alpha is None
                                                 else level_alpha)])
        names = [*names, LEVEL]
    return z, feats, names


def _need(prep: Preprocessing, framing: Framing, val: int, test: int) -> int:
    """Points for one training window (its lags and the targets it trains on: H direct, 1
    recursive) before the scored windows."""
    return prep.span + framing.lags + framing.train_horizon + val + test


def prepare(ts: TimeSeries, *, test_size: int | float, val_size: int | float = 0,
            preprocessing: Preprocessing | None = None, framing: Framing | None = None,
            min_train_samples: int = 1) -> Prepared:
    """Split, clean, transform (fitted on the training part only), add features and frame.

    ``test_size=0`` leaves no test window (a final model fitted on all the data)."""
    prep = preprocessing or Preprocessing()
    framing = framing or Framing()
    n = len(ts)
    split = chronological_split(n, test_size=test_size, val_size=val_size, min_test=0)
    val_n, test_n = split.val.stop - split.val.start, split.test.stop - split.test.start
    need = _need(prep, framing, val_n, test_n) + min_train_samples - 1
    if n < need:
        raise SplitError(
            f"series '{ts.name}' has {n} points, too short for differencing span {prep.span} + "
            f"lags {framing.lags} + trained horizon {framing.train_horizon} + validation "
            f"{val_n} + test "
            f"{test_n} with {min_train_samples} training sample(s): need at least {need} points. "
            "Use fewer lags, smaller windows, or more data.")
    for part, size in (("validation", val_n), ("test", test_n)):
        if 0 < size < framing.horizon:
            raise SplitError(
                f"horizon {framing.horizon} is longer than the {part} window of {size} "
                f"point(s), so its last steps would never be scored: use a {part} window of "
                f"at least {framing.horizon} points or a shorter horizon.")
    train_end = split.train.stop
    y = ts.y.astype(float)
    y_clean = _clean(y, ts, prep, train_end)
    ts = clean_features(ts, prep, train_end)
    chain = prep.target_chain(with_scaler=prep.scale_on == "series")
    try:
        chain.fit(y_clean[:train_end])
    except DataError as exc:
        raise DataError(f"target '{ts.targets[0]}': {exc}") from None
    feats, names = _features(ts, y_clean, framing)
    feature_scaler = None
    if feats.shape[1] and prep.scaler is not None and prep.scale_on == "series":
        try:
            feature_scaler = prep.make_scaler().fit(feats[:train_end])
        except DataError as exc:
            raise DataError(f"features: {exc} (columns: {', '.join(names)})") from None
    level_alpha = None
    if framing.level:
        if prep.scaler is not None and prep.scale_on == "windows":
            raise ConfigError("window_norm = level reads the level in the target's own "
                              "scale, which seed 000's per-column window scaler would change: "
                              "use scale_on = series, or window_norm = last.")
        train_z = chain.transform(y_clean[:train_end])
        level_alpha = fit_level(train_z)
    z, feats, names = model_space(ts, y_clean, framing, chain, feature_scaler,
                                  level_alpha=level_alpha)
    lags, H = framing.lags, framing.horizon
    _check_recursive(ts, prep, framing)
    every = make_windows(z, lags=lags, horizon=framing.train_horizon, exog=feats)
    train = every.take(every.origin + framing.train_horizon < train_end)
    val = make_windows(z, lags=lags, horizon=H, exog=feats, target_end=split.val.stop,
                       origins=np.arange(split.val.start - 1, split.val.stop - 1,
                                         framing.origin_step))
    test = make_windows(z, lags=lags, horizon=H, exog=feats, target_end=n,
                        origins=np.arange(split.test.start - 1, n - 1, framing.origin_step))
    if len(train) < min_train_samples:
        raise SplitError(f"series '{ts.name}' leaves {len(train)} training sample(s) after "
                         f"framing, fewer than the {min_train_samples} required: use fewer "
                         "lags or smaller validation/test windows.")
    window_scaler = None
    if prep.scaler is not None and prep.scale_on == "windows":
        train, val, test, window_scaler = _scale_windows(prep, train, val, test)
    if framing.rolls:
        val, test = (replace(w, future=future_rows(feats, w.origin, H - 1)) for w in (val, test))
    return Prepared(series=ts, split=split, preprocessing=prep, framing=framing, y=y,
                    y_clean=y_clean, chain=chain, train=train, val=val, test=test,
                    feature_names=tuple(names), window_scaler=window_scaler,
                    feature_scaler=feature_scaler, level_alpha=level_alpha)


def _scale_windows(prep: Preprocessing, train: Windows, *others: Windows):
    """Seed 000's scaling: one scaler per column of the supervised frame [inputs..., targets],
    fitted on the training rows."""
    S, T, F = train.X.shape

    def flat(w: Windows) -> np.ndarray:
        return np.concatenate([w.X.reshape(len(w), T * F), w.y], axis=1)

    scaler = prep.make_scaler().fit(flat(train))

    def apply(w: Windows) -> Windows:
        out = scaler.transform(flat(w))
        return Windows(X=out[:, : T * F].reshape(len(w), T, F), y=out[:, T * F:],
                       origin=w.origin)

    return (apply(train), *(apply(w) for w in others), scaler)
