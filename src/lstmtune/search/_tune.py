"""The one study loop: ask a batch of candidates, train them (× folds × repeats) as one
population, tell Optuna every result, and finally retrain the best on train + validation and
score it once on the test window.

Strategies only propose (Optuna samplers, ours included); this loop holds the training and
the resume logic, and ``_storage`` what several processes on one study need (claims under a
lock, the worker of each running trial).  The test window is cut off before the search
starts, and everything that can be refused is refused before the storage is touched
(``_preflight``).
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import TrialState

from lstmtune.data import LabelledSequences, Panel, TimeSeries
from lstmtune.errors import ConfigError, LstmtuneError
from lstmtune.experiment import complete, evaluate_configs, group_key
from lstmtune.model import Ensemble
from lstmtune.search._config import StudyConfig, may_impute, resolve_sizes
from lstmtune.search._final import final_evaluation
from lstmtune.search._preflight import fit_space, infeasible, preflight
from lstmtune.search._space import Range, grid_values
from lstmtune.search._storage import (
    INTERRUPTED,
    MEMORY,
    ask_trials,
    batch,
    check_storage,
    claim_trials,
    counted,
    describe_url,
    heartbeats,
    recover_stale,
    release_trials,
    running_elsewhere,
    storage_from_url,
    study_lock,
    worker_session,
    worker_storage,
)
from lstmtune.search._strategies import (
    GA_APPROACHES,
    make_pruner,
    make_sampler,
    successive_halving,
)

__all__ = ["TuneResult", "tune", "aggregate", "open_study", "leaderboard", "search",
           "storage_from_url", "member_scores", "failures"]

optuna.logging.set_verbosity(optuna.logging.WARNING)

GRID_ENQUEUED = "lstmtune:grid_enqueued"
# how many processes opened the study to search it: the first draws with the study's seed,
# each later one (another worker, or a resumed run) with a seed of its own, so that workers
# never repeat each other's candidates
OPENED = "lstmtune:opened"


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
    # why trials failed: kind (diverged, infeasible, error) -> {"count", "example"}
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"best_params": self.best_params, "best_value": self.best_value,
                "test": self.test, "baselines": self.baselines,
                "n_trials_complete": self.n_trials_complete,
                "n_trials_failed": self.n_trials_failed,
                "n_trials_pruned": self.n_trials_pruned,
                "wall_seconds": self.wall_seconds, "failures": self.failures,
                "leaderboard": self.leaderboard.to_dict(orient="records")}


def aggregate(scores: np.ndarray, how: str, risk: float = 1.0,
              direction: str = "minimize") -> float:
    """A trial's value from all its repeat × fold scores; ``mean+std`` penalises the spread
    in the study's ``direction`` (mean + risk·std when minimising, mean − risk·std when
    maximising)."""
    s = np.asarray(scores, float)
    if how == "median":
        return float(np.median(s))
    if how == "mean+std":
        sign = -1.0 if direction == "maximize" else 1.0
        return float(s.mean() + sign * risk * (s.std(ddof=1) if s.size > 1 else 0.0))
    return float(s.mean())


class _Stop:
    """Ctrl-C: acknowledged at once; the current chunk finishes, the trials that finished
    are kept and the others queued again.  A second Ctrl-C stops now."""

    MESSAGE = ("lstmtune: Ctrl-C: finishing the current chunk (finished trials are kept, the "
               "others run again when you resume); Ctrl-C again to stop now")

    def __init__(self, message: str = MESSAGE, *, at_once: bool = False) -> None:
        self.requested = False
        self.message = message
        self.at_once = at_once  # the first Ctrl-C stops now (nothing to finish)
        self._old = None

    def __enter__(self) -> _Stop:
        def handler(signum, frame):
            if self.requested:  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            self.requested = True
            with suppress(OSError, ValueError):  # stderr closed: the stop still happens
                sys.stderr.write("\n" + self.message + "\n")
                sys.stderr.flush()
            if self.at_once:
                raise KeyboardInterrupt

        try:
            self._old = signal.signal(signal.SIGINT, handler)
        except ValueError:  # not in the main thread
            self._old = None
        return self

    def __exit__(self, *exc) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


FINAL_MESSAGE = ("lstmtune: Ctrl-C: stopping the final evaluation (every trial is saved; run "
                 "the same command again to finish it)")


def _fail(study: optuna.Study, trial: optuna.Trial, kind: str, reason: str) -> None:
    """Fail ``trial`` with its reason (``fail_reason``) and kind (``fail_kind``: diverged,
    infeasible or error), both shown by the CLI and the report."""
    trial.set_user_attr("fail_reason", reason)
    trial.set_user_attr("fail_kind", kind)
    _tell(study, trial, state=TrialState.FAIL)


def _tell(study: optuna.Study, trial: optuna.Trial, value: float | None = None,
          state: TrialState | None = None) -> None:
    # finished elsewhere meanwhile (never by another lstmtune worker): keep theirs
    with suppress(optuna.exceptions.UpdateFinishedTrialError):
        study.tell(trial, value, state=state)


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
        if key not in reasons:  # the binding folds here; the rest while they are prepared
            reasons[key] = infeasible(c, folds, cfg.task, quick=True)
        reason = reasons[key]
        ok.append(reason is None)
        if reason is not None:  # e.g. more lags than the training part allows: this trial only
            _fail(study, trial, "infeasible", reason)
    trials = [t for t, k in zip(trials, ok, strict=True) if k]
    configs = [c for c, k in zip(configs, ok, strict=True) if k]
    if not trials:
        return
    pruned = np.zeros(len(trials), bool)
    interrupted = np.zeros(len(trials), bool)
    use_pruner = s.pruner != "none" or extra_hook is not None
    direction = cfg.task.direction
    worst = math.inf if direction == "minimize" else -math.inf  # a diverged trial's report
    per_member = s.pruner == "wilcoxon" and extra_hook is None  # a paired test over members

    def on_chunk(idx, member_cfg, done, view):
        if stop.requested and done < view.epochs_total:  # unfinished: run again later
            interrupted[[i for i in idx if not pruned[i]]] = True
            return np.ones(len(member_cfg), bool)
        if not use_pruner or done >= view.epochs_total:  # nothing left to save at the end
            return None
        scores = view.scores()
        active = view.active
        stop_mask = np.zeros(len(member_cfg), bool)
        values = {}
        for k, i in enumerate(idx):
            sel = member_cfg == k
            if pruned[i] or not active[sel].any():
                continue
            sc = scores[sel]
            values[i] = aggregate(sc, s.aggregate, s.risk, direction) \
                if np.isfinite(sc).all() else worst
            if per_member:
                report_members(trials[i], sc, done, worst)
            else:
                trials[i].report(values[i], step=done)
        if extra_hook is not None:
            for i in extra_hook(done, values):
                pruned[i] = True
        elif s.pruner != "none":
            for i in values:
                if per_member and values[i] == worst:
                    continue  # Wilcoxon never prunes a trial with inf reports, only warns
                if trials[i].should_prune():
                    pruned[i] = True
        for k, i in enumerate(idx):
            if pruned[i]:
                stop_mask |= member_cfg == k
        return stop_mask

    late: dict[int, str] = {}  # configurations a fold could not be prepared for
    results = evaluate_configs(folds, configs, repeats=s.repeats, seed=s.seed,
                               task=cfg.task, on_chunk=on_chunk, checkpoints=checkpoints,
                               progress=progress, cancelled=lambda: stop.requested,
                               infeasible=late)
    for i, (trial, r) in enumerate(zip(trials, results, strict=True)):
        if i in late:
            _fail(study, trial, "infeasible", late[i])
            continue
        if r is None or interrupted[i]:  # Ctrl-C came before it finished
            release_trials(study, [trial])
            continue
        trial.set_user_attr("members", cfg.task.member_record(r))  # one write per trial
        if pruned[i]:
            _tell(study, trial, state=TrialState.PRUNED)
        elif not np.isfinite(r.scores).all():
            n_bad = int((~np.isfinite(r.scores)).sum())
            _fail(study, trial, "diverged", f"{n_bad} of {len(r.scores)} members diverged "
                                            "(loss, weights or forecasts NaN/inf)")
        else:
            _tell(study, trial, aggregate(r.scores, s.aggregate, s.risk, direction))


def report_members(trial: optuna.Trial, scores: np.ndarray, done: int,
                   worst: float = math.inf) -> None:
    """Report each member's score for the Wilcoxon pruner: member m (fold-major, then repeats;
    M members) after ``done`` epochs is step ``done * M + m``, so that every (epoch, fold,
    repeat) pairs with the same one of the best trial.  Non-finite scores report ``worst``
    (inf when minimising)."""
    M = len(scores)
    for m, v in enumerate(scores):
        trial.report(float(v) if np.isfinite(v) else worst, step=done * M + m)


def member_scores(trial: optuna.trial.FrozenTrial) -> list[float]:
    """A finished trial's member scores (fold-major, then repeats); [] when it has none."""
    members = trial.user_attrs.get("members")
    if members is not None and "score" in members:
        return members["score"]
    return trial.user_attrs.get("scores", [])  # studies stored before "members" held them


