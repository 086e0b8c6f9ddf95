"""Every bad input named in the foundation issue: exit code 2, one line naming the thing, the
rule, the value and a fix, no traceback, and no file written."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lstmtune.cli import main

GOOD = "date,value\n" + "".join(f"2020-{m:02d}-01,{10 + m * (m % 3)}\n" for m in range(1, 13))


def _monthly(values: list[str], start_year: int = 2020) -> str:
    rows = [f"{start_year + i // 12}-{i % 12 + 1:02d}-01,{v}" for i, v in enumerate(values)]
    return "date,value\n" + "\n".join(rows) + "\n"


CASES = {
    # name: (file name, file text or None, argv after the subcommand, expected fragments)
    "missing file": ("nope.csv", None, ["baseline", "nope.csv"], ["nope.csv", "does not exist"]),
    "misspelt builtin": ("shampo", None, ["baseline", "shampo"],
                         ["does not exist", "Did you mean 'shampoo'"]),
    "empty file": ("empty.csv", "", ["baseline", "empty.csv"], ["empty.csv", "empty (0 bytes)"]),
    "header only": ("head.csv", "date,value\n", ["baseline", "head.csv"], ["no rows of values"]),
    "not csv or parquet": ("data.xlsx", "PK\x03\x04", ["baseline", "data.xlsx"],
                           ["'.xlsx'", "neither CSV", "Parquet"]),
    "corrupt parquet": ("data.parquet", "not parquet at all", ["baseline", "data.parquet"],
                        ["not a readable Parquet file"]),
    "misspelt column": ("d.csv", _monthly([str(i) for i in range(20)]),
                        ["baseline", "d.csv", "--target", "valeu"],
                        ["target column 'valeu'", "date, value", "Did you mean 'value'"]),
    "misspelt time column": ("d.csv", _monthly([str(i) for i in range(20)]),
                             ["baseline", "d.csv", "--time-col", "dat"],
                             ["time column 'dat'", "Did you mean 'date'"]),
    "non-numeric target": ("d.csv", _monthly(["1", "2", "3", "abc", "5"] + ["6"] * 15),
                           ["baseline", "d.csv", "--test-size", "3"],
                           ["column 'value'", "row 4 (file line 5)", "'abc'", "numbers"]),
    "all NaN": ("d.csv", _monthly([""] * 20), ["baseline", "d.csv"],
                ["column 'value'", "all 20 are missing"]),
    "inf value": ("d.csv", _monthly(["1", "2", "inf"] + ["4"] * 17), ["baseline", "d.csv"],
                  ["row 3 (file line 4)", "inf", "finite"]),
    "duplicate timestamps": ("d.csv", "date,value\n2020-01-01,1\n2020-02-01,2\n2020-02-01,3\n"
                             "2020-03-01,4\n", ["baseline", "d.csv", "--test-size", "1"],
                             ["duplicate timestamp 2020-02-01", "row 2 (file line 3)",
                              "row 3 (file line 4)"]),
    "unsorted timestamps": ("d.csv", "date,value\n2020-01-01,1\n2020-03-01,2\n2020-02-01,3\n"
                            "2020-04-01,4\n", ["baseline", "d.csv", "--test-size", "1"],
                            ["not sorted", "row 3 (file line 4)", "2020-02-01", "sort the rows"]),
    "unparseable date": ("d.csv", "date,value\n2020-01-01,1\n2020-02-01,2\nsoon,3\n",
                         ["baseline", "d.csv"], ["row 3 (file line 4)", "'soon'", "not a date"]),
    "irregular spacing": ("d.csv", "date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-05,3\n"
                          "2020-01-06,4\n2020-01-07,5\n", ["baseline", "d.csv"],
                          ["irregularly spaced", "3 days", "--freq"]),
    "bad freq": ("d.csv", GOOD, ["baseline", "d.csv", "--freq", "fortnightly"],
                 ["'fortnightly'", "not a pandas frequency"]),
    "gaps without imputation": ("d.csv", _monthly(["1", "2", "", "4"] + ["5"] * 16),
                                ["baseline", "d.csv"],
                                ["1 row(s) with missing values", "2020-03-01", "--impute"]),
    "too short": ("d.csv", _monthly([str(i * 3 % 7) for i in range(20)]),
                  ["prepare", "d.csv", "--lags", "7", "--val-size", "6", "--test-size", "6"],
                  ["20 points", "lags 7", "validation 6", "test 6", "need at least 21",
                   "fewer lags"]),
    "constant series": ("d.csv", _monthly(["5"] * 24), ["prepare", "d.csv", "--difference", "0"],
                        ["MinMaxScale", "constant", "5.0", "Remove the scaler"]),
    "log of non-positive": ("d.csv", _monthly(["3", "2", "-1"] + [str(i) for i in range(4, 25)]),
                            ["prepare", "d.csv", "--log"], ["Log", "-1", "offset"]),
    "ambiguous target": ("d.csv", "date,a,b\n2020-01-01,1,2\n2020-02-01,2,3\n2020-03-01,3,4\n",
                         ["baseline", "d.csv"], ["several columns", "a, b", "--target"]),
    "test too large": ("d.csv", GOOD, ["baseline", "d.csv", "--test-size", "40"],
                       ["test_size", "40"]),
}


def _run(tmp_path, name, text, argv, capsys):
    os.chdir(tmp_path)
    if text is not None:
        (tmp_path / name).write_text(text)
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(argv)
    after = sorted(p.name for p in tmp_path.iterdir())
    return code, capsys.readouterr(), before, after


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_is_one_line_exit_2(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name, text, argv, fragments = CASES[case]
    code, out, before, after = _run(tmp_path, name, text, argv, capsys)
    assert code == 2
    assert out.out == ""
    lines = out.err.strip().splitlines()
    assert len(lines) == 1, out.err
    assert lines[0].startswith("lstmtune: error: ")
    assert "Traceback" not in out.err
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    assert before == after, "an error must not write files"


def test_no_traceback_from_the_installed_command(tmp_path):
    """The real entry point, in a fresh process: one stderr line, exit 2."""
    proc = subprocess.run([sys.executable, "-m", "lstmtune", "baseline", "missing.csv"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from lstmtune.errors import DataError

    with pytest.raises(DataError):
        main(["--debug", "baseline", "missing.csv"])


def test_imputation_allows_gaps(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text(_monthly(["1", "2", "", "4"] + [str(5 + i % 4)
                                                                    for i in range(16)]))
    assert main(["prepare", "d.csv", "--impute", "linear", "--test-size", "4", "--json"]) == 0
