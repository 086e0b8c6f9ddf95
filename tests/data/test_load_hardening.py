"""`load` reads a file as its author meant or refuses it in one line (thing, rule, value, fix).

Each test writes a small file by hand and checks either the exact values read or the error
type and the key fragments of its message.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import load
from lstmtune.errors import ConfigError, DataError


def _write(tmp_path, text: str, name: str = "d.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _refused(source, *fragments: str, error: type[Exception] = DataError, **options) -> str:
    with pytest.raises(error) as info:
        load(source, **options)
    message = str(info.value)
    assert "\n" not in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


# --- separators and decimal marks ------------------------------------------------------------

def test_semicolon_file_with_decimal_commas(tmp_path):
    path = _write(tmp_path, "date;value\n2000-01-01;100,5\n2000-01-02;101,25\n2000-01-03;99,125\n")
    ts = load(path)
    assert ts.targets == ("value",) and ts.freq == "D"
    np.testing.assert_array_equal(ts.y, [100.5, 101.25, 99.125])


def test_european_thousands_points_and_decimal_commas(tmp_path):
    path = _write(tmp_path, 'date;value\n2000-01-01;1.234,5\n2000-01-02;1.000\n'
                            '2000-01-03;"2.000.000,75"\n')
    np.testing.assert_array_equal(load(path).y, [1234.5, 1000.0, 2000000.75])


def test_quoted_english_thousands_in_a_comma_file(tmp_path):
    path = _write(tmp_path, 'date,value\n2020-01-01,"1,234.5"\n2020-01-02,"2,000.25"\n'
                            '2020-01-03,3.5\n')
    np.testing.assert_array_equal(load(path).y, [1234.5, 2000.25, 3.5])


def test_space_grouped_thousands_and_stray_spaces(tmp_path):
    path = _write(tmp_path, "date;value\n2020-01-01; 1 234,5 \n2020-01-02;2 000,25\n"
                            "2020-01-03;  3,5\n")
    np.testing.assert_array_equal(load(path).y, [1234.5, 2000.25, 3.5])


@pytest.mark.parametrize(("name", "sep"), [("d.tsv", "\t"), ("d.txt", "|"), ("d.csv", "\t")])
def test_tab_and_pipe_separators_are_detected(tmp_path, name, sep):
    path = _write(tmp_path, f"date{sep}a{sep}b\n2020-01-01{sep}1.5{sep}7\n"
                            f"2020-01-02{sep}2{sep}8\n2020-01-03{sep}-3.25{sep}9\n", name)
    ts = load(path, target="a", features="b")
    np.testing.assert_array_equal(ts.y, [1.5, 2.0, -3.25])
    np.testing.assert_array_equal(ts.features[:, 0], [7.0, 8.0, 9.0])


def test_single_column_with_decimal_commas(tmp_path):
    ts = load(_write(tmp_path, "value\n1,5\n2,5\n3,25\n"))
    assert list(ts.index) == [0, 1, 2]
    np.testing.assert_array_equal(ts.y, [1.5, 2.5, 3.25])


def test_ambiguous_thousands_or_decimal_comma_is_refused_then_settled_by_decimal(tmp_path):
    path = _write(tmp_path, "date;value\n2000-01-01;1,500\n2000-01-02;2,250\n2000-01-03;3,125\n")
    _refused(path, "column 'value'", "'1,500'", "row 1 (file line 2)", "1.5", "1500",
             "--decimal , (1,500 = 1.5)", "--decimal . (1,500 = 1500)")
    np.testing.assert_array_equal(load(path, decimal=",").y, [1.5, 2.25, 3.125])
    np.testing.assert_array_equal(load(path, decimal=".").y, [1500.0, 2250.0, 3125.0])


def test_a_decimal_comma_elsewhere_settles_the_ambiguous_values(tmp_path):
    path = _write(tmp_path, "date;value\n2000-01-01;1,500\n2000-01-02;2,5\n2000-01-03;3,125\n")
    np.testing.assert_array_equal(load(path).y, [1.5, 2.5, 3.125])


def test_point_with_three_decimals(tmp_path):
    text = "date{s}value\n2000-01-01{s}1.500\n2000-01-02{s}2.250\n2000-01-03{s}3.125\n"
    # a comma-separated file cannot hold unquoted decimal commas: the point is decimal
    np.testing.assert_array_equal(load(_write(tmp_path, text.format(s=","))).y, [1.5, 2.25, 3.125])
    # in a semicolon file '1.500' may be German for 1500
    semicolon = _write(tmp_path, text.format(s=";"), "s.csv")
    _refused(semicolon, "'1.500'", "1.5 with a decimal point", "1500 with a point between "
             "thousands", "--decimal")
    np.testing.assert_array_equal(load(semicolon, decimal=",").y, [1500.0, 2250.0, 3125.0])


def test_a_file_mixing_decimal_marks_is_refused(tmp_path):
    path = _write(tmp_path, "date;a;b\n2000-01-01;1,5;2.25\n2000-01-02;1;2\n2000-01-03;1;2\n")
    _refused(path, "mixes decimal separators", "'1,5' in column 'a'", "'2.25' in column 'b'",
             "--decimal", target="a")


def test_a_value_against_the_given_decimal_mark_is_refused(tmp_path):
    path = _write(tmp_path, "date;value\n2000-01-01;1,5\n2000-01-02;2.25\n2000-01-03;3\n")
    _refused(path, "row 2 (file line 3)", "'2.25'", "decimal point", "--decimal , says",
             "--decimal .", decimal=",")


def test_options_are_checked():
    _refused("shampoo", "--sep ';;'", "one character", error=ConfigError, sep=";;")
    _refused("shampoo", "--decimal ';'", "--decimal .", error=ConfigError, decimal=";")
    _refused("shampoo", "--date-format 'ymd'", "strptime", error=ConfigError, date_format="ymd")
    _refused("shampoo", "--date-format '%Q'", "not a strptime format", error=ConfigError,
             date_format="%Q")


def test_sep_option_and_its_aliases(tmp_path):
    path = _write(tmp_path, "date\tvalue\n2020-01-01\t1\n2020-01-02\t2\n2020-01-03\t3\n")
    for sep in ("\t", "\\t", "tab"):
        np.testing.assert_array_equal(load(path, sep=sep).y, [1.0, 2.0, 3.0])
    comma = _write(tmp_path, "date,value\n2020-01-01,1\n2020-01-02,2\n", "c.csv")
    _refused(comma, "single column with --sep ';'", "contains ','", "--sep ','", sep=";")


def test_excel_sep_hint_line(tmp_path):
    path = _write(tmp_path, "sep=;\ndate;value\n2020-01-01;1,5\n2020-01-02;2,5\n2020-01-03;3,5\n")
    np.testing.assert_array_equal(load(path).y, [1.5, 2.5, 3.5])


def test_a_file_two_separators_split_evenly_is_refused(tmp_path):
    _refused(_write(tmp_path, "a,b;c\n1,2;3\n4,5;6\n"), "could be separated by ','", "';'",
             "--sep")


# --- header, rows and bytes ------------------------------------------------------------------

def test_missing_header_row_is_refused(tmp_path):
    _refused(_write(tmp_path, "2020-01-01,5\n2020-01-02,6\n2020-01-03,7\n"), "no header row",
             "line 1", "'2020-01-01', '5'", "add a first line naming the columns", "date,value")
    _refused(_write(tmp_path, "5\n6\n7\n", "one.csv"), "no header row")


def test_duplicate_and_unnamed_columns_are_refused(tmp_path):
    _refused(_write(tmp_path, "date,value,value\n2020-01-01,1,2\n2020-01-02,2,3\n"),
             "two columns named 'value'", "columns 2 and 3", "unique name")
    _refused(_write(tmp_path, "date,,value\n2020-01-01,5,1\n2020-01-02,6,2\n", "u.csv"),
             "column 2 has no name", "'5' on line 2", "name it in the header")
    _refused(pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], columns=["y", "y"]), "the data frame",
             "two columns named 'y'")


def test_trailing_separators_and_pandas_row_numbers_are_dropped(tmp_path):
    trailing = _write(tmp_path, "date,value,\n2020-01-01,1,\n2020-01-02,2,\n2020-01-03,3,\n")
    ts = load(trailing)
    assert ts.targets == ("value",)
    np.testing.assert_array_equal(ts.y, [1.0, 2.0, 3.0])
    only_rows = _write(tmp_path, "date,value\n2020-01-01,1,\n2020-01-02,2,\n2020-01-03,3,\n",
                       "r.csv")
    np.testing.assert_array_equal(load(only_rows).y, [1.0, 2.0, 3.0])
    extra = _write(tmp_path, "date,value\n2020-01-01,1,\n2020-01-02,2,\n2020-01-03,3,9\n",
                   "x.csv")
    _refused(extra, "line 4 has 3 fields", "header (line 1) has 2")
    frame = pd.DataFrame({"date": ["2020-01-01", "2020-01-02", "2020-01-03"], "v": [1.5, 2, 3]})
    frame.to_csv(tmp_path / "p.csv")  # with pandas' unnamed column of row numbers
    ts = load(tmp_path / "p.csv")
    assert ts.targets == ("v",) and ts.freq == "D"
    np.testing.assert_array_equal(ts.y, [1.5, 2.0, 3.0])


def test_ragged_rows_are_refused_with_their_line(tmp_path):
    _refused(_write(tmp_path, "date,value\n2020-01-01,1\n2020-01-02,2,7\n2020-01-03,3\n"),
             "line 3 has 3 fields", "header (line 1) has 2", "separator ','", "--sep")
    _refused(_write(tmp_path, "date,value,x\n2020-01-01,1,2\n2020-01-02\n", "short.csv"),
             "line 3 has 1 fields", "has 3")


def test_comments_blank_lines_and_empty_rows_keep_file_lines(tmp_path):
    text = "# exported 2024\n\ndate,value\n2020-01-01,1\n,\n# a note\n2020-01-02,x\n"
    _refused(_write(tmp_path, text), "row 2 (file line 7)", "'x'", "numbers")
    ok = "# source: x\ndate,value\n\n2020-01-01,1\n;;\n2020-01-02,2\n2020-01-03,3\n"
    np.testing.assert_array_equal(load(_write(tmp_path, ok.replace(";;", ","), "ok.csv")).y,
                                  [1.0, 2.0, 3.0])


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "cp1252"])
def test_byte_order_marks_utf16_and_windows_exports(tmp_path, encoding):
    path = _write(tmp_path, "date;Température\n2020-01-01;1,5\n2020-01-02;2,5\n"
                            "2020-01-03;3,5\n", encoding=encoding)
    ts = load(path)
    assert ts.targets == ("Température",)
    np.testing.assert_array_equal(ts.y, [1.5, 2.5, 3.5])


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_windows_and_old_mac_line_ends(tmp_path, newline):
    path = _write(tmp_path, newline.join(["date,value", "2020-01-01,1", "2020-01-02,2",
                                          "2020-01-03,3", ""]))
    np.testing.assert_array_equal(load(path).y, [1.0, 2.0, 3.0])


def test_binary_and_undecodable_files_are_refused(tmp_path):
    (tmp_path / "book.csv").write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00")
    _refused(tmp_path / "book.csv", "not a text file", "Excel .xlsx workbook", "export")
    (tmp_path / "bad.csv").write_bytes(b"date,value\n2020-01-01,1\n2020-01-02,\x81\x8d\n")
    _refused(tmp_path / "bad.csv", "not UTF-8 text", "byte 0x81 on line 3", "UTF-8")


def test_broken_quotes_and_huge_values_are_refused_in_one_short_line(tmp_path):
    _refused(_write(tmp_path, 'date,value\n2020-01-01,"1\n2020-01-02,2\n'),
             "row starting on line 2", "not valid CSV", "quotes")
    huge = _write(tmp_path, "date,value\n2020-01-01," + "1" * 200_000 + "\n2020-01-02,2\n",
                  "h.csv")
    assert len(_refused(huge, "row 1 (file line 2)", "non-numeric", "...")) < 400
    quoted = _write(tmp_path, 'date,value\n2020-01-01,"' + "1" * 200_000 + '"\n', "q.csv")
    _refused(quoted, "line 2", "longer than 131072 characters")


# --- values ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("cell", "fragments"), [
    ("5%", ["'5%'", "a percentage", "remove the % signs"]),
    ("$5", ["'$5'", "currency sign '$'", "remove the sign"]),
    ("5 €", ["currency sign '€'"]),
    ("12 kg", ["'12 kg'", "a unit ('kg')", "remove the unit"]),
    ("true", ["'true'", "true/false", "1/0"]),
    ("(5)", ["'(5)'", "accounting-style negative", "-5"]),
    ("#DIV/0!", ["non-numeric value '#DIV/0!'", "must hold numbers"]),
    ("1,23,456", ["non-numeric value '1,23,456'"]),
])
def test_numbers_with_decoration_are_refused(tmp_path, cell, fragments):
    path = _write(tmp_path, f'date;value\n2020-01-01;1\n2020-01-02;"{cell}"\n2020-01-03;3\n')
    _refused(path, "target column 'value'", "row 2 (file line 3)", *fragments)


def test_signs_and_missing_words(tmp_path):
    path = _write(tmp_path, "date,value\n2020-01-01,\u22125\n2020-01-02,+6\n2020-01-03,NA\n"
                            "2020-01-04, -7.5e1 \n")
    ts = load(path, allow_missing=True)
    np.testing.assert_array_equal(ts.y, [-5.0, 6.0, np.nan, -75.0])


def test_magnitudes_that_would_overflow_in_training_are_refused(tmp_path):
    path = _write(tmp_path, "date,value,x\n2020-01-01,1,1\n2020-01-02,-1e200,2\n"
                            "2020-01-03,3,3\n")
    _refused(path, "target column 'value'", "row 2 (file line 3)", "-1e+200", "1e+150",
             "rescale the column", target="value")
    feature = _write(tmp_path, "date,value,x\n2020-01-01,1,1\n2020-01-02,2,2e151\n", "f.csv")
    _refused(feature, "feature column 'x'", "2e+151", target="value", features="x")
    edge = _write(tmp_path, "date,value\n2020-01-01,1e150\n2020-01-02,-1e150\n", "e.csv")
    np.testing.assert_array_equal(load(edge).y, [1e150, -1e150])
    _refused(pd.Series([1.0, 1e308, 2.0], name="y"), "row 1", "1e+308")


# --- times -----------------------------------------------------------------------------------

def test_day_first_and_month_first_dates_settled_by_a_day_above_12(tmp_path):
    day_first = load(_write(tmp_path, "date,v\n12/02/2020,1\n13/02/2020,2\n14/02/2020,3\n"))
    month_first = load(_write(tmp_path, "date,v\n02/12/2020,1\n02/13/2020,2\n02/14/2020,3\n",
                              "m.csv"))
    expected = list(pd.date_range("2020-02-12", periods=3, freq="D"))
    assert list(day_first.index) == expected and list(month_first.index) == expected


def test_ambiguous_day_month_dates_are_refused_until_a_format_is_given(tmp_path):
    path = _write(tmp_path, "date,v\n01/02/2020,1\n01/03/2020,2\n01/04/2020,3\n")
    _refused(path, "time column 'date'", "'01/02/2020'", "row 1 (file line 2)",
             "no day above 12", "--date-format '%d/%m/%Y'", "--date-format '%m/%d/%Y'")
    ts = load(path, date_format="%d/%m/%Y")
    assert ts.freq == "MS" and ts.index[0] == pd.Timestamp("2020-02-01")
    ts = load(path, date_format="%m/%d/%Y")
    assert ts.freq == "D" and ts.index[0] == pd.Timestamp("2020-01-02")
    _refused(path, "'01/02/2020'", "does not match --date-format '%Y-%m-%d'",
             date_format="%Y-%m-%d")


def test_dotted_dates_are_day_first(tmp_path):
    ts = load(_write(tmp_path, "date;v\n01.02.2020;1\n01.03.2020;2\n01.04.2020 ;3\n"))
    assert list(ts.index) == list(pd.date_range("2020-02-01", periods=3, freq="MS"))


def test_day_month_dates_with_times(tmp_path):
    ts = load(_write(tmp_path, "date,v\n13/02/2020 10:00,1\n13/02/2020 11:00,2\n"
                               "13/02/2020 12:00,3\n"))
    assert ts.freq == "h" and ts.index[0] == pd.Timestamp("2020-02-13 10:00")


def test_conflicting_dates_and_two_digit_years_are_refused(tmp_path):
    _refused(_write(tmp_path, "date,v\n13/02/2020,1\n02/14/2020,2\n"),
             "mixes day-first and month-first", "'13/02/2020'", "'02/14/2020'")
    short = _write(tmp_path, "date,v\n13/02/20,1\n14/02/20,2\n15/02/20,3\n", "y.csv")
    _refused(short, "'13/02/20'", "2-digit year", "--date-format")
    assert load(short, date_format="%d/%m/%y").index[0] == pd.Timestamp("2020-02-13")
    _refused(_write(tmp_path, "date,v\nJan-20,1\nFeb-20,2\nMar-20,3\n", "b.csv"),
             "'Jan-20'", "without a 4-digit year", "--date-format")
    _refused(_write(tmp_path, "date,v\n2020-01-01,1\n2020-13-01,2\n", "i.csv"),
             "row 2 (file line 3)", "'2020-13-01'", "not a date")
    _refused(_write(tmp_path, "date,v\n2020-01-01,1\n02/01/2020,2\n", "x.csv"),
             "mixes date formats", "--date-format")


def test_month_names_with_years_and_month_year_labels(tmp_path):
    ts = load(_write(tmp_path, "month,v\nJan 2020,1\nFeb 2020,2\nMar 2020,3\n"))
    assert ts.freq == "MS" and ts.index[2] == pd.Timestamp("2020-03-01")
    ts = load(_write(tmp_path, "month,v\n11/2020,1\n12/2020,2\n01/2021,3\n", "my.csv"))
    assert ts.freq == "MS" and ts.index[2] == pd.Timestamp("2021-01-01")


def test_spreadsheet_serial_dates_are_refused(tmp_path):
    _refused(_write(tmp_path, "date,v\n43831,1\n43832,2\n43833,3\n"), "time column 'date'",
             "43831", "spreadsheet serial dates", "2020-01-01", "format the column as dates")
    _refused(_write(tmp_path, "Date,v\n43831.5,1\n43832.5,2\n", "f.csv"), "43831.5",
             "a number with a fraction")
    ts = load(_write(tmp_path, "t,v\n43831,1\n43832,2\n43833,3\n", "t.csv"))  # positions
    assert list(ts.index) == [43831, 43832, 43833]


def test_integer_years_are_positions_and_refuse_freq(tmp_path):
    path = _write(tmp_path, "year,v\n1700,5\n1701,11\n1702,16\n")
    ts = load(path)
    assert list(ts.index) == [1700, 1701, 1702] and ts.freq is None
    _refused(path, "--freq YS applies to dates", "1700, 1701, 1702", "leave --freq out",
             error=ConfigError, freq="YS")
    _refused(pd.DataFrame({"y": [1.0, 2.0, 3.0]}), "--freq D", error=ConfigError, freq="D")


def test_compact_dates_need_a_format(tmp_path):
    path = _write(tmp_path, "date,v\n20200130,1\n20200131,2\n20200201,3\n")
    _refused(path, "irregularly spaced", "--date-format %Y%m%d")
    assert list(load(path, date_format="%Y%m%d").index) == list(
        pd.date_range("2020-01-30", periods=3, freq="D"))


def test_mixed_utc_offsets_become_utc(tmp_path):
    path = _write(tmp_path, "time,v\n2020-03-29T00:00+01:00,1\n2020-03-29T01:00+01:00,2\n"
                            "2020-03-29T03:00+02:00,3\n2020-03-29T04:00+02:00,4\n")
    ts = load(path)
    assert ts.freq == "h"
    assert list(ts.index) == list(pd.date_range("2020-03-28 23:00", periods=4, freq="h",
                                                tz="UTC"))


def test_a_daily_series_across_a_dst_change_keeps_its_local_dates(tmp_path):
    path = _write(tmp_path, "date,v\n2020-03-28T00:00+01:00,1\n2020-03-29T00:00+02:00,2\n"
                            "2020-03-30T00:00+02:00,3\n")
    ts = load(path)
    assert ts.freq == "D"
    assert list(ts.index) == list(pd.date_range("2020-03-28", periods=3, freq="D"))


def test_one_offset_is_kept_and_offsets_mixed_with_none_are_refused(tmp_path):
    ts = load(_write(tmp_path, "date,v\n2020-01-01T00:00+01:00,1\n2020-01-02T00:00+01:00,2\n"
                               "2020-01-03T00:00+01:00,3\n"))
    assert str(ts.index.tz) == "UTC+01:00" and ts.freq == "D"
    _refused(_write(tmp_path, "date,v\n2020-01-01T00:00+01:00,1\n2020-01-02T00:00,2\n", "m.csv"),
             "row 1 (file line 2) has a UTC offset", "row 2 (file line 3) has none",
             "every time an offset, or none")


def test_a_missing_time_is_refused(tmp_path):
    _refused(_write(tmp_path, "date,v\n2020-01-01,1\n,2\n2020-01-03,3\n"),
             "row 2 (file line 3) has no time", "fill it in or remove the row")


def test_a_file_with_only_a_time_column_is_refused(tmp_path):
    _refused(_write(tmp_path, "date\n2020-01-01\n2020-01-02\n"), "no column of values",
             "time column 'date'")


def test_a_gap_added_by_freq_is_named_as_such():
    frame = pd.DataFrame({"date": pd.to_datetime(["2021-01-01", "2021-01-02", "2021-01-04"]),
                          "y": [1.0, 2.0, 4.0]})
    _refused(frame, "first at 2021-01-03", "added by --freq D", "--impute", freq="D")


# --- pandas and Parquet sources --------------------------------------------------------------

def test_parquet_with_the_time_in_its_index(tmp_path):
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0]},
                         index=pd.Index(["2021-01-01", "2021-02-01", "2021-03-01"], name="day"))
    frame.to_parquet(tmp_path / "s.parquet")
    ts = load(tmp_path / "s.parquet")
    assert ts.freq == "MS" and ts.index.name == "day"
    np.testing.assert_array_equal(ts.y, [1.0, 2.0, 3.0])
    dated = pd.DataFrame({"y": [1.0, 2.0, 3.0]},
                         index=pd.date_range("2021-01-01", periods=3, freq="D", name="when"))
    dated.to_parquet(tmp_path / "d.parquet")
    assert load(tmp_path / "d.parquet").freq == "D"
    bad = pd.DataFrame({"when": ["2021-01-01", "soon"], "y": [1.0, 2.0]})
    bad.to_parquet(tmp_path / "b.parquet")
    _refused(tmp_path / "b.parquet", "row 2 has the value 'soon'", "not a date")


def test_a_frame_indexed_by_year_keeps_its_years():
    frame = pd.DataFrame({"spots": [5.0, 11.0, 16.0]},
                         index=pd.Index([1700, 1701, 1702], name="year"))
    assert list(load(frame).index) == [1700, 1701, 1702]


def test_text_numbers_in_a_frame_follow_the_same_rules():
    frame = pd.DataFrame({"date": ["2021-01-01", "2021-01-02", "2021-01-03"],
                          "y": ["1,5", "2,25", "3"]})
    np.testing.assert_array_equal(load(frame).y, [1.5, 2.25, 3.0])
    frame["y"] = ["1", "2", "3 kg"]
    _refused(frame, "the data frame", "row 2", "'3 kg'", "a unit ('kg')")


def test_the_cell_that_is_no_number_at_all_is_named(tmp_path):
    text = ('# exported\n"date";"value"\n\n"2020-01-01";"1,5"\n"2020-01-02";"2,5"\n# note\n'
            '"2020-01-03";"abc"\n')
    _refused(_write(tmp_path, text), "row 3 (file line 7)", "non-numeric value 'abc'")


def test_space_separated_columns_need_sep(tmp_path):
    path = _write(tmp_path, "date value\n2020-01-01   1.5\n2020-01-02 2.5\n2020-01-03 3.5\n")
    _refused(path, "'2020-01-01   1.5'", "read as one column", "--sep")
    np.testing.assert_array_equal(load(path, sep=" ").y, [1.5, 2.5, 3.5])


def test_dos_end_of_file_mark_and_control_characters(tmp_path):
    ok = _write(tmp_path, "date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n\x1a")
    np.testing.assert_array_equal(load(ok).y, [1.0, 2.0, 3.0])
    _refused(_write(tmp_path, "date,value\n2020-01-01,\x02\x03\n", "c.csv"), "not a text file",
             "control character at offset 22")


def test_series_with_period_or_text_labels_as_index():
    periods = load(pd.Series([1.0, 2, 3], index=pd.period_range("2020-01", periods=3, freq="M")))
    labels = load(pd.Series([1.0, 2, 3], index=["2020-01", "2020-02", "2020-03"]))
    expected = list(pd.date_range("2020-01-01", periods=3, freq="MS"))
    assert list(periods.index) == expected and list(labels.index) == expected
    assert list(load(pd.Series([1.0, 2, 3], index=[5, 7, 9])).index) == [0, 1, 2]
