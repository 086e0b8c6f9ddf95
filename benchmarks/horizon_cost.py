"""The cost of forecasting many steps: one study at horizon 1 against the same study (same
space, seeds, trials, repeats and folds) at horizon 12 with the direct strategy (one head of 12
outputs), and at horizon 12 with the recursive strategy (a one-step model rolled out 12 steps
at every origin), on the monthly air-passenger series.

    .venv/bin/python benchmarks/horizon_cost.py [--quick]

Prints one JSON object: wall seconds of each (warm compilation cache: each is run once to
compile, then timed best-of-2) and the ratios to horizon 1.  Target: 12 steps direct <= 1.5x
one step.
"""

from __future__ import annotations

from _common import best_of, emit, environment, log, parser

from lstmtune.data import load
from lstmtune.search import study_from_dict, tune

args = parser(__doc__).parse_args()
ts = load("airpassengers")
TRIALS = 8 if args.quick else 24


def study(horizon: int, multistep: str):
    return study_from_dict({
        "data": {"source": "airpassengers", "test_size": 24, "val_size": 24, "folds": 2},
        "model": {"horizon": horizon, "multistep": multistep, "timesteps": 12},
        "training": {"epochs": 100 if args.quick else 300},
        "search": {"strategy": "random", "trials": TRIALS, "repeats": 3, "batch": 8,
                   "final_repeats": 3, "seed": 0, "metric": "mase"},
        "space": {"units": {"int": [4, 32], "log": True},
                  "learning_rate": {"float": [1e-3, 3e-2], "log": True}}})


result = {"environment": environment(), "trials": TRIALS, "seconds": {}, "test_mase": {}}
for label, (h, how) in {"h1": (1, "direct"), "h12_direct": (12, "direct"),
                        "h12_recursive": (12, "recursive")}.items():
    cfg = study(h, how)
    tune(ts, cfg)  # compile (and fill the persistent cache)
    runs = []
    seconds, _ = best_of(lambda cfg=cfg, runs=runs: runs.append(tune(ts, cfg)), 2)
    result["seconds"][label] = round(seconds, 2)
    result["test_mase"][label] = round(runs[-1].test["value"], 4)
    log(f"{label}: {seconds:.1f} s, test MASE {runs[-1].test['value']:.3f}")
base = result["seconds"]["h1"]
result["ratio_h12_direct"] = round(result["seconds"]["h12_direct"] / base, 3)
result["ratio_h12_recursive"] = round(result["seconds"]["h12_recursive"] / base, 3)
result["target_direct"] = 1.5
result["met"] = result["ratio_h12_direct"] <= 1.5
emit(result)
