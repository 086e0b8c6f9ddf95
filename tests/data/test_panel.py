"""Panels in the long-table form: every series read and validated, each error naming it."""

import pandas as pd
import pytest

from lstmtune.data import load_panel
from lstmtune.errors import DataError


def _long(rows):
    return pd.DataFrame(rows, columns=["unique_id", "ds", "y"])


MONTHS = pd.date_range("2020-01-01", periods=6, freq="MS").strftime("%Y-%m-%d")


def test_series_of_different_lengths_and_starts():
    rows = [("a", d, float(i)) for i, d in enumerate(MONTHS)] + \
           [("b", d, 10.0 + i) for i, d in enumerate(MONTHS[2:])]
    panel = load_panel(_long(rows))
    assert panel.ids == ["a", "b"] and [len(s) for s in panel] == [6, 4]
    assert panel.freq == "MS" and panel.series["b"].y[0] == 10.0
    assert str(panel.series["b"].index[0].date()) == "2020-03-01"


def test_a_csv_file_with_own_column_names(tmp_path):
    rows = [("s1", d, float(i)) for i, d in enumerate(MONTHS)]
    pd.DataFrame(rows, columns=["shop", "month", "sales"]).to_csv(tmp_path / "p.csv",
                                                                   index=False)
    panel = load_panel(tmp_path / "p.csv", id_col="shop", time_col="month", target="sales")
    assert panel.name == "p" and len(panel.series["s1"]) == 6


@pytest.mark.parametrize("rows, kwargs, match", [
    ([("a", MONTHS[0], 1.0), ("a", MONTHS[0], 2.0), ("a", MONTHS[1], 3.0)], {},
     "series 'a' has 2 rows sharing a time"),
    ([("a", d, 1.0) for d in MONTHS], {"id_col": "item"}, "no id column 'item'"),
    ([("a", d, 1.0) for d in MONTHS] + [("b", d, 1.0) for d in
                                        pd.date_range("2020-01-06", periods=6, freq="W-MON")
                                        .strftime("%Y-%m-%d")], {}, "mixes frequencies"),
    ([("a", d, 1.0) for d in MONTHS] + [("b", MONTHS[0], 1.0), ("b", MONTHS[1], "x")], {},
     "series 'b'"),
])
def test_bad_panels_are_refused_naming_the_series(rows, kwargs, match):
    with pytest.raises(DataError, match=match):
        load_panel(_long(rows), **kwargs)
