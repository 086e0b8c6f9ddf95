"""Options shared by every subcommand that takes DATA, and the one-line error contract."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lstmtune._json import dumps
from lstmtune.data import Framing, Preprocessing, TimeSeries, load
from lstmtune.errors import ConfigError


def add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA",
                   help="built-in dataset name (see `lstmtune datasets`), or a CSV/Parquet file")
    g = p.add_argument_group("data")
    g.add_argument("--time-col", metavar="C", help="time column (default: detected)")
    g.add_argument("--target", metavar="C", help="target column (default: the only numeric one)")
    g.add_argument("--features", metavar="C1,C2", help="extra input columns, comma-separated")
    g.add_argument("--freq", metavar="F",
                   help="pandas frequency (D, W, MS, ...); missing times become gaps")
    g.add_argument("--test-size", type=_size, default=12, metavar="N",
                   help="last N points (or a fraction like 0.2) form the test window "
                        "(default 12)")


def add_preprocessing_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("preprocessing (fitted on the training part only)")
    g.add_argument("--impute", choices=("linear", "time", "spline"),
                   help="fill gaps (NaN) with this interpolation")
    g.add_argument("--outliers", type=float, metavar="K",
                   help="Hampel filter: replace points more than K scaled MADs from the "
                        "trailing median")
    g.add_argument("--outlier-window", type=int, default=7, metavar="W")
    g.add_argument("--log", action="store_true", help="log-transform the target")
    g.add_argument("--log-offset", type=float, default=0.0, metavar="C")
    g.add_argument("--difference", type=int, default=1, metavar="LAG",
                   help="differencing lag, 0 = off (default 1)")
    g.add_argument("--difference-order", type=int, default=1, metavar="D")
    g.add_argument("--seasonal-lag", type=int, default=0, metavar="M",
                   help="seasonal differencing lag, 0 = off")
    g.add_argument("--scaler", choices=("minmax", "standard", "robust", "none"),
                   default="minmax", help="default minmax to [-1, 1]")
    g = p.add_argument_group("framing")
    g.add_argument("--lags", type=int, default=1, metavar="T", help="timesteps per sample")
    g.add_argument("--horizon", type=int, default=1, metavar="H",
                   help="steps forecast from each origin (default 1)")
    g.add_argument("--val-size", type=_size, default=0, metavar="N",
                   help="validation window before the test window (default 0)")
    g.add_argument("--calendar", metavar="P1,P2", default="",
                   help="calendar features, e.g. month,dayofweek")
    g.add_argument("--fourier", metavar="PERIOD:ORDER", action="append", default=[],
                   help="Fourier terms, e.g. 12:2 (repeatable)")
    g.add_argument("--indicators", metavar="I1,I2", default="",
                   help="technical indicators: sma:N, ema:N, rsi:N, macd")


def _size(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a count or a fraction: use e.g. 12 or 0.2") from None


def load_data(args: argparse.Namespace) -> TimeSeries:
    return load(args.data, time_col=args.time_col, target=args.target, features=args.features,
                freq=args.freq, allow_missing=getattr(args, "impute", None) is not None)


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _fourier(specs: list[str]) -> tuple[tuple[float, int], ...]:
    out = []
    for spec in specs:
        period, _, order = spec.partition(":")
        try:
            out.append((float(period), int(order or 1)))
        except ValueError:
            raise ConfigError(f"--fourier '{spec}' is not PERIOD:ORDER; write e.g. 12:2 for "
                              "yearly seasonality in monthly data.") from None
    return tuple(out)


def preprocessing_from(args: argparse.Namespace) -> Preprocessing:
    return Preprocessing(impute=args.impute, outlier_threshold=args.outliers,
                         outlier_window=args.outlier_window, log=args.log,
                         log_offset=args.log_offset, difference=args.difference,
                         difference_order=args.difference_order, seasonal_lag=args.seasonal_lag,
                         scaler=None if args.scaler == "none" else args.scaler)


def framing_from(args: argparse.Namespace) -> Framing:
    return Framing(lags=args.lags, horizon=args.horizon, calendar=_split_list(args.calendar),
                   fourier=_fourier(args.fourier), indicators=_split_list(args.indicators))


def print_json(obj: Any) -> None:
    """One strict JSON object on stdout (NaN becomes null)."""
    sys.stdout.write(dumps(obj) + "\n")
