"""Multi-step forecasting: a direct head of H outputs and a one-step model rolled out H steps,
both scored on every step of every walk-forward origin, checked against forecasts made
from truncated data (nothing after an origin can reach them) and against hand-written
indices and errors."""

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import Framing, Preprocessing, load, prepare
from lstmtune.errors import ConfigError, DataError, SplitError
from lstmtune.experiment import ForecastTask
from lstmtune.model import fit_ensemble
from lstmtune.search import study_from_dict, tune
from lstmtune.search._final import FINAL

BASE = {"units": 3, "epochs": 40, "timesteps": 3, "horizon": 3, "calendar": "month"}


@pytest.fixture(scope="module")
def shampoo():
    return load("shampoo")


@pytest.fixture(scope="module", params=["direct", "recursive"])
def fitted(request, shampoo):
    return request.param, *fit_ensemble(shampoo, {**BASE, "multistep": request.param},
                                        repeats=2, holdout=12)


def test_walk_forward_forecasts_equal_forecasts_from_truncated_data(fitted, shampoo):
    """The engine's (vectorised) forecasts of every test origin, H steps each, equal the
    ensemble's forecasts from the series cut at that origin: a direct head read once, or a
    recursion in original units that re-frames its own path (an independent loop)."""
    _, ens, run = fitted
    fc = run.forecasts("test")  # (R, 12 origins, 3 steps)
    origins = run.folds[0].prepared.test.origin
    assert fc.shape == (2, 12, 3) and list(origins) == list(range(23, 35))
    for k, o in enumerate(origins):
        keep = min(3, len(shampoo) - 1 - o)  # steps inside the data
        looped = ens.member_forecasts(shampoo.head(o + 1), 3)
        np.testing.assert_allclose(fc[:, k, :keep], looped[:, :keep], rtol=1e-5)
        assert np.isnan(run.folds[0].prepared.actual(run.folds[0].prepared.test)[k, keep:]
                        ).all()  # steps past the data are never scored


def test_scores_cover_every_step_in_the_chosen_metric(fitted, shampoo):
    _, _, run = fitted
    fc = run.forecasts("test")
    y = shampoo.y
    actual = np.full((12, 3), np.nan)
    for k, o in enumerate(range(23, 35)):  # hand-written targets of each origin and step
        for h in range(3):
            if o + 1 + h < 36:
                actual[k, h] = y[o + 1 + h]
    known = np.isfinite(actual)
    mae = [np.abs(fc[m][known] - actual[known]).mean() for m in range(2)]
    np.testing.assert_allclose(run.scores("test", "mae"), mae, rtol=1e-9)
    per_step = [[np.nanmean(np.abs(fc[m][:, h] - actual[:, h])) for h in range(3)]
                for m in range(2)]
    np.testing.assert_allclose(run.scores("test", "mae", per_step=True), per_step, rtol=1e-9)


def test_direct_head_refuses_more_steps_than_it_has(fitted, shampoo):
    strategy, ens, _ = fitted
    if strategy == "direct":
        with pytest.raises(ConfigError, match="forecasts 3 steps at once"):
            ens.forecast(shampoo, 5)
    else:  # a one-step model rolls out as far as asked
        assert len(ens.forecast(shampoo, 5)) == 5


def _monthly(n: int, **columns) -> pd.DataFrame:
    idx = pd.date_range("2000-01-01", periods=n, freq="MS")
    y = 100 + 10 * np.sin(np.arange(n) / 2) + np.arange(n)
    return pd.DataFrame({"y": y, **columns}, index=idx)


def test_direct_training_windows_end_before_validation_and_recursive_ones_one_step_later():
    ts = load(_monthly(40))  # train 0..27, validation 28..33, test 34..39
    d = prepare(ts, test_size=6, val_size=6, framing=Framing(lags=2, horizon=3))
    np.testing.assert_array_equal(d.train.origin, np.arange(1, 25))  # o + 3 <= 27
    np.testing.assert_array_equal(d.val.origin, np.arange(27, 33))
    want = np.array([[o + h < 34 for h in (1, 2, 3)] for o in range(27, 33)])
    np.testing.assert_array_equal(np.isfinite(d.val.y), want)
    r = prepare(ts, test_size=6, val_size=6,
                framing=Framing(lags=2, horizon=3, multistep="recursive"))
    np.testing.assert_array_equal(r.train.origin, np.arange(1, 27))  # o + 1 <= 27
    assert r.train.y.shape == (26, 1) and r.val.y.shape == (6, 3)


