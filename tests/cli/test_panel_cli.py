"""Panels from the command line, as a user runs them: a study on a small long table (tune,
its report in Chromium, predict every series into a long table, resume; SIGKILLed and
resumed), the built-in M1 panels, and every bad input refused in one line with exit code 2
and nothing written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from lstmtune.cli import main
from lstmtune.data import load_panel
from tests._browser import artifacts_dir, browser_fixture  # noqa: F401 (fixture "browser")

STUDY = """
[data]
task = "panel"
source = "toy.csv"
[model]
horizon = 4
units = 3
timesteps = 3
[preprocessing]
deseasonalise = true
[training]
epochs = 6
batch_size = 8
global_epochs = 3
global_batch_size = 32
[search]
strategy = "random"
trials = 3
repeats = 2
batch = 3
final_repeats = 2
[space]
model = { choice = ["local", "global"] }
learning_rate = { float = [0.005, 0.05], log = true }
"""

SECTIONS = ["summary", "verdict", "leaderboard", "best", "distribution", "coverage", "series",
            "repeats", "importance", "parallel", "members"]


def _toy(path, n_series=20, seed=0, lengths=(30, 48)):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_series):
        n = int(rng.integers(*lengths))
        t = np.arange(n)
        y = (50 + 5 * i + 0.3 * t) * (1 + 0.2 * np.sin(2 * np.pi * (t + i) / 12)) + \
            rng.normal(0, 1, n)
        start = pd.Timestamp("2010-01-01") + pd.DateOffset(months=int(rng.integers(0, 12)))
        rows.append(pd.DataFrame({"unique_id": f"S{i}", "ds": pd.date_range(
            start, periods=n, freq="MS"), "y": y}))
    pd.concat(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    root = tmp_path_factory.mktemp("panel")
    _toy(root / "toy.csv")
    (root / "toy.toml").write_text(STUDY)
    code = main(["tune", str(root / "toy.toml"), "--out", str(root / "out"), "--json"])
    return root, code


def test_tune_a_panel(tuned, capsys):
    root, code = tuned
    assert code == 0
    folder = root / "out" / "toy"
    assert {p.name for p in folder.iterdir()} >= {"study.db", "model", "report.html",
                                                  "leaderboard.csv"}
    study = optuna.load_study(study_name="toy", storage=f"sqlite:///{folder / 'study.db'}")
    final = study.user_attrs["lstmtune:final"]
    table = final["test"]["table"]
    assert set(table) == {"lstm", "lstm_per_series", "naive", "snaive", "naive2", "ses",
                          "theta", "ets"}
    assert table["naive2"]["owa"] == pytest.approx(1.0)
    assert len(final["per_series"]["ids"]) == 20 and final["split"]["horizon"] == 4
    # a trial's members: every series × repeat, each with its series index
    for t in study.get_trials(states=(TrialState.COMPLETE,)):
        m = t.user_attrs["members"]
        assert sorted(zip(m["series"], m["repeat"], strict=True)) == \
            [(s, r) for s in range(20) for r in range(2)]
        assert t.value == pytest.approx(np.mean(m["score"]))
    comp = final["test"]["comparisons"]["lstm vs theta"]
    per = final["per_series"]
    d = np.asarray(per["lstm"]["smape"]) - np.asarray(per["theta"]["smape"])
    assert comp["mean_diff"] == pytest.approx(d.mean())
    assert comp["win_rate"] == pytest.approx(((d < 0).sum() + 0.5 * (d == 0).sum()) / 20)


def test_the_stored_coverage_is_the_share_of_test_points_inside_the_intervals(tuned):
    root, _ = tuned
    study = optuna.load_study(study_name="toy",
                              storage=f"sqlite:///{root / 'out' / 'toy' / 'study.db'}")
    final, fc = study.user_attrs["lstmtune:final"], study.user_attrs["lstmtune:forecast"]
    for level in ("0.8", "0.95"):
        inside = [(np.asarray(fc[i][f"interval_{level}"][0]) <= fc[i]["actual"])
                  & (np.asarray(fc[i]["actual"]) <= fc[i][f"interval_{level}"][1])
                  for i in final["per_series"]["ids"]]
        assert final["test"]["coverage"][level]["coverage"] == pytest.approx(np.mean(inside))
    q80, q95 = (np.asarray(final["test"]["coverage"][k]["quantile"]) for k in ("0.8", "0.95"))
    assert (q80 <= q95).all() and (q80 > 0).all()


def test_the_panel_scores_are_recomputable_from_the_stored_forecasts(tuned):
    root, _ = tuned
    url = f"sqlite:///{root / 'out' / 'toy' / 'study.db'}"
    study = optuna.load_study(study_name="toy", storage=url)
    final, fc = study.user_attrs["lstmtune:final"], study.user_attrs["lstmtune:forecast"]
    panel = load_panel(root / "toy.csv")
    smapes = []
    for sid in final["per_series"]["ids"]:
        y = panel.series[sid].y
        np.testing.assert_allclose(fc[sid]["actual"], y[-4:])
        f = np.asarray(fc[sid]["lstm"])
        smapes.append(np.mean(200 * np.abs(f - y[-4:]) / (np.abs(f) + np.abs(y[-4:]))))
    np.testing.assert_allclose(final["per_series"]["lstm"]["smape"], smapes, rtol=1e-9)


@pytest.mark.browser
@pytest.mark.slow
def test_the_panel_report_in_a_browser(tuned, browser):
    root, _ = tuned
    page = browser.render(root / "out" / "toy" / "report.html",
                          screenshot=artifacts_dir("report") / "panel-report.png")
    page.assert_clean(warnings=True)
    assert page.section_ids == SECTIONS
    assert page.images and all(i.decoded for i in page.images)
    text = (root / "out" / "toy" / "report.html").read_text()
    assert "LSTM, per-series best" in text and "Wilcoxon" in text and "worst series" in text


def test_predict_every_series_into_a_long_table(tuned, capsys):
    root, _ = tuned
    capsys.readouterr()
    assert main(["predict", str(root / "out" / "toy" / "model"), str(root / "toy.csv"),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = pd.DataFrame(out["forecast"])
    assert out["series"] == 20 and out["horizon"] == 4
    assert sorted(rows["unique_id"].unique()) == sorted(f"S{i}" for i in range(20))
    assert (rows["lo_95"] <= rows["lo_80"]).all() and (rows["lo_80"] <= rows["forecast"]).all()
    assert (rows["forecast"] <= rows["hi_80"]).all() and (rows["hi_80"] <= rows["hi_95"]).all()
    panel = load_panel(root / "toy.csv")
    last = panel.series["S0"].index[-1]
    assert rows[rows["unique_id"] == "S0"]["ds"].iloc[0] == \
        (last + pd.DateOffset(months=1)).strftime("%Y-%m-%d")
    # the model saved with --no-refit (the study evaluated again in a copy), given each
    # series without its test window, forecasts that window as the final evaluation did
    # (deseasonalised: the seasonal indices at the right phase)
    copy = root / "kept"
    shutil.copytree(root / "out", copy)
    capsys.readouterr()
    assert main(["tune", str(root / "toy.toml"), "--out", str(copy), "--no-refit",
                 "--json"]) == 0
    table = pd.read_csv(root / "toy.csv")
    table[table.groupby("unique_id").cumcount(ascending=False) >= 4].to_csv(
        root / "dev.csv", index=False)
    capsys.readouterr()
    assert main(["predict", str(copy / "toy" / "model"), str(root / "dev.csv"),
                 "--json"]) == 0
    again = pd.DataFrame(json.loads(capsys.readouterr().out)["forecast"])
    assert main(["predict", str(root / "out" / "toy" / "model"), str(root / "dev.csv"),
                 "--json"]) == 0
    refit = pd.DataFrame(json.loads(capsys.readouterr().out)["forecast"])
    assert not np.allclose(refit["forecast"], again["forecast"])  # refit on every point
    url = f"sqlite:///{copy / 'toy' / 'study.db'}"
    stored = optuna.load_study(study_name="toy", storage=url).user_attrs["lstmtune:forecast"]
    assert optuna.load_study(study_name="toy", storage=url).user_attrs[
        "lstmtune:final"]["config"]["deseasonalise"] is True
    for sid in ("S0", "S7", "S19"):
        np.testing.assert_allclose(again[again["unique_id"] == sid]["forecast"],
                                   stored[sid]["lstm"], rtol=1e-4)
    assert main(["predict", str(root / "out" / "toy" / "model"), str(root / "toy.csv"),
                 "--series", "S2", "--horizon", "2", "--csv"]) == 0
    csv = capsys.readouterr().out.strip().splitlines()
    assert csv[0].startswith("unique_id,ds,step,forecast") and len(csv) == 3


def test_running_again_resumes_without_refitting(tuned, capsys, monkeypatch):
    import lstmtune.search._panel as panel_module

    root, _ = tuned
    url = f"sqlite:///{root / 'out' / 'toy' / 'study.db'}"
    before = {t.number: t.value for t in optuna.load_study(study_name="toy", storage=url)
              .get_trials(states=(TrialState.COMPLETE,))}

    def refit(*args, **kwargs):
        raise AssertionError("the classical methods were fitted again")

    monkeypatch.setattr(panel_module, "classical_forecasts", refit)
    capsys.readouterr()
    assert main(["tune", str(root / "toy.toml"), "--out", str(root / "out"), "--trials", "4",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_trials_complete"] == 4  # three kept, one more
    after = {t.number: t.value for t in optuna.load_study(study_name="toy", storage=url)
             .get_trials(states=(TrialState.COMPLETE,))}
    assert {k: after[k] for k in before} == before


@pytest.mark.slow
def test_sigkill_then_resume_loses_nothing(tmp_path):
    _toy(tmp_path / "toy.csv")
    (tmp_path / "toy.toml").write_text(STUDY.replace("trials = 3", "trials = 6").replace(
        "batch = 3", "batch = 1"))
    cmd = [sys.executable, "-m", "lstmtune", "tune", str(tmp_path / "toy.toml"), "--out",
           str(tmp_path / "out"), "--json"]
    db = tmp_path / "out" / "toy" / "study.db"
    url = f"sqlite:///{db}"

    def complete() -> list[tuple]:
        """Completed trials, read without Optuna (which would create the schema while the
        study's own process does)."""
        if not db.exists():
            return []
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as con:
                return sorted(con.execute(
                    "SELECT t.number, v.value FROM trials t JOIN trial_values v ON "
                    "v.trial_id = t.trial_id WHERE t.state = 'COMPLETE'").fetchall())
        except sqlite3.OperationalError:  # schema not created yet
            return []

    log = open(tmp_path / "first.err", "w")  # noqa: SIM115 — read below when it fails
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.time() + 300
    while len(complete()) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    log.close()
    before = complete()
    assert len(before) >= 2, (tmp_path / "first.err").read_text()[-2000:]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    after = complete()
    assert len(after) == 6 and set(before) <= set(after)  # nothing lost, nothing redone
    study = optuna.load_study(study_name="toy", storage=url)
    assert not study.get_trials(states=(TrialState.RUNNING,))


def test_the_built_in_m1_panels():
    monthly = load_panel("m1_monthly")
    assert len(monthly) == 617 and monthly.horizon == 18
    assert {ts.season for ts in monthly} == {12}
    lengths = [len(ts) for ts in monthly]
    assert min(lengths) == 48 and max(lengths) == 150  # 30–132 training points + 18 test
    quarterly = load_panel("m1_quarterly")
    assert len(quarterly) == 203 and quarterly.horizon == 8


def _refused(capsys, args, match, where):
    before = sorted(p.name for p in where.iterdir())
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert match in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in where.iterdir()) == before


