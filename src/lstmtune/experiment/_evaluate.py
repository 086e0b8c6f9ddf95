"""Score many configurations × repeats × folds with as few populations as shapes require.

The shared core of ``experiment`` and ``tune``: configurations that differ only in per-member
values (learning rate, dropout, L1/L2, momentum), in epochs, or in units within one
``units_bucket`` train in one population (epochs are snapshots of the longest; narrower
members are zero-padded to the widest program, only when a population mixes widths); each
fold has its own preprocessing fitted on its own training part; repeat r uses seed
``seed + r`` in every configuration and fold.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from lstmtune.data import Prepared, TimeSeries, WalkForward
from lstmtune.errors import ConfigError, DataError, SplitError
from lstmtune.experiment._params import build_train, member_hparams, units_bucket
from lstmtune.experiment._task import ForecastTask

__all__ = ["ConfigScores", "evaluate_configs", "fold_series", "prepare_fold", "fit_config"]


@dataclass(frozen=True, eq=False)
class ConfigScores:
    """One configuration's results: arrays over its members (fold-major: fold, then repeat)."""

    scores: np.ndarray  # scored-window metric in original units; NaN for failed members
    # (a member that diverged by this configuration's epochs: its frozen weights are not
    # scored, however finite their forecasts)
    status: np.ndarray  # complete | early_stopped | pruned | failed
    epochs_trained: np.ndarray
    fold: np.ndarray
    repeat: np.ndarray
    seed: np.ndarray
    history: dict[str, np.ndarray] | None = None  # train / eval curves, epochs
    step_scores: np.ndarray | None = None  # (members, H): the metric of each horizon step


def fold_series(ts: TimeSeries, *, scored: int, folds: int) -> list[tuple[TimeSeries, int]]:
    """Walk-forward folds over the last ``scored`` points (``WalkForward``'s windows of
    ``w = scored // folds`` points): fold k is the series up to the end of window k, scored
    on its last ``w`` points."""
    w = scored // folds
    windows = WalkForward(horizon=w, n_windows=folds).split(len(ts))
    return [(ts.head(int(test[-1]) + 1), w) for _, test in windows]


def prepare_fold(series: TimeSeries, scored: int, config: dict,
                 task: ForecastTask | None = None) -> Prepared:
    """``config`` prepared on one fold by ``task`` (default: the task of ``config``)."""
    return (task or ForecastTask.of(config)).prepare(series, scored, config)


