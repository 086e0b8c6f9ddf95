"""Hyperband brackets by hand, pruning that stops a trial's members, the Wilcoxon pruner's
per-member reports, hybrid, and the CLI."""

from __future__ import annotations

import json

import pytest
from optuna.trial import TrialState

from lstmtune.cli import main
from lstmtune.data import load
from lstmtune.search import study_from_dict, tune
from lstmtune.search._strategies import brackets


def test_hyperband_brackets_by_hand():
    # max 27 epochs, eta 3: s_max = 2; n = ceil(3/(s+1) * 3^s); rungs 27 * 3^-(s-i)
    assert brackets(27) == [(9, [3, 9]), (5, [9]), (3, [])]
    assert brackets(9) == [(3, [3]), (2, [])]


def _doc(**search):
    return {"data": {"source": "shampoo", "test_size": 6, "val_size": 6},
            "training": {"epochs": 9, "batch_size": 4},
            "search": {"trials": 6, "repeats": 2, "batch": 6, "final_repeats": 2, **search},
            "space": {"units": {"int": [1, 2]},
                      "learning_rate": {"float": [1e-4, 1e-1], "log": True}}}


def test_hyperband_stops_members_at_rungs_and_survivors_continue(tmp_path):
    r = tune(load("shampoo"), study_from_dict(_doc(strategy="hyperband")),
             storage=f"sqlite:///{tmp_path / 's.db'}", study_name="s")
    trials = r.study.trials
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert pruned and complete
    # the first bracket (3 configurations, rung at 3 epochs) keeps 1 of 3
    for t in pruned:
        assert max(t.user_attrs["members"]["epochs_trained"]) == 3
        assert list(t.intermediate_values) == [3]
    for t in complete:
        assert max(t.user_attrs["members"]["epochs_trained"]) == 9


def test_median_pruner_stops_whole_trials(tmp_path):
    # 500 epochs: chunks of 250, so the pruner is asked once, half-way (with 40 epochs the
    # population trains in one chunk and nothing is ever reported)
    doc = _doc(strategy="random", pruner="median", trials=8, batch=4)
    doc["training"] = {"epochs": 500, "batch_size": 4}
    r = tune(load("shampoo"), study_from_dict(doc), storage=f"sqlite:///{tmp_path / 's.db'}",
             study_name="s")
    for t in r.study.trials:
        trained = t.user_attrs["members"]["epochs_trained"]
        assert len(set(trained)) == 1  # a trial's members stop together
        assert list(t.intermediate_values) == [250]  # the aggregate, once per chunk end
        assert trained[0] == (250 if t.state == TrialState.PRUNED else 500)
    assert r.n_trials_pruned > 0
    assert r.n_trials_complete + r.n_trials_pruned == 8


def _wilcoxon_doc(space: dict, **search) -> dict:
    return {"data": {"source": "shampoo", "test_size": 6, "val_size": 6, "folds": 2},
            "training": {"batch_size": 4},
            "search": {"strategy": "grid", "repeats": 2, "final_repeats": 1,
                       "pruner": "wilcoxon", **search},
            "space": space}


def test_wilcoxon_reports_every_member_at_step_epochs_times_members_plus_member(tmp_path):
    # one population: epochs 4 and 8 share it, so its first chunk ends at epoch 4; members
    # are fold-major (fold 0: repeats 0, 1; fold 1: repeats 0, 1), M = 2 folds x 2 repeats
    doc = _wilcoxon_doc({"epochs": {"choice": [4, 8]},
                         "learning_rate": {"choice": [0.01, 0.05]}}, trials=4, batch=4)
    r = tune(load("shampoo"), study_from_dict(doc), storage=f"sqlite:///{tmp_path / 's.db'}",
             study_name="s")
    trials = {(t.params["epochs"], t.params["learning_rate"]): t for t in r.study.trials}
    assert len(trials) == 4 and all(t.state == TrialState.COMPLETE for t in trials.values())
    for lr in (0.01, 0.05):
        short, long = trials[4, lr], trials[8, lr]
        members = short.user_attrs["members"]
        assert members["fold"] == [0, 0, 1, 1] and members["repeat"] == [0, 1, 0, 1]
        # after 4 epochs the 4-epoch trial is finished: its reports are its final scores
        expected = {4 * 4 + m: score for m, score in enumerate(members["score"])}
        assert short.intermediate_values == pytest.approx(expected, rel=1e-9)
        # the 8-epoch trial's members (same seeds) were in the same state at epoch 4
        assert long.intermediate_values == pytest.approx(expected, rel=1e-9)
        assert long.user_attrs["members"]["score"] != members["score"]


