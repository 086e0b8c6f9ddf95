"""Classification: metrics of predicted probabilities, the cheap baselines, and a population
of classifiers trained on prepared folds and scored on each fold's held-out items.

Metrics are scikit-learn's (``average_precision_score`` is the paper's PR-AUC).  Binary
problems score the probability of class 1 (the positive class); several classes score the
macro average over one-vs-rest.  Precision, recall and F1 need a threshold: 0.5 (or the
largest probability) during a search, and in the final evaluation the threshold that
maximises F1 on validation (:func:`best_threshold`), never one read off the test items.

Axes: P members, S items, T steps, F input columns, K classes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from lstmtune.data import LabelledSequences, tokenize
from lstmtune.engine import ChunkView, ModelSpec, PopulationData, TrainSpec, train_population
from lstmtune.errors import ConfigError

__all__ = ["CLASS_METRICS", "MINIMISED", "ClassFold", "ClassifierRun", "best_threshold",
           "class_metric", "class_metrics", "classification_baselines", "fit_classifiers",
           "probabilities", "confusion", "pr_curve", "roc_curve_points"]

CLASS_METRICS = ("pr_auc", "roc_auc", "accuracy", "precision", "recall", "f1", "log_loss")
MINIMISED = frozenset({"log_loss"})  # the others: higher is better
# populations of 2, 3, 4, 6, 8, ... members: a classifier member costs seconds per epoch, so
# padding a small population to 8 costs more than compiling a program of its own size
SMALLEST_BUCKET = 2


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Class probabilities (..., K) from a head's outputs: one logit (sigmoid, K = 2) or K
    logits (softmax)."""
    z = np.asarray(logits, np.float64)
    if z.shape[-1] == 1:
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))
        return np.concatenate([1.0 - p, p], axis=-1)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _predicted(prob: np.ndarray, threshold: float) -> np.ndarray:
    return (prob[:, 1] >= threshold).astype(int) if prob.shape[1] == 2 else prob.argmax(axis=1)


def class_metric(name: str, y: np.ndarray, prob: np.ndarray, threshold: float = 0.5
                 ) -> float:
    """One metric of probabilities ``prob`` (S, K) against labels ``y`` (S,); NaN where the
    probabilities are not finite or the metric is undefined (one class only, for AUCs)."""
    from sklearn import metrics as skm

    y = np.asarray(y, int)
    prob = np.asarray(prob, float)
    if name not in CLASS_METRICS:
        raise ConfigError(f"unknown classification metric {name!r}; choose from "
                          f"{', '.join(CLASS_METRICS)}.")
    if not np.isfinite(prob).all():
        return math.nan
    K = prob.shape[1]
    binary = K == 2
    if name in ("pr_auc", "roc_auc"):
        if len(np.unique(y)) < 2:
            return math.nan
        if binary:
            f = skm.average_precision_score if name == "pr_auc" else skm.roc_auc_score
            return float(f(y, prob[:, 1]))
        onehot = np.eye(K)[y]
        present = onehot.any(axis=0)
        if name == "pr_auc":
            return float(skm.average_precision_score(onehot[:, present], prob[:, present],
                                                     average="macro"))
        # one-vs-rest, macro over the classes present (as PR-AUC)
        return float(np.mean([skm.roc_auc_score(onehot[:, k], prob[:, k])
                              for k in np.flatnonzero(present)]))
    if name == "log_loss":
        return float(skm.log_loss(y, np.clip(prob, 1e-15, 1.0), labels=np.arange(K)))
    pred = _predicted(prob, threshold)
    if name == "accuracy":
        return float((pred == y).mean())
    f = {"precision": skm.precision_score, "recall": skm.recall_score,
         "f1": skm.f1_score}[name]
    kw = {"average": "binary"} if binary else {"average": "macro", "labels": np.arange(K)}
    return float(f(y, pred, zero_division=0, **kw))


