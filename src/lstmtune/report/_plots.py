"""Plots of a study's tables, each a pure function returning PNG bytes (or ``None`` when the
table holds nothing to draw). matplotlib is imported lazily, with the Agg backend.

Sizes stay bounded whatever the trial count: plots of every complete trial (history,
parallel coordinates, slices) draw at most ``SAMPLE_BEST + SAMPLE_OTHERS`` of them
(:func:`sample_complete`: the best by value and a seeded random choice of the others;
:func:`sample_phrase` says so in words for the captions), marks of pruned and failed trials
at most ``MARKS`` each, and every PNG is stored with an 8-bit palette (:func:`to_png`).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plt_", "to_png", "log_scale", "sample_complete", "sample_phrase", "is_categorical",
           "draw_curves", "repeats_png",
           "curves_png", "history_png", "importance_png", "parallel_png", "slices_png",
           "forecast_png", "residuals_png", "experiment_box_png", "diagnostics_png"]

DPI = 80
TRAIN, EVAL = "tab:blue", "tab:orange"
SAMPLE_BEST, SAMPLE_OTHERS, SAMPLE_SEED = 500, 1000, 0  # complete trials drawn, at most
MARKS = 1000  # pruned (and failed) trials marked along the history's bottom edge, at most
MAX_WIDTH = 13.0  # inches: ~1,000 pixels at DPI, about the page's width


def plt_():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def to_png(fig, dpi: int = DPI) -> bytes:
    """The figure as PNG bytes (closed afterwards; no timestamp, so output is reproducible)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    plt_().close(fig)
    return _palette(buf.getvalue())


def _palette(png: bytes) -> bytes:
    """The PNG with an 8-bit palette of at most 256 colours (median cut, no dithering): a
    plot's few colours and their antialiasing shades survive, and the file is 2-3x smaller
    than matplotlib's RGBA (Pillow, a dependency of matplotlib; deterministic)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        pal = im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT,
                                         dither=Image.Dither.NONE)
    out = io.BytesIO()
    pal.save(out, format="png", optimize=True)
    return out.getvalue()


def _finite(values: Any) -> np.ndarray:
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float)
    return v[np.isfinite(v)]


def log_scale(values: Any) -> bool:
    """True when the finite values are all positive and span more than two decades."""
    v = _finite(values)
    return v.size > 1 and bool((v > 0).all()) and v.max() / v.min() > 100


def is_categorical(col: pd.Series) -> bool:
    """A parameter column holds categories when any value is not a plain number."""
    vals = col.dropna()
    return any(isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.number)
               for v in vals)


def _complete(trials: pd.DataFrame) -> pd.DataFrame:
    done = trials[(trials["state"] == "COMPLETE")]
    return done[np.isfinite(pd.to_numeric(done["value"], errors="coerce"))]


def loss(trials: pd.DataFrame) -> pd.Series:
    """What ranks trials, lower better: the ``loss`` column (the value, negated when the
    study maximises), or the value where a table has none."""
    return trials["loss"] if "loss" in trials else trials["value"]


def sample_complete(trials: pd.DataFrame) -> pd.DataFrame:
    """The complete trials a plot of every trial draws, in their order: all of them up to
    ``SAMPLE_BEST + SAMPLE_OTHERS``; above that the ``SAMPLE_BEST`` best by value (ties by
    number) and a random ``SAMPLE_OTHERS`` of the others (seed ``SAMPLE_SEED``: the same
    trials in every plot and every rendering)."""
    done = _complete(trials)
    if len(done) <= SAMPLE_BEST + SAMPLE_OTHERS:
        return done
    order = np.lexsort((done["number"].to_numpy(), loss(done).to_numpy(float)))
    rest = np.random.default_rng(SAMPLE_SEED).choice(order[SAMPLE_BEST:], SAMPLE_OTHERS,
                                                     replace=False)
    return done.iloc[np.sort(np.concatenate([order[:SAMPLE_BEST], rest]))]


def sample_phrase(n_complete: int) -> str | None:
    """What :func:`sample_complete` keeps of ``n_complete`` trials, in words (None: all)."""
    if n_complete <= SAMPLE_BEST + SAMPLE_OTHERS:
        return None
    return (f"the best {SAMPLE_BEST:,} and a random {SAMPLE_OTHERS:,} of the other "
            f"{n_complete - SAMPLE_BEST:,} complete trials")


def _at_most(values: np.ndarray, k: int) -> np.ndarray:
    """``values`` or a seeded random ``k`` of them, in order."""
    if values.size <= k:
        return values
    return np.sort(np.random.default_rng(SAMPLE_SEED).choice(values, k, replace=False))


def _blues(low: float, high: float):
    """Part of matplotlib's Blues, so that no line or dot fades into the white page."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    return ListedColormap(colormaps["Blues"](np.linspace(low, high, 256)))


