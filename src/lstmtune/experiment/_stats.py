"""Judging configurations on all their repeats: describe() tables and comparisons against the
best configuration with a bootstrap interval and two significance tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["describe", "compare", "summarize", "describe_table"]

STAT_KEYS = ("count", "mean", "std", "min", "25%", "50%", "75%", "max")


def describe(scores: np.ndarray) -> dict[str, float]:
    """pandas ``describe()`` of the finite scores (std with ddof=1, linear quantiles)."""
    s = pd.Series(np.asarray(scores, float))
    s = s[np.isfinite(s)]
    d = s.describe()
    return {k: float(d[k]) if k in d else float("nan") for k in STAT_KEYS}


def compare(best: np.ndarray, other: np.ndarray, *, n_boot: int = 2000, seed: int = 0
            ) -> dict[str, float]:
    """mean(other) - mean(best) with a percentile-bootstrap 95% interval (each sample
    resampled with replacement), Mann-Whitney U and Welch t two-sided p-values."""
    a, b = np.asarray(best, float), np.asarray(other, float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    out = {"diff_mean": float(b.mean() - a.mean()) if a.size and b.size else float("nan"),
           "ci_low": float("nan"), "ci_high": float("nan"),
           "p_mannwhitney": float("nan"), "p_welch": float("nan")}
    if a.size < 2 or b.size < 2:
        return out
    rng = np.random.default_rng(seed)
    diffs = (rng.choice(b, (n_boot, b.size)).mean(axis=1)
             - rng.choice(a, (n_boot, a.size)).mean(axis=1))
    out["ci_low"], out["ci_high"] = (float(x) for x in np.percentile(diffs, [2.5, 97.5]))
    if not np.array_equal(a, b):
        out["p_mannwhitney"] = float(stats.mannwhitneyu(b, a, alternative="two-sided").pvalue)
        with np.errstate(all="ignore"):
            out["p_welch"] = float(stats.ttest_ind(b, a, equal_var=False).pvalue)
    return out


def summarize(result) -> list[dict[str, Any]]:
    """One entry per configuration: its params, all scores, describe() and the comparison
    with the best configuration (lowest mean)."""
    per = []
    for c, label in zip(result.configs, result.labels, strict=True):
        rows = result.scores[result.scores["label"] == label]
        per.append((c, label, rows["score"].to_numpy(float),
                    int((rows["status"] == "failed").sum())))
    means = [np.nanmean(s) if np.isfinite(s).any() else np.inf for _, _, s, _ in per]
    best = int(np.argmin(means))
    varied = result.spec.varied
    out = []
    for i, (c, label, s, failed) in enumerate(per):
        entry = {"params": {n: c[n] for n in varied} if varied else {},
                 "label": label, "scores": [float(x) for x in s], "failed": failed,
                 **describe(s), "best": i == best}
        entry["vs_best"] = None if i == best else compare(per[best][2], s,
                                                           seed=result.spec.seed)
        steps = result.step_scores.get(label)
        if steps is not None:  # the mean over repeats of each horizon step's error
            entry["per_step"] = [float(np.nanmean(v)) if np.isfinite(v).any() else None
                                 for v in steps.T]
        out.append(entry)
    return out


def describe_table(summary: list[dict[str, Any]]) -> pd.DataFrame:
    """The seed's table: rows count..max, one column per configuration."""
    return pd.DataFrame({e["label"]: [e[k] for k in STAT_KEYS] for e in summary},
                        index=list(STAT_KEYS))