def test_recursive_future_rows_are_the_known_inputs_after_each_origin():
    ts = load(_monthly(40))
    r = prepare(ts, test_size=6, val_size=6, framing=Framing(lags=2, horizon=3,
                                                                multistep="recursive",
                                                                calendar=("month",)))
    assert r.val.future.shape == (6, 2, 1)
    scaled_month = {int(o): r.val.X[k, -1, 1] for k, o in enumerate(r.val.origin)}
    scaled_month |= {int(o): r.test.X[k, -1, 1] for k, o in enumerate(r.test.origin)}
    for k, o in enumerate(r.val.origin):
        for j in range(2):
            assert r.val.future[k, j, 0] == pytest.approx(scaled_month[int(o) + 1 + j])


@pytest.mark.parametrize("framing, feature", [
    ({"indicators": ("rsi:14",)}, "indicator rsi:14"),
    ({}, "promo"),  # a data column not declared known
])
def test_recursive_refuses_inputs_observed_only_up_to_the_origin(framing, feature):
    columns = {} if framing else {"promo": np.arange(60) % 2.0}
    ts = load(_monthly(60, **columns), target="y", features=list(columns) or None)
    with pytest.raises(ConfigError, match=f"but {feature} is observed only up to"):
        prepare(ts, test_size=6, val_size=6,
                framing=Framing(lags=2, horizon=3, multistep="recursive", **framing))
    ok = prepare(ts, test_size=6, val_size=6,  # the same inputs serve a direct head
                 framing=Framing(lags=2, horizon=3, **framing))
    assert ok.val.future is None


def test_a_horizon_longer_than_a_scored_window_is_refused():
    ts = load(_monthly(40))
    with pytest.raises(SplitError, match="horizon 8 is longer than the validation window of 6"):
        prepare(ts, test_size=6, val_size=6, framing=Framing(lags=2, horizon=8))


def test_known_future_features_come_from_the_future_frame():
    df = _monthly(48, promo=(np.arange(48) % 3 == 0).astype(float))
    ts = load(df, target="y", features=["promo"])
    cfg = {"units": 2, "epochs": 30, "timesteps": 2, "horizon": 3, "multistep": "recursive",
           "known_features": "promo"}
    ens, _ = fit_ensemble(ts, cfg, repeats=2, holdout=6)
    with pytest.raises(ConfigError, match=r"known future of \['promo'\].*--future FILE"):
        ens.forecast(ts, 3)
    times = pd.date_range("2004-01-01", periods=3, freq="MS")
    a = ens.forecast(ts, 3, future=pd.DataFrame({"time": times, "promo": [1.0, 0, 0]}))
    b = ens.forecast(ts, 3, future=pd.DataFrame({"time": times, "promo": [1.0, 1, 1]}))
    assert a["forecast"].iloc[0] == b["forecast"].iloc[0]  # step 1 reads the past only
    assert not np.allclose(a["forecast"].iloc[1:], b["forecast"].iloc[1:])  # later steps read it
    with pytest.raises(DataError, match="lacks column 'promo'"):
        ens.forecast(ts, 3, future=pd.DataFrame({"time": times, "other": [1.0, 0, 0]}))
    with pytest.raises(DataError, match="times start at"):
        ens.forecast(ts, 3, future=pd.DataFrame({"time": times + pd.DateOffset(months=1),
                                                 "promo": [1.0, 0, 0]}))
    with pytest.raises(DataError, match="fewer than the 3 step"):
        ens.forecast(ts, 3, future=pd.DataFrame({"promo": [1.0]}))


def test_a_direct_model_reads_past_only_features_without_their_future():
    ts = load(_monthly(48, volume=np.linspace(1, 2, 48)), target="y", features=["volume"])
    ens, _ = fit_ensemble(ts, {"units": 2, "epochs": 20, "timesteps": 2, "horizon": 3},
                          repeats=2, holdout=6)
    assert np.isfinite(ens.forecast(ts, 3)["forecast"]).all()
    one_step, _ = fit_ensemble(ts, {"units": 2, "epochs": 20, "timesteps": 2}, repeats=2,
                               holdout=6)
    with pytest.raises(ConfigError, match="feature 'volume' is observed only up to"):
        one_step.forecast(ts, 2)