def _short(x: float) -> str:
    return f"{x:.3g}"


def repeats_png(trials: pd.DataFrame, members: pd.DataFrame, top: int = 10,
                metric: str = "RMSE") -> bytes | None:
    """Box plots of the member scores of the ``top`` best complete trials, best first."""
    done = _complete(trials)
    best = done.assign(_rank=loss(done)).sort_values(["_rank", "number"]).head(top)
    if members.empty or best.empty:
        return None
    mine = members[members["trial"].isin(best["number"])]
    by = {n: g["score"].to_numpy(float) for n, g in mine.groupby("trial")}
    raw = [by.get(n, np.empty(0)) for n in best["number"]]
    data = [r[np.isfinite(r)] for r in raw]  # failed (diverged) members: counted, not drawn
    failed = [r.size - d.size for r, d in zip(raw, data, strict=True)]
    keep = [i for i, d in enumerate(data) if d.size]
    if not keep:
        return None
    plt = plt_()
    fig, ax = plt.subplots(figsize=(max(5.0, 0.7 * len(keep) + 2.5), 3.6))
    pos = np.arange(1, len(keep) + 1)
    ax.boxplot([data[i] for i in keep], positions=pos, widths=0.55, showfliers=False,
               tick_labels=[f"#{int(best['number'].iloc[i])}"
                            + (f"\n{failed[i]} failed" if failed[i] else "") for i in keep])
    rng = np.random.default_rng(0)
    for p, i in zip(pos, keep, strict=True):
        ax.scatter(p + rng.uniform(-0.12, 0.12, data[i].size), data[i], s=9, color="0.35",
                   alpha=0.7, zorder=3, lw=0)
    ax.scatter(pos, best["value"].to_numpy(float)[keep], marker="D", s=22, color="tab:red",
               zorder=4, label="trial value (aggregate)")
    if log_scale(np.concatenate([data[i] for i in keep])):
        ax.set_yscale("log")
    ax.set_xlabel("trial (best first)")
    ax.set_ylabel(f"validation {metric}")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return to_png(fig)


def draw_curves(ax, epochs: np.ndarray, train: np.ndarray, val: np.ndarray,
                eval_name: str = "validation", ylabel: str = "RMSE") -> None:
    """Every member's curve a thin line on ``ax``: train blue, scored window orange."""
    for row in np.atleast_2d(train):
        ax.plot(epochs, row, color=TRAIN, lw=0.6, alpha=0.7)
    for row in np.atleast_2d(val):
        ax.plot(epochs, row, color=EVAL, lw=0.6, alpha=0.7)
    ax.plot([], [], color=TRAIN, label="train")
    ax.plot([], [], color=EVAL, label=eval_name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)


