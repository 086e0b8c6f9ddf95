"""A single series' classical baselines on the test window: refitted at every origin while
that is cheap, else fitted once on the training part and forecasting from every origin with
the actuals up to it (as the LSTM, trained once, does).  Checked at the first origin against
a fit on the training part, at every origin against a refit, and, without refits, against
SES's recursion written by hand with the fitted parameters."""

from __future__ import annotations

import numpy as np
import pytest

from lstmtune.evaluation import classical_forecasts, classical_walk_forward


def _series(n: int = 40) -> np.ndarray:
    rng = np.random.default_rng(3)
    return 50 + np.cumsum(rng.normal(0, 1, n))  # no season: SES on the raw values


def test_the_first_origin_is_the_training_parts_own_fit():
    y = _series()
    table = classical_walk_forward(y, test_size=8, horizon=3)
    first = table[table["origin"] == 40 - 8 - 1].sort_values("step")
    fc, failed = classical_forecasts(y[:32], 3, 1)
    assert failed == []
    for k in ("ses", "theta", "ets"):
        np.testing.assert_allclose(first[k], fc[k], rtol=1e-6)


def test_ses_runs_its_level_over_the_actuals_with_the_fitted_parameters():
    from statsmodels.tsa.holtwinters import SimpleExpSmoothing

    y = _series()
    fit = SimpleExpSmoothing(y[:32], initialization_method="estimated").fit()
    alpha, level = fit.params["smoothing_level"], fit.params["initial_level"]
    expected = []
    for t in range(32):  # by hand: l_t = a y_t + (1 - a) l_{t-1}
        level = alpha * y[t] + (1 - alpha) * level
    for origin in range(31, 39):  # each origin's one-step forecast is the level there
        if origin > 31:
            level = alpha * y[origin] + (1 - alpha) * level
        expected.append(level)
    table = classical_walk_forward(y, test_size=8, horizon=1, refit_work=0)
    np.testing.assert_allclose(table["ses"], expected, rtol=1e-6)
    assert table.attrs["fallbacks"] == {"ses": 0, "theta": 0, "ets": 0}
    assert table.attrs["refit"] is False


def test_the_default_refits_small_series_and_not_long_seasonal_ones():
    from lstmtune.evaluation._panel import REFIT_WORK

    assert 12 * 144 * 12 <= REFIT_WORK < 52 * 2284 * 52  # air passengers; co2 (weekly)
    assert classical_walk_forward(_series(), test_size=4).attrs["refit"] is True


def test_within_the_budget_every_origin_is_refitted():
    y = _series()
    table = classical_walk_forward(y, test_size=4, horizon=2, refit_work=10**9)
    assert table.attrs["refit"] is True
    for origin in range(35, 39):
        fc, _ = classical_forecasts(y[: origin + 1], 2, 1)  # by hand: a fit at each origin
        rows = table[table["origin"] == origin].sort_values("step")
        for k in ("ses", "theta", "ets"):
            np.testing.assert_allclose(rows[k], fc[k][: len(rows)], rtol=1e-6)


def test_a_method_that_cannot_fit_is_replaced_by_naive2_and_counted():
    y = np.r_[np.full(20, 5.0), 5.0 + np.arange(6)]  # a constant training part
    table = classical_walk_forward(y, test_size=6, horizon=1)
    assert np.isfinite(table[["ses", "theta", "ets"]].to_numpy()).all()
    assert set(table.attrs["fallbacks"]) == {"ses", "theta", "ets"}
    assert all(isinstance(v, int) and v >= 0 for v in table.attrs["fallbacks"].values())


@pytest.mark.parametrize("step", [1, 3])
def test_origins_and_steps_are_those_of_the_naive_baselines(step):
    from lstmtune.evaluation import walk_forward_forecasts

    y = _series()
    mine = classical_walk_forward(y, test_size=9, horizon=3, origin_step=step)
    theirs = walk_forward_forecasts(y, test_size=9, horizon=3, origin_step=step)
    assert mine[["origin", "step", "target_index"]].values.tolist() == \
        theirs[["origin", "step", "target_index"]].values.tolist()
