"""The sections of a panel study's report: the panel and protocol, the tuned LSTM against
the classical methods (sMAPE, MASE, OWA; paired comparisons), the distribution of per-series
scores, the conformal intervals' coverage, and forecasts of the worst and of a few chosen
series.  Pure functions of the stored tables (``lstmtune:final``, ``lstmtune:forecast``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmtune.report._html import esc, figure, fmt, kv, note, section, table
from lstmtune.report._plots import plt_, to_png

__all__ = ["panel_sections", "scores_png", "series_png", "METHODS"]

NO_FINAL = ("The final evaluation has not run yet (the study is still searching, or was "
            "stopped): run `lstmtune tune` again to finish it.")
METHODS = {"lstm": "LSTM, panel best", "lstm_per_series": "LSTM, per-series best",
           "naive": "Naive", "snaive": "seasonal Naive", "naive2": "Naive2", "ses": "SES",
           "theta": "Theta", "ets": "ETS"}
SHOWN = 6  # series per forecast figure


def scores_png(per: dict[str, Any], metric: str) -> bytes | None:
    """Box plots of every method's per-series scores (one box per method)."""
    names = [m for m in METHODS if m in per]
    if not names:
        return None
    data = [np.asarray(per[m][metric], float) for m in names]
    data = [d[np.isfinite(d)] for d in data]
    plt = plt_()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), [METHODS[m] for m in names], rotation=20,
                  fontsize=8)
    for k, d in enumerate(data, 1):
        ax.scatter([k], [d.mean()], marker="D", color="tab:red", s=14, zorder=3)
    ax.set_ylabel(f"per-series {metric.upper() if metric != 'smape' else 'sMAPE'}")
    fig.tight_layout()
    return to_png(fig)


