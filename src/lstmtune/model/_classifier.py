"""A tuned classification configuration as R repeat members: trained on the training items,
its decision threshold chosen on validation items, saved as a model directory with what its
preparation learned (the vocabulary, or the channel scaler) in JSON, never pickle.

``predict_proba(items)`` is the members' mean probability (each member's too, with
``members=True``); ``predict(items)`` the class names at the threshold.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lstmtune.data import LabelledSequences, Vocabulary
from lstmtune.engine import ModelSpec, flatten_params, nest_params, param_shapes, predict
from lstmtune.evaluation import best_threshold, probabilities
from lstmtune.experiment import (
    ClassificationTask,
    build_train,
    encode_items,
    member_hparams,
    pad_steps,
)

__all__ = ["Classifier", "fit_classifier", "save_classifier", "load_classifier",
           "CLASSIFIER_FORMAT"]

CLASSIFIER_FORMAT = "lstmtune-classifier"
FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class Classifier:
    """R members of one configuration: weights with a leading R axis, the prepared inputs'
    fitted state, the class names and the decision threshold (binary)."""

    config: Mapping[str, Any]
    spec: ModelSpec
    params: dict
    seeds: np.ndarray
    task: ClassificationTask
    classes: tuple[str, ...]
    fitted: dict[str, Any]
    threshold: float = 0.5
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def repeats(self) -> int:
        return int(len(self.seeds))

    def inputs(self, items: LabelledSequences) -> np.ndarray:
        """``items`` as the members' inputs, prepared as in training, padded (masked) to
        the program's length."""
        return pad_steps(encode_items(items, self.config, self.fitted), self.spec.timesteps,
                         self.task.inputs == "numeric")

    def predict_proba(self, items: LabelledSequences, *, members: bool = False
                      ) -> np.ndarray:
        """Class probabilities (N, K): the members' mean (``members``: (R, N, K))."""
        logits = predict(self.params, self.inputs(items), self.spec,
                         self.config["batch_size"])
        prob = probabilities(logits)
        return prob if members else prob.mean(axis=0)

    def predict(self, items: LabelledSequences) -> np.ndarray:
        """Class names (N,): the positive class where its mean probability reaches the
        threshold (binary), else the most probable."""
        prob = self.predict_proba(items)
        k = (prob[:, 1] >= self.threshold).astype(int) if prob.shape[1] == 2 else \
            prob.argmax(axis=1)
        return np.asarray(self.classes, dtype=object)[k]


def fit_classifier(train: LabelledSequences, val: LabelledSequences,
                   config: Mapping[str, Any], task: ClassificationTask, *, repeats: int,
                   seed: int = 0):
    """Train ``repeats`` members of ``config`` on ``train`` (early stopping, when on,
    watching ``val``); the threshold maximises the mean member's F1 on ``val``.  Returns the
    classifier and the run (its ``probabilities()`` are on ``val``)."""
    config = task.configure(config)
    group = task.prepare_group([((train, val), len(val))], [config])
    spec = task.model(config, n_features=task.n_inputs(group))
    tspec = build_train(config, epochs=config["epochs"], snapshots=(),
                        dropout=bool(config["dropout"] or config["recurrent_dropout"]),
                        record=False)
    hp = member_hparams([config] * repeats)
    seeds = seed + np.arange(repeats)
    run = task.fit(group, spec, tspec, seeds=seeds, hparams=hp)
    val_prob = run.probabilities()[:, : len(val)]
    ok = np.isfinite(val_prob).all(axis=(1, 2))
    threshold = best_threshold(val.labels, val_prob[ok].mean(axis=0)) if ok.any() else 0.5
    clf = Classifier(config=config, spec=spec, params=run.result.params, seeds=seeds,
                     task=task, classes=tuple(train.classes), fitted=group.folds[0].fitted,
                     threshold=threshold)
    return clf, run


def _fitted_json(fitted: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.to_dict() if isinstance(v, Vocabulary) else v for k, v in fitted.items()}


def save_classifier(clf: Classifier, path: str | os.PathLike) -> Path:
    """Write ``clf`` as a model directory at ``path`` (replacing one saved there before):
    model.json (configuration, spec, classes, threshold, vocabulary or scaler), params.npz
    and checksums.json, as :func:`lstmtune.model.save_model` writes a forecaster."""
    from lstmtune.model._io import write_model_dir

    path = Path(path)
    arrays = {k: np.asarray(v, np.float32) for k, v in flatten_params(clf.params).items()}
    doc = {"format": CLASSIFIER_FORMAT, "format_version": FORMAT_VERSION,
           "config": dict(clf.config), "spec": dataclasses.asdict(clf.spec),
           "task": clf.task.describe(), "classes": list(clf.classes),
           "threshold": clf.threshold, "seeds": [int(s) for s in clf.seeds],
           "fitted": _fitted_json(clf.fitted), "info": clf.info,
           "params": {k: list(a.shape) for k, a in arrays.items()}}
    return write_model_dir(path, doc, arrays)