@pytest.mark.parametrize("p_threshold,pruned", [(0.1, True), (0.001, False)])
def test_wilcoxon_prunes_a_clearly_bad_region_and_stops_its_members(tmp_path, p_threshold,
                                                                   pruned):
    # the grid's first batch (good learning rates) completes; the second (far too large) is
    # paired with the best one's 6 members at the chunk end after 250 of 500 epochs: all 6
    # pairs worse gives p = 1/64, below 0.1 but not below 0.001
    doc = _wilcoxon_doc({"learning_rate": {"choice": [0.0005, 0.0007, 0.08, 0.1]}},
                        trials=4, batch=2, repeats=3, p_threshold=p_threshold)
    doc["training"]["epochs"] = 500
    r = tune(load("shampoo"), study_from_dict(doc), storage=f"sqlite:///{tmp_path / 's.db'}",
             study_name="s")
    for t in r.study.trials:
        trained = t.user_attrs["members"]["epochs_trained"]
        assert sorted(t.intermediate_values) == [250 * 6 + m for m in range(6)]
        if t.params["learning_rate"] < 0.01 or not pruned:
            assert t.state == TrialState.COMPLETE and trained == [500] * 6
        else:
            assert t.state == TrialState.PRUNED and trained == [250] * 6
    assert r.n_trials_pruned == (2 if pruned else 0)
    assert r.best_params["learning_rate"] < 0.01


def test_hybrid_grid_searches_the_union_with_more_repeats(tmp_path):
    doc = _doc(strategy="hybrid", trials=8, batch=2, top_k=1)
    r = tune(load("shampoo"), study_from_dict(doc), storage=f"sqlite:///{tmp_path / 's.db'}",
             study_name="s")
    final = r.study.get_trials(states=(TrialState.COMPLETE,))
    assert 1 <= len(final) <= 4  # the union of each strategy's top 1
    assert all(len(t.user_attrs["members"]["score"]) == 6 for t in final)  # 3 x repeats


def test_cli_tune_json_and_compare(tmp_path, capsys):
    (tmp_path / "s.toml").write_text('''
[data]
source = "shampoo"
test_size = 6
val_size = 6
[training]
epochs = 8
[search]
strategy = "random"
trials = 4
repeats = 2
batch = 2
final_repeats = 2
[space]
units = { int = [1, 2] }
''')
    assert main(["tune", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for key in ("best_params", "best_value", "test", "baselines", "n_trials_complete",
                "n_trials_failed", "wall_seconds"):
        assert key in doc
    assert doc["n_trials_complete"] == 4 and len(doc["test"]["scores"]) == 2
    assert (tmp_path / "o" / "s" / "study.db").exists()  # the study's own folder
    assert {p.name for p in (tmp_path / "o" / "s").iterdir()} >= {"model", "report.html",
                                                                  "leaderboard.csv"}
    assert main(["compare", str(tmp_path / "s.toml"), "--strategies", "random,tpe",
                 "--budget", "2", "--out", str(tmp_path / "c"), "--json"]) == 0
    table = json.loads(capsys.readouterr().out)["table"]
    assert [row["method"] for row in table] == ["random", "tpe"]
    assert all(row["trials"] == 2 for row in table)


def test_cli_tune_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text("[search]\nstrategy = 'bayes'\n")
    assert main(["tune", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "strategy = 'bayes'" in err
    assert not (tmp_path / "o").exists()
