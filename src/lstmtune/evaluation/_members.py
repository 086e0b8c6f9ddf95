"""Train a population on prepared data and score every member in original units.

This is where the engine's model-space arrays meet the data layer's inverse transforms: the
result is a tidy table, one row per member (configuration, seed, status, stop epoch, scores),
plus access to forecasts and per-epoch histories in original units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from lstmtune.data import Prepared, Windows, trim_to_multiple
from lstmtune.engine import (
    ChunkView,
    ModelSpec,
    PopulationData,
    PopulationResult,
    TrainSpec,
    train_population,
)
from lstmtune.errors import ConfigError
from lstmtune.evaluation._baselines import fitting_season
from lstmtune.evaluation._metrics import metric_value

__all__ = ["MemberRun", "fit_members", "fit_global", "COMBINE", "combine_members",
           "score_combined"]

# how the members of a configuration make one forecast: the literature's median of seeds
# (Hewamalage et al. 2021) or their mean
COMBINE = {"median": np.median, "mean": np.mean}


def combine_members(forecasts: np.ndarray, how: str) -> np.ndarray:
    """Members' forecasts (R, ...) as one by ``how`` (median or mean), leaving out a member
    with a value that is not finite; NaN where none is left."""
    if how not in COMBINE:
        raise ConfigError(f"combine must be {' or '.join(COMBINE)}, got {how!r}.")
    fc = np.asarray(forecasts, float)
    ok = np.isfinite(fc.reshape(len(fc), -1)).all(axis=1)
    return COMBINE[how](fc[ok], axis=0) if ok.any() else np.full(fc.shape[1:], np.nan)


@dataclass(frozen=True, eq=False)
class Fold:
    """One fold's prepared data, the training windows used and where each part lies in the
    members' evaluation predictions."""

    prepared: Prepared
    train: Windows  # the training windows actually used (trimmed for stateful batches)
    parts: dict[str, slice]

    def test_origins(self) -> np.ndarray:
        """The origins of the test windows (one per scored point, or every k-th)."""
        return self.prepared.test.origin

    def start(self, part: str) -> int:
        """Index of the first point of ``part`` in the fold's series."""
        split = self.prepared.split
        return {"train": split.train.stop, "val": split.val.start, "test": split.test.start}[part]

    def windows(self, part: str) -> Windows:
        if part not in self.parts:
            raise ConfigError(f"part must be one of {', '.join(self.parts)}, got {part!r}.")
        return {"train": self.train, "val": self.prepared.val, "test": self.prepared.test}[part]


