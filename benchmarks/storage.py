"""What the study's storage costs per trial, and whether a long study's memory stays flat.

1. Storage cost: the search loop of ``tune`` (claims, asks, suggestions, reports, tells,
   member scores; training replaced by an instant fake, the final evaluation skipped) run to
   ``trials`` trials (1,000) for random search and TPE on the default space, in SQLite (the
   default), Optuna's journal file and PostgreSQL (a throwaway local server from the tests'
   harness, ``fsync=off``), against Optuna's in-memory storage measured in the same run.  The
   figure is ms per trial of the search loop; ``storage_ms_per_trial`` is that minus the
   in-memory figure of the same strategy, i.e. the storage's share (TPE's own sampling time
   is the in-memory TPE figure, reported apart).  Target (issue 15): SQLite <= 5 ms.
2. Memory: a real 1,000-trial random study (Shampoo, 1-2 units, 20 epochs, 1 repeat, batch 20)
   in SQLite; the resident set (VmRSS) after the batch that reaches 100 trials and after the
   last.  Target: within 10 %.

    .venv/bin/python benchmarks/storage.py [--quick] [--skip-memory] [--no-postgres]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' harness
from _common import emit, log, parser  # noqa: E402

import lstmtune.search._tune as tune_mod  # noqa: E402
from lstmtune.data import load  # noqa: E402
from lstmtune.experiment import ConfigScores  # noqa: E402
from lstmtune.search import study_from_dict, tune  # noqa: E402

ap = parser(__doc__.splitlines()[0])
ap.add_argument("--skip-memory", action="store_true")
ap.add_argument("--no-postgres", action="store_true")
args = ap.parse_args()
TRIALS = 100 if args.quick else 1000
MEMORY_TRIALS = 200 if args.quick else 1000
TARGET_MS = 5.0
SERIES = load("shampoo")


def fake(folds, configs, *, repeats, seed=0, **kw):  # instant "training"
    rng = np.random.default_rng(len(configs))
    n = len(folds) * repeats
    return [ConfigScores(scores=rng.normal(100, 5, n), status=np.array(["complete"] * n),
                         epochs_trained=np.full(n, 100), fold=np.zeros(n, int),
                         repeat=np.arange(n), seed=np.arange(n)) for _ in configs]


def search_seconds(url: str, strategy: str) -> float:
    """Seconds of the search loop alone (the study opened, searched to TRIALS)."""
    doc = {"data": {"source": "shampoo", "test_size": 12, "val_size": 12},
           "search": {"strategy": strategy, "trials": TRIALS, "repeats": 3, "batch": 20,
                      "final_repeats": 1, "seed": 0}}
    spent = {}
    real_run = tune_mod._run_study

    def timed(*a, **kw):
        t = time.perf_counter()
        out = real_run(*a, **kw)
        spent["search"] = time.perf_counter() - t
        return out

    tune_mod._run_study = timed
    try:
        tune(SERIES, study_from_dict(doc), storage=url, study_name="s")
    finally:
        tune_mod._run_study = real_run
    return spent["search"]


def storage_cost(tmp: Path, pg_url) -> dict:
    real = tune_mod.evaluate_configs, tune_mod.final_evaluation
    tune_mod.evaluate_configs = fake
    tune_mod.final_evaluation = lambda *a, **k: ({}, {}, None)
    try:
        out: dict = {}
        for strategy in ("random", "tpe"):
            kinds = {"memory": f"memory://{strategy}",
                     "sqlite": f"sqlite:///{tmp / (strategy + '.db')}",
                     "journal": f"journal:///{tmp / (strategy + '.log')}"}
            if pg_url is not None:
                kinds["postgresql"] = pg_url(strategy)
            for kind, url in kinds.items():
                s = search_seconds(url, strategy)
                out.setdefault(strategy, {})[kind] = round(1000 * s / TRIALS, 2)
                log(f"{strategy:6s} {kind:10s} {1000 * s / TRIALS:7.2f} ms per trial")
        return out
    finally:
        tune_mod.evaluate_configs, tune_mod.final_evaluation = real


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory(tmp: Path) -> dict:
    doc = {"data": {"source": "shampoo", "test_size": 12, "val_size": 12},
           "training": {"epochs": 20, "batch_size": 4},
           "search": {"strategy": "random", "trials": MEMORY_TRIALS, "repeats": 1,
                      "batch": 20, "final_repeats": 1, "seed": 0},
           "space": {"units": {"int": [1, 2]},
                     "learning_rate": {"float": [1e-3, 1e-1], "log": True}}}
    seen: dict[int, float] = {}

    def on_batch(study, budget):
        n = len(study.get_trials(deepcopy=False))
        seen[n] = rss_mb()

    t = time.perf_counter()
    tune(SERIES, study_from_dict(doc), storage=f"sqlite:///{tmp / 'memory.db'}",
         study_name="m", on_batch=on_batch)
    wall = time.perf_counter() - t
    at_100 = seen[min(n for n in seen if n >= 100)]
    at_end = seen[max(seen)]
    return {"trials": MEMORY_TRIALS, "rss_mb_at_100": round(at_100, 1),
            "rss_mb_at_end": round(at_end, 1), "ratio_end_to_100": round(at_end / at_100, 4),
            "target_ratio": 1.10, "wall_seconds": round(wall, 1)}


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        server = None
        pg_url = None
        if not args.no_postgres:
            from tests._postgres import PostgresServer, postgres_missing_reason

            reason = postgres_missing_reason()
            if reason:
                log(f"no PostgreSQL: {reason}")
            else:
                server = PostgresServer()
                server.__enter__()
                pg_url = server.create_database
        try:
            cost = storage_cost(tmp, pg_url)
        finally:
            if server is not None:
                server.__exit__(None, None, None)
        result = {"trials": TRIALS, "ms_per_trial": cost,
                  "storage_ms_per_trial": {
                      s: {k: round(v - cost[s]["memory"], 2) for k, v in per.items()
                          if k != "memory"} for s, per in cost.items()},
                  "reference": "Optuna's in-memory storage, same loop, same run",
                  "ratio_sqlite_to_memory": {s: round(cost[s]["sqlite"] / cost[s]["memory"], 2)
                                             for s in cost},
                  "target_sqlite_ms": TARGET_MS,
                  "met": all(cost[s]["sqlite"] - cost[s]["memory"] <= TARGET_MS
                             for s in cost)}
        if not args.skip_memory:
            result["memory"] = memory(tmp)
            log(f"memory: {result['memory']}")
        emit(result)


main()
