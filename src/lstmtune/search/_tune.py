"""The one study loop: ask a batch of candidates, train them (× folds × repeats) as one
population, tell Optuna every result, and finally retrain the best on train + validation and
score it once on the test window.

Strategies only propose (Optuna samplers, ours included); this loop holds the training, the
storage and the resume logic.  The test window is cut off before the search starts.
"""

from __future__ import annotations

import json
import math
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from lstmtune.data import TimeSeries
from lstmtune.errors import ConfigError, DataError, SplitError
from lstmtune.experiment._evaluate import evaluate_configs, fold_series, prepare_fold
from lstmtune.experiment._params import complete, group_key
from lstmtune.model import Ensemble
from lstmtune.search._config import StudyConfig
from lstmtune.search._final import final_evaluation
from lstmtune.search._strategies import make_pruner, make_sampler, successive_halving

__all__ = ["TuneResult", "tune", "aggregate", "open_study", "leaderboard", "search",
           "storage_from_url",
           "member_scores"]

optuna.logging.set_verbosity(optuna.logging.WARNING)

INTERRUPTED = "lstmtune:interrupted"


@dataclass(frozen=True, eq=False)
class TuneResult:
    study: optuna.Study
    best_params: dict[str, Any]
    best_value: float
    test: dict[str, Any]  # metric -> value of the retrained best, with per-repeat scores
    baselines: dict[str, dict[str, float]]
    n_trials_complete: int
    n_trials_failed: int
    n_trials_pruned: int
    wall_seconds: float
    leaderboard: pd.DataFrame
    model: Ensemble | None = None  # the retrained best, R members (save with save_model)

    def to_dict(self) -> dict[str, Any]:
        return {"best_params": self.best_params, "best_value": self.best_value,
                "test": self.test, "baselines": self.baselines,
                "n_trials_complete": self.n_trials_complete,
                "n_trials_failed": self.n_trials_failed,
                "n_trials_pruned": self.n_trials_pruned,
                "wall_seconds": self.wall_seconds,
                "leaderboard": self.leaderboard.to_dict(orient="records")}


def aggregate(scores: np.ndarray, how: str, risk: float = 1.0) -> float:
    """A trial's value from all its repeat × fold scores."""
    s = np.asarray(scores, float)
    if how == "median":
        return float(np.median(s))
    if how == "mean+std":
        return float(s.mean() + risk * (s.std(ddof=1) if s.size > 1 else 0.0))
    return float(s.mean())


def open_study(cfg: StudyConfig, storage: str, study_name: str,
               sampler: optuna.samplers.BaseSampler | None = None,
               pruner: optuna.pruners.BasePruner | None = None) -> optuna.Study:
    """Create or resume the study; refuse to resume one made from a different study file."""
    study = optuna.create_study(storage=storage_from_url(storage), study_name=study_name,
                                direction="minimize", sampler=sampler, pruner=pruner,
                                load_if_exists=True)
    stored = study.user_attrs.get("lstmtune:config")
    desc = cfg.to_dict()
    for budget_key in ("trials", "timeout", "final_repeats"):  # may change between runs
        desc["search"].pop(budget_key)
    if desc["search"]["pruner"] != "wilcoxon":  # unused, and absent from older studies
        desc["search"].pop("p_threshold")
    mine = json.dumps(desc, sort_keys=True, default=str)
    if stored is None:
        study.set_user_attr("lstmtune:config", mine)
    elif stored != mine:
        raise ConfigError(f"study '{study_name}' in {storage} was made from a different study "
                          "configuration; use another --study-name (or --out) to start a new "
                          "study, or restore the original settings to resume it.")
    return study


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL + synchronous=NORMAL: every commit still survives a killed process (SIGKILL), only
    # a power loss may lose the last few; about 10x fewer milliseconds per trial than the
    # default rollback journal with a full sync on every commit
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def storage_from_url(url: str) -> optuna.storages.BaseStorage:
    """An RDB storage (SQLite files get WAL journaling, see ``_sqlite_pragmas``), or Optuna's
    append-only journal file for ``journal:///path/file.log``."""
    if url.startswith("journal:///"):
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(url[len("journal:///") - 1:]))
    if not url.startswith("sqlite"):
        return optuna.storages.RDBStorage(url)
    from sqlalchemy import event

    storage = optuna.storages.RDBStorage(url)
    event.listen(storage.engine, "connect", _sqlite_pragmas)
    storage.engine.dispose()  # pooled connections made before the listener are dropped
    return storage


def _recover(study: optuna.Study) -> int:
    """Trials left RUNNING by a killed process: mark them failed and queue their parameters
    again.  Returns how many were recovered."""
    n = 0
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study._storage.set_trial_system_attr(t._trial_id, INTERRUPTED, True)
        study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        if t.params:
            study.enqueue_trial(t.params, skip_if_exists=False)
        n += 1
    return n


def _done(study: optuna.Study) -> int:
    """Trials that count against the budget (interrupted ones are re-run, not counted)."""
    return sum(1 for t in study.get_trials(deepcopy=False)
               if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
               or (t.state == TrialState.FAIL and not t.system_attrs.get(INTERRUPTED)))


