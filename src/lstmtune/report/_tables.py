"""What a study report is drawn from: the stored tables of one study, and nothing else.

``StudyTables`` is filled by :func:`lstmtune.report.load_study_tables` from a study's storage
(Optuna's trials plus the tables ``tune`` stores with the study at its end); the renderer is a
pure function of it, so a report never retrains anything and can be rebuilt at any time.

Schemas (every DataFrame is tidy: one row per observation, plain column names):

``meta`` (dict)
    study_name, storage, lstmtune_version, created (ISO time of the final evaluation),
    wall_seconds (the last run's search + final evaluation), strategy, pruner, trials (budget),
    repeats, folds, aggregate, final_repeats, seed, metric ("rmse"),
    data: {name, n, start, end, freq, target}, split: {test_size, val_size, folds,
    train_end, val: [first, last] time labels, test: [first, last] time labels},
    fixed: {hyperparameter: value}, space: {hyperparameter: description string},
    importance_note (str or None), importance_trials: {used, complete}.
``trials``
    number, state (COMPLETE | PRUNED | FAIL | RUNNING | WAITING), value (aggregate of its
    member scores; NaN unless COMPLETE), duration_s, datetime_start (ISO string or None),
    fail_reason (str or None), one ``param_<name>`` column per searched hyperparameter.
``members``
    trial, fold, repeat, score, epochs_trained: every repeat × fold score of every trial that
    stored them (validation RMSE, original units); a failed (diverged) member's score is NaN
    (stored as null), and the report counts it apart instead of averaging it.
``importance``
    param, importance (sums to 1), evaluator (e.g. "fanova"): computed from the study by
    Optuna's evaluators at load time, over at most ``IMPORTANCE_TRIALS`` (500) complete
    trials, a seeded uniform sample when there are more (``meta["importance_trials"]``:
    {used, complete}); empty when fewer than two trials completed or the evaluator could not
    run (``meta["importance_note"]`` then says why).
``final`` (dict)
    best_trial, best_params, best_value, test: {rmse, rmse_std, repeats, failed, scores},
    baselines: {name: {rmse, mae, ...}}, interval: {low_q, high_q} (e.g. 0.05, 0.95).
``forecast``
    the test window, one row per point: time (str), step (1..n_test), actual,
    mean, median, low, high (member quantiles ``final["interval"]``), member_0..member_{R-1},
    and one ``baseline_<name>`` column per baseline (walk-forward one step ahead).
``context``
    the series before the test window, for drawing: time (str), actual.
``history``
    per-epoch curves of the best configuration on the validation folds: repeat, fold, epoch,
    train_rmse, val_rmse (original units; a few hundred epochs at most per curve); a
    classification study's: train_loss (cross-entropy) and val_log_loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["StudyTables"]


@dataclass(frozen=True, eq=False)
class StudyTables:
    """Everything a study report shows (see the module docstring for the schemas)."""

    meta: dict[str, Any]
    trials: pd.DataFrame
    members: pd.DataFrame
    importance: pd.DataFrame
    final: dict[str, Any] | None = None  # None while the study has no final evaluation
    forecast: pd.DataFrame = field(default_factory=pd.DataFrame)
    context: pd.DataFrame = field(default_factory=pd.DataFrame)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    series: dict[str, Any] = field(default_factory=dict)  # a panel: id -> its test window

    @property
    def params(self) -> list[str]:
        """Searched hyperparameter names, in column order."""
        return [c[len("param_"):] for c in self.trials.columns if c.startswith("param_")]