@dataclass(frozen=True, eq=False)
class MemberRun:
    """A trained population: ``table`` (one row per member) and the arrays behind it.

    A member is one model scored on one fold; ``rows`` (a global model of a panel, where one
    model serves every series' fold) maps each member to its model's row of ``result``
    (default: member i is row i)."""

    folds: list[Fold]
    fold: np.ndarray  # (P,) fold index of each member
    result: PopulationResult
    table: pd.DataFrame
    rows: np.ndarray | None = None  # (P,) row of ``result`` of each member

    @property
    def prepared(self) -> Prepared:
        return self.folds[0].prepared

    def per_member(self, a: np.ndarray) -> np.ndarray:
        """A per-model array of ``result`` (first axis) as one entry per member."""
        a = np.asarray(a)
        return a if self.rows is None else a[self.rows]

    @property
    def fail_epoch(self) -> np.ndarray:
        return self.per_member(self.result.fail_epoch)

    def forecasts(self, part: str = "test", epoch: int | None = None, fold: int = 0
                  ) -> np.ndarray:
        """Original-unit forecasts (P_f, S, H) of ``part`` for the members of ``fold``, with
        the final weights or with the weights at a snapshot ``epoch``."""
        preds = self.result.predictions if epoch is None else self.result.snapshots[epoch]
        f = self.folds[fold]
        w = f.windows(part)
        rows = self.per_member(np.arange(len(preds)))[self.fold == fold]
        return f.prepared.to_original(preds[:, f.parts[part], :w.y.shape[1]][rows], w)

    def scores(self, part: str = "test", metric: str = "rmse", epoch: int | None = None,
               per_step: bool = False) -> np.ndarray:
        """One score per member (P,) on ``part`` of its fold, in original units; with
        ``per_step`` one per member and horizon step (P, H)."""
        preds = self.result.predictions if epoch is None else self.result.snapshots[epoch]
        return score_predictions(self.folds, self.fold, preds, part, metric, per_step,
                                 rows=self.rows)

    def history_epochs(self) -> np.ndarray:
        """The epochs at which :meth:`history` has a value."""
        n = self.result.history_predictions.shape[1]
        return np.arange(1, n + 1) * self.result.record_every

    def history(self, part: str, metric: str = "rmse") -> np.ndarray:
        """Score per recorded epoch (P, E / record_every) of ``part`` in original units (needs
        ``TrainSpec(record_predictions=True)``; see :meth:`history_epochs`)."""
        hist = self.result.history_predictions
        if hist is None:
            raise ConfigError("per-epoch histories need TrainSpec(record_predictions=True).")
        if metric not in ("rmse", "mae"):
            raise ConfigError(f"history metric must be rmse or mae, got {metric!r}.")
        rows = self.per_member(np.arange(len(hist)))
        out = np.full((len(rows), hist.shape[1]), np.nan)
        for k, f in enumerate(self.folds):
            w = f.windows(part)
            orig = f.prepared.to_original(hist[:, :, f.parts[part]][rows[self.fold == k]], w)
            actual = f.prepared.actual(w)[:, : hist.shape[-1]]  # one step: a recursive model
            mask = np.isfinite(actual)
            err = np.where(mask, orig - np.where(mask, actual, 0.0), 0.0)
            if metric == "rmse":
                out[self.fold == k] = np.sqrt((err**2).sum(axis=(2, 3)) / mask.sum())
            else:
                out[self.fold == k] = np.abs(err).sum(axis=(2, 3)) / mask.sum()
        return out


def score_combined(fold: Fold, forecasts: np.ndarray, part: str = "test",
                   metric: str = "rmse", how: str = "mean", per_step: bool = False):
    """The score on ``part`` of ``fold`` of original-unit forecasts (P, S, H) of its windows
    (the members of one configuration, or of several on the same origins) combined into
    one by ``how`` (mean or median at every origin and step), leaving out a member whose
    scored forecasts are not all finite: a number, or (H,) with ``per_step``; NaN when no
    member is left."""
    w = fold.windows(part)
    actual = fold.prepared.actual(w)
    scored = np.isfinite(actual)  # a forecast past the window's end (NaN) is not scored
    point = combine_members(np.where(scored, forecasts, 0.0), how)
    if not np.isfinite(point).all():
        return np.full(actual.shape[1], np.nan) if per_step else math.nan
    y_train = fold.prepared.y[: fold.start(part)]
    season = fitting_season(fold.prepared.series.season, len(y_train))
    if per_step:
        return np.array([metric_value(metric, actual[:, h], point[:, h], y_train=y_train,
                                      season=season) for h in range(actual.shape[1])])
    return metric_value(metric, actual, point, y_train=y_train, season=season)


def score_predictions(folds: Sequence[Fold], member_fold: np.ndarray, preds: np.ndarray,
                      part: str, metric: str = "rmse", per_step: bool = False,
                      rows: np.ndarray | None = None) -> np.ndarray:
    """Per-member metric (P,) of model-space predictions (P, Se, H) on ``part`` of each
    member's fold, in original units, over every scored (origin, step); NaN where a forecast
    is not finite.  ``per_step``: the metric of each horizon step instead, (P, H).
    ``rows[i]``: the row of ``preds`` of member i (default i; see ``MemberRun.rows``)."""
    rows = np.arange(len(member_fold)) if rows is None else np.asarray(rows)
    H = max(f.windows(part).y.shape[1] for f in folds)
    out = np.full((len(member_fold), H) if per_step else len(member_fold), np.nan)
    for k, f in enumerate(folds):
        sel = member_fold == k
        w = f.windows(part)
        if not sel.any() or len(w) == 0:  # e.g. no test window: a final model on all data
            continue
        actual = f.prepared.actual(w)
        y_train = f.prepared.y[: f.start(part)]  # MASE's scale: the raw series before the
        season = fitting_season(f.prepared.series.season, len(y_train))  # part, as baselines
        fc = f.prepared.to_original(preds[:, f.parts[part], :w.y.shape[1]][rows[sel]], w)
        if per_step:
            out[sel] = [[metric_value(metric, actual[:, h], x[:, h], y_train=y_train,
                                      season=season) for h in range(actual.shape[1])]
                        for x in fc]
        else:
            out[sel] = [metric_value(metric, actual, x, y_train=y_train, season=season)
                        for x in fc]
    return out


