"""Panels of series (groundwork for many series at once): a long table ``unique_id, ds, y``
(the Nixtla/statsforecast convention; other column names can be given), read from CSV,
Parquet or a DataFrame into one validated :class:`TimeSeries` per series.

Every series is validated as a single series is (:func:`lstmtune.data.load`), and every
error names the series.  Refused across series: a missing id, time or target column,
duplicate ``(id, time)`` rows, and series of different frequencies.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lstmtune.data._load import TimeSeries, load
from lstmtune.errors import DataError

__all__ = ["Panel", "load_panel"]


@dataclass(frozen=True, eq=False)
class Panel:
    """Series by id, in the table's order of first appearance."""

    name: str
    series: dict[str, TimeSeries]

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


def load_panel(source: object, *, id_col: str = "unique_id", time_col: str = "ds",
               target: str = "y", features: Sequence[str] | None = None,
               freq: str | None = None, allow_missing: bool = False) -> Panel:
    """Every series of a long table, validated, with errors naming the series."""
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
    keep = [time_col, target, *(features or ())]
    series: dict[str, TimeSeries] = {}
    for sid, rows in frame.assign(_id=ids).groupby("_id", sort=False):
        try:
            series[sid] = load(rows[keep].reset_index(drop=True), time_col=time_col,
                               target=target, features=list(features) if features else None,
                               freq=freq, allow_missing=allow_missing, name=sid)
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