@pytest.mark.slow
def test_the_test_windows_change_nothing_before_the_end(tmp_path):
    """Every series' last 4 points multiplied by 50: the search, the per-series choice and
    the conformal quantiles are the same to the last digit (they never read them)."""
    _toy(tmp_path / "toy.csv")
    table = pd.read_csv(tmp_path / "toy.csv")
    last = table.groupby("unique_id").cumcount(ascending=False) < 4
    table.loc[last, "y"] *= 50
    table.to_csv(tmp_path / "changed.csv", index=False)
    finals = []
    for name in ("toy", "changed"):
        (tmp_path / f"{name}.toml").write_text(STUDY.replace('"toy.csv"', f'"{name}.csv"')
                                               .replace("trials = 3", "trials = 2"))
        assert main(["tune", str(tmp_path / f"{name}.toml"), "--out", str(tmp_path / "o"),
                     "--json"]) == 0
        study = optuna.load_study(study_name=name,
                                  storage=f"sqlite:///{tmp_path / 'o' / name / 'study.db'}")
        finals.append((sorted((t.number, t.value) for t in study.trials),
                       study.user_attrs["lstmtune:final"]))
    (trials_a, a), (trials_b, b) = finals
    assert trials_a == trials_b
    assert a["per_series"]["choice"] == b["per_series"]["choice"]
    for level in ("0.8", "0.95"):
        assert a["test"]["coverage"][level]["quantile"] == \
            b["test"]["coverage"][level]["quantile"]
    assert a["test"]["table"]["lstm"]["smape"] != b["test"]["table"]["lstm"]["smape"]