def _fold(prepared: Prepared, spec: ModelSpec, tspec: TrainSpec, trim_start: int | None,
          eval_train: bool = True) -> Fold:
    train = prepared.train
    if trim_start is None and spec.stateful:
        trim_start = trim_to_multiple(len(train), tspec.batch_size)
    if trim_start:
        train = train.take(slice(trim_start, None))
    if tspec.patience is not None and len(prepared.val) == 0:
        raise ConfigError("early stopping (patience) needs a validation window: set val_size.")
    # without eval_train the training part is not predicted, except one window of a fold
    # with nothing else to predict (a model refit on all the data): the engine's evaluation
    # arrays are never empty
    a = len(train) if eval_train else 0 if len(prepared.val) + len(prepared.test) else 1
    b = a + len(prepared.val)
    return Fold(prepared, train, {"train": slice(0, a), "val": slice(a, b),
                                  "test": slice(b, b + len(prepared.test))})


def _eval_arrays(f: Fold) -> tuple[np.ndarray, np.ndarray]:
    val, test = f.prepared.val, f.prepared.test
    h = f.train.y.shape[1]  # the model's outputs (early stopping watches those)
    n = f.parts["train"].stop  # training windows predicted too (none: eval_train=False)
    eval_X = np.concatenate([f.train.X[:n], val.X, test.X])
    eval_y = np.concatenate([np.full_like(f.train.y[:n], np.nan), val.y[:, :h],
                             np.full((len(test), h), np.nan)])
    return eval_X, eval_y


def _eval_future(f: Fold) -> np.ndarray | None:
    """The known inputs after each evaluation window's origin, when the model rolls its
    one-step forecasts H steps ahead (zeros for training windows: scored one step ahead)."""
    val, test = f.prepared.val, f.prepared.test
    if val.future is None and test.future is None:
        return None
    shape = (val if val.future is not None else test).future.shape[1:]
    parts = [np.zeros((f.parts["train"].stop, *shape))] + [
        w.future if w.future is not None else np.zeros((len(w), *shape)) for w in (val, test)]
    return np.concatenate(parts)


def _pad(a: np.ndarray, n: int, value: float) -> np.ndarray:
    return np.concatenate([a, np.full((n - len(a), *a.shape[1:]), value, a.dtype)])


def _population_data(folds: list[Fold], member_fold: np.ndarray, stateful: bool
                     ) -> tuple[PopulationData, np.ndarray | None]:
    """Shared arrays for one fold; per-member arrays (P first, padded, masked) for several;
    and the evaluation windows' known future inputs of a recursive model (else None)."""
    evals = [_eval_arrays(f) for f in folds]
    futures = [_eval_future(f) for f in folds]
    if len(folds) == 1:
        f = folds[0]
        return PopulationData(f.train.X, f.train.y, np.ones(len(f.train), bool),
                              *evals[0]), futures[0]
    lengths = {len(f.train) for f in folds}
    if stateful and len(lengths) > 1:
        raise ConfigError("stateful training needs folds of equal training length: use "
                          "sliding walk-forward folds (expanding=False).")
    S, Se = max(lengths), max(len(e[0]) for e in evals)
    per = [(_pad(f.train.X, S, 0.0), _pad(f.train.y, S, 0.0),
            np.arange(S) < len(f.train), _pad(e[0], Se, 0.0), _pad(e[1], Se, np.nan))
           for f, e in zip(folds, evals, strict=True)]
    data = PopulationData(*(np.stack([per[k][i] for k in member_fold]) for i in range(5)))
    if futures[0] is None:
        return data, None
    padded = [_pad(fu, Se, 0.0) for fu in futures]
    return data, np.stack([padded[k] for k in member_fold])


