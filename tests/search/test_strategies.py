"""Hyperband brackets by hand, pruning that stops a trial's members, hybrid, and the CLI."""

from __future__ import annotations

import json

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
    doc = _doc(strategy="random", pruner="median", trials=12, batch=6)
    doc["training"] = {"epochs": 40, "batch_size": 4}
    r = tune(load("shampoo"), study_from_dict(doc), storage=f"sqlite:///{tmp_path / 's.db'}",
             study_name="s")
    for t in r.study.trials:
        trained = t.user_attrs["members"]["epochs_trained"]
        assert len(set(trained)) == 1  # a trial's members stop together
        if t.state == TrialState.PRUNED:
            assert trained[0] < 40
    assert r.n_trials_complete + r.n_trials_pruned == 12


def test_hybrid_grid_searches_the_union_with_more_repeats(tmp_path):
    doc = _doc(strategy="hybrid", trials=8, batch=2, top_k=1)
    r = tune(load("shampoo"), study_from_dict(doc), storage=f"sqlite:///{tmp_path / 's.db'}",
             study_name="s")
    final = r.study.get_trials(states=(TrialState.COMPLETE,))
    assert 1 <= len(final) <= 4  # the union of each strategy's top 1
    assert all(len(t.user_attrs["scores"]) == 6 for t in final)  # 3 x repeats


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
    assert (tmp_path / "o" / "study.db").exists()
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
