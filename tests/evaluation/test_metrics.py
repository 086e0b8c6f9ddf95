"""Tests for lstmtune.evaluation._metrics with hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
)

from lstmtune.errors import ConfigError, DataError
from lstmtune.evaluation._metrics import (
    METRICS,
    compute_metrics,
    get_metric,
    mae,
    mape,
    mase,
    rmse,
    smape,
)

Y = [1.0, 2.0, 3.0]
P = [2.0, 2.0, 5.0]
Y_TRAIN = [1.0, 3.0, 2.0, 6.0]  # |diffs| lag 1: 2, 1, 4 -> 7/3; lag 2: 1, 3 -> 2


def test_hand_computed_values() -> None:
    assert rmse(Y, P) == pytest.approx(math.sqrt(5 / 3))
    assert mae(Y, P) == pytest.approx(1.0)
    assert mape(Y, P) == pytest.approx(100 * (1 + 0 + 2 / 3) / 3)
    assert smape(Y, P) == pytest.approx(200 / 3 * (1 / 3 + 0 + 2 / 8))


def test_mase_scale_by_hand() -> None:
    assert mase(Y, P, y_train=Y_TRAIN) == pytest.approx(1 / (7 / 3))
    assert mase(Y, P, y_train=Y_TRAIN, season=2) == pytest.approx(1 / 2)


def test_any_shape() -> None:
    t = np.array([[1.0, 2.0], [3.0, 4.0]])
    p = np.array([[1.0, 4.0], [3.0, 2.0]])
    assert rmse(t, p) == pytest.approx(math.sqrt(2.0))
    assert mae(t, p) == pytest.approx(1.0)


def test_nan_target_skipped_with_its_prediction() -> None:
    assert rmse([1.0, np.nan, 3.0], [2.0, 100.0, 5.0]) == pytest.approx(math.sqrt(5 / 2))
    assert mape([1.0, np.nan, 3.0], [2.0, np.nan, 5.0]) == pytest.approx(100 * (1 + 2 / 3) / 2)


def test_nan_prediction_is_not_skipped() -> None:
    assert math.isnan(rmse([1.0, 2.0], [1.0, np.nan]))
    assert math.isnan(smape([1.0, 2.0], [1.0, np.nan]))


def test_nothing_to_score() -> None:
    with pytest.raises(DataError, match="all 2 values of y_true are NaN"):
        mae([np.nan, np.nan], [1.0, 2.0])
    with pytest.raises(DataError, match="No targets"):
        rmse([], [])


def test_shape_mismatch() -> None:
    with pytest.raises(DataError, match=r"y_true \(3,\) and y_pred \(2,\)"):
        rmse([1.0, 2.0, 3.0], [1.0, 2.0])


def test_mape_zero_target_raises_with_count() -> None:
    with pytest.raises(DataError, match="1 zero value"):
        mape([0.0, 1.0, 2.0], [1.0, 1.0, 2.0])


def test_smape_zero_over_zero_counts_as_zero() -> None:
    assert smape([0.0, 1.0], [0.0, 3.0]) == pytest.approx(200 / 2 * (0 + 2 / 4))
    assert smape([0.0], [0.0]) == 0.0


def test_mase_errors() -> None:
    with pytest.raises(DataError, match="more than season=2 training points"):
        mase(Y, P, y_train=[1.0, 2.0], season=2)
    with pytest.raises(DataError, match="seasonal-naive error 0"):
        mase(Y, P, y_train=[5.0, 5.0, 5.0])
    with pytest.raises(ConfigError, match="season"):
        mase(Y, P, y_train=Y_TRAIN, season=0)
    with pytest.raises(DataError, match="1-D"):
        mase(Y, P, y_train=[[1.0, 2.0]])


def test_registry_and_lookup() -> None:
    assert list(METRICS) == ["rmse", "mae", "mape", "smape", "mase"]
    assert get_metric("rmse") is rmse
    assert get_metric(" MASE ") is mase


def test_get_metric_suggests_closest() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'rmse'") as err:
        get_metric("rmsee")
    assert "mae, mape, mase, rmse, smape" in str(err.value)
    with pytest.raises(ConfigError, match="Use one of: mae, mape, mase, rmse, smape"):
        get_metric("xyzzy")


def test_compute_metrics() -> None:
    out = compute_metrics(Y, P, y_train=Y_TRAIN)
    assert list(out) == ["rmse", "mae", "mape", "smape", "mase"]
    assert out["mae"] == pytest.approx(1.0)
    assert out["mase"] == pytest.approx(3 / 7)
    assert all(isinstance(v, float) for v in out.values())


def test_compute_metrics_mape_nan_on_zero_target() -> None:
    out = compute_metrics([0.0, 2.0], [1.0, 2.0], y_train=Y_TRAIN)
    assert math.isnan(out["mape"])
    assert out["mae"] == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(5))
def test_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = rng.uniform(1.0, 100.0, size=37)
    p = t + rng.normal(0.0, 10.0, size=37)
    assert rmse(t, p) == pytest.approx(math.sqrt(mean_squared_error(t, p)))
    assert mae(t, p) == pytest.approx(mean_absolute_error(t, p))
    assert mape(t, p) == pytest.approx(100 * mean_absolute_percentage_error(t, p))