def fit_members(prepared: Prepared | Sequence[Prepared], spec: ModelSpec, tspec: TrainSpec, *,
                seeds: Sequence[int], hparams: Mapping[str, object] | None = None,
                configs: Sequence[Mapping[str, object]] | None = None,
                trim_start: int | None = None,
                folds: Sequence[int] | None = None,
                on_chunk: Callable[[int, ChunkView], np.ndarray | None] | None = None,
                units: np.ndarray | None = None, eval_train: bool = True) -> MemberRun:
    """Train one member per seed and score each on validation and test of its fold.

    ``prepared`` is one fold or a list of folds (e.g. walk-forward); ``folds[i]`` says which
    fold member i trains on (default: all on fold 0), so repeats × configurations × folds are
    one population.  Early stopping (``tspec.patience``) watches the validation window only;
    the test window is predicted but never used for any decision here.  ``configs`` (one
    mapping per member) become ``param_*`` columns.  A stateful model needs whole batches: the
    oldest ``trim_start`` training windows are dropped (default: just enough for a multiple of
    the batch size; seed 000 always drops 2).  ``on_chunk(epochs_done, view)`` is called
    between chunks (see ``train_population``) with ``view.scores(part="test", metric=...)``
    added: the members' current metric in original units; it may return a mask of members
    to stop.
    ``units`` (P, layers): members narrower than ``spec`` (see ``train_population``).
    ``eval_train=False`` predicts only the validation and test windows (no ``train_rmse``):
    far less work for a recursive model, which rolls every predicted window out H steps.
    """
    preps = [prepared] if isinstance(prepared, Prepared) else list(prepared)
    member_fold = np.zeros(len(seeds), int) if folds is None else np.asarray(folds, int)
    if len(member_fold) != len(seeds) or member_fold.min() < 0 or \
            member_fold.max() >= len(preps):
        raise ConfigError(f"folds must give each of the {len(seeds)} members a fold index in "
                          f"0..{len(preps) - 1}.")
    fold_list = [_fold(p, spec, tspec, trim_start, eval_train) for p in preps]
    data, future = _population_data(fold_list, member_fold, spec.stateful)
    hook = None
    if on_chunk is not None:
        def hook(done: int, view: ChunkView) -> np.ndarray | None:
            return on_chunk(done, replace(
                view, scores=lambda part="test", metric="rmse": score_predictions(
                    fold_list, member_fold, view.predict(), part, metric)))
    result = train_population(spec, tspec, data, seeds=np.asarray(seeds), hparams=hparams,
                              on_chunk=hook, units=units, eval_future=future)
    run = MemberRun(folds=fold_list, fold=member_fold, result=result, table=pd.DataFrame())
    rows = {
        "member": np.arange(len(seeds)), "seed": np.asarray(seeds), "fold": member_fold,
        "status": result.status, "epochs_trained": result.epochs_trained,
        "best_epoch": result.best_epoch, "fail_reason": result.fail_reason,
    }
    if eval_train:
        rows["train_rmse"] = run.scores("train")
    if any(len(p.val) for p in preps):
        rows["val_rmse"] = run.scores("val")
    rows["test_rmse"] = run.scores("test")
    table = pd.DataFrame(rows)
    if configs is not None:
        params = pd.DataFrame(list(configs)).add_prefix("param_")
        table = pd.concat([table.iloc[:, :3], params, table.iloc[:, 3:]], axis=1)
    return MemberRun(folds=fold_list, fold=member_fold, result=result, table=table)


def _concat(folds: list[Fold]) -> tuple[np.ndarray, ...]:
    """The windows of several series' folds as one sample axis (a global model's fold):
    training X and y, every evaluation window, and their known future inputs (or None)."""
    evals = [_eval_arrays(f) for f in folds]
    futures = [_eval_future(f) for f in folds]
    future = None if futures[0] is None else np.concatenate(futures)
    return (np.concatenate([f.train.X for f in folds]),
            np.concatenate([f.train.y for f in folds]),
            np.concatenate([e[0] for e in evals]), np.concatenate([e[1] for e in evals]),
            future)


def _shifted(f: Fold, start: int) -> Fold:
    """``f`` with its parts moved to where its series' windows lie in a concatenation."""
    return replace(f, parts={k: slice(v.start + start, v.stop + start)
                             for k, v in f.parts.items()})


