"""The study loop: the test window is never seen, every repeat is stored, studies resume, and
every strategy passes one conformance test."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from lstmtune.data import load
from lstmtune.errors import ConfigError
from lstmtune.search import study_from_dict, tune
from lstmtune.search._storage import counted as _done
from lstmtune.search._tune import open_study

TINY = {"data": {"source": "shampoo", "test_size": 6, "val_size": 6},
        "training": {"epochs": 8, "batch_size": 4},
        "space": {"units": {"int": [1, 2]},
                  "learning_rate": {"float": [1e-3, 1e-1], "log": True}}}


def _cfg(strategy="random", trials=4, **search):
    doc = {**TINY, "search": {"strategy": strategy, "trials": trials, "repeats": 2,
                              "batch": 2, "final_repeats": 2, **search}}
    if strategy == "grid":
        doc = {**doc, "space": {"units": {"int": [1, 2]}, "learning_rate": {"choice": [0.01,
                                                                                       0.05]}}}
    if strategy == "hyperband":
        doc = {**doc, "training": {"epochs": 9, "batch_size": 4}}
    return study_from_dict(doc)


def _storage(tmp_path, name="s"):
    return f"sqlite:///{tmp_path / (name + '.db')}"


def test_the_test_window_is_never_seen_during_the_search(tmp_path):
    ts = load("shampoo")
    a = tune(ts, _cfg(), storage=_storage(tmp_path, "a"), study_name="s")
    poisoned = ts.to_frame()["Sales"].copy()
    poisoned.iloc[-6:] = 1e6  # the test window replaced by nonsense
    b = tune(load(poisoned), _cfg(), storage=_storage(tmp_path, "b"), study_name="s")
    va = [t.value for t in a.study.trials]
    vb = [t.value for t in b.study.trials]
    assert va == vb and a.best_params == b.best_params
    assert a.test["rmse"] != b.test["rmse"]  # ...only the final score reads it


def test_every_repeat_is_stored_and_the_value_aggregates_them(tmp_path):
    r = tune(load("shampoo"), _cfg(aggregate="median"), storage=_storage(tmp_path),
             study_name="s")
    for t in r.study.get_trials(states=(TrialState.COMPLETE,)):
        scores = t.user_attrs["members"]["score"]
        assert len(scores) == 2  # repeats x folds
        assert t.value == pytest.approx(float(pd.Series(scores).median()))
    assert r.n_trials_complete == 4 and len(r.test["scores"]) == 2
    assert set(r.baselines) == {"persistence", "seasonal_naive", "mean", "drift", "ses",
                                "theta", "ets"}


def test_rerunning_resumes_and_counts_what_is_done(tmp_path):
    ts, st = load("shampoo"), _storage(tmp_path)
    first = tune(ts, _cfg(trials=4), storage=st, study_name="s")
    before = [(t.number, t.params, t.value) for t in first.study.trials]
    again = tune(ts, _cfg(trials=4), storage=st, study_name="s")
    assert [(t.number, t.params, t.value) for t in again.study.trials] == before
    more = tune(ts, _cfg(trials=6), storage=st, study_name="s")
    assert len(more.study.trials) == 6
    assert [(t.number, t.params, t.value) for t in more.study.trials[:4]] == before


def test_trials_left_running_by_a_killed_process_are_failed_and_requeued(tmp_path):
    ts, st, cfg = load("shampoo"), _storage(tmp_path), _cfg(trials=3)
    study = open_study(cfg, st, "s", optuna.samplers.RandomSampler(seed=0))
    orphan = study.ask({"units": optuna.distributions.IntDistribution(1, 2),
                        "learning_rate": optuna.distributions.FloatDistribution(
                            1e-3, 1e-1, log=True)})
    r = tune(ts, cfg, storage=st, study_name="s")
    trials = r.study.trials
    assert trials[0].state == TrialState.FAIL  # the orphan
    assert any(t.params == orphan.params and t.state == TrialState.COMPLETE for t in trials[1:])
    assert _done(r.study) == 3 and r.n_trials_complete == 3


def test_a_changed_study_file_is_not_silently_resumed(tmp_path):
    from lstmtune.errors import ConfigError

    ts, st = load("shampoo"), _storage(tmp_path)
    tune(ts, _cfg(trials=2), storage=st, study_name="s")
    with pytest.raises(ConfigError, match="different study configuration"):
        tune(ts, _cfg(trials=2, repeats=3), storage=st, study_name="s")


def test_p_threshold_is_part_of_the_study_only_with_the_wilcoxon_pruner(tmp_path):
    from dataclasses import replace

    from lstmtune.errors import ConfigError

    st = _storage(tmp_path)
    for pruner, other_study in (("none", "a"), ("wilcoxon", "b")):
        cfg = _cfg(pruner=pruner)
        open_study(cfg, st, other_study)
        changed = replace(cfg, search=replace(cfg.search, p_threshold=0.05))
        if pruner == "none":  # irrelevant (and absent from studies made before it existed)
            open_study(changed, st, other_study)
        else:
            with pytest.raises(ConfigError, match="different study configuration"):
                open_study(changed, st, other_study)


def test_member_reports_are_fold_major_and_non_finite_ones_are_inf():
    from lstmtune.search._tune import report_members

    class Recorder:
        def __init__(self):
            self.reports = {}

        def report(self, value, step):
            self.reports[step] = value

    t = Recorder()
    report_members(t, np.array([3.0, np.nan, 5.0, -np.inf, 7.0, 8.0]), done=10)
    assert t.reports == {60: 3.0, 61: math.inf, 62: 5.0, 63: math.inf, 64: 7.0, 65: 8.0}


@pytest.mark.parametrize("strategy", ["random", "tpe", "gp", "cmaes", "ga", "grid",
                                      "hyperband"])
def test_strategy_conformance(strategy, tmp_path):
    """Bounds respected, deterministic under a seed, batch size honoured, resumes."""
    ts = load("shampoo")
    batches = []
    cfg = _cfg(strategy, trials=4)
    a = tune(ts, cfg, storage=_storage(tmp_path, "a"), study_name="s",
             on_batch=lambda study, budget: batches.append(
                 sum(t.state.is_finished() for t in study.trials)))
    b = tune(ts, cfg, storage=_storage(tmp_path, "b"), study_name="s")
    pa = [t.params for t in a.study.trials]
    assert pa == [t.params for t in b.study.trials]
    for p in pa:
        assert 1 <= p["units"] <= 2 and 1e-3 <= p["learning_rate"] <= 1e-1
    if strategy not in ("hyperband", "ga"):  # these size their own populations
        assert batches == [2, 4]
    c = tune(ts, _cfg(strategy, trials=6), storage=_storage(tmp_path, "a"), study_name="s")
    assert [t.params for t in c.study.trials[:4]] == pa
    assert _done(c.study) == (4 if strategy == "grid" else 6)  # a grid of 4 stops there


def test_a_candidate_that_cannot_be_framed_fails_only_its_trial(tmp_path):
    doc = {**TINY, "search": {"strategy": "grid", "trials": 4, "repeats": 1, "batch": 4,
                              "final_repeats": 1},
           "space": {"timesteps": {"choice": [1, 30]}, "units": {"choice": [1, 2]}}}
    r = tune(load("shampoo"), study_from_dict(doc), storage=_storage(tmp_path), study_name="s")
    failed = r.study.get_trials(states=(TrialState.FAIL,))
    assert {t.params["timesteps"] for t in failed} == {30} and len(failed) == 2
    assert "infeasible on this data" in failed[0].user_attrs["fail_reason"]
    assert r.n_trials_complete == 2 and r.best_params["timesteps"] == 1


def test_ctrl_c_keeps_the_finished_trials_of_the_batch(tmp_path, monkeypatch, capsys):
    """Ctrl-C after the first population of a batch: it is told as usual, the rest of the
    batch is queued again (not counted, not lost), and a rerun finishes the budget."""
    import os
    import signal

    import lstmtune.search._tune as loop
    from lstmtune.experiment._evaluate import ConfigScores
    from lstmtune.search._storage import INTERRUPTED

    def one_population_then_ctrl_c(folds, configs, *, cancelled, **kw):
        out = []
        for i, c in enumerate(configs):
            if i == 1:
                os.kill(os.getpid(), signal.SIGINT)
            if cancelled():
                out.append(None)
                continue
            out.append(ConfigScores(scores=np.array([10.0 + c["units"]] * 2),
                                    status=np.array(["complete"] * 2),
                                    epochs_trained=np.array([8, 8]), fold=np.array([0, 0]),
                                    repeat=np.array([0, 1]), seed=np.array([0, 1])))
        return out

    ts, st, cfg = load("shampoo"), _storage(tmp_path), _cfg(trials=3, batch=3)
    monkeypatch.setattr(loop, "evaluate_configs", one_population_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        tune(ts, cfg, storage=st, study_name="s")
    assert "Ctrl-C again to stop now" in capsys.readouterr().err
    study = optuna.load_study(study_name="s", storage=st)
    states = [t.state for t in study.trials]
    assert states[:3] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.FAIL]
    assert all(t.system_attrs.get(INTERRUPTED) for t in study.trials[1:3])
    assert _done(study) == 1
    monkeypatch.undo()
    r = tune(ts, cfg, storage=st, study_name="s")
    assert r.n_trials_complete == 3 and r.n_trials_failed == 0
    assert [t.params for t in r.study.trials[3:]] == [t.params for t in study.trials[1:3]]


def test_diverged_members_are_counted_and_scored_nan(tmp_path):
    """Learning rate 10 with SGD on raw values blows every member up: the trial fails with
    'M of M members diverged', its stored member scores are null (not the frozen weights'
    huge forecasts), and the error when nothing completes names that reason."""
    from lstmtune.errors import ConfigError

    doc = {**TINY, "preprocessing": {"scaler": "none", "difference": 0},
           "training": {"epochs": 50, "batch_size": 4, "optimizer": "sgd"},
           "search": {"strategy": "grid", "trials": 1, "repeats": 3, "batch": 1,
                      "final_repeats": 2},
           "space": {"learning_rate": {"choice": [10.0]}, "units": {"choice": [2]}}}
    st = _storage(tmp_path)
    with pytest.raises(ConfigError, match=r"no completed trial: 1 diverged \(e.g. 3 of 3 "
                                          r"members diverged"):
        tune(load("shampoo"), study_from_dict(doc), storage=st, study_name="s")
    (trial,) = optuna.load_study(study_name="s", storage=st).trials
    assert trial.state == TrialState.FAIL
    assert trial.user_attrs["fail_kind"] == "diverged"
    assert trial.user_attrs["members"]["score"] == [None, None, None]


def test_a_budget_of_one_batch_is_said_to_sample_like_random():
    from lstmtune.search._tune import batch_note

    note = batch_note(_cfg("tpe", trials=8, batch=8), 8)
    assert "fits in one batch of 8" in note and "like random search" in note
    assert "--trials 32" in note
    assert batch_note(_cfg("tpe", trials=9, batch=8), 9) is None  # one trial learns
    assert batch_note(_cfg("random", trials=4, batch=8), 4) is None  # random is random
    assert batch_note(_cfg("gp", trials=3, batch=4), 3) is not None


def test_a_grid_larger_than_the_budget_runs_a_seeded_random_subset_and_extends_it():
    import random

    from lstmtune.search._tune import _enqueue_grid

    space = {"units": {"int": [1, 3]}, "learning_rate": {"choice": [0.01, 0.05]}}
    cfg = study_from_dict({**TINY, "search": {"strategy": "grid", "seed": 7}, "space": space})
    grid = cfg.space.grid()
    assert len(grid) == 6

    def queued(study):
        return [t.system_attrs["fixed_params"] for t in study.trials]  # waiting: not asked yet

    study = optuna.create_study()
    note = _enqueue_grid(study, cfg, list(grid), 4)
    assert "6 candidates; the budget of 4 runs a random 4" in note
    order = list(grid)
    random.Random(7).shuffle(order)  # the seed's order, computed here
    assert queued(study) == order[:4]
    _enqueue_grid(study, cfg, list(grid), 5)  # a larger budget: the next one
    assert queued(study) == order[:5]
    _enqueue_grid(study, cfg, list(grid), 5)  # the same budget again: nothing more
    assert len(study.trials) == 5
    whole = optuna.create_study()  # a budget that covers the grid runs it in order
    assert "6 candidates, every one runs" in _enqueue_grid(whole, cfg, list(grid), 10)
    assert queued(whole) == grid
    _enqueue_grid(study, cfg, list(grid), 10)  # beyond the grid: the rest
    assert queued(study) == order
    older = optuna.create_study()  # queued whole by an earlier lstmtune: left alone
    older.set_user_attr("lstmtune:grid_enqueued", True)
    _enqueue_grid(older, cfg, list(grid), 4)
    assert older.trials == []


def test_tune_takes_a_pandas_series_and_keeps_the_study_in_memory_without_a_storage():
    series = load("shampoo").to_frame()["Sales"]  # a plain pandas Series, dates as index
    cfg = _cfg("random", trials=2, batch=2)
    r = tune(series, cfg)
    assert r.n_trials_complete == 2 and r.model.info["n_fit"] == 36  # refit on every point
    assert r.model.info["evaluated"]["n_fit"] == 36 - 6
    assert type(r.study._storage.backend).__name__ == "InMemoryStorage"
    again = tune(series, cfg)  # no storage: a new study, not the first one resumed
    assert again.study._storage is not r.study._storage and again.n_trials_complete == 2
    with pytest.raises(ConfigError, match="memory:// \\(this process only\\)"):
        tune(series, cfg, storage="nonsense")