def class_metrics(y: np.ndarray, prob: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Every metric of :data:`CLASS_METRICS`, and the threshold used."""
    return {m: class_metric(m, y, prob, threshold) for m in CLASS_METRICS} | \
        {"threshold": float(threshold)}


def best_threshold(y: np.ndarray, prob: np.ndarray) -> float:
    """The probability threshold of class 1 that maximises F1 on (validation) items; 0.5
    for several classes (they take the most probable) or when F1 is 0 everywhere."""
    from sklearn.metrics import precision_recall_curve

    prob = np.asarray(prob, float)
    if prob.shape[1] != 2 or not np.isfinite(prob).all() or len(np.unique(y)) < 2:
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, prob[:, 1])
    f1 = np.where(precision + recall > 0, 2 * precision * recall /
                  np.maximum(precision + recall, 1e-300), 0.0)[:-1]
    return float(thresholds[int(np.argmax(f1))]) if f1.max() > 0 else 0.5


def confusion(y: np.ndarray, prob: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Counts (K, K): row = true class, column = predicted class."""
    K = prob.shape[1]
    out = np.zeros((K, K), int)
    np.add.at(out, (np.asarray(y, int), _predicted(np.asarray(prob, float), threshold)), 1)
    return out


def pr_curve(y: np.ndarray, prob: np.ndarray, points: int = 101) -> dict[str, list[float]]:
    """Precision at ``points`` evenly spaced recalls (interpolated: the best precision at
    that recall or more), so members' curves can be banded; binary problems only."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, _ = precision_recall_curve(y, prob[:, 1])
    grid = np.linspace(0, 1, points)
    best = np.maximum.accumulate(precision[np.argsort(recall)][::-1])[::-1]
    rec = np.sort(recall)
    at = np.searchsorted(rec, grid, side="left")
    return {"recall": grid.tolist(),
            "precision": [float(best[i]) if i < len(best) else 0.0 for i in at]}


def roc_curve_points(y: np.ndarray, prob: np.ndarray, points: int = 101
                     ) -> dict[str, list[float]]:
    """True positive rate at ``points`` evenly spaced false positive rates (binary)."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, prob[:, 1])
    grid = np.linspace(0, 1, points)
    return {"fpr": grid.tolist(), "tpr": np.interp(grid, fpr, tpr).tolist()}


# -- the population ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ClassFold:
    """One fold's prepared items: training inputs ``X`` (S, T, F) with labels ``y`` (S,)
    and sample ``weights`` (S,) (class weights), and the held-out items ``eval_X``, ``eval_y``
    every member is scored on.  ``fitted``: what the preparation learned from the training
    items (vocabulary, scaler), to save with a model."""

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    eval_X: np.ndarray
    eval_y: np.ndarray
    n_classes: int
    fitted: dict[str, Any] = field(default_factory=dict)

    @property
    def n_inputs(self) -> int:
        """Input columns F of the model (1: token ids)."""
        return int(self.X.shape[-1])


def _targets(y: np.ndarray) -> np.ndarray:
    """Labels as the engine's (S, 1) targets (binary: 0/1 for one logit; else the index)."""
    return np.asarray(y, np.float32)[:, None]


def _pad(a: np.ndarray, n: int, value: float) -> np.ndarray:
    return np.concatenate([a, np.full((n - len(a), *a.shape[1:]), value, a.dtype)])


def _population_data(folds: list[ClassFold], member_fold: np.ndarray) -> PopulationData:
    if len(folds) == 1:
        f = folds[0]
        return PopulationData(f.X.astype(np.float32), _targets(f.y),
                              f.weights.astype(np.float32), f.eval_X.astype(np.float32),
                              _targets(f.eval_y))
    S, Se = max(len(f.y) for f in folds), max(len(f.eval_y) for f in folds)
    per = [(_pad(f.X.astype(np.float32), S, 0.0), _pad(_targets(f.y), S, 0.0),
            _pad(f.weights.astype(np.float32), S, 0.0), _pad(f.eval_X.astype(np.float32),
                                                             Se, 0.0),
            _pad(_targets(f.eval_y), Se, np.nan)) for f in folds]
    return PopulationData(*(np.stack([per[k][i] for k in member_fold]) for i in range(5)))


@dataclass(frozen=True, eq=False)
class ClassifierRun:
    """A trained population of classifiers: ``table`` (one row per member) and the arrays
    behind it; every member is scored on its own fold's held-out items."""

    folds: list[ClassFold]
    fold: np.ndarray
    result: Any  # engine.PopulationResult
    table: pd.DataFrame

    @property
    def fail_epoch(self) -> np.ndarray:
        return np.asarray(self.result.fail_epoch)

    def probabilities(self, epoch: int | None = None, member: int | None = None
                      ) -> np.ndarray:
        """Class probabilities (P, S, K) on the held-out items (member ``member`` only:
        (S, K) of its fold), final weights or those at a snapshot ``epoch``."""
        logits = self.result.predictions if epoch is None else self.result.snapshots[epoch]
        if member is not None:
            return probabilities(logits[member, : len(self.folds[self.fold[member]].eval_y)])
        return probabilities(logits)

    def scores(self, part: str = "test", metric: str = "pr_auc", epoch: int | None = None,
               per_step: bool = False, logits: np.ndarray | None = None) -> np.ndarray:
        """One score per member (P,) on its fold's held-out items (``part`` is that part:
        validation in a search, test at the end).  Failed members score NaN."""
        if per_step:
            raise ConfigError("a classifier has no horizon steps to score one by one.")
        z = logits if logits is not None else \
            self.result.predictions if epoch is None else self.result.snapshots[epoch]
        return score_logits(self.folds, self.fold, z, metric)

    def history_epochs(self) -> np.ndarray:
        n = self.result.history_predictions.shape[1]
        return np.arange(1, n + 1) * self.result.record_every

    def history(self, part: str, metric: str = "log_loss") -> np.ndarray:
        """Per recorded epoch (P, E / record_every): the training loss (``part="train"``)
        or the held-out items' log loss."""
        hist = self.result.history_predictions
        if hist is None:
            raise ConfigError("per-epoch histories need TrainSpec(record_predictions=True).")
        every = self.result.record_every
        if part == "train":
            E = hist.shape[1] * every
            return self.result.train_loss[:, every - 1: E: every]
        return np.stack([score_logits(self.folds, self.fold, hist[:, e], "log_loss")
                         for e in range(hist.shape[1])], axis=1)


def score_logits(folds: list[ClassFold], member_fold: np.ndarray, logits: np.ndarray,
                 metric: str) -> np.ndarray:
    out = np.full(len(member_fold), np.nan)
    for m, k in enumerate(member_fold):
        f = folds[k]
        out[m] = class_metric(metric, f.eval_y, probabilities(logits[m, : len(f.eval_y)]))
    return out


def fit_classifiers(folds: Sequence[ClassFold], spec: ModelSpec, tspec: TrainSpec, *,
                    seeds: Sequence[int], hparams: dict | None = None,
                    member_fold: Sequence[int] | None = None,
                    on_chunk: Callable[[int, ChunkView], np.ndarray | None] | None = None,
                    units: np.ndarray | None = None) -> ClassifierRun:
    """Train one member per seed on its fold (``member_fold[i]``) and keep its predictions
    on that fold's held-out items (early stopping, when on, watches them too).
    ``on_chunk(done, view)`` sees ``view.scores(part, metric)``: the members' current
    metric (see ``engine.train_population``)."""
    folds = list(folds)
    mf = np.zeros(len(seeds), int) if member_fold is None else np.asarray(member_fold, int)
    data = _population_data(folds, mf)
    hook = None
    if on_chunk is not None:
        def hook(done: int, view: ChunkView) -> np.ndarray | None:
            return on_chunk(done, replace(
                view, scores=lambda part="test", metric="pr_auc": score_logits(
                    folds, mf, view.predict(), metric)))
    result = train_population(spec, tspec, data, seeds=np.asarray(seeds), hparams=hparams,
                              on_chunk=hook, units=units, bucket=SMALLEST_BUCKET)
    table = pd.DataFrame({"member": np.arange(len(seeds)), "seed": np.asarray(seeds),
                          "fold": mf, "status": result.status,
                          "epochs_trained": result.epochs_trained,
                          "best_epoch": result.best_epoch, "fail_reason": result.fail_reason})
    return ClassifierRun(folds=folds, fold=mf, result=result, table=table)


# -- baselines --------------------------------------------------------------------------------

def _bag_of_words(items: LabelledSequences):
    """The vectoriser that reads ``items``' kind: words of texts, ids of token sequences."""
    from sklearn.feature_extraction.text import CountVectorizer

    if items.kind == "text":
        return CountVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None,
                               max_features=50_000, binary=True), list(items.texts)
    return CountVectorizer(analyzer=lambda s: [str(t) for t in s if t], binary=True), \
        list(items.sequences)


