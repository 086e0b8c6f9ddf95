"""The saved model is refit on all the data after the test window has been scored once, and
every study says plainly who won on test.  Checked against independent references: the
refit members equal ``fit_ensemble`` on the whole series with the same seeds, the test
scores are the held-out members' whether or not the model is refit, and the verdict's
winner and margin are worked out by hand."""

from __future__ import annotations

import math
import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from lstmtune.data import load
from lstmtune.engine import flatten_params
from lstmtune.errors import ConfigError
from lstmtune.model import fit_ensemble, load_model
from lstmtune.search import study_from_dict, tune
from lstmtune.search._final import FINAL, FORECAST, refit_config, verdict

DOC = {"data": {"source": "shampoo", "test_size": 6, "val_size": 6, "folds": 1},
       "training": {"epochs": 15, "batch_size": 4},
       "search": {"strategy": "random", "trials": 2, "repeats": 1, "batch": 2,
                  "final_repeats": 3},
       "space": {"units": {"int": [1, 3]}}}


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    """One study (refit and combine = median, the defaults), and a copy of it evaluated
    again with refit off and combine = mean."""
    folder = tmp_path_factory.mktemp("refit")
    ts = load("shampoo")
    cfg = study_from_dict(DOC)
    refit = tune(ts, cfg, storage=f"sqlite:///{folder / 'a.db'}", study_name="s")
    shutil.copy(folder / "a.db", folder / "b.db")
    kept = tune(ts, replace(cfg, search=replace(cfg.search, refit=False, combine="mean")),
                storage=f"sqlite:///{folder / 'b.db'}", study_name="s")
    return ts, cfg, refit, kept


def _flat(params) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in flatten_params(params).items()}


def test_the_refit_members_are_the_configuration_trained_on_every_point(studies):
    ts, cfg, r, _ = studies
    config = r.study.user_attrs[FINAL]["config"]
    ref, _ = fit_ensemble(ts, config, repeats=3, seed=cfg.search.seed + 10_000, holdout=0)
    for k, v in _flat(ref.params).items():
        np.testing.assert_array_equal(_flat(r.model.params)[k], v)
    info = r.model.info
    assert info["refit"] is True and info["n_fit"] == 36 and info["holdout"] == 0
    assert info["fit_end"].startswith("1903-12-01")
    assert info["evaluated"] == {"n_fit": 30, "fit_start": info["fit_start"],
                                 "fit_end": "1903-06-01 00:00:00", "holdout": 6}
    assert r.study.user_attrs[FINAL]["model"]["refit"] is True


def test_refit_changes_the_model_but_never_the_test_scores(studies):
    ts, cfg, r, kept = studies
    assert r.test["scores"] == kept.test["scores"] and r.test["value"] == kept.test["value"]
    assert kept.model.info["refit"] is False and kept.model.info["n_fit"] == 30
    config = kept.study.user_attrs[FINAL]["config"]
    ref, _ = fit_ensemble(ts, config, repeats=3, seed=cfg.search.seed + 10_000, holdout=6)
    for k, v in _flat(ref.params).items():  # --no-refit: the members scored on test
        np.testing.assert_array_equal(_flat(kept.model.params)[k], v)
    a, b = r.model.forecast(ts, 3), kept.model.forecast(ts, 3)
    assert not np.allclose(a["mean"], b["mean"])  # trained on 6 more points


def test_the_saved_model_directory_records_both_ranges(studies, tmp_path):
    from lstmtune.model import save_model

    _, _, r, _ = studies
    save_model(r.model, tmp_path / "m")
    info = load_model(tmp_path / "m").info
    assert info["refit"] is True and info["evaluated"]["fit_end"] == "1903-06-01 00:00:00"


