"""The classification task (seed 003): sequences with a class, scored by PR-AUC or another
classification metric, on the same seam as :class:`ForecastTask`.

A fold is ``(training items, held-out items)``.  ``prepare`` fits what is fitted — the
vocabulary of the top ``vocab_size`` words (texts), or the per-channel scaler (numeric
sequences) — on the fold's training items only, then cuts or pads every item to
``input_length`` steps (keeping the first or the last, ``keep``) and computes class
weights from the training labels.  The model embeds token ids (``embed_dim``), runs its LSTM
layers over the real steps only (padding is masked) and ends in one logit (two classes,
binary cross-entropy) or K (softmax, categorical cross-entropy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from lstmtune.data import LabelledSequences, Vocabulary, tokenize
from lstmtune.engine import ModelSpec
from lstmtune.errors import ConfigError
from lstmtune.evaluation import (
    CLASS_METRICS,
    MINIMISED,
    ClassFold,
    ClassifierRun,
    classification_baselines,
    fit_classifiers,
)
from lstmtune.experiment._params import PARAMS, complete, units_bucket
from lstmtune.experiment._task import all_folds, member_record, members_text

__all__ = ["ClassificationTask", "encode_items", "pad_steps"]


INPUTS = ("text", "tokens", "numeric")  # LabelledSequences.kind
BUCKETED = ("input_length", "vocab_size")
PER_MEMBER = ("keep", "class_weight")  # change the prepared items only
PREP_KEYS = ("vocab_size", "input_length", "keep", "class_weight")


def length_bucket(n: int) -> int:
    """The program size that input lengths (and vocabulary sizes) up to ``n`` share: 8, 12,
    16, 24, 32, 48, ... (at most a third of the steps padding above 8)."""
    size = 8
    while size < n:
        size = size * 3 // 2 if size & (size - 1) == 0 else size * 4 // 3
    return size


@dataclass(frozen=True, eq=False)
class ClassGroup:
    """The prepared folds of a group of configurations: ``folds`` (distinct preparations)
    and ``index[k][f]``, the position of configuration k's fold f in ``folds``."""

    folds: list[ClassFold]
    index: list[list[int]]


def pad_steps(X: np.ndarray, length: int, numeric: bool) -> np.ndarray:
    """Inputs (N, T, F) padded after their steps to ``length`` with masked steps (NaN for
    numeric sequences, the padding id 0 for tokens)."""
    extra = length - X.shape[1]
    if not extra:
        return X
    fill = np.nan if numeric else 0.0
    return np.concatenate([X, np.full((len(X), extra, X.shape[2]), fill, X.dtype)], 1)


@lru_cache(maxsize=4)
def _tokens(items: LabelledSequences) -> tuple[list[str], ...]:
    """Every text of ``items`` split once (the vocabulary and every input length reuse it)."""
    return tuple(tokenize(t) for t in items.texts)


@lru_cache(maxsize=16)
def _vocabulary(train: LabelledSequences, size: int) -> Vocabulary:
    """The vocabulary of a fold's training items, fitted once per size (the feasibility
    check, every batch's groups and the final evaluation ask for the same ones)."""
    return Vocabulary.fit(train.texts, size, tokens=_tokens(train))


def _cut(rows, length: int, keep: str, width: int, fill: float) -> np.ndarray:
    """Rows (each (L, width)) cut to their first or last ``length`` steps and padded with
    ``fill`` after them (first) or before them (last): (N, length, width)."""
    out = np.full((len(rows), length, width), fill, np.float32)
    for i, r in enumerate(rows):
        r = r[:length] if keep == "first" else r[-length:]
        if keep == "first":
            out[i, : len(r)] = r
        elif len(r):
            out[i, length - len(r):] = r
    return out


def encode_items(items: LabelledSequences, config: Mapping[str, Any],
                 fitted: Mapping[str, Any]) -> np.ndarray:
    """``items`` as the model's inputs (N, input_length, F) by what was fitted on training
    items (``fitted``: the vocabulary, or the channel means and scales)."""
    c = complete(config)
    L, keep = c["input_length"], c["keep"]
    if items.kind == "text":
        vocab = fitted["vocabulary"]
        if not isinstance(vocab, Vocabulary):
            vocab = Vocabulary.from_dict(vocab)
        ids = vocab.encode(items.texts, L, keep=keep, tokens=_tokens(items))
        return ids[:, :, None].astype(np.float32)
    if items.kind == "tokens":  # the user's own padding (0) dropped before the cut
        V = c["vocab_size"] + 2
        rows = [np.where(s < V, s, 1)[:, None] for s in
                (np.asarray(s)[np.asarray(s) != 0] for s in items.sequences)]
        return _cut(rows, L, keep, 1, 0.0)
    mean, scale = (np.asarray(fitted[k], np.float32) for k in ("mean", "scale"))
    rows = [(_trimmed(np.asarray(v, np.float32)) - mean) / scale for v in items.values]
    return _cut(rows, L, keep, items.channels, np.nan)


