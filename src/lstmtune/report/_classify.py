"""The sections of a classification study's report (seed 003): the split, the test metrics
beside the baselines, the confusion matrix, the PR and ROC curves of the retrained best (its
members as a band) and the genetic algorithm's fitness per generation (the paper's Fig. 6).
Pure functions of the stored tables (``lstmtune:final``), like the forecasting sections."""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmtune.report._html import esc, figure, fmt, kv, mean_std, note, section, table
from lstmtune.report._plots import curves_png, plt_, to_png

__all__ = ["classification_sections", "confusion_curves_png", "generations_png"]

METRICS = (("pr_auc", "PR-AUC"), ("roc_auc", "ROC-AUC"), ("accuracy", "accuracy"),
           ("precision", "precision"), ("recall", "recall"), ("f1", "F1"),
           ("log_loss", "log loss"))
NO_FINAL = ("The final evaluation has not run yet (the study is still searching, or was "
            "stopped): run `lstmtune tune` again to finish it.")


def _band(ax, x: np.ndarray, curves: np.ndarray, color: str, label: str) -> None:
    """Members' curves as their min–max band and median line."""
    ax.fill_between(x, curves.min(axis=0), curves.max(axis=0), color=color, alpha=0.25, lw=0,
                    label=f"{label}: members' range")
    ax.plot(x, np.median(curves, axis=0), color=color, lw=1.6, label=f"{label}: median")


def confusion_curves_png(final: dict[str, Any]) -> bytes | None:
    """Confusion matrix (members' mean probability at the validation threshold), and for
    two classes the PR and ROC curves of every member as a band."""
    cm = np.asarray(final.get("confusion") or [], float)
    if cm.size == 0:
        return None
    classes = final.get("classes") or [str(k) for k in range(len(cm))]
    curves = final.get("curves") or {}
    panels = 3 if curves.get("pr") else 1
    plt = plt_()
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3.8))
    axes = np.atleast_1d(axes)
    ax = axes[0]
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, f"{int(v)}", ha="center", va="center",
                color="white" if v > cm.max() / 2 else "black", fontsize=9)
    ax.set_xticks(range(len(classes)), classes, rotation=30, fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (test)", fontsize=9)
    if panels == 3:
        pr = curves["pr"]
        rec = np.asarray(pr[0]["recall"])
        _band(axes[1], rec, np.array([c["precision"] for c in pr]), "tab:blue", "LSTM")
        positive = final.get("split", {}).get("test", [0, 0])
        rate = positive[1] / max(1, sum(positive)) if len(positive) == 2 else None
        if rate is not None:
            axes[1].axhline(rate, color="0.5", ls="--", lw=1, label="no skill (positive rate)")
        axes[1].set_xlabel("recall")
        axes[1].set_ylabel("precision")
        axes[1].set_title("precision–recall (test)", fontsize=9)
        roc = curves["roc"]
        fpr = np.asarray(roc[0]["fpr"])
        _band(axes[2], fpr, np.array([c["tpr"] for c in roc]), "tab:orange", "LSTM")
        axes[2].plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="no skill")
        axes[2].set_xlabel("false positive rate")
        axes[2].set_ylabel("true positive rate")
        axes[2].set_title("ROC (test)", fontsize=9)
        for a in axes[1:]:
            a.set_xlim(0, 1)
            a.set_ylim(0, 1.02)
            a.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return to_png(fig)