def test_task_baselines_per_step_equal_hand_computed_errors():
    y = np.arange(20.0) ** 1.5
    task = ForecastTask(horizon=3, metric="mae")
    b = task.baselines(y, test_size=5)  # origins 14..18, targets inside 15..19
    for h in (1, 2, 3):
        errors = [abs(y[o + h] - y[o]) for o in range(14, 19) if o + h <= 19]
        assert b["persistence"]["per_step"][h - 1] == pytest.approx(np.mean(errors))
    pairs = [abs(y[o + h] - y[o]) for o in range(14, 19) for h in (1, 2, 3) if o + h <= 19]
    assert b["persistence"]["value"] == pytest.approx(np.mean(pairs))
    assert b["persistence"]["mae"] == b["persistence"]["value"]


def test_task_validates_its_metric_and_horizon():
    with pytest.raises(ConfigError, match="(?i)did you mean 'rmse'"):
        ForecastTask(metric="rsme")
    with pytest.raises(ConfigError, match="horizon must be a whole number"):
        ForecastTask(horizon=0)


def test_tune_scores_trials_and_test_by_the_studys_metric_and_horizon(shampoo):
    cfg = study_from_dict({
        "data": {"source": "shampoo", "test_size": 6, "val_size": 6},
        "model": {"horizon": 3, "timesteps": 2}, "training": {"epochs": 10},
        "search": {"strategy": "random", "trials": 2, "repeats": 1, "final_repeats": 2,
                   "metric": "mase"},
        "space": {"units": {"int": [1, 2]}, "multistep": {"choice": ["direct", "recursive"]}}})
    r = tune(shampoo, cfg)
    assert r.test["metric"] == "mase" and len(r.test["per_step"]) == 3
    assert r.test["value"] == pytest.approx(np.nanmean(r.test["scores"]))
    season = 12  # 30 training points hold a whole year
    want = ForecastTask(horizon=3, metric="mase").baselines(shampoo.y, test_size=6,
                                                            season=season)
    for name, b in want.items():
        assert r.baselines[name]["per_step"] == pytest.approx(b["per_step"])
    final = r.study.user_attrs[FINAL]
    assert final["metric"] == "mase" and final["horizon"] == 3
    lb = r.leaderboard
    assert np.isfinite(lb["value"]).all()


def test_recursive_needs_a_stateless_model():
    from lstmtune.experiment._params import build_model, complete

    with pytest.raises(ConfigError, match="stateful=false"):
        build_model(complete({"horizon": 2, "multistep": "recursive", "stateful": True}), 1)


def test_recursive_is_refused_with_the_window_scaler():
    with pytest.raises(ConfigError, match="scale_on=series"):
        prepare(load(_monthly(40)), test_size=6, val_size=6,
                preprocessing=Preprocessing(scale_on="windows"),
                framing=Framing(lags=2, horizon=3, multistep="recursive"))


def test_origin_step_keeps_every_kth_origin_for_the_model_and_the_baselines():
    ts = load(_monthly(40))  # validation 28..33: origins 27..32, every 3rd = 27, 30
    d = prepare(ts, test_size=6, val_size=6, framing=Framing(lags=2, horizon=3,
                                                                origin_step=3))
    np.testing.assert_array_equal(d.val.origin, [27, 30])
    np.testing.assert_array_equal(d.test.origin, [33, 36])
    b = ForecastTask(horizon=3, origin_step=3).baselines(ts.y, test_size=6)
    y = ts.y
    want = [[abs(y[o + h] - y[o]) for o in (33, 36)] for h in (1, 2, 3)]
    rmse = [np.sqrt(np.mean(np.square(w))) for w in want]
    assert b["persistence"]["per_step"] == pytest.approx(rmse)


def test_origin_step_needs_a_stateless_model():
    from lstmtune.experiment._params import build_model, complete

    with pytest.raises(ConfigError, match="origin_step=2 skips windows"):
        build_model(complete({"origin_step": 2, "stateful": True}), 1)


def test_feature_gaps_are_refused_without_imputation_and_filled_causally_with_it():
    df = _monthly(40, x=np.arange(40.0))
    df.iloc[30, 1] = np.nan  # inside the validation window (28..33)
    ts = load(df, target="y", features=["x"], allow_missing=True)
    with pytest.raises(DataError, match="feature 'x' has 1 missing value"):
        prepare(ts, test_size=6, val_size=6)
    p = prepare(ts, test_size=6, val_size=6, preprocessing=Preprocessing(impute="linear",
                                                                         scaler=None),
                framing=Framing(lags=2))
    at = {int(o): p.val.X[k, -1, 1] for k, o in enumerate(p.val.origin)}
    assert at[30] == 29.0  # carried forward: the value after the gap is never read


