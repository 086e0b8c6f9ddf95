"""Extra input features, all computed without look-ahead.

Calendar and Fourier terms depend only on the timestamp.  Indicators (moving averages, RSI,
MACD, returns) at time t use observations up to and including t; their warm-up rows are NaN
and the windowing drops samples that contain them.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from lstmtune.errors import ConfigError, DataError

__all__ = ["season_length", "calendar_features", "fourier_features", "sma", "ema", "rsi", "macd",
           "returns", "indicator_features", "parse_indicator", "CALENDAR_PARTS", "INDICATORS"]

CALENDAR_PARTS = ("month", "quarter", "dayofweek", "dayofyear", "day", "hour", "weekofyear")


# Steps per seasonal cycle, by the code of a pandas frequency (multiples divide it): a year of
# months, quarters, weeks or half-months; a week of days (of business days); a day of hours;
# an hour of minutes; a minute of seconds.
SEASONS = {"MS": 12, "ME": 12, "BMS": 12, "BME": 12, "SMS": 24, "SME": 24, "QS": 4, "QE": 4,
           "BQS": 4, "BQE": 4, "W": 52, "D": 7, "B": 5, "C": 5, "h": 24, "min": 60, "s": 60}


def season_length(freq: str | None) -> int:
    """The seasonal period of a pandas frequency: 12 for months, 4 for quarters, 52 for weeks,
    7 for days (5 for business days), 24 for hours, 60 for minutes and seconds; a multiple
    divides it (``"3h"`` → 8, or 1 when it does not divide); 1 for years, an unknown or no
    frequency."""
    if not freq:
        return 1
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        return 1
    base = SEASONS.get(offset.rule_code.split("-")[0], 1)
    n = abs(int(offset.n)) or 1
    return base // n if base % n == 0 else 1


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


def returns(x: np.ndarray, period: int = 1) -> np.ndarray:
    """Simple return over ``period`` steps, ``x_t / x_{t-period} - 1``; NaN for the first
    ``period`` values (and where ``x_{t-period}`` is 0)."""
    x = np.asarray(x, dtype=float)
    out = np.full(len(x), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[period:] = x[period:] / x[:-period] - 1.0
    out[~np.isfinite(out)] = np.nan
    return out


INDICATORS = ("sma", "ema", "rsi", "macd", "returns")
DEFAULT_WINDOWS = {"sma": 5, "ema": 5, "rsi": 14, "returns": 1}
MAX_WINDOW = 1000  # an indicator window longer than this is a typo, not a feature


def parse_indicator(spec: str) -> tuple[str, int | None]:
    """``"sma:5"`` → ``("sma", 5)``, ``"macd"`` → ``("macd", None)``; a ConfigError naming the
    indicator otherwise."""
    name, _, arg = spec.partition(":")
    if name not in INDICATORS:
        hint = difflib.get_close_matches(name, INDICATORS, n=1)
        raise ConfigError(f"indicator '{spec}' is unknown"
                          + (f" (did you mean '{hint[0]}'?)" if hint else "")
                          + "; choose from sma:N, ema:N, rsi:N, macd, returns:N.")
    if not arg:
        return name, None
    low = 1 if name == "returns" else 2
    if name == "macd" or not arg.isdigit() or not low <= int(arg) <= MAX_WINDOW:
        raise ConfigError(f"indicator '{spec}': " + (
            "macd takes no window (it is EMA 12 - EMA 26 with a signal of 9); write macd."
            if name == "macd" else f"the window after the colon must be a whole number from "
            f"{low} to {MAX_WINDOW}, e.g. {name}:{5 if name != 'returns' else 1}."))
    return name, int(arg)


def indicator_features(x: np.ndarray, specs: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """Technical indicators of the series x, e.g. ("sma:5", "rsi:14", "macd")."""
    cols: list[np.ndarray] = []
    names: list[str] = []
    for spec in specs:
        name, arg = parse_indicator(spec)
        if name == "sma":
            cols.append(sma(x, arg or 5))
            names.append(f"sma{arg or 5}")
        elif name == "ema":
            cols.append(ema(x, arg or 5))
            names.append(f"ema{arg or 5}")
        elif name == "rsi":
            cols.append(rsi(x, arg or 14))
            names.append(f"rsi{arg or 14}")
        elif name == "returns":
            p = arg or 1
            r = returns(x, p)
            x = np.asarray(x, dtype=float)
            zero = np.isnan(r[p:]) & np.isfinite(x[p:]) & np.isfinite(x[:-p])
            if zero.any():  # a dropped window would silently leave a scored point out
                i = int(np.flatnonzero(zero)[0])
                raise DataError(f"indicator returns:{p} is undefined at position {i + p}: "
                                f"the value {p} step(s) before it is 0; use sma, ema or rsi "
                                "instead, or shift the series away from 0.")
            cols.append(r)
            names.append(f"returns{p}")
        else:
            cols.extend(macd(x))
            names.extend(["macd", "macd_signal", "macd_hist"])
    return (np.column_stack(cols) if cols else np.zeros((len(x), 0))), names