def leaderboard(study: optuna.Study, top: int | None = 10) -> pd.DataFrame:
    """Completed trials ranked by value, with mean ± std over their repeat × fold scores
    (the best ``top``; every one with ``top=None``)."""
    rows = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        sc = np.asarray(member_scores(t), float)
        ok = sc[np.isfinite(sc)]  # a failed member has no score (None, read as NaN)
        rows.append({"trial": t.number, "value": t.value,
                     "mean": float(ok.mean()) if ok.size else math.nan,
                     "std": float(ok.std(ddof=1)) if ok.size > 1 else math.nan,
                     "n_scores": int(ok.size), "n_failed": int(sc.size - ok.size),
                     **{f"param_{k}": v for k, v in t.params.items()}})
    if not rows:
        return pd.DataFrame(columns=["rank", "trial", "value", "mean", "std"])
    df = pd.DataFrame(rows).sort_values(
        "value", kind="stable", ignore_index=True,
        ascending=study.direction != optuna.study.StudyDirection.MAXIMIZE)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df if top is None else df.head(top)


def failures(study: optuna.Study) -> dict[str, dict[str, Any]]:
    """Why the study's trials failed (interrupted ones are not failures: they run again):
    kind -> {"count", "example"} with the most common stored reason of that kind."""
    by_kind: dict[str, Counter] = {}
    for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        if t.system_attrs.get(INTERRUPTED):
            continue
        reason = t.user_attrs.get("fail_reason") or "no reason was stored"
        kind = t.user_attrs.get("fail_kind") or ("infeasible" if reason.startswith(
            "infeasible") else "diverged" if "diverged" in reason else "error")
        by_kind.setdefault(kind, Counter())[reason] += 1
    out = {k: {"count": sum(c.values()), "example": c.most_common(1)[0][0]}
           for k, c in by_kind.items()}
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["count"]))


