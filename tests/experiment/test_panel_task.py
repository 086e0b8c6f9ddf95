"""The panel task against independent references: a local panel population equals each
series trained alone (same seeds); a global model equals a hand-built population over the
concatenated windows, scored series by series; per-series preprocessing (scaler,
deseasonalisation) never reads a series' scored window."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import (
    Framing,
    Preprocessing,
    Windows,
    load,
    prepare,
    seasonal_indices,
    seasonality_test,
)
from lstmtune.engine import PopulationData, train_population
from lstmtune.errors import ConfigError
from lstmtune.evaluation import metric_value
from lstmtune.experiment import (
    ForecastTask,
    PanelTask,
    build_train,
    complete,
    evaluate_configs,
    fold_series,
    member_hparams,
)

H = 4
BASE = {"timesteps": 3, "units": 3, "epochs": 6, "batch_size": 8, "multistep": "recursive",
        "difference": 0, "scaler": "standard", "learning_rate": 0.01}


def _series(i: int, n: int) -> object:
    rng = np.random.default_rng(i)
    t = np.arange(n)
    y = (40 + 5 * i + 0.4 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) + rng.normal(0, 1, n)
    idx = pd.date_range("2000-01-01", periods=n, freq="MS")
    return load(pd.Series(y, index=idx, name=f"s{i}"))


@pytest.fixture(scope="module")
def panel():
    series = [_series(i, n) for i, n in enumerate((30, 41, 52))]
    folds = [f for s in series for f in fold_series(s.head(len(s) - H), scored=H, folds=1)]
    return series, folds


def test_local_population_equals_each_series_alone(panel):
    series, folds = panel
    task = PanelTask(horizon=H)
    [together] = evaluate_configs(folds, [BASE], repeats=2, seed=3, task=task)
    assert together.fold.tolist() == [0, 0, 1, 1, 2, 2]
    for i in range(len(series)):
        alone = ForecastTask(horizon=H, origin_step=H, metric="smape")
        [r] = evaluate_configs([folds[i]], [{**BASE, "horizon": H, "origin_step": H}],
                               repeats=2, seed=3, task=alone)
        np.testing.assert_allclose(together.scores[together.fold == i], r.scores, rtol=1e-5)


@pytest.mark.parametrize("n_folds", [1, 2])
def test_global_model_equals_a_population_over_the_concatenated_windows(n_folds):
    series = [_series(i, n) for i, n in enumerate((34, 41, 52))]
    folds = [f for s in series for f in fold_series(s.head(len(s) - H), scored=n_folds * H,
                                                    folds=n_folds)]
    task = PanelTask(horizon=H, n_folds=n_folds)
    config = {**BASE, "model": "global", "global_epochs": 5, "global_batch_size": 16}
    [r] = evaluate_configs(folds, [config], repeats=2, seed=7, task=task)
    c = task.configure(config)
    spec = task.model(c, n_features=1)
    tspec = build_train(c, epochs=c["epochs"], snapshots=(), dropout=False, record=False)
    for k in range(n_folds):  # walk-forward window k: one model per seed over every series
        mine = [j for j in range(len(folds)) if j % n_folds == k]
        preps = [task.prepare(*folds[j], c) for j in mine]
        # the reference: every series' training windows on one sample axis, trained as a
        # plain population of two seeds, each series' scored window predicted by hand
        X = np.concatenate([p.train.X for p in preps])
        y = np.concatenate([p.train.y for p in preps])
        ev = [p.test for p in preps]
        eval_X = np.concatenate([w.X for w in ev])
        data = PopulationData(X, y, np.ones(len(X), bool), eval_X,
                              np.full((len(eval_X), 1), np.nan))
        res = train_population(spec, tspec, data, seeds=np.array([7, 8]),
                               hparams=member_hparams([c, c]),
                               eval_future=np.concatenate([w.future for w in ev]))
        start = 0
        for j, p, w in zip(mine, preps, ev, strict=True):
            orig = p.to_original(res.predictions[:, start:start + len(w)], w)
            start += len(w)
            want = [metric_value("smape", p.actual(w), orig[m],
                                 y_train=p.y[:p.split.test.start]) for m in range(2)]
            np.testing.assert_allclose(r.scores[r.fold == j], want, rtol=1e-5)
    assert (r.epochs_trained == 5).all()


def test_scaler_and_deseasonalisation_never_read_the_scored_window():
    ts = _series(0, 60)
    prep = Preprocessing(deseasonalise=12, scaler="standard")
    fr = Framing(lags=3, horizon=H, origin_step=H, multistep="recursive")
    a = prepare(ts, test_size=H, preprocessing=prep, framing=fr)
    changed = ts.values.copy()
    changed[-H:] *= 50.0  # the scored window only
    b = prepare(dataclasses.replace(ts, values=changed), test_size=H,
                preprocessing=prep, framing=fr)
    des_a, sc_a = a.chain.steps[0], a.chain.steps[1]
    des_b, sc_b = b.chain.steps[0], b.chain.steps[1]
    train = ts.y[: len(ts) - H]
    assert seasonality_test(train, 12)
    np.testing.assert_allclose(des_a.indices_, seasonal_indices(train, 12))
    np.testing.assert_array_equal(des_a.indices_, des_b.indices_)
    np.testing.assert_array_equal(sc_a.mean_, sc_b.mean_)
    np.testing.assert_array_equal(a.train.X, b.train.X)
    # the inverse puts each position's index back: the scored window's actual values,
    # deseasonalised and standardised, come back exactly
    w = a.test
    z = a.chain.transform(a.y_clean)
    pred = z[w.origin[0] + 1: w.origin[0] + 1 + H][None, None, :]
    np.testing.assert_allclose(a.to_original(pred, w)[0], a.actual(w), rtol=1e-12)


def test_deseasonalise_leaves_a_series_without_seasonality_as_it_is():
    rng = np.random.default_rng(0)
    ts = load(pd.Series(50 + rng.normal(0, 1, 60),
                        index=pd.date_range("2000-01-01", periods=60, freq="MS")))
    p = prepare(ts, test_size=H, preprocessing=Preprocessing(deseasonalise=12),
                framing=Framing(lags=3))
    assert not p.chain.steps[0].seasonal


def test_panel_task_refuses_what_does_not_apply(panel):
    with pytest.raises(ConfigError, match="not comparable across the series"):
        PanelTask(horizon=H, metric="rmse")
    with pytest.raises(ConfigError, match="stateful"):
        PanelTask(horizon=H).configure({**BASE, "stateful": True})
    c = PanelTask(horizon=H).configure({**BASE, "model": "global", "global_epochs": 9,
                                        "global_batch_size": 99})
    assert (c["epochs"], c["batch_size"], c["origin_step"]) == (9, 99, H)
    assert complete(BASE)["model"] == "local"


def test_windows_of_recursive_models_are_rolled_out_only_where_scored(panel):
    """Local members predict only the validation and test windows (no training windows)."""
    _, folds = panel
    task = PanelTask(horizon=H)
    c = task.configure(BASE)
    preps = task.prepare_group(folds, [c])
    spec = task.model(c, n_features=1)
    run = task.fit(preps, spec, build_train(c, epochs=2, snapshots=(), dropout=False,
                                            record=False),
                   seeds=np.zeros(3, int), member_fold=np.arange(3), config=c)
    assert run.result.predictions.shape[1] == max(len(p.val) + len(p.test) for p in preps)
    assert isinstance(run.folds[0].windows("val"), Windows)


def test_series_of_very_different_lengths_train_in_length_groups_as_alone():
    """Twenty series of 24 to 120 points: the engine trains them in length groups (each on
    its own longest member's windows); every one equals its series trained alone."""
    from lstmtune.engine._population import _length_groups, _lengths, _per_member

    lengths = np.linspace(24, 120, 20).round().astype(int)
    series = [_series(i, n) for i, n in enumerate(lengths)]
    folds = [fold_series(s.head(len(s) - H), scored=H, folds=1)[0] for s in series]
    task = PanelTask(horizon=H)
    c = task.configure({**BASE, "epochs": 3})
    preps = task.prepare_group(folds, [c])
    from lstmtune.evaluation._members import _fold, _population_data

    fl = [_fold(p, task.model(c, 1), build_train(c, epochs=3, snapshots=(), dropout=False,
                                                 record=False), None, False) for p in preps]
    data, _ = _population_data(fl, np.arange(20), False)
    groups = _length_groups(_lengths(data, _per_member(data), 20), 20, False, True)
    assert len(groups) > 1  # the split happens here
    [together] = evaluate_configs(folds, [{**BASE, "epochs": 3}], repeats=1, seed=5,
                                  task=task)
    for i in (0, 7, 19):
        alone = ForecastTask(horizon=H, origin_step=H, metric="smape")
        [r] = evaluate_configs([folds[i]], [{**BASE, "epochs": 3, "horizon": H,
                                             "origin_step": H}], repeats=1, seed=5,
                               task=alone)
        np.testing.assert_allclose(together.scores[i], r.scores[0], rtol=1e-5)
