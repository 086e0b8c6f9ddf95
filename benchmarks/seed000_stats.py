"""Seed 000's configuration (stateful, 1 unit, batch 4, 1000 epochs, 30 repeats) on Shampoo:
our test-RMSE statistics beside the three published ones for the same configuration.

    .venv/bin/python benchmarks/seed000_stats.py [--repeats 30] [--epochs 1000]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from lstmtune.data import Framing, Preprocessing, load, prepare
from lstmtune.engine import ModelSpec, TrainSpec
from lstmtune.evaluation import evaluate_baselines, fit_members

ap = argparse.ArgumentParser()
ap.add_argument("--repeats", type=int, default=30)
ap.add_argument("--epochs", type=int, default=1000)
ap.add_argument("--recurrent-activation", default="sigmoid")
args = ap.parse_args()

t0 = time.perf_counter()
p = prepare(load("shampoo"), test_size=12,
            preprocessing=Preprocessing(difference=1, scale_on="windows"),
            framing=Framing(lags=1, horizon=1))
run = fit_members(p, ModelSpec(units=(1,), stateful=True,
                               recurrent_activation=args.recurrent_activation),
                  TrainSpec(epochs=args.epochs, batch_size=4, shuffle=False),
                  seeds=range(args.repeats))
wall = time.perf_counter() - t0
ours = pd.Series(run.table["test_rmse"].to_numpy()).describe()
out = {"config": {"units": 1, "batch_size": 4, "epochs": args.epochs, "repeats": args.repeats,
                  "recurrent_activation": args.recurrent_activation},
       "ours": {k: round(float(v), 3) for k, v in ours.items()},
       "persistence_rmse": round(evaluate_baselines(p.y, test_size=12)["persistence"]["rmse"], 3),
       "wall_seconds": round(wall, 2), "compile_seconds": round(run.result.compile_seconds, 2)}
ref = Path(__file__).resolve().parents[2] / "shared" / "reference" / "seed-tables.json"
if ref.exists():
    tables = json.loads(ref.read_text())["seed_000_shampoo"]
    pub = {}
    for study, col in (("epochs_study", "1000"), ("batch_size_study", "4"),
                       ("neurons_study", "1")):
        t = tables[study]
        i = t["columns"].index(col)
        pub[study] = {k: t[k][i] for k in ("mean", "std", "min", "25%", "50%", "75%", "max")}
    out["published"] = pub
print(json.dumps(out, indent=1))
