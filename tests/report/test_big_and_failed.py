"""Big studies stay small in the report (sampled plots, a bounded trial table, a bounded
importance sample), and failed (diverged) members are shown apart, never as numbers."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from lstmtune.report import _load, _plots, _study
from lstmtune.report._load import load_study_tables
from lstmtune.report._study import render_study
from tests.report._fixtures import pngs, section_html, study_tables

# the default space's other hyperparameters (the fixture has learning_rate, units, optimizer)
WIDE = {"layers": [1, 2], "timesteps": list(range(1, 13)), "dropout": None,
        "recurrent_dropout": None, "batch_size": [4, 8, 16], "epochs": [100, 200, 400],
        "activation": ["tanh", "relu"], "l2": None, "difference": [0, 1],
        "scaler": ["minmax", "standard"], "momentum": None}


def _wide(t, seed: int = 1):
    """``t`` with the default space's 14 hyperparameters (what makes a real report wide)."""
    rng = np.random.default_rng(seed)
    trials = t.trials.copy()
    n = len(trials)
    for p, values in WIDE.items():
        trials[f"param_{p}"] = rng.uniform(0, 0.5, n) if values is None else \
            [values[i] for i in rng.integers(len(values), size=n)]
    trials.loc[trials["param_optimizer"] != "sgd", "param_momentum"] = math.nan
    return dataclasses.replace(t, trials=trials)


def _rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>")[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
            for r in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def _reasons(summary: str) -> list[list[str]]:
    """The rows of the summary's failure-reason table."""
    return _rows(summary.split("by reason")[1].split("</table>")[0])


@pytest.fixture(scope="module")
def big():
    """10,000 trials over 14 hyperparameters, rendered once."""
    t = _wide(study_tables(10_000, seed=3))
    return t, render_study(t)


def test_report_of_10000_trials_stays_under_1_mb(big):
    t, page = big
    assert len(page.encode()) <= 1_000_000
    assert len(pngs(page)) == 8


def test_big_report_says_what_it_sampled(big):
    t, page = big
    done = int((t.trials["state"] == "COMPLETE").sum())
    phrase = f"the best 500 and a random 1,000 of the other {done - 500:,} complete trials"
    assert phrase in section_html(page, "history")
    par = section_html(page, "parallel")
    assert par.count(phrase) == 2  # parallel coordinates and slices
    trials = section_html(page, "members")
    n = len(_rows(trials))
    assert 150 <= n <= _study.TRIAL_ROWS
    assert f"{n:,} of the 10,000 trials: the 150 best complete trials and the 150 most " \
           "recent" in trials
    numbers = [int(r[0]) for r in _rows(trials)]
    assert 9999 in numbers and numbers == sorted(numbers)
    best = int(t.trials.loc[t.trials["value"].idxmin(), "number"])
    assert best in numbers


def test_sample_keeps_the_best_and_is_seeded():
    t = study_tables(3000, seed=4)
    a, b = _plots.sample_complete(t.trials), _plots.sample_complete(t.trials)
    assert a.index.equals(b.index) and len(a) == 1500
    done = t.trials[t.trials["state"] == "COMPLETE"].sort_values(["value", "number"])
    assert set(done["number"].head(500)) <= set(a["number"])
    assert (np.diff(a["number"].to_numpy()) > 0).all()  # in their order
    small = study_tables(40)
    assert len(_plots.sample_complete(small.trials)) == (small.trials["state"] == "COMPLETE").sum()
    assert _plots.sample_phrase(1500) is None


def _with_failed_members() -> tuple:
    """The fixture study with 2 of the best trial's 6 member scores failed (NaN), one of the
    second best's, the final test with two failed members (None and NaN as loaded)."""
    t = study_tables()
    done = t.trials[t.trials["state"] == "COMPLETE"].sort_values("value")
    first, second = int(done["number"].iloc[0]), int(done["number"].iloc[1])
    members = t.members.copy()
    idx = members.index[members["trial"] == first][:2].tolist() + \
        members.index[members["trial"] == second][:1].tolist()
    members.loc[idx, "score"] = math.nan
    test = {**t.final["test"], "failed": 2,
            "scores": [*t.final["test"]["scores"][:3], None, math.nan]}
    final = {**t.final, "test": test}
    return dataclasses.replace(t, members=members, final=final), first, second


def test_leaderboard_uses_finite_scores_and_counts_failed_members():
    t, first, second = _with_failed_members()
    page = render_study(t)
    rows = _rows(section_html(page, "leaderboard"))
    by_trial = {int(r[1]): r for r in rows}
    s = t.members.loc[t.members["trial"] == first, "score"].dropna()
    assert by_trial[first][3] == f"{s.mean():.3f} ± {s.std(ddof=1):.3f}"
    assert by_trial[first][4] == "4 (2 failed)"
    assert by_trial[second][4] == "5 (1 failed)"
    assert "nan" not in section_html(page, "leaderboard").lower()


def test_repeats_draw_finite_members_and_say_how_many_failed():
    t, _, _ = _with_failed_members()
    page = render_study(t)
    rep = section_html(page, "repeats")
    assert rep.count("<img") == 1
    assert "3 failed (diverged) member(s) have no score" in rep


