"""Read one study's stored tables into :class:`StudyTables`: Optuna's trials, the member
scores stored with each trial, and the tables ``tune`` stored at the end (see
``lstmtune.search._final``).  Hyperparameter importance is computed here, with Optuna's own
evaluators, so that the renderer stays a pure function of tables."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from lstmtune.errors import ConfigError
from lstmtune.report._tables import StudyTables
from lstmtune.search import (
    FINAL,
    FORECAST,
    HISTORY,
    describe_url,
    member_scores,
    storage_file,
    storage_from_url,
)

__all__ = ["load_study_tables", "resolve_study", "trials_table", "IMPORTANCE_TRIALS"]

IMPORTANCE_TRIALS = 500  # complete trials the fANOVA importance is computed on, at most
IMPORTANCE_SEED = 0  # which ones, when there are more (a seeded uniform sample)
MEMBER_COLUMNS = ("trial", "fold", "repeat", "score", "epochs_trained")


def resolve_study(target: str, study_name: str | None = None) -> tuple[str, str]:
    """(storage URL, study name) for an output folder (its ``study.db``) or a storage URL;
    the name may be left out when the storage holds one study."""
    if "://" in target:
        url = target
        path = storage_file(url)
        if path is not None and not path.is_file():  # opening it would create an empty one
            raise ConfigError(f"storage {describe_url(url)}: '{path}' does not exist; give the "
                              "file a study was stored in.")
    else:
        folder = Path(target)
        db = folder / "study.db" if folder.is_dir() else folder
        if not db.is_file():
            hint = (" (it holds an experiment: its report is written by `lstmtune report` "
                    "too, from the files)") if (folder / "summary.json").is_file() else ""
            raise ConfigError(f"'{target}' has no study.db{hint}: pass the --out folder of "
                              "`lstmtune tune`, or a storage URL with --study-name.")
        url = f"sqlite:///{db.resolve()}"
    try:
        names = [s.study_name for s in optuna.get_all_study_summaries(
            storage_from_url(url), include_best_trial=False)]
    except ConfigError:
        raise
    except Exception as exc:  # SQLAlchemy / journal errors: name the storage
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise ConfigError(f"cannot read studies from {describe_url(url)}: "
                          f"{type(exc).__name__}: {first}. Check the URL.") from None
    if study_name is None:
        if len(names) != 1:
            raise ConfigError(f"{describe_url(url)} holds {len(names)} studies "
                              f"({', '.join(names) or 'none'}): choose one with --study-name.")
        return url, names[0]
    if study_name not in names:
        raise ConfigError(f"study '{study_name}' is not in {describe_url(url)}; it holds: "
                          f"{', '.join(names) or 'no study'}.")
    return url, study_name


def trials_table(study: optuna.Study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(trials, members): one row per trial, and one per stored member score."""
    return _frames(study.get_trials(deepcopy=False))


