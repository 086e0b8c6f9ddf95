"""Built-in datasets: Shampoo Sales ships inside the package; classic series from statsmodels
are offered when that package is installed.  Nothing is ever downloaded."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import pandas as pd

__all__ = ["BuiltinDataset", "BUILTINS", "builtin_names", "load_builtin_frame"]


@dataclass(frozen=True, kw_only=True)
class BuiltinDataset:
    name: str
    description: str
    freq: str
    requires: str | None  # optional package that provides it, None when shipped with lstmtune
    loader: Callable[[], pd.Series]

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
    )
}


def builtin_names() -> list[str]:
    return sorted(BUILTINS)


def load_builtin_frame(name: str) -> pd.Series:
    return BUILTINS[name].loader()