def fit_global(prepared: Sequence[Prepared], spec: ModelSpec, tspec: TrainSpec, *,
               seeds: Sequence[int], folds: Sequence[int], groups: Sequence[int],
               model_of: Sequence[int], hparams: Mapping[str, object] | None = None,
               on_chunk: Callable[[int, ChunkView], np.ndarray | None] | None = None,
               units: np.ndarray | None = None) -> MemberRun:
    """Global models of a panel: one model per distinct ``model_of`` value, trained on the
    training windows of every series of its group at once (the series on the sample axis,
    each series' windows scaled by its own fitted preprocessing), and scored on each series
    as a member of its own.  Only the validation and test windows are predicted
    (``eval_train=False``).

    ``prepared`` holds one prepared fold per (series, fold); member i is scored on
    ``prepared[folds[i]]`` by model ``model_of[i]`` (0..M-1), whose training data are the
    folds ``j`` with ``groups[j] == groups[folds[i]]`` (the series of one walk-forward fold).
    ``seeds`` and ``hparams`` are per member; a model takes its first member's.  The result
    is a :class:`MemberRun` with one member per (model, series fold): ``rows`` maps them to
    their model.
    """
    member_fold, model_of = np.asarray(folds, int), np.asarray(model_of, int)
    groups = np.asarray(groups, int)
    first = np.array([int(np.flatnonzero(model_of == m)[0]) for m in range(model_of.max() + 1)])
    model_group = groups[member_fold[first]]
    fold_list = [_fold(p, spec, tspec, None, eval_train=False) for p in prepared]
    shifted = list(fold_list)
    per_group: dict[int, tuple[np.ndarray, ...]] = {}
    for g in np.unique(model_group):
        js = np.flatnonzero(groups == g)
        start = 0
        for j in js:  # where each series' evaluation windows lie in the concatenation
            shifted[j] = _shifted(fold_list[j], start)
            start += fold_list[j].parts["test"].stop
        per_group[int(g)] = _concat([fold_list[j] for j in js])
    S = max(len(a[0]) for a in per_group.values())
    Se = max(len(a[2]) for a in per_group.values())
    arrays = [(_pad(a[0], S, 0.0), _pad(a[1], S, 0.0), np.arange(S) < len(a[0]),
               _pad(a[2], Se, 0.0), _pad(a[3], Se, np.nan)) for a in
              (per_group[int(g)] for g in model_group)]
    data = PopulationData(*(np.stack([a[i] for a in arrays]) for i in range(5)))
    future = None
    if next(iter(per_group.values()))[4] is not None:
        future = np.stack([_pad(per_group[int(g)][4], Se, 0.0) for g in model_group])
    model_hp = None if hparams is None else {k: np.asarray(v)[first] for k, v in hparams.items()}
    hook = None
    if on_chunk is not None:
        counts = np.bincount(model_of)

        def hook(done: int, view: ChunkView) -> np.ndarray | None:
            stop = on_chunk(done, replace(
                view, active=view.active[model_of],
                scores=lambda part="test", metric="rmse": score_predictions(
                    shifted, member_fold, view.predict(), part, metric, rows=model_of)))
            if stop is None:
                return None
            return np.bincount(model_of, weights=np.asarray(stop, float)) == counts
    result = train_population(spec, tspec, data, seeds=np.asarray(seeds)[first],
                              hparams=model_hp, on_chunk=hook,
                              units=None if units is None else np.asarray(units)[first],
                              eval_future=future)
    run = MemberRun(folds=shifted, fold=member_fold, result=result, table=pd.DataFrame(),
                    rows=model_of)
    rows = {"member": np.arange(len(member_fold)), "seed": np.asarray(seeds),
            "fold": member_fold, "model": model_of,
            "status": result.status[model_of],
            "epochs_trained": np.asarray(result.epochs_trained)[model_of],
            "best_epoch": np.asarray(result.best_epoch)[model_of],
            "fail_reason": np.asarray(result.fail_reason, dtype=object)[model_of]}
    if any(len(p.val) for p in prepared):
        rows["val_rmse"] = run.scores("val")
    rows["test_rmse"] = run.scores("test")
    return replace(run, table=pd.DataFrame(rows))
