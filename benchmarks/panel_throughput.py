"""A panel's series as one local population against a loop over the single-series path,
and the search overhead per trial against the panel size.

1. One configuration (8 units, 4 lags, 40 epochs, batch 16, recursive, horizon 4, one
   validation window per series) on the 1,000 first series of M1 (monthly, quarterly and
   yearly: 1,001 real series, 30–150 points) trained as one local population
   (``PanelTask``: 1,000 members, one program) against the same configuration trained
   series by series through the single-series path (``evaluate_configs`` with a
   ``ForecastTask``, as a user looping over ``tune``'s machinery would): the loop is timed on
   ``--loop`` series spread over the panel (default 60) and its per-series time scaled to
   1,000.  Both are cold (each includes its own compilations: a series of another length is
   another program).  The scores of the looped series must equal the population's
   (``max_abs_score_diff``).  The process's RSS and memory mappings are read before and
   after the population and after every looped series, with the engine's mapping limit set
   4,000 above the population's (a loop compiles one program per series; each maps its
   code: ``release_programs`` must keep the peak near the limit).  Target: ``speedup`` =
   loop / population >= 20.
2. Search overhead: a random search of ``trials`` trials (global models, one epoch: training
   is cheap) on panels of 50, 200 and 800 series; the overhead of a trial is its share of
   the study's wall time outside ``evaluate_configs`` (asking, suggesting, telling, storing
   every member's score), in ms per trial.  Target: flat in the panel size (the ratio of
   the largest panel's to the smallest's near 1; the stored member table grows with the
   series, by design).

    .venv/bin/python benchmarks/panel_throughput.py [--quick] [--loop N]
"""

from __future__ import annotations

import os
import time

import numpy as np
from _common import emit, environment, log, parser

ap = parser(__doc__)
ap.add_argument("--loop", type=int, default=60, help="series timed through the loop")
args = ap.parse_args()

import lstmtune.engine._population as population_module  # noqa: E402
import lstmtune.search._tune as tune_module  # noqa: E402
from lstmtune.data import Panel, load_panel  # noqa: E402
from lstmtune.experiment import (  # noqa: E402
    ForecastTask,
    PanelTask,
    evaluate_configs,
    fold_series,
)
from lstmtune.search import study_from_dict  # noqa: E402
from lstmtune.search._panel import panel_folds  # noqa: E402
from lstmtune.search._tune import _run_study  # noqa: E402

H = 4
N = 120 if args.quick else 1000
LOOP = min(args.loop, 12 if args.quick else args.loop)
CONFIG = {"units": 8, "timesteps": 4, "epochs": 8 if args.quick else 40, "batch_size": 16,
          "multistep": "recursive", "scaler": "standard", "difference": 0,
          "learning_rate": 0.01}


def memory() -> dict:
    with open("/proc/self/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
    with open("/proc/self/maps") as f:
        maps = sum(1 for _ in f)
    return {"rss_mib": rss / 1024, "mappings": maps}


series = [ts for name in ("m1_monthly", "m1_quarterly", "m1_yearly")
          for ts in load_panel(name)][:N]
folds = [fold_series(ts.head(len(ts) - H), scored=H, folds=1)[0] for ts in series]
log(f"{len(series)} M1 series, {min(map(len, series))}–{max(map(len, series))} points")

m0 = memory()
t = time.perf_counter()
[pop] = evaluate_configs(folds, [CONFIG], repeats=1, seed=0, task=PanelTask(horizon=H))
t_pop = time.perf_counter() - t
m1 = memory()
log(f"population of {len(folds)} series: {t_pop:.1f} s")

picked = np.linspace(0, len(folds) - 1, LOOP).round().astype(int)
alone = ForecastTask(horizon=H, origin_step=H, metric="smape")
# the loop compiles one program per series length: with the limit of mappings set a few
# thousand above the population's, release_programs keeps the loop flat (its default,
# 16,000, is reached after about 70 series of this shape)
population_module.MAX_MAPPINGS = LIMIT = m1["mappings"] + 4000
diffs, peaks = [], []
t = time.perf_counter()
for i in picked:
    [r] = evaluate_configs([folds[i]], [{**CONFIG, "horizon": H, "origin_step": H}],
                           repeats=1, seed=0, task=alone)
    diffs.append(abs(float(r.scores[0]) - float(pop.scores[i])))
    peaks.append(memory())
t_loop = time.perf_counter() - t
m2 = memory()
per_series = t_loop / LOOP
log(f"loop over {LOOP} series: {t_loop:.1f} s ({per_series:.2f} s per series)")

# 2. search overhead per trial against the panel size
spent = {"evaluate": 0.0}
inner = tune_module.evaluate_configs


def timed(*a, **k):
    t0 = time.perf_counter()
    try:
        return inner(*a, **k)
    finally:
        spent["evaluate"] += time.perf_counter() - t0


tune_module.evaluate_configs = timed
trials = 4 if args.quick else 12
overhead = {}
monthly = load_panel("m1_monthly")
for size in ((20, 60) if args.quick else (50, 200, 600)):
    sub = Panel(name=f"m1-{size}", series=dict(list(monthly.series.items())[:size]),
                horizon=18)
    cfg = study_from_dict({
        "data": {"task": "panel", "source": "m1_monthly"},
        "model": {"units": 4, "timesteps": 4, "model": "global", "multistep": "recursive"},
        "training": {"global_epochs": 1, "global_batch_size": 512},
        "search": {"strategy": "random", "trials": trials, "batch": 1, "repeats": 1,
                   "final_repeats": 1},
        "space": {"learning_rate": {"float": [1e-3, 1e-2], "log": True}}})
    _, pfolds = panel_folds(sub, cfg)
    spent["evaluate"] = 0.0
    t = time.perf_counter()
    _run_study(cfg, pfolds, f"memory://bench-{size}", f"bench-{size}", None, None)
    wall = time.perf_counter() - t
    overhead[size] = {"trials": trials, "wall_s": wall, "evaluate_s": spent["evaluate"],
                      "overhead_ms_per_trial": 1000 * (wall - spent["evaluate"]) / trials}
    log(f"panel of {size}: {overhead[size]['overhead_ms_per_trial']:.1f} ms per trial "
        "outside training")
sizes = sorted(overhead)
emit({
    "benchmark": "panel_throughput", "environment": environment(),
    "series": len(folds), "horizon": H, "config": CONFIG,
    "population_s": t_pop, "loop_series": LOOP, "loop_s": t_loop,
    "loop_s_per_series": per_series, "loop_s_scaled_to_panel": per_series * len(folds),
    "speedup": per_series * len(folds) / t_pop, "target_speedup": 20,
    "max_abs_score_diff": max(diffs),
    "memory": {"start": m0, "after_population": m1, "after_loop": m2,
               "loop_mapping_limit": LIMIT,
               "loop_max_mappings": max(p["mappings"] for p in peaks),
               "loop_max_rss_mib": max(p["rss_mib"] for p in peaks),
               "loop_mappings_first_10": [p["mappings"] for p in peaks[:10]]},
    "search_overhead": overhead,
    "overhead_ratio_largest_to_smallest":
        overhead[sizes[-1]]["overhead_ms_per_trial"] /
        overhead[sizes[0]]["overhead_ms_per_trial"],
    "cpu_count": os.cpu_count(),
})