FIXES = {"diverged": "lower the learning-rate range (e.g. learning_rate = { float = [1e-4, "
                     "1e-2], log = true }), or add a scaler",
         "infeasible": "search fewer timesteps (lags), a smaller batch_size with stateful, or "
                       "use a shorter validation window",
         "error": "run again with --debug and report the traceback"}


def _no_trial_completed(study: optuna.Study, study_name: str) -> ConfigError:
    """The real reason no trial completed, from the reasons stored with the trials."""
    fails = failures(study)
    n_pruned = len(study.get_trials(deepcopy=False, states=(TrialState.PRUNED,)))
    parts = [f"{v['count']} {k} (e.g. {v['example']})" for k, v in fails.items()]
    if n_pruned:
        parts.append(f"{n_pruned} pruned")
    fix = FIXES[next(iter(fails))] if fails else "use a milder pruner, or pruner = 'none'"
    return ConfigError(f"study '{study_name}' has no completed trial: "
                       f"{'; '.join(parts) or 'no trial finished'}. To fix: {fix}.")


def open_study(cfg: StudyConfig, storage: str, study_name: str,
               sampler: optuna.samplers.BaseSampler | None = None,
               pruner: optuna.pruners.BasePruner | None = None, *,
               own_seed: bool = False) -> optuna.Study:
    """Create or resume the study; refuse to resume one made from a different study file.
    ``own_seed`` (the search's own opening, with the strategy's sampler): the first process
    to open the study samples with its seed, later ones (workers joining, resumed runs)
    with seeds derived from it (``lstmtune:opened``); the genetic algorithm keeps its seed
    (its generations are built from the seed and the generation alone)."""
    with study_lock(storage, "claim", study_name):  # two workers creating one study take turns
        study = optuna.create_study(storage=storage_from_url(storage), study_name=study_name,
                                    direction=cfg.task.direction, sampler=sampler,
                                    pruner=pruner,
                                    load_if_exists=True)
        stored = study.user_attrs.get("lstmtune:config")
        desc = cfg.to_dict()
        for budget_key in ("trials", "timeout", "final_repeats", "refit", "combine",
                           "ensemble_top"):  # may change
            desc["search"].pop(budget_key)
        if desc["search"]["pruner"] != "wilcoxon":  # unused, and absent from older studies
            desc["search"].pop("p_threshold")
        mine = json.dumps(desc, sort_keys=True, default=str)
        if stored is None:
            study.set_user_attr("lstmtune:config", mine)
        opened = 0
        if own_seed and (stored is None or stored == mine):  # this process joins: count it
            attrs = study._storage.get_study_system_attrs(study._study_id)
            opened = int(attrs.get(OPENED, 0))
            study._storage.set_study_system_attr(study._study_id, OPENED, opened + 1)
    if stored is not None and stored != mine:
        raise ConfigError(f"study '{study_name}' in {describe_url(storage)} was made from a "
                          "different study configuration; use another --study-name (or --out) "
                          "to start a new study, or restore the original settings to resume "
                          "it.")
    if opened and cfg.search.strategy not in GA_APPROACHES:  # joining or resuming: own draws
        seed = (cfg.search.seed + 7919 * opened) % (2**31 - 1)
        study.sampler = make_sampler(cfg.search.strategy,
                                     replace(cfg, search=replace(cfg.search, seed=seed)))
    return study