def _frames(trials: list[FrozenTrial]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`trials_table` of a list of trials, read once: columns are built as lists (one
    pass, no per-row dicts for the members, which are repeats × folds per trial)."""
    rows = []
    mcols: dict[str, list] = {c: [] for c in MEMBER_COLUMNS}
    for t in trials:
        dur = (t.datetime_complete - t.datetime_start).total_seconds() \
            if t.datetime_complete and t.datetime_start else math.nan
        rows.append({"number": t.number, "state": t.state.name,
                     "value": t.value if t.state == TrialState.COMPLETE else math.nan,
                     "duration_s": dur,
                     "datetime_start": t.datetime_start.isoformat() if t.datetime_start
                     else None, "fail_reason": t.user_attrs.get("fail_reason"),
                     **{f"param_{k}": v for k, v in t.params.items()}})
        m = t.user_attrs.get("members") or {}  # older studies stored only "scores"
        scores = member_scores(t)
        n = len(scores)
        if not n:
            continue
        fold, repeat = m.get("fold") or [0] * n, m.get("repeat") or range(n)
        epochs = m.get("epochs_trained") or [math.nan] * n
        if not len(fold) == len(repeat) == len(epochs) == n:
            raise ConfigError(f"trial {t.number}: stored members have {n} scores but "
                              f"{len(fold)} folds, {len(repeat)} repeats and {len(epochs)} "
                              "epoch counts; the study's 'members' attribute is damaged.")
        mcols["trial"] += [t.number] * n
        mcols["fold"] += fold
        mcols["repeat"] += repeat
        mcols["score"] += [math.nan if s is None else float(s) for s in scores]
        mcols["epochs_trained"] += epochs
    table = pd.DataFrame(rows, columns=None if rows else ["number", "state", "value",
                                                           "duration_s", "datetime_start",
                                                           "fail_reason"])
    members = pd.DataFrame(mcols, columns=list(MEMBER_COLUMNS))
    members["score"] = members["score"].astype(float)
    return table, members


def _importance(done: list[FrozenTrial], directions) -> tuple[pd.DataFrame, str | None,
                                                               dict[str, int]]:
    """fANOVA importance over the complete trials ``done``; above ``IMPORTANCE_TRIALS`` of
    them, over a random ``IMPORTANCE_TRIALS`` (seed ``IMPORTANCE_SEED``, so a report is
    reproducible): the evaluator's forest costs grow faster than linearly with the trials
    (2,000 trials take ~10× as long as 500 on 14 hyperparameters), and a uniform sample
    estimates the same shares of variance.  Returns (table, note, {used, complete})."""
    empty = pd.DataFrame(columns=["param", "importance", "evaluator"])
    used = {"used": len(done), "complete": len(done)}
    if len(done) < 2:
        return empty, f"importance needs at least 2 completed trials ({len(done)} completed).", \
            used
    if len(done) > IMPORTANCE_TRIALS:
        pick = np.sort(np.random.default_rng(IMPORTANCE_SEED).choice(
            len(done), IMPORTANCE_TRIALS, replace=False))
        done = [done[i] for i in pick]
        used["used"] = len(done)
    sample = optuna.create_study(directions=directions)  # in memory: only the sample
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sample.add_trials(done)
            imp = optuna.importance.get_param_importances(
                sample, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
    except (RuntimeError, ValueError, ZeroDivisionError) as exc:
        return empty, f"Optuna's fANOVA evaluator could not run: {exc}", used
    if not imp:
        return empty, "no hyperparameter varied across the completed trials.", used
    return pd.DataFrame({"param": list(imp), "importance": list(imp.values()),
                         "evaluator": "fanova"}), None, used


def load_study_tables(storage: str, study_name: str, *,
                      study: optuna.Study | None = None) -> StudyTables:
    """Everything the report of ``study_name`` in ``storage`` shows.  ``study``: that study
    already open (e.g. ``TuneResult.study`` right after ``tune``): its trials are read from
    it, not from the storage a second time (at 10,000 trials that second read costs ~6 s
    and a second copy of every trial in memory)."""
    if study is None:
        study = optuna.load_study(study_name=study_name, storage=storage_from_url(storage))
    attrs = study.user_attrs
    config = json.loads(attrs.get("lstmtune:config", "{}"))
    search, data = config.get("search", {}), config.get("data", {})
    final = attrs.get(FINAL)
    every = study.get_trials(deepcopy=False)  # read once, shared with the importance
    trials, members = _frames(every)
    maximise = study.direction == optuna.study.StudyDirection.MAXIMIZE
    if not trials.empty:  # what "better" sorts by: lower is better in either direction
        trials["loss"] = -trials["value"] if maximise else trials["value"]
    importance, note, used = _importance(
        [t for t in every if t.state == TrialState.COMPLETE], study.directions)
    del every
    meta: dict[str, Any] = {
        "study_name": study_name, "storage": storage,
        "strategy": search.get("strategy"), "pruner": search.get("pruner"),
        "trials": search.get("trials"), "repeats": search.get("repeats"),
        "folds": data.get("folds"), "aggregate": search.get("aggregate"),
        "seed": search.get("seed"), "metric": search.get("metric", "rmse"),
        "direction": "maximize" if maximise else "minimize",
        "task": data.get("task", "forecast"),
        "fixed": dict(config.get("fixed", {})),
        "space": {n: desc for n, desc in config.get("space", [])}, "importance_note": note,
        "importance_trials": used,
    }
    forecast = context = history = pd.DataFrame()
    series: dict[str, Any] = {}
    if final is not None:
        meta |= {k: final.get(k) for k in ("data", "split", "wall_seconds", "created",
                                           "lstmtune_version")}
        meta["final_repeats"] = final.get("test", {}).get("repeats")
        meta["trials"] = final.get("budget", {}).get("trials")
        meta["space"] = final.get("space") or meta["space"]
        fc = attrs.get(FORECAST) or {}
        if meta["task"] == "panel":  # one test window per series, by id
            series, fc = fc, {}
        forecast = pd.DataFrame(fc.get("columns", {}))
        context = pd.DataFrame(fc.get("context", {}))
        history = pd.DataFrame(attrs.get(HISTORY) or {})
    else:
        meta |= {"data": {"name": data.get("source")}, "split": {
            "test_size": data.get("test_size"), "val_size": data.get("val_size"),
            "folds": data.get("folds")}}
    return StudyTables(meta=meta, trials=trials, members=members, importance=importance,
                       final=final, forecast=forecast, context=context, history=history,
                       series=series)
