"""A realistic synthetic ``StudyTables`` for renderer tests (no training, no storage)."""

from __future__ import annotations

import base64
import math
import re

import numpy as np
import pandas as pd

from lstmtune.report._tables import StudyTables

__all__ = ["study_tables", "BASELINES"]

BASELINES = {"persistence": 136.761, "seasonal_naive": 151.234, "mean": 212.5}


def _trials(n: int, rng: np.random.Generator, complete: bool) -> tuple[pd.DataFrame,
                                                                        pd.DataFrame]:
    rows, members = [], []
    for t in range(n):
        lr = float(10 ** rng.uniform(-4, -1))
        units = int(rng.integers(1, 33))
        opt = str(rng.choice(["adam", "rmsprop", "sgd"]))
        state = "COMPLETE" if complete else "PRUNED"
        if complete and t % 9 == 4:
            state = "PRUNED"
        if complete and t % 13 == 7:
            state = "FAIL"
        centre = 90 + 40 * (math.log10(lr) + 2.5) ** 2 + 30 * (opt == "sgd") + 60 / units
        scores = centre + rng.normal(0, 8, 6)
        kept = 6 if state == "COMPLETE" else (2 if state == "PRUNED" else 0)
        for k in range(kept):
            members.append({"trial": t, "fold": k // 3, "repeat": k % 3,
                            "score": float(scores[k]), "epochs_trained": 500 if kept == 6
                            else 100})
        rows.append({"number": t, "state": state,
                     "value": float(scores.mean()) if state == "COMPLETE" else math.nan,
                     "duration_s": float(rng.uniform(2, 9)),
                     "datetime_start": f"2025-01-01T00:{t // 60:02d}:{t % 60:02d}",
                     "fail_reason": "NaN loss at epoch 12" if state == "FAIL" else None,
                     "param_learning_rate": lr, "param_units": units, "param_optimizer": opt})
    return pd.DataFrame(rows), pd.DataFrame(members)


def _forecast(rng: np.random.Generator, n: int = 12, members: int = 5, context: int = 24
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    t = np.arange(context + n)
    y = 200 + 8 * t + 40 * np.sin(t / 2) + rng.normal(0, 15, t.size)
    times = pd.date_range("2001-01-01", periods=t.size, freq="MS").strftime("%Y-%m")
    actual = y[context:]
    m = actual[None] + rng.normal(0, 30, (members, n))
    fc = {"time": list(times[context:]), "step": np.arange(1, n + 1), "actual": actual,
          "mean": m.mean(0), "median": np.median(m, 0), "low": np.quantile(m, 0.05, 0),
          "high": np.quantile(m, 0.95, 0), **{f"member_{k}": m[k] for k in range(members)},
          "baseline_persistence": y[context - 1:-1],
          "baseline_seasonal_naive": y[context - 12:-12], "baseline_mean": np.full(n, y.mean())}
    return pd.DataFrame(fc), pd.DataFrame({"time": list(times[:context]),
                                           "actual": y[:context]})


def _history(epochs: int = 50) -> pd.DataFrame:
    rows = []
    for r in range(3):
        for f in range(2):
            e = np.arange(1, epochs + 1)
            rows.append(pd.DataFrame({"repeat": r, "fold": f, "epoch": e,
                                      "train_rmse": 80 + 200 / np.sqrt(e) + r,
                                      "val_rmse": 110 + 150 / np.sqrt(e) + 0.3 * e + 5 * f}))
    return pd.concat(rows, ignore_index=True)


def study_tables(n_trials: int = 40, *, final: bool = True, complete: bool = True,
                 seed: int = 0) -> StudyTables:
    """``n_trials`` trials over learning_rate (log float), units (int) and optimizer
    (categorical); some PRUNED (2 member scores) and FAIL; COMPLETE trials have 3 repeats × 2
    folds of member scores and value = their mean. ``final``: with the final evaluation
    (12-point test window, 5 members, 3 baselines, 3 × 2 curves of 50 epochs)."""
    rng = np.random.default_rng(seed)
    trials, members = _trials(n_trials, rng, complete)
    done = trials[trials["state"] == "COMPLETE"]
    imp = pd.DataFrame({"param": ["learning_rate", "optimizer", "units"],
                        "importance": [0.62, 0.27, 0.11], "evaluator": "fanova"})
    meta = {"study_name": "shampoo-tpe", "storage": "sqlite:///x/study.db",
            "strategy": "tpe", "pruner": "median", "trials": n_trials, "repeats": 3, "folds": 2,
            "aggregate": "mean", "seed": 0, "metric": "rmse",
            "fixed": {"epochs": 500, "batch_size": 4, "stateful": True},
            "space": {"learning_rate": "float 0.0001–0.1, log", "units": "int 1–32",
                      "optimizer": "adam | rmsprop | sgd"},
            "importance_note": None if len(done) >= 2 else "importance needs at least 2 "
            f"completed trials ({len(done)} completed).",
            "data": {"name": "shampoo", "n": 36, "start": "2001-01", "end": "2003-12",
                     "freq": "MS", "target": "Sales"},
            "split": {"test_size": 12, "val_size": 6, "folds": 2, "train_end": "2002-06",
                      "val": ["2002-07", "2002-12"], "test": ["2003-01", "2003-12"]}}
    if len(done) < 2:
        imp = imp.iloc[0:0]
    if not final:
        return StudyTables(meta=meta, trials=trials, members=members, importance=imp)
    meta |= {"wall_seconds": 123.4, "created": "2025-01-02T03:04:05+00:00",
             "lstmtune_version": "0.1.0", "final_repeats": 5}
    forecast, context = _forecast(rng)
    best = done.sort_values("value").iloc[0]
    scores = rng.normal(120, 9, 5)
    fin = {"best_trial": int(best["number"]),
           "best_params": {p: best[f"param_{p}"] for p in ("learning_rate", "units",
                                                          "optimizer")},
           "best_value": float(best["value"]),
           "test": {"rmse": float(scores.mean()), "rmse_std": float(scores.std(ddof=1)),
                    "repeats": 5, "failed": 0, "scores": [float(s) for s in scores]},
           "baselines": {k: {"rmse": v, "mae": v * 0.8} for k, v in BASELINES.items()},
           "interval": {"low_q": 0.05, "high_q": 0.95},
           "verdict": {"winner": "persistence", "text": "persistence beats the tuned LSTM: "
                       "test RMSE 110 against 120, better by 10 (9.1%)."},
           "model": {"refit": True}}
    return StudyTables(meta=meta, trials=trials, members=members, importance=imp, final=fin,
                       forecast=forecast, context=context, history=_history())


def section_html(page: str, sid: str) -> str:
    """The inside of ``<section id=sid>`` (the test fails when there is none)."""
    m = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert m, f"no section {sid}"
    return m.group(1)


def pngs(page: str) -> list[bytes]:
    """Every embedded PNG of the page, decoded."""
    return [base64.b64decode(s) for s in re.findall(r'<img[^>]*src="data:image/png;base64,'
                                                    r'([A-Za-z0-9+/=]+)"', page)]