def tune(ts: TimeSeries | pd.Series | pd.DataFrame | str, cfg: StudyConfig, *,
         storage: str | None = None, study_name: str = "lstmtune",
         progress: Callable[[str], None] | None = None,
         on_batch: Callable[[optuna.Study, int], None] | None = None,
         publish: Callable[[TuneResult], Any] | None = None,
         until: str = "final") -> TuneResult | None:
    """Run (or resume, or join) the study until its trial budget or timeout, then evaluate
    the best.  ``until="search"``: only search, as a worker whose final evaluation another
    process makes; ``until="open"``: only create or join the study (refusing one made from
    another configuration); both return None.

    ``ts`` is a series or anything :func:`lstmtune.data.load` reads (a pandas Series or
    DataFrame, a built-in name, a file); for a classification study (``[data] task =
    "classify"``) labelled items (:func:`lstmtune.data.load_labelled`), a source it reads,
    or None (the study file's source).  ``storage`` is a URL (``sqlite:///study.db``,
    ``journal:///abs/path.log``, ``postgresql://...``, or ``memory://NAME``: this process's
    memory); None gives a new study in memory, gone with the result.

    Several processes may run this on one storage at once: they share the budget exactly
    (SQLite and journal files) and never fail each other's running trials.  ``publish`` is
    called with the result while this process holds the study's final lock, so whatever it
    writes (the CLI: model and report) describes the best trial when the last worker ends.
    """
    t0 = time.perf_counter()
    if until not in ("open", "search", "final"):
        raise ConfigError(f"until='{until}' is not one of 'open', 'search', 'final'.")
    if cfg.data.task == "classify":
        return _tune_labelled(ts, cfg, storage=storage, study_name=study_name,
                              progress=progress, on_batch=on_batch, publish=publish, t0=t0,
                              until=until)
    if cfg.data.task == "panel":
        return _tune_panel(ts, cfg, storage=storage, study_name=study_name,
                           progress=progress, on_batch=on_batch, publish=publish, t0=t0,
                           until=until)
    if not isinstance(ts, TimeSeries):
        from lstmtune.data import load

        ts = load(ts, allow_missing=may_impute(cfg))
    if storage is None:  # a new study of its own, in this process's memory
        storage = f"{MEMORY}{uuid.uuid4().hex}"
    cfg = resolve_sizes(cfg, len(ts))
    cfg, note = fit_space(ts, cfg)
    if note and progress:
        progress(note)
    folds = preflight(ts, cfg)  # every refusal before the storage exists
    check_storage(storage)  # a URL that cannot be opened: one line, nothing written
    study = _run_study(cfg, folds, storage, study_name, progress, on_batch,
                       open_only=until == "open")
    if until != "final":
        return None
    return _finish(study, storage, study_name, publish, t0, lambda: final_evaluation(
        study, ts, cfg, folds, started=t0, progress=progress))