def _trimmed(v: np.ndarray) -> np.ndarray:
    """A numeric sequence without the missing steps at its start and end (padding)."""
    real = np.flatnonzero(np.isfinite(v).any(axis=1))
    return v[real[0]: real[-1] + 1] if real.size else v[:0]


def _fit(train: LabelledSequences, config: Mapping[str, Any]) -> dict[str, Any]:
    """What preparation learns from the training items only."""
    c = complete(config)
    if train.kind == "text":
        return {"vocabulary": _vocabulary(train, c["vocab_size"])}
    if train.kind == "tokens":
        return {}
    stacked = np.concatenate([np.asarray(v, float) for v in train.values])
    mean = np.nanmean(stacked, axis=0)
    scale = np.nanstd(stacked, axis=0)
    return {"mean": mean.tolist(), "scale": np.where(scale > 0, scale, 1.0).tolist()}


def class_weights(labels: np.ndarray, K: int, how: str) -> np.ndarray:
    """Per-item weights: 1, or ``n / (K n_k)`` for an item of class k (scikit-learn's and
    Keras' "balanced")."""
    if how == "none":
        return np.ones(len(labels), np.float32)
    counts = np.bincount(labels, minlength=K).astype(float)
    return (len(labels) / (K * np.maximum(counts, 1)))[labels].astype(np.float32)


