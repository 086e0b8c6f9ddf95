"""Experiment files: every score as CSV, the box plot, one diagnostic plot per configuration
(train blue, scored window orange, every repeat a line, as seed 000 draws them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lstmtune._json import dumps


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") or "config"


def write_experiment(result, summary: list[dict[str, Any]], out: Path, *, prefix: str = ""
                     ) -> list[Path]:
    """Write scores CSV, box plot, diagnostics and the JSON summary; return the paths."""
    plt = _plt()
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    p = out / f"{prefix}scores.csv"
    result.scores.to_csv(p, index=False)
    paths.append(p)
    fig, ax = plt.subplots(figsize=(1.2 * len(summary) + 3, 4), dpi=100)
    ax.boxplot([result.values(e["label"]) for e in summary], tick_labels=[e["label"]
                                                                          for e in summary])
    ax.axhline(result.baseline["persistence"]["rmse"], color="grey", ls="--", lw=1,
               label="persistence")
    ax.set_ylabel(f"{result.window} RMSE")
    ax.set_xlabel(", ".join(result.spec.varied) or "configuration")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    p = out / f"{prefix}boxplot.png"
    fig.savefig(p)
    plt.close(fig)
    paths.append(p)
    for label, curves in result.histories.items():
        fig, ax = plt.subplots(figsize=(7, 4), dpi=90)
        for row in curves["train"]:
            ax.plot(curves["epochs"], row, color="tab:blue", lw=0.6, alpha=0.7)
        for row in curves["eval"]:
            ax.plot(curves["epochs"], row, color="tab:orange", lw=0.6, alpha=0.7)
        name = (f"{result.spec.varied[0]}={label}" if len(result.spec.varied) == 1
                else label)
        ax.set_title(f"{name}: train (blue) and {result.window} (orange) RMSE per epoch")
        ax.set_xlabel("epoch")
        ax.set_ylabel("RMSE")
        fig.tight_layout()
        p = out / f"{prefix}diagnostic_{_slug(label)}.png"
        fig.savefig(p)
        plt.close(fig)
        paths.append(p)
    p = out / f"{prefix}summary.json"
    p.write_text(dumps({"window": result.window, "baseline": result.baseline,
                        "results": summary}, indent=1))
    paths.append(p)
    return paths