def _finish(study: optuna.Study, storage: str, study_name: str, publish, t0: float,
            final: Callable[[], tuple]) -> TuneResult:
    """One worker at a time reads the best trial, evaluates it (``final()``: test scores,
    baselines, model) and publishes the result."""
    with _Stop(FINAL_MESSAGE, at_once=True), study_lock(storage, "final", study_name):
        if worker_storage(study) is not None:  # every worker's trials, as they are now
            worker_storage(study).refresh(study._study_id)
        if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            raise _no_trial_completed(study, study_name)
        best = study.best_trial
        test, baselines, model = final()
        result = _result(study, best, test, baselines, model, t0)
        if publish is not None:
            publish(result)
    return result


def _result(study: optuna.Study, best: optuna.trial.FrozenTrial, test: dict,
            baselines: dict, model, t0: float) -> TuneResult:
    """The study's counts, leaderboard and failures with the final evaluation of ``best``."""
    counts = Counter(t.state for t in study.get_trials(deepcopy=False))
    return TuneResult(
        study=study, best_params=dict(best.params), best_value=float(best.value),
        test=test, baselines=baselines, n_trials_complete=counts[TrialState.COMPLETE],
        n_trials_failed=counts[TrialState.FAIL] - _interrupted(study),
        n_trials_pruned=counts[TrialState.PRUNED],
        wall_seconds=time.perf_counter() - t0, leaderboard=leaderboard(study),
        model=model, failures=failures(study))


def _run_study(cfg: StudyConfig, folds, storage: str, study_name: str,
               progress: Callable[[str], None] | None,
               on_batch: Callable[[optuna.Study, int], None] | None,
               open_only: bool = False) -> optuna.Study | None:
    """Create, resume or join the study and search until its budget (``open_only``: only
    create or join it; a hybrid study's parts are opened by its search)."""
    if open_only:
        if cfg.search.strategy == "hybrid":  # its first part is what a worker opens first
            from lstmtune.search._hybrid import HYBRID_STRATEGIES

            first = HYBRID_STRATEGIES[0]
            return open_study(replace(cfg, search=replace(cfg.search, strategy=first)),
                              storage, f"{study_name}:{first}")
        return open_study(cfg, storage, study_name)
    if cfg.search.strategy == "hybrid":
        from lstmtune.search._hybrid import run_hybrid

        return run_hybrid(cfg, folds, storage=storage, study_name=study_name,
                          progress=progress, on_batch=on_batch)
    study = open_study(cfg, storage, study_name, make_sampler(cfg.search.strategy, cfg),
                       make_pruner(cfg.search.pruner, cfg.search.p_threshold), own_seed=True)
    search(study, cfg, folds, storage=storage, progress=progress, on_batch=on_batch)
    return study


def _tune_labelled(items, cfg: StudyConfig, *, storage: str | None, study_name: str,
                   progress, on_batch, publish, t0: float, until: str = "final"
                   ) -> TuneResult | None:
    """A classification study: labelled items instead of a series; the same loop."""
    from lstmtune.search._labelled import (
        check_classifier_memory,
        check_items,
        final_classification,
        has_test_part,
        labelled_folds,
        read_items,
        split_items,
        with_data,
    )

    if items is None or isinstance(items, str | os.PathLike):
        items = read_items(cfg if items is None else replace(
            cfg, data=replace(cfg.data, source=str(items))))
    elif not isinstance(items, LabelledSequences):
        raise ConfigError(f"a classification study reads labelled items (load_labelled), a "
                          f"source to read them from, or None; got {type(items).__name__}.")
    if storage is None:
        storage = f"{MEMORY}{uuid.uuid4().hex}"
    cfg = with_data(cfg, items)
    train, test = split_items(items, cfg)
    folds = labelled_folds(train, cfg)
    check_items(train, folds, cfg)
    check_classifier_memory(cfg, items.channels, len(folds[0][0][0]))
    check_storage(storage)
    study = _run_study(cfg, folds, storage, study_name, progress, on_batch,
                       open_only=until == "open")
    if until != "final":
        return None
    return _finish(study, storage, study_name, publish, t0, lambda: final_classification(
        study, train, test, folds, cfg, started=t0, progress=progress,
        test_from_source=has_test_part(items)))


