"""What the study's storage costs per trial, and whether a long study's memory stays flat.

1. Storage cost: the search loop of ``tune`` (claims, asks, suggestions, reports, tells,
   member scores; training replaced by an instant fake, the final evaluation skipped) run to
   ``trials`` trials (1,000) for random search and TPE on the default space, in SQLite (the
   default), Optuna's journal file and PostgreSQL (a throwaway local server from the tests'
   harness, ``fsync=off``), against Optuna's in-memory storage measured in the same run (best
   of 2 runs each).  ``ms_per_trial`` is the search loop's time per trial;
   ``ms_per_trial_without_sampling`` leaves out the time the sampler spent drawing
   parameters (TPE's own time, ~20 ms per trial at 1,000 trials on the default space, whose
   run-to-run spread is larger than the storage's share); ``storage_ms_per_trial`` is that
   minus the in-memory figure of the same strategy: what the storage costs.  Target
   (issue 15): SQLite <= 5 ms.
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
from lstmtune.search import Space, study_from_dict, tune  # noqa: E402

ap = parser((__doc__ or "storage").splitlines()[0])
ap.add_argument("--skip-memory", action="store_true")
ap.add_argument("--no-postgres", action="store_true")
args = ap.parse_args()
TRIALS = 100 if args.quick else 1000
REPEATS = 1 if args.quick else 2
MEMORY_TRIALS = 200 if args.quick else 1000
TARGET_MS = 5.0
SERIES = load("shampoo")


def fake(folds, configs, *, repeats, seed=0, **kw):  # instant "training"
    rng = np.random.default_rng(len(configs))
    n = len(folds) * repeats
    return [ConfigScores(scores=rng.normal(100, 5, n), status=np.array(["complete"] * n),
                         epochs_trained=np.full(n, 100), fold=np.zeros(n, int),
                         repeat=np.arange(n), seed=np.arange(n)) for _ in configs]


def search_seconds(url: str, strategy: str) -> tuple[float, float]:
    """Seconds of the search loop (the study opened, searched to TRIALS), and of those the
    seconds the sampler spent drawing parameters (``Space.suggest``)."""
    doc = {"data": {"source": "shampoo", "test_size": 12, "val_size": 12},
           "search": {"strategy": strategy, "trials": TRIALS, "repeats": 3, "batch": 20,
                      "final_repeats": 1, "seed": 0}}
    spent = {"sampling": 0.0, "searching": False}
    real_run, real_suggest = tune_mod._run_study, Space.suggest

    def timed(*a, **kw):
        t = time.perf_counter()
        spent["searching"] = True
        try:
            out = real_run(*a, **kw)
        finally:
            spent["searching"] = False
        spent["search"] = time.perf_counter() - t
        return out

    def suggest(self, trial):  # the preflight's checks draw too: only the search's count
        t = time.perf_counter()
        out = real_suggest(self, trial)
        if spent["searching"]:
            spent["sampling"] += time.perf_counter() - t
        return out

    tune_mod._run_study, Space.suggest = timed, suggest
    try:
        tune(SERIES, study_from_dict(doc), storage=url, study_name="s")
    finally:
        tune_mod._run_study, Space.suggest = real_run, real_suggest
    return spent["search"], spent["sampling"]


def storage_cost(tmp: Path, pg_url) -> tuple[dict, dict]:
    """ms per trial of the whole loop, and of the loop without the sampler's drawing, per
    strategy and storage (best of REPEATS runs, each on a new study)."""
    real = tune_mod.evaluate_configs, tune_mod.final_evaluation
    tune_mod.evaluate_configs = fake
    tune_mod.final_evaluation = lambda *a, **k: ({}, {}, None)
    try:
        total: dict = {}
        loop: dict = {}
        for strategy in ("random", "tpe"):
            for r in range(REPEATS):
                kinds = {"memory": f"memory://{strategy}{r}",
                         "sqlite": f"sqlite:///{tmp / f'{strategy}{r}.db'}",
                         "journal": f"journal:///{tmp / f'{strategy}{r}.log'}"}
                if pg_url is not None:
                    kinds["postgresql"] = pg_url(f"{strategy}{r}")
                for kind, url in kinds.items():
                    s, sampling = search_seconds(url, strategy)
                    ms, loop_ms = 1000 * s / TRIALS, 1000 * (s - sampling) / TRIALS
                    t, x = total.setdefault(strategy, {}), loop.setdefault(strategy, {})
                    t[kind] = round(min(t.get(kind, ms), ms), 2)
                    x[kind] = round(min(x.get(kind, loop_ms), loop_ms), 2)
                    log(f"{strategy:6s} {kind:10s} {ms:7.2f} ms per trial, {loop_ms:6.2f} "
                        "without sampling")
        return total, loop
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
            cost, loop = storage_cost(tmp, pg_url)
        finally:
            if server is not None:
                server.__exit__(None, None, None)
        share = {s: {k: round(v - loop[s]["memory"], 2) for k, v in per.items()
                     if k != "memory"} for s, per in loop.items()}
        result = {"trials": TRIALS, "repeats": REPEATS, "ms_per_trial": cost,
                  "ms_per_trial_without_sampling": loop,
                  "sampling_ms_per_trial_in_memory": {
                      s: round(cost[s]["memory"] - loop[s]["memory"], 2) for s in cost},
                  "storage_ms_per_trial": share,
                  "reference": "Optuna's in-memory storage, same loop, same run",
                  "ratio_sqlite_to_memory": {s: round(cost[s]["sqlite"] / cost[s]["memory"], 2)
                                             for s in cost},
                  "target_sqlite_ms": TARGET_MS,
                  "met": all(share[s]["sqlite"] <= TARGET_MS for s in share)}
        if not args.skip_memory:
            result["memory"] = memory(tmp)
            log(f"memory: {result['memory']}")
        emit(result)


main()
