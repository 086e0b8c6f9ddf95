"""Train a population on prepared data and score every member in original units.

This is where the engine's model-space arrays meet the data layer's inverse transforms: the
result is a tidy table, one row per member (configuration, seed, status, stop epoch, scores),
plus access to forecasts and per-epoch histories in original units.
"""

from __future__ import annotations

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

__all__ = ["MemberRun", "fit_members"]


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
    """A trained population: ``table`` (one row per member) and the arrays behind it."""

    folds: list[Fold]
    fold: np.ndarray  # (P,) fold index of each member
    result: PopulationResult
    table: pd.DataFrame

    @property
    def prepared(self) -> Prepared:
        return self.folds[0].prepared

    def forecasts(self, part: str = "test", epoch: int | None = None, fold: int = 0
                  ) -> np.ndarray:
        """Original-unit forecasts (P_f, S, H) of ``part`` for the members of ``fold``, with
        the final weights or with the weights at a snapshot ``epoch``."""
        preds = self.result.predictions if epoch is None else self.result.snapshots[epoch]
        f = self.folds[fold]
        w = f.windows(part)
        return f.prepared.to_original(preds[self.fold == fold][:, f.parts[part], :w.y.shape[1]],
                                      w)

    def scores(self, part: str = "test", metric: str = "rmse", epoch: int | None = None,
               per_step: bool = False) -> np.ndarray:
        """One score per member (P,) on ``part`` of its fold, in original units; with
        ``per_step`` one per member and horizon step (P, H)."""
        preds = self.result.predictions if epoch is None else self.result.snapshots[epoch]
        return score_predictions(self.folds, self.fold, preds, part, metric, per_step)

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
        out = np.full(hist.shape[:2], np.nan)
        for k, f in enumerate(self.folds):
            w = f.windows(part)
            orig = f.prepared.to_original(hist[self.fold == k][:, :, f.parts[part]], w)
            actual = f.prepared.actual(w)[:, : hist.shape[-1]]  # one step: a recursive model
            mask = np.isfinite(actual)
            err = np.where(mask, orig - np.where(mask, actual, 0.0), 0.0)
            if metric == "rmse":
                out[self.fold == k] = np.sqrt((err**2).sum(axis=(2, 3)) / mask.sum())
            else:
                out[self.fold == k] = np.abs(err).sum(axis=(2, 3)) / mask.sum()
        return out


def score_predictions(folds: Sequence[Fold], member_fold: np.ndarray, preds: np.ndarray,
                      part: str, metric: str = "rmse", per_step: bool = False) -> np.ndarray:
    """Per-member metric (P,) of model-space predictions (P, Se, H) on ``part`` of each
    member's fold, in original units, over every scored (origin, step); NaN where a forecast
    is not finite.  ``per_step``: the metric of each horizon step instead, (P, H)."""
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
        fc = f.prepared.to_original(preds[sel][:, f.parts[part], :w.y.shape[1]], w)
        if per_step:
            out[sel] = [[metric_value(metric, actual[:, h], x[:, h], y_train=y_train,
                                      season=season) for h in range(actual.shape[1])]
                        for x in fc]
        else:
            out[sel] = [metric_value(metric, actual, x, y_train=y_train, season=season)
                        for x in fc]
    return out


def _fold(prepared: Prepared, spec: ModelSpec, tspec: TrainSpec, trim_start: int | None
          ) -> Fold:
    train = prepared.train
    if trim_start is None and spec.stateful:
        trim_start = trim_to_multiple(len(train), tspec.batch_size)
    if trim_start:
        train = train.take(slice(trim_start, None))
    if tspec.patience is not None and len(prepared.val) == 0:
        raise ConfigError("early stopping (patience) needs a validation window: set val_size.")
    a, b = len(train), len(train) + len(prepared.val)
    return Fold(prepared, train, {"train": slice(0, a), "val": slice(a, b),
                                  "test": slice(b, b + len(prepared.test))})


def _eval_arrays(f: Fold) -> tuple[np.ndarray, np.ndarray]:
    val, test = f.prepared.val, f.prepared.test
    h = f.train.y.shape[1]  # the model's outputs (early stopping watches those)
    eval_X = np.concatenate([f.train.X, val.X, test.X])
    eval_y = np.concatenate([np.full_like(f.train.y, np.nan), val.y[:, :h],
                             np.full((len(test), h), np.nan)])
    return eval_X, eval_y


def _eval_future(f: Fold) -> np.ndarray | None:
    """The known inputs after each evaluation window's origin, when the model rolls its
    one-step forecasts H steps ahead (zeros for training windows: scored one step ahead)."""
    val, test = f.prepared.val, f.prepared.test
    if val.future is None and test.future is None:
        return None
    shape = (val if val.future is not None else test).future.shape[1:]
    parts = [np.zeros((len(f.train), *shape))] + [
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
                units: np.ndarray | None = None) -> MemberRun:
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
    """
    preps = [prepared] if isinstance(prepared, Prepared) else list(prepared)
    member_fold = np.zeros(len(seeds), int) if folds is None else np.asarray(folds, int)
    if len(member_fold) != len(seeds) or member_fold.min() < 0 or \
            member_fold.max() >= len(preps):
        raise ConfigError(f"folds must give each of the {len(seeds)} members a fold index in "
                          f"0..{len(preps) - 1}.")
    fold_list = [_fold(p, spec, tspec, trim_start) for p in preps]
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
        "train_rmse": run.scores("train"),
    }
    if any(len(p.val) for p in preps):
        rows["val_rmse"] = run.scores("val")
    rows["test_rmse"] = run.scores("test")
    table = pd.DataFrame(rows)
    if configs is not None:
        params = pd.DataFrame(list(configs)).add_prefix("param_")
        table = pd.concat([table.iloc[:, :3], params, table.iloc[:, 3:]], axis=1)
    return MemberRun(folds=fold_list, fold=member_fold, result=result, table=table)
