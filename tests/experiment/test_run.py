"""Experiments end to end on Shampoo, small: protocol, snapshots, files, CLI, recipe."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from lstmtune.cli import main
from lstmtune.data import load
from lstmtune.experiment import ExperimentSpec, recipe_specs, run_experiment

FIXED = (("stateful", True), ("units", 1), ("batch_size", 4), ("scale_on", "windows"),
         ("recurrent_activation", "hard_sigmoid"), ("shuffle", False))


def test_validation_protocol_never_touches_the_test_window():
    ts = load("shampoo")
    spec = ExperimentSpec(vary=(("epochs", (10, 20)),), fixed=FIXED, repeats=2,
                          score_on="validation", test_size=12, diagnostics=False)
    a = run_experiment(ts, spec)
    poisoned = ts.to_frame()
    poisoned.iloc[-12:, 0] = 1e9  # the test window replaced by nonsense
    b = run_experiment(load(poisoned["Sales"]), spec)
    pd.testing.assert_series_equal(a.scores["score"], b.scores["score"])
    assert a.window == "validation"


def test_epochs_values_are_snapshots_of_one_training():
    ts = load("shampoo")
    base = dict(fixed=FIXED, repeats=2, score_on="test", test_size=12, diagnostics=False,
                trim_start=2)
    both = run_experiment(ts, ExperimentSpec(vary=(("epochs", (10, 20)),), **base))
    assert both.populations == 1
    alone = run_experiment(ts, ExperimentSpec(vary=(("epochs", (10,)),), **base))
    np.testing.assert_allclose(both.values("10"), alone.values("10"), rtol=1e-5)


def test_mixed_units_share_one_padded_population_and_score_as_alone():
    ts = load("shampoo")
    base = dict(fixed=FIXED[:1] + FIXED[2:] + (("epochs", 15),), repeats=2, score_on="test",
                test_size=12, diagnostics=False, trim_start=2)
    both = run_experiment(ts, ExperimentSpec(vary=(("units", (1, 3)),), **base))
    assert both.populations == 1
    for u in ("1", "3"):
        alone = run_experiment(ts, ExperimentSpec(vary=(("units", (int(u),)),), **base))
        np.testing.assert_allclose(both.values(u), alone.values(u), rtol=1e-4)


def test_recipe_with_explicit_vary_runs_only_that_study():
    specs = recipe_specs("tutorial", vary=(("epochs", (20, 40)),), repeats=2)
    assert len(specs) == 1
    spec, study = specs[0]
    assert study == "epochs_study" and spec.score_on == "test" and spec.trim_start == 2
    assert dict(spec.fixed)["batch_size"] == 4 and "epochs" not in dict(spec.fixed)
    assert len(recipe_specs("tutorial", repeats=2)) == 3


def test_cli_json_files_and_protocol_note(tmp_path, capsys):
    out = tmp_path / "exp"
    code = main(["experiment", "shampoo", "--recipe", "tutorial", "--vary", "epochs=20,40",
                 "--repeats", "3", "--out", str(out), "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    study = doc["studies"][0]
    assert study["vary"] == "epochs" and study["window"] == "test"
    assert set(study["published"]) == {"500", "1000", "2000", "4000", "6000"}
    assert [r["params"] for r in study["results"]] == [{"epochs": 20}, {"epochs": 40}]
    assert all(len(r["scores"]) == 3 and r["count"] == 3 for r in study["results"])
    assert round(study["baseline"]["persistence"]["rmse"], 3) == 136.761
    names = sorted(p.name for p in out.iterdir())
    assert names == ["boxplot.png", "diagnostic_20.png", "diagnostic_40.png", "history.csv",
                     "report.html", "scores.csv", "summary.json"]
    scores = pd.read_csv(out / "scores.csv")
    assert len(scores) == 6 and set(scores["param_epochs"]) == {20, 40}


def test_cli_table_warns_about_the_test_protocol(tmp_path, capsys):
    code = main(["experiment", "shampoo", "--vary", "units=1,2", "--set", "epochs=10",
                 "--repeats", "2", "--score-on", "test", "--no-diagnostics",
                 "--out", str(tmp_path)])
    assert code == 0
    text = capsys.readouterr().out
    assert "do not select a configuration this way" in " ".join(text.split())
    assert "Mann-Whitney" in " ".join(text.split())


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["experiment", "shampoo", "--vary", "neuronz=1,2", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "valid names" in err and "units" in err
    assert main(["experiment", "shampoo", "--out", str(tmp_path)]) == 2
    assert "--vary" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
