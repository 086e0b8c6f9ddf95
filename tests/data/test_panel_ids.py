"""Panel series ids are text exactly as written (CSV, Parquet, frames) and survive a tune →
save → load → predict round trip; blank ids are refused; the cheap checks (ids, duplicate
rows, lengths, cells that are no number) come before any series is read, so a large bad
table is refused in seconds; every message names the series and its row."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import load_panel
from lstmtune.errors import DataError

MONTHS = pd.date_range("2020-01-01", periods=6, freq="MS").strftime("%Y-%m-%d")


def _csv(path, lines):
    path.write_text("unique_id,ds,y\n" + "".join(f"{line}\n" for line in lines))
    return path


def _rows(ids, months=MONTHS, value="1.5"):
    return [f"{i},{d},{value}" for i in ids for d in months]


def test_csv_ids_stay_as_written(tmp_path):
    ids = ["001", "1", "1.0", "A", "NA", "007", "7"]
    panel = load_panel(_csv(tmp_path / "p.csv", _rows(ids)))
    assert panel.ids == ids  # 001 is not 1, 1.0 is not 1, NA is an id, in table order
    assert all(type(i) is str for i in panel.ids)
    assert [len(s) for s in panel] == [6] * 7


def test_parquet_and_frame_ids_are_their_values_as_text(tmp_path):
    frame = pd.DataFrame({"unique_id": np.repeat([1, 2, 10], 6), "ds": np.tile(MONTHS, 3),
                          "y": np.arange(18.0)})
    assert load_panel(frame).ids == ["1", "2", "10"]  # integers never become 1.0
    frame.to_parquet(tmp_path / "p.parquet")
    assert load_panel(tmp_path / "p.parquet").ids == ["1", "2", "10"]
    text = frame.assign(unique_id=np.repeat(["001", "1", "A"], 6))
    text.to_parquet(tmp_path / "t.parquet")
    assert load_panel(tmp_path / "t.parquet").ids == ["001", "1", "A"]
    assert load_panel(frame.assign(unique_id=np.repeat([1.0, 2.5, 3.0], 6))).ids == \
        ["1.0", "2.5", "3.0"]


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_id_in_a_csv_is_refused_naming_its_file_line(tmp_path, blank):
    lines = _rows(["A"]) + [f"{blank},{MONTHS[0]},2.0"]
    with pytest.raises(DataError) as e:
        load_panel(_csv(tmp_path / "p.csv", lines))
    msg = str(e.value)
    assert "row 7 (file line 8) has no series id" in msg and "unique_id" in msg
    assert "\n" not in msg and msg.endswith(".")


@pytest.mark.parametrize("blank, what", [(None, "empty"), ("", "empty"), ("  ", "blank"),
                                         (np.nan, "empty")])
def test_a_blank_id_in_a_frame_is_refused(blank, what):
    frame = pd.DataFrame({"unique_id": ["A", "A", blank], "ds": MONTHS[:3], "y": [1.0] * 3},
                         dtype=object)
    with pytest.raises(DataError, match=f"row 2 has no series id \\(column 'unique_id' is "
                                        f"{what} there\\)"):
        load_panel(frame)


def test_spaces_around_an_id_are_refused_in_a_frame_and_dropped_in_a_csv(tmp_path):
    # documented: a CSV's cells are read without the spaces around them (every column), so
    # a frame's or Parquet's id with such spaces would name another series than its CSV copy
    frame = pd.DataFrame({"unique_id": [" A"] * 3, "ds": MONTHS[:3], "y": [1.0] * 3})
    with pytest.raises(DataError, match="the series id ' A' at row 0 has spaces around it"):
        load_panel(frame)
    assert load_panel(_csv(tmp_path / "p.csv", [f" A ,{d},1" for d in MONTHS])).ids == ["A"]


def test_a_control_character_in_an_id_is_refused():
    frame = pd.DataFrame({"unique_id": ["A\nB"] * 3, "ds": MONTHS[:3], "y": [1.0] * 3})
    with pytest.raises(DataError, match=r"'A\\nB' at row 0 holds a control character"):
        load_panel(frame)


def test_a_long_id_is_cut_in_messages(tmp_path):
    sid = "x" * 5000
    with pytest.raises(DataError) as e:
        load_panel(_csv(tmp_path / "p.csv", _rows([sid], MONTHS[:2])), min_length=5)
    assert "x" * 59 + "…'" in str(e.value) and len(str(e.value)) < 400


def test_a_non_number_is_its_own_series_problem_at_its_file_line(tmp_path):
    # series A's 1.500 alone cannot say whether the point is decimal; series C's 'abc' is
    # the problem, reported at its row, not as a decimal-mark question about series A
    lines = _rows(["A", "B"], value="1.500") + _rows(["C"], MONTHS[:2], value="2") + \
        [f"C,{MONTHS[2]},abc"]
    with pytest.raises(DataError) as e:
        load_panel(_csv(tmp_path / "p.csv", lines))
    assert str(e.value).startswith("target column 'y' in panel 'p', series 'C': row 15 "
                                   "(file line 16) has the non-numeric value 'abc'")


def test_a_table_that_mixes_decimal_marks_names_the_series_of_the_odd_value(tmp_path):
    lines = _rows(["A", "B"], value="50.25") + [f'C,{MONTHS[0]},"51,5"']
    with pytest.raises(DataError) as e:
        load_panel(_csv(tmp_path / "p.csv", lines))
    assert "'51,5' in column 'y' at row 13 (file line 14, series 'C') has a decimal comma" \
        in str(e.value)


def test_times_that_are_no_dates_are_not_called_duplicates(tmp_path):
    with pytest.raises(DataError) as e:
        load_panel(_csv(tmp_path / "p.csv", [f"A,someday,{k}" for k in range(6)]))
    assert "series 'A'" in str(e.value) and "'someday', which is not a date" in str(e.value)
    assert "sharing" not in str(e.value)
    # the same date written two ways is one time of the series
    with pytest.raises(DataError, match=r"series 'A' has 2 rows sharing a time \(e.g. "
                                        r"'2020-01-01' at row 1 \(file line 2\) and row 3"):
        load_panel(_csv(tmp_path / "q.csv", ["A,2020-01-01,1", "A,2020-02-01,1",
                                             "A,2020-01-01 00:00,1"]))


@pytest.mark.parametrize("kwargs, match", [
    ({"id_col": "y"}, "--id-col 'y' is also the target column"),
    ({"time_col": "unique_id"}, "--id-col 'unique_id' is also the time column"),
    ({"id_col": ""}, "--id-col '' names no id column"),
    ({"target": " "}, "--target ' ' names no target column"),
])
def test_column_names_that_cannot_be_a_panel(tmp_path, kwargs, match):
    from lstmtune.errors import ConfigError

    with pytest.raises(ConfigError, match=match):
        load_panel(_csv(tmp_path / "p.csv", _rows(["A"])), **kwargs)


def test_every_series_message_names_the_file_line(tmp_path):
    lines = _rows(["A"]) + [f"B,{MONTHS[1]},1", f"B,{MONTHS[0]},1", f"B,{MONTHS[2]},1"]
    with pytest.raises(DataError) as e:
        load_panel(_csv(tmp_path / "p.csv", lines))
    msg = str(e.value)
    assert "panel 'p', series 'B' is not sorted" in msg
    assert "row 8 (file line 9)" in msg and "row 7 (file line 8)" in msg


def test_duplicate_rows_name_both_rows(tmp_path):
    lines = _rows(["A"]) + [f"B,{MONTHS[0]},1", f"B,{MONTHS[1]},1", f"B,{MONTHS[0]},2"]
    with pytest.raises(DataError) as e:
        load_panel(_csv(tmp_path / "p.csv", lines))
    assert "series 'B' has 2 rows sharing a time (e.g. '2020-01-01' at row 7 (file line 8) " \
           "and row 9 (file line 10))" in str(e.value)


def test_a_one_point_series_is_too_short_to_tell_its_step_not_a_mix(tmp_path):
    lines = _rows(["A"]) + [f"B,{MONTHS[0]},3"]
    with pytest.raises(DataError) as e:
        load_panel(_csv(tmp_path / "p.csv", lines))
    msg = str(e.value)
    assert "mixes frequencies" not in msg
    assert msg.startswith("panel 'p', series 'B' has 1 point, too few to tell its time step")
    assert "series 'A' steps by MS" in msg and "--freq MS" in msg
    assert msg.endswith("The series starts at row 7 (file line 8).")
    # genuinely different frequencies are still a mix
    weeks = pd.date_range("2020-01-06", periods=6, freq="W-MON").strftime("%Y-%m-%d")
    with pytest.raises(DataError, match="mixes frequencies \\('A' MS, 'B' W-MON\\)"):
        load_panel(_csv(tmp_path / "q.csv", _rows(["A"]) + _rows(["B"], weeks)))


def test_the_length_rule_comes_from_the_row_counts(tmp_path):
    lines = _rows(["A"]) + _rows(["B", "C"], MONTHS[:3])
    with pytest.raises(DataError) as e:
        load_panel(_csv(tmp_path / "p.csv", lines), min_length=5, too_short="too short (X).")
    assert str(e.value) == ("panel 'p', series 'B' has 3 points: too short (X). The series "
                            "starts at row 7 (file line 8); 1 other series is shorter than 5 "
                            "points too.")
    assert len(load_panel(_csv(tmp_path / "p.csv", lines), min_length=3)) == 3
    # with --freq and gaps allowed, missing months add points: no verdict from the rows
    gappy = _rows(["A"]) + [f"B,{MONTHS[0]},1", f"B,{MONTHS[5]},2"]
    panel = load_panel(_csv(tmp_path / "g.csv", gappy), min_length=5, freq="MS",
                       allow_missing=True)
    assert len(panel.series["B"]) == 6 and np.isnan(panel.series["B"].y[1:5]).all()


def test_twenty_thousand_short_series_are_refused_in_seconds(tmp_path):
    n = 20_000
    pd.DataFrame({"unique_id": np.repeat([f"S{i}" for i in range(n)], 3),
                  "ds": np.tile(MONTHS[:3], n), "y": np.arange(3.0 * n)}).to_csv(
        tmp_path / "big.csv", index=False)
    # refused by the cheap length rule before any series is built (the time is measured by
    # benchmarks/bad_inputs.py's panel cases, not asserted here)
    with pytest.raises(DataError, match="series 'S0' has 3 points: .* 19,999 other series"):
        load_panel(tmp_path / "big.csv", min_length=8)


def test_dates_are_read_once_for_the_table_as_each_series_would_read_them(tmp_path):
    # series B alone could be day/month or month/day; series A's 13/01 settles the table
    lines = [f"A,{d}/01/2020,1" for d in range(13, 19)] + \
        [f"B,0{m}/02/2020,1" for m in range(1, 7)]
    panel = load_panel(_csv(tmp_path / "p.csv", lines))
    assert panel.series["B"].index[0] == pd.Timestamp("2020-02-01")
    assert panel.series["A"].index[-1] == pd.Timestamp("2020-01-18")


# -- ids through tune → save → load → predict ------------------------------------------------

STUDY = """
[data]
task = "panel"
source = "ids.csv"
[model]
horizon = 2
model = "local"
units = 2
timesteps = 2
[training]
epochs = 2
batch_size = 8
[search]
strategy = "random"
trials = 1
repeats = 1
batch = 1
final_repeats = 1
[space]
learning_rate = { float = [0.005, 0.05], log = true }
"""
IDS = ["001", "1", "1.0", "A"]


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    from lstmtune.cli import main

    root = tmp_path_factory.mktemp("ids")
    rng = np.random.default_rng(0)
    n = 16
    frame = pd.concat(pd.DataFrame({"unique_id": sid, "ds": pd.date_range(
        "2015-01-01", periods=n, freq="MS").strftime("%Y-%m-%d"),
        "y": 10 + k + np.arange(n) * 0.5 + rng.normal(0, 0.1, n)}) for k, sid in enumerate(IDS))
    frame.to_csv(root / "ids.csv", index=False)
    (root / "ids.toml").write_text(STUDY)
    code = main(["tune", str(root / "ids.toml"), "--out", str(root / "out"), "--json"])
    return root, code


def test_ids_survive_tune_save_load_predict(tuned, capsys):
    from lstmtune.cli import main
    from lstmtune.model import load_model

    root, code = tuned
    assert code == 0
    model_dir = root / "out" / "ids" / "model"
    assert json.loads((model_dir / "model.json").read_text())["ids"] == IDS
    assert load_model(model_dir).ids == IDS
    capsys.readouterr()
    assert main(["predict", str(model_dir), str(root / "ids.csv"), "--csv"]) == 0
    csv = capsys.readouterr().out
    rows = pd.read_csv(pd.io.common.StringIO(csv), dtype={"unique_id": str})
    assert list(dict.fromkeys(rows["unique_id"])) == IDS
    assert main(["predict", str(model_dir), str(root / "ids.csv"), "--series", "1.0,001",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(dict.fromkeys(r["unique_id"] for r in out["forecast"])) == ["1.0", "001"]
