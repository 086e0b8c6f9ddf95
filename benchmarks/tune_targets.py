"""`tune` targets on Shampoo.

1. A 200-trial TPE study with 5 repeats (target <= 60 s on a 2-core CPU, compilation
   included), with a space of a few shapes (units in {1, 2, 4, 8}) and a continuous learning
   rate; the best configuration retrained 30 times and scored once on the test window, beside
   seed 000's best published mean (98.3) and persistence (136.761).
2. Search overhead: the same loop with training replaced by an instant fake (the reference
   measured in the same run is the real loop's per-trial time), at 1,000 trials, for random
   and TPE, in SQLite (the default) and in Optuna's journal file; target <= 5 ms per trial.

    .venv/bin/python benchmarks/tune_targets.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import lstmtune.search._tune as tune_mod
from lstmtune.data import load
from lstmtune.experiment import ConfigScores
from lstmtune.search import study_from_dict, tune

ap = argparse.ArgumentParser()
ap.add_argument("--quick", action="store_true")
args = ap.parse_args()
trials = 20 if args.quick else 200
overhead_trials = 100 if args.quick else 1000

doc = {"data": {"source": "shampoo", "test_size": 12, "val_size": 12},
       "preprocessing": {"difference": 1},
       "training": {"epochs": 200, "batch_size": 4},
       "search": {"strategy": "tpe", "trials": trials, "repeats": 5, "batch": 20,
                  "final_repeats": 30, "seed": 0},
       "space": {"units": {"choice": [1, 2, 4, 8]},
                 "learning_rate": {"float": [3e-4, 3e-2], "log": True}}}
ts = load("shampoo")
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    r = tune(ts, study_from_dict(doc), storage=f"sqlite:///{Path(tmp) / 'a.db'}",
             study_name="s")
    wall = time.perf_counter() - t0

    def fake(folds, configs, *, repeats, seed=0, **kw):  # instant "training"
        rng = np.random.default_rng(len(configs))
        n = len(folds) * repeats
        return [ConfigScores(scores=rng.normal(100, 5, n), status=np.array(["complete"] * n),
                             epochs_trained=np.full(n, 200), fold=np.zeros(n, int),
                             repeat=np.arange(n), seed=np.arange(n)) for _ in configs]

    real = tune_mod.evaluate_configs
    tune_mod.evaluate_configs = fake
    try:
        overhead = {}
        for strategy in ("random", "tpe"):
            for kind, url in (("sqlite", f"sqlite:///{Path(tmp) / (strategy + '.db')}"),
                              ("journal", f"journal:///{Path(tmp) / (strategy + '.log')}")):
                doc2 = {**doc, "search": {**doc["search"], "strategy": strategy,
                                          "trials": overhead_trials, "final_repeats": 1}}
                t1 = time.perf_counter()
                tune(ts, study_from_dict(doc2), storage=url, study_name="s")
                overhead[f"{strategy}_{kind}"] = time.perf_counter() - t1
    finally:
        tune_mod.evaluate_configs = real

print(json.dumps({
    "study": {"strategy": "tpe", "trials": trials, "repeats": 5, "wall_seconds": round(wall, 2),
              "target_seconds": 60, "ratio_to_target": round(wall / 60, 3),
              "per_trial_seconds": round(wall / trials, 4)},
    "best_params": r.best_params, "best_validation_rmse": round(r.best_value, 3),
    "test": {"mean_rmse": round(r.test["rmse"], 3), "std": round(r.test["rmse_std"], 3),
             "repeats": r.test["repeats"], "failed": r.test["failed"]},
    "reference": {"seed000_best_published_mean": 98.344696,
                  "persistence": round(r.baselines["persistence"]["rmse"], 3)},
    "overhead_ms_per_trial": {k: round(1000 * v / overhead_trials, 2)
                              for k, v in overhead.items()},
    "overhead_trials": overhead_trials, "overhead_target_ms": 5.0,
    "overhead_share_of_real_trial_tpe_sqlite": round(
        (overhead["tpe_sqlite"] / overhead_trials) / (wall / trials), 4),
}, indent=1))
