"""A classification study (seed 003): the same study loop, strategies, storage and resume as
a forecasting study, on labelled items.

The split: the source's own test part when it has one (``aclImdb/test``, a UCR ``_TEST``
file), else ``test_size`` items drawn stratified by ``seed``; never read before the end.
Validation: ``val_size`` of the remaining items, stratified; with ``folds = k``, k such
draws (seeds ``seed + 1 …``), each a fold every candidate is scored on.  At the end the best
configuration's ``final_repeats`` members are trained on fold 0's training items, the
decision threshold is chosen on its validation items, and the test items are scored once —
beside the majority class and a bag-of-words logistic regression fitted on the same items.

Stored with the study (``lstmtune:final``): the task, the split, the best trial, every
member's test metrics, the baselines, the confusion matrix of the members' mean probability,
each member's PR and ROC curve on a common grid, and the GA's fitness per generation.
"""

from __future__ import annotations

import datetime as _dt
import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from lstmtune._json import jsonable
from lstmtune._version import __version__
from lstmtune.data import LabelledSequences, load_labelled, stratified_split
from lstmtune.errors import ConfigError, DataError
from lstmtune.evaluation import class_metrics, confusion, pr_curve, roc_curve_points
from lstmtune.model import Classifier, fit_classifier
from lstmtune.search._config import StudyConfig
from lstmtune.search._final import (
    FINAL,
    HISTORY,
    _history,
    describe_entry,
    refit_config,
    verdict,
)

__all__ = ["check_labelled", "read_items", "labelled_folds", "split_items", "final_classification",
           "ga_generations", "with_data"]


def read_items(cfg: StudyConfig) -> LabelledSequences:
    """The study file's labelled items."""
    d = cfg.data
    return load_labelled(d.source, text_col=d.text_col, label_col=d.label_col)


def with_data(cfg: StudyConfig, items: LabelledSequences) -> StudyConfig:
    """``cfg`` with what the data holds: its number of classes and kind of inputs."""
    return replace(cfg, data=replace(cfg.data, n_classes=len(items.classes), inputs=items.kind))


def has_test_part(items: LabelledSequences) -> bool:
    return items.part is not None and bool((items.part == "test").any())


def split_items(items: LabelledSequences, cfg: StudyConfig
                ) -> tuple[LabelledSequences, LabelledSequences]:
    """(training items, test items): the source's test part, or a stratified draw."""
    if has_test_part(items):
        train = np.flatnonzero(items.part == "train")
        test = np.flatnonzero(items.part == "test")
    else:
        train, test = stratified_split(items.labels, cfg.data.test_size, cfg.search.seed)
    return items.take(train), items.take(test)


def labelled_folds(train: LabelledSequences, cfg: StudyConfig):
    """``folds`` stratified validation draws of ``val_size`` (default: ``test_size``'s
    share) of the training items: ``((fit items, validation items), n_validation)``."""
    val = cfg.data.val_size or (cfg.data.test_size if isinstance(cfg.data.test_size, float)
                                else 0.2)
    out = []
    for k in range(cfg.data.folds):
        keep, held = stratified_split(train.labels, val, cfg.search.seed + 1 + k)
        out.append(((train.take(keep), train.take(held)), len(held)))
    return out


