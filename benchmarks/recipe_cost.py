"""The cost of issue 23's options: the same study (space, seeds, trials, repeats, folds) with
them off and on, timed in one run.

    .venv/bin/python benchmarks/recipe_cost.py [--quick]

- one series (air passengers, H 12 direct, MASE): ``off`` (no log, no deseasonalising,
  ``window_norm = none``) against ``on`` (``log``, ``deseasonalise = "stl"``,
  ``window_norm = "level"``: an STL fit per fold, an exponential-smoothing fit and one more
  input column) and against ``on`` with ``ensemble_top = 3`` (two more configurations
  retrained and refit at the end);
- a panel (the first 100 M1 monthly series long enough for its windows, h 18, local
  models): ``deseasonalise = true`` (classical indices) against ``"stl"`` (robust STL of
  every series' every training part).

Each study is run once to compile (and fill the persistent cache), then timed best-of-2.
Prints one JSON object: wall seconds, test scores, and the ratios to ``off`` (target: the
options cost no more than 1.3x the same budget without them).
"""

from __future__ import annotations

from _common import best_of, emit, environment, log, parser

from lstmtune.data import Panel, load, load_panel
from lstmtune.search import study_from_dict, tune

args = parser(__doc__).parse_args()
Q = args.quick
TRIALS = 6 if Q else 16
OPTIONS = {"off": {"log": False, "deseasonalise": False, "window_norm": "none"},
           "on": {"log": True, "deseasonalise": "stl", "window_norm": "level"}}


def single(options: dict, top: int = 1):
    return study_from_dict({
        "data": {"source": "airpassengers", "test_size": 12, "val_size": 24, "folds": 2},
        "preprocessing": {**options, "difference": 0},
        "model": {"horizon": 12, "multistep": "direct", "timesteps": 15},
        "training": {"epochs": 60 if Q else 200},
        "search": {"strategy": "random", "trials": TRIALS, "repeats": 2, "batch": 8,
                   "final_repeats": 3, "seed": 0, "metric": "mase", "ensemble_top": top},
        "space": {"units": {"int": [4, 32], "log": True},
                  "learning_rate": {"float": [1e-3, 3e-2], "log": True}}})


def panel_study(deseasonalise):
    return study_from_dict({
        "data": {"task": "panel", "source": "m1_monthly", "folds": 1},
        "preprocessing": {"deseasonalise": deseasonalise},
        "model": {"model": "local", "timesteps": 12},
        "training": {"epochs": 10 if Q else 25, "batch_size": 16},
        "search": {"strategy": "random", "trials": 2 if Q else 4, "repeats": 1, "batch": 4,
                   "final_repeats": 2, "seed": 0},
        "space": {"units": {"int": [4, 16], "log": True},
                  "learning_rate": {"float": [1e-3, 3e-2], "log": True}}})


def timed(label: str, data, cfg, score) -> None:
    tune(data, cfg)  # compile (and fill the persistent cache)
    runs = []
    seconds, _ = best_of(lambda: runs.append(tune(data, cfg)), 2)
    result["seconds"][label] = round(seconds, 2)
    result["test"][label] = round(score(runs[-1]), 4)
    log(f"{label}: {seconds:.1f} s, test {result['test'][label]}")


result = {"environment": environment(), "trials": TRIALS, "seconds": {}, "test": {}}
ts = load("airpassengers")
verdict_score = lambda r: r.test["verdict"]["lstm"]  # noqa: E731 — what predict gives
timed("single_off", ts, single(OPTIONS["off"]), verdict_score)
timed("single_on", ts, single(OPTIONS["on"]), verdict_score)
timed("single_on_top3", ts, single(OPTIONS["on"], top=3), verdict_score)

full = load_panel("m1_monthly")
need = 2 * full.horizon + 4
kept = dict(list((i, s) for i, s in full.series.items() if len(s) >= need)[: 30 if Q else 100])
panel = Panel(name=full.name, series=kept, horizon=full.horizon)
owa = lambda r: r.test["table"]["lstm"]["owa"]  # noqa: E731
timed("panel_classical", panel, panel_study(True), owa)
timed("panel_stl", panel, panel_study("stl"), owa)

s = result["seconds"]
result["ratios"] = {"single_on": round(s["single_on"] / s["single_off"], 3),
                    "single_on_top3": round(s["single_on_top3"] / s["single_off"], 3),
                    "panel_stl": round(s["panel_stl"] / s["panel_classical"], 3)}
result["target"] = 1.3
result["met"] = {k: v <= 1.3 for k, v in result["ratios"].items()}
emit(result)
