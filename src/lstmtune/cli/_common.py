"""Options shared by every subcommand that takes DATA, and the one-line error contract:
every option is typed and bounded here, at the boundary, so that a bad value is one line and
exit code 2 before anything runs."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from rich.table import Table

from lstmtune._json import dumps
from lstmtune.data import Framing, Preprocessing, TimeSeries, load
from lstmtune.errors import ConfigError


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``lstmtune: error: tune: argument --seed: ...``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        cmd = self.prog.removeprefix("lstmtune").strip()
        where = f"{cmd}: " if cmd else ""
        self.exit(2, f"lstmtune: error: {where}{' '.join(message.split())}; see "
                     f"`{self.prog} --help`.\n")


# Upper bounds that protect the machine (and catch a typo of a few zeros) before anything runs
MAX_HORIZON = 1_000  # recursive forecasts beyond this say nothing; they cost O(H²) stateful
MAX_LAGS = 1_000
MAX_LAG = 100_000


def whole(lo: int, hi: int | None = None) -> Any:
    """An argparse type: a whole number in [lo, hi]."""
    rule = f"a whole number >= {lo}" if hi is None else f"a whole number from {lo} to {hi}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {rule}, got '{text}'") from None
        if value < lo or hi is not None and value > hi:
            raise argparse.ArgumentTypeError(f"must be {rule}, got {value}")
        return value

    parse.__name__ = "whole number"
    return parse


def number(lo: float, hi: float | None = None, *, open_low: bool = False,
           open_high: bool = False) -> Any:
    """An argparse type: a finite number in [lo, hi] (bounds excluded when ``open_*``)."""
    rule = f"a number {'>' if open_low else '>='} {lo:g}" + (
        "" if hi is None else f" and {'<' if open_high else '<='} {hi:g}")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {rule}, got '{text}'") from None
        ok = math.isfinite(value) and (value > lo if open_low else value >= lo) and (
            hi is None or (value < hi if open_high else value <= hi))
        if not ok:
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    parse.__name__ = "number"
    return parse


def cut(text: str, limit: int = 60) -> str:
    """``text`` as quoted in a message: its repr, cut to ``limit`` characters with an
    ellipsis."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def name_text(text: str) -> str:
    """An argparse type: a non-empty name of printable characters (a study name)."""
    if not text.strip() or len(text) > 200 or not text.isprintable():
        raise argparse.ArgumentTypeError(f"must be 1-200 printable characters, got "
                                         f"{cut(text)} ({len(text):,} characters)")
    return text


def add_data_options(p: argparse.ArgumentParser, *, min_test: int = 1) -> None:
    p.add_argument("data", metavar="DATA",
                   help="built-in dataset name (see `lstmtune datasets`), or a CSV/Parquet file")
    g = p.add_argument_group("data")
    g.add_argument("--time-col", metavar="C", help="time column (default: detected)")
    g.add_argument("--target", metavar="C", help="target column (default: the only numeric one)")
    g.add_argument("--features", metavar="C1,C2", help="extra input columns, comma-separated")
    g.add_argument("--freq", metavar="F",
                   help="pandas frequency (D, W, MS, ...); missing times become gaps")
    add_format_options(g)
    add_season_option(g)
    g.add_argument("--test-size", type=size(min_test), default=12, metavar="N",
                   help="last N points (or a fraction like 0.2) form the test window "
                        "(default 12)")


def add_season_option(g) -> None:
    g.add_argument("--season", type=whole(1, 100_000), metavar="M",
                   help="seasonal period for the seasonal naive baseline and MASE (default: "
                        "from the frequency: 12 monthly, 4 quarterly, 52 weekly, 7 daily, "
                        "24 hourly; 1 without one)")


def add_format_options(g) -> None:
    """How a CSV is read when its delimiter, decimal mark or dates are ambiguous."""
    g.add_argument("--sep", metavar="S",
                   help="CSV delimiter, e.g. ';' (default: detected)")
    g.add_argument("--decimal", choices=(".", ","),
                   help="decimal mark of the numbers (default: detected)")
    g.add_argument("--date-format", metavar="FMT",
                   help="strptime format of the time column, e.g. %%d/%%m/%%Y")