def _shown(text: str, width: int = 40) -> str:
    """``text`` quoted for a message, cut with an ellipsis."""
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def check_content(train: LabelledSequences, folds, cfg: StudyConfig) -> None:
    """Refuse, before the storage exists, training items with nothing to learn from: texts
    without a single word (the vocabulary would be empty), token sequences that are all
    padding, numeric sequences (or one of their channels) without a single value."""
    from lstmtune.data import tokenize

    where = f"'{cfg.data.source}'"
    parts = [("training items", train)] + [
        (f"training items of validation draw {k + 1}", fit)
        for k, ((fit, _), _) in enumerate(folds)]
    for what, items in parts:
        n = len(items)
        if items.kind == "text":
            if not any(tokenize(t) for t in items.texts):
                raise DataError(
                    f"the {n} {what} of {where} hold no words (e.g. "
                    f"{_shown(items.texts[0])}), so their vocabulary would be empty: a word is "
                    "a run of the letters a-z or the digits 0-9 (after lower-casing), so "
                    "punctuation, markup, emoji and other scripts hold none; check the text "
                    "column (--text-col), or give texts with such words.")
        elif items.kind == "tokens":
            if not any(np.any(np.asarray(q) != 0) for q in items.sequences):
                raise DataError(
                    f"every sequence of the {n} {what} of {where} is padding (all their token "
                    "ids are 0, the padding id), so there is nothing to learn from: check 'x' "
                    "(ids from 1 up are tokens), or add 1 to every id if 0 is a real token.")
        else:
            seen = np.zeros(items.channels, bool)
            for v in items.values:
                seen |= np.isfinite(np.asarray(v, float)).any(axis=0)
                if seen.all():
                    break
            if not seen.any():
                raise DataError(
                    f"every value of the {n} {what} of {where} is missing ('?' or NaN), so "
                    "there is nothing to learn from: check the file's values.")
            if not seen.all():
                missing = [int(c) + 1 for c in np.flatnonzero(~seen)]
                raise DataError(
                    f"channel(s) {missing[:5]} of the {n} {what} of {where} hold no value "
                    "(every one missing: '?' or NaN), so they cannot be scaled: drop the "
                    "channel from the file, or give it values.")


def check_items(train: LabelledSequences, folds, cfg: StudyConfig) -> None:
    """Refuse, before the storage exists, a split the classifier cannot learn from: a class
    with no training or no validation item, or training items with nothing to learn from
    (``check_content``)."""
    for (fit, held), _ in folds:
        for part, items in (("training", fit), ("validation", held)):
            missing = [train.classes[k] for k in range(len(train.classes))
                       if not (items.labels == k).any()]
            if missing:
                few = {train.classes[k]: int((train.labels == k).sum()) for k in
                       range(len(train.classes)) if train.classes[k] in missing}
                raise DataError(f"the {part} items of '{train.name}' have no item of class(es) "
                                f"{missing[:3]} (training items of each: {few}): every class "
                                "needs at least two training items, one to fit and one to "
                                "validate; add items of it or leave the class out.")
    check_content(train, folds, cfg)


def check_labelled(items: LabelledSequences, cfg: StudyConfig) -> StudyConfig:
    """Every refusal of a classification study before anything is written; returns the
    configuration with what the data holds (``with_data``)."""
    cfg = with_data(cfg, items)
    train, _ = split_items(items, cfg)
    folds = labelled_folds(train, cfg)
    check_items(train, folds, cfg)
    check_classifier_memory(cfg, items.channels, len(folds[0][0][0]))
    return cfg


def _largest(cfg: StudyConfig) -> dict[str, Any]:
    """The study's largest configuration: every searched number at its top."""
    c = dict(cfg.fixed)
    for name, entry in cfg.space.searched().items():
        if hasattr(entry, "high"):
            c[name] = int(entry.high) if entry.integer else float(entry.high)
        elif hasattr(entry, "values"):
            numbers = [v for v in entry.values if isinstance(v, int | float)
                       and not isinstance(v, bool)]
            if numbers:
                c[name] = max(numbers)
            elif True in entry.values:  # e.g. bidirectional: the larger model
                c[name] = True
    return c