def generations_png(ga: list[dict[str, Any]], label: str) -> bytes | None:
    """The GA's mean and best validation score per generation."""
    if len(ga) < 1:
        return None
    g = np.array([r["generation"] for r in ga])
    plt = plt_()
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    ax.plot(g, [r["mean"] for r in ga], marker="o", label="mean of the generation")
    ax.plot(g, [r["best"] for r in ga], marker="s", label="best of the generation")
    ax.set_xlabel("generation")
    ax.set_ylabel(f"validation {label}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return to_png(fig)


def _summary(t) -> str:
    m = t.meta
    f = t.final or {}
    d, s = f.get("data") or m.get("data") or {}, f.get("split") or {}
    classes = d.get("classes") or []
    counts = lambda part: ", ".join(f"{c} {n}" for c, n in zip(classes, s.get(part) or [],  # noqa: E731
                                                              strict=False)) or "–"
    pairs = [
        ("data", f"{d.get('name', '–')}: {d.get('n', '–')} {d.get('kind', '')} items, "
                 f"{len(classes) or '–'} classes"),
        ("split", f"training {counts('train')}; validation {counts('validation')}; test "
                  f"{counts('test')}" + (" (the source's own test part)"
                                         if s.get("test_from_source") else " (stratified)")),
        ("protocol", f"{m.get('repeats', '–')} repeats × {m.get('folds', '–')} validation "
                     f"draws per trial, aggregate {m.get('aggregate') or '–'}; final "
                     f"evaluation {m.get('final_repeats') or '–'} members; seed "
                     f"{m.get('seed', '–')}"),
        ("search", f"strategy {m.get('strategy') or '–'}, pruner {m.get('pruner') or 'none'}, "
                   f"budget {m.get('trials') or '–'} trials, objective "
                   f"{m.get('metric')} ({m.get('direction')})"),
        ("trials", f"{len(t.trials)}"),
        ("wall time", fmt(m.get("wall_seconds"), 1) + " s"),
        ("lstmtune", f"version {m.get('lstmtune_version') or '–'}, created "
                     f"{m.get('created') or '–'}"),
    ]
    space = m.get("space") or {}
    rows = [(k, v, "searched") for k, v in space.items()] + \
        [(k, str(v), "fixed") for k, v in (m.get("fixed") or {}).items()]
    body = kv(pairs) + (table(["hyperparameter", "values", ""], rows, left=(0, 1, 2))
                        if rows else "")
    return section("summary", "Summary", body)


def _best(t) -> str:
    f = t.final
    if f is None:
        return section("best", "Best configuration", note(NO_FINAL))
    test = f.get("test") or {}
    ens = test.get("ensemble") or {}
    rows = [[f"LSTM, trial #{f.get('best_trial')}: {test.get('repeats', '–')} members, "
             "mean ± sd", *(mean_std(test.get(k), test.get(f"{k}_std")) for k, _ in METRICS)],
            ["LSTM, the members' mean probability", *(fmt(ens.get(k)) for k, _ in METRICS)]]
    rows += [[name.replace("_", " "), *(fmt((b or {}).get(k)) for k, _ in METRICS)]
             for name, b in (f.get("baselines") or {}).items()]
    params = [(k, str(v)) for k, v in (f.get("best_params") or {}).items()]
    body = (f"<p>Selected on validation: trial #{esc(f.get('best_trial'))}, value "
            f"{esc(fmt(f.get('best_value')))}. Its members were trained again on the training "
            "items; the decision threshold (precision, recall, F1, confusion matrix) is the "
            f"one that maximises F1 on the validation items, "
            f"{esc(fmt(f.get('validation_threshold')))}. The test items were scored "
            "<strong>once</strong>, after the search; the baselines were fitted on the same "
            "training items and scored on the same test items.</p>"
            + table(["hyperparameter", "value"], params, left=(0, 1))
            + table(["model", *(label for _, label in METRICS)], rows, left=(0,),
                    row_class=["best"]))
    cm = f.get("confusion") or []
    classes = f.get("classes") or []
    if cm:
        body += ("<p>Confusion matrix (rows: true class, columns: predicted):</p>"
                 + table(["", *classes], [[c, *row] for c, row in zip(classes, cm,
                                                                       strict=False)],
                         left=(0,)))
    return section("best", "Best configuration", body)


def _curves(t) -> str:
    f = t.final
    if f is None:
        return section("classification", "Confusion matrix, PR and ROC curves", note(NO_FINAL))
    png = confusion_curves_png(f)
    n = len((f.get("curves") or {}).get("pr") or [])
    cap = ("Test items. Left: the confusion matrix of the members' mean probability at the "
           "validation threshold." + (f" Middle and right: the precision–recall and ROC "
                                     f"curves of each of the {n} members, drawn as their "
                                     "range (band) and median (line); dashed: no skill."
                                     if n else ""))
    return section("classification", "Confusion matrix, PR and ROC curves",
                   figure(png, "confusion matrix and curves", cap) if png else
                   note("No test predictions were stored."))


def _learning(t) -> str:
    if t.final is None:
        return section("curves", "Learning curves", note(NO_FINAL))
    png = None
    if not t.history.empty and {"train_loss", "val_log_loss"} <= set(t.history.columns):
        png = curves_png(t.history, "train_loss", "val_log_loss", "cross-entropy")
    cap = ("Per-epoch cross-entropy of the best configuration, every repeat × validation "
           "draw a thin line: the training loss (blue; class-weighted when class_weight is "
           "on) and the validation items' log loss (orange). Curves that part show "
           "over-fitting; a wide bundle shows sensitivity to initial weights.")
    return section("curves", "Learning curves", figure(png, "learning curves", cap) if png
                   else note("No per-epoch curves were stored."))


def _generations(t) -> str:
    ga = (t.final or {}).get("ga") or []
    if not ga:
        return ""
    label = str(t.meta.get("metric") or "").upper()
    png = generations_png(ga, label)
    rows = [[r["generation"], r["trials"], fmt(r["mean"]), fmt(r["best"])] for r in ga]
    cap = ("The genetic algorithm's validation score per generation: the mean of its "
           "individuals and the best one (seed 003's Figure 6). Carried individuals (approaches "
           "II and III) are not trained again and are counted in the generation they were "
           "trained in.")
    return section("generations", "Genetic algorithm: fitness per generation",
                   figure(png, "fitness per generation", cap)
                   + table(["generation", "trials", "mean", "best"], rows))


def classification_sections(generic: dict[str, Any]) -> tuple:
    """The report's builders for a classification study: its own summary, best and curves,
    and the task-free sections (leaderboard, repeats, history, importance, trials)."""
    return (_summary, generic["verdict"], generic["leaderboard"], _best, _curves, _learning,
            _generations, generic["repeats"], generic["history"], generic["importance"],
            generic["parallel"], generic["members"])
