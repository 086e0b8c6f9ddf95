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

import optuna
import pandas as pd
from optuna.trial import TrialState

from lstmtune.errors import ConfigError
from lstmtune.report._tables import StudyTables
from lstmtune.search import member_scores, storage_from_url
from lstmtune.search._final import FINAL, FORECAST, HISTORY

__all__ = ["load_study_tables", "resolve_study", "trials_table"]


def resolve_study(target: str, study_name: str | None = None) -> tuple[str, str]:
    """(storage URL, study name) for an output folder (its ``study.db``) or a storage URL;
    the name may be left out when the storage holds one study."""
    if "://" in target:
        url = target
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
    except Exception as exc:  # SQLAlchemy / journal errors: name the storage
        raise ConfigError(f"cannot read studies from {url}: {type(exc).__name__}: {exc}. "
                          "Check the URL.") from None
    if study_name is None:
        if len(names) != 1:
            raise ConfigError(f"{url} holds {len(names)} studies "
                              f"({', '.join(names) or 'none'}): choose one with --study-name.")
        return url, names[0]
    if study_name not in names:
        raise ConfigError(f"study '{study_name}' is not in {url}; it holds: "
                          f"{', '.join(names) or 'no study'}.")
    return url, study_name


def trials_table(study: optuna.Study) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(trials, members): one row per trial, and one per stored member score."""
    rows, members = [], []
    for t in study.get_trials(deepcopy=False):
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
        members += [{"trial": t.number, "fold": f, "repeat": r,
                     "score": math.nan if s is None else float(s), "epochs_trained": e}
                    for s, f, r, e in zip(scores, m.get("fold") or [0] * n,
                                          m.get("repeat") or range(n),
                                          m.get("epochs_trained") or [math.nan] * n,
                                          strict=True)]
    trials = pd.DataFrame(rows, columns=None if rows else ["number", "state", "value",
                                                            "duration_s", "datetime_start",
                                                            "fail_reason"])
    cols = ["trial", "fold", "repeat", "score", "epochs_trained"]
    return trials, pd.DataFrame(members, columns=cols)


def _importance(study: optuna.Study) -> tuple[pd.DataFrame, str | None]:
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    empty = pd.DataFrame(columns=["param", "importance", "evaluator"])
    if len(done) < 2:
        return empty, f"importance needs at least 2 completed trials ({len(done)} completed)."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            imp = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
    except (RuntimeError, ValueError, ZeroDivisionError) as exc:
        return empty, f"Optuna's fANOVA evaluator could not run: {exc}"
    if not imp:
        return empty, "no hyperparameter varied across the completed trials."
    return pd.DataFrame({"param": list(imp), "importance": list(imp.values()),
                         "evaluator": "fanova"}), None


def load_study_tables(storage: str, study_name: str) -> StudyTables:
    """Everything the report of ``study_name`` in ``storage`` shows."""
    study = optuna.load_study(study_name=study_name, storage=storage_from_url(storage))
    attrs = study.user_attrs
    config = json.loads(attrs.get("lstmtune:config", "{}"))
    search, data = config.get("search", {}), config.get("data", {})
    final = attrs.get(FINAL)
    trials, members = trials_table(study)
    importance, note = _importance(study)
    meta: dict[str, Any] = {
        "study_name": study_name, "storage": storage,
        "strategy": search.get("strategy"), "pruner": search.get("pruner"),
        "trials": search.get("trials"), "repeats": search.get("repeats"),
        "folds": data.get("folds"), "aggregate": search.get("aggregate"),
        "seed": search.get("seed"), "metric": "rmse",
        "fixed": dict(config.get("fixed", {})),
        "space": {n: desc for n, desc in config.get("space", [])}, "importance_note": note,
    }
    forecast = context = history = pd.DataFrame()
    if final is not None:
        meta |= {k: final.get(k) for k in ("data", "split", "wall_seconds", "created",
                                           "lstmtune_version")}
        meta["final_repeats"] = final.get("test", {}).get("repeats")
        meta["trials"] = final.get("budget", {}).get("trials")
        meta["space"] = final.get("space") or meta["space"]
        fc = attrs.get(FORECAST) or {}
        forecast = pd.DataFrame(fc.get("columns", {}))
        context = pd.DataFrame(fc.get("context", {}))
        history = pd.DataFrame(attrs.get(HISTORY) or {})
    else:
        meta |= {"data": {"name": data.get("source")}, "split": {
            "test_size": data.get("test_size"), "val_size": data.get("val_size"),
            "folds": data.get("folds")}}
    return StudyTables(meta=meta, trials=trials, members=members, importance=importance,
                       final=final, forecast=forecast, context=context, history=history)
