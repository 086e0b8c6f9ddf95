"""Invertible preprocessing transforms, fitted on the training data only.

Every transform works along axis 0 (time) of a float array of shape (T,) or (T, F), column by
column, and keeps the length: ``transform(x)`` has ``len(x)`` rows (differencing pads its first
rows with NaN).  ``fit`` learns state from the training part only and stores it in attributes
ending with ``_``; stateless transforms (Interpolate, Hampel, Log, Difference) only validate and
need no fit.  ``inverse(z, context)`` maps model-space values back to the step's input space;
only :class:`Difference` uses ``context`` (the actual series, NaN where unknown).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from math import comb
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from lstmtune.data._seasonal import seasonal_indices, seasonality_test
from lstmtune.errors import ConfigError, DataError

__all__ = [
    "Interpolate", "Hampel", "Log", "Difference", "Deseasonalise", "STLDeseasonalise",
    "MinMaxScale", "StandardScale", "RobustScale", "Chain",
]  # fmt: skip


def _cols(x: Any, what: str = "data") -> np.ndarray:
    """Return ``x`` as a float (T, F) copy; 1-D input becomes one column."""
    a = np.array(x, dtype=float)
    if a.ndim not in (1, 2):
        raise DataError(f"The {what} must be 1-D or 2-D (time, features), not {a.shape}.")
    return a[:, None] if a.ndim == 1 else a


def _like(out: np.ndarray, x: Any) -> np.ndarray:
    """Give ``out`` (T, F) the dimensionality of the original input ``x``."""
    return out[:, 0] if np.ndim(x) == 1 else out


def _state(obj: Any) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(obj) if f.name.endswith("_")]


class _Transform:
    """Shared plumbing: fitted check and JSON-able ``to_dict`` / ``from_dict``."""

    def fit(self, x: Any) -> Self:
        _cols(x)
        return self

    def _check_fitted(self) -> None:
        if any(getattr(self, f.name) is None for f in _state(self)):
            name = type(self).__name__
            raise ConfigError(
                f"{name} is not fitted yet: call {name}.fit(train) before transform or inverse."
            )

    def transform(self, x: Any) -> np.ndarray:
        raise NotImplementedError

    def inverse(self, z: Any, context: Any = None) -> np.ndarray:
        """Identity unless overridden; ``context`` is used by :class:`Difference` only."""
        return np.array(z, dtype=float)

    def _context(self, c: np.ndarray) -> np.ndarray:
        """Carry a context (NaN = unknown) through this step; used by :class:`Chain`."""
        return self.transform(c)

    def to_dict(self) -> dict[str, Any]:
        params = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
        state = {f.name: getattr(self, f.name) for f in _state(self)}
        state = {k: None if v is None else v.tolist() for k, v in state.items()}
        return {"type": type(self).__name__, "params": params, "state": state}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Self:
        if d.get("type") != cls.__name__:
            raise DataError(
                f"{cls.__name__}.from_dict got a dict of type {d.get('type')!r}. "
                f"Pass the dict saved by {cls.__name__}.to_dict()."
            )
        try:
            obj = cls(**d.get("params", {}))
        except TypeError as e:
            raise DataError(f"{cls.__name__}.from_dict got bad params: {e}.") from None
        try:
            for k, v in d.get("state", {}).items():
                setattr(obj, k, None if v is None else np.asarray(v, dtype=float))
        except (TypeError, ValueError) as e:
            raise DataError(f"{cls.__name__}.from_dict got a bad fitted state: {e}.") from None
        scale = getattr(obj, "scale_", None)
        if scale is not None and not (np.isfinite(scale) & (scale > 0)).all():
            raise DataError(f"{cls.__name__}.from_dict got scale_ {scale.tolist()!r:.60}: a "
                            "fitted scale is finite and > 0; the description was changed.")
        if any(v is not None and np.isinf(v).any() for v in (getattr(obj, f.name)
                                                             for f in _state(obj))):
            raise DataError(f"{cls.__name__}.from_dict got an infinite fitted value; the "
                            "description was changed.")
        return obj


_METHODS = ("linear", "time", "spline")


@dataclass
class Interpolate(_Transform):
    """Fill NaN gaps: interior by ``method``, leading by backfill, trailing by forward fill.

    ``method`` is "linear", "time" (weights by a DatetimeIndex passed as ``index``; linear on
    positions without one) or "spline" of ``order`` 1..5.  Identity inverse.
    """

    method: str = "linear"
    order: int = 3

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise ConfigError(
                f"Interpolate method must be one of {', '.join(_METHODS)}, "
                f"but got {self.method!r}. Use method='linear'."
            )
        if not isinstance(self.order, int) or not 1 <= self.order <= 5:
            raise ConfigError(
                f"Interpolate order must be an int in 1..5, but got {self.order!r}. Use order=3."
            )

    def fit(self, x: Any, index: pd.Index | None = None) -> Self:
        self.transform(x, index=index)
        return self

    def transform(self, x: Any, index: pd.Index | None = None, causal: bool = False) -> np.ndarray:
        """Fill gaps; ``causal=True`` only forward fills (no value from later rows)."""
        a = _cols(x)
        if index is not None and len(index) != len(a):
            raise DataError(
                f"Interpolate index has {len(index)} entries but the data has {len(a)} rows. "
                "Pass the index of exactly these rows."
            )
        out = np.empty_like(a)
        for j in range(a.shape[1]):
            s = pd.Series(a[:, j])
            if causal:
                out[:, j] = s.ffill().to_numpy()
                continue
            if s.isna().all():
                raise DataError(
                    f"Interpolate cannot fill column {j}: every one of its {len(s)} values is "
                    "NaN. Drop the column or check the data source."
                )
            out[:, j] = self._fill(s, j, index).bfill().ffill().to_numpy()
        return _like(out, x)

    def _fill(self, s: pd.Series, j: int, index: pd.Index | None) -> pd.Series:
        if self.method == "time" and isinstance(index, pd.DatetimeIndex):
            s.index = index
            return s.interpolate(method="time", limit_area="inside").reset_index(drop=True)
        if self.method == "spline":
            n_valid = int(s.notna().sum())
            if n_valid <= self.order:
                raise DataError(
                    f"Interpolate spline of order {self.order} needs more than {self.order} "
                    f"values in column {j}, but it has {n_valid}. Use a lower order or "
                    "method='linear'."
                )
            if n_valid < len(s):
                return s.interpolate(method="spline", order=self.order, s=0, limit_area="inside")
            return s
        return s.interpolate(method="linear", limit_area="inside")

    def _context(self, c: np.ndarray) -> np.ndarray:
        # Rows after a column's last known value are the unknown future: they stay NaN.
        a = _cols(c)
        out = a.copy()
        for j in np.flatnonzero(np.isfinite(a).any(axis=0)):
            last = np.flatnonzero(np.isfinite(a[:, j]))[-1]
            out[: last + 1, j] = _cols(self.transform(a[: last + 1, j]))[:, 0]
        return _like(out, c)


def _trailing_median_mad(a: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Median and scaled MAD of ``a[max(0, t-window+1):t+1]`` for every t (NaN-aware)."""
    pad = np.full((window - 1, a.shape[1]), np.nan)
    win = np.lib.stride_tricks.sliding_window_view(np.vstack([pad, a]), window, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(win, axis=-1)
        mad = 1.4826 * np.nanmedian(np.abs(win - med[..., None]), axis=-1)
    return med, mad


@dataclass
class Hampel(_Transform):
    """Causal outlier filter: an outlier becomes the median of its trailing window.

    ``x_t`` is an outlier when ``|x_t - med| > threshold * 1.4826 * MAD`` over the last
    ``window`` rows (``x_t`` included).  Identity inverse.
    """

    window: int = 7
    threshold: float = 3.0

    def __post_init__(self) -> None:
        if not isinstance(self.window, int) or self.window < 1:
            raise ConfigError(
                f"Hampel window must be an int >= 1, but got {self.window!r}. Use window=7."
            )
        if not np.isfinite(self.threshold) or self.threshold <= 0:
            raise ConfigError(
                f"Hampel threshold must be a finite number > 0, but got {self.threshold!r}. "
                "Use threshold=3.0."
            )

    def outlier_mask(self, x: Any) -> np.ndarray:
        """Boolean array, shaped like ``x``, True where a value is an outlier."""
        a = _cols(x)
        med, mad = _trailing_median_mad(a, self.window)
        return _like(np.abs(a - med) > self.threshold * mad, x)

    def transform(self, x: Any) -> np.ndarray:
        a = _cols(x)
        med, mad = _trailing_median_mad(a, self.window)
        return _like(np.where(np.abs(a - med) > self.threshold * mad, med, a), x)


@dataclass
class Log(_Transform):
    """``z = log(x + offset)``; inverse ``exp(z) - offset``."""

    offset: float = 0.0

    def __post_init__(self) -> None:
        if not np.isfinite(self.offset):
            raise ConfigError(f"Log offset must be a finite number, but got {self.offset!r}.")
        self.offset = float(self.offset)

    def _check(self, a: np.ndarray) -> None:
        bad = a + self.offset <= 0  # NaN compares False: gaps are allowed
        if bad.any():
            row, col = np.argwhere(bad)[0]
            fix = 1.0 - float(np.nanmin(a))
            raise DataError(
                f"Log transform needs values + offset > 0 (offset={self.offset}), but the data "
                f"has {int(bad.sum())} values that are not (first at row {row}, column {col}: "
                f"{a[row, col]}). Use offset={fix} or drop the log step."
            )

    def fit(self, x: Any) -> Self:
        self._check(_cols(x))
        return self

    def transform(self, x: Any) -> np.ndarray:
        a = _cols(x)
        self._check(a)
        return _like(np.log(a + self.offset), x)

    def inverse(self, z: Any, context: Any = None) -> np.ndarray:
        return np.exp(np.array(z, dtype=float)) - self.offset


def _diff(a: np.ndarray, lag: int) -> np.ndarray:
    out = np.full_like(a, np.nan)
    out[lag:] = a[lag:] - a[:-lag]
    return out


@dataclass
class Difference(_Transform):
    """Apply ``z_t = x_t - x_{t-lag}`` ``order`` times; the first ``lag*order`` rows are NaN.

    ``inverse(z, context)`` rebuilds ``x_t = z_t - sum_{j>=1} c_j x_{t-j*lag}`` from the actual
    previous observations in ``context`` (same length as ``z``); where those are NaN (future),
    it uses the values it has already reconstructed, so multi-step forecasts chain.
    """

    lag: int = 1
    order: int = 1

    def __post_init__(self) -> None:
        for name in ("lag", "order"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ConfigError(
                    f"Difference {name} must be an int >= 1, but got {v!r}. Use {name}=1 "
                    "(lag=12 for monthly seasonality)."
                )

    def fit(self, x: Any) -> Self:
        known = np.isfinite(_cols(x)).any(axis=1)
        n, span = len(known) - int(np.argmax(known)) if known.any() else 0, self.lag * self.order
        if n <= span:
            raise DataError(
                f"Difference(lag={self.lag}, order={self.order}) drops the first {span} rows, "
                f"but the training data has only {n} (from its first value on). Use a smaller "
                "lag or order, or more data."
            )
        return self

    def transform(self, x: Any) -> np.ndarray:
        a = _cols(x)
        for _ in range(self.order):
            a = _diff(a, self.lag)
        return _like(a, x)

    def inverse(self, z: Any, context: Any = None) -> np.ndarray:
        if context is None:
            raise ConfigError(
                f"Difference(lag={self.lag}, order={self.order}).inverse needs the previous "
                "observations: pass context=<the series before differencing, aligned with z, "
                "NaN where unknown>."
            )
        zz, ctx = _cols(z), _cols(context, "context")
        if ctx.shape != zz.shape:
            raise DataError(
                f"Difference inverse needs a context aligned with z, but z has shape {zz.shape} "
                f"and context {ctx.shape}. Pass the series before differencing, same rows as z."
            )
        k, lag = self.order, self.lag
        # D^k x_t = sum_j c_j x_{t-j*lag} with c_j = (-1)^j C(k, j); base = -sum_{j>=1} c_j x.
        coef = np.array([(-1) ** j * comb(k, j) for j in range(k + 1)], dtype=float)
        base = np.full_like(zz, np.nan)
        base[k * lag :] = 0.0
        for j in range(1, k + 1):
            base[k * lag :] -= coef[j] * ctx[(k - j) * lag : len(ctx) - j * lag]
        out = zz + base
        hist = np.where(np.isfinite(ctx), ctx, out)  # actual values where known
        todo = np.isfinite(zz) & ~np.isfinite(out)
        todo[: k * lag] = False
        for t, f in zip(*np.nonzero(todo), strict=True):  # row-major: increasing t per column
            past = hist[t - lag * np.arange(1, k + 1), f]
            out[t, f] = zz[t, f] - coef[1:] @ past
            if not np.isfinite(ctx[t, f]):
                hist[t, f] = out[t, f]
        return _like(out, z)


class _Scaler(_Transform):
    """Column-wise affine scaler fitted on the training data (NaN-aware)."""

    _what: ClassVar[str] = "spread"

    def _fit_stats(self, a: np.ndarray) -> None:
        raise NotImplementedError

    def fit(self, x: Any) -> Self:
        a = _cols(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self._fit_stats(a)
        scale = np.asarray(self.scale_)  # type: ignore[attr-defined]
        bad = ~(np.isfinite(scale) & (scale > 0))
        if bad.any():
            j = int(np.argmax(bad))
            col = a[np.isfinite(a[:, j]), j]
            why = f"is constant (every value is {col[0]})" if col.size else "has no finite value"
            raise DataError(
                f"{type(self).__name__} cannot scale column {j}: the training data {why}, so its "
                f"{self._what} is zero. Remove the scaler, or check the data."
            )
        return self

    def _checked(self, x: Any) -> np.ndarray:
        self._check_fitted()
        a = _cols(x)
        n_fit = len(self.scale_)  # type: ignore[attr-defined]
        if a.shape[1] != n_fit:
            raise DataError(
                f"{type(self).__name__} was fitted on {n_fit} column(s) but got {a.shape[1]}. "
                "Pass data with the fitted columns, or use select(columns) first."
            )
        return a

    def select(self, columns: int | Sequence[int]) -> Self:
        """Return a copy restricted to ``columns`` (e.g. ``select(-1)`` for the target)."""
        self._check_fitted()
        idx = [columns] if isinstance(columns, int | np.integer) else list(columns)
        n = len(self.scale_)  # type: ignore[attr-defined]
        bad = [c for c in idx if not -n <= c < n]
        if bad:
            raise ConfigError(
                f"{type(self).__name__}.select got column {bad[0]} but the scaler was fitted "
                f"on {n} column(s). Use an index in {-n}..{n - 1}."
            )
        new = dataclasses.replace(self)  # type: ignore[type-var]
        for f in _state(self):
            setattr(new, f.name, getattr(self, f.name)[idx])
        return new


@dataclass(eq=False)
class MinMaxScale(_Scaler):
    """Map the training range onto ``feature_range`` (sklearn MinMaxScaler formula)."""

    feature_range: tuple[float, float] = (-1.0, 1.0)
    data_min_: np.ndarray | None = field(default=None, init=False)
    data_max_: np.ndarray | None = field(default=None, init=False)
    scale_: np.ndarray | None = field(default=None, init=False)
    min_: np.ndarray | None = field(default=None, init=False)
    _what: ClassVar[str] = "range"

    def __post_init__(self) -> None:
        lo, hi = (float(v) for v in self.feature_range)
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ConfigError(
                f"MinMaxScale feature_range must be (lo, hi) with lo < hi, but got "
                f"{tuple(self.feature_range)}. Use feature_range=(-1.0, 1.0)."
            )
        self.feature_range = (lo, hi)

    def _fit_stats(self, a: np.ndarray) -> None:
        lo, hi = self.feature_range
        self.data_min_, self.data_max_ = np.nanmin(a, axis=0), np.nanmax(a, axis=0)
        self.scale_ = (hi - lo) / (self.data_max_ - self.data_min_)
        self.min_ = lo - self.data_min_ * self.scale_

    def transform(self, x: Any) -> np.ndarray:
        return _like(self._checked(x) * self.scale_ + self.min_, x)

    def inverse(self, z: Any, context: Any = None) -> np.ndarray:
        return _like((self._checked(z) - self.min_) / self.scale_, z)


@dataclass(eq=False)
class StandardScale(_Scaler):
    """``z = (x - mean) / std`` with the population std (ddof=0) of the training data."""

    mean_: np.ndarray | None = field(default=None, init=False)
    scale_: np.ndarray | None = field(default=None, init=False)
    _what: ClassVar[str] = "standard deviation"

    def _fit_stats(self, a: np.ndarray) -> None:
        self.mean_, self.scale_ = np.nanmean(a, axis=0), np.nanstd(a, axis=0)

    def transform(self, x: Any) -> np.ndarray:
        return _like((self._checked(x) - self.mean_) / self.scale_, x)

    def inverse(self, z: Any, context: Any = None) -> np.ndarray:
        return _like(self._checked(z) * self.scale_ + self.mean_, z)


@dataclass(eq=False)
class RobustScale(_Scaler):
    """``z = (x - median) / IQR``, the IQR between the ``quantile_range`` percentiles."""

    quantile_range: tuple[float, float] = (25.0, 75.0)
    center_: np.ndarray | None = field(default=None, init=False)
    scale_: np.ndarray | None = field(default=None, init=False)
    _what: ClassVar[str] = "interquantile range"

    def __post_init__(self) -> None:
        lo, hi = (float(v) for v in self.quantile_range)
        if not 0.0 <= lo < hi <= 100.0:
            raise ConfigError(
                f"RobustScale quantile_range must satisfy 0 <= lo < hi <= 100, but got "
                f"{tuple(self.quantile_range)}. Use quantile_range=(25.0, 75.0)."
            )
        self.quantile_range = (lo, hi)

    def _fit_stats(self, a: np.ndarray) -> None:
        q_lo, q_hi = np.nanpercentile(a, self.quantile_range, axis=0)
        self.center_, self.scale_ = np.nanmedian(a, axis=0), q_hi - q_lo

    def transform(self, x: Any) -> np.ndarray:
        return _like((self._checked(x) - self.center_) / self.scale_, x)

    def inverse(self, z: Any, context: Any = None) -> np.ndarray:
        return _like(self._checked(z) * self.scale_ + self.center_, z)


@dataclass
class Deseasonalise(_Transform):
    """Divide by classical multiplicative seasonal indices (the M4 benchmarks' way), fitted
    on the training part: ``indices_`` are ``seasonal_indices(train, season)`` when the 90 %
    ACF test finds the training part seasonal (``test=True``), else all ones (the step
    changes nothing; so too when the training part has a value <= 0 or fewer than two
    seasons).  Positional: the index of row t is ``indices_[positions[t] % season]``
    (``positions`` default to the row numbers; position 0 is the first point the step was
    fitted on), so the inverse of a forecast needs the positions of its rows."""

    season: int = 12
    test: bool = True
    indices_: np.ndarray | None = field(default=None, repr=False)
    positional: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not isinstance(self.season, int | np.integer) or self.season < 1:
            raise ConfigError(f"Deseasonalise season must be a whole number >= 1, got "
                              f"{self.season!r}.")

    def fit(self, x: Any) -> Self:
        a = _cols(x)[:, 0]
        m = int(self.season)
        # multiplicative indices need positive values and two seasons: a training part
        # without them is left as it is (as one the test finds not seasonal)
        seasonal = m > 1 and a.size >= 2 * m and bool((a > 0).all()) and \
            (not self.test or seasonality_test(a, m))
        self.indices_ = seasonal_indices(a, m) if seasonal else np.ones(m)
        return self

    @property
    def seasonal(self) -> bool:
        """Whether the fitted training part was found seasonal (indices other than 1)."""
        self._check_fitted()
        return bool(np.any(self.indices_ != 1.0))

    def _factors(self, shape: tuple[int, ...], positions: Any) -> np.ndarray:
        self._check_fitted()
        pos = np.arange(shape[0])[:, None] if positions is None else \
            np.asarray(positions, int).reshape(shape[0], -1)
        return np.broadcast_to(self.indices_[pos % len(self.indices_)], shape)

    def transform(self, x: Any, positions: Any = None) -> np.ndarray:
        a = _cols(x)
        return _like(a / self._factors(a.shape, positions), x)

    def _context(self, c: np.ndarray, positions: Any = None) -> np.ndarray:
        return self.transform(c, positions)

    def inverse(self, z: Any, context: Any = None, positions: Any = None) -> np.ndarray:
        a = _cols(z)
        return _like(a * self._factors(a.shape, positions), z)


@dataclass
class STLDeseasonalise(_Transform):
    """Subtract the seasonal component of statsmodels' robust STL (Cleveland et al. 1990),
    fitted on the training part (after ``Log``, so multiplicative seasonality with
    ``log``): ``seasonal_`` holds the component of every training point when the 90 % ACF
    test finds the training part seasonal (``test=True``), else zeros (as too with fewer
    than two seasons or a value that is not finite).  Positional, as :class:`Deseasonalise`:
    row t at ``positions[t]`` = p takes ``seasonal_[p]`` inside the training part, and
    after it the last seasonal cycle repeated (Hewamalage et al. 2021's reseasonalising of
    the forecast); before it, the first cycle."""

    season: int = 12
    test: bool = True
    seasonal_: np.ndarray | None = field(default=None, repr=False)
    positional: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not isinstance(self.season, int | np.integer) or self.season < 2:
            raise ConfigError(f"STLDeseasonalise season must be a whole number >= 2, got "
                              f"{self.season!r}.")

    def fit(self, x: Any) -> Self:
        a = _cols(x)[:, 0]
        m = int(self.season)
        seasonal = a.size >= 2 * m + 1 and bool(np.isfinite(a).all()) and \
            (not self.test or seasonality_test(a, m))
        if seasonal:
            from statsmodels.tsa.seasonal import STL

            self.seasonal_ = np.asarray(STL(a, period=m, robust=True).fit().seasonal, float)
        else:
            self.seasonal_ = np.zeros(max(a.size, m))
        return self

    @property
    def seasonal(self) -> bool:
        """Whether the fitted training part was found seasonal (a component other than 0)."""
        self._check_fitted()
        return bool(np.any(self.seasonal_ != 0.0))

    def _component(self, shape: tuple[int, ...], positions: Any) -> np.ndarray:
        self._check_fitted()
        s, m = self.seasonal_, int(self.season)
        n = len(s)
        pos = np.arange(shape[0])[:, None] if positions is None else \
            np.asarray(positions, int).reshape(shape[0], -1)
        at = np.where(pos >= n, n - m + (pos - n) % m, np.where(pos < 0, pos % m, pos))
        return np.broadcast_to(s[at], shape)

    def transform(self, x: Any, positions: Any = None) -> np.ndarray:
        a = _cols(x)
        return _like(a - self._component(a.shape, positions), x)

    def _context(self, c: np.ndarray, positions: Any = None) -> np.ndarray:
        return self.transform(c, positions)

    def inverse(self, z: Any, context: Any = None, positions: Any = None) -> np.ndarray:
        a = _cols(z)
        return _like(a + self._component(a.shape, positions), z)


def _positional(step: Any) -> bool:
    return bool(getattr(step, "positional", False))


class Chain:
    """Compose transforms: fit each on the previous step's transform of the training data.

    ``inverse(z, context)`` takes ``context`` in the chain's input space, carries it through the
    steps (NaN = unknown stays NaN) and inverts in reverse order, each step with its own context.
    """

    def __init__(self, steps: Sequence[Any]) -> None:
        for i, s in enumerate(steps):
            if not all(hasattr(s, m) for m in ("fit", "transform", "inverse", "to_dict")):
                raise ConfigError(
                    f"Chain step {i} ({type(s).__name__}) is not a transform: it needs fit, "
                    "transform, inverse and to_dict. Pass transform instances, e.g. Log()."
                )
        self.steps = list(steps)

    def __repr__(self) -> str:
        return f"Chain({self.steps!r})"

    def fit(self, x: Any, index: pd.Index | None = None) -> Self:
        for step in self.steps:
            if isinstance(step, Interpolate):
                x = step.fit(x, index=index).transform(x, index=index)
            else:
                x = step.fit(x).transform(x)
        return self

    def transform(self, x: Any, index: pd.Index | None = None, causal: bool = False,
                  positions: Any = None) -> np.ndarray:
        """Apply the steps in order; ``index`` and ``causal`` go to Interpolate steps,
        ``positions`` (each row's position in the fitted series; default: row numbers) to
        positional steps (:class:`Deseasonalise`)."""
        for step in self.steps:
            if isinstance(step, Interpolate):
                x = step.transform(x, index=index, causal=causal)
            elif _positional(step):
                x = step.transform(x, positions)
            else:
                x = step.transform(x)
        return np.asarray(x, dtype=float)

    def inverse(self, z: Any, context: Any = None, positions: Any = None) -> np.ndarray:
        contexts: list[Any] = [None] * len(self.steps)
        if context is not None:
            c = np.array(context, dtype=float)
            for i, step in enumerate(self.steps):
                contexts[i] = c
                if i + 1 < len(self.steps):
                    with np.errstate(invalid="ignore"):
                        c = step._context(c, positions) if _positional(step) else \
                            step._context(c) if hasattr(step, "_context") else \
                            step.transform(c)
        out = np.array(z, dtype=float)
        for step, c in zip(reversed(self.steps), reversed(contexts), strict=True):
            out = step.inverse(out, context=c, positions=positions) if _positional(step) \
                else step.inverse(out, context=c)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"type": "Chain", "steps": [s.to_dict() for s in self.steps]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Chain:
        steps = []
        for i, sd in enumerate(d.get("steps", [])):
            kind = sd.get("type") if isinstance(sd, dict) else None
            if kind not in _REGISTRY:
                raise DataError(
                    f"Chain step {i} has unknown transform type {kind!r}; known types are "
                    f"{', '.join(sorted(_REGISTRY))}. Check the saved file."
                )
            steps.append(_REGISTRY[kind].from_dict(sd))
        return cls(steps)


_REGISTRY: dict[str, Any] = {
    c.__name__: c
    for c in (Interpolate, Hampel, Log, Difference, Deseasonalise, STLDeseasonalise,
              MinMaxScale, StandardScale, RobustScale, Chain)
}