def test_the_verdict_is_stored_and_names_the_best_baseline(studies):
    _, _, r, _ = studies
    v = r.test["verdict"]
    base = {k: b["value"] for k, b in r.baselines.items()}
    best = min(base, key=base.get)
    assert v["best_baseline"] == best and v["baseline"] == pytest.approx(base[best])
    lstm = r.test["ensemble"]["value"]  # the members' median forecast: what predict gives
    assert v["lstm"] == lstm and v["margin"] == pytest.approx(abs(lstm - base[best]))
    assert v["winner"] == ("lstm" if lstm < base[best] else best)
    assert "the median of its 3 members' forecasts" in v["text"]
    assert r.study.user_attrs[FINAL]["verdict"]["winner"] == v["winner"]


@pytest.mark.parametrize("which, combine", [(2, np.median), (3, np.mean)])
def test_the_ensemble_score_is_the_combined_forecast_scored_by_hand(studies, which, combine):
    """The stored test table holds every member's forecast of each test point (H = 1):
    their median (mean) at each point, scored by RMSE, is the ensemble's test score."""
    r = studies[which]
    cols = r.study.user_attrs[FORECAST]["columns"]
    members = np.array([cols[f"member_{k}"] for k in range(3)], float)
    point = combine(members, axis=0)
    expected = math.sqrt(np.mean((point - np.array(cols["actual"], float)) ** 2))
    ens = r.test["ensemble"]
    assert ens["combine"] == combine.__name__ and ens["members"] == 3
    assert ens["value"] == pytest.approx(expected, rel=1e-4)
    assert ens["value"] != pytest.approx(r.test["value"], rel=1e-6)  # not the members' mean
    assert r.model.point == combine.__name__  # what predict gives by default
    fc = r.model.forecast(studies[0], 2)
    np.testing.assert_allclose(fc["forecast"], fc[combine.__name__])


