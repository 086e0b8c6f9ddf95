"""Every cleaning and feature step is a hyperparameter: one name and meaning in
``experiment --vary/--set``, study files, ``tune``, the model and ``LSTMForecaster``; none of
them lets a value after a forecast origin reach that origin's inputs or anything fitted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import Framing, Preprocessing, load
from lstmtune.errors import ConfigError
from lstmtune.experiment import parse_assignment
from lstmtune.experiment._evaluate import prepare_fold
from lstmtune.experiment._params import PARAMS, build_prep, complete, group_key
from lstmtune.search._space import parse_space


def test_each_option_reaches_the_data_layer_under_its_own_name():
    c = complete({"impute": "time", "outliers": 2.5, "outlier_window": 9, "log": True,
                  "log_offset": 1.5, "difference": 2, "difference_order": 2,
                  "seasonal_lag": 12, "scaler": "robust", "timesteps": 4,
                  "calendar": "month+quarter", "fourier": "12:2+6:1",
                  "indicators": "sma:3+rsi:5+macd+returns:2"})
    assert build_prep(c) == (
        Preprocessing(impute="time", outlier_threshold=2.5, outlier_window=9, log=True,
                      log_offset=1.5, difference=2, difference_order=2, seasonal_lag=12,
                      scaler="robust"),
        Framing(lags=4, horizon=1, calendar=("month", "quarter"),
                fourier=((12.0, 2), (6.0, 1)), indicators=("sma:3", "rsi:5", "macd",
                                                           "returns:2")))
    # the defaults are the old fixed preprocessing: nothing changes for an existing study
    prep, framing = build_prep(complete({}))
    assert prep == Preprocessing(difference=1) and framing == Framing(lags=1)
    # each new option is a data choice: different values never share prepared data
    keys = {group_key(complete({"indicators": v})) for v in ("none", "rsi:14", "rsi:5")}
    assert len(keys) == 3


@pytest.mark.parametrize("text,value", [
    ("calendar=month+dayofweek", "month+dayofweek"),
    ("calendar= none ", "none"),
    ("fourier=12:2+52.18:3", "12:2+52.18:3"),
    ("fourier=12.0:1", "12:1"),
    ("fourier=365.2425:2+1000000:1", "365.2425:2+1000000:1"),  # no rounding, no 1e+06
    ("indicators=rsi+sma:10+returns+macd", "rsi:14+sma:10+returns:1+macd"),  # windows said
    ("impute=spline", "spline"),
    ("outliers=3", 3.0),
    ("difference_order=2", 2),
])
def test_values_are_read_in_one_canonical_form(text, value):
    assert parse_assignment(text, many=False)[1] == (value,)


@pytest.mark.parametrize("text,fragments", [
    ("indicators=rsx:14", ["indicator 'rsx:14' is unknown", "did you mean 'rsi'", "returns:N"]),
    ("indicators=sma:1", ["'sma:1'", "from 2 to 1000"]),
    ("indicators=macd:9", ["macd takes no window"]),
    ("indicators=rsi+rsi", ["listed twice"]),
    ("indicators=rsi+rsi:14", ["listed twice"]),  # the same window, written two ways
    ("fourier=12:1+12:2", ["Fourier period) is listed twice"]),
    ("fourier=1000:101", ["at most 100"]),
    ("calendar=weekday", ["'weekday' is no calendar part", "dayofweek"]),
    ("calendar=month+", ["joined by '+'"]),
    ("fourier=12", ["PERIOD:ORDER", "e.g. 12:2"]),
    ("fourier=1:1", ["1 < period <= 1e9"]),
    ("fourier=12:7", ["order <= period/2"]),
    ("impute=mean", ["expected one of none, linear, time, spline"]),
    ("outliers=-1", ["outliers=-1.0 is out of range", ">= 0.0"]),
    ("outlier_window=2", ["outlier_window=2 is out of range", ">= 3"]),
    ("difference_order=4", ["difference_order=4 is out of range", "<= 3"]),
])
def test_bad_values_name_the_option_the_rule_and_a_fix(text, fragments):
    with pytest.raises(ConfigError) as exc:
        parse_assignment(text, many=False)
    msg = str(exc.value)
    assert "\n" not in msg
    assert "e.g." in msg or "out of range" in msg
    for f in fragments:
        assert f in msg, (f, msg)


def test_a_study_file_switches_a_group_on_and_off_with_lists():
    space = parse_space({"indicators": {"choice": [[], ["rsi:14", "macd"]]},
                         "calendar": ["month"], "units": {"int": [1, 4]}})
    entries = dict(space.entries)
    assert entries["indicators"].values == ("none", "rsi:14+macd")
    assert entries["calendar"].value == "month"
    assert {c["indicators"] for c in space.grid()} == {"none", "rsi:14+macd"}
    with pytest.raises(ConfigError, match=r'indicators = \["rsi:14", "macd"\], or \[\]'):
        parse_space({"indicators": {"choice": [[3]]}, "units": {"int": [1, 4]}})
    with pytest.raises(ConfigError, match='fourier = 12: fourier takes text in quotes, '
                                          'e.g. fourier = "12:2"'):
        parse_space({"fourier": 12, "units": {"int": [1, 4]}})


def test_the_python_api_takes_lists_for_groups():
    from lstmtune.model import LSTMForecaster

    config = LSTMForecaster(indicators=["rsi:14", "macd"], fourier=[]).config()
    assert config["indicators"] == "rsi:14+macd" and config["fourier"] == "none"
    with pytest.raises(ConfigError, match="calendar=3: text is expected"):
        LSTMForecaster(calendar=3).config()


# ---- leakage: nonsense after an origin changes nothing at or before it --------------------

N, SCORED = 60, 12
RNG = np.random.default_rng(0)
LEVEL = 50 + np.arange(N) + 8 * np.sin(np.arange(N) * 2 * np.pi / 12) + RNG.normal(0, 1, N)


def _series(values: np.ndarray):
    idx = pd.date_range("2001-01-01", periods=len(values), freq="MS")
    return load(pd.Series(values, index=idx, name="y"), allow_missing=True)


OPTIONS = {  # each new option alone, on top of the defaults
    "impute linear": {"impute": "linear"},
    "impute time": {"impute": "time"},
    "impute spline": {"impute": "spline"},
    "outliers": {"outliers": 2.0, "outlier_window": 5},
    "log offset": {"log": True, "log_offset": 10.0},
    "difference order 2": {"difference_order": 2},
    "calendar": {"calendar": "month+quarter"},
    "fourier": {"fourier": "12:2"},
    "sma": {"indicators": "sma:4"},
    "ema": {"indicators": "ema:4"},
    "rsi": {"indicators": "rsi:5"},
    "macd": {"indicators": "macd"},
    "returns": {"indicators": "returns:2"},
    "everything": {"impute": "linear", "outliers": 3.0, "calendar": "month",
                   "fourier": "12:1", "indicators": "sma:3+rsi:5+returns", "timesteps": 3},
}


@pytest.mark.parametrize("k", [0, 5])  # the origin: k steps into the scored window
@pytest.mark.parametrize("name", list(OPTIONS))
def test_values_after_an_origin_never_reach_it(name, k):
    config = complete({**OPTIONS[name], "timesteps": OPTIONS[name].get("timesteps", 2)})
    origin = N - SCORED - 1 + k  # the last origin of the training part is N - SCORED - 1
    values = LEVEL.copy()
    values[[7, 20, 33, origin - 1, origin + 2]] = np.nan  # gaps in training, just before
    # the origin and just after it (imputation options only)
    if config["impute"] == "none":
        values = LEVEL.copy()
    values[15] += 40  # an outlier in training
    nonsense = values.copy()
    nonsense[origin + 1:] = RNG.uniform(1e3, 1e4, N - origin - 1)  # positive: log stays valid
    a = prepare_fold(_series(values), SCORED, config)
    b = prepare_fold(_series(nonsense), SCORED, config)
    np.testing.assert_array_equal(a.train.X, b.train.X)
    np.testing.assert_array_equal(a.train.y, b.train.y)
    assert a.chain.to_dict() == b.chain.to_dict()
    fa = None if a.feature_scaler is None else a.feature_scaler.to_dict()
    fb = None if b.feature_scaler is None else b.feature_scaler.to_dict()
    assert fa == fb
    early = a.test.origin <= origin
    assert early.sum() == k + 1
    np.testing.assert_array_equal(a.test.X[early], b.test.X[early])
    # and the nonsense does reach the later origins (the comparison can fail)
    assert not np.array_equal(a.test.X[~early], b.test.X[~early])


def test_every_option_has_a_leakage_case():
    new = {"impute", "outliers", "outlier_window", "log_offset", "difference_order",
           "calendar", "fourier", "indicators"}
    assert new <= set(PARAMS)
    covered = {key for opts in OPTIONS.values() for key in opts}
    assert new <= covered


def test_a_recursive_forecast_feeds_its_own_steps_to_the_indicators():
    """Step 2 of a 2-step forecast = a 1-step forecast from the series with each member's
    step 1 appended (an independent path through the features of the longer series)."""
    from lstmtune.model import fit_ensemble

    ts = _series(LEVEL)
    config = {"indicators": "sma:3+rsi:5+returns", "fourier": "12:1", "calendar": "month",
              "timesteps": 2, "units": 2, "epochs": 5}
    ens, _ = fit_ensemble(ts, config, repeats=2, seed=0)
    two = ens.member_forecasts(ts, 2)
    assert ens.prep.feature_names == ("month", "sin1_p12", "cos1_p12", "sma3", "rsi5",
                                      "returns1")
    for m in range(2):
        longer = _series(np.append(LEVEL, two[m, 0]))
        one = ens.member_forecasts(longer, 1)
        np.testing.assert_allclose(one[m, 0], two[m, 1], rtol=1e-6)


def test_n_inputs_counts_every_column_the_data_layer_makes():
    c = complete({"calendar": "month+quarter", "fourier": "12:2+6:1",
                  "indicators": "sma:3+macd+returns:1"})
    prepared = prepare_fold(_series(LEVEL), SCORED, c)
    assert prepared.train.X.shape[-1] == 1 + 2 + 6 + 5
    from lstmtune.experiment._params import n_inputs

    assert n_inputs(c, 0) == 14 and n_inputs(complete({}), 2) == 3


def test_older_values_still_load():
    from lstmtune.model import LSTMForecaster

    assert LSTMForecaster(scaler=None).config()["scaler"] == "none"  # as 0.x saved it
    assert PARAMS["scaler"].check(None) == "none"


def test_an_undefined_return_is_a_reason_not_a_dropped_point():
    from lstmtune.data import indicator_features
    from lstmtune.errors import DataError

    with pytest.raises(DataError, match="returns:1 is undefined at position 3"):
        indicator_features(np.array([1.0, 2.0, 0.0, 4.0, 5.0]), ("returns:1",))
    out, _ = indicator_features(np.array([1.0, 2.0, 4.0, np.nan]), ("returns:1",))
    np.testing.assert_array_equal(out[:, 0], [np.nan, 1.0, 1.0, np.nan])  # a future point


def test_conditions_on_groups_are_refused():
    with pytest.raises(ConfigError, match="'calendar' is a group of items"):
        parse_space({"calendar": {"choice": [[], ["month"]]},
                     "units": {"int": [1, 4], "when": {"calendar": []}}})
