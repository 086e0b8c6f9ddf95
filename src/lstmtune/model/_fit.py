"""Train one configuration R times on a series and keep the members as an :class:`Ensemble`.

The same population as ``evaluate_configs`` trains for one configuration on one window (same
seeds, same program), so the ensemble's hold-out scores are the numbers ``tune`` reports.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import numpy as np

from lstmtune._version import __version__
from lstmtune.data import FittedPrep, TimeSeries
from lstmtune.errors import ConfigError
from lstmtune.evaluation import MemberRun, fit_members
from lstmtune.experiment import ForecastTask, build_train, complete, member_hparams
from lstmtune.model._ensemble import Ensemble

__all__ = ["fit_ensemble"]


def _finite_members(params: dict) -> np.ndarray:
    import jax

    leaves = jax.tree.leaves(params)
    return np.all([np.isfinite(a.reshape(len(a), -1)).all(axis=1) for a in leaves], axis=0)


def fit_ensemble(ts: TimeSeries, config: Mapping[str, Any], *, repeats: int = 30,
                 seed: int = 0, holdout: int = 0, task: ForecastTask | None = None
                 ) -> tuple[Ensemble, MemberRun]:
    """Train ``config`` ``repeats`` times (seeds ``seed``, ``seed + 1``, ...) on ``ts``
    without its last ``holdout`` points, which are forecast walk-forward and scored (the
    :class:`MemberRun`'s ``test`` part).  Preprocessing is fitted on the training part only.
    Members that diverged are left out of the ensemble (``info["failed"]`` counts them).
    ``task`` prepares, models and scores (default: the configuration's own)."""
    config = complete(config)
    if repeats < 1:
        raise ConfigError(f"repeats must be >= 1, got {repeats}.")
    if config["patience"] and holdout < 1:
        raise ConfigError("early stopping (patience) watches a window before the hold-out: "
                          "give holdout >= 1, or set patience=0.")
    task = task or ForecastTask.of(config)
    config = config.replace(horizon=task.horizon, origin_step=task.origin_step)
    prepared = task.prepare(ts, holdout, config)
    tspec = build_train(config, epochs=config["epochs"], snapshots=(),
                        dropout=bool(config["dropout"] or config["recurrent_dropout"]),
                        record=False)
    spec = task.model(config, n_features=prepared.train.X.shape[-1])
    seeds = seed + np.arange(repeats)
    run = fit_members(prepared, spec, tspec, seeds=seeds,
                      hparams=member_hparams([config] * repeats))
    params = run.result.params
    keep = (run.table["status"].to_numpy() != "failed") & _finite_members(params)
    if not keep.any():
        raise ConfigError(f"all {repeats} members diverged (loss NaN/inf); lower the learning "
                          "rate or change the configuration.")
    n_fit = len(ts) - holdout
    info = {"data": ts.name, "target": ts.targets[0], "n_fit": n_fit,
            "fit_start": str(ts.index[0]), "fit_end": str(ts.index[n_fit - 1]),
            "holdout": holdout, "repeats": repeats, "failed": int((~keep).sum()),
            "seed": seed, "lstmtune_version": __version__,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    ens = Ensemble(config=dict(config), spec=spec,
                   params=_take(params, keep),
                   seeds=seeds[keep], prep=FittedPrep.from_prepared(prepared),
                   first_origin=int(run.folds[0].train.origin[0]), info=info)
    return ens, run


def _take(tree, keep: np.ndarray):
    import jax

    return jax.tree.map(lambda a: np.asarray(a)[keep], tree)