class _Stop:
    """Ctrl-C: finish the current chunk, save what finished, then stop."""

    def __init__(self) -> None:
        self.requested = False
        self._old = None

    def __enter__(self) -> _Stop:
        def handler(signum, frame):
            if self.requested:  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            self.requested = True

        try:
            self._old = signal.signal(signal.SIGINT, handler)
        except ValueError:  # not in the main thread
            self._old = None
        return self

    def __exit__(self, *exc) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def _evaluate_batch(study: optuna.Study, trials: list[optuna.Trial], params: list[dict],
                    cfg: StudyConfig, folds, stop: _Stop,
                    extra_hook: Callable | None = None, checkpoints: tuple[int, ...] = (),
                    progress: Callable[[str], None] | None = None) -> None:
    """Train the batch as one population (or as few as shapes need) and tell every trial."""
    s = cfg.search
    configs = [complete({**dict(cfg.fixed), **p}) for p in params]
    ok = []
    reasons: dict[tuple, str | None] = {}  # configurations of one group share their framing
    for trial, c in zip(trials, configs, strict=True):
        key = group_key(c)
        if key not in reasons:
            reasons[key] = _infeasible(c, folds)
        reason = reasons[key]
        if reason is None:
            ok.append(True)
            continue
        ok.append(False)  # e.g. more lags than the training part allows: fail this trial only
        trial.set_user_attr("fail_reason", reason)
        study.tell(trial, state=TrialState.FAIL)
    trials = [t for t, k in zip(trials, ok, strict=True) if k]
    configs = [c for c, k in zip(configs, ok, strict=True) if k]
    if not trials:
        return
    pruned = np.zeros(len(trials), bool)
    use_pruner = s.pruner != "none" or extra_hook is not None
    per_member = s.pruner == "wilcoxon" and extra_hook is None  # a paired test over members

    def on_chunk(idx, member_cfg, done, view):
        if stop.requested:
            return np.ones(len(member_cfg), bool)
        if not use_pruner or done >= view["epochs_total"]:  # nothing left to save at the end
            return None
        scores = view["scores"]()
        active = view["active"]
        stop_mask = np.zeros(len(member_cfg), bool)
        values = {}
        for k, i in enumerate(idx):
            sel = member_cfg == k
            if pruned[i] or not active[sel].any():
                continue
            sc = scores[sel]
            values[i] = aggregate(sc, s.aggregate, s.risk) if np.isfinite(sc).all() \
                else math.inf
            if per_member:
                report_members(trials[i], sc, done)
            else:
                trials[i].report(values[i], step=done)
        if extra_hook is not None:
            for i in extra_hook(done, values):
                pruned[i] = True
        elif s.pruner != "none":
            for i in values:
                if per_member and values[i] == math.inf:
                    continue  # Wilcoxon never prunes a trial with inf reports, only warns
                if trials[i].should_prune():
                    pruned[i] = True
        for k, i in enumerate(idx):
            if pruned[i]:
                stop_mask |= member_cfg == k
        return stop_mask

    results = evaluate_configs(folds, configs, repeats=s.repeats, seed=s.seed,
                               on_chunk=on_chunk, checkpoints=checkpoints, progress=progress)
    for i, (trial, r) in enumerate(zip(trials, results, strict=True)):
        if stop.requested:
            study._storage.set_trial_system_attr(trial._trial_id, INTERRUPTED, True)
            study.tell(trial, state=TrialState.FAIL)
            study.enqueue_trial(trial.params, skip_if_exists=False)
            continue
        trial.set_user_attr("members", {  # one write per trial; fold-major, then repeats
            "score": [float(x) for x in r.scores], "fold": [int(x) for x in r.fold],
            "repeat": [int(x) for x in r.repeat],
            "epochs_trained": [int(x) for x in r.epochs_trained]})
        if pruned[i]:
            study.tell(trial, state=TrialState.PRUNED)
        elif (r.status == "failed").any() or not np.isfinite(r.scores).all():
            n_bad = int((~np.isfinite(r.scores)).sum())
            trial.set_user_attr("fail_reason", f"{n_bad} of {len(r.scores)} members diverged "
                                               "(loss or forecasts NaN/inf)")
            study.tell(trial, state=TrialState.FAIL)
        else:
            study.tell(trial, aggregate(r.scores, s.aggregate, s.risk))


def report_members(trial: optuna.Trial, scores: np.ndarray, done: int) -> None:
    """Report each member's score for the Wilcoxon pruner: member m (fold-major, then repeats;
    M members) after ``done`` epochs is step ``done * M + m``, so that every (epoch, fold,
    repeat) pairs with the same one of the best trial.  Non-finite scores report inf."""
    M = len(scores)
    for m, v in enumerate(scores):
        trial.report(float(v) if np.isfinite(v) else math.inf, step=done * M + m)


def member_scores(trial: optuna.trial.FrozenTrial) -> list[float]:
    """A finished trial's member scores (fold-major, then repeats); [] when it has none."""
    members = trial.user_attrs.get("members")
    if members is not None and "score" in members:
        return members["score"]
    return trial.user_attrs.get("scores", [])  # studies stored before "members" held them


