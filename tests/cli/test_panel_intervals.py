"""Intervals honest by construction: a panel of 4 series with one validation window has 4
scaled residuals per horizon step, enough for the 80 % split-conformal quantile (rank
ceil(5 · 0.8) = 4 <= 4) and not for the 95 % one (ceil(5 · 0.95) = 5 > 4; it needs 19).
So the 95 % interval is not produced anywhere (study, model, predict, report), every output
says why and that ``--folds 5`` gives it (4 series × 5 windows = 20 >= 19), and with
``--folds 5`` it is there.  The stored coverage is recounted by hand from the stored test
forecasts and intervals."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import math
import shutil

import numpy as np
import optuna
import pandas as pd
import pytest

from lstmtune.cli import main
from lstmtune.model import load_model

STUDY = """
[data]
task = "panel"
source = "four.csv"
folds = 1
[model]
horizon = 2
units = 2
timesteps = 3
model = "local"
[training]
epochs = 3
batch_size = 8
[search]
strategy = "random"
trials = 1
repeats = 1
batch = 1
final_repeats = 1
[space]
learning_rate = { float = [0.01, 0.02] }
"""
H = 2


def _four(path):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(4):
        t = np.arange(40)
        y = (50 + 5 * i + 0.3 * t) * (1 + 0.2 * np.sin(2 * np.pi * (t + i) / 12)) + \
            rng.normal(0, 1, t.size)
        rows.append(pd.DataFrame({"unique_id": f"S{i}", "ds": pd.date_range(
            "2010-01-01", periods=t.size, freq="MS"), "y": y}))
    pd.concat(rows).to_csv(path, index=False)


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    """Study 'one' (one validation window, as the terminal shows it) and study 'five'
    (``--folds 5``, as the note says), both in one --out."""
    root = tmp_path_factory.mktemp("intervals")
    _four(root / "four.csv")
    (root / "four.toml").write_text(STUDY)
    out = root / "out"
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        one = main(["tune", str(root / "four.toml"), "--out", str(out), "--study-name", "one"])
    five = main(["tune", str(root / "four.toml"), "--out", str(out), "--study-name", "five",
                 "--folds", "5", "--json"])
    assert (one, five) == (0, 0)
    return root, shown.getvalue()


def _stored(root, name):
    study = optuna.load_study(study_name=name,
                              storage=f"sqlite:///{root / 'out' / name / 'study.db'}")
    return study.user_attrs["lstmtune:final"], study.user_attrs["lstmtune:forecast"]


def _predict(root, name, capsys, *extra, model=None):
    capsys.readouterr()
    code = main(["predict", str(model or root / "out" / name / "model"),
                 str(root / "four.csv"), *extra])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


def test_one_window_gives_no_95_interval_and_says_what_gives_it(studies):
    root, terminal = studies
    final, forecast = _stored(root, "one")
    test = final["test"]
    assert set(test["coverage"]) == {"0.8"}
    miss = test["intervals_missing"]["0.95"]
    # 4 series × 1 window = 4 residuals per step; 19 needed; 19 / 4 → 5 windows per series
    assert (miss["residuals"], miss["needed"], miss["folds_needed"],
            miss["series_needed"]) == (4, 19, 5, 19)
    assert "--folds 5" in miss["reason"] and "at least 19" in miss["reason"]
    assert all(set(f) & {"interval_0.8", "interval_0.95"} == {"interval_0.8"}
               for f in forecast.values())
    doc = json.loads((root / "out" / "one" / "model" / "model.json").read_text())
    assert list(doc["conformal"]) == ["0.8"]
    assert all(w is not None and w >= 0 for w in doc["conformal"]["0.8"])
    assert doc["info"]["intervals_missing"] == {"0.95": miss["reason"]}
    text = " ".join(terminal.split())  # rich wraps lines
    assert "nominal 80% → measured" in text and "nominal 95%" not in text
    assert "no 95 % interval: too few validation residuals, 4 where" in text
    assert "--folds 5" in text and "inf" not in text


def test_predict_prints_no_infinite_bound_and_says_why_95_is_missing(studies, capsys):
    root, _ = studies
    out, err = _predict(root, "one", capsys)
    text = " ".join(out.split())
    assert "lo_80" in text and "lo_95" not in text and "hi_95" not in text
    assert "inf" not in text.lower()
    assert "no 95 % interval: too few validation residuals, 4 where the 95 % interval " \
           "needs at least 19 per horizon step" in text
    assert "--folds 5" in text


def test_predict_json_names_the_missing_level(studies, capsys):
    root, _ = studies
    out, _ = _predict(root, "one", capsys, "--json")
    doc = json.loads(out)
    assert list(doc["intervals_missing"]) == ["0.95"]
    assert "at least 19" in doc["intervals_missing"]["0.95"]
    rows = pd.DataFrame(doc["forecast"])
    assert list(rows.columns) == ["unique_id", "ds", "step", "forecast", "lo_80", "hi_80"]
    assert np.isfinite(rows[["lo_80", "hi_80"]].to_numpy()).all()
    assert (rows["lo_80"] <= rows["forecast"]).all() and \
        (rows["forecast"] <= rows["hi_80"]).all()


def test_predict_csv_keeps_stdout_a_table_and_notes_on_stderr(studies, capsys):
    root, _ = studies
    out, err = _predict(root, "one", capsys, "--csv")
    rows = pd.read_csv(io.StringIO(out))
    assert list(rows.columns) == ["unique_id", "ds", "step", "forecast", "lo_80", "hi_80"]
    assert len(rows) == 4 * H
    assert err.startswith("lstmtune: note: no 95 % interval: too few validation residuals")
    assert len(err.strip().splitlines()) == 1 and "--folds 5" in err


def test_the_folds_the_note_names_give_the_95_interval(studies, capsys):
    root, _ = studies
    final, forecast = _stored(root, "five")
    assert set(final["test"]["coverage"]) == {"0.8", "0.95"}
    assert final["test"]["intervals_missing"] == {}
    assert final["split"]["folds"] == 5
    q80, q95 = (np.asarray(final["test"]["coverage"][k]["quantile"]) for k in ("0.8", "0.95"))
    assert np.isfinite(q95).all() and (q80 <= q95).all()
    out, _ = _predict(root, "five", capsys, "--json")
    doc = json.loads(out)
    assert doc["intervals_missing"] == {}
    rows = pd.DataFrame(doc["forecast"])
    bounds = rows[["lo_95", "lo_80", "forecast", "hi_80", "hi_95"]].to_numpy()
    assert np.isfinite(bounds).all() and (np.diff(bounds, axis=1) >= 0).all()


@pytest.mark.parametrize("name", ["one", "five"])
def test_the_stored_coverage_is_a_recount_by_hand(studies, name):
    """The intervals are the LSTM's forecast ± quantile × the series' seasonal-naive MAE
    (by hand, on the series without its test window), and the coverage is the share of
    test points inside them, over the produced levels only."""
    root, _ = studies
    final, forecast = _stored(root, name)
    table = pd.read_csv(root / "four.csv")
    m = final["data"]["season"]
    ids = [i for i in final["per_series"]["ids"] if i not in final["test"]["diverged_series"]]
    assert len(ids) == 4
    for level, cov in final["test"]["coverage"].items():
        q = np.asarray(cov["quantile"], float)
        assert np.isfinite(q).all() and (q >= 0).all()
        inside = []
        for sid in ids:
            y = table.loc[table["unique_id"] == sid, "y"].to_numpy()
            dev, actual = y[:-H], y[-H:]
            scale = np.mean(np.abs(dev[m:] - dev[:-m]))
            f = forecast[sid]
            np.testing.assert_allclose(f["actual"], actual)
            lo, hi = (np.asarray(v, float) for v in f[f"interval_{level}"])
            np.testing.assert_allclose(lo, np.asarray(f["lstm"]) - q * scale)
            np.testing.assert_allclose(hi, np.asarray(f["lstm"]) + q * scale)
            inside.append((lo <= actual) & (actual <= hi))
        inside = np.asarray(inside)
        assert cov["coverage"] == pytest.approx(inside.mean())
        assert cov["per_step"] == pytest.approx(inside.mean(axis=0).tolist())
        assert cov["series"] == 4


def test_the_report_shows_coverage_of_produced_levels_only(studies):
    root, _ = studies
    html = (root / "out" / "one" / "report.html").read_text()
    sec = html[html.index('<section id="coverage">'):]
    sec = sec[:sec.index("</section>")]
    assert "<td>80%</td>" in sec.replace(" ", "") and "95%" not in sec
    assert "No 95 % interval: too few validation residuals, 4 where" in sec
    assert "--folds 5" in sec
    html5 = (root / "out" / "five" / "report.html").read_text()
    sec5 = html5[html5.index('<section id="coverage">'):]
    sec5 = sec5[:sec5.index("</section>")]
    assert "95%" in sec5 and "No 95 %" not in sec5


def test_an_older_model_file_with_an_unbounded_level_says_so(studies, capsys, tmp_path):
    """Earlier versions saved the 95 % quantile as null (unbounded): it is left out on load
    and predict says the file holds none."""
    root, _ = studies
    old = tmp_path / "old"
    shutil.copytree(root / "out" / "one" / "model", old)
    doc = json.loads((old / "model.json").read_text())
    doc["conformal"]["0.95"] = [None] * H
    del doc["info"]["intervals_missing"]
    (old / "model.json").write_text(json.dumps(doc))
    sums = {n: hashlib.sha256((old / n).read_bytes()).hexdigest()
            for n in ("model.json", "params.npz")}
    (old / "checksums.json").write_text(json.dumps({"sha256": sums}))
    out, _ = _predict(root, "one", capsys, "--json", model=old)
    doc = json.loads(out)
    assert "lo_95" not in doc["forecast"][0]
    assert "earlier lstmtune saved it unbounded" in doc["intervals_missing"]["0.95"]


def test_forecast_skips_a_level_it_cannot_bound(studies):
    """A model built in Python (not checked as a file is on load) with a negative and an
    infinite half-width: those levels give no interval, and the table names them."""
    root, _ = studies
    model = load_model(root / "out" / "one" / "model")
    edited = dataclasses.replace(model, conformal={"0.8": [-0.5, 1.0], "0.9": [0.1, 0.2],
                                                   "0.95": [math.inf, math.inf]})
    from lstmtune.data import load_panel

    panel = load_panel(root / "four.csv")
    fc = edited.forecast(dict(panel.series))
    assert [c for c in fc.columns if c[:3] in ("lo_", "hi_")] == ["lo_90", "hi_90"]
    assert set(fc.attrs["intervals_missing"]) == {"0.8", "0.95"}
    assert (fc["lo_90"] <= fc["hi_90"]).all()
    scale = {sid: np.mean(np.abs(ts.y[ts.season:] - ts.y[:-ts.season]))
             for sid, ts in panel.series.items()}
    half = fc["hi_90"] - fc["forecast"]
    np.testing.assert_allclose(half, [[0.1, 0.2][s - 1] * scale[i]
                                      for i, s in zip(fc["unique_id"], fc["step"],
                                                      strict=True)])