def _tune_panel(panel, cfg: StudyConfig, *, storage: str | None, study_name: str,
                progress, on_batch, publish, t0: float, until: str = "final"
                ) -> TuneResult | None:
    """A panel study: every series' validation windows instead of one series'; the same
    loop."""
    from lstmtune.search._panel import (
        final_panel,
        fit_panel_space,
        panel_folds,
        preflight_panel,
        read_panel,
    )

    if panel is None or isinstance(panel, str | os.PathLike):
        panel = read_panel(cfg if panel is None else replace(
            cfg, data=replace(cfg.data, source=str(panel))))
    elif not isinstance(panel, Panel):
        raise ConfigError(f"a panel study reads a panel (load_panel), a source to read one "
                          f"from, or None; got {type(panel).__name__}.")
    if storage is None:
        storage = f"{MEMORY}{uuid.uuid4().hex}"
    dev, folds = panel_folds(panel, cfg)
    cfg, note = fit_panel_space(folds, cfg)
    if note and progress:
        progress(note)
    preflight_panel(panel, dev, folds, cfg)
    check_storage(storage)
    study = _run_study(cfg, folds, storage, study_name, progress, on_batch,
                       open_only=until == "open")
    if until != "final":
        return None
    return _finish(study, storage, study_name, publish, t0, lambda: final_panel(
        study, panel, dev, folds, cfg, started=t0, progress=progress))


def _interrupted(study: optuna.Study) -> int:
    return sum(1 for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
               if t.system_attrs.get(INTERRUPTED))


def _ask(study: optuna.Study, cfg: StudyConfig, remaining: int, session: str
         ) -> tuple[list[optuna.Trial], Callable | None, tuple[int, ...]]:
    s = cfg.search
    if s.strategy == "hyperband":
        return successive_halving(study, cfg, remaining)
    size = min(s.batch, remaining)
    if s.strategy in GA_APPROACHES:  # one generation's open slots = one population
        size = min(remaining, max(1, study.sampler.slots_left(study)))
    return ask_trials(study, size, session), None, ()


def _stored_choices(study: optuna.Study, cfg: StudyConfig,
                    progress: Callable[[str], None] | None) -> StudyConfig:
    """``cfg`` searching each choice with the values the study has recorded for it (a study
    resumed after lstmtune widened a default space keeps its own choices), said once."""
    stored: dict[str, Any] = {}
    for t in study.get_trials(deepcopy=False):
        for name, d in t.distributions.items():
            stored.setdefault(name, d)
    space, kept = cfg.space.keeping(stored)
    if not kept:
        return cfg
    if progress:
        progress(f"resumed study: {', '.join(kept)} keep the choices its earlier trials "
                 "recorded (" + "; ".join(f"{n}: {' | '.join(map(str, stored[n].choices))}"
                                          for n in kept) + ")")
    return replace(cfg, space=space)


def search(study: optuna.Study, cfg: StudyConfig, folds, *, storage: str | None = None,
           progress: Callable[[str], None] | None = None,
           on_batch: Callable[[optuna.Study, int], None] | None = None,
           trials: int | None = None) -> None:
    """The search itself: batches until the budget (counting earlier runs and other
    workers' running trials) or the timeout.  ``storage``: the study's URL, whose claim lock
    makes counting and asking one step among several workers."""
    s = cfg.search
    budget = trials or s.trials
    cfg = _stored_choices(study, cfg, progress)
    if s.strategy == "grid":  # a grid runs its candidates, never random draws beyond them
        grid = cfg.space.grid()
        budget = min(budget, len(grid))
    lock = study_lock(storage, "claim", study.study_name) if storage is not None else None
    with lock or nullcontext():
        recover_stale(study)
        if s.strategy == "grid":
            note = _enqueue_grid(study, cfg, grid, budget)
            if progress:
                progress(note)
    note = batch_note(cfg, budget)
    if note and progress:
        progress(note)
    t_start = time.perf_counter()
    with _Stop() as stop, worker_session() as session, heartbeats(study):
        while not stop.requested:
            if s.timeout and time.perf_counter() - t_start > s.timeout:
                break
            # count, ask, suggest and claim as one step under the lock (an exact budget),
            # the batch's trials written together at its end (parameters and worker)
            with lock or nullcontext(), batch(study):
                recover_stale(study)
                remaining = budget - counted(study)
                # the budget is met, but trials of another machine still run: one whose
                # worker died is failed only after its heartbeat's grace period, and then
                # must run again, so stay until they end
                waiting = remaining <= 0 and running_elsewhere(study)
                if remaining <= 0 and not waiting:
                    break
                if not waiting:
                    asked, hook, checkpoints = _ask(study, cfg, remaining, session)
                    # all asked first, then suggested in order: the liars (TPE, GP) read
                    # the study and still see the earlier candidates' parameters
                    try:
                        params = [cfg.space.suggest(t) for t in asked]
                        if lock is not None and not lock.held():  # the database restarted:
                            release_trials(study, asked)  # another worker may have claimed
                            continue  # meanwhile; count and ask again under the lock
                        claim_trials(study, asked, session)
                    except BaseException as exc:
                        _abandon(study, asked, exc)
                        raise
            if waiting:
                _pause(stop, WAIT_S)
                continue
            try:
                with batch(study):  # the batch's trials are written together when told
                    _evaluate_batch(study, asked, params, cfg, folds, stop, hook,
                                    checkpoints, progress)
            except BaseException as exc:
                _abandon(study, asked, exc)
                raise
            if on_batch is not None:
                on_batch(study, budget)
        if stop.requested:  # the batch's unfinished trials are queued again; nothing is lost
            raise KeyboardInterrupt