def _infeasible(config: dict[str, Any], folds) -> str | None:
    """Why this configuration cannot be framed on some fold (None when it can)."""
    for series, w in folds:
        try:
            prepare_fold(series, w, config)
        except (SplitError, DataError) as exc:
            return f"infeasible on this data: {exc}"
    return None


def leaderboard(study: optuna.Study, top: int = 10) -> pd.DataFrame:
    """Completed trials ranked by value, with mean ± std over their repeat × fold scores."""
    rows = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        sc = np.asarray(member_scores(t), float)
        rows.append({"trial": t.number, "value": t.value,
                     "mean": float(sc.mean()) if sc.size else math.nan,
                     "std": float(sc.std(ddof=1)) if sc.size > 1 else math.nan,
                     "n_scores": int(sc.size), **{f"param_{k}": v for k, v in t.params.items()}})
    if not rows:
        return pd.DataFrame(columns=["rank", "trial", "value", "mean", "std"])
    df = pd.DataFrame(rows).sort_values("value", kind="stable", ignore_index=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df.head(top)


def tune(ts: TimeSeries, cfg: StudyConfig, *, storage: str, study_name: str,
         progress: Callable[[str], None] | None = None,
         on_batch: Callable[[optuna.Study, int], None] | None = None) -> TuneResult:
    """Run (or resume) the study until its trial budget or timeout, then evaluate the best."""
    t0 = time.perf_counter()
    s = cfg.search
    n = len(ts)
    val = cfg.data.val_size or cfg.data.test_size
    if n - cfg.data.test_size - val < 2:
        raise ConfigError(f"series '{ts.name}' has {n} points: too short for test_size="
                          f"{cfg.data.test_size} + val_size={val} with training data left; "
                          "use smaller windows.")
    dev = ts.head(n - cfg.data.test_size)  # the test window is gone from here on
    folds = fold_series(dev, scored=val, folds=cfg.data.folds)
    if s.strategy == "hybrid":
        from lstmtune.search._hybrid import run_hybrid

        study = run_hybrid(cfg, folds, storage=storage, study_name=study_name,
                           progress=progress, on_batch=on_batch)
    else:
        study = open_study(cfg, storage, study_name, make_sampler(s.strategy, cfg),
                           make_pruner(s.pruner, s.p_threshold))
        search(study, cfg, folds, progress=progress, on_batch=on_batch)
    complete_trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete_trials:
        raise ConfigError(f"study '{study_name}' has no completed trial (all failed or pruned):"
                          " widen the space or lower the learning-rate range.")
    best = study.best_trial
    test, baselines, model = final_evaluation(study, ts, cfg, folds, started=t0,
                                              progress=progress)
    counts = {st: len(study.get_trials(deepcopy=False, states=(st,)))
              for st in (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)}
    return TuneResult(study=study, best_params=dict(best.params), best_value=float(best.value),
                      test=test, baselines=baselines,
                      n_trials_complete=counts[TrialState.COMPLETE],
                      n_trials_failed=counts[TrialState.FAIL],
                      n_trials_pruned=counts[TrialState.PRUNED],
                      wall_seconds=time.perf_counter() - t0, leaderboard=leaderboard(study),
                      model=model)


def search(study: optuna.Study, cfg: StudyConfig, folds, *,
           progress: Callable[[str], None] | None = None,
           on_batch: Callable[[optuna.Study, int], None] | None = None,
           trials: int | None = None) -> None:
    """The search itself: batches until the budget (counting earlier runs) or the timeout."""
    s = cfg.search
    budget = trials or s.trials
    _recover(study)
    if s.strategy == "grid" and not study.user_attrs.get("lstmtune:grid_enqueued"):
        for p in cfg.space.grid():
            study.enqueue_trial(p, skip_if_exists=True)
        study.set_user_attr("lstmtune:grid_enqueued", True)
    t_start = time.perf_counter()
    with _Stop() as stop:
        while not stop.requested:  # counted once per batch: other workers' trials count too
            remaining = budget - _done(study)
            if remaining <= 0 or s.timeout and time.perf_counter() - t_start > s.timeout:
                break
            if s.strategy == "hyperband":
                asked, hook, checkpoints = successive_halving(study, cfg, remaining)
            else:
                size = min(s.batch, remaining)
                if s.strategy == "ga":  # one generation's open slots = one population
                    size = min(remaining, max(1, study.sampler.slots_left(study)))
                asked = [study.ask() for _ in range(size)]
                hook, checkpoints = None, ()
            # all asked first, then suggested in order: the liars (TPE, GP) read the study
            # afresh and still see the earlier candidates' parameters, and the reads Optuna
            # caches until the next ask (TPE's startup count, CMA-ES) happen once per batch
            params = [cfg.space.suggest(t) for t in asked]
            _evaluate_batch(study, asked, params, cfg, folds, stop, hook, checkpoints,
                            progress)
            if on_batch is not None:
                on_batch(study, budget)
        if stop.requested:  # the batch's unfinished trials are queued again; nothing is lost
            raise KeyboardInterrupt
