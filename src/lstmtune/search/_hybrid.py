"""Seed 003's final step: run several strategies, take each one's top-k configurations, and
grid-search their union with more repeats."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import optuna
from optuna.trial import TrialState

from lstmtune.search._config import StudyConfig
from lstmtune.search._storage import study_lock, worker_storage
from lstmtune.search._strategies import better_first, make_pruner, make_sampler

__all__ = ["run_hybrid", "HYBRID_STRATEGIES", "HYBRID_TRIALS"]

HYBRID_TRIALS = "lstmtune:hybrid_trials"

HYBRID_STRATEGIES = ("random", "tpe", "gp", "ga")


def run_hybrid(cfg: StudyConfig, folds, *, storage: str, study_name: str,
               progress: Callable[[str], None] | None = None,
               on_batch: Callable[[optuna.Study, int], None] | None = None) -> optuna.Study:
    """Each strategy gets an equal share of the trial budget in its own study
    (``NAME:strategy``); the union of their top-k is then evaluated in study ``NAME`` with
    three times the repeats, so the final pick rests on more evidence."""
    from lstmtune.search._tune import GRID_ENQUEUED, open_study, search

    share = max(1, cfg.search.trials // len(HYBRID_STRATEGIES))
    union: list[dict] = []
    trained: dict[str, int] = {}
    for name in HYBRID_STRATEGIES:
        sub = replace(cfg, search=replace(cfg.search, strategy=name))
        study = open_study(sub, storage, f"{study_name}:{name}", make_sampler(name, sub),
                           make_pruner(cfg.search.pruner, cfg.search.p_threshold),
                           own_seed=True)
        if progress:
            progress(f"hybrid: {name} with {share} trials")
        search(study, sub, folds, storage=storage, progress=progress, on_batch=on_batch,
               trials=share)
        if worker_storage(study) is not None:  # every worker's trials, as they are now
            worker_storage(study).refresh(study._study_id)
        key = better_first(study)
        done = sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
                      key=lambda t: key(t.value))
        trained[name] = len(study.get_trials(deepcopy=False))
        for t in done[: cfg.search.top_k]:
            if t.params not in union:
                union.append(dict(t.params))
    final_cfg = replace(cfg, search=replace(cfg.search, strategy="grid",
                                            repeats=3 * cfg.search.repeats))
    final = open_study(final_cfg, storage, study_name, make_sampler("random", final_cfg),
                       make_pruner(cfg.search.pruner, cfg.search.p_threshold))
    with study_lock(storage, "claim", study_name):  # the first worker here decides the union
        if not final.user_attrs.get(GRID_ENQUEUED):
            for p in union:
                final.enqueue_trial(p, skip_if_exists=True)
            final.set_user_attr(GRID_ENQUEUED, True)
    if progress:
        progress(f"hybrid: grid over the union of {len(union)} top configurations, "
                 f"{final_cfg.search.repeats} repeats")
    final_only = replace(final_cfg, search=replace(final_cfg.search, strategy="random"))
    search(final, final_only, folds, storage=storage, progress=progress, on_batch=on_batch,
           trials=len(union))
    final.set_user_attr(HYBRID_TRIALS, trained)  # the strategies' own trials, before the grid
    return final
