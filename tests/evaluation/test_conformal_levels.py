"""Split-conformal quantiles: the finite-sample rank by hand, and a level with too few
residuals for its rank is not produced (never an unbounded interval), with the number it
needs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstmtune.evaluation import conformal


def test_the_quantile_is_the_hand_computed_order_statistic():
    res = np.array([[0.5, 2.0],
                    [0.1, np.nan],  # step 2 has 4 finite residuals
                    [0.4, 1.0],
                    [0.2, 4.0],
                    [0.3, 3.0]])
    q, missing = conformal(res, levels=(0.5, 0.8, 0.95))
    # step 1, n = 5: 50 % → rank ceil(6 · 0.5) = 3 → 0.3; 80 % → ceil(4.8) = 5 → 0.5
    # step 2, n = 4: 50 % → rank ceil(2.5) = 3 → 3.0; 80 % → ceil(4.0) = 4 → 4.0
    np.testing.assert_array_equal(q[0.5], [0.3, 3.0])
    np.testing.assert_array_equal(q[0.8], [0.5, 4.0])
    # 95 %: rank ceil(5 · 0.95) = 5 > 4 on step 2 (and 6 > 5 on step 1): not produced
    assert set(q) == {0.5, 0.8}
    assert missing == {0.95: (4, 19)}


@pytest.mark.parametrize(("level", "needed"), [(0.8, 4), (0.9, 9), (0.95, 19), (0.99, 99),
                                               (0.5, 1), (0.75, 3)])
def test_a_level_appears_at_exactly_the_count_its_rank_needs(level, needed):
    """``needed`` by hand: the smallest n with ceil((n + 1) · level) <= n, i.e. n >= level /
    (1 - level) (4 for 80 %, not the 5 that ``ceil(0.8 / 0.2)`` gives in floating point)."""
    few = np.arange(1.0, needed)[:, None]  # needed - 1 residuals
    q, missing = conformal(few, levels=(level,))
    assert q == {} and missing == {level: (needed - 1, needed)}
    enough = np.arange(1.0, needed + 1)[:, None]  # 1, 2, …, needed: the rank is the last
    q, missing = conformal(enough, levels=(level,))
    assert missing == {} and q[level].tolist() == [float(needed)]


def test_no_level_is_ever_unbounded():
    rng = np.random.default_rng(0)
    for n in range(0, 45):
        q, missing = conformal(rng.exponential(size=(n, 3)), levels=(0.8, 0.95))
        assert all(np.isfinite(v).all() and (v >= 0).all() for v in q.values())
        assert set(q) | set(missing) == {0.8, 0.95} and not set(q) & set(missing)
        assert (0.95 in q) == (n >= 19) and (0.8 in q) == (n >= 4)
        assert all(m == (n, {0.8: 4, 0.95: 19}[lv]) for lv, m in missing.items())


def test_the_wider_level_is_never_narrower():
    res = np.random.default_rng(1).exponential(size=(40, 5))
    q, _ = conformal(res, levels=(0.8, 0.95))
    assert (q[0.8] <= q[0.95]).all()
    # by hand: n = 40, ranks ceil(41 · 0.8) = 33 and ceil(41 · 0.95) = 39
    np.testing.assert_array_equal(q[0.8], np.sort(res, axis=0)[32])
    np.testing.assert_array_equal(q[0.95], np.sort(res, axis=0)[38])


def test_a_level_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="in \\(0, 1\\)"):
        conformal(np.ones((5, 1)), levels=(1.0,))
    assert math.isfinite(conformal(np.ones((5, 1)), levels=(0.8,))[0][0.8][0])
