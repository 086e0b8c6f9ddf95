"""`lstmtune experiment shampoo --recipe tutorial`: wall time with a cold and a warm compilation
cache (fresh processes), each study's means against the published ones, and the cost of
repeats (30 repeats vs 1 of the same experiment).

    .venv/bin/python benchmarks/experiment_recipe.py [--quick]

Prints one JSON object.  Targets: all three studies (390 trainings, 645,000 model-epochs) in
<= 60 s on 2 cores, compilation included; each mean within +-15 % of the published mean;
30 repeats <= 2x the time of 1 repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("--quick", action="store_true", help="epochs study at 100 epochs, 3 repeats")
args = ap.parse_args()
exe = str(Path(sys.executable).with_name("lstmtune"))


def run(argv: list[str], cache: str, out: str) -> tuple[float, dict]:
    env = {**os.environ, "LSTMTUNE_CACHE_DIR": cache}
    t = time.perf_counter()
    proc = subprocess.run([exe, "experiment", "shampoo", *argv, "--json", "--out", out],
                          env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - t, json.loads(proc.stdout)


recipe = ["--recipe", "tutorial"] + (["--vary", "epochs=50,100", "--repeats", "3"]
                                     if args.quick else [])
with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
    cold, doc = run(recipe, cache, out)
    warm, _ = run(recipe, cache, out)
    one = ["--recipe", "tutorial", "--vary", "epochs=100" if args.quick else "epochs=1000",
           "--no-diagnostics"]
    run([*one, "--repeats", "1"], cache, out)  # warm both population sizes
    run([*one, "--repeats", "30"], cache, out)
    t1 = min(run([*one, "--repeats", "1"], cache, out)[0] for _ in range(3))
    t30 = min(run([*one, "--repeats", "30"], cache, out)[0] for _ in range(3))

studies = []
for s in doc["studies"]:
    pub = s.get("published", {})
    rows = []
    for r in s["results"]:
        label = r["label"]
        ref = pub.get(label, {}).get("mean")
        rows.append({"value": label, "mean": round(r["mean"], 3), "std": round(r["std"], 3),
                     "published_mean": ref,
                     "within_15pct": None if ref is None else abs(r["mean"] / ref - 1) <= 0.15})
    studies.append({"vary": s["vary"], "results": rows})
print(json.dumps({
    "recipe": "tutorial" + (" (quick)" if args.quick else ""),
    "wall_seconds_cold_cache": round(cold, 2), "wall_seconds_warm_cache": round(warm, 2),
    "target_seconds": 60, "cold_ratio_to_target": round(cold / 60, 3),
    "repeats_1_seconds": round(t1, 2), "repeats_30_seconds": round(t30, 2),
    "repeats_30_over_1": round(t30 / t1, 3), "repeats_target_ratio": 2.0,
    "studies": studies}, indent=1))
