"""Experiment files: every score as CSV, every per-epoch curve as CSV, the box plot, one
diagnostic plot per configuration (train blue, scored window orange, every repeat a line, as
seed 000 draws them) and the JSON summary. The experiment page
(:func:`lstmtune.report.experiment_report`) is rebuilt from these files alone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmtune._json import dumps
from lstmtune.report._plots import diagnostics_png, experiment_box_png

__all__ = ["write_experiment", "history_table", "HISTORY_COLUMNS"]

HISTORY_COLUMNS = ["label", "repeat", "epoch", "train_rmse", "eval_rmse"]
FILE_DPI = 100


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") or "config"


def curve_title(varied: list[str], label: str) -> str:
    """``units=4`` when one hyperparameter is varied, else the label itself."""
    return f"{varied[0]}={label}" if len(varied) == 1 else label


def history_table(result) -> pd.DataFrame:
    """Every configuration's per-epoch curves as one tidy table: label, repeat, epoch,
    train_rmse, eval_rmse (eval = the scored window). ``result.histories[label]`` holds
    ``train`` and ``eval`` (members × recorded epochs, members in repeat order) and
    ``epochs`` (the recorded epochs)."""
    frames = []
    for label, h in result.histories.items():
        train, scored = np.atleast_2d(h["train"]), np.atleast_2d(h["eval"])
        epochs = np.asarray(h["epochs"])
        m, e = train.shape
        reps = result.scores.loc[result.scores["label"] == label, "repeat"].to_numpy()
        reps = reps if len(reps) == m else np.arange(m)
        frames.append(pd.DataFrame({"label": label, "repeat": np.repeat(reps, e),
                                    "epoch": np.tile(epochs, m),
                                    "train_rmse": train.ravel(), "eval_rmse": scored.ravel()}))
    return pd.concat(frames, ignore_index=True) if frames else \
        pd.DataFrame(columns=HISTORY_COLUMNS)


def write_experiment(result, summary: list[dict[str, Any]], out: Path, *, prefix: str = ""
                     ) -> list[Path]:
    """Write scores CSV, history CSV (when curves were kept), box plot, diagnostics and the
    JSON summary into ``out``, every name starting with ``prefix``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    p = out / f"{prefix}scores.csv"
    result.scores.to_csv(p, index=False)
    paths.append(p)
    if result.histories:
        p = out / f"{prefix}history.csv"
        history_table(result).to_csv(p, index=False, float_format="%.7g")
        paths.append(p)
    p = out / f"{prefix}boxplot.png"
    p.write_bytes(experiment_box_png(
        [e["label"] for e in summary], [result.values(e["label"]) for e in summary],
        persistence=result.baseline["persistence"][result.spec.metric], window=result.window,
        xlabel=", ".join(result.spec.varied), metric=result.spec.task.label, dpi=FILE_DPI))
    paths.append(p)
    for label, curves in result.histories.items():
        p = out / f"{prefix}diagnostic_{_slug(label)}.png"
        p.write_bytes(diagnostics_png(
            [(curve_title(result.spec.varied, label), curves["epochs"], curves["train"],
              curves["eval"])], result.window, dpi=FILE_DPI))
        paths.append(p)
    p = out / f"{prefix}summary.json"
    p.write_text(dumps({"window": result.window, "metric": result.spec.metric,
                        "horizon": result.spec.task.horizon, "baseline": result.baseline,
                        "results": summary}, indent=1))
    paths.append(p)
    return paths