def test_mase_is_scaled_like_the_baselines_by_the_raw_series_before_the_test(shampoo):
    """With early stopping the training part ends 12 points earlier (the watched window),
    but the scale is still that of everything before the scored window, as the baselines'."""
    _, run = fit_ensemble(shampoo, {**BASE, "patience": 5}, repeats=2, holdout=12)
    assert run.folds[0].prepared.split.train.stop == 12
    fc, y = run.forecasts("test"), shampoo.y
    actual = run.folds[0].prepared.actual(run.folds[0].prepared.test)
    scale = np.mean(np.abs(y[12:24] - y[:12]))  # seasonal naive (12) on the 24 before test
    known = np.isfinite(actual)
    want = [np.abs(fc[m][known] - actual[known]).mean() / scale for m in range(2)]
    np.testing.assert_allclose(run.scores("test", "mase"), want, rtol=1e-9)


def test_origin_step_studies_publish_their_forecast_table_and_report(tmp_path):
    from lstmtune.report import load_study_tables, write_study_report

    cfg = study_from_dict({
        "data": {"source": "shampoo", "test_size": 6, "val_size": 6},
        "model": {"horizon": 3, "origin_step": 3, "timesteps": 2},
        "training": {"epochs": 5},
        "search": {"strategy": "random", "trials": 1, "repeats": 1, "final_repeats": 2},
        "space": {"units": {"int": [1, 2]}}})
    r = tune(load("shampoo"), cfg, storage="memory://origin-step", study_name="s")
    t = load_study_tables("memory://origin-step", "s", study=r.study)
    mean = t.forecast["mean"].to_numpy(float)  # origins 29 and 32: rows 30 and 33 (0, 3)
    assert np.isfinite(mean[[0, 3]]).all() and np.isnan(mean[[1, 2, 4, 5]]).all()
    assert write_study_report(t, tmp_path / "r.html").stat().st_size > 0


def test_fit_ensemble_stores_the_tasks_horizon_so_the_model_loads(tmp_path, shampoo):
    from lstmtune.experiment import ForecastTask
    from lstmtune.model import load_model, save_model

    ens, _ = fit_ensemble(shampoo, {"units": 1, "epochs": 2}, repeats=1, holdout=6,
                          task=ForecastTask(horizon=3))
    assert ens.config["horizon"] == 3 and ens.spec.horizon == 3
    assert load_model(save_model(ens, tmp_path / "m")).spec == ens.spec


def test_stateful_direct_heads_are_refused():
    from lstmtune.experiment._params import build_model, complete

    with pytest.raises(ConfigError, match="stateful=true with horizon=3"):
        build_model(complete({"horizon": 3, "stateful": True}), 1)


def test_a_model_fills_feature_gaps_of_the_series_it_continues():
    df = _monthly(48, x=np.arange(48.0) % 5)
    ts = load(df, target="y", features=["x"])
    ens, _ = fit_ensemble(ts, {"units": 2, "epochs": 10, "timesteps": 3, "horizon": 2,
                               "impute": "linear"}, repeats=2, holdout=6)
    gappy = df.copy()
    gappy.iloc[-2, 1] = np.nan  # inside the last lags
    fc = ens.forecast(load(gappy, target="y", features=["x"], allow_missing=True), 2)
    assert np.isfinite(fc["forecast"]).all()


def test_a_one_column_future_file_is_read(tmp_path):
    from lstmtune.cli._model import read_future

    (tmp_path / "f.csv").write_text("promo\n1\n0\n")
    assert list(read_future(str(tmp_path / "f.csv"))["promo"]) == [1, 0]


def test_a_recursive_model_needs_room_for_one_step_targets_only():
    """36 months with a year of validation and a year of test leave 12 training points: too
    few for a direct head of 12, enough for a one-step model rolled out 12 steps."""
    shampoo = load("shampoo")
    with pytest.raises(SplitError, match="trained horizon 12"):
        prepare(shampoo, test_size=12, val_size=12, framing=Framing(lags=2, horizon=12))
    p = prepare(shampoo, test_size=12, val_size=12,
                framing=Framing(lags=2, horizon=12, multistep="recursive"))
    np.testing.assert_array_equal(p.train.origin, np.arange(1, 11))  # o + 1 <= 11
