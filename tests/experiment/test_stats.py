from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from lstmtune.experiment import compare, describe


def test_describe_equals_pandas_and_skips_failed_members():
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, np.nan])
    d = describe(x)
    ref = pd.Series([3.0, 1.0, 4.0, 1.0, 5.0]).describe()
    assert d["count"] == 5
    for k in ("mean", "std", "min", "25%", "50%", "75%", "max"):
        assert d[k] == ref[k]


def test_compare_against_scipy_and_a_hand_bootstrap():
    rng = np.random.default_rng(1)
    a, b = rng.normal(100, 10, 30), rng.normal(110, 10, 30)
    c = compare(a, b, n_boot=4000, seed=7)
    assert c["diff_mean"] == b.mean() - a.mean()
    assert c["p_mannwhitney"] == stats.mannwhitneyu(b, a, alternative="two-sided").pvalue
    assert c["p_welch"] == stats.ttest_ind(b, a, equal_var=False).pvalue
    # the interval contains the observed difference and has the width of ~1.96 standard errors
    se = np.sqrt(a.var(ddof=1) / 30 + b.var(ddof=1) / 30)
    assert c["ci_low"] < c["diff_mean"] < c["ci_high"]
    assert abs((c["ci_high"] - c["ci_low"]) / (2 * 1.96 * se) - 1) < 0.15


def test_compare_with_too_few_scores_is_undefined_not_an_error():
    c = compare(np.array([1.0]), np.array([2.0, np.nan]))
    assert np.isnan(c["ci_low"]) and np.isnan(c["p_welch"])