def load_classifier(path: Path, doc: dict[str, Any]) -> Classifier:
    """The classifier of a verified model directory whose model.json is ``doc``, every entry
    checked as ``model._io.load_model`` checks a forecaster's."""
    from lstmtune.model import _io

    _io.check_version(path, doc, FORMAT_VERSION, "classifier")
    config = _io.entry(path, doc, "config", _io.config_of)
    spec = _io.entry(path, doc, "spec", _io.spec_of)
    task = _io.entry(path, doc, "task", _task_of)
    classes = _io.entry(path, doc, "classes", lambda v: _classes_of(v, task.n_classes))
    threshold = _io.entry(path, doc, "threshold", lambda v: _io.real(v, 0.0, 1.0))
    seeds = _io.entry(path, doc, "seeds", _io.seeds_of)
    fitted = _io.entry(path, doc, "fitted", lambda v: _fitted_of(v, task.inputs, config, spec))
    info = dict(_io.entry(path, doc, "info", _io.table, default={}))
    declared = _io.entry(path, doc, "params", _io.shapes_of)
    _io.check_configured(path, config, task.configure,
                         f"a {task.n_classes}-class classifier")
    # token inputs are one feature (the ids); numeric ones a channel each, as many as the
    # fitted means (checked against spec.n_features by _fitted_of)
    n_features = spec.n_features if task.inputs == "numeric" else 1
    _io.check_spec(path, spec, _io.built_spec(
        path, lambda: task.model(config, n_features=n_features)))
    want = {k: (len(seeds), *v) for k, v in param_shapes(spec).items()}
    arrays = _io.read_weights(path, declared, want, f"{len(seeds)} members, {spec.units} units")
    return Classifier(config=config, spec=spec, params=nest_params(arrays), seeds=seeds,
                      task=task, classes=classes, fitted=fitted, threshold=threshold,
                      info=info)


def _task_of(value: Any) -> ClassificationTask:
    """A saved ``task``: what ``ClassificationTask.describe`` wrote."""
    from lstmtune.model._io import shown, table, whole

    d = table(value)
    for key in ("metric", "n_classes", "inputs"):
        if key not in d:
            raise KeyError(key)
    try:
        n_classes = whole(d["n_classes"], 2)
    except ValueError as exc:
        raise ValueError(f"n_classes: {exc}") from None
    task = ClassificationTask(metric=d["metric"], n_classes=n_classes, inputs=d["inputs"])
    for key, want in (("kind", task.kind), ("direction", task.direction)):
        if key in d and d[key] != want:
            raise ValueError(f"{key} is {want!r} for a task of metric {task.metric!r}, got "
                             f"{shown(d[key])}")
    return task


def _classes_of(value: Any, n_classes: int) -> tuple[str, ...]:
    from lstmtune.model._io import names

    classes = names(value, "class name")
    if len(classes) != n_classes:
        raise ValueError(f"{len(classes)} class names for a task of {n_classes} classes")
    return classes


def _fitted_of(value: Any, inputs: str, config: Mapping[str, Any], spec: ModelSpec
               ) -> dict[str, Any]:
    """What preparation learned, as ``_fitted_json`` wrote it for ``inputs``: a vocabulary
    whose ids fit the embedding (texts), nothing (token ids), or one finite mean and one
    finite scale > 0 per channel (numeric sequences)."""
    from lstmtune.model._io import names, shown, table, whole

    d = table(value)
    keys = {"text": ["vocabulary"], "tokens": [], "numeric": ["mean", "scale"]}[inputs]
    for key in keys:
        if key not in d:
            raise KeyError(key)
    extra = sorted(set(d) - set(keys))
    if extra:
        raise ValueError(f"entries {shown(extra)}, which a classifier of {inputs} items "
                         "does not have")
    if inputs == "text":
        v = table(d["vocabulary"])
        for key in ("size", "lower", "strip_html", "words"):
            if key not in v:
                raise KeyError(f"vocabulary.{key}")
        try:
            whole(v["size"], 1)
        except ValueError as exc:
            raise ValueError(f"vocabulary.size: {exc}") from None
        if v["size"] != config["vocab_size"]:
            raise ValueError(f"vocabulary.size = {v['size']}, the configuration's vocab_size "
                             f"is {config['vocab_size']}")
        for key in ("lower", "strip_html"):
            if not isinstance(v[key], bool):
                raise ValueError(f"vocabulary.{key} is true or false, got {shown(v[key])}")
        words = names(v["words"], "vocabulary word")
        if len(words) > v["size"] or len(words) + 2 > spec.vocab_size:
            raise ValueError(f"the vocabulary holds {len(words)} words, more than its size "
                             f"{v['size']} or the embedding's {spec.vocab_size} rows allow")
        return {"vocabulary": Vocabulary.from_dict(v)}
    out = {}
    for key in keys:
        x = d[key]
        if not isinstance(x, list) or len(x) != spec.n_features:
            raise ValueError(f"{key} is one number per channel ({spec.n_features}), got "
                             f"{shown(x)}")
        for v in x:
            if isinstance(v, bool) or not isinstance(v, int | float) or \
                    not math.isfinite(v) or (key == "scale" and v <= 0):
                rule = "a finite number > 0" if key == "scale" else "a finite number"
                raise ValueError(f"each {key} is {rule}, got {shown(v)}")
        out[key] = [float(v) for v in x]
    return out