@dataclass(frozen=True)
class ClassificationTask:
    """Classify sequences into ``n_classes`` classes, scored by ``metric`` on held-out items
    (PR-AUC, the paper's objective, by default; log loss is minimised, the others
    maximised)."""

    metric: str = "pr_auc"
    n_classes: int = 2
    inputs: str = "text"  # text | tokens (ids): embedded; numeric: channels
    kind: ClassVar[str] = "classify"
    horizon: ClassVar[int] = 1  # one prediction per item: no horizon steps
    origin_step: ClassVar[int] = 1

    def __post_init__(self) -> None:
        if self.metric not in CLASS_METRICS:
            raise ConfigError(f"metric = {self.metric!r} is not a classification metric; "
                              f"choose from {', '.join(CLASS_METRICS)}.")
        if isinstance(self.n_classes, bool) or not isinstance(self.n_classes, int | np.integer) \
                or self.n_classes < 2:
            raise ConfigError(f"a classifier needs at least two classes, got {self.n_classes!r}.")
        if self.inputs not in INPUTS:
            raise ConfigError(f"inputs must be one of {', '.join(INPUTS)}, got "
                              f"{self.inputs!r}.")

    @classmethod
    def of(cls, data: LabelledSequences, metric: str = "pr_auc") -> ClassificationTask:
        """The task of classifying ``data``'s items into its classes."""
        return cls(metric=metric, n_classes=len(data.classes), inputs=data.kind)

    @property
    def direction(self) -> str:
        return "minimize" if self.metric in MINIMISED else "maximize"

    @property
    def label(self) -> str:
        return {"pr_auc": "PR-AUC", "roc_auc": "ROC-AUC", "f1": "F1"}.get(
            self.metric, self.metric.replace("_", " ").capitalize())

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "metric": self.metric, "direction": self.direction,
                "n_classes": self.n_classes, "inputs": self.inputs}

    def configure(self, config: Mapping[str, Any]):
        """``config`` as this task trains it: cross-entropy, binary or categorical."""
        return complete({**complete(config), "loss": "bce" if self.n_classes == 2 else "cce"})

    member_record = staticmethod(member_record)
    probe = staticmethod(all_folds)
    members_text = staticmethod(members_text)

    def group_key(self, config: Mapping[str, Any]) -> tuple:
        """Configurations with equal keys train in one population: input lengths and
        vocabulary sizes by their :func:`length_bucket` (padding is masked and unused
        embedding rows never move, so a member trains as it would alone), units by their
        ``units_bucket``."""
        c = complete(config)
        pad_units = not c["bidirectional"]  # a bidirectional layer is never zero-padded
        return tuple((k, length_bucket(v) if k in BUCKETED else units_bucket(v)
                      if k == "units" and pad_units else v)
                     for k, v in c.items()
                     if PARAMS[k].kind not in ("member", "epochs") and k not in PER_MEMBER)

    def prepare_group(self, folds, configs: list) -> ClassGroup:
        """Every configuration's folds, each prepared once per distinct preparation (the
        vocabulary, the input length), padded to the group's bucketed length."""
        length = length_bucket(max(complete(c)["input_length"] for c in configs))
        distinct: dict[tuple, list[int]] = {}
        out: list[ClassFold] = []
        index = []
        for c in configs:
            key = tuple(complete(c)[k] for k in PREP_KEYS)
            if key not in distinct:
                distinct[key] = []
                for fold, _ in folds:
                    distinct[key].append(len(out))
                    prep = self.prepare(fold, 0, c)
                    numeric = self.inputs == "numeric"
                    out.append(replace(prep, X=pad_steps(prep.X, length, numeric),
                                       eval_X=pad_steps(prep.eval_X, length, numeric)))
            index.append(distinct[key])
        return ClassGroup(folds=out, index=index)

    @staticmethod
    def n_inputs(group: ClassGroup) -> int:
        return group.folds[0].n_inputs

    # -- data and model -----------------------------------------------------------------------
    def prepare(self, fold: tuple[LabelledSequences, LabelledSequences], scored: int,
                config: Mapping[str, Any]) -> ClassFold:
        """One fold ``(training items, held-out items)`` prepared: fitted on the training
        items only, every item cut or padded to ``input_length``."""
        train, held = fold
        c = complete(config)
        fitted = _fit(train, c)
        return ClassFold(X=encode_items(train, c, fitted), y=np.asarray(train.labels),
                         weights=class_weights(train.labels, self.n_classes,
                                               c["class_weight"]),
                         eval_X=encode_items(held, c, fitted), eval_y=np.asarray(held.labels),
                         n_classes=self.n_classes, fitted=fitted)

    def model(self, config: Mapping[str, Any], n_features: int, units: int | None = None
              ) -> ModelSpec:
        """Embedding (token inputs) → ``layers`` masked LSTM layers → one logit (binary) or
        K.  ``n_features``: 1 for token ids, the channels of numeric sequences."""
        c = complete(config)
        tokens = self.inputs != "numeric"
        return ModelSpec(units=(units or c["units"],) * c["layers"],
                         timesteps=length_bucket(c["input_length"]), n_features=n_features,
                         horizon=1 if self.n_classes == 2 else self.n_classes,
                         activation=c["activation"],
                         recurrent_activation=c["recurrent_activation"],
                         vocab_size=length_bucket(c["vocab_size"]) + 2 if tokens else 0,
                         embed_dim=c["embed_dim"] if tokens else 0, masked=True,
                         bidirectional=c["bidirectional"])

    def fit(self, group: ClassGroup, spec: ModelSpec, tspec, *, seeds, hparams=None,
            member_fold=None, member_config=None, on_chunk=None, units=None,
            trim_start=None, config=None) -> ClassifierRun:
        """Train member i on fold ``member_fold[i]`` as configuration ``member_config[i]``
        of the group prepared it (see ``evaluation.fit_classifiers``)."""
        n = len(seeds)
        mf = np.zeros(n, int) if member_fold is None else np.asarray(member_fold, int)
        mc = np.zeros(n, int) if member_config is None else np.asarray(member_config, int)
        where = [group.index[c][f] for c, f in zip(mc, mf, strict=True)]
        return fit_classifiers(group.folds, spec, tspec, seeds=seeds, hparams=hparams,
                               member_fold=where, on_chunk=on_chunk, units=units)

    # -- scores ------------------------------------------------------------------------------
    def score(self, run: ClassifierRun, part: str = "test", epoch: int | None = None,
              per_step: bool = False) -> np.ndarray:
        return run.scores(part, self.metric, epoch=epoch, per_step=per_step)

    def baselines(self, train: LabelledSequences, val: LabelledSequences | None,
                  test: LabelledSequences) -> dict[str, dict[str, Any]]:
        """The majority class and a bag-of-words logistic regression on the same split,
        every metric and the task's ``value``."""
        out = classification_baselines(train, val, test)
        return {k: {**v, "value": v[self.metric]} for k, v in out.items()}