def _numeric(items: LabelledSequences, length: int) -> np.ndarray:
    out = np.zeros((len(items), length * items.channels))
    for i, v in enumerate(items.values):
        row = np.nan_to_num(v[:length], nan=0.0).ravel()
        out[i, : row.size] = row
    return out


def classification_baselines(train: LabelledSequences, val: LabelledSequences | None,
                             test: LabelledSequences) -> dict[str, dict[str, float]]:
    """The cheap references on the same split, every metric of :data:`CLASS_METRICS`:
    ``majority`` (the training class frequencies as probabilities, predicting the most
    frequent class) and ``bag_of_words`` (scikit-learn's logistic regression on word
    presence — or, for numeric sequences, on the raw values — fitted on the training items,
    its F1 threshold chosen on ``val``)."""
    from sklearn.linear_model import LogisticRegression

    K = len(train.classes)
    freq = np.bincount(train.labels, minlength=K) / len(train)
    prob = np.tile(freq, (len(test), 1))
    majority = class_metrics(test.labels, prob, threshold=0.5)
    major = int(np.argmax(freq))
    pred = np.eye(K)[np.full(len(test), major)]
    for m in ("accuracy", "precision", "recall", "f1"):
        majority[m] = class_metric(m, test.labels, pred)
    if train.kind == "numeric":
        length = max(len(v) for v in train.values)
        X_train, X_val, X_test = (_numeric(d, length) if d is not None else None
                                  for d in (train, val, test))
        name = "logistic_regression"
    else:
        vec, docs = _bag_of_words(train)
        X_train = vec.fit_transform(docs)
        X_val, X_test = (vec.transform(_bag_of_words(d)[1]) if d is not None else None
                         for d in (val, test))
        name = "bag_of_words"
    model = LogisticRegression(max_iter=2000).fit(X_train, train.labels)
    threshold = 0.5 if val is None else best_threshold(val.labels, model.predict_proba(X_val))
    lr = class_metrics(test.labels, model.predict_proba(X_test), threshold)
    return {"majority": majority, name: lr}