def series_png(series: dict[str, Any], ids: list[str], titles: list[str]) -> bytes | None:
    """One panel per series: recent history, the test window's actual values, the LSTM's
    forecast with its 80 % and 95 % conformal intervals, Theta and ETS."""
    ids = [i for i in ids if i in series]
    if not ids:
        return None
    plt = plt_()
    cols = 3
    rows = (len(ids) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    for ax, sid, title in zip(axes.flat, ids, titles, strict=False):
        d = series[sid]
        hist, act = np.asarray(d["history"], float), np.asarray(d["actual"], float)
        x0, x1 = np.arange(-len(hist), 0), np.arange(len(act))
        ax.plot(x0, hist, color="0.3", lw=1)
        ax.plot(x1, act, color="black", lw=1.2, label="actual")
        for key, alpha in (("interval_0.95", 0.15), ("interval_0.8", 0.3)):
            if key in d:
                lo, hi = (np.asarray([np.nan if x is None else x for x in v], float)
                          for v in d[key])
                if not (np.isfinite(lo) & np.isfinite(hi)).any():
                    continue  # unbounded (an older study's) or undefined: not drawn
                ax.fill_between(x1, lo, hi, color="tab:blue", alpha=alpha, lw=0,
                                label=f"{key.split('_')[1]} interval")
        ax.plot(x1, d["lstm"], color="tab:blue", lw=1.4, label="LSTM")
        for key, color in (("theta", "tab:green"), ("ets", "tab:orange")):
            if key in d:
                ax.plot(x1, d[key], color=color, lw=0.9, ls="--", label=key.capitalize())
        ax.axvline(-0.5, color="0.7", lw=0.8)
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(ids):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    return to_png(fig)


def _summary(t) -> str:
    m, f = t.meta, t.final or {}
    d, s = f.get("data") or m.get("data") or {}, f.get("split") or {}
    lengths = d.get("lengths") or []
    pairs = [
        ("panel", f"{d.get('name', '–')}: {d.get('series', '–')} series"
                  + (f" of {min(lengths)}–{max(lengths)} points" if lengths else "")
                  + f", season {d.get('season', '–')}"),
        ("split", f"per series: test = the last {s.get('horizon', '–')} points (one "
                  f"forecast, scored once); validation = {s.get('folds', '–')} window(s) of "
                  f"{s.get('horizon', '–')} before it; training = the rest"),
        ("protocol", f"{m.get('repeats', '–')} repeats × {m.get('folds', '–')} window(s) × "
                     "every series per trial, trial value = mean over series; final "
                     f"evaluation {m.get('final_repeats') or '–'} members per series"),
        ("search", f"strategy {m.get('strategy') or '–'}, pruner {m.get('pruner') or 'none'}, "
                   f"budget {m.get('trials') or '–'} trials, objective {m.get('metric')}"),
        ("trials", f"{len(t.trials)}"),
        ("wall time", fmt(m.get("wall_seconds"), 1) + " s"),
        ("lstmtune", f"version {m.get('lstmtune_version') or '–'}, created "
                     f"{m.get('created') or '–'}"),
    ]
    space = m.get("space") or {}
    rows = [(k, v, "searched") for k, v in space.items()] + \
        [(k, str(v), "fixed") for k, v in (m.get("fixed") or {}).items()]
    return section("summary", "Summary", kv(pairs) + (
        table(["hyperparameter", "values", ""], rows, left=(0, 1, 2)) if rows else ""))


def _results(t) -> str:
    f = t.final
    if f is None:
        return section("best", "Test windows: LSTM against the classical methods",
                       note(NO_FINAL))
    test = f.get("test") or {}
    tab = test.get("table") or {}
    rows = [[METHODS.get(k, k), fmt(v.get("smape")), fmt(v.get("mase")), fmt(v.get("owa")),
             fmt(v.get("smape_median")), fmt(v.get("mase_median"))]
            for k, v in tab.items()]
    comp = test.get("comparisons") or {}
    crow = [[k.replace("lstm_per_series", METHODS["lstm_per_series"]).replace(
                "lstm", METHODS["lstm"]), fmt(v.get("mean_diff")),
             f"[{fmt(v.get('ci_low'))}, {fmt(v.get('ci_high'))}]",
             fmt(v.get("win_rate")), fmt(v.get("p_value"))] for k, v in comp.items()]
    params = [(k, str(v)) for k, v in (f.get("best_params") or {}).items()]
    fb = test.get("fallbacks") or {}
    fbtext = "; ".join(f"{k}: {len(v)} series" for k, v in fb.items())
    body = (f"<p>The panel's best, trial #{esc(f.get('best_trial'))} (validation "
            f"{esc(f.get('metric'))} {esc(fmt(f.get('best_value')))}), was trained again on "
            "every series' training part and forecast each test window once; the per-series "
            f"best gives each series the local configuration with its own best validation "
            f"score ({esc(test.get('per_series_trials', '–'))} configurations). The classical "
            "methods were fitted on the same training parts. Means over series; OWA is the "
            "M4's: mean sMAPE and mean MASE, each relative to Naive2's, averaged.</p>"
            + table(["hyperparameter", "value"], params, left=(0, 1))
            + table(["method", "sMAPE", "MASE", "OWA", "median sMAPE", "median MASE"], rows,
                    left=(0,), row_class=["best"])
            + f"<p>Paired by series on {esc(f.get('metric'))} (negative: the LSTM is "
            "better): mean difference with a bootstrap 95 % interval, the share of series "
            "where the LSTM is better, and the Wilcoxon signed-rank p-value.</p>"
            + table(["comparison", "mean difference", "95 % interval", "LSTM better on",
                     "Wilcoxon p"], crow, left=(0,))
            + (note(f"Fits that failed and fell back to Naive2: {fbtext}.") if fb else ""))
    return section("best", "Test windows: LSTM against the classical methods", body)


def _distribution(t) -> str:
    f = t.final
    if f is None:
        return section("distribution", "Per-series scores", note(NO_FINAL))
    per = f.get("per_series") or {}
    metric = f.get("metric") if f.get("metric") in ("smape", "mase", "owa") else "smape"
    png = scores_png(per, metric)
    cap = (f"Each method's per-series test {metric} over the {len(per.get('ids') or [])} "
           "series: boxes are the quartiles, whiskers 1.5 IQR, the red diamond the mean.")
    return section("distribution", "Per-series scores",
                   figure(png, "per-series scores", cap) if png else note("No scores."))


def _bounded(q) -> bool:
    """Whether stored half-widths are all finite numbers (older studies stored an
    unbounded quantile as null)."""
    q = q if isinstance(q, list) and q else [None]
    return all(isinstance(x, int | float) and np.isfinite(x) for x in q)


def _coverage(t) -> str:
    f = t.final
    if f is None:
        return section("coverage", "Prediction intervals", note(NO_FINAL))
    test = f.get("test") or {}
    cov = test.get("coverage") or {}
    rows = [[f"{float(v['nominal']):.0%}", f"{v['coverage']:.1%}",
             f"{min(v['per_step']):.1%}–{max(v['per_step']):.1%}"]
            for v in cov.values() if _bounded(v.get("quantile"))]
    notes = [f"No {round(100 * float(k))} % interval: {v.get('reason', '')}"
             for k, v in (test.get("intervals_missing") or {}).items()]
    notes += [f"No {float(v['nominal']):.0%} interval: it was unbounded (too few validation "
              "residuals for its finite-sample quantile), so its coverage is not shown; tune "
              "again with more validation windows (--folds) or more series."
              for v in cov.values() if not _bounded(v.get("quantile"))]
    body = ("<p>Split-conformal intervals: the best configuration's forecasts of every "
            "series' validation windows give absolute residuals scaled by each series' "
            "in-sample seasonal-naive error; per horizon step, their finite-sample quantile "
            "times a series' scale is the half-width of its interval. A level is produced "
            "only when its finite-sample rank, ceil((n + 1) × level), is at most the n "
            "residuals of a step (one per series and validation window): 4 for 80 %, 19 for "
            "95 %. Coverage is measured on the test windows, which the calibration never "
            "saw, over the series the LSTM forecast.</p>"
            + (table(["nominal", "measured coverage", "per step (min–max)"], rows)
               if rows else "")
            + "".join(note(n) for n in notes))
    return section("coverage", "Prediction intervals", body)


def _series(t) -> str:
    f = t.final
    if f is None or not t.series:
        return section("series", "Forecasts by series", note(NO_FINAL))
    per = f.get("per_series") or {}
    ids = list(per.get("ids") or [])
    metric = f.get("metric") if f.get("metric") in ("smape", "mase", "owa") else "smape"
    sc = np.asarray((per.get("lstm") or {}).get(metric) or [np.nan] * len(ids), float)
    order = [ids[k] for k in np.argsort(np.where(np.isfinite(sc), sc, np.inf))]
    worst = order[::-1][:SHOWN]
    chosen = [order[int(k)] for k in np.linspace(0, len(order) - 1, SHOWN).round()]
    score = dict(zip(ids, sc, strict=True))
    levels = [k for k, v in ((f.get("test") or {}).get("coverage") or {}).items()
              if _bounded(v.get("quantile"))]
    drawn = (f"its {' and '.join(f'{round(100 * float(k))} %' for k in levels)} conformal "
             "interval(s)" if levels else "no conformal interval (see Prediction intervals)")
    body = ""
    for what, pick in (("worst", worst), ("chosen", chosen)):
        png = series_png(t.series, pick, [f"{i}: {metric} {fmt(score[i])}" for i in pick])
        if png is None:
            continue
        cap = ("The six series where the LSTM did worst on test" if what == "worst" else
               "Six series spread over the ranking, from the LSTM's best to its worst") + \
            (": history (grey), the test window (black), the LSTM's forecast (blue) with "
             f"{drawn}, Theta and ETS (dashed).")
        body += figure(png, f"{what} series", cap)
    return section("series", "Forecasts by series", body or note("No forecasts stored."))


def panel_sections(generic: dict[str, Any]) -> tuple:
    """The report's builders for a panel study: its own summary, results, distribution,
    intervals and series, and the task-free sections."""
    return (_summary, generic["verdict"], generic["leaderboard"], _results, _distribution,
            _coverage, _series, generic["repeats"], generic["importance"], generic["parallel"],
            generic["members"])