def add_preprocessing_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("preprocessing (fitted on the training part only)")
    g.add_argument("--impute", choices=("linear", "time", "spline"),
                   help="fill gaps (NaN) with this interpolation")
    g.add_argument("--outliers", type=number(0, open_low=True), metavar="K",
                   help="Hampel filter: replace points more than K scaled MADs from the "
                        "trailing median")
    g.add_argument("--outlier-window", type=whole(3, MAX_LAG), default=7, metavar="W")
    g.add_argument("--log", action="store_true", help="log-transform the target")
    g.add_argument("--log-offset", type=number(0), default=0.0, metavar="C")
    g.add_argument("--difference", type=whole(0, MAX_LAG), default=1, metavar="LAG",
                   help="differencing lag, 0 = off (default 1)")
    g.add_argument("--difference-order", type=whole(1, 3), default=1, metavar="D")
    g.add_argument("--seasonal-lag", type=whole(0, MAX_LAG), default=0, metavar="M",
                   help="seasonal differencing lag, 0 = off")
    g.add_argument("--scaler", choices=("minmax", "standard", "robust", "none"),
                   default="minmax", help="default minmax to [-1, 1]")
    g = p.add_argument_group("framing")
    g.add_argument("--lags", type=whole(1, MAX_LAGS), default=1, metavar="T",
                   help="timesteps per sample")
    g.add_argument("--horizon", type=whole(1, MAX_HORIZON), default=1, metavar="H",
                   help="steps forecast from each origin (default 1)")
    g.add_argument("--val-size", type=size(0), default=0, metavar="N",
                   help="validation window before the test window (default 0)")
    g.add_argument("--calendar", metavar="P1,P2", default="",
                   help="calendar features, e.g. month,dayofweek")
    g.add_argument("--fourier", metavar="PERIOD:ORDER", action="append", default=[],
                   help="Fourier terms, e.g. 12:2 (repeatable)")
    g.add_argument("--indicators", metavar="I1,I2", default="",
                   help="technical indicators: sma:N, ema:N, rsi:N, macd, returns:N")


def size(lo: int) -> Any:
    """An argparse type: a count >= ``lo`` or a fraction in (0, 1) of the series."""
    rule = f"a count >= {lo} or a fraction in (0, 1), e.g. 12 or 0.2"

    def parse(text: str) -> int | float:
        try:
            value: int | float = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"must be {rule}, got '{text}'") from None
        if isinstance(value, int) and not lo <= value <= 10**9 or \
                isinstance(value, float) and not 0 < value < 1:
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    parse.__name__ = "size"
    return parse


def load_data(args: argparse.Namespace, *, allow_missing: bool = False) -> TimeSeries:
    """DATA as the options say; gaps allowed with ``allow_missing`` or ``--impute``."""
    return load(args.data, time_col=args.time_col, target=args.target, features=args.features,
                freq=args.freq, allow_missing=allow_missing or
                getattr(args, "impute", None) is not None, **format_options(args))


def format_options(args: argparse.Namespace) -> dict[str, Any]:
    """``sep``, ``decimal``, ``date_format`` and ``season`` for ``load`` (only those given)."""
    return {k: getattr(args, k) for k in ("sep", "decimal", "date_format", "season")
            if getattr(args, k, None) is not None}


def _split_list(text: str) -> tuple[str, ...]:
    """``a,b`` or ``a+b`` (as --set writes a group) → ``("a", "b")``."""
    return tuple(t.strip() for t in text.replace("+", ",").split(",") if t.strip())


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


def step_table(title: str, models: dict[str, list], baselines: dict[str, dict] | None = None
               ) -> Table:
    """Rows: each model's and baseline's error per horizon step (columns h1, h2, ...)."""
    rows = {**models, **{name: b["per_step"] for name, b in (baselines or {}).items()}}
    H = max((len(v) for v in rows.values()), default=0)
    t = Table(title=title)
    t.add_column("")
    for h in range(1, H + 1):
        t.add_column(f"h{h}", justify="right")
    for name, values in rows.items():
        t.add_row(name, *("—" if v is None or v != v else f"{v:.3f}" for v in values))
    return t