def curves_png(history: pd.DataFrame, train: str = "train_rmse", val: str = "val_rmse",
               ylabel: str = "RMSE") -> bytes | None:
    """Per-epoch train and validation curves (columns ``train``, ``val``) of every
    (repeat, fold) of the best."""
    if history.empty:
        return None
    plt = plt_()
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for _, g in history.sort_values("epoch").groupby(["repeat", "fold"], sort=True):
        draw_curves(ax, g["epoch"].to_numpy(float), g[train].to_numpy(float)[None],
                    g[val].to_numpy(float)[None], ylabel=ylabel)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[:2], labels[:2], fontsize=8)
    n = history.groupby(["repeat", "fold"]).ngroups
    ax.set_title(f"best configuration: {n} curves (repeat × fold)", fontsize=10)
    fig.tight_layout()
    return to_png(fig)


def history_png(trials: pd.DataFrame, metric: str = "RMSE") -> bytes | None:
    """Trial value per trial number (dots), best so far (step line), pruned and failed trials
    as marks along the bottom edge."""
    if trials.empty:
        return None
    done = _complete(trials).sort_values("number")
    shown = sample_complete(trials).sort_values("number")
    plt = plt_()
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    if not done.empty:
        x, y = done["number"].to_numpy(float), done["value"].to_numpy(float)
        ax.scatter(shown["number"].to_numpy(float), shown["value"].to_numpy(float), s=14,
                   color="tab:blue", alpha=0.75, lw=0,
                   label=f"complete ({len(done):,}" + (f"; {len(shown):,} drawn)"
                                                       if len(shown) < len(done) else ")"))
        sign = 1.0 if loss(done).equals(done["value"]) else -1.0  # -1: maximised
        best = sign * np.fmin.accumulate(sign * y)  # every trial counts; improvements drawn
        steps = np.flatnonzero(np.r_[True, sign * best[1:] < sign * best[:-1]])
        right = float(trials["number"].max())
        ax.step(np.append(x[steps], right), np.append(best[steps], best[-1]), where="post",
                color="tab:red", lw=1.4, label="best so far")
        if log_scale(y):
            ax.set_yscale("log")
        else:  # room along the bottom edge for the pruned and failed marks
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo - 0.08 * (hi - lo), hi)
    edge = ax.get_xaxis_transform()  # x in data, y in axes units
    for state, mark, color in (("PRUNED", "|", "0.45"), ("FAIL", "x", "tab:red")):
        n = trials.loc[trials["state"] == state, "number"].to_numpy(float)
        if n.size:
            drawn = _at_most(n, MARKS)
            ax.scatter(drawn, np.full(drawn.size, 0.03), transform=edge, marker=mark, s=30,
                       color=color, lw=1,
                       label=f"{'failed' if state == 'FAIL' else 'pruned'} ({n.size:,})")
    ax.set_xlabel("trial number")
    ax.set_ylabel(f"trial value (validation {metric})")
    ax.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.01), ncol=4, frameon=False)
    fig.tight_layout()
    return to_png(fig)


def importance_png(importance: pd.DataFrame) -> bytes | None:
    """Horizontal bars, the most important parameter on top."""
    if importance.empty:
        return None
    imp = importance.sort_values("importance")
    plt = plt_()
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(imp) + 1.3))
    v = imp["importance"].to_numpy(float)
    ax.barh(imp["param"].astype(str), v, color="tab:blue")
    for i, x in enumerate(v):
        ax.text(x, i, f" {x:.2f}", va="center", fontsize=8)
    ax.set_xlim(0, max(1.0, float(np.nanmax(v)) * 1.15) if np.isfinite(v).any() else 1.0)
    ev = imp["evaluator"].iloc[0] if "evaluator" in imp else ""
    ax.set_xlabel(f"importance ({ev})" if ev else "importance")
    fig.tight_layout()
    return to_png(fig)


MISSING = -0.1  # where a trial without this parameter (a conditional one) is drawn