def check_classifier_memory(cfg: StudyConfig, channels: int, items: int) -> None:
    """Refuse, before anything is written, a study whose largest population (the batch's
    candidates × folds × repeats at the space's largest units, input length, vocabulary and
    embedding) would need more than half of this machine's memory."""
    from lstmtune.engine import estimate_bytes
    from lstmtune.experiment import MEMORY_FRACTION, machine_memory

    total = machine_memory()
    if total is None:
        return
    task = cfg.task
    c = task.configure(_largest(cfg))
    spec = task.model(c, n_features=channels)
    s = cfg.search
    members = max(s.batch * cfg.data.folds * s.repeats, s.final_repeats)
    need = estimate_bytes(spec, members=members, batch_size=c["batch_size"], samples=items) \
        + 4 * members * items * spec.timesteps * channels  # the members' prepared items
    if need > MEMORY_FRACTION * total:
        gib = 2**30
        raise ConfigError(
            f"the largest population of this study ({members} classifiers of units="
            f"{c['units']}, input_length={c['input_length']}, vocab_size={c['vocab_size']}, "
            f"embed_dim={c['embed_dim']}, batch_size={c['batch_size']}) would need about "
            f"{need / gib:,.1f} GiB, more than half of this machine's {total / gib:.0f} GiB: "
            "lower those ranges, or train fewer at once ([search] batch, repeats, folds).")


def ga_generations(study: optuna.Study) -> list[dict[str, Any]]:
    """The GA's mean and best value per generation (the paper's Figure 6); [] without GA."""
    by_gen: dict[int, list[float]] = {}
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        g = t.system_attrs.get("ga:generation")
        if g is not None and g >= 0:
            by_gen.setdefault(int(g), []).append(float(t.value))
    maximise = study.direction == optuna.study.StudyDirection.MAXIMIZE
    return [{"generation": g, "mean": float(np.mean(v)),
             "best": float(max(v) if maximise else min(v)), "trials": len(v)}
            for g, v in sorted(by_gen.items())]


def _mean_std(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, float)
    a = a[np.isfinite(a)]
    return (float(a.mean()) if a.size else math.nan,
            float(a.std(ddof=1)) if a.size > 1 else math.nan)


def _refit(clf: Classifier, run, items: LabelledSequences, val: LabelledSequences, config,
           cfg: StudyConfig, progress: Callable[[str], None] | None, *, evaluated: int
           ) -> Classifier:
    """The evaluated classifier trained again on every labelled item (``[search] refit``;
    the vocabulary or scaler fitted on them all), keeping the threshold chosen on the
    held-out validation items; the evaluated members where every refit member diverges."""
    ev = {"items": int(evaluated)}  # the evaluated members' training items
    if not cfg.search.refit:
        return replace(clf, info={**clf.info, "refit": False, "evaluated": ev})
    R = cfg.search.final_repeats
    if progress:
        progress(f"refitting the best on all {len(items)} labelled items ({R} repeats): the "
                 "model predict uses")
    c = refit_config(config, run.table)
    new, rrun = fit_classifier(items, val, c, cfg.task, repeats=R,
                               seed=cfg.search.seed + 10_000)
    if (rrun.table["status"] == "failed").all():
        return replace(clf, info={**clf.info, "evaluated": ev,
                                  "refit": "not refit: every member diverged on all the items"})
    return replace(new, threshold=clf.threshold,
                   info={**clf.info, "refit": True, "n_fit": len(items), "evaluated": ev})


