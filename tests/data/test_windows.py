from __future__ import annotations

import numpy as np
import pytest

from lstmtune.data import frame_supervised, make_windows, trim_to_multiple
from lstmtune.errors import ConfigError, SplitError


def test_windows_against_hand_written_samples():
    z = np.array([np.nan, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    w = make_windows(z, lags=2, horizon=2)
    # origin t needs z[t-1], z[t] finite and z[t+1], z[t+2] inside: t = 2, 3, 4
    np.testing.assert_array_equal(w.origin, [2, 3, 4])
    np.testing.assert_array_equal(w.X[:, :, 0], [[1, 2], [2, 3], [3, 4]])
    np.testing.assert_array_equal(w.y, [[3, 4], [4, 5], [5, 6]])


def test_exogenous_features_are_read_at_input_steps_only():
    z = np.arange(6.0)
    exog = np.arange(6.0)[:, None] * 10
    w = make_windows(z, lags=2, horizon=1, exog=exog)
    np.testing.assert_array_equal(w.X[0], [[0, 0], [1, 10]])
    np.testing.assert_array_equal(w.y[:, 0], [2, 3, 4, 5])


def test_scored_window_masks_targets_past_its_end():
    z = np.arange(10.0)
    w = make_windows(z, lags=1, horizon=3, origins=np.array([5, 6, 7]), target_end=8)
    np.testing.assert_array_equal(w.y, [[6, 7, np.nan], [7, np.nan, np.nan],
                                        [np.nan, np.nan, np.nan]])


def test_frame_supervised_column_order_and_dropped_rows():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(frame_supervised(v, 2), [[2, 1, 3], [3, 2, 4]])


def test_trim_to_multiple():
    assert trim_to_multiple(22, 4) == 2
    assert trim_to_multiple(20, 4) == 0
    assert trim_to_multiple(22, 1) == 0
    with pytest.raises(SplitError, match="batch_size=30"):
        trim_to_multiple(22, 30)


def test_errors():
    with pytest.raises(ConfigError, match="lags=0"):
        make_windows(np.arange(5.0), lags=0)
    with pytest.raises(SplitError, match="need at least 6 points"):
        make_windows(np.arange(5.0), lags=3, horizon=3)