def axis_positions(col: pd.Series) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """Values mapped to [0, 1] and the ticks to label the axis with: categories evenly
    spaced, numbers linearly (log10 when they span more than two decades); NaN → MISSING."""
    missing = col.isna().to_numpy()
    if is_categorical(col):
        cats = sorted({str(v) for v in col.dropna()})
        where = {c: (0.5 if len(cats) == 1 else i / (len(cats) - 1))
                 for i, c in enumerate(cats)}
        pos = np.array([MISSING if m else where[str(v)] for v, m in zip(col, missing,
                                                                         strict=True)])
        ticks = [(where[c], c) for c in cats]
    else:
        v = pd.to_numeric(col, errors="coerce").to_numpy(float)
        missing = ~np.isfinite(v)
        log = log_scale(v)
        t = np.log10(np.where(missing, 1.0, v)) if log else v
        lo, hi = (float(np.min(t[~missing])), float(np.max(t[~missing]))) \
            if (~missing).any() else (0.0, 1.0)
        span = hi - lo
        pos = np.where(missing, MISSING, 0.5 if span == 0 else (t - lo) / (span or 1.0))
        back = (lambda u: 10 ** u) if log else (lambda u: u)  # noqa: E731
        ticks = [(0.5, _short(back(lo)))] if span == 0 else \
            [(q, _short(back(lo + q * span))) for q in (0.0, 0.5, 1.0)]
        if log:
            ticks[-1] = (ticks[-1][0], ticks[-1][1] + " (log)")
    if missing.any():
        ticks.append((MISSING, "unset"))
    return pos, ticks


def parallel_png(trials: pd.DataFrame, params: list[str]) -> bytes | None:
    """Parallel coordinates of the complete trials: one axis per parameter and one for the
    value, every trial a line coloured by its value (best drawn last, on top)."""
    done = sample_complete(trials)
    done = done.assign(_rank=loss(done)).sort_values("_rank", ascending=False)
    if done.empty:
        return None
    from matplotlib.collections import LineCollection
    from matplotlib.colors import LogNorm, Normalize

    plt = plt_()
    cols = [done[f"param_{p}"] for p in params] + [done["value"]]
    names = [*params, "value"]
    axes = [axis_positions(c) for c in cols]
    ys = np.column_stack([p for p, _ in axes])
    xs = np.arange(len(names), dtype=float)
    value = done["value"].to_numpy(float)
    norm = LogNorm(value.min(), value.max()) if log_scale(value) else \
        Normalize(value.min(), value.max() if value.max() > value.min() else value.min() + 1)
    width = min(MAX_WIDTH, max(5.5, 1.7 * len(names) + 1.5))
    fig, ax = plt.subplots(figsize=(width, 4.0))
    lines = LineCollection([np.column_stack([xs, y]) for y in ys], cmap=_blues(1.0, 0.3),
                           norm=norm, lw=0.8, alpha=0.6)
    lines.set_array(value)
    ax.add_collection(lines)
    ax.plot(xs, ys[-1], color="tab:red", lw=2.0, label="best")
    for x, (_, ticks) in zip(xs, axes, strict=True):
        ax.axvline(x, color="0.25", lw=0.8)
        for y, text in ticks:
            ax.text(x + 0.03, y, text, fontsize=7, va="center", ha="left",
                    bbox={"fc": "white", "ec": "none", "alpha": 0.7, "pad": 0.5})
    ax.set_xlim(-0.2, len(names) - 1 + 0.6)
    ax.set_ylim(MISSING - 0.06, 1.06)
    crowded = width / len(names) < 1.2
    ax.set_xticks(xs, names, fontsize=7 if crowded else 8, rotation=25 if crowded else 0,
                  ha="right" if crowded else "center")
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=8, loc="upper right", bbox_to_anchor=(1.0, 1.12), frameon=False)
    better = "lower" if loss(done).equals(done["value"]) else "higher"
    fig.colorbar(lines, ax=ax, label=f"value ({better} is better)", pad=0.02)
    fig.tight_layout()
    return to_png(fig)