def _record_every(epochs: list[int], points: int = 500) -> int:
    """About ``points`` evaluations per curve: enough for a plot, cheap next to training."""
    g = math.gcd(*epochs)
    return max(d for d in range(1, max(1, epochs[-1] // points) + 1) if g % d == 0)


def evaluate_configs(folds: Sequence[tuple[TimeSeries, int]], configs: Sequence[dict], *,
                     repeats: int, seed: int = 0, task: ForecastTask | None = None,
                     diagnostics: bool = False, trim_start: int | None = None,
                     progress: Callable[[str], None] | None = None,
                     checkpoints: tuple[int, ...] = (),
                     on_chunk: Callable[[list[int], np.ndarray, int, dict], np.ndarray | None]
                     | None = None,
                     cancelled: Callable[[], bool] | None = None,
                     infeasible: dict[int, str] | None = None) -> list[ConfigScores | None]:
    """Score every configuration on every fold as ``task`` (default: the task of the first
    configuration, RMSE) groups, prepares, models, trains and scores them: a forecast's fold
    is ``(series, scored window size)``, a classifier's ``((training items, held-out items),
    their count)``.

    ``on_chunk(config_indices, member_config, epochs_done, view)`` is called between chunks of
    each population (``member_config[i]`` is the position in ``config_indices`` of member i;
    ``view.scores()`` gives the members' current scored-window score, an
    ``engine.ChunkView``); it may return a mask of members to stop (pruning).
    ``checkpoints`` are extra epochs at which a chunk must end (successive-halving rungs).
    When ``cancelled()`` turns true (e.g. Ctrl-C), the populations not yet started are
    skipped and their configurations come back as None.  With an ``infeasible`` dict, a
    group whose folds cannot be prepared (e.g. one series of a panel too short for its
    lags) is skipped instead of raising: its configurations come back as None and
    ``infeasible[i]`` says why.
    """
    task = task or ForecastTask.of(configs[0])
    configs = [task.configure(c) for c in configs]
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(configs):
        groups.setdefault(task.group_key(c), []).append(i)
    out: list[ConfigScores | None] = [None] * len(configs)
    for gi, idx in enumerate(groups.values()):
        if cancelled is not None and cancelled():
            break
        first = configs[idx[0]]
        try:
            preps = task.prepare_group(folds, [configs[i] for i in idx])
        except (DataError, SplitError, ConfigError) as exc:
            if infeasible is None:
                raise
            infeasible.update({i: f"infeasible on this data: {exc}" for i in idx})
            continue
        epochs = sorted({configs[i]["epochs"] for i in idx})
        F = len(folds)
        member_cfg = np.repeat(np.arange(len(idx)), F * repeats)
        member_fold = np.tile(np.repeat(np.arange(F), repeats), len(idx))
        member_rep = np.tile(np.arange(repeats), F * len(idx))
        members = [configs[idx[k]] for k in member_cfg]
        snaps = tuple(sorted(set(epochs[:-1]) | {c for c in checkpoints if c < epochs[-1]}))
        every = 1 if first["patience"] else _record_every([*snaps, epochs[-1]])
        tspec = build_train(first, epochs=epochs[-1], snapshots=snaps,
                            dropout=any(m["dropout"] or m["recurrent_dropout"]
                                        for m in members),
                            record=diagnostics, record_every=every)
        own = {configs[i]["units"] for i in idx}
        width = units_bucket(first["units"]) if len(own) > 1 else None
        model = task.model(first, n_features=task.n_inputs(preps), units=width)
        member_units = None if width is None else \
            np.array([(m["units"],) * m["layers"] for m in members])
        if progress:
            progress(f"population {gi + 1}/{len(groups)}: "
                     f"{task.members_text(len(idx), F, repeats, first)}, {epochs[-1]} epochs")
        hook = None
        if on_chunk is not None:
            def hook(done, view, idx=idx, mc=member_cfg):
                scores = view.scores
                return on_chunk(idx, mc, done, replace(
                    view, scores=lambda part="test": scores(part, task.metric)))
        run = task.fit(preps, model, tspec, seeds=seed + member_rep,
                       hparams=member_hparams(members), trim_start=trim_start,
                       member_fold=member_fold, member_config=member_cfg, on_chunk=hook,
                       units=member_units, config=first)
        curves = (run.history("train"), run.history("test"), run.history_epochs()) \
            if diagnostics else None
        status = run.table["status"].to_numpy()
        fail_epoch = run.fail_epoch
        trained = run.table["epochs_trained"].to_numpy()
        by_epoch = {e: task.score(run, "test", epoch=None if e == epochs[-1] else e)
                    for e in epochs}  # one scoring pass per snapshot, not per configuration
        steps = {e: task.score(run, "test", epoch=None if e == epochs[-1] else e,
                               per_step=True) for e in epochs} if task.horizon > 1 else {}
        for k, i in enumerate(idx):
            e = configs[i]["epochs"]
            sel = member_cfg == k
            failed = (status[sel] == "failed") & (fail_epoch[sel] <= e)  # by epoch e
            score = np.where(failed, np.nan, by_epoch[e][sel])
            member_status = np.where((status[sel] == "failed") & ~failed, "complete",
                                     status[sel])  # diverged only after this snapshot
            hist = None
            if curves is not None:
                n = e // every
                hist = {"train": curves[0][sel, :n], "eval": curves[1][sel, :n],
                        "epochs": curves[2][:n]}
            out[i] = ConfigScores(scores=score, status=member_status,
                                  epochs_trained=np.minimum(trained[sel], e),
                                  fold=member_fold[sel], repeat=member_rep[sel],
                                  seed=seed + member_rep[sel], history=hist,
                                  step_scores=np.where(failed[:, None], np.nan,
                                                       steps[e][sel]) if steps else None)
    return out


def fit_config(folds: Sequence[tuple[TimeSeries, int]], config: dict, *, repeats: int,
               seed: int = 0, task) -> tuple[object, np.ndarray]:
    """One configuration trained on every fold ``repeats`` times (seeds ``seed + r``), as
    ``evaluate_configs`` would train it, keeping the trained run (its forecasts): returns
    the task's run and each member's repeat (members fold-major, then repeats)."""
    c = task.configure(config)
    preps = task.prepare_group(folds, [c])
    F = len(folds)
    member_fold = np.repeat(np.arange(F), repeats)
    member_rep = np.tile(np.arange(repeats), F)
    tspec = build_train(c, epochs=c["epochs"], snapshots=(),
                        dropout=bool(c["dropout"] or c["recurrent_dropout"]), record=False)
    spec = task.model(c, n_features=task.n_inputs(preps))
    run = task.fit(preps, spec, tspec, seeds=seed + member_rep,
                   hparams=member_hparams([c] * len(member_fold)), member_fold=member_fold,
                   member_config=np.zeros(len(member_fold), int), config=c)
    return run, member_rep
