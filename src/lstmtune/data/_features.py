"""Extra input features, all computed without look-ahead.

Calendar and Fourier terms depend only on the timestamp.  Indicators (moving averages, RSI,
MACD) at time t use observations up to and including t; their warm-up rows are NaN and the
windowing drops samples that contain them.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from lstmtune.errors import ConfigError

__all__ = ["calendar_features", "fourier_features", "sma", "ema", "rsi", "macd",
           "indicator_features", "CALENDAR_PARTS", "INDICATORS"]

CALENDAR_PARTS = ("month", "quarter", "dayofweek", "dayofyear", "day", "hour", "weekofyear")


def calendar_features(index: pd.Index, parts: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """Integer calendar components of each timestamp, shape (n, len(parts))."""
    if parts and not isinstance(index, pd.DatetimeIndex):
        raise ConfigError(f"calendar features {list(parts)} need a time column of dates, but the "
                          "series has a plain integer index; give --time-col or drop them.")
    cols = []
    for part in parts:
        if part not in CALENDAR_PARTS:
            hint = difflib.get_close_matches(part, CALENDAR_PARTS, n=1)
            raise ConfigError(f"calendar feature '{part}' is unknown; choose from "
                              f"{', '.join(CALENDAR_PARTS)}."
                              + (f" Did you mean '{hint[0]}'?" if hint else ""))
        if part == "weekofyear":
            cols.append(index.isocalendar().week.to_numpy(float))
        else:
            cols.append(np.asarray(getattr(index, part), dtype=float))
    return (np.column_stack(cols) if cols else np.zeros((len(index), 0))), list(parts)


def fourier_features(n: int, period: float, order: int, *, start: int = 0
                     ) -> tuple[np.ndarray, list[str]]:
    """sin and cos of 2*pi*k*t/period for k = 1..order at positions t = start..start+n-1."""
    if period <= 1 or order < 1 or 2 * order > period:
        raise ConfigError(f"Fourier terms need period > 1 and 1 <= order <= period/2, but got "
                          f"period={period}, order={order}; e.g. period=12, order=2 for months.")
    t = np.arange(start, start + n, dtype=float)[:, None]
    k = np.arange(1, order + 1, dtype=float)[None, :]
    angle = 2.0 * np.pi * k * t / period
    names = [f"{f}{i}_p{period:g}" for i in range(1, order + 1) for f in ("sin", "cos")]
    out = np.stack([np.sin(angle), np.cos(angle)], axis=2).reshape(n, 2 * order)
    return out, names


def sma(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing simple moving average; the first window-1 values are NaN."""
    return pd.Series(x).rolling(window, min_periods=window).mean().to_numpy(copy=True)


def ema(x: np.ndarray, span: int) -> np.ndarray:
    """Trailing exponential moving average (alpha = 2/(span+1)), seeded by the first value."""
    return pd.Series(x).ewm(span=span, adjust=False).mean().to_numpy(copy=True)


def rsi(x: np.ndarray, window: int = 14) -> np.ndarray:
    """Wilder's relative strength index in [0, 100]; NaN for the first `window` values."""
    delta = np.diff(np.asarray(x, dtype=float), prepend=np.nan)
    gain = pd.Series(np.where(delta > 0, delta, 0.0))
    loss = pd.Series(np.where(delta < 0, -delta, 0.0))
    gain[0] = loss[0] = np.nan
    avg_gain = gain.ewm(alpha=1.0 / window, adjust=False, min_periods=window).mean()
    avg_loss = loss.ewm(alpha=1.0 / window, adjust=False, min_periods=window).mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        rs = avg_gain.to_numpy() / avg_loss.to_numpy()
        out = 100.0 - 100.0 / (1.0 + rs)
    out[(avg_loss.to_numpy() == 0) & ~np.isnan(avg_gain.to_numpy())] = 100.0
    return out


def macd(x: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD line (EMA fast - EMA slow), its signal line and the histogram; NaN during the
    first `slow - 1` values so that early, poorly seeded averages are not used."""
    line = ema(x, fast) - ema(x, slow)
    sig = ema(line, signal)
    line[: slow - 1] = np.nan
    sig[: slow - 1] = np.nan
    return line, sig, line - sig


INDICATORS = ("sma", "ema", "rsi", "macd")


def _parse_indicator(spec: str) -> tuple[str, int | None]:
    name, _, arg = spec.partition(":")
    if name not in INDICATORS:
        hint = difflib.get_close_matches(name, INDICATORS, n=1)
        raise ConfigError(f"indicator '{spec}' is unknown; choose from sma:N, ema:N, rsi:N, "
                          "macd." + (f" Did you mean '{hint[0]}'?" if hint else ""))
    if not arg:
        return name, None
    if not arg.isdigit() or int(arg) < 2:
        raise ConfigError(f"indicator '{spec}' needs a whole window of at least 2 after the "
                          "colon, e.g. sma:5 or rsi:14.")
    return name, int(arg)


def indicator_features(x: np.ndarray, specs: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """Technical indicators of the series x, e.g. ("sma:5", "rsi:14", "macd")."""
    cols: list[np.ndarray] = []
    names: list[str] = []
    for spec in specs:
        name, arg = _parse_indicator(spec)
        if name == "sma":
            cols.append(sma(x, arg or 5))
            names.append(f"sma{arg or 5}")
        elif name == "ema":
            cols.append(ema(x, arg or 5))
            names.append(f"ema{arg or 5}")
        elif name == "rsi":
            cols.append(rsi(x, arg or 14))
            names.append(f"rsi{arg or 14}")
        else:
            cols.extend(macd(x))
            names.extend(["macd", "macd_signal", "macd_hist"])
    return (np.column_stack(cols) if cols else np.zeros((len(x), 0))), names