def final_classification(study: optuna.Study, train: LabelledSequences,
                         test: LabelledSequences, folds, cfg: StudyConfig, *, started: float,
                         test_from_source: bool = False,
                         progress: Callable[[str], None] | None = None
                         ) -> tuple[dict, dict, Classifier]:
    """Train the best configuration's members on fold 0, choose the threshold on its
    validation items, score the test items once; store the report's tables."""
    task = cfg.task
    best = study.best_trial
    config = task.configure({**dict(cfg.fixed), **best.params})
    (fit_items, val_items), _ = folds[0]
    R = cfg.search.final_repeats
    if progress:
        progress(f"training the best (trial {best.number}) {R} times on the training items, "
                 "threshold chosen on validation, scored once on the test items")
    clf, run = fit_classifier(fit_items, val_items, config, task, repeats=R,
                              seed=cfg.search.seed + 10_000)
    probs = clf.predict_proba(test, members=True)  # (R, N, K)
    failed = (run.table["status"] == "failed").to_numpy() | \
        ~np.isfinite(probs).all(axis=(1, 2))
    members = []
    for m in range(R):
        if failed[m]:
            members.append(None)
            continue
        members.append(class_metrics(test.labels, probs[m], clf.threshold))
    ok = [m for m in members if m is not None]
    if not ok:
        raise ConfigError(f"every one of the {R} final members of trial {best.number} "
                          "diverged (NaN/inf): lower the learning-rate range.")
    metrics = [k for k in ok[0] if k != "threshold"]
    test_scores = {"metric": task.metric, "repeats": R, "failed": int(failed.sum()),
                   "threshold": clf.threshold}
    for k in metrics:
        mean, std = _mean_std([m[k] for m in ok])
        test_scores[k], test_scores[f"{k}_std"] = mean, std
    test_scores["value"], test_scores["std"] = test_scores[task.metric], \
        test_scores[f"{task.metric}_std"]
    test_scores["scores"] = [m[task.metric] if m is not None else None for m in members]
    mean_prob = probs[~failed].mean(axis=0)
    test_scores["ensemble"] = class_metrics(test.labels, mean_prob, clf.threshold)
    baselines = task.baselines(fit_items, val_items, test)
    binary = len(train.classes) == 2
    curves = {}
    if binary:
        curves = {"pr": [pr_curve(test.labels, probs[m]) for m in range(R) if not failed[m]],
                  "roc": [roc_curve_points(test.labels, probs[m]) for m in range(R)
                          if not failed[m]]}
    clf = replace(clf, info={"study": study.study_name, "trial": best.number,
                             "lstmtune_version": __version__})
    test_scores["verdict"] = verdict(task.metric, task.direction,
                                     test_scores["ensemble"][task.metric],
                                     {k: v.get(task.metric, math.nan)
                                      for k, v in baselines.items()},
                                     members=test_scores["scores"], label=task.label,
                                     model=f"the mean of its {int((~failed).sum())} "
                                           "members' probabilities")
    clf = _refit(clf, run, train.join(test), val_items, config, cfg, progress,
                 evaluated=len(fit_items))
    if progress:
        progress("per-epoch curves of the best on the validation items")
    history = _history(folds, config, cfg, ("train_loss", "val_log_loss"))
    counts = lambda items: np.bincount(items.labels, minlength=len(train.classes)).tolist()  # noqa: E731
    final = {
        "best_trial": best.number, "best_params": best.params, "best_value": best.value,
        "metric": task.metric, "task": task.describe(), "config": dict(config),
        "test": test_scores, "members": members, "baselines": baselines,
        "verdict": test_scores["verdict"],
        "model": {k: clf.info.get(k) for k in ("refit", "evaluated", "n_fit")},
        "confusion": confusion(test.labels, mean_prob, clf.threshold).tolist(),
        "classes": list(train.classes), "curves": curves,
        "validation_threshold": clf.threshold,
        "ga": ga_generations(study),
        "data": {"name": train.name, "kind": train.kind, "n": len(train) + len(test),
                 "classes": list(train.classes)},
        "split": {"train": counts(fit_items), "validation": counts(val_items),
                  "test": counts(test), "folds": cfg.data.folds,
                  "test_from_source": test_from_source},
        "budget": {"trials": cfg.search.trials, "timeout": cfg.search.timeout,
                   "final_repeats": R},
        "space": {n: describe_entry(e) for n, e in cfg.space.entries},
        "wall_seconds": time.perf_counter() - started, "lstmtune_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    study.set_user_attr(FINAL, jsonable(final))
    study.set_user_attr(HISTORY, jsonable(history))
    return test_scores, baselines, clf
