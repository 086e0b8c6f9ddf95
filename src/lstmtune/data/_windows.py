"""Supervised framing: a series becomes samples of shape (T, F) with H targets each.

Axes: S samples, T timesteps (lags), F features, H horizon steps.  A sample's *origin* is the
index of its last input time step; its targets are the H values after the origin (direct
multi-step).  Everything stays aligned with the original time index, so a sample's split is
decided by the indices of its targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmtune.errors import ConfigError, SplitError

__all__ = ["Windows", "make_windows", "future_rows", "frame_supervised", "trim_to_multiple"]


@dataclass(frozen=True, eq=False)
class Windows:
    """X: (S, T, F) inputs; y: (S, H) targets (NaN where a target lies outside the scored
    window); origin: (S,) index of each sample's last input time step; future: (S, H - 1,
    F - 1) the feature columns of the steps after each origin, for a one-step model that
    forecasts H steps recursively (features whose future is known: calendar, Fourier, columns
    declared known), or None."""

    X: np.ndarray
    y: np.ndarray
    origin: np.ndarray
    future: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.origin.shape[0])

    def take(self, rows: np.ndarray | slice) -> Windows:
        return Windows(self.X[rows], self.y[rows], self.origin[rows],
                       None if self.future is None else self.future[rows])


def _inputs(z: np.ndarray, exog: np.ndarray | None) -> np.ndarray:
    z2 = z.reshape(len(z), -1)
    if exog is None or exog.size == 0:
        return z2
    if len(exog) != len(z2):
        raise ConfigError(f"exogenous features have {len(exog)} rows but the series has "
                          f"{len(z2)}; align them on the same time index.")
    return np.concatenate([z2, exog.reshape(len(exog), -1)], axis=1)


def make_windows(z: np.ndarray, *, lags: int, horizon: int = 1, exog: np.ndarray | None = None,
                 origins: np.ndarray | None = None, target_end: int | None = None) -> Windows:
    """Frame the series ``z`` (n,) or (n, k) into windows.

    Inputs at origin t are rows t-lags+1..t of [z, exog]; targets are z[t+1..t+horizon, 0].
    Without ``origins``, every origin whose inputs and targets are all finite is used.  With
    ``origins`` (e.g. the walk-forward origins of a test window), targets at or beyond
    ``target_end`` (default n) are NaN, so they are not scored and never read.
    """
    if lags < 1 or horizon < 1:
        raise ConfigError(f"windows need lags >= 1 and horizon >= 1, got lags={lags}, "
                          f"horizon={horizon}.")
    data = _inputs(np.asarray(z, dtype=float), exog)
    n = data.shape[0]
    y_all = data[:, 0]
    end = n if target_end is None else min(target_end, n)
    if origins is None:
        origins = np.arange(lags - 1, n - horizon)
        if origins.size == 0:
            raise SplitError(f"a series of {n} points is too short for lags={lags} and "
                             f"horizon={horizon}: need at least {lags + horizon} points.")
    origins = np.asarray(origins, dtype=int)
    if origins.size and (origins.min() < lags - 1 or origins.max() >= n):
        raise SplitError(f"origins must lie in [{lags - 1}, {n - 1}] for lags={lags} on "
                         f"{n} points, got {origins.min()}..{origins.max()}.")
    rows = origins[:, None] + np.arange(-lags + 1, 1)[None, :]  # (S, T)
    X = data[rows]  # (S, T, F)
    tgt = origins[:, None] + np.arange(1, horizon + 1)[None, :]  # (S, H)
    inside = tgt < end
    y = np.where(inside, y_all[np.minimum(tgt, n - 1)], np.nan)
    keep = np.isfinite(X).all(axis=(1, 2))
    if target_end is None:
        keep &= np.isfinite(y).all(axis=1)
    return Windows(X=X[keep], y=y[keep], origin=origins[keep])


def future_rows(exog: np.ndarray, origins: np.ndarray, steps: int) -> np.ndarray:
    """The rows ``origin + 1 .. origin + steps`` of ``exog`` (n, F) for each origin: (S, steps,
    F); rows past the end of ``exog`` are 0 (their forecasts are never scored)."""
    exog = np.asarray(exog, dtype=float).reshape(len(exog), -1)
    rows = np.asarray(origins, int)[:, None] + np.arange(1, steps + 1)[None, :]
    out = exog[np.minimum(rows, len(exog) - 1)] if len(exog) else \
        np.zeros((*rows.shape, exog.shape[1]))
    return np.where((rows < len(exog))[..., None], np.nan_to_num(out), 0.0)


def frame_supervised(values: np.ndarray, lags: int = 1) -> np.ndarray:
    """Seed 000's ``timeseries_to_supervised``: columns [x(t-1), ..., x(t-lags), x(t)], with the
    first ``lags`` rows (which hold shifted-in blanks) dropped; shape (n - lags, lags + 1)."""
    v = np.asarray(values, dtype=float)
    if lags < 1 or len(v) <= lags:
        raise SplitError(f"framing {len(v)} values with lags={lags} leaves no rows: need at "
                         f"least {lags + 1} values.")
    cols = [v[lags - k: len(v) - k] for k in range(1, lags + 1)] + [v[lags:]]
    return np.column_stack(cols)


def trim_to_multiple(n_rows: int, batch_size: int) -> int:
    """Rows to drop from the start so that the rest divides by ``batch_size`` (seed 000 drops
    2 of 22 training rows for its stateful batch of 4: ``train[2:]``)."""
    if batch_size < 1 or batch_size > n_rows:
        raise SplitError(f"batch_size={batch_size} must lie in [1, {n_rows}] for {n_rows} rows.")
    return n_rows % batch_size