def test_bad_panels_are_refused_in_one_line(tmp_path, capsys):
    out = ["--out", str(tmp_path / "o")]
    good = pd.read_csv(_toy(tmp_path / "good.csv"))
    pd.concat([good, good.iloc[[3]]]).to_csv(tmp_path / "dup.csv", index=False)
    _refused(capsys, ["tune", str(tmp_path / "dup.csv"), "--task", "panel", "--horizon", "4",
                      *out], "series 'S0' has 2 rows sharing a time", tmp_path)
    short = pd.concat([good[good.unique_id != "S3"],
                       good[good.unique_id == "S3"].head(9)])
    short.to_csv(tmp_path / "short.csv", index=False)
    _refused(capsys, ["tune", str(tmp_path / "short.csv"), "--task", "panel", "--horizon",
                      "4", *out], "series 'S3' has 9 points: too short", tmp_path)
    good.rename(columns={"unique_id": "store"}).to_csv(tmp_path / "noid.csv", index=False)
    _refused(capsys, ["tune", str(tmp_path / "noid.csv"), "--task", "panel", "--horizon",
                      "4", *out], "has no id column 'unique_id'", tmp_path)
    mixed = good.copy()
    s1 = mixed.unique_id == "S1"
    mixed.loc[s1, "ds"] = pd.date_range("2010-01-01", periods=int(s1.sum()), freq="W-SUN"
                                        ).strftime("%Y-%m-%d")
    mixed.to_csv(tmp_path / "mixed.csv", index=False)
    _refused(capsys, ["tune", str(tmp_path / "mixed.csv"), "--task", "panel", "--horizon",
                      "4", *out], "mixes frequencies", tmp_path)
    _refused(capsys, ["tune", str(tmp_path / "good.csv"), "--task", "panel", *out],
             "set it in [model], e.g. horizon = 12", tmp_path)
    _refused(capsys, ["tune", "m1_monthly", "--metric", "rmse", *out],
             "not comparable across the series", tmp_path)
    _refused(capsys, ["tune", "m1_monthly", "--test-size", "5", *out],
             "--test-size does not apply to a panel", tmp_path)
    (tmp_path / "f.toml").write_text('[data]\nsource = "shampoo"\n[space]\nmodel = '
                                     '{ choice = ["local", "global"] }\n')
    _refused(capsys, ["tune", str(tmp_path / "f.toml"), *out],
             'model applies to a panel of series: add [data] task = "panel"', tmp_path)
    _refused(capsys, ["tune", "shampoo", "--id-col", "x", *out],
             "--id-col applies to a panel", tmp_path)
    _refused(capsys, ["tune", "m1_monthly", "--strategy", "hyperband", *out],
             "a global model trains global_epochs", tmp_path)
    good.head(0).to_csv(tmp_path / "empty.csv", index=False)
    _refused(capsys, ["tune", str(tmp_path / "empty.csv"), "--task", "panel", "--horizon",
                      "4", *out], "has no rows", tmp_path)
    zero = good.copy()
    s2 = zero.index[zero.unique_id == "S2"]
    zero.loc[s2[-6], "y"] = 0.0  # inside S2's validation window (the 4 before its test)
    zero.to_csv(tmp_path / "zero.csv", index=False)
    _refused(capsys, ["tune", str(tmp_path / "zero.csv"), "--task", "panel", "--horizon", "4",
                      "--metric", "mape", *out],
             "metric = mape is undefined on series 'S2'", tmp_path)


