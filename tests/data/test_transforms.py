"""Tests of lstmtune.data._transforms against independently computed numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.preprocessing import MinMaxScaler

from lstmtune.data._transforms import (
    Chain,
    Difference,
    Hampel,
    Interpolate,
    Log,
    MinMaxScale,
    RobustScale,
    StandardScale,
)
from lstmtune.errors import ConfigError, DataError

nan = np.nan
SCALERS = [MinMaxScale, StandardScale, RobustScale]


def series(min_len: int = 30, max_len: int = 80, cols: int | None = None) -> st.SearchStrategy:
    """Distinct finite floats in 1..1e4 (so no training prefix is constant)."""
    shape = st.integers(min_len, max_len).map(lambda n: (n,) if cols is None else (n, cols))
    return arrays(np.float64, shape, elements=st.floats(1.0, 1e4), unique=True)


def assert_round_trip(x: np.ndarray, back: np.ndarray, skip: int = 0) -> None:
    scale = float(np.max(np.abs(x)))
    np.testing.assert_allclose(back[skip:], x[skip:], rtol=1e-9, atol=1e-9 * scale)


def one_line(err: pytest.ExceptionInfo[BaseException], *needles: str) -> None:
    msg = str(err.value)
    assert "\n" not in msg
    for needle in needles:
        assert needle in msg, (needle, msg)


# --------------------------------------------------------------------------- round trips


@settings(max_examples=40, deadline=None)
@given(x=series(), lag=st.integers(1, 5), order=st.integers(1, 3))
def test_difference_round_trip(x: np.ndarray, lag: int, order: int) -> None:
    d = Difference(lag=lag, order=order).fit(x[: 2 * len(x) // 3])
    z = d.transform(x)
    assert len(z) == len(x) and np.isnan(z[: lag * order]).all()
    assert np.isfinite(z[lag * order :]).all()
    assert_round_trip(x, d.inverse(z, context=x), skip=lag * order)


@settings(max_examples=40, deadline=None)
@given(x=series(cols=2), which=st.sampled_from([Log, *SCALERS]))
def test_pointwise_round_trip(x: np.ndarray, which: type) -> None:
    t = which().fit(x[: 2 * len(x) // 3])
    assert_round_trip(x, t.inverse(t.transform(x), context=x))
    assert_round_trip(x[:, 0], t.inverse(t.transform(x))[:, 0])


@settings(max_examples=40, deadline=None)
@given(
    x=series(30, 90),
    log=st.booleans(),
    lags=st.lists(st.sampled_from([1, 2, 12]), max_size=2),
    scaler=st.sampled_from([None, *SCALERS]),
)
def test_chain_round_trip(x: np.ndarray, log: bool, lags: list[int], scaler: type | None) -> None:
    steps = [Log()] if log else []
    steps += [Difference(lag=lag) for lag in lags]
    train = x[: 2 * len(x) // 3]
    assume(len(train) > sum(lags) + 2)
    if scaler is not None:  # e.g. linear data differences to a constant: nothing to scale
        pre = Chain(steps).fit(train).transform(train)
        assume(np.nanmax(pre) - np.nanmin(pre) > 1e-6 * np.nanmax(np.abs(pre)))
        steps.append(scaler())
    chain = Chain(steps).fit(train)
    z = chain.transform(x)
    assert len(z) == len(x)
    assert_round_trip(x, chain.inverse(z, context=x), skip=sum(lags))


def test_chain_fits_scaler_on_differenced_training_values() -> None:
    x = np.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0, 30.0])
    chain = Chain([Difference(), MinMaxScale()]).fit(x[:5])
    scaler = chain.steps[1]
    assert scaler.data_min_.tolist() == [1.0] and scaler.data_max_.tolist() == [4.0]
    np.testing.assert_allclose(chain.transform(x)[1:], [-1, -1 / 3, 1 / 3, 1, 5 / 3, 23 / 3])


def test_chain_equals_steps_applied_by_hand() -> None:
    x = np.array([10.0, 12.0, 15.0, 14.0, 18.0, 25.0])
    chain = Chain([Log(), Difference(), StandardScale()]).fit(x[:4])
    d = np.diff(np.log(x))
    mu, sd = d[:3].mean(), d[:3].std()
    np.testing.assert_allclose(chain.transform(x)[1:], (d - mu) / sd)
    # Two-step forecast: predictions in model space for rows 4, 5, with rows 4, 5 unknown.
    zhat = np.array([nan, nan, nan, nan, 0.5, -0.2])
    ctx = np.array([10.0, 12.0, 15.0, 14.0, nan, nan])
    x4 = np.exp(np.log(14.0) + 0.5 * sd + mu)
    x5 = np.exp(np.log(x4) - 0.2 * sd + mu)
    np.testing.assert_allclose(chain.inverse(zhat, context=ctx)[4:], [x4, x5])


# --------------------------------------------------------------------------- Difference by hand


def test_difference_hand_values() -> None:
    x = np.array([1.0, 3.0, 6.0, 10.0])
    np.testing.assert_array_equal(Difference().transform(x), [nan, 2, 3, 4])
    np.testing.assert_array_equal(Difference(order=2).transform(x), [nan, nan, 1, 1])
    np.testing.assert_array_equal(Difference(lag=2).transform(x), [nan, nan, 5, 7])
    x2 = np.column_stack([x, 10 * x])
    np.testing.assert_array_equal(Difference().transform(x2)[1:], [[2, 20], [3, 30], [4, 40]])


def test_difference_inverse_uses_actual_previous_observations() -> None:
    x = np.array([1.0, 3.0, 6.0, 10.0])
    zhat = np.array([nan, 2.5, 2.0, 5.0])  # predictions, not the true differences
    # x_t = z_t + x_{t-1} with the TRUE x_{t-1}: 1+2.5, 3+2, 6+5
    np.testing.assert_allclose(Difference().inverse(zhat, context=x), [nan, 3.5, 5.0, 11.0])
    # order 2: x_t = z_t + 2 x_{t-1} - x_{t-2}; row 3: 2 + 12 - 3 = 11
    z2 = np.array([nan, nan, 1.0, 2.0])
    np.testing.assert_allclose(Difference(order=2).inverse(z2, context=x), [nan, nan, 6, 11])
    # lag 2: x_t = z_t + x_{t-2}
    z3 = np.array([nan, nan, 4.0, 8.0])
    np.testing.assert_allclose(Difference(lag=2).inverse(z3, context=x), [nan, nan, 5, 11])


def test_difference_multi_step_inverse_chains_reconstructed_values() -> None:
    zhat = np.array([nan, nan, nan, 4.5, 6.0])
    unknown = np.array([1.0, 3.0, 6.0, nan, nan])
    # x3 = 4.5 + 6 = 10.5, x4 = 6 + x3_hat = 16.5
    np.testing.assert_allclose(Difference().inverse(zhat, context=unknown)[3:], [10.5, 16.5])
    # with x3 observed, x4 uses the real x3 = 10 instead
    known = np.array([1.0, 3.0, 6.0, 10.0, nan])
    np.testing.assert_allclose(Difference().inverse(zhat, context=known)[3:], [10.5, 16.0])
    # order 2, two steps ahead: x3 = 1 + 2*6 - 3 = 10, x4 = 2 + 2*10 - 6 = 16
    z2 = np.array([nan, nan, nan, 1.0, 2.0])
    np.testing.assert_allclose(Difference(order=2).inverse(z2, context=unknown)[3:], [10, 16])


def test_difference_multi_step_inverse_2d_columns_independent() -> None:
    ctx = np.array([[1.0, 100.0], [3.0, 90.0], [nan, nan], [nan, nan]])
    zhat = np.array([[nan, nan], [nan, nan], [1.0, -5.0], [2.0, -5.0]])
    np.testing.assert_allclose(Difference().inverse(zhat, context=ctx)[2:], [[4, 85], [6, 80]])


def test_chain_without_difference_needs_no_context() -> None:
    x = np.array([1.0, 2.0, 4.0, 8.0])
    chain = Chain([Log(), StandardScale()]).fit(x)
    np.testing.assert_allclose(chain.inverse(chain.transform(x)), x, rtol=1e-12)


def test_difference_inverse_needs_context() -> None:
    with pytest.raises(ConfigError) as err:
        Difference().inverse(np.array([nan, 1.0]))
    one_line(err, "context")
    with pytest.raises(DataError) as err:
        Difference().inverse(np.array([nan, 1.0]), context=np.ones(3))
    one_line(err, "(2, 1)", "(3, 1)")


# --------------------------------------------------------------------------- scalers


def test_minmax_matches_sklearn_and_select() -> None:
    x = np.array([[1.0, 10.0], [4.0, -2.0], [2.5, 7.0], [3.0, 0.5]])
    ours = MinMaxScale().fit(x)
    ref = MinMaxScaler(feature_range=(-1, 1)).fit(x)
    np.testing.assert_allclose(ours.transform(x), ref.transform(x), rtol=1e-15)
    np.testing.assert_allclose(ours.scale_, ref.scale_)
    np.testing.assert_allclose(ours.min_, ref.min_)
    target = ours.select(-1)
    z = ref.transform(x)[:, 1]
    np.testing.assert_allclose(target.inverse(z), x[:, 1], rtol=1e-15)
    np.testing.assert_allclose(
        ours.select([1, 0]).transform(x[:, ::-1]),
        ref.transform(x)[:, ::-1],
    )


def test_standard_and_robust_hand_values() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, nan])
    s = StandardScale().fit(x)
    np.testing.assert_allclose(s.transform([2.5, 5.0]), [0, 2.5 / np.sqrt(1.25)])
    r = RobustScale().fit(x)  # median 2.5, q25 1.75, q75 3.25 -> IQR 1.5
    np.testing.assert_allclose(r.transform([2.5, 4.0, nan]), [0, 1, nan])


def test_scaler_fit_on_train_only() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 9.0, -3.0])
    z = MinMaxScale().fit(x[:5]).transform(x)
    np.testing.assert_allclose(z[:5], [-1, -0.5, 0, 0.5, 1])
    assert z[5] == 3.0 and z[6] == -3.0  # beyond [-1, 1]: the later values were not seen


@pytest.mark.parametrize("cls", SCALERS)
def test_scaler_constant_column(cls: type) -> None:
    x = np.column_stack([np.arange(4.0), np.full(4, 5.0)])
    with pytest.raises(DataError) as err:
        cls().fit(x)
    one_line(err, cls.__name__, "column 1", "constant", "5.0")


@pytest.mark.parametrize("cls", SCALERS)
def test_scaler_transform_before_fit(cls: type) -> None:
    with pytest.raises(ConfigError) as err:
        cls().transform(np.ones(3))
    one_line(err, cls.__name__, "fit")
    with pytest.raises(ConfigError):
        cls().inverse(np.ones(3))


def test_scaler_column_mismatch_and_bad_select() -> None:
    s = StandardScale().fit(np.random.default_rng(0).normal(size=(10, 2)))
    with pytest.raises(DataError) as err:
        s.transform(np.ones((3, 3)))
    one_line(err, "2 column", "got 3")
    with pytest.raises(ConfigError) as err:
        s.select(5)
    one_line(err, "column 5")


# --------------------------------------------------------------------------- Log


def test_log_hand_values_and_offset() -> None:
    np.testing.assert_allclose(Log().transform([1.0, np.e]), [0, 1])
    np.testing.assert_allclose(Log(offset=1.0).transform([0.0, np.e - 1]), [0, 1])
    np.testing.assert_allclose(Log(offset=1.0).inverse([0.0, 1.0]), [0, np.e - 1])


def test_log_non_positive() -> None:
    x = np.array([3.0, 1.0, 0.5, -2.5, 0.0])
    with pytest.raises(DataError) as err:
        Log().fit(x)
    one_line(err, "row 3", "-2.5", "2 values", "offset=3.5")
    with pytest.raises(DataError) as err:
        Log(offset=2.0).transform(x)
    one_line(err, "row 3", "-2.5", "offset=3.5")
    assert np.isnan(Log().transform([1.0, nan])[1])  # gaps are not errors


# --------------------------------------------------------------------------- Interpolate


def test_interpolate_linear_and_edges() -> None:
    np.testing.assert_array_equal(Interpolate().transform([1.0, nan, 3.0]), [1, 2, 3])
    x = np.array([nan, nan, 2.0, nan, nan, 8.0, nan])
    np.testing.assert_allclose(Interpolate().transform(x), [2, 2, 2, 4, 6, 8, 8])
    x2 = np.column_stack([x, [1.0, nan, 3.0, 4.0, 5.0, 6.0, 7.0]])
    np.testing.assert_allclose(Interpolate().transform(x2)[:, 1], [1, 2, 3, 4, 5, 6, 7])


def test_interpolate_causal_forward_fills_only() -> None:
    x = np.array([nan, 1.0, nan, nan, 4.0, nan])
    np.testing.assert_array_equal(Interpolate().transform(x, causal=True), [nan, 1, 1, 1, 4, 4])


def test_interpolate_time_with_irregular_index() -> None:
    idx = pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-05", "2020-01-06"])
    x = np.array([0.0, nan, nan, 5.0])
    # 5 days span: day 2 -> 1.0, day 5 -> 4.0
    np.testing.assert_allclose(Interpolate("time").transform(x, index=idx), [0, 1, 4, 5])
    # no DatetimeIndex: falls back to linear on positions
    np.testing.assert_allclose(Interpolate("time").transform(x), [0, 5 / 3, 10 / 3, 5])


def test_interpolate_spline_recovers_polynomial() -> None:
    x = np.arange(10.0) ** 2
    x[[3, 6]] = nan
    np.testing.assert_allclose(Interpolate("spline", order=2).transform(x), np.arange(10.0) ** 2)


def test_interpolate_errors() -> None:
    with pytest.raises(DataError) as err:
        Interpolate().fit(np.column_stack([np.ones(3), np.full(3, nan)]))
    one_line(err, "column 1", "NaN")
    with pytest.raises(ConfigError) as err:
        Interpolate("cubic")
    one_line(err, "'cubic'", "linear")
    with pytest.raises(DataError) as err:
        Interpolate().transform(np.ones(3), index=pd.RangeIndex(4))
    one_line(err, "4", "3 rows")


# --------------------------------------------------------------------------- Hampel


def test_hampel_replaces_planted_spike_with_window_median() -> None:
    x = np.array([10.0, 11, 10, 12, 11, 10, 11, 100, 11, 10])
    h = Hampel(window=5, threshold=3.0)
    mask = h.outlier_mask(x)
    assert mask.tolist() == [i == 7 for i in range(10)]
    z = h.transform(x)
    assert z[7] == np.median(x[3:8]) == 11.0
    np.testing.assert_array_equal(np.delete(z, 7), np.delete(x, 7))
    np.testing.assert_array_equal(h.inverse(z), z)


def test_hampel_leaves_clean_monotone_data_and_is_causal() -> None:
    x = np.linspace(1.0, 50.0, 40) + 0.1 * np.sin(np.arange(40))
    np.testing.assert_array_equal(Hampel().transform(x), x)
    y = np.array([5.0, 5, 5, 5, 5, 5, 5, 50, 5, 5])
    # a trailing window never uses later rows: rows before the spike are unchanged by it
    np.testing.assert_array_equal(Hampel().transform(y)[:7], y[:7])


# --------------------------------------------------------------------------- constructor errors


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: Hampel(window=0), "0"),
        (lambda: Hampel(threshold=-1.0), "-1.0"),
        (lambda: Difference(lag=0), "lag"),
        (lambda: Difference(order=-2), "-2"),
        (lambda: MinMaxScale(feature_range=(1.0, 1.0)), "(1.0, 1.0)"),
        (lambda: RobustScale(quantile_range=(80.0, 20.0)), "(80.0, 20.0)"),
        (lambda: Interpolate("spline", order=7), "7"),
        (lambda: Log(offset=float("inf")), "inf"),
        (lambda: Chain([Log(), "not a step"]), "str"),
    ],
)
def test_bad_constructor_args(make, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        make()
    one_line(err, needle)


def test_difference_fit_needs_enough_rows() -> None:
    with pytest.raises(DataError) as err:
        Difference(lag=12).fit(np.arange(10.0))
    one_line(err, "12", "10")


# --------------------------------------------------------------------------- serialisation


def _all_steps() -> list:
    return [
        Interpolate("spline", order=2),
        Hampel(window=5, threshold=2.5),
        Log(offset=1.0),
        Difference(lag=2, order=1),
        MinMaxScale(feature_range=(0.0, 1.0)),
        StandardScale(),
        RobustScale(quantile_range=(10.0, 90.0)),
    ]


def test_to_dict_round_trip() -> None:
    rng = np.random.default_rng(1)
    x = np.abs(rng.normal(size=(40, 2))).cumsum(axis=0) + 1.0
    x[5, 0] = nan
    chain = Chain(_all_steps()).fit(x[:30])
    blob = json.dumps(chain.to_dict())
    again = Chain.from_dict(json.loads(blob))
    np.testing.assert_array_equal(again.transform(x), chain.transform(x))
    z = chain.transform(x)
    np.testing.assert_array_equal(again.inverse(z, context=x), chain.inverse(z, context=x))
    for step in chain.steps:  # each step on its own, too
        d = json.loads(json.dumps(step.to_dict()))
        assert type(step).from_dict(d).to_dict() == step.to_dict()


def test_from_dict_rejects_unknown_type() -> None:
    with pytest.raises(DataError) as err:
        Chain.from_dict({"type": "Chain", "steps": [{"type": "BoxCox", "params": {}}]})
    one_line(err, "'BoxCox'", "step 0")
    with pytest.raises(DataError) as err:
        Log.from_dict(Difference().to_dict())
    one_line(err, "'Difference'")


def test_chain_inverse_through_interpolate_keeps_future_unknown() -> None:
    x = np.array([1.0, 2.0, nan, 4.0, 5.0, nan, nan])
    chain = Chain([Interpolate(), Difference()]).fit(x[:5])
    zhat = np.array([nan] * 5 + [1.0, 1.0])
    # the gap at row 2 is filled (3.0); the future rows stay unknown and chain: 6, 7
    np.testing.assert_allclose(chain.inverse(zhat, context=x)[5:], [6.0, 7.0])
