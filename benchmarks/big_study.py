"""What a big study costs after its search: the final evaluation, the leaderboard, loading the
report tables and writing the report, at 10,000 trials against a reference of 100 trials
measured in the same run.

Targets (issue "Hardening", item 6): after a **10,000-trial** study, the final evaluation and
the report take **<= 30 s** and **<= 600 MB** of memory beyond what the process held when the
search ended, and the report is **<= 1 MB** whatever the trial count.

How it measures (no training during the "search"):

1. ``build``: a study in a SQLite file made as ``tune`` makes one (``open_study`` stores the
   study file's ``lstmtune:config``), then N synthetic trials (:func:`trials`): parameters
   drawn from the default space (conditions respected), a state mix of about 80 % COMPLETE,
   12 % PRUNED (two intermediate values, as the median pruner reports them) and 8 % FAIL
   (diverged members stored as null scores, or an infeasible framing with no members),
   ``user_attrs["members"]`` exactly as ``_evaluate_batch`` writes it (3 repeats × 2 folds),
   a few COMPLETE trials with one diverged member, and durations of a few seconds.  Trial 0
   is the best (lowest value) and a tiny configuration (1 unit, 1 time step, 100 epochs), the
   same at every N, so the retraining costs the same at both sizes.  The rows go into
   Optuna's own tables in bulk (``study.add_trials`` would take four minutes at 10,000);
   reading them back through Optuna checks them.
2. ``post``: a fresh Python process opens the study, reads its trials once (the search's
   storage cache holds them when ``tune`` ends), imports JAX, and takes that as the baseline;
   then it times, in ``tune``'s and the CLI's order, ``final_evaluation`` (30 repeats
   retrained on train + validation, the per-epoch curves of the best on the folds),
   ``leaderboard(study)``, ``load_study_tables`` and ``write_study_report``.  Memory is the
   peak resident set (``VmHWM``, reset through ``/proc/self/clear_refs`` before each phase;
   ``ru_maxrss`` where that is not available) minus the baseline's resident set.  Not counted
   in the total, it then times ``load_study_tables(..., study=study)`` (the tables read from
   the study already open, as the CLI could right after ``tune``).

Each size runs in its own process, reference first; a warm-up run (100 trials, not reported)
fills JAX's persistent compilation cache first so neither size pays a cold compile.  One run
per size.  About 70 s in all (building the 10,000-trial study, not measured, ~12 s).

    .venv/bin/python benchmarks/big_study.py [--quick] [--trials N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, log, rnd  # noqa: E402

TARGET_S, TARGET_MB, TARGET_BYTES = 30.0, 600.0, 1_000_000
STUDY = "big"
DOC = {"data": {"source": "shampoo", "test_size": 6, "val_size": 6, "folds": 2},
       "search": {"strategy": "tpe", "trials": 10_000, "repeats": 3, "batch": 8,
                  "final_repeats": 30, "pruner": "median", "seed": 0}}
TINY_BEST = {"units": 1, "layers": 1, "timesteps": 1, "dropout": 0.0,
             "recurrent_dropout": 0.0, "learning_rate": 0.01, "batch_size": 4, "epochs": 100,
             "optimizer": "adam", "activation": "tanh", "l2": 1e-6, "difference": 1,
             "scaler": "minmax"}


def _config():
    from lstmtune.search import study_from_dict

    return study_from_dict(DOC)


def _draw(space, rng: np.random.Generator) -> dict:
    """One configuration from ``space`` (log ranges log-uniform, conditions respected)."""
    from lstmtune.search import Choice, Fixed

    params: dict = {}
    for name, e in space.entries:
        if isinstance(e, Fixed) or not all(params.get(k) in v for k, v in e.when):
            continue
        if isinstance(e, Choice):
            params[name] = e.values[int(rng.integers(len(e.values)))]
        elif e.integer:
            u = rng.uniform(math.log(e.low), math.log(e.high + 1)) if e.log else \
                rng.uniform(e.low, e.high + 1)
            params[name] = min(int(math.exp(u) if e.log else u), int(e.high))
        else:
            params[name] = float(math.exp(rng.uniform(math.log(e.low), math.log(e.high)))
                                 if e.log else rng.uniform(e.low, e.high))
    return params


def trials(n: int, seed: int = 0) -> list:
    """``n`` synthetic FrozenTrials (see the module docstring); trial 0 is the best."""
    from optuna.trial import FrozenTrial, TrialState

    cfg = _config()
    dists = cfg.space.distributions()
    rng = np.random.default_rng(seed)
    M, folds, repeats = 6, cfg.data.folds, cfg.search.repeats
    fold = [f for f in range(folds) for _ in range(repeats)]
    repeat = [r for _ in range(folds) for r in range(repeats)]
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    out = []
    for i in range(n):
        params = dict(TINY_BEST) if i == 0 else _draw(cfg.space, rng)
        centre = 70.0 if i == 0 else 95 + 60 * rng.gamma(2.0, 0.5)
        scores = centre + rng.normal(0, 6, M)
        epochs = [int(params["epochs"])] * M
        u = rng.uniform()
        state, value, attrs, inter = TrialState.COMPLETE, None, {}, {}
        if i and u < 0.12:  # pruned after the first chunk
            state = TrialState.PRUNED
            epochs = [int(params["epochs"]) // 2] * M
            inter = {epochs[0] // 2: float(scores.mean() + 20), epochs[0]: float(scores.mean())}
        elif i and u < 0.17:  # members diverged
            state = TrialState.FAIL
            bad = int(rng.integers(1, M + 1))
            scores[:bad] = np.nan
            attrs["fail_reason"] = (f"{bad} of {M} members diverged (loss or forecasts "
                                    "NaN/inf)")
        elif i and u < 0.20:  # the framing does not fit: no members
            state = TrialState.FAIL
            attrs["fail_reason"] = ("infeasible on this data: the training part has "
                                    f"{int(rng.integers(2, 5))} windows, fewer than batch_size "
                                    f"{params['batch_size']}")
        elif i and u < 0.23:  # one member diverged, the others complete (value over finite)
            scores[int(rng.integers(M))] = np.nan
        if "infeasible" not in attrs.get("fail_reason", ""):
            attrs["members"] = {"score": [float(s) if np.isfinite(s) else None
                                          for s in scores],
                                "fold": fold, "repeat": repeat, "epochs_trained": epochs}
        if state == TrialState.COMPLETE:
            value = float(np.nanmean(scores))
        elif state == TrialState.PRUNED:
            value = inter[max(inter)]
        start = t0 + dt.timedelta(seconds=4 * i)
        out.append(FrozenTrial(
            number=i, state=state, value=value, datetime_start=start,
            datetime_complete=start + dt.timedelta(seconds=float(rng.uniform(1, 8))),
            params=params, distributions={k: dists[k] for k in params}, user_attrs=attrs,
            system_attrs={}, intermediate_values=inter, trial_id=i))
    return out


def build(url: str, n: int, seed: int = 0) -> None:
    """The study of ``n`` synthetic trials in ``url``.  Rows go into Optuna's own tables
    (its SQLAlchemy models) in bulk: ``study.add_trials`` costs ~24 ms a trial in SQLite
    (4 minutes for 10,000); a round trip through Optuna checks the rows afterwards."""
    import optuna
    from optuna.distributions import distribution_to_json
    from optuna.storages._rdb import models
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from lstmtune.search import open_study, storage_from_url

    study = open_study(_config(), url, STUDY)
    made = trials(n, seed)
    storage = storage_from_url(url)
    sid = study._study_id
    rows: dict = {m: [] for m in ("trial", "param", "value", "attr", "inter")}
    IV, TV = models.TrialIntermediateValueModel, models.TrialValueModel
    for t in made:
        tid = t.number + 1
        rows["trial"].append({"trial_id": tid, "number": t.number, "study_id": sid,
                              "state": t.state,
                              "_datetime_start_utc": _naive_utc(t.datetime_start),
                              "_datetime_complete_utc": _naive_utc(t.datetime_complete)})
        rows["param"] += [{"trial_id": tid, "param_name": k,
                           "param_value": t.distributions[k].to_internal_repr(v),
                           "distribution_json": distribution_to_json(t.distributions[k])}
                          for k, v in t.params.items()]
        if t.value is not None:
            rows["value"].append({"trial_id": tid, "objective": 0, "value": t.value,
                                  "value_type": TV.TrialValueType.FINITE})
        rows["attr"] += [{"trial_id": tid, "key": k, "value_json": json.dumps(v)}
                         for k, v in t.user_attrs.items()]
        rows["inter"] += [{"trial_id": tid, "step": s, "intermediate_value": v,
                           "intermediate_value_type": IV.TrialIntermediateValueType.FINITE}
                          for s, v in t.intermediate_values.items()]
    with Session(storage.engine) as s:
        for model, key in ((models.TrialModel, "trial"), (models.TrialParamModel, "param"),
                           (TV, "value"), (models.TrialUserAttributeModel, "attr"),
                           (IV, "inter")):
            if rows[key]:
                s.execute(insert(model), rows[key])
        s.commit()
    back = optuna.load_study(study_name=STUDY, storage=url).get_trials(deepcopy=False)
    assert len(back) == n, (len(back), n)
    for i in {0, n // 2, n - 1}:
        a, b = made[i], back[i]
        assert (a.number, a.state, a.value, a.params, a.user_attrs, a.intermediate_values) == \
            (b.number, b.state, b.value, b.params, b.user_attrs, b.intermediate_values), i


def _naive_utc(d: dt.datetime) -> dt.datetime:
    return d.astimezone(dt.UTC).replace(tzinfo=None)


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb(baseline_kb: int, resettable: bool) -> float:
    peak = _status_kb("VmHWM") if resettable else None
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (peak - baseline_kb) / 1024


def post(url: str, html: str) -> dict:
    """The post-search part, timed and measured phase by phase (runs in its own process)."""
    import optuna

    import lstmtune.engine  # noqa: F401 (the search had JAX loaded)
    from lstmtune.data import load
    from lstmtune.experiment import fold_series
    from lstmtune.search import storage_from_url
    from lstmtune.search._final import final_evaluation
    from lstmtune.search._tune import leaderboard

    cfg = _config()
    ts = load(cfg.data.source)
    study = optuna.load_study(study_name=STUDY, storage=storage_from_url(url))
    n = len(study.get_trials(deepcopy=False))  # the search's storage cache holds them all
    dev = ts.head(len(ts) - cfg.data.test_size)
    folds = fold_series(dev, scored=cfg.data.val_size, folds=cfg.data.folds)
    base = _status_kb("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    resettable = _reset_peak()
    phases: dict[str, dict] = {}

    def phase(name, fn):
        if resettable:
            _reset_peak()
        t = time.perf_counter()
        out = fn()
        phases[name] = {"s": time.perf_counter() - t, "peak_mb": _peak_mb(base, resettable)}
        log(f"  {n} trials, {name}: {phases[name]['s']:.2f} s, "
            f"peak {phases[name]['peak_mb']:.0f} MB above the baseline")
        return out

    from lstmtune.report import load_study_tables, write_study_report

    t0 = time.perf_counter()
    phase("final_evaluation", lambda: final_evaluation(study, ts, cfg, folds, started=t0))
    phase("leaderboard", lambda: leaderboard(study))
    tables = phase("load_study_tables", lambda: load_study_tables(url, STUDY))
    path = phase("write_study_report", lambda: write_study_report(tables, Path(html)))
    total = sum(p["s"] for p in phases.values())
    peak = max(p["peak_mb"] for p in phases.values())
    tables = None  # noqa: F841 (freed before the next phase)
    # not counted above: the same tables read from the study already open (what the CLI
    # could pass right after `tune`, see load_study_tables's `study` argument)
    phase("load_study_tables_from_open_study", lambda: load_study_tables(url, STUDY,
                                                                         study=study))
    return {"trials": n, "seconds": total, "peak_mb_beyond_baseline": peak,
            "report_bytes": path.stat().st_size, "baseline_rss_mb": base / 1024,
            "peak_reset_per_phase": resettable,
            "phases": {k: {"s": rnd(v["s"]), "peak_mb": rnd(v["peak_mb"])}
                       for k, v in phases.items()}}


def _child(mode: str, *args: str) -> dict | None:
    out = subprocess.run([sys.executable, __file__, f"--{mode}", *args], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out) if out.strip() else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="1,000 trials against 100 (smoke test: checks the script works)")
    ap.add_argument("--trials", type=int, default=None, help="the big size (default 10,000)")
    ap.add_argument("--keep", default=None, help="build the studies in DIR and keep them")
    ap.add_argument("--build", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--post", nargs=2, metavar=("URL", "HTML"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build:
        build(args.build[0], int(args.build[1]))
        return
    if args.post:
        print(json.dumps(post(*args.post)))
        return
    big = args.trials or (1_000 if args.quick else 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        urls = {}
        for n in (100, big):
            urls[n] = f"sqlite:///{folder / f'study_{n}.db'}"
            if not (folder / f"study_{n}.db").exists():
                t = time.perf_counter()
                _child("build", urls[n], str(n))
                log(f"built {n} trials in {time.perf_counter() - t:.1f} s")
        log("warm-up (fills the compilation cache; not reported)")
        _child("post", urls[100], str(folder / "warmup.html"))
        res = {n: _child("post", urls[n], str(folder / f"report_{n}.html")) for n in urls}
    ref, tgt = res[100], res[big]
    emit({"benchmark": "big_study", "what": "final_evaluation + leaderboard + "
          "load_study_tables + write_study_report after the search, fresh process per size",
          "reference": _rounded(ref), "target": _rounded(tgt),
          "ratio": {"seconds": rnd(tgt["seconds"] / ref["seconds"]),
                    "peak_mb": rnd(tgt["peak_mb_beyond_baseline"]
                                   / max(ref["peak_mb_beyond_baseline"], 1.0)),
                    "report_bytes": rnd(tgt["report_bytes"] / ref["report_bytes"])},
          "targets": {"seconds": TARGET_S, "peak_mb": TARGET_MB, "report_bytes": TARGET_BYTES},
          "met": {"seconds": tgt["seconds"] <= TARGET_S,
                  "peak_mb": tgt["peak_mb_beyond_baseline"] <= TARGET_MB,
                  "report_bytes": max(tgt["report_bytes"], ref["report_bytes"])
                  <= TARGET_BYTES},
          "cpu_count": os.cpu_count()})


def _rounded(r: dict) -> dict:
    return {k: rnd(v) if isinstance(v, float) else v for k, v in r.items()}


if __name__ == "__main__":
    main()
