"""Train a population on prepared data and score every member in original units.

This is where the engine's model-space arrays meet the data layer's inverse transforms: the
result is a tidy table, one row per member (configuration, seed, status, stop epoch, scores),
plus access to forecasts and per-epoch histories in original units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmtune.data import Prepared, Windows, trim_to_multiple
from lstmtune.engine import (
    ModelSpec,
    PopulationData,
    PopulationResult,
    TrainSpec,
    train_population,
)
from lstmtune.errors import ConfigError
from lstmtune.evaluation._metrics import compute_metrics

__all__ = ["MemberRun", "fit_members"]


@dataclass(frozen=True, eq=False)
class MemberRun:
    """A trained population: ``table`` (one row per member) and the arrays behind it."""

    prepared: Prepared
    result: PopulationResult
    table: pd.DataFrame
    train: Windows  # the training windows actually used (trimmed for stateful batches)
    parts: dict[str, slice]  # where train / val / test lie in the eval predictions

    def forecasts(self, part: str = "test", epoch: int | None = None) -> np.ndarray:
        """Original-unit forecasts (P, S, H) of ``part`` with the final weights, or with the
        weights at a snapshot ``epoch``."""
        preds = self.result.predictions if epoch is None else self.result.snapshots[epoch]
        return self.prepared.to_original(preds[:, self.parts[part]], self._windows(part))

    def scores(self, part: str = "test", metric: str = "rmse", epoch: int | None = None
               ) -> np.ndarray:
        """One score per member (P,) on ``part`` in original units."""
        actual = self.prepared.actual(self._windows(part))
        fc = self.forecasts(part, epoch)
        y_train = self.prepared.y_clean[: self.prepared.split.train.stop]
        return np.array([compute_metrics(actual, f, y_train=y_train)[metric]
                         if np.isfinite(f[np.isfinite(actual)]).all() else np.nan for f in fc])

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
        P, E = hist.shape[:2]
        w = self._windows(part)
        orig = self.prepared.to_original(hist[:, :, self.parts[part]], w)  # (P, E, S, H)
        actual = self.prepared.actual(w)
        mask = np.isfinite(actual)
        err = np.where(mask, orig - np.where(mask, actual, 0.0), 0.0)
        if metric == "rmse":
            return np.sqrt((err**2).sum(axis=(2, 3)) / mask.sum())
        if metric == "mae":
            return np.abs(err).sum(axis=(2, 3)) / mask.sum()
        raise ConfigError(f"history metric must be rmse or mae, got {metric!r}.")

    def _windows(self, part: str) -> Windows:
        if part not in self.parts:
            raise ConfigError(f"part must be one of {', '.join(self.parts)}, got {part!r}.")
        return {"train": self.train, "val": self.prepared.val, "test": self.prepared.test}[part]


def fit_members(prepared: Prepared, spec: ModelSpec, tspec: TrainSpec, *, seeds: Sequence[int],
                hparams: Mapping[str, object] | None = None,
                configs: Sequence[Mapping[str, object]] | None = None,
                trim_start: int | None = None) -> MemberRun:
    """Train one member per seed on ``prepared`` and score it on validation and test.

    Early stopping (``tspec.patience``) watches the validation window only; the test window is
    predicted but never used for any decision here.  ``configs`` (one mapping per member) are
    copied into the table as ``param_*`` columns.  A stateful model needs whole batches: the
    oldest ``trim_start`` training windows are dropped (default: just enough for a multiple
    of the batch size; seed 000 always drops 2).
    """
    train = prepared.train
    if trim_start is None and spec.stateful:
        trim_start = trim_to_multiple(len(train), tspec.batch_size)
    if trim_start:
        train = train.take(slice(trim_start, None))
    if tspec.patience is not None and len(prepared.val) == 0:
        raise ConfigError("early stopping (patience) needs a validation window: set val_size.")
    val, test = prepared.val, prepared.test
    eval_X = np.concatenate([train.X, val.X, test.X])
    eval_y = np.concatenate([np.full_like(train.y, np.nan), val.y, np.full_like(test.y, np.nan)])
    a, b = len(train), len(train) + len(val)
    parts = {"train": slice(0, a), "val": slice(a, b), "test": slice(b, b + len(test))}
    data = PopulationData(train.X, train.y, np.ones(len(train), bool), eval_X, eval_y)
    result = train_population(spec, tspec, data, seeds=np.asarray(seeds), hparams=hparams)
    run = MemberRun(prepared=prepared, result=result, table=pd.DataFrame(), train=train,
                    parts=parts)
    rows = {
        "member": np.arange(len(seeds)), "seed": np.asarray(seeds),
        "status": result.status, "epochs_trained": result.epochs_trained,
        "best_epoch": result.best_epoch, "fail_reason": result.fail_reason,
        "train_rmse": run.scores("train"),
    }
    if len(val):
        rows["val_rmse"] = run.scores("val")
    rows["test_rmse"] = run.scores("test")
    table = pd.DataFrame(rows)
    if configs is not None:
        params = pd.DataFrame(list(configs)).add_prefix("param_")
        table = pd.concat([table.iloc[:, :2], params, table.iloc[:, 2:]], axis=1)
    return MemberRun(prepared=prepared, result=result, table=table, train=train, parts=parts)