def test_panel_study_files_are_checked(tmp_path):
    from lstmtune.errors import ConfigError
    from lstmtune.search import study_from_dict

    cfg = study_from_dict({"data": {"task": "panel", "source": "m1_monthly"}})
    assert cfg.task.horizon == 18 and cfg.task.metric == "smape"
    assert dict(cfg.fixed)["origin_step"] == 18 and dict(cfg.fixed)["multistep"] == "recursive"
    with pytest.raises(ConfigError, match="hyperband"):
        study_from_dict({"data": {"task": "panel", "source": "m1_monthly"},
                         "search": {"strategy": "hyperband"}})
    local = study_from_dict({"data": {"task": "panel", "source": "m1_monthly"},
                             "model": {"model": "local"}, "search": {"strategy": "hyperband"},
                             "space": {"units": {"int": [2, 4]}}})
    assert local.search.strategy == "hyperband"
    with pytest.raises(ConfigError, match="origin_step is the horizon"):
        study_from_dict({"data": {"task": "panel", "source": "m1_monthly"},
                         "model": {"origin_step": 1}})
    with pytest.raises(ConfigError, match="id_col applies to"):
        study_from_dict({"data": {"source": "shampoo", "id_col": "x"}})


def test_a_configuration_one_series_cannot_take_fails_only_its_trial(tmp_path):
    """log = true on a panel where one series (not the shortest) holds a 0: that trial is
    infeasible, naming the series; the other completes and the study finishes."""
    from lstmtune.data import load_panel as read
    from lstmtune.search import study_from_dict, tune

    table = pd.read_csv(_toy(tmp_path / "toy.csv", n_series=4, lengths=(40, 48)))
    longest = table.groupby("unique_id").size().idxmax()
    table.loc[table.index[table.unique_id == longest][2], "y"] = 0.0
    cfg = study_from_dict({
        "data": {"task": "panel", "source": "x"},
        "model": {"horizon": 4, "units": 2, "timesteps": 3, "model": "local"},
        "training": {"epochs": 2, "batch_size": 8},
        "search": {"strategy": "grid", "trials": 2, "repeats": 1, "final_repeats": 2},
        "space": {"log": {"choice": [True, False]}}})
    table.to_csv(tmp_path / "p.csv", index=False)
    r = tune(read(tmp_path / "p.csv"), cfg)
    assert r.n_trials_complete == 1 and r.n_trials_failed == 1
    assert f"series '{longest}'" in r.failures["infeasible"]["example"]
    assert r.best_params == {"log": False}
