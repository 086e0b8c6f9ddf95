"""What a study stores at its end for its report and its model, checked against numbers
computed here: the series itself, the members' own forecasts, the trials' stored scores."""

from __future__ import annotations

import numpy as np
import pytest

from lstmtune.data import load
from lstmtune.report._load import load_study_tables, resolve_study
from lstmtune.search import study_from_dict, tune
from lstmtune.search._final import FINAL, FORECAST, HISTORY, describe_entry
from lstmtune.search._space import Choice, Range

DOC = {"data": {"source": "shampoo", "test_size": 12, "val_size": 6, "folds": 2},
       "training": {"epochs": 20, "batch_size": 4},
       # the model kept is the members scored on test (refit on all the data: test_refit)
       "search": {"strategy": "random", "trials": 6, "repeats": 2, "batch": 3,
                  "final_repeats": 3, "refit": False},
       "space": {"units": {"int": [1, 3]},
                 "learning_rate": {"float": [1e-3, 1e-1], "log": True},
                 "optimizer": {"choice": ["adam", "rmsprop"]}}}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    ts = load("shampoo")
    r = tune(ts, study_from_dict(DOC), storage=f"sqlite:///{folder / 'study.db'}",
             study_name="s")
    return ts, r, folder


def test_forecast_table_holds_the_test_window_members_and_baselines(study):
    ts, r, _ = study
    cols = r.study.user_attrs[FORECAST]["columns"]
    np.testing.assert_allclose(cols["actual"], ts.y[-12:])
    np.testing.assert_allclose(cols["baseline_persistence"], ts.y[-13:-1])  # previous value
    # monthly data: the seasonal naive repeats the value 12 months before (not persistence)
    np.testing.assert_allclose(cols["baseline_seasonal_naive"], ts.y[-24:-12])
    final = r.study.user_attrs[FINAL]["baselines"]["seasonal_naive"]
    assert final["rmse"] == pytest.approx(np.sqrt(np.mean((ts.y[-12:] - ts.y[-24:-12]) ** 2)))
    members = np.array([cols[f"member_{k}"] for k in range(3)])
    np.testing.assert_allclose(cols["mean"], members.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(cols["low"], np.quantile(members, 0.05, axis=0), rtol=1e-5)
    rmse = np.sqrt(((members - ts.y[-12:]) ** 2).mean(axis=1))
    np.testing.assert_allclose(rmse, r.test["scores"], rtol=1e-5)
    assert cols["time"][0] == "1903-01-01" and len(cols["time"]) == 12
    ctx = r.study.user_attrs[FORECAST]["context"]
    np.testing.assert_allclose(ctx["actual"], ts.y[:24])


def test_the_exported_ensemble_is_the_one_that_was_scored(study):
    ts, r, _ = study
    cols = r.study.user_attrs[FORECAST]["columns"]
    walk = np.stack([r.model.member_forecasts(ts.head(24 + k), 1)[:, 0] for k in range(12)],
                    axis=1)
    np.testing.assert_allclose(walk, [cols[f"member_{k}"] for k in range(3)], rtol=1e-5)
    assert r.model.info["n_fit"] == 24


def test_curves_reproduce_the_best_trials_member_scores(study):
    _, r, _ = study
    h = r.study.user_attrs[HISTORY]
    best = r.study.best_trial
    n_members = 2 * 2  # repeats × folds
    assert len(set(zip(h["repeat"], h["fold"], strict=True))) == n_members
    assert max(h["epoch"]) == 20
    last = {(rep, f): v for rep, f, e, v in zip(h["repeat"], h["fold"], h["epoch"],
                                                  h["val_rmse"], strict=True) if e == 20}
    m = best.user_attrs["members"]
    stored = {(rep, f): s for rep, f, s in zip(m["repeat"], m["fold"], m["score"],
                                               strict=True)}
    for key, v in stored.items():  # same seeds and data; padding may add float rounding
        assert last[key] == pytest.approx(v, rel=1e-3)


def test_summary_names_the_split_and_budget(study):
    _, r, _ = study
    f = r.study.user_attrs[FINAL]
    assert f["split"] == {"test_size": 12, "val_size": 6, "folds": 2,
                          "train_end": "1902-06-01", "val": ["1902-07-01", "1902-12-01"],
                          "test": ["1903-01-01", "1903-12-01"]}
    assert f["budget"]["trials"] == 6 and f["best_trial"] == r.study.best_trial.number
    assert f["space"] == {"units": "int 1–3", "learning_rate": "float 0.001–0.1, log",
                          "optimizer": "adam | rmsprop"}


def test_loader_gives_tidy_tables(study):
    _, r, folder = study
    url, name = resolve_study(str(folder))
    t = load_study_tables(url, name)
    assert list(t.trials["number"]) == [tr.number for tr in r.study.trials]
    assert len(t.members) == sum(len(tr.user_attrs["members"]["score"])
                                 for tr in r.study.trials if "members" in tr.user_attrs)
    assert t.params == ["units", "learning_rate", "optimizer"]
    assert t.importance["importance"].sum() == pytest.approx(1.0)
    assert t.meta["trials"] == 6 and t.meta["data"]["n"] == 36
    assert len(t.forecast) == 12 and len(t.history) == 4 * 20


def test_resolve_study_errors(study, tmp_path):
    from lstmtune.errors import ConfigError

    _, _, folder = study
    with pytest.raises(ConfigError, match="has no study.db"):
        resolve_study(str(tmp_path))
    with pytest.raises(ConfigError, match="study 'x' is not in .* it holds: s"):
        resolve_study(str(folder), "x")


def test_describe_entry():
    assert describe_entry(Range(low=1, high=64, integer=True, log=True)) == "int 1–64, log"
    assert describe_entry(Choice(values=("adam", "sgd"), when=(("units", (1,)),))) == \
        "adam | sgd when units in [1]"
