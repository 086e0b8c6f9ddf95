"""Several `lstmtune tune` processes on one study (issue 11's acceptance): 2 and 3 processes,
started together and 3 s apart, on one SQLite file and on one journal file, N runs each.

Per combination it counts: runs with a non-zero exit or a traceback, trials left RUNNING,
live trials failed by another process (interrupted trials: there are no kills here), runs
whose trial count differs from the budget, runs whose saved model / stored final table /
leaderboard do not describe the study's best trial, and temporary files left over; and how
many of the processes ran trials (the study is long enough for them to overlap).  The
reference is one process on the same study, so ``speedup`` = one process's wall time / the
workers' (2 cores here).

    python benchmarks/workers.py [--runs 10] [--quick]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' harness

from _common import emit, log, parser  # noqa: E402

from lstmtune.search._storage import INTERRUPTED, counted  # noqa: E402
from tests.search.test_workers import run_workers  # noqa: E402

BUDGET = 12  # trials of the study: 2,000 epochs each, so that the workers overlap
EPOCHS = 2000


def check(r: dict) -> dict[str, int]:
    trials = r["study"].trials
    best = r["study"].best_trial.number
    return {
        "bad_exit_or_traceback": int(any(r["codes"]) or any("Traceback" in e
                                                             for e in r["stderr"])),
        "left_running": sum(t.state.name == "RUNNING" for t in trials),
        "live_trials_failed": sum(bool(t.system_attrs.get(INTERRUPTED)) for t in trials),
        "budget_missed": int(counted(r["study"]) != BUDGET or len(trials) != BUDGET),
        "model_not_best": int(not r["model_trial"] == r["final_trial"] == best
                              or r["leaderboard_first"].split(",")[1] != str(best)),
        "temp_files_left": len(r["leftovers"]),
    }


def main() -> None:
    ap = parser(__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    runs = 1 if args.quick else args.runs
    combos = [(kind, n, stagger) for kind in ("sqlite", "journal") for n in (2, 3)
              for stagger in (0.0, 3.0)]
    out: dict = {"runs_per_combination": runs, "budget": BUDGET, "combinations": []}
    with tempfile.TemporaryDirectory() as tmp:
        ref = run_workers(Path(tmp) / "ref", 1, 0.0, False, trials=BUDGET, epochs=EPOCHS)
        out["one_process_seconds"] = round(ref["seconds"], 2)
        log(f"one process: {ref['seconds']:.1f} s")
        for kind, n, stagger in combos:
            totals: dict[str, int] = {}
            seconds, workers, errors = [], [], []
            for k in range(runs):
                r = run_workers(Path(tmp) / f"{kind}-{n}-{stagger}-{k}", n, stagger,
                                kind == "journal", trials=BUDGET, epochs=EPOCHS)
                for key, v in check(r).items():
                    totals[key] = totals.get(key, 0) + v
                seconds.append(r["seconds"])
                workers.append(r["workers"])
                errors += [e.strip().splitlines()[-1] for c, e in zip(r["codes"], r["stderr"],
                                                                      strict=True) if c]
                log(f"{kind} {n} processes {stagger:g} s apart, run {k + 1}: "
                    f"{r['seconds']:.1f} s, {r['workers']} ran trials, {check(r)}")
            out["combinations"].append({
                "storage": kind, "processes": n, "stagger_s": stagger, "runs": runs,
                **totals, "workers_that_ran_trials": workers, "errors": errors,
                "mean_seconds": round(sum(seconds) / len(seconds), 2),
                "speedup": round(ref["seconds"] / (sum(seconds) / len(seconds)), 3)})
    out["all_clean"] = all(v == 0 for c in out["combinations"] for k, v in c.items()
                           if k not in ("storage", "processes", "stagger_s", "runs",
                                        "workers_that_ran_trials", "errors", "mean_seconds",
                                        "speedup"))
    emit(out)


if __name__ == "__main__":
    main()
