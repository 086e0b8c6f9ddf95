"""A tuned classification configuration as R repeat members: trained on the training items,
its decision threshold chosen on validation items, saved as a model directory with what its
preparation learned (the vocabulary, or the channel scaler) in JSON, never pickle.

``predict_proba(items)`` is the members' mean probability (each member's too, with
``members=True``); ``predict(items)`` the class names at the threshold.
"""

from __future__ import annotations

import dataclasses
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
    complete,
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
    """The classifier of a verified model directory whose model.json is ``doc``."""
    from lstmtune.model._io import ModelError, read_weights

    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{path} has classifier format version "
                         f"{doc.get('format_version')!r}; this lstmtune reads version "
                         f"{FORMAT_VERSION}.")
    try:
        config = complete(doc["config"])
        spec = ModelSpec(**{**doc["spec"], "units": tuple(doc["spec"]["units"])})
        t = doc["task"]
        task = ClassificationTask(metric=t["metric"], n_classes=int(t["n_classes"]),
                                  inputs=t["inputs"])
        classes = tuple(str(c) for c in doc["classes"])
        fitted = dict(doc["fitted"])
        if "vocabulary" in fitted:
            fitted["vocabulary"] = Vocabulary.from_dict(fitted["vocabulary"])
        seeds = np.asarray(doc["seeds"], int)
        threshold = float(doc["threshold"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"{path / 'model.json'} is malformed ({exc!s:.80}); re-export the "
                         "model.") from None
    if task.model(config, n_features=spec.n_features) != spec or len(classes) != \
            task.n_classes:
        raise ModelError(f"{path / 'model.json'}: the saved model spec does not match its "
                         "configuration; re-export the model.")
    want = {k: (len(seeds), *v) for k, v in param_shapes(spec).items()}
    arrays = read_weights(path, want)
    return Classifier(config=config, spec=spec, params=nest_params(arrays), seeds=seeds,
                      task=task, classes=classes, fitted=fitted, threshold=threshold,
                      info=dict(doc.get("info", {})))
