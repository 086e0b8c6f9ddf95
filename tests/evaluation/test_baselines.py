"""Tests for lstmtune.evaluation._baselines."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from lstmtune.errors import ConfigError, DataError, SplitError
from lstmtune.evaluation._baselines import (
    BASELINES,
    drift,
    evaluate_baselines,
    mean_forecast,
    persistence,
    seasonal_naive,
    walk_forward_forecasts,
)

# Shampoo Sales, 36 months (copied from /work/shared/reference/shampoo-sales.csv, "Sales").
SHAMPOO = [
    266.0, 145.9, 183.1, 119.3, 180.3, 168.5, 231.8, 224.5, 192.8, 122.9, 336.5, 185.9,
    194.3, 149.5, 210.1, 273.3, 191.4, 287.0, 226.0, 303.6, 289.9, 421.6, 264.5, 342.3,
    339.7, 440.4, 315.9, 439.3, 401.3, 437.4, 575.5, 407.6, 682.0, 475.3, 581.3, 646.9,
]  # fmt: skip


# --- kernels ---------------------------------------------------------------------------------


def test_kernels_by_hand() -> None:
    assert persistence([1.0, 2.0, 3.0], 2).tolist() == [3.0, 3.0]
    assert seasonal_naive([1.0, 2.0, 3.0, 4.0, 5.0], 5, 3).tolist() == [3, 4, 5, 3, 4]
    assert seasonal_naive([1.0, 2.0], 3, 1).tolist() == [2.0, 2.0, 2.0]
    assert mean_forecast([1.0, 2.0, 3.0, 6.0], 2).tolist() == [3.0, 3.0]
    assert drift([1.0, 2.0, 4.0], 3).tolist() == [5.5, 7.0, 8.5]
    assert drift([7.0], 2).tolist() == [7.0, 7.0]


def test_seasonal_naive_history_too_short() -> None:
    with pytest.raises(SplitError, match="History of 5 points is too short for season=12"):
        seasonal_naive([1.0, 2.0, 3.0, 4.0, 5.0], 1, 12)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: persistence([1.0], 0), "h"),
        (lambda: seasonal_naive([1.0], 1, 0), "season"),
        (lambda: drift([1.0], True), "h"),
    ],
)
def test_kernel_validation(call: object, name: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name} must be"):
        call()  # type: ignore[operator]


def test_kernel_rejects_empty_history() -> None:
    with pytest.raises(DataError, match="history"):
        persistence([], 1)


def test_registry_names() -> None:
    assert list(BASELINES) == ["persistence", "seasonal_naive", "mean", "drift"]


# --- walk-forward table ----------------------------------------------------------------------


def test_horizon_two_table_rows_by_hand() -> None:
    table = walk_forward_forecasts([10.0, 11, 12, 13, 14, 15, 16, 17], test_size=3, horizon=2)
    assert list(table.columns) == [
        "origin", "step", "target_index", "y", "persistence", "seasonal_naive", "mean", "drift",
    ]  # fmt: skip
    rows = list(zip(table["origin"], table["step"], table["target_index"], strict=True))
    assert rows == [(4, 1, 5), (4, 2, 6), (5, 1, 6), (5, 2, 7), (6, 1, 7)]
    assert table["y"].tolist() == [15.0, 16.0, 16.0, 17.0, 17.0]
    assert table["persistence"].tolist() == [14.0, 14.0, 15.0, 15.0, 16.0]
    assert table["mean"].tolist() == [12.0, 12.0, 12.5, 12.5, 13.0]
    assert table["drift"].tolist() == [15.0, 16.0, 16.0, 17.0, 17.0]


def test_seasonal_naive_on_shampoo_matches_loop() -> None:
    table = walk_forward_forecasts(SHAMPOO, test_size=12, horizon=1, season=12)
    expected = []
    for t in range(23, 35):  # origins; target t + 1
        expected.append(SHAMPOO[t - 11])
    assert table["target_index"].tolist() == list(range(24, 36))
    assert table["seasonal_naive"].tolist() == expected


def test_no_look_ahead() -> None:
    y = np.array(SHAMPOO)
    base = walk_forward_forecasts(y, test_size=12, horizon=3, season=4)
    j = 30
    changed = y.copy()
    changed[j] += 1000.0
    other = walk_forward_forecasts(changed, test_size=12, horizon=3, season=4)
    past = base["origin"] < j
    cols = list(BASELINES)
    assert base.loc[past, cols].equals(other.loc[past, cols])
    assert not base.loc[~past, cols].equals(other.loc[~past, cols])


# --- evaluate_baselines ----------------------------------------------------------------------


def test_shampoo_persistence_rmse_matches_seed() -> None:
    scores = evaluate_baselines(SHAMPOO, test_size=12)
    assert round(scores["persistence"]["rmse"], 3) == 136.761


def test_evaluate_baselines_by_hand() -> None:
    y = np.array(SHAMPOO)
    scores = evaluate_baselines(y, test_size=12)
    assert set(scores) == set(BASELINES)
    err = y[24:] - y[23:35]
    assert scores["persistence"]["mae"] == pytest.approx(np.mean(np.abs(err)))
    scale = np.mean(np.abs(np.diff(y[:24])))
    assert scores["persistence"]["mase"] == pytest.approx(np.mean(np.abs(err)) / scale)
    # seasonal naive with season=1 is persistence
    assert scores["seasonal_naive"] == scores["persistence"]


def test_evaluate_baselines_accepts_fraction() -> None:
    assert evaluate_baselines(SHAMPOO, test_size=1 / 3) == evaluate_baselines(SHAMPOO, test_size=12)


def test_season_too_long_for_history() -> None:
    msg = (
        "Series of 10 points is too short for season=6 with test_size=5: the first forecast "
        "origin sees only 5 points, need at least 6. Use season <= 5 or test_size <= 4."
    )
    with pytest.raises(SplitError, match=f"^{re.escape(msg)}$"):
        walk_forward_forecasts(np.arange(10.0), test_size=5, season=6)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"test_size": 0}, SplitError, "test_size must be between 1 and n-2=8"),
        ({"test_size": 9}, SplitError, "got test_size=9"),
        ({"test_size": -1}, ConfigError, "test_size"),
        ({"test_size": 2, "horizon": 0}, ConfigError, "horizon"),
        ({"test_size": 2, "season": 0}, ConfigError, "season"),
    ],
)
def test_evaluate_baselines_validation(
    kwargs: dict[str, int], error: type[Exception], pattern: str
) -> None:
    with pytest.raises(error, match=pattern):
        evaluate_baselines(np.arange(10.0), **kwargs)


def test_bad_series() -> None:
    with pytest.raises(DataError, match="1 NaN/inf"):
        evaluate_baselines([1.0, math.inf, 3.0, 4.0], test_size=1)
    with pytest.raises(DataError, match="4 NaN/inf"):
        evaluate_baselines([math.nan] * 4, test_size=1)
    with pytest.raises(DataError, match="1-D"):
        evaluate_baselines(np.zeros((4, 2)), test_size=1)


@pytest.mark.parametrize("freq,season", [
    ("MS", 12), ("ME", 12), ("2MS", 6), ("QS", 4), ("QS-JAN", 4), ("W-SUN", 52), ("D", 7),
    ("B", 5), ("h", 24), ("3h", 8), ("5h", 1), ("min", 60), ("SMS", 24), ("YS", 1),
    (None, 1), ("nonsense", 1)])
def test_the_season_comes_from_the_frequency(freq, season) -> None:
    from lstmtune.data import season_length

    assert season_length(freq) == season


def test_a_series_carries_its_season_and_the_user_may_set_it() -> None:
    from lstmtune.data import load
    from lstmtune.errors import ConfigError

    assert load("shampoo").season == 12  # monthly
    assert load("shampoo", season=4).season == 4
    assert load("shampoo").head(10).season == 12
    with pytest.raises(ConfigError, match="season=0 must be a whole number from 1"):
        load("shampoo", season=0)


def test_fitting_season_falls_back_to_one_only_when_a_season_does_not_fit() -> None:
    from lstmtune.evaluation import fitting_season

    assert fitting_season(12, 24) == 12
    assert fitting_season(12, 13) == 12
    assert fitting_season(12, 12) == 1  # MASE needs one difference at lag 12
    assert fitting_season(1, 5) == 1


def test_gaps_carry_the_last_observation_and_missing_targets_are_not_scored() -> None:
    # y[2] missing: origin 2's history ends 1, 2, 2 -> persistence 2 for y[3] = 4
    table = walk_forward_forecasts([1.0, 2.0, np.nan, 4.0, 5.0, 6.0], test_size=3)
    assert table["persistence"].tolist() == [2.0, 4.0, 5.0]
    scores = evaluate_baselines([1.0, 2.0, np.nan, 4.0, 5.0, 6.0], test_size=3)
    assert scores["persistence"]["rmse"] == pytest.approx(np.sqrt((4 + 1 + 1) / 3))
    # y[3] missing is a target: not scored (errors 2 and 1 only)
    scores = evaluate_baselines([1.0, 2.0, 3.0, np.nan, 5.0, 6.0], test_size=3)
    assert scores["persistence"]["rmse"] == pytest.approx(np.sqrt((4 + 1) / 2))
    with pytest.raises(DataError, match="NaN for a gap"):
        evaluate_baselines([1.0, np.inf, 3.0, 4.0], test_size=1)
