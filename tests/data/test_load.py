from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import load
from lstmtune.errors import DataError


def test_builtin_shampoo_index_follows_the_tutorial_parser():
    ts = load("shampoo")
    assert len(ts) == 36 and ts.freq == "MS" and ts.targets == ("Sales",)
    assert ts.index[0] == pd.Timestamp("1901-01-01")
    assert ts.index[-1] == pd.Timestamp("1903-12-01")


def test_reference_csv_reads_year_month_labels(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text('"Month","Sales"\n"1-01",266.0\n"1-02",145.9\n"1-03",183.1\n"1-04",119.3\n')
    ts = load(src)
    assert ts.freq == "MS"
    assert [d.month for d in ts.index] == [1, 2, 3, 4]
    assert [d.year for d in ts.index] == [1, 1, 1, 1]
    np.testing.assert_array_equal(ts.y, [266.0, 145.9, 183.1, 119.3])


def test_pandas_series_and_frame_sources():
    idx = pd.date_range("2021-01-01", periods=5, freq="D")
    ts = load(pd.Series([1.0, 2, 3, 4, 5], index=idx, name="y"))
    assert ts.freq == "D" and ts.targets == ("y",)
    frame = pd.DataFrame({"when": idx, "y": [1.0, 2, 3, 4, 5], "x": [0.0, 1, 0, 1, 0]})
    ts = load(frame, target="y", features="x")
    assert ts.feature_names == ("x",) and ts.features.shape == (5, 1)
    assert ts.index.name == "when"


def test_no_time_column_gives_positions():
    ts = load(pd.DataFrame({"y": [3.0, 1.0, 2.0]}))
    assert list(ts.index) == [0, 1, 2] and ts.freq is None


def test_integer_time_column_must_be_evenly_spaced():
    ts = load(pd.DataFrame({"year": [1700, 1701, 1702], "spots": [5.0, 11.0, 16.0]}))
    assert list(ts.index) == [1700, 1701, 1702]
    with pytest.raises(DataError, match="irregularly spaced"):
        load(pd.DataFrame({"year": [1700, 1701, 1705], "spots": [5.0, 11.0, 16.0]}))


def test_freq_turns_missing_timestamps_into_gaps():
    idx = pd.date_range("2021-01-01", periods=6, freq="D").delete(3)
    frame = pd.DataFrame({"date": idx, "y": [1.0, 2, 3, 5, 6]})
    with pytest.raises(DataError, match="missing values"):
        load(frame, freq="D")
    ts = load(frame, freq="D", allow_missing=True)
    assert len(ts) == 6 and np.isnan(ts.y[3])


def test_parquet_round_trip(tmp_path):
    frame = pd.DataFrame({"date": pd.date_range("2021-01-01", periods=4, freq="MS"),
                          "y": [1.0, 2.0, 3.0, 4.0]})
    frame.to_parquet(tmp_path / "d.parquet")
    ts = load(tmp_path / "d.parquet")
    assert ts.freq == "MS"
    np.testing.assert_array_equal(ts.y, [1, 2, 3, 4])


def test_format_options_are_keyword_only_with_detection_by_default():
    import inspect

    params = inspect.signature(load).parameters
    for name in ("sep", "decimal", "date_format"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert params[name].default is None


def test_semicolon_csv_from_a_european_spreadsheet(tmp_path):
    src = tmp_path / "s.csv"
    src.write_text("date;value\n2000-01-01;100,000\n2000-01-02;101,5\n2000-01-03;99,25\n")
    ts = load(src)
    assert ts.freq == "D" and ts.targets == ("value",)
    np.testing.assert_array_equal(ts.y, [100.0, 101.5, 99.25])