def test_verdict_by_hand():
    v = verdict("rmse", "minimize", 90.0, {"persistence": 100.0, "drift": 95.0},
                members=[85.0, 90.0, 95.0, 99.0])
    assert v["winner"] == "lstm" and v["best_baseline"] == "drift"
    assert v["margin"] == pytest.approx(5.0) and v["relative"] == pytest.approx(5 / 95)
    lo, hi = np.quantile([85.0, 90.0, 95.0, 99.0], (0.05, 0.95))
    assert (v["members_low"], v["members_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert v["spread_covers"] is True and "The tuned LSTM wins" in v["text"]
    assert "drift" in v["text"] and "5 (5.3%)" in v["text"]

    v = verdict("mase", "minimize", 1.635, {"seasonal_naive": 1.580, "mean": 3.0},
                members=[1.60, 1.62, 1.64, 1.70])
    assert v["winner"] == "seasonal_naive" and v["margin"] == pytest.approx(0.055)
    assert "seasonal naive beats the tuned LSTM" in v["text"]
    assert v["spread_covers"] is False and "does not cover" in v["text"]

    v = verdict("pr_auc", "maximize", 0.857, {"majority": 0.5, "bag_of_words": 0.882},
                label="PR-AUC")
    assert v["winner"] == "bag_of_words" and "bag of words beats" in v["text"]
    assert "PR-AUC 0.882 against 0.857" in v["text"]

    v = verdict("owa", "minimize", 1.038, {"ses": 0.930, "theta": 0.939},
                paired={"ses": {"mean_diff": 0.1, "ci_low": 0.05, "ci_high": 0.15}},
                label="OWA")
    assert v["winner"] == "ses" and "SES beats" in v["text"]
    assert "[+0.05, +0.15] (it excludes 0)" in v["text"]
    assert verdict("rmse", "minimize", 1.0, {"a": 1.0})["winner"] == "tie"
    assert verdict("rmse", "minimize", math.nan, {"a": 1.0})["winner"] is None


def test_early_stopping_refits_for_the_median_kept_epoch():
    from lstmtune.experiment import complete

    c = complete({"patience": 5, "epochs": 100})
    table = pd.DataFrame({"status": ["ok", "ok", "stopped", "failed"],
                          "best_epoch": [40, 0, 21, 90], "epochs_trained": [45, 100, 26, 3]})
    # kept epochs 40, 100 (no best recorded: all it trained), 21; the failed one left out
    out = refit_config(c, table)
    assert out["patience"] == 0 and out["epochs"] == 40
    plain = complete({"patience": 0, "epochs": 100})
    assert refit_config(plain, table) is plain


def test_refit_is_a_boolean_in_study_files():
    assert study_from_dict({**DOC, "search": {**DOC["search"], "refit": False}}) \
        .search.refit is False
    with pytest.raises(ConfigError, match=r"\[search\] refit = 'no': must be true or false"):
        study_from_dict({**DOC, "search": {**DOC["search"], "refit": "no"}})


# -- panels and classifiers -------------------------------------------------------------------
PANEL = {"data": {"task": "panel", "source": "PATH", "folds": 1},
         "model": {"horizon": 2, "units": 2, "timesteps": 3, "model": "local"},
         "training": {"epochs": 3, "batch_size": 8},
         "search": {"strategy": "random", "trials": 1, "repeats": 1, "batch": 1,
                    "final_repeats": 2},
         "space": {"learning_rate": {"float": [0.01, 0.02]}}}


def _four(path):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(4):
        t = np.arange(30 + 2 * i)
        y = 50 + 5 * i + 0.3 * t + rng.normal(0, 1, t.size)
        rows.append(pd.DataFrame({"unique_id": f"S{i}", "ds": pd.date_range(
            "2010-01-01", periods=t.size, freq="MS"), "y": y}))
    pd.concat(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def panel_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refit-panel")
    doc = {**PANEL, "data": {**PANEL["data"], "source": str(_four(folder / "four.csv"))}}
    cfg = study_from_dict(doc)
    return cfg, tune(None, cfg, storage=f"sqlite:///{folder / 's.db'}", study_name="p")


def test_a_panel_model_is_refit_on_every_point_of_every_series(panel_study):
    from lstmtune.data import load_panel
    from lstmtune.experiment import fit_config

    cfg, r = panel_study
    panel = load_panel(cfg.data.source)
    config = r.study.user_attrs[FINAL]["config"]
    task = replace(cfg.task, n_folds=1)
    run, _ = fit_config([(panel.series[i], 0) for i in panel.series], config, repeats=2,
                        seed=cfg.search.seed, task=task)
    for k, v in _flat(run.result.params).items():
        np.testing.assert_array_equal(_flat(r.model.params)[k], v)
    assert r.model.info["refit"] is True and "refit_kept_evaluated" not in r.model.info
    assert r.test["verdict"]["winner"] in {"lstm", "tie", *r.baselines}


def test_a_series_whose_refit_members_all_diverge_keeps_the_evaluated_ones(panel_study):
    from lstmtune.data import load_panel
    from lstmtune.experiment import fit_config

    cfg, r = panel_study
    panel = load_panel(cfg.data.source)
    config = r.study.user_attrs[FINAL]["config"]
    task = replace(cfg.task, n_folds=1)
    ids = list(panel.series)
    run, _ = fit_config([(panel.series[i], 0) for i in ids], config, repeats=2, seed=7,
                        task=task)
    poisoned = {k: np.asarray(v).copy() for k, v in _flat(run.result.params).items()}
    for v in poisoned.values():
        v[2:4] = np.nan  # series S1's two members
    from lstmtune.engine import nest_params

    bad = replace(run, result=replace(run.result, params=nest_params(poisoned)))
    new, kept = r.model.refit(bad, config, spec_task=task)
    assert kept == ["S1"]
    for k, v in _flat(new.params).items():
        np.testing.assert_array_equal(v[2:4], _flat(r.model.params)[k][2:4])
        np.testing.assert_array_equal(v[:2], poisoned[k][:2])
    assert new.preps[1] is r.model.preps[1] and new.preps[0] is not r.model.preps[0]


def test_ses_theta_and_ets_are_scored_on_the_test_origins(studies):
    from lstmtune.evaluation import classical_walk_forward, fitting_season

    ts, _, r, _ = studies
    y, n, test = ts.y, len(ts), 6
    table = classical_walk_forward(y, test_size=test, horizon=1,
                                   season=fitting_season(ts.season, n - test))
    assert table["origin"].tolist() == list(range(n - test - 1, n - 1))  # by hand
    for k in ("ses", "theta", "ets"):
        rmse = np.sqrt(np.mean((table[k].to_numpy() - y[n - test:]) ** 2))
        assert r.baselines[k]["rmse"] == pytest.approx(rmse)
    v = r.test["verdict"]  # the verdict weighs them with the naive baselines
    every = {k: b["value"] for k, b in r.baselines.items()}
    assert v["baseline"] == pytest.approx(min(every.values()))


def test_a_baseline_that_stood_in_for_a_failed_fit_is_said_so():
    v = verdict("rmse", "minimize", 2.0, {"ets": 1.0, "drift": 3.0}, fallbacks={"ets": 4})
    assert v["winner"] == "ets" and "ETS's fit failed 4 time(s)" in v["text"]
    assert "failed" not in verdict("rmse", "minimize", 2.0, {"ets": 1.0},
                                   fallbacks={"ets": 0})["text"]


def test_the_data_aware_default_space_follows_what_is_fixed():
    from lstmtune.search import fit_space

    ts = load("airpassengers")  # seasonal at 12 and positive
    doc = {"data": {"source": "airpassengers", "test_size": 12}}
    cfg, note = fit_space(ts, study_from_dict(doc))
    names = [n for n, _ in cfg.space.entries]
    assert {"window_norm", "log", "deseasonalise", "seasonal_lag", "fourier"} <= set(names)
    t = dict(cfg.space.entries)["timesteps"]
    assert (t.low, t.high) == (9, 18) and "seasonal at 12" in note
    assert dict(cfg.space.entries)["deseasonalise"].values == (False, True, "stl")
    assert dict(cfg.space.entries)["window_norm"].values == ("none", "last", "level")
    rolled, _ = fit_space(ts, study_from_dict({**doc, "model": {"horizon": 3,
                                                                "multistep": "recursive"}}))
    assert dict(rolled.space.entries)["window_norm"].values == ("none", "last")
    fixed, _ = fit_space(ts, study_from_dict({**doc, "preprocessing": {"deseasonalise": True}}))
    assert "seasonal_lag" not in dict(fixed.space.entries)  # no seasonal differencing then
    off, _ = fit_space(ts, study_from_dict({**doc, "preprocessing": {"deseasonalise": False}}))
    assert dict(off.space.entries)["seasonal_lag"].when == ()
    grid, note = fit_space(ts, study_from_dict({**doc, "search": {"strategy": "grid"}}))
    assert "window_norm" not in dict(grid.space.entries)


def test_combine_is_median_or_mean_in_study_files():
    assert study_from_dict(DOC).search.combine == "median"
    assert study_from_dict({**DOC, "search": {**DOC["search"], "combine": "mean"}}) \
        .search.combine == "mean"
    with pytest.raises(ConfigError, match=r"\[search\] combine = 'avg' is not one of median, "
                                          r"mean"):
        study_from_dict({**DOC, "search": {**DOC["search"], "combine": "avg"}})


def test_the_default_panel_space_searches_stl_when_the_panel_has_a_season():
    from lstmtune.data import load_panel
    from lstmtune.experiment import fold_series
    from lstmtune.search._panel import PANEL_SPACE, _panel_knows

    for source, stl in (("m1_quarterly", True), ("m1_yearly", False)):
        cfg = study_from_dict({"data": {"task": "panel", "source": source}})
        assert cfg.space == PANEL_SPACE
        H = cfg.task.horizon
        long = [ts for ts in load_panel(source).series.values() if len(ts) > 4 * H][:20]
        folds = [f for ts in long for f in fold_series(ts, scored=H, folds=1)]
        fitted, said = _panel_knows(folds, cfg)
        entries = dict(fitted.space.entries)
        assert entries["deseasonalise"].values == ((True, False, "stl") if stl
                                                   else (True, False))
        assert list(entries)[:2] == ["model", "deseasonalise"]  # in its place
        assert ("deseasonalise classical | STL | off" in said[0]) is stl
        # a panel rolls one-step models forward by default: the level's future is unknown
        assert entries["window_norm"].values == ("none", "last")
        direct = replace(cfg, fixed=(*((k, v) for k, v in cfg.fixed if k != "multistep"),
                                     ("multistep", "direct")))
        assert dict(_panel_knows(folds, direct)[0].space.entries)["window_norm"].values == (
            "none", "last", "level")
        mine, _ = _panel_knows(folds, replace(cfg, fixed=(*cfg.fixed, ("deseasonalise", False))))
        assert dict(mine.space.entries)["deseasonalise"].values == (True, False)


def test_a_combined_multi_step_forecast_is_scored_on_hand_written_origins():
    """Horizon 3 from every second origin of a 6-point test window: origins 29, 31 and 33
    of Shampoo's 36 points; the last origin's third step lies past the data (unscored)."""
    from lstmtune.evaluation import score_combined

    ts = load("shampoo")
    _, run = fit_ensemble(ts, {"horizon": 3, "origin_step": 2, "epochs": 5, "units": 2,
                               "timesteps": 2}, repeats=3, seed=1, holdout=6)
    fc = run.forecasts("test")  # (3 members, 3 origins, 3 steps)
    point = np.median(fc, axis=0)
    err = []
    for k, o in enumerate((29, 31, 33)):
        for h in range(3):
            if o + 1 + h < 36:
                err.append(point[k, h] - ts.y[o + 1 + h])
    fold = run.folds[0]
    assert score_combined(fold, fc, "test", "rmse", "median") == pytest.approx(
        math.sqrt(np.mean(np.square(err))), rel=1e-9)
    step3 = [point[0, 2] - ts.y[32], point[1, 2] - ts.y[34]]  # origin 33's is past the end
    per_step = score_combined(fold, fc, "test", "rmse", "median", per_step=True)
    assert per_step[2] == pytest.approx(math.sqrt(np.mean(np.square(step3))), rel=1e-9)
    bad = fc.copy()
    bad[0, 0, 0] = np.nan  # a member with a non-finite scored forecast is left out
    assert score_combined(fold, bad, "test", "rmse", "mean") == pytest.approx(
        score_combined(fold, fc[1:], "test", "rmse", "mean"))


def test_a_study_resumed_after_the_default_space_widened_keeps_its_choices(tmp_path):
    """A study made when the fitted default space searched window_norm none | last resumes
    with those choices after the fitted space offers level too (the declared space, which
    the stored configuration compares, is unchanged; Optuna refuses a categorical whose
    choices change within a study)."""
    from lstmtune.search._space import parse_space

    ts = load("shampoo")
    doc = {**DOC, "search": {**DOC["search"], "trials": 2, "final_repeats": 1}}
    declared = study_from_dict(doc)

    def fitted(norms, trials):
        space = parse_space({"units": {"int": [1, 3]}, "window_norm": {"choice": norms}})
        return replace(declared, space=space, declared=declared.space,
                       search=replace(declared.search, trials=trials))

    url = f"sqlite:///{tmp_path / 's.db'}"
    tune(ts, fitted(["none", "last"], 2), storage=url, study_name="s", until="search")
    said = []
    r = tune(ts, fitted(["none", "last", "level"], 4), storage=url, study_name="s",
             progress=said.append)
    assert len(r.study.trials) == 4
    assert {t.distributions["window_norm"].choices for t in r.study.trials} == {("none",
                                                                                  "last")}
    assert any("window_norm keep the choices its earlier trials recorded (window_norm: "
               "none | last)" in s for s in said)
