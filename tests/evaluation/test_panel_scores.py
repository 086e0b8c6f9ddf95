"""A panel's scores, comparisons and intervals against hand-computed values on a toy panel,
and the classical methods against their definitions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import wilcoxon

from lstmtune.evaluation import (
    classical_forecasts,
    conformal,
    mase_scale,
    naive2,
    owa_value,
    paired,
    panel_scores,
)

# two series of a toy panel: training parts, the test windows (h = 2), two methods' forecasts
TRAIN = {"a": np.array([10.0, 12, 11, 13]), "b": np.array([100.0, 90, 110, 100])}
ACTUAL = {"a": np.array([12.0, 14]), "b": np.array([100.0, 120])}
FC = {"lstm": {"a": np.array([11.0, 14]), "b": np.array([110.0, 110])},
      "naive2": {"a": np.array([13.0, 13]), "b": np.array([100.0, 100])}}


def test_smape_mase_owa_of_a_toy_panel_by_hand():
    scales = {k: mase_scale(v, 1) for k, v in TRAIN.items()}
    assert scales == {"a": pytest.approx((2 + 1 + 2) / 3), "b": pytest.approx(40 / 3)}
    out = panel_scores(ACTUAL, FC, scales)
    # sMAPE = mean over the steps of 200 |f - y| / (|f| + |y|)
    s_lstm = [(200 * 1 / 23 + 0) / 2, (200 * 10 / 210 + 200 * 10 / 230) / 2]
    s_n2 = [(200 * 1 / 25 + 200 * 1 / 27) / 2, (0 + 200 * 20 / 220) / 2]
    m_lstm = [0.5 / (5 / 3), 10 / (40 / 3)]
    m_n2 = [1.0 / (5 / 3), 10 / (40 / 3)]
    per = out["per_series"]
    np.testing.assert_allclose(per["lstm"]["smape"], s_lstm)
    np.testing.assert_allclose(per["naive2"]["smape"], s_n2)
    np.testing.assert_allclose(per["lstm"]["mase"], m_lstm)
    np.testing.assert_allclose(per["lstm"]["owa"], [0.5 * (s_lstm[k] / s_n2[k]
                                                           + m_lstm[k] / m_n2[k])
                                                    for k in range(2)])
    t = out["table"]["lstm"]
    assert t["smape"] == pytest.approx(np.mean(s_lstm))
    # the M4's OWA: ratios of the panel's means, not the mean of the ratios
    assert t["owa"] == pytest.approx(0.5 * (np.mean(s_lstm) / np.mean(s_n2)
                                            + np.mean(m_lstm) / np.mean(m_n2)))
    assert out["table"]["naive2"]["owa"] == pytest.approx(1.0)


def test_owa_of_one_forecast_uses_naive2_from_the_training_part():
    y = np.array([10.0, 12, 11, 13, 12, 14])
    t, p = np.array([15.0, 13]), np.array([14.0, 14])
    n2 = naive2(y, 2, 1)  # not seasonal (m = 1): the last value
    assert n2.tolist() == [14.0, 14.0]
    assert owa_value(t, p, y_train=y) == pytest.approx(1.0)
    p2 = np.array([15.0, 13.5])
    s = np.mean(200 * np.abs(p2 - t) / (np.abs(p2) + np.abs(t)))
    s2 = np.mean(200 * np.abs(n2 - t) / (np.abs(n2) + np.abs(t)))
    assert owa_value(t, p2, y_train=y) == pytest.approx(0.5 * (s / s2 + 0.25 / 1.0))


def test_paired_comparison_by_hand():
    a = np.array([1.0, 2, 3, 4, 10])
    b = np.array([2.0, 2, 5, 3, 12])
    r = paired(a, b, n_boot=4000, seed=1)
    d = a - b
    assert r["mean_diff"] == pytest.approx(d.mean())
    assert r["win_rate"] == pytest.approx((3 + 0.5) / 5)  # wins 1, 3, 5; a tie counts half
    assert r["p_value"] == pytest.approx(wilcoxon(d).pvalue)
    assert r["ci_low"] <= d.mean() <= r["ci_high"]
    assert r["n"] == 5


def test_conformal_quantile_is_the_finite_sample_one():
    res = np.arange(1, 11, dtype=float)[:, None] * np.array([[1.0, 2.0]])  # n = 10, H = 2
    q, missing = conformal(res, levels=(0.8, 0.95))
    # ceil(11 · 0.8) = 9 → the 9th smallest; ceil(11 · 0.95) = 11 > 10 → not produced, and
    # ceil(20 · 0.95) = 19 <= 19 is the fewest residuals that give it
    np.testing.assert_allclose(q[0.8], [9.0, 18.0])
    assert 0.95 not in q and missing == {0.95: (10, 19)}


def test_classical_methods_follow_their_definitions():
    t = np.arange(48)
    y = (100 + t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12))
    f, fallbacks = classical_forecasts(y, 6, 12)
    assert fallbacks == []
    np.testing.assert_array_equal(f["naive"], np.full(6, y[-1]))
    np.testing.assert_array_equal(f["snaive"], y[-12:-6])
    np.testing.assert_allclose(f["naive2"], naive2(y, 6, 12))
    for name in ("ses", "theta", "ets"):  # a clean seasonal series: close to the truth
        truth = (100 + np.arange(48, 54)) * (1 + 0.3 * np.sin(2 * np.pi * np.arange(48, 54)
                                                              / 12))
        assert np.mean(np.abs(f[name] - truth) / truth) < 0.1, name