WAIT_S = 5.0  # a worker whose budget is met looks again this often for others' trials


def _pause(stop: _Stop, seconds: float) -> None:
    """Sleep ``seconds``, or until Ctrl-C."""
    end = time.monotonic() + seconds
    while not stop.requested and time.monotonic() < end:
        time.sleep(0.2)


def _enqueue_grid(study: optuna.Study, cfg: StudyConfig, grid: list[dict[str, Any]],
                  budget: int) -> str:
    """Queue the grid's candidates up to the budget (more when a later run raises it): in
    grid order when the first run's budget covers the grid, else in an order shuffled by
    the seed, kept by later runs; returns what to tell the user."""
    done = study.user_attrs.get(GRID_ENQUEUED)
    if done is True:  # queued whole by an earlier lstmtune
        start, order = len(grid), "all"
    else:
        state = done or {"count": 0, "shuffled": budget < len(grid)}
        start, order = state["count"], "shuffled" if state["shuffled"] else "all"
    if order == "shuffled":
        random.Random(cfg.search.seed).shuffle(grid)
    if start < min(budget, len(grid)):
        # one read of the study instead of Optuna's skip_if_exists (a read per candidate)
        have = {json.dumps(t.system_attrs.get("fixed_params") or t.params, sort_keys=True)
                for t in study.get_trials(deepcopy=False)}
        for p in grid[start:budget]:
            if json.dumps(p, sort_keys=True) not in have:
                study.enqueue_trial(p)
        study.set_user_attr(GRID_ENQUEUED, {"count": min(budget, len(grid)),
                                            "shuffled": order == "shuffled"})
    if grid_values(cfg.space)[2]:
        how = (" (the whole grid being too large, ranges without a step give their ends, "
               "and a middle for integers; give step = ... for more)")
    elif any(isinstance(e, Range) and not e.integer and e.step is None
             for e in cfg.space.searched().values()):
        how = " (a float range without a step gives its two ends)"
    else:
        how = ""
    if budget >= len(grid):
        return f"grid: {len(grid):,} candidates, every one runs{how}"
    return (f"grid: {len(grid):,} candidates; the budget of {budget:,} runs a random "
            f"{budget:,} of them{how}")


LEARNING = ("tpe", "gp", "cmaes")  # samplers that learn from finished trials


def batch_note(cfg: StudyConfig, budget: int) -> str | None:
    """What to tell a user whose whole budget is one batch of a learning sampler: every
    candidate is asked before any has finished, so the search is random search."""
    s = cfg.search
    if s.strategy not in LEARNING or budget > s.batch:
        return None
    return (f"note: the budget ({budget} trials) fits in one batch of {s.batch}, so {s.strategy} "
            "asks every candidate before any has finished and samples like random search; "
            f"give more trials than the batch (e.g. --trials {4 * s.batch}) for it to learn.")


def _abandon(study: optuna.Study, trials: list[optuna.Trial], exc: BaseException) -> None:
    """Trials of a batch that could not finish: interrupted (run again) on Ctrl-C; failed
    with the error otherwise, so that no trial of this process stays RUNNING."""
    if isinstance(exc, KeyboardInterrupt):
        release_trials(study, trials)
        return
    what = str(exc) if isinstance(exc, LstmtuneError) else f"{type(exc).__name__}: {exc}"
    for t in trials:
        if study._storage.get_trial(t._trial_id).state == TrialState.RUNNING:
            _fail(study, t, "error", what[:500])