def test_best_members_table_shows_failed_members_as_failed():
    t, _, _ = _with_failed_members()
    best = section_html(render_study(t), "best")
    assert "(5 repeats, 2 failed)" in best
    assert "Test RMSE of each member (5 members, 2 failed)" in best
    table = best.split("Test RMSE of each member")[1]
    cells = [r[1] for r in _rows(table)]
    assert cells[:3] == [f"{s:.3f}" for s in t.final["test"]["scores"][:3]]
    assert cells[3:] == ["failed (diverged)"] * 2
    assert "nan" not in best.lower()
    fc = section_html(render_study(t), "forecast")
    assert "3 members that did not fail" in fc and "2 member(s) diverged" in fc


def test_summary_counts_failed_trials_by_reason():
    t = study_tables(120)
    trials = t.trials.copy()
    fail = trials.index[trials["state"] == "FAIL"]
    reasons = ["2 of 6 members diverged (loss or forecasts NaN/inf)"] * 3 + \
        ["infeasible on this data: timesteps 12 > 10 windows"] * 2 + [None] * 2 + \
        [f"odd reason {k}" for k in range(len(fail) - 7)]
    trials.loc[fail, "fail_reason"] = reasons
    members = t.members.copy()
    members.loc[members.index[:4], "score"] = math.nan
    page = render_study(dataclasses.replace(t, trials=trials, members=members))
    s = section_html(page, "summary")
    assert f"Failed trials ({len(fail)}) by reason" in s
    rows = _reasons(s)
    assert rows[0] == ["2 of 6 members diverged (loss or forecasts NaN/inf)", "3"]
    assert rows[1] == ["infeasible on this data: timesteps 12 &gt; 10 windows", "2"]
    assert rows[2] == ["no reason stored", "2"]
    assert sum(int(r[1]) for r in rows) == len(fail)
    assert "4 of " in s and "member scores failed" in s


def test_many_reasons_are_grouped():
    t = study_tables(200)
    trials = t.trials.copy()
    fail = trials.index[trials["state"] == "FAIL"]
    trials.loc[fail, "fail_reason"] = [f"reason {k}" for k in range(len(fail))]
    s = section_html(render_study(dataclasses.replace(t, trials=trials)), "summary")
    rows = _reasons(s)
    assert len(rows) == _study.FAIL_REASONS + 1
    assert rows[-1] == [f"{len(fail) - _study.FAIL_REASONS} other reasons",
                        str(len(fail) - _study.FAIL_REASONS)]


def _study_with(n_complete: int, *, seed: int = 0) -> optuna.Study:
    """An in-memory study as ``tune`` stores one: complete trials with member scores (some
    None: diverged), two failed trials with reasons."""
    rng = np.random.default_rng(seed)
    study = optuna.create_study(direction="minimize")
    dists = {"units": IntDistribution(1, 64, log=True),
             "learning_rate": FloatDistribution(1e-4, 3e-2, log=True),
             "optimizer": CategoricalDistribution(["adam", "sgd"])}
    trials = []
    for i in range(n_complete + 2):
        params = {"units": int(rng.integers(1, 65)),
                  "learning_rate": float(10 ** rng.uniform(-4, -1.6)),
                  "optimizer": ["adam", "sgd"][int(rng.integers(2))]}
        scores = [float(x) for x in 100 + 20 * np.log10(params["learning_rate"]) ** 2
                  + rng.normal(0, 3, 4)]
        if i % 7 == 3:
            scores[1] = None
        members = {"score": scores, "fold": [0, 0, 1, 1], "repeat": [0, 1, 0, 1],
                   "epochs_trained": [100] * 4}
        if i >= n_complete:
            trials.append(create_trial(state=TrialState.FAIL, params=params, distributions=dists,
                                       user_attrs={"fail_reason": "4 of 4 members diverged",
                                                   "members": {**members,
                                                               "score": [None] * 4}}))
            continue
        value = float(np.mean([s for s in scores if s is not None]))
        trials.append(create_trial(value=value, params=params, distributions=dists,
                                   user_attrs={"members": members}))
    study.add_trials(trials)
    return study


def test_loader_reads_once_and_samples_importance(monkeypatch):
    monkeypatch.setattr(_load, "IMPORTANCE_TRIALS", 40)
    study = _study_with(70)
    a = load_study_tables("memory", "s", study=study)
    assert a.meta["importance_trials"] == {"used": 40, "complete": 70}
    assert len(a.importance) == 3 and a.importance["importance"].sum() == pytest.approx(1.0)
    b = load_study_tables("memory", "s", study=study)
    pd.testing.assert_frame_equal(a.importance, b.importance)  # seeded: same sample
    assert len(a.trials) == 72 and len(a.members) == 72 * 4
    assert a.members["score"].isna().sum() == 10 + 8  # None → NaN; failed trials' too
    assert a.trials["fail_reason"].tolist()[-2:] == ["4 of 4 members diverged"] * 2
    page = render_study(a)
    assert "fANOVA over a random 40 of the 70 complete trials, seed 0" in page
    assert "Failed trials (2) by reason" in section_html(page, "summary")


def test_loader_below_the_sample_size_uses_every_complete_trial():
    t = load_study_tables("memory", "s", study=_study_with(12))
    assert t.meta["importance_trials"] == {"used": 12, "complete": 12}
    assert "fANOVA over the complete trials" in render_study(t)


def test_plots_are_palette_pngs():
    import io

    from PIL import Image

    png = _plots.history_png(study_tables(60).trials)
    with Image.open(io.BytesIO(png)) as im:
        assert im.mode == "P"