def slices_png(trials: pd.DataFrame, params: list[str], per_row: int = 4) -> bytes | None:
    """Value against each parameter, one small panel each, dots coloured by trial number."""
    done = sample_complete(trials)
    if done.empty or not params:
        return None
    plt = plt_()
    rows = -(-len(params) // per_row)
    cols = min(per_row, len(params))
    fig, axs = plt.subplots(rows, cols, figsize=(2.6 * cols + 0.8, 2.4 * rows + 0.3),
                            sharey=True, squeeze=False, layout="constrained")
    value = done["value"].to_numpy(float)
    rng = np.random.default_rng(0)
    dots = None
    for ax, p in zip(axs.ravel(), params, strict=False):
        col = done[f"param_{p}"]
        if is_categorical(col):
            cats = sorted({str(v) for v in col.dropna()})
            x = np.array([cats.index(str(v)) if pd.notna(v) else np.nan for v in col], float)
            x = x + rng.uniform(-0.15, 0.15, x.size)
            ax.set_xticks(range(len(cats)), cats, fontsize=7, rotation=20)
        else:
            x = pd.to_numeric(col, errors="coerce").to_numpy(float)
            if log_scale(x):
                ax.set_xscale("log")
        dots = ax.scatter(x, value, c=done["number"].to_numpy(float), cmap=_blues(0.3, 1.0), s=12,
                          edgecolors="0.3", linewidths=0.3, vmin=0,
                          vmax=max(1.0, float(trials["number"].max())))
        ax.set_xlabel(p, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axs.ravel()[len(params):]:
        ax.set_visible(False)
    if log_scale(value):
        axs[0, 0].set_yscale("log")
    for r in range(rows):
        axs[r, 0].set_ylabel("value", fontsize=8)
    fig.colorbar(dots, ax=axs.ravel().tolist(), label="trial number", pad=0.02)
    return to_png(fig)


def _time_ticks(ax, labels: list[str], positions: np.ndarray, n: int = 8) -> None:
    if not labels:
        return
    idx = np.unique(np.linspace(0, len(labels) - 1, min(n, len(labels))).round().astype(int))
    ax.set_xticks(positions[idx], [labels[i] for i in idx], rotation=30, ha="right",
                  fontsize=7)


def forecast_png(forecast: pd.DataFrame, context: pd.DataFrame) -> bytes | None:
    """The test window: the series before it, the actual values, the ensemble mean with the
    member band shaded, and every baseline as a thin line."""
    if forecast.empty:
        return None
    plt = plt_()
    n, c = len(forecast), len(context)
    xt = np.arange(n, dtype=float)
    fig, ax = plt.subplots(figsize=(8.5, 3.9))
    if c:
        xc = np.arange(-c, 0, dtype=float)
        ax.plot(np.append(xc, 0.0), np.append(context["actual"].to_numpy(float),
                                              forecast["actual"].iloc[0]),
                color="black", lw=1.2, label="actual")
    ax.axvspan(-0.5, n - 0.5, color="0.93", zorder=0)
    ax.plot(xt, forecast["actual"].to_numpy(float), color="black", lw=1.2, marker="o", ms=3,
            label=None if c else "actual")
    if {"low", "high"} <= set(forecast):
        ax.fill_between(xt, forecast["low"].to_numpy(float), forecast["high"].to_numpy(float),
                        color="tab:blue", alpha=0.22, lw=0, label="member band")
    ax.plot(xt, forecast["mean"].to_numpy(float), color="tab:blue", lw=1.8, marker="o", ms=3,
            label="ensemble mean")
    styles = ["--", ":", "-.", (0, (5, 1, 1, 1))]
    base = [b for b in forecast.columns if b.startswith("baseline_")]
    for i, b in enumerate(base):
        ax.plot(xt, forecast[b].to_numpy(float), lw=0.9, ls=styles[i % len(styles)],
                color=f"C{(i + 2) % 10}", label=b[len("baseline_"):])
    labels = [*map(str, context["time"]), *map(str, forecast["time"])] \
        if "time" in forecast and (not c or "time" in context) else []
    _time_ticks(ax, labels, np.arange(-c, n, dtype=float))
    ax.legend(fontsize=7, ncol=3, loc="upper left")
    ax.set_ylabel("value")
    fig.tight_layout()
    return to_png(fig)


def member_columns(forecast: pd.DataFrame) -> list[str]:
    return [m for m in forecast.columns if m.startswith("member_")]


def residuals_png(forecast: pd.DataFrame) -> bytes | None:
    """Left: actual − ensemble mean per test step (bars) with every member's residual (dots);
    right: histogram of all member residuals."""
    if forecast.empty:
        return None
    plt = plt_()
    actual = forecast["actual"].to_numpy(float)
    res = actual - forecast["mean"].to_numpy(float)
    members = member_columns(forecast)
    mres = (actual[:, None] - forecast[members].to_numpy(float)) if members else \
        np.empty((len(actual), 0))
    fig, (a, b) = plt.subplots(1, 2, figsize=(8.5, 3.2), width_ratios=(2, 1))
    steps = forecast["step"].to_numpy(int) if "step" in forecast else \
        np.arange(1, len(actual) + 1)
    a.bar(steps, res, color=np.where(res >= 0, "tab:green", "tab:purple"), alpha=0.8,
          label="actual − mean")
    if mres.size:
        a.scatter(np.repeat(steps, mres.shape[1]), mres.ravel(), s=8, color="0.3", lw=0,
                  alpha=0.7, label="actual − member", zorder=3)
    a.axhline(0, color="black", lw=0.8)
    a.set_xlabel("test step")
    a.set_ylabel("residual")
    a.legend(fontsize=7)
    flat = mres[np.isfinite(mres)] if mres.size else res[np.isfinite(res)]
    if flat.size:
        b.hist(flat, bins=min(20, max(5, flat.size // 4)), color="0.6")
    b.axvline(0, color="black", lw=0.8)
    if np.isfinite(res).any():
        b.axvline(float(np.nanmean(res)), color="tab:red", lw=1.2, label="mean residual")
        b.legend(fontsize=7)
    b.set_xlabel("member residual")
    fig.tight_layout()
    return to_png(fig)


def experiment_box_png(labels: list[str], values: list[np.ndarray], *, persistence: float,
                       window: str, xlabel: str, metric: str = "RMSE", dpi: int = DPI
                       ) -> bytes:
    """An experiment's box plot: every configuration's repeat scores, the persistence
    baseline on the same window as a dashed line."""
    plt = plt_()
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 3, 4))
    ax.boxplot([np.asarray(v, float) for v in values], tick_labels=labels)
    if persistence is not None and np.isfinite(persistence):
        ax.axhline(persistence, color="grey", ls="--", lw=1, label="persistence")
        ax.legend(loc="upper left", fontsize=8)
    ax.set_ylabel(f"{window} {metric}")
    ax.set_xlabel(xlabel or "configuration")
    fig.tight_layout()
    return to_png(fig, dpi)


def diagnostics_png(panels: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
                    window: str, *, per_row: int = 3, dpi: int = DPI) -> bytes:
    """Per-epoch curves, one panel per configuration ``(title, epochs (E,), train (M, E),
    scored (M, E))``: train blue, ``window`` orange, every repeat a line; panels share the
    y axis so configurations compare at a glance."""
    plt = plt_()
    if len(panels) == 1:
        fig, ax = plt.subplots(figsize=(7, 4))
        axs = np.array([[ax]])
    else:
        cols = min(per_row, len(panels))
        rows = -(-len(panels) // cols)
        fig, axs = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.7 * rows + 0.2),
                                sharey=True, squeeze=False)
    for ax, (title, epochs, train, scored) in zip(axs.ravel(), panels, strict=False):
        draw_curves(ax, np.asarray(epochs, float), np.asarray(train, float),
                    np.asarray(scored, float), window)
        ax.set_title(f"{title}: train (blue) and {window} (orange) RMSE per epoch"
                     if len(panels) == 1 else title, fontsize=10 if len(panels) == 1 else 9)
    for ax in axs.ravel()[len(panels):]:
        ax.set_visible(False)
    axs[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return to_png(fig, dpi)
