"""Is the tuned LSTM worth deploying?  Each dataset is tuned with lstmtune's default space
twice in one run: the recipe before issue 23 ("before": the default space as it was, without
the data-aware additions) and the new default ("after": window normalisation, log, and for
seasonal training parts deseasonalising or seasonal differencing, Fourier terms and windows
around 1.25 x the season), and the LSTM's test score is printed beside every baseline fitted
on the same windows in the same run.

    .venv/bin/python benchmarks/accuracy.py [--quick] [--only shampoo,m1_yearly,...]

Budget per dataset (TPE, seed 0; the same for before and after), chosen so that the whole run
takes under 60 minutes on 2 cores:

- shampoo (36 months): H 1 scored by RMSE and H 6 by MASE; test 12, validation 12 (2 folds);
  24 trials x 2 repeats, 10 final members.
- airpassengers (144 months): H 12, MASE; test 12, validation 12; 24 trials x 2 repeats,
  10 final members.
- co2 (weekly, gaps imputed linearly): H 13, MASE; test 52, validation 52; 6 trials x 2
  repeats, 3 final members (2,284 points: each study takes minutes per trial).
- M1 yearly (181 series, h 6), quarterly (203, h 8), monthly (617, h 18): official test
  windows, one validation window, sMAPE; 12 / 12 / 10 trials x 2 repeats, 3 final members;
  series too short for a test window, a validation window and 4 training points (2 h + 4)
  are left out, and counted in the JSON.

Single series: the LSTM's test score is that of its final members' forecasts combined (the
median after, the mean before: what the saved model gives), and beside it the mean of the
members' own scores (``lstm_members``); the baselines are lstmtune's walk-forward ones
(persistence, seasonal naive, mean, drift, and SES, Theta and ETS as the study fits them:
refitted at every origin when that is cheap, else fitted on the training part; each
entry's ``refit`` says which) and, refitted here at every walk-forward origin on the same
(origin, step) pairs, ARIMA(5,1,0)
(seed 000's reference).
Panels: the test table of the panel study (sMAPE, MASE, OWA of the LSTM, the per-series
best LSTM, Naive, seasonal Naive, Naive2, SES, Theta, ETS).  Prints one JSON object and a
table on stderr.
"""

from __future__ import annotations

import contextlib
import json
import time
import warnings

import numpy as np
from _common import emit, environment, log, parser

from lstmtune.data import Panel, load, load_panel
from lstmtune.evaluation import fitting_season, metric_value
from lstmtune.search import fit_space, study_from_dict, tune

ap = parser(__doc__)
ap.add_argument("--only", default="", help="comma-separated dataset names")
args = ap.parse_args()
Q = args.quick

SINGLE = {  # name: (source, horizon, metric, test, val, folds, trials, final, extra data keys)
    "shampoo_h1": ("shampoo", 1, "rmse", 12, 12, 2, 24, 10, {}),
    "shampoo_h6": ("shampoo", 6, "mase", 12, 12, 2, 24, 10, {}),
    "airpassengers_h12": ("airpassengers", 12, "mase", 12, 12, 1, 24, 10, {}),
    "co2_h13": ("co2", 13, "mase", 52, 52, 1, 6, 3, {"impute": "linear"}),
}
PANELS = {"m1_yearly": 12, "m1_quarterly": 12, "m1_monthly": 10}  # name: trials


@contextlib.contextmanager
def recipe(which: str):
    """``before``: the default spaces without the data-aware additions of issue 23 (the
    members' forecasts combined by their mean, as then)."""
    if which == "after":
        yield
        return
    import lstmtune.search._panel as panel
    import lstmtune.search._preflight as pre

    saved = pre._knows_the_data, panel._panel_knows
    pre._knows_the_data = lambda ts, cfg: (cfg, [])
    panel._panel_knows = lambda folds, cfg: (cfg, [])
    try:
        yield
    finally:
        pre._knows_the_data, panel._panel_knows = saved


def _arima(y: np.ndarray, h: int) -> np.ndarray:
    from statsmodels.tsa.arima.model import ARIMA

    return np.asarray(ARIMA(y, order=(5, 1, 0)).fit().forecast(h), float)


def arima_walk_forward(y: np.ndarray, *, test: int, horizon: int, metric: str,
                       season: int) -> dict[str, float]:
    """ARIMA(5,1,0) refitted at every walk-forward origin of the test window, scored on
    every (origin, step) inside it, as lstmtune scores the LSTM and its own baselines (SES,
    Theta and ETS are the study's)."""
    import pandas as pd

    n = len(y)
    actual, preds = [], {}
    for o in range(n - test - 1, n - 1):
        steps = min(horizon, n - 1 - o)
        # each history's gaps carried forward (never a later value); missing targets stay
        # NaN and are not scored, as lstmtune's own baselines
        history = pd.Series(y[: o + 1]).ffill().bfill().to_numpy(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fc = {"arima": _arima(history, horizon)}
            except Exception:  # noqa: BLE001 — a fit that fails is left out (NaN in the JSON)
                fc = {"arima": np.full(horizon, np.nan)}
        actual.append(y[o + 1: o + 1 + steps])
        for k in fc:
            preds.setdefault(k, []).append(fc[k][:steps])
    a = np.concatenate(actual)
    train = y[: n - test]
    return {k: float(metric_value(metric, a, np.concatenate(v), y_train=train, season=season))
            for k, v in preds.items()}


def single(name: str, which: str) -> dict:
    source, H, metric, test, val, folds, trials, final, extra = SINGLE[name]
    trials, final = (4, 2) if Q else (trials, final)
    doc = {"data": {"source": source, "test_size": test, "val_size": val, "folds": folds},
           "model": {"horizon": H}, "preprocessing": extra,
           "search": {"strategy": "tpe", "trials": trials, "repeats": 2, "batch": 4,
                      "final_repeats": final, "metric": metric, "seed": 0}}
    if which == "before":
        doc["search"]["combine"] = "mean"
    cfg = study_from_dict(doc)
    ts = load(source, allow_missing=bool(extra))
    with recipe(which):
        cfg, note = fit_space(ts, cfg)
        t = time.perf_counter()
        r = tune(ts, cfg)
        seconds = time.perf_counter() - t
    # "lstm": the forecast the saved model gives (the members' median after, their mean
    # before) scored on test; "lstm_members": the mean of the members' own scores
    return {"lstm": r.test["ensemble"]["value"], "combine": r.test["ensemble"]["combine"],
            "lstm_members": r.test["value"], "lstm_std": r.test["std"],
            "baselines": {k: v["value"] for k, v in r.baselines.items()},
            "classical_refit": {k: v.get("refit") for k, v in r.baselines.items()
                                if "refit" in v},
            "best_params": r.best_params, "space_note": note, "seconds": round(seconds, 1),
            "verdict": r.test["verdict"]["text"]}


def panel(name: str, which: str) -> dict:
    trials = 3 if Q else PANELS[name]
    doc = {"data": {"task": "panel", "source": name, "folds": 1},
           "search": {"strategy": "tpe", "trials": trials, "repeats": 2, "batch": 4,
                      "final_repeats": 2 if Q else 3, "metric": "smape", "seed": 0,
                      "combine": "mean" if which == "before" else "median"}}
    cfg = study_from_dict(doc)
    full = load_panel(name)
    H = full.horizon
    need = 2 * H + 4  # the test window, one validation window and 4 training points
    kept = {i: s for i, s in full.series.items() if len(s) >= need}
    panel_data = Panel(name=full.name, series=kept, horizon=H)
    with recipe(which):
        t = time.perf_counter()
        r = tune(panel_data, cfg)
        seconds = time.perf_counter() - t
    table = r.test["table"]
    return {"series": len(kept), "dropped_short": len(full) - len(kept),
            "table": {k: {m: round(v[m], 4) for m in ("smape", "mase", "owa")}
                      for k, v in table.items()},
            "paired_vs_best": r.test["verdict"].get("paired"), "best_params": r.best_params,
            "seconds": round(seconds, 1), "verdict": r.test["verdict"]["text"]}


def _series(source: str) -> np.ndarray:
    """The target with its gaps (NaN) as the study reads it."""
    return np.asarray(load(source, allow_missing=True).y, float)


def _season(source: str, test: int) -> int:
    """The season the study's metric and baselines use: the series' own where its training
    part holds one (``fitting_season``)."""
    ts = load(source, allow_missing=True)
    return fitting_season(ts.season, len(ts) - test)


def table_lines(result: dict) -> list[str]:
    lines = []
    for name, e in result["datasets"].items():
        if "classical" in e:
            best = {**e["after"]["baselines"], **e["classical"]}
            k = min(best, key=lambda n: best[n] if np.isfinite(best[n]) else np.inf)
            lines.append(f"{name:20s} {e['metric']:5s} LSTM before {e['before']['lstm']:.3f}"
                         f"  after {e['after']['lstm']:.3f}  best baseline {k} {best[k]:.3f}")
        else:
            t = e["after"]["table"]
            k = min((m for m in t if not m.startswith("lstm")), key=lambda m: t[m]["owa"])
            lines.append(f"{name:20s} OWA   LSTM before {e['before']['table']['lstm']['owa']:.3f}"
                         f"  after {t['lstm']['owa']:.3f} (per series "
                         f"{t['lstm_per_series']['owa']:.3f})  best classical {k} "
                         f"{t[k]['owa']:.3f}")
    return lines


wanted = [s for s in args.only.split(",") if s] or [*SINGLE, *PANELS]
result: dict = {"environment": environment(), "quick": Q, "datasets": {}}
start = time.perf_counter()
for name in wanted:
    entry: dict = {}
    for which in ("before", "after"):
        log(f"{name}: {which} ...")
        entry[which] = single(name, which) if name in SINGLE else panel(name, which)
        log(f"  {entry[which]['verdict']} ({entry[which]['seconds']} s)")
    if name in SINGLE:
        source, H, metric, test, *_ = SINGLE[name]
        t = time.perf_counter()
        entry["classical"] = arima_walk_forward(_series(source), test=test, horizon=H,
                                                    metric=metric, season=_season(source, test))
        entry["classical_seconds"] = round(time.perf_counter() - t, 1)
        entry["metric"] = metric
    result["datasets"][name] = entry
    log(json.dumps({name: entry}, default=str))  # each dataset as it ends (a long run)
result["wall_seconds"] = round(time.perf_counter() - start, 1)
for line in table_lines(result):
    log(line)
emit(result)
